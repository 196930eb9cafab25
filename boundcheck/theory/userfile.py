"""A user's own theorem, stated in a file (issue 15): TOML, or a short Python module.

One resolver serves every command that takes a theorem: :func:`resolve_theorem` turns a shipped id
(``saef.thm2``) or a path (``examples/sgd_smooth.toml``, ``my_theorem.py``) into a
:class:`~boundcheck.theory.core.Theorem`; ``boundcheck show | stepsize | dims | verify | report``
(and ``falsify``) all go through it, so a user's theorem works exactly as a shipped one.

The TOML format (every key is checked; an error names file, line, key and reason)::

    [theorem]
    id = "user.sgd_smooth"                 # required; may not be a shipped id
    title = "SGD on L-smooth functions"
    source = "my draft, Theorem 2"         # the paper's own numbering
    statement = "..."                      # one line
    direction = "upper"                    # "upper" (lhs <= bound, default) or "lower"
    assumptions = ["smooth", "bounded_variance", "lower_bounded"]   # from ASSUMPTIONS
    lhs = "avg_grad_norm_sq"               # from LHS, or a table (a function of the trace, below)
    bound = "2*F0/(eta*T) + L*eta*sigma**2"          # SymPy syntax (exprparse: no eval)
    notes = ["every reading of an ambiguous text"]
    example = { L = 1, eta = 0.5, T = 100, F0 = 1, sigma = 1 }       # optional, for `show`

    [symbols]                  # symbols the catalogue lacks (L, mu, sigma, eta, T, F0, ... have theirs)
    c = { dim = "F/X^2", domain = "positive", meaning = "a curvature bound" }

    [definitions]              # auxiliary symbols, in order (later ones may use earlier ones)
    # A = "L*eta"

    [conditions]               # the stated conditions; a table gives kind, source, description
    stepsize = "eta <= 1/L"
    # small = { relation = "eta <= 1/(4*L)", kind = "simplified" }

    [bind]                     # where each symbol's value comes from in a run (defaults below)
    sigma = "sqrt:sigma2"

    # the experiment, exactly as in a spec (problems/*.toml): replicas, seed, [problem],
    # [algorithm], [sweep], [scale.ci], ... ; and an optional [search] table (kept as a dict for
    # `boundcheck falsify`).

Dimensions are written ``1``, ``F``, ``X``, ``F/X^2``, ``F^2/X^2``, ``X^2/F`` (``[X]`` a length in
parameter space, ``[F]`` an objective value; see :mod:`boundcheck.dims`). Domains: those of
:data:`boundcheck.theory.symbols.DOMAINS`.

A Python theorem file defines ``THEOREM = boundcheck.api.theorem(...)`` with the same keys as
keyword arguments (tables as dicts); there the algorithm and a left-hand side function may be
given as Python callables.
"""

from __future__ import annotations

import difflib
import importlib.util
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import sympy as sp

from boundcheck.dims import DIMENSIONLESS, GRAD2, Dim, F, X
from boundcheck.errors import BoundcheckError, SpecError
from boundcheck.theory import symbols as S
from boundcheck.theory.core import (
    Assumption,
    Condition,
    ConditionKind,
    Direction,
    Quantity,
    Theorem,
)
from boundcheck.theory.exprparse import ExprError, parse_expr, parse_relation

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = [
    "ASSUMPTIONS",
    "LHS",
    "LhsSpec",
    "UserTheorem",
    "is_theorem_file",
    "load_user",
    "parse_dim",
    "resolve_theorem",
]

#: assumption id -> statement (the documented list a theorem file chooses from)
ASSUMPTIONS: dict[str, str] = {
    "smooth": "f is L-smooth: ||grad f(x) - grad f(y)|| <= L ||x - y|| for all x, y",
    "convex": "f is convex",
    "strongly_convex": "f is mu-strongly convex (mu > 0)",
    "lower_bounded": "f is bounded below: f* = inf f > -infinity",
    "unbiased": "the stochastic gradient is unbiased: E g(x) = grad f(x)",
    "bounded_variance": "the stochastic gradient has bounded variance: E||g(x) - grad f(x)||^2 <= sigma^2",
    "bounded_gradient": "the gradients are bounded: ||grad f(x)||^2 <= G",
    "bounded_dissimilarity": "1/n sum_i ||grad f_i(x) - grad f(x)||^2 <= zeta^2",
}


