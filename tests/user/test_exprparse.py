"""The safe expression parser of theorem files: SymPy syntax in, the same SymPy expression out, and
nothing but arithmetic, declared symbols and the listed functions accepted (no eval)."""

from __future__ import annotations

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from boundcheck.theory.exprparse import ExprError, parse_expr, parse_relation

SYMS = {n: sp.Symbol(n, positive=True) for n in ("L", "eta", "T", "sigma", "F0")}

atoms = st.one_of(
    st.sampled_from(list(SYMS.values())),
    st.integers(1, 50).map(sp.Integer),
    st.fractions(min_value=-10, max_value=10, max_denominator=20).map(
        lambda f: sp.Rational(f.numerator, f.denominator)
    ),
)


def _finite(a):
    """Division by an expression that simplified to 0 gives zoo, sqrt(-L) gives I: keep the finite
    real ones (a theorem's expressions are real)."""
    return not a.has(sp.zoo, sp.nan, sp.oo, -sp.oo, sp.I)


def _extend(children):
    children = children.filter(_finite)
    return st.one_of(
        st.tuples(children, children).map(lambda ab: ab[0] + ab[1]),
        st.tuples(children, children).map(lambda ab: ab[0] * ab[1]),
        st.tuples(children, atoms.filter(lambda a: a != 0)).map(lambda ab: ab[0] / ab[1]),
        st.tuples(children.filter(lambda a: a != 0), st.integers(-3, 3)).map(
            lambda ab: ab[0] ** ab[1]
        ),
        children.map(sp.sqrt),
        children.filter(lambda a: a.is_real is not False).map(lambda a: sp.Max(a, SYMS["L"])),
        children.filter(lambda a: a != 0).map(sp.log),
    )


exprs = st.recursive(atoms, _extend, max_leaves=8).filter(_finite)


@settings(max_examples=150, deadline=None)
@given(e=exprs)
def test_sympy_printed_expressions_parse_back_to_themselves(e) -> None:
    """``str`` of any expression over the declared symbols parses to an equal expression."""
    parsed, used = parse_expr(sp.sstr(e), SYMS)
    assert parsed == e or sp.simplify(parsed - e) == 0
    assert used == {s.name for s in e.free_symbols}


def test_caret_is_a_power_with_a_powers_precedence() -> None:
    L, eta = SYMS["L"], SYMS["eta"]
    assert parse_expr("1/L^2", SYMS)[0] == 1 / L**2
    assert parse_expr("eta*L^2/2", SYMS)[0] == eta * L**2 / 2
    assert parse_expr("0.25*L", SYMS)[0] == sp.Rational(1, 4) * L  # decimals are exact


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("__import__('os')", "unknown function"),
        ("L.real", "Attribute is not allowed"),
        ("[L][0]", "not allowed"),
        ("Max(L, key=eta)", "keyword"),
        ("lambda: 1", "not allowed"),
        ("'L'", "only numbers"),
        ("nope + 1", "unknown symbol"),
        ("L <= eta", "comparison is allowed only"),
        ("sqrt(L, eta)", "takes 1"),
        ("L +", "not an expression"),
        ("", "empty"),
    ],
)
def test_refused(text, phrase) -> None:
    with pytest.raises(ExprError, match=phrase):
        parse_expr(text, SYMS)


def test_relations_and_sums() -> None:
    L, eta = SYMS["L"], SYMS["eta"]
    assert parse_relation("eta <= 1/(4*L)", SYMS)[0] == sp.Le(eta, 1 / (4 * L))
    assert isinstance(parse_relation("eta == 1/L", SYMS)[0], sp.Equality)
    with pytest.raises(ExprError, match="one comparison"):
        parse_relation("0 < eta <= 1/L", SYMS)
    s, used = parse_expr("Sum(eta/t, (t, 1, T))", SYMS)
    assert isinstance(s, sp.Sum) and used == {"eta", "T"}
    with pytest.raises(ExprError, match="new name"):
        parse_expr("Sum(eta, (L, 1, T))", SYMS)
