"""Experiment specs: one TOML file per check (issue 11; DESIGN.md "Data flow").

A spec names a theorem, a problem family with its parameters, an algorithm with its settings, a
sweep, the replicas, the seed, the device and dtype, and per-scale overrides::

    theorem = "saef.thm2"            # a registry id (``boundcheck list``)
    title = "SAEF Theorem 2 on logistic regression"   # optional
    replicas = 64
    seed = 0
    device = "cpu"                   # optional, default "cpu"
    dtype = "float64"                # optional, default "float64"
    x_axis = "T"                     # optional; default: the first sweep key
    batches = 1                      # optional: independent runs with their own schedule/seed

    [problem]
    family = "asyncbc_logistic"
    n = 8                            # the family's own parameters (``boundcheck problem FAMILY``)

    [algorithm]
    name = "saef_sgd"
    eta = 0.05                       # a number, or "theorem" for the theorem's stepsize,
    K = 4                            # or "scaling" for the order claim's scaling
    client_compressor = { name = "topk", k = 2 }

    [sweep]                          # every combination is one point (an independent task)
    T = [100, 1000]

    [scale.ci]                       # overrides for --scale ci / default / full
    replicas = 16
    sweep = { T = [50, 100] }

Every key is checked: an unknown key, a wrong type, a missing field or an unknown theorem,
problem family, algorithm or compressor raises :class:`~boundcheck.errors.SpecError` naming the
file, the key and the reason (the CLI exits 2).
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
import sys
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from boundcheck.errors import BoundcheckError, SpecError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["SCALES", "Spec", "load_spec", "resolve_specs", "shipped_specs"]

SCALES = ("ci", "default", "full")
DTYPES = ("float64", "float32")

_TOP = {
    "theorem": str,
    "title": str,
    "description": str,
    "replicas": int,
    "seed": int,
    "device": str,
    "dtype": str,
    "x_axis": str,
    "batches": int,
    "problem": dict,
    "algorithm": dict,
    "sweep": dict,
    "scale": dict,
    "check": dict,
    # comparison claims (boundcheck.check.comparison): claim replaces theorem
    "claim": str,
    "compare": dict,
    "target": dict,
}
_REQUIRED = ("theorem", "replicas", "seed", "problem", "algorithm", "sweep")
_SCALE_KEYS = {
    "replicas": int,
    "seed": int,
    "batches": int,
    "sweep": dict,
    "algorithm": dict,
    "problem": dict,
    "target": dict,
}
#: [check] options: planted bounds for calibration and the order test
_CHECK_KEYS = {
    "bound_factor": (int, float),
    "drop_term": str,
    "claimed_slope": (int, float),
    "reading": str,
}


@dataclass(frozen=True)
class Spec:
    """A validated spec at one scale (see the module docstring)."""

    path: str
    id: str
    theorem: str
    title: str
    problem: dict[str, Any]  # family + parameters
    algorithm: dict[str, Any]  # name + settings
    sweep: dict[str, list[Any]]
    replicas: int
    seed: int
    device: str = "cpu"
    dtype: str = "float64"
    x_axis: str = "T"
    batches: int = 1
    scale: str = "default"
    check: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    theorem_file: str = ""  # a user's theorem file (the theorem and the spec in one file)
    theorem_digest: str = ""  # of that file's text and the code it names (in the cache key)
    #: a comparison claim's configurations and target (boundcheck.check.comparison); empty for
    #: a theorem's spec
    comparison: dict[str, Any] = field(default_factory=dict)

    def points(self) -> list[dict[str, Any]]:
        """Every combination of the sweep values, in file order (last key fastest)."""
        pts: list[dict[str, Any]] = [{}]
        for key, vals in self.sweep.items():
            pts = [{**p, key: v} for p in pts for v in vals]
        return pts

    def content(self) -> dict[str, Any]:
        """Everything that determines the numbers (for the cache key)."""
        return {
            "theorem": self.theorem,
            "problem": self.problem,
            "algorithm": self.algorithm,
            "sweep": self.sweep,
            "replicas": self.replicas,
            "seed": self.seed,
            "device": self.device,
            "dtype": self.dtype,
            "batches": self.batches,
            "check": self.check,
            **({"theorem_digest": self.theorem_digest} if self.theorem_digest else {}),
            **({"comparison": self.comparison} if self.comparison else {}),
        }

    def digest(self) -> str:
        text = json.dumps(self.content(), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _err(path: str, key: str, reason: str) -> SpecError:
    return SpecError(f"{path}: key {key!r}: {reason}")


def _type_name(t: Any) -> str:
    if isinstance(t, tuple):
        return " or ".join(_type_name(x) for x in t)
    return {
        str: "a string",
        int: "an integer",
        float: "a number",
        dict: "a table",
        list: "an array",
        bool: "a boolean",
    }.get(t, str(t))


def _check_type(path: str, key: str, value: Any, typ: Any) -> None:
    ok = isinstance(value, typ) and not (
        isinstance(value, bool) and typ in (int, float, (int, float))
    )
    if not ok:
        raise _err(path, key, f"expected {_type_name(typ)}, got {value!r}")


def _unknown(path: str, prefix: str, key: str, allowed: Any) -> SpecError:
    close = difflib.get_close_matches(key, list(allowed), n=2)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    return _err(path, prefix + key, f"unknown key{hint}; allowed: {', '.join(sorted(allowed))}")


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict) and k != "sweep":
            out[k] = _merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def load_spec(path: str | Path, scale: str = "default") -> Spec:
    """Read and validate the spec at ``path`` at ``scale`` ("ci", "default", "full")."""
    p = Path(path)
    name = str(path)
    if scale not in SCALES:
        raise SpecError(f"scale {scale!r} is not allowed; allowed: {', '.join(SCALES)}")
    from boundcheck.theory import userfile

    if userfile.is_theorem_file(p):
        return _load_user_spec(name, scale)
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SpecError(
            f"{name}: no such spec file (shipped ids: `boundcheck verify --list`)"
        ) from None
    except (OSError, UnicodeDecodeError) as e:
        raise SpecError(f"{name}: cannot read: {e}") from None
    except tomllib.TOMLDecodeError as e:
        raise SpecError(f"{name}: not valid TOML: {e}") from None
    for k, v in raw.items():
        if k not in _TOP:
            raise _unknown(name, "", k, _TOP)
        _check_type(name, k, v, _TOP[k])
    for k in _REQUIRED:
        if k == "theorem" and "claim" in raw:
            continue
        if k not in raw:
            raise _err(
                name, k, "missing (required: theorem or claim, " + ", ".join(_REQUIRED[1:]) + ")"
            )
    return _validate(name, p.stem, _merged_scale(name, raw, scale), scale)


def _merged_scale(name: str, raw: dict[str, Any], scale: str) -> dict[str, Any]:
    """``raw`` without its ``[scale.*]`` tables (each checked) merged with the one of ``scale``."""
    scales = raw.get("scale", {})
    for s, over in scales.items():
        if s not in SCALES:
            raise _unknown(name, "scale.", s, SCALES)
        _check_type(name, f"scale.{s}", over, dict)
        for k, v in over.items():
            if k not in _SCALE_KEYS:
                raise _unknown(name, f"scale.{s}.", k, _SCALE_KEYS)
            _check_type(name, f"scale.{s}.{k}", v, _SCALE_KEYS[k])
    return _merge({k: v for k, v in raw.items() if k != "scale"}, scales.get(scale, {}))


def problem_table(name: str, d: dict[str, Any]) -> tuple[dict[str, Any], str, list[str]]:
    """The checked ``[problem]`` table of spec ``d``: (the table, its family, the family's
    parameters a spec may set); :class:`SpecError` naming the key otherwise."""
    from boundcheck.problems import registry as problems

    prob = dict(d["problem"])
    fam = prob.get("family")
    if fam is None:
        raise _err(name, "problem.family", "missing")
    _check_type(name, "problem.family", fam, str)
    if fam not in problems.names():
        raise _err(
            name, "problem.family", f"unknown family {fam!r}; known: " + ", ".join(problems.names())
        )
    allowed_p = [k for k in problems.parameters(fam) if k not in ("dtype", "device")]
    for k, v in prob.items():
        if k == "family":
            continue
        if k not in allowed_p:
            raise _unknown(name, "problem.", k, allowed_p)
        _check_param_type(name, f"problem.{k}", v, problems.parameters(fam)[k])
    return prob, fam, allowed_p


def _load_user_spec(name: str, scale: str) -> Spec:
    """A user's theorem file as a spec (:mod:`boundcheck.theory.userfile`): the theorem and its
    binding are registered, the experiment keys validated as a spec's, errors located by line."""
    import re
    from dataclasses import replace

    from boundcheck.check.bindings import user
    from boundcheck.theory import userfile

    ut = userfile.load_user(name)
    user.register(ut)
    raw = dict(ut.experiment)
    missing = [k for k in _REQUIRED if k != "theorem" and k not in raw]
    if missing:
        raise SpecError(
            f"{name}:1: the file states no experiment to run (missing: {', '.join(missing)}); "
            "add replicas, seed, [problem], [algorithm] and [sweep] as in a spec"
        )
    text = Path(name).read_text(encoding="utf-8") if not name.endswith(".py") else ut.text
    try:
        for k, v in raw.items():
            _check_type(name, k, v, _TOP[k])
        merged = _merged_scale(name, raw, scale)
        merged["theorem"] = ut.theorem.id
        for k, v in {**merged.get("algorithm", {}), **merged.get("sweep", {})}.items():
            vals = v if isinstance(v, list) else [v]
            if any(isinstance(x, str) and x in _WORDS for x in vals):
                where = "sweep" if k in merged.get("sweep", {}) else "algorithm"
                raise _err(name, f"{where}.{k}", f"{vals!r}: a user's theorem has no stepsize "
                           "rule or scaling to take; give a number")  # fmt: skip
        spec = _validate(name, Path(name).stem, merged, scale)
    except SpecError as e:
        msg = str(e)
        m = re.match(rf"{re.escape(name)}: key '([^']+)'", msg)
        if m:
            line = userfile.locate(text, m.group(1))
            msg = f"{name}:{line}:" + msg[len(name) + 1 :]
        raise SpecError(msg) from None
    h = hashlib.sha256(ut.text.encode())
    alg = str(ut.experiment.get("algorithm", {}).get("name", ""))
    lhs_fn = ut.lhs.function if isinstance(ut.lhs.function, str) else ""
    for ref in (alg, lhs_fn):  # the user's code the numbers depend on
        file = ref.rpartition(":")[0]
        if file.endswith(".py"):
            q = Path(file) if Path(file).is_absolute() else Path(ut.base_dir) / file
            h.update(q.read_bytes() if q.is_file() else b"")
    return replace(
        spec,
        theorem_file=name,
        title=spec.title or ut.theorem.title,
        theorem_digest=h.hexdigest()[:16],
    )