@dataclass(frozen=True)
class LhsSpec:
    """A measured left-hand side of the documented list (or a user function of the trace).

    ``kind``: ``mean`` (one value per replica; the claim is about its expectation), ``min_t`` /
    ``max_t`` (a ``(T, R)`` series; the claim is about the min / max over rows of the expectations).
    ``series`` names the trace series it reduces (``final`` reductions use ``meta["x_final"]``)."""

    id: str
    text: str
    definition: str
    dim: Dim
    kind: str
    series: str = ""
    reduce: str = ""  # row_mean | rows | final_f_gap | final_dist_sq | function
    function: Any = None  # a user's callable (traces, problem) -> array


#: the documented left-hand sides
LHS: dict[str, LhsSpec] = {
    "avg_grad_norm_sq": LhsSpec(
        "avg_grad_norm_sq",
        "1/T sum_{t=0}^{T-1} E||grad f(x_t)||^2",
        "the average over the iterates x_0..x_{T-1} of the squared gradient norm, in expectation",
        GRAD2,
        "mean",
        "grad_norm_sq",
        "row_mean",
    ),
    "min_grad_norm_sq": LhsSpec(
        "min_grad_norm_sq",
        "min_{t<T} E||grad f(x_t)||^2",
        "the smallest expected squared gradient norm over x_0..x_{T-1}",
        GRAD2,
        "min_t",
        "grad_norm_sq",
        "rows",
    ),
    "avg_f_gap": LhsSpec(
        "avg_f_gap",
        "1/T sum_{t=0}^{T-1} E[f(x_t) - f*]",
        "the average suboptimality over x_0..x_{T-1}, in expectation",
        F,
        "mean",
        "f_gap",
        "row_mean",
    ),
    "min_f_gap": LhsSpec(
        "min_f_gap",
        "min_{t<T} E[f(x_t) - f*]",
        "the smallest expected suboptimality over x_0..x_{T-1}",
        F,
        "min_t",
        "f_gap",
        "rows",
    ),
    "final_f_gap": LhsSpec(
        "final_f_gap",
        "E[f(x_T) - f*]",
        "the expected suboptimality of the last iterate x_T (the trace's meta['x_final'])",
        F,
        "mean",
        "",
        "final_f_gap",
    ),
    "final_dist_sq": LhsSpec(
        "final_dist_sq",
        "E||x_T - x*||^2",
        "the expected squared distance of the last iterate x_T to the minimiser x*",
        X**2,
        "mean",
        "",
        "final_dist_sq",
    ),
}

_THEOREM_KEYS = {
    "id": str,
    "title": str,
    "source": str,
    "statement": str,
    "direction": str,
    "assumptions": list,
    "lhs": (str, dict),
    "bound": str,
    "notes": list,
    "example": dict,
}
_LHS_KEYS = {"function": (str, object), "kind": str, "text": str, "dim": str, "definition": str}
_SYMBOL_KEYS = {"dim": str, "domain": str, "meaning": str}
_CONDITION_KEYS = {"relation": str, "kind": str, "source": str, "description": str}
#: the theorem file's own top-level keys (the experiment keys are a spec's: check.specs)
OWN_KEYS = {
    "theorem": dict,
    "symbols": dict,
    "definitions": dict,
    "conditions": dict,
    "bind": dict,
    "search": dict,
}
#: the experiment's keys: those of a spec (boundcheck.check.specs) except ``theorem``; listed here
#: because the symbolic layer does not import the engine (a test keeps the two lists equal)
EXPERIMENT_KEYS = (
    "title",
    "description",
    "replicas",
    "seed",
    "device",
    "dtype",
    "x_axis",
    "batches",
    "problem",
    "algorithm",
    "sweep",
    "scale",
    "check",
)
#: bind sources that are not "kind:NAME"
BIND_WORDS = ("F0", "D0", "n", "d")
BIND_KINDS = ("constant", "sqrt", "setting")


@dataclass(frozen=True, eq=False)
class UserTheorem:
    """A loaded theorem file: the theorem, where its symbols' values come from, the experiment
    (spec keys, validated when a run is asked for), and the ``[search]`` table as given."""

    path: str
    theorem: Theorem
    lhs: LhsSpec
    bind: dict[str, str]  # symbol -> source, as written (defaults filled at binding time)
    experiment: dict[str, Any]  # the spec keys (replicas, seed, problem, algorithm, sweep, ...)
    search: dict[str, Any] = field(default_factory=dict)
    text: str = ""  # the file's text (to locate keys)
    algorithm: Any = None  # a callable given in a Python theorem file
    base_dir: str = "."
    symbols: dict[str, tuple[str, Dim, str]] = field(default_factory=dict)  # declared ones

    def where(self, key: str) -> str:
        """``FILE:LINE`` of ``key`` (a dotted path) in the file."""
        return f"{self.path}:{locate(self.text, key)}"

    def error(self, key: str, reason: str) -> SpecError:
        return SpecError(f"{self.where(key)}: key {key!r}: {reason}")


