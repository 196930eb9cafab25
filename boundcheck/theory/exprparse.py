"""Safe parsing of the expressions of a user's theorem file (issue 15): SymPy syntax, no ``eval``.

A string such as ``"2*F0/(eta*T) + L*eta*sigma**2"`` or ``"eta <= 1/L"`` is parsed with Python's
:mod:`ast` (parsing only: nothing is executed) and translated node by node into SymPy. Allowed:

* numbers (``2``, ``0.5``, ``1e-3``: decimals become exact rationals), names of declared symbols;
* ``+ - * /``, ``**`` (and ``^``, read as a power as in SymPy's ``convert_xor``), parentheses;
* the functions in :data:`FUNCTIONS` (``sqrt``, ``log``, ``exp``, ``Max``, ``Min``, ``Abs``,
  ``floor``, ``ceiling``, ``Sum``) with positional arguments; ``Sum(expr, (i, a, b))`` binds the
  index ``i`` (a new integer symbol, dimensionless);
* in a condition, one comparison ``<=``, ``<``, ``>=``, ``>`` or ``==`` (a prescribed value).

Anything else (attribute access, subscripts, keyword arguments, lambdas, strings, unknown names or
functions) is refused with :class:`ExprError`, whose message names the offending part.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping

import sympy as sp

__all__ = ["FUNCTIONS", "ExprError", "parse_expr", "parse_relation"]


class ExprError(ValueError):
    """An expression that is not allowed (the message says why)."""


#: function name -> SymPy constructor (and its number of arguments: None = any >= 1)
FUNCTIONS: dict[str, tuple[Callable[..., sp.Basic], int | None]] = {
    "sqrt": (sp.sqrt, 1),
    "log": (sp.log, 1),
    "exp": (sp.exp, 1),
    "Abs": (sp.Abs, 1),
    "floor": (sp.floor, 1),
    "ceiling": (sp.ceiling, 1),
    "Max": (sp.Max, None),
    "Min": (sp.Min, None),
}
_CONSTANTS = {"pi": sp.pi, "E": sp.E}
_BINOPS = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: a**b,
}
_CMPOPS = {
    ast.LtE: sp.Le,
    ast.Lt: sp.Lt,
    ast.GtE: sp.Ge,
    ast.Gt: sp.Gt,
    ast.Eq: sp.Eq,
}


def _tree(text: str) -> ast.expr:
    if not isinstance(text, str):
        raise ExprError(f"expected an expression as a string, got {text!r}")
    if not text.strip():
        raise ExprError("empty expression")
    try:
        # ``^`` is a power, with a power's precedence (SymPy's convert_xor works on tokens too;
        # no string literal is allowed, so replacing the character is the same)
        return ast.parse(text.strip().replace("^", "**"), mode="eval").body
    except SyntaxError as e:
        raise ExprError(f"not an expression in SymPy syntax: {text!r} ({e.msg})") from None


class _Translator:
    def __init__(self, symbols: Mapping[str, sp.Symbol], text: str) -> None:
        self.symbols = dict(symbols)
        self.text = text
        self.used: set[str] = set()

    def fail(self, node: ast.AST, what: str) -> ExprError:
        src = self.text.strip().replace("^", "**")
        part = ast.get_source_segment(src, node) or type(node).__name__
        return ExprError(f"{what}: {part!r} in {self.text!r}")

    def __call__(self, node: ast.AST) -> sp.Expr:
        if isinstance(node, ast.Constant):
            v = node.value
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise self.fail(node, "only numbers are allowed as constants")
            if isinstance(v, int):
                return sp.Integer(v)
            return sp.Rational(repr(v)) if repr(v) not in ("inf", "nan") else sp.Float(v)
        if isinstance(node, ast.Name):
            if node.id in self.symbols:
                self.used.add(node.id)
                return self.symbols[node.id]
            if node.id in _CONSTANTS:
                return _CONSTANTS[node.id]
            if node.id in FUNCTIONS or node.id == "Sum":
                raise self.fail(node, "a function name needs arguments")
            raise self.fail(node, "unknown symbol (declare it under [symbols])")
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            return _BINOPS[type(node.op)](self(node.left), self(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            v = self(node.operand)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.Compare):
            raise self.fail(node, "a comparison is allowed only as a whole condition")
        raise self.fail(node, f"{type(node).__name__} is not allowed")

    def call(self, node: ast.Call) -> sp.Expr:
        if not isinstance(node.func, ast.Name):
            raise self.fail(node, "only the named functions are allowed")
        name = node.func.id
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            raise self.fail(node, "keyword or starred arguments are not allowed")
        if name == "Sum":
            return self.sum(node)
        if name not in FUNCTIONS:
            allowed = ", ".join([*FUNCTIONS, "Sum"])
            raise self.fail(node, f"unknown function {name!r} (allowed: {allowed})")
        fn, nargs = FUNCTIONS[name]
        if (nargs is not None and len(node.args) != nargs) or not node.args:
            raise self.fail(node, f"{name} takes {nargs or 'one or more'} argument(s)")
        return fn(*[self(a) for a in node.args])

    def sum(self, node: ast.Call) -> sp.Expr:
        bad = self.fail(node, "Sum takes (expression, (index, lower, upper))")
        if len(node.args) != 2 or not isinstance(node.args[1], ast.Tuple):
            raise bad
        lim = node.args[1].elts
        if len(lim) != 3 or not isinstance(lim[0], ast.Name):
            raise bad
        idx = lim[0].id
        if idx in self.symbols:
            raise self.fail(lim[0], "a summation index must be a new name, not a symbol")
        i = sp.Symbol(idx, integer=True)
        lo, hi = self(lim[1]), self(lim[2])
        inner = _Translator({**self.symbols, idx: i}, self.text)
        body = inner(node.args[0])
        self.used |= inner.used - {idx}
        return sp.Sum(body, (i, lo, hi))


def parse_expr(text: str, symbols: Mapping[str, sp.Symbol]) -> tuple[sp.Expr, set[str]]:
    """``text`` as a SymPy expression over ``symbols`` (name -> symbol), and the names it uses."""
    node = _tree(text)
    tr = _Translator(symbols, text)
    return tr(node), tr.used


def parse_relation(text: str, symbols: Mapping[str, sp.Symbol]) -> tuple[sp.Basic, set[str]]:
    """A condition ``lhs OP rhs`` (one of ``<= < >= > ==``) as a SymPy relational."""
    node = _tree(text)
    if not isinstance(node, ast.Compare) or len(node.ops) != 1:
        raise ExprError(f"a condition is one comparison lhs <= rhs (or <, >=, >, ==), got {text!r}")
    op = type(node.ops[0])
    if op not in _CMPOPS:
        raise ExprError(f"comparison {ast.dump(node.ops[0])} is not allowed in {text!r}")
    tr = _Translator(symbols, text)
    lhs, rhs = tr(node.left), tr(node.comparators[0])
    rel = _CMPOPS[op](lhs, rhs, evaluate=False)
    return rel, tr.used