def _validate(name: str, sid: str, d: dict[str, Any], scale: str) -> Spec:
    if "claim" in d:  # an empirical comparison claim, not a theorem
        from boundcheck.check.comparison import validate

        return validate(name, sid, d, scale)
    for k in ("compare", "target"):
        if k in d:
            raise _err(name, k, "only a comparison spec (claim = ...) takes this table")
    from boundcheck.check import bindings  # the binding tables name the allowed algorithms
    from boundcheck.problems import registry as problems
    from boundcheck.theory import registry as theory

    thm_id = d["theorem"]
    try:
        theory.get(thm_id)
    except BoundcheckError as e:
        raise _err(name, "theorem", str(e)) from None
    binding = bindings.get(thm_id)
    if binding is None:
        raise _err(
            name,
            "theorem",
            f"{thm_id} has no binding (no empirical check); bound: " + ", ".join(bindings.ids()),
        )
    for k in ("replicas", "seed", "batches"):
        if k in d and (d[k] < (0 if k == "seed" else 1)):
            raise _err(
                name, k, f"{d[k]} is not allowed: expected an integer >= {0 if k == 'seed' else 1}"
            )
    dtype = d.get("dtype", "float64")
    if dtype not in DTYPES:
        raise _err(name, "dtype", f"{dtype!r} is not allowed; allowed: {', '.join(DTYPES)}")
    prob, fam, allowed_p = problem_table(name, d)
    # algorithm
    alg = dict(d["algorithm"])
    an = alg.get("name")
    if an is None:
        raise _err(name, "algorithm.name", "missing")
    _check_type(name, "algorithm.name", an, str)
    if an not in binding.algorithms:
        raise _err(
            name,
            "algorithm.name",
            f"{an!r} is not allowed for {thm_id}; allowed: " + ", ".join(binding.algorithms),
        )
    sig = bindings.algorithm_parameters(an)
    for k, v in alg.items():
        if k == "name":
            continue
        if k not in sig:
            raise _unknown(name, "algorithm.", k, sig)
        _check_setting(name, f"algorithm.{k}", k, v, sig[k])
    # sweep
    sweep = d["sweep"]
    if not sweep:
        raise _err(name, "sweep", "empty: give at least one key with a list of values")
    for k, vals in sweep.items():
        _check_type(name, f"sweep.{k}", vals, list)
        if not vals:
            raise _err(name, f"sweep.{k}", "empty list")
        if k in allowed_p:
            for v in vals:
                _check_param_type(name, f"sweep.{k}", v, problems.parameters(fam)[k])
        elif k in sig:
            for v in vals:
                _check_setting(name, f"sweep.{k}", k, v, sig[k])
        elif k not in binding.sweep_keys:
            raise _unknown(name, "sweep.", k, [*allowed_p, *sig, *binding.sweep_keys])
    chk = d.get("check", {})
    for k, v in chk.items():
        if k not in _CHECK_KEYS:
            raise _unknown(name, "check.", k, _CHECK_KEYS)
        _check_type(name, f"check.{k}", v, _CHECK_KEYS[k])
    return make_spec(name, sid, thm_id, d, prob, alg, sweep, dtype, scale, dict(chk))