# --- locating keys ---------------------------------------------------------------------------------
_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEYLINE = re.compile(r"^\s*([A-Za-z0-9_\-\"'. ]+?)\s*=")


def _norm(path: str) -> str:
    return ".".join(p.strip().strip("\"'") for p in path.split("."))


def locate(text: str, key: str) -> int:
    """The 1-based line of ``key`` (dotted, e.g. ``theorem.bound``) in a TOML or Python text: the
    line that assigns it, else the line that opens an enclosing table or inline table, else the
    first line that names its last part; 1 when nothing matches."""
    lines = text.splitlines()
    table = ""
    exact, enclosing, header = 0, 0, 0
    for i, line in enumerate(lines, 1):
        m = _HEADER.match(line)
        if m and not line.lstrip().startswith("#"):
            table = _norm(m.group(1))
            if table == key and not header:
                header = i
            elif key.startswith(table + ".") and not header:
                enclosing = enclosing or i
            continue
        m = _KEYLINE.match(line)
        if not m or line.lstrip().startswith("#"):
            continue
        full = _norm(f"{table}.{m.group(1)}" if table else m.group(1))
        if full == key:
            exact = exact or i
        elif key.startswith(full + "."):
            enclosing = i
    if exact or header:
        return exact or header
    last = key.rsplit(".", 1)[-1]
    pat = re.compile(rf"(^|[\s{{,(\"']){re.escape(last)}[\"']?\s*[=:]")
    for i, line in enumerate(lines, 1):
        if pat.search(line):
            return i if not enclosing or i >= enclosing else enclosing
    return enclosing or 1


# --- dimensions ------------------------------------------------------------------------------------
_FX = {"F": sp.Symbol("F"), "X": sp.Symbol("X")}


def parse_dim(text: str) -> Dim:
    """``"F/X^2"`` -> ``Dim(x=-2, f=1)``; ``"1"`` is dimensionless (``[F]``, ``[X]`` also read)."""
    if not isinstance(text, str):
        raise ExprError(f"a dimension is a string such as 'F/X^2', got {text!r}")
    clean = text.replace("[", "").replace("]", "").replace(" ", "") or "1"
    e, _ = parse_expr(clean, _FX)
    out = DIMENSIONLESS
    for base, exp in e.as_powers_dict().items():
        if base.is_number:
            if base != 1:
                raise ExprError(f"a dimension has no numeric factor: {text!r}")
            continue
        if base not in _FX.values() or not sp.sympify(exp).is_Rational:
            raise ExprError(f"not a dimension {text!r}: use F and X with rational powers")
        q = Fraction(int(exp.p), int(exp.q))
        out = out * (Dim(q, 0) if base == _FX["X"] else Dim(0, q))
    return out


# --- loading ---------------------------------------------------------------------------------------
_CACHE: dict[tuple[str, int, int], UserTheorem] = {}


def is_theorem_file(arg: str | os.PathLike) -> bool:
    """Whether ``arg`` names a theorem file: a ``.py`` file, or a ``.toml`` file whose
    ``theorem`` key is a table (a spec names its theorem by an id string)."""
    p = Path(arg)
    if p.suffix == ".py":
        return True
    if p.suffix != ".toml" or not p.is_file():
        return False
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return re.search(r"^\s*(\[theorem\]\s*(#.*)?|theorem\s*=\s*\{.*)$", text, re.M) is not None


def resolve_theorem(arg: str) -> Theorem:
    """A shipped theorem id or a theorem file's path -> the :class:`Theorem` (registered, so that
    ``registry.get(its id)`` finds it afterwards). The one resolver of every command."""
    from boundcheck.theory import registry

    s = str(arg)
    if looks_like_path(s):
        return load_user(s).theorem
    return registry.get(s)


def looks_like_path(arg: str) -> bool:
    """Whether a command's theorem argument names a file (``.toml``/``.py``, a path separator, or
    an existing file) rather than a shipped id."""
    return arg.endswith((".toml", ".py")) or os.sep in arg or Path(arg).is_file()


def load_user(path: str | os.PathLike) -> UserTheorem:
    """Load, validate and register the theorem file at ``path`` (cached by path, size and mtime)."""
    p = Path(path)
    name = str(path)
    try:
        st = p.stat()
    except OSError:
        raise SpecError(f"{name}: no such theorem file") from None
    key = (str(p.resolve()), st.st_mtime_ns, st.st_size)
    if key in _CACHE:
        ut = _CACHE[key]
        _register(ut)
        return ut
    if p.suffix == ".py":
        raw, text, alg = _load_python(p, name)
    else:
        raw, text, alg = _load_toml(p, name), _read(p, name), None
    ut = _build(name, raw, text, alg, str(p.resolve().parent))
    _CACHE[key] = ut
    _register(ut)
    return ut


def _register(ut: UserTheorem) -> None:
    from boundcheck.theory import registry

    _define_symbols(ut.path, ut.text, ut.symbols)
    registry.register_user(ut.theorem)


def _read(p: Path, name: str) -> str:
    try:
        return p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise SpecError(f"{name}: cannot read: {e}") from None


def _load_toml(p: Path, name: str) -> dict[str, Any]:
    text = _read(p, name)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        msg = str(e)
        m = re.search(r"line (\d+)", msg)
        line = getattr(e, "lineno", None) or (int(m.group(1)) if m else 1)
        raise SpecError(f"{name}:{line}: not valid TOML: {msg}") from None


def _load_python(p: Path, name: str) -> tuple[dict[str, Any], str, Any]:
    text = _read(p, name)
    modname = f"boundcheck_user_theorem_{abs(hash(str(p.resolve())))}"
    spec = importlib.util.spec_from_file_location(modname, p)
    if spec is None or spec.loader is None:
        raise SpecError(f"{name}:1: cannot import this Python file")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[modname] = mod
    try:
        spec.loader.exec_module(mod)
    except BoundcheckError as e:
        raise SpecError(f"{name}: {e}") from None
    except Exception as e:  # the user's own module failed: say where, no traceback
        raise SpecError(f"{name}: importing it failed: {type(e).__name__}: {e}") from None
    th = getattr(mod, "THEOREM", None)
    if not isinstance(th, Mapping):
        raise SpecError(
            f"{name}:1: key 'THEOREM': missing; define THEOREM = boundcheck.api.theorem(...)"
        )
    raw = dict(th)
    alg = None
    a = raw.get("algorithm")
    if isinstance(a, Mapping) and callable(a.get("name")):
        alg = a["name"]
        raw["algorithm"] = {**a, "name": getattr(alg, "__name__", "user_algorithm")}
    return raw, text, alg


def _type_name(t: Any) -> str:
    if isinstance(t, tuple):
        return " or ".join(_type_name(x) for x in t if x is not object) or "a value"
    return {str: "a string", dict: "a table", list: "an array", int: "an integer"}.get(t, str(t))


def _check_keys(
    name: str, text: str, prefix: str, table: Mapping[str, Any], allowed: Mapping
) -> None:
    for k, v in table.items():
        key = f"{prefix}{k}"
        if k not in allowed:
            close = difflib.get_close_matches(k, list(allowed), n=2)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise SpecError(
                f"{name}:{locate(text, key)}: key {key!r}: unknown key{hint}; "
                f"allowed: {', '.join(sorted(allowed))}"
            )
        t = allowed[k]
        if t is not None and not isinstance(v, t):
            raise SpecError(
                f"{name}:{locate(text, key)}: key {key!r}: expected {_type_name(t)}, got {v!r}"
            )