def make_spec(
    name: str,
    sid: str,
    theorem: str,
    d: dict[str, Any],
    prob: dict[str, Any],
    alg: dict[str, Any],
    sweep: dict[str, Any],
    dtype: str,
    scale: str,
    check: dict[str, Any],
    **extra: Any,
) -> Spec:
    """The validated :class:`Spec` from a checked raw dict ``d`` (its ``x_axis`` must be a sweep
    key); shared by theorem specs and comparison claims (:mod:`boundcheck.check.comparison`)."""
    x_axis = d.get("x_axis", next(iter(sweep)))
    if x_axis not in sweep:
        raise _err(
            name, "x_axis", f"{x_axis!r} is not a sweep key; sweep keys: " + ", ".join(sweep)
        )
    return Spec(
        path=name,
        id=sid,
        theorem=theorem,
        title=d.get("title", ""),
        description=d.get("description", ""),
        problem=prob,
        algorithm=alg,
        sweep={k: list(v) for k, v in sweep.items()},
        replicas=d["replicas"],
        seed=d["seed"],
        device=d.get("device", "cpu"),
        dtype=dtype,
        x_axis=x_axis,
        batches=d.get("batches", 1),
        scale=scale,
        check=check,
        **extra,
    )


def _check_param_type(path: str, key: str, v: Any, default: Any) -> None:
    if isinstance(default, bool):
        _check_type(path, key, v, bool)
    elif isinstance(default, int):
        _check_type(path, key, v, int)
    elif isinstance(default, float) or default is None:
        if not (v is None or (isinstance(v, (int, float)) and not isinstance(v, bool))):
            raise _err(path, key, f"expected a number, got {v!r}")
    elif isinstance(default, str):
        _check_type(path, key, v, str)