def _build(name: str, raw: dict[str, Any], text: str, alg: Any, base_dir: str) -> UserTheorem:
    def err(key: str, reason: str) -> SpecError:
        return SpecError(f"{name}:{locate(text, key)}: key {key!r}: {reason}")

    allowed_top = {**dict.fromkeys(EXPERIMENT_KEYS), **OWN_KEYS}
    _check_keys(name, text, "", raw, allowed_top)
    if "theorem" not in raw:
        raise SpecError(f"{name}:1: key 'theorem': missing ([theorem] with id, lhs and bound)")
    th = raw["theorem"]
    _check_keys(name, text, "theorem.", th, _THEOREM_KEYS)
    for k in ("id", "lhs", "bound"):
        if k not in th:
            raise err(f"theorem.{k}", "missing (required: id, lhs, bound)")
    tid = th["id"]
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.\-]*", tid):
        raise err("theorem.id", f"{tid!r} is not an id (letters, digits, _ . -)")
    from boundcheck.theory import registry

    if tid in registry.ids():
        raise err("theorem.id", f"{tid!r} is a shipped theorem's id; choose another")
    # symbols
    symtab = raw.get("symbols", {})
    sym_defs: dict[str, tuple[str, Dim, str]] = {}
    for sname, entry in symtab.items():
        key = f"symbols.{sname}"
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", sname):
            raise err(key, f"{sname!r} is not a symbol name (a letter, then letters, digits, _)")
        if not isinstance(entry, Mapping):
            raise err(key, f"expected a table {{ dim = ..., domain = ... }}, got {entry!r}")
        _check_keys(name, text, key + ".", entry, _SYMBOL_KEYS)
        cat = S.catalogue().get(sname)
        user_defined = sname in S._USER_NAMES
        if cat is not None and not user_defined:
            dom, dm = entry.get("domain", cat.domain), cat.dim
            if "dim" in entry:
                try:
                    dm = parse_dim(entry["dim"])
                except ExprError as e:
                    raise err(key + ".dim", str(e)) from None
            if dom != cat.domain or dm != cat.dim:
                raise err(
                    key,
                    f"{sname} is in the catalogue with dimension {cat.dim} and domain "
                    f"{cat.domain}: give another name for another meaning",
                )
            continue
        if "dim" not in entry:
            raise err(key + ".dim", f"missing: {sname} is not in the catalogue, give its dimension")
        try:
            dm = parse_dim(entry["dim"])
        except ExprError as e:
            raise err(key + ".dim", str(e)) from None
        dom = entry.get("domain", "positive")
        if dom not in S.DOMAINS:
            raise err(key + ".domain", f"{dom!r} is not allowed; allowed: {', '.join(S.DOMAINS)}")
        sym_defs[sname] = (dom, dm, entry.get("meaning", f"{sname} (declared in {name})"))
    _define_symbols(name, text, sym_defs)
    table = {k: v.symbol for k, v in S.catalogue().items()}
    used: set[str] = set()

    def expr(key: str, s: Any) -> sp.Expr:
        if not isinstance(s, str):
            raise err(key, f"expected an expression (a string), got {s!r}")
        try:
            e, u = parse_expr(s, table)
        except ExprError as ex:
            raise err(key, str(ex)) from None
        used.update(u)
        return e

    # definitions
    definitions = []
    for dname, dtext in raw.get("definitions", {}).items():
        key = f"definitions.{dname}"
        if dname not in table:
            raise err(
                key, f"{dname} is not a symbol: declare it under [symbols] with its dimension"
            )
        definitions.append((table[dname], expr(key, dtext)))
    bound = expr("theorem.bound", th["bound"])
    # conditions
    conditions = []
    for cid, c in raw.get("conditions", {}).items():
        key = f"conditions.{cid}"
        if isinstance(c, str):
            c = {"relation": c}
        if not isinstance(c, Mapping):
            raise err(key, f"expected a condition string or a table, got {c!r}")
        _check_keys(name, text, key + ".", c, _CONDITION_KEYS)
        if "relation" not in c:
            raise err(key + ".relation", "missing")
        try:
            rel, u = parse_relation(c["relation"], table)
        except ExprError as ex:
            raise err(key, str(ex)) from None
        used.update(u)
        kind = c.get("kind", "stated")
        kinds = [k.value for k in ConditionKind]
        if kind not in kinds:
            raise err(key + ".kind", f"{kind!r} is not allowed; allowed: {', '.join(kinds)}")
        conditions.append(
            Condition(
                cid, c.get("source", th.get("source", name)), rel, ConditionKind(kind),
                c.get("description", ""),
            )
        )  # fmt: skip
    # assumptions
    assumptions = []
    for i, a in enumerate(th.get("assumptions", [])):
        if a not in ASSUMPTIONS:
            close = difflib.get_close_matches(str(a), list(ASSUMPTIONS), n=2)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise err(
                "theorem.assumptions",
                f"unknown assumption {a!r} (item {i + 1}){hint}; allowed: {', '.join(ASSUMPTIONS)}",
            )
        assumptions.append(Assumption(a, th.get("source", name), ASSUMPTIONS[a]))
    # direction
    direction = th.get("direction", "upper")
    if direction not in ("upper", "lower"):
        raise err("theorem.direction", f"{direction!r} is not allowed; allowed: upper, lower")
    lhs = _lhs(name, text, th["lhs"], err)
    for key in ("notes",):
        for v in th.get(key, []):
            if not isinstance(v, str):
                raise err(f"theorem.{key}", f"expected an array of strings, got {v!r}")
    example = {}
    for k, v in th.get("example", {}).items():
        if k not in table or isinstance(v, bool) or not isinstance(v, (int, float)):
            raise err(f"theorem.example.{k}", "expected a declared symbol = a number")
        try:
            example[k] = S.info(k).validate(v)
        except BoundcheckError as e:
            raise err(f"theorem.example.{k}", str(e)) from None
    thm = Theorem(
        id=tid,
        paper="user",
        source=th.get("source", name),
        title=th.get("title", tid),
        statement=th.get("statement", th.get("title", tid)),
        lhs=Quantity(lhs.id, lhs.text, lhs.definition, lhs.dim),
        direction=Direction(direction),
        bound=bound,
        conditions=tuple(conditions),
        assumptions=tuple(assumptions),
        definitions=tuple(definitions),
        notes=tuple(th.get("notes", [])),
        example=example,
        extra={"file": name},
    )
    # bind
    bind = {}
    for k, v in raw.get("bind", {}).items():
        key = f"bind.{k}"
        if k not in table:
            raise err(key, f"{k} is not a symbol of the catalogue or of [symbols]")
        if isinstance(v, bool) or not isinstance(v, (str, int, float)):
            raise err(key, f"expected a source string or a number, got {v!r}")
        if isinstance(v, str):
            kind, _, ref = v.partition(":")
            if not (v in BIND_WORDS or (kind in BIND_KINDS and ref)):
                raise err(
                    key,
                    f"{v!r} is not a source; allowed: constant:NAME, sqrt:NAME, setting:NAME, "
                    f"{', '.join(BIND_WORDS)} or a number",
                )
        bind[k] = v
    experiment = {k: v for k, v in raw.items() if k not in OWN_KEYS}
    return UserTheorem(
        path=name,
        theorem=thm,
        lhs=lhs,
        bind=bind,
        experiment=experiment,
        search=dict(raw.get("search", {})),
        text=text,
        algorithm=alg,
        base_dir=base_dir,
        symbols=sym_defs,
    )


def _define_symbols(name: str, text: str, defs: Mapping[str, tuple[str, Dim, str]]) -> None:
    for sname, (dom, dm, meaning) in defs.items():
        try:
            S.define_user(sname, dom, dm, meaning)
        except ValueError as e:
            raise SpecError(f"{name}:{locate(text, f'symbols.{sname}')}: key "
                            f"'symbols.{sname}': {e}") from None  # fmt: skip


def _lhs(name: str, text: str, v: Any, err) -> LhsSpec:
    if isinstance(v, str):
        if v not in LHS:
            close = difflib.get_close_matches(v, list(LHS), n=2)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise err(
                "theorem.lhs",
                f"unknown left-hand side {v!r}{hint}; allowed: {', '.join(LHS)} "
                "or a table { function = 'file.py:name', kind, text, dim }",
            )
        return LHS[v]
    _check_keys(name, text, "theorem.lhs.", v, _LHS_KEYS)
    for k in ("function", "dim"):
        if k not in v:
            raise err(f"theorem.lhs.{k}", "missing (a user left-hand side needs function and dim)")
    kind = v.get("kind", "mean")
    if kind not in ("mean", "min_t", "max_t"):
        raise err("theorem.lhs.kind", f"{kind!r} is not allowed; allowed: mean, min_t, max_t")
    try:
        dm = parse_dim(v["dim"])
    except ExprError as e:
        raise err("theorem.lhs.dim", str(e)) from None
    fn = v["function"]
    if isinstance(fn, str) and ":" not in fn:
        raise err("theorem.lhs.function", f"{fn!r}: expected 'file.py:name' or 'module:name'")
    label = fn if isinstance(fn, str) else getattr(fn, "__name__", "user function")
    return LhsSpec(
        "user_lhs",
        v.get("text", f"E[{label}(trace)]"),
        v.get("definition", f"the user function {label} of the trace"),
        dm,
        kind,
        reduce="function",
        function=fn,
    )