_WORDS = ("theorem", "scaling")


def _check_setting(path: str, key: str, name: str, v: Any, kind: str) -> None:
    """Settings: ``kind`` from :func:`bindings.algorithm_parameters`."""
    if kind == "compressor":
        if v is None:
            return
        if not isinstance(v, dict) or "name" not in v:
            raise _err(path, key, f"expected a table {{ name = ..., ... }}, got {v!r}")
        from boundcheck import compressors

        params = {k: x for k, x in v.items() if k != "name"}
        try:
            compressors.get(v["name"], **params)
        except BoundcheckError as e:
            raise _err(path, key, str(e)) from None
        return
    if kind == "int":
        _check_type(path, key, v, int)
    elif kind == "float":
        if isinstance(v, str):
            if v not in _WORDS:
                raise _err(path, key, f'expected a number, "theorem" or "scaling", got {v!r}')
        else:
            _check_type(path, key, v, (int, float))
    elif kind == "bool":
        _check_type(path, key, v, bool)
    elif kind.startswith("choice:"):
        allowed = kind.split(":", 1)[1].split("|")
        if v not in allowed:
            raise _err(path, key, f"{v!r} is not allowed; allowed: {', '.join(allowed)}")


# --- shipped specs -------------------------------------------------------------------------------
def _shipped_dir() -> Path:
    """``boundcheck/specs`` in an installed wheel (copied from ``problems/`` at build time by
    setup.py), else the source tree's ``problems/`` folder (editable installs, a checkout)."""
    d = Path(str(resources.files("boundcheck").joinpath("specs")))
    if d.is_dir() and any(d.glob("*.toml")):
        return d
    return Path(__file__).resolve().parents[2] / "problems"


def shipped_specs() -> list[Path]:
    """The spec files shipped with the package (``problems/*.toml`` in the source tree)."""
    d = _shipped_dir()
    if not d.is_dir():
        return []
    return sorted(p for p in d.iterdir() if p.suffix == ".toml")


def resolve_specs(specs: list[str] | None) -> list[Path]:
    """File paths or shipped spec ids (file stems) -> paths; ``None`` = every shipped spec."""
    shipped = {p.stem: p for p in shipped_specs()}
    if specs is None:
        return list(shipped.values())
    out = []
    for s in specs:
        p = Path(s)
        if p.suffix == ".toml" or p.exists():
            out.append(p)
        elif s in shipped:
            out.append(shipped[s])
        else:
            close = difflib.get_close_matches(s, list(shipped), n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise SpecError(f"{s}: neither a spec file nor a shipped spec id{hint}")
    return out
