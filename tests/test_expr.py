"""Specification of the pack expression language (vbp_rules.expr)."""

from __future__ import annotations

import doctest
import enum
import numbers
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from vbp_rules import expr
from vbp_rules._expr_parser import decimal_text, iter_nodes, unparse
from vbp_rules.errors import (
    ExpressionError,
    ExpressionSyntaxError,
    ExpressionTypeError,
    UnknownNameError,
)
from vbp_rules.expr import (
    BUILTIN_FUNCTIONS,
    MAX_DEPTH,
    MAX_LENGTH,
    BinaryOp,
    Boolean,
    BoolOp,
    Call,
    Compare,
    Expression,
    FunctionSpec,
    LazyArg,
    Name,
    NotApplicable,
    Null,
    Number,
    String,
    UnaryOp,
    format_value,
    parse,
    to_fraction,
)

CST = timezone(timedelta(hours=8))
DOCS = Path(__file__).resolve().parents[1] / "docs" / "expressions.md"


# ------------------------------------------------------------------ test values


class Opaque:
    """An engine value (like a duration): ordered and compared within its own type."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Opaque) and other.n == self.n

    def __hash__(self) -> int:
        return hash(self.n)

    def __lt__(self, other: Opaque) -> bool:
        return self.n < other.n

    def __repr__(self) -> str:
        return f"Opaque({self.n})"


class Unordered:
    """An engine value with equality only."""


class Weird:
    """An engine value whose comparisons do not return booleans."""

    def __eq__(self, other: object) -> bool:
        return "maybe"  # type: ignore[return-value]

    def __lt__(self, other: object) -> str:
        return "maybe"

    __hash__ = object.__hash__


class Kind(enum.StrEnum):
    SURGE = "verified_demand_surge"


class PDate(date):
    """A date subclass, like pendulum.Date."""


class Ratio:
    """A foreign exact rational, registered as a numbers.Rational (like gmpy2.mpq)."""

    def __init__(self, num: int, den: int) -> None:
        self.numerator = num
        self.denominator = den


numbers.Rational.register(Ratio)


class Level(enum.IntEnum):
    HIGH = 3


class FractionSub(Fraction):
    """A Fraction subclass from some other library."""


def ev(source: str, env: Mapping[str, object] | None = None, **kwargs: object) -> object:
    """Parse and evaluate ``source``; keyword arguments become variables."""
    return parse(source).evaluate({**(env or {}), **kwargs})


# ----------------------------------------------------------------------- literals


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("0", 0),
        ("12", 12),
        ("007", 7),
        ("0.95", Fraction(19, 20)),
        ("1.10", Fraction(11, 10)),
        ("95%", Fraction(19, 20)),
        ("12.5%", Fraction(1, 8)),
        ("95％", Fraction(19, 20)),
        ("100%", 1),
        ("-3", -3),
        ("- 0.5", Fraction(-1, 2)),
        ("'verified_demand_surge'", "verified_demand_surge"),
        ('"it\'s"', "it's"),
        ("'say \"hi\"'", 'say "hi"'),
        ("''", ""),
        ("'中文 ok'", "中文 ok"),
        ("true", True),
        ("false", False),
        ("null", None),
    ],
)
def test_literals(source: str, expected: object) -> None:
    value = ev(source)
    assert value == expected
    assert type(value) is not float


def test_number_literals_are_exact_fractions_in_the_ast() -> None:
    node = parse("0.95").node
    assert node == Number(value=Fraction(19, 20))
    assert parse("95%").node == Number(value=Fraction(19, 20), percent=True)
    assert type(ev("2")) is int  # integral literals evaluate as int
    assert type(ev("2.0")) is int


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("7 / 100 < 7%", False),
        ("7 / 100 == 7%", True),
        ("0.1 + 0.2 == 0.3", True),
        ("1 / 3 * 3 == 1", True),
        ("1 / 3", Fraction(1, 3)),
        ("10 / 4", Fraction(5, 2)),
        ("2 * 0.5", 1),
        ("1 - 20%", Fraction(4, 5)),
        ("100 * (1 - 20%) == 80", True),
        ("x / y", Fraction(2, 3)),
    ],
)
def test_arithmetic_is_exact(source: str, expected: object) -> None:
    value = ev(source, x=Fraction(1, 3), y=Fraction(1, 2))
    assert value == expected
    assert isinstance(value, bool | int | Fraction)


# --------------------------------------------------------------------- precedence


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("10 - 4 - 3", 3),
        ("10 - (4 - 3)", 9),
        ("12 / 3 / 2", 2),
        ("12 / (3 / 2)", 8),
        ("-2 * 3", -6),
        ("- -2", 2),
        ("2 - -2", 4),
        ("-(2 + 3)", -5),
        ("1 + 2 < 4", True),
        ("not 1 < 2", False),
        ("not not true", True),
        ("true or false and false", True),
        ("(true or false) and false", False),
        ("not true or true", True),
        ("not (true or true)", False),
    ],
)
def test_precedence(source: str, expected: object) -> None:
    assert ev(source) == expected


@pytest.mark.parametrize(
    ("source", "canonical"),
    [
        ("a + b * c", "a + b * c"),
        ("(a + b) * c", "(a + b) * c"),
        ("a - (b - c)", "a - (b - c)"),
        ("(a - b) - c", "a - b - c"),
        ("a or b and c", "a or b and c"),
        ("(a or b) and c", "(a or b) and c"),
        ("not (a and b)", "not (a and b)"),
        ("not a == b", "not a == b"),
        ("(a == b) == c", "(a == b) == c"),
        ("a == (b == c)", "a == (b == c)"),
        ("-(a * b)", "-(a * b)"),
        ("- - a", "--a"),
        ("(not a) == b", "(not a) == b"),
        ("min( a ,b , 1.50 )", "min(a, b, 1.5)"),
        ("12.50%", "12.5%"),
        ("'x' == \"y\"", '"x" == "y"'),
        ("'it\"s'", "'it\"s'"),
        ("true and false or null", "true and false or null"),
    ],
)
def test_unparse_is_canonical_and_round_trips(source: str, canonical: str) -> None:
    parsed = parse(source)
    assert parsed.unparse() == canonical
    assert str(parsed) == source
    assert parse(canonical).node == parsed.node


# ----------------------------------------------------------------- null and logic

T, F, N = True, False, None


@pytest.mark.parametrize(
    ("a", "b", "conj", "disj"),
    [
        (T, T, T, T),
        (T, F, F, T),
        (T, N, N, T),
        (F, T, F, T),
        (F, F, F, F),
        (F, N, F, N),
        (N, T, N, T),
        (N, F, F, N),
        (N, N, N, N),
    ],
)
def test_kleene_logic(a: bool | None, b: bool | None, conj: bool | None, disj: bool | None) -> None:
    assert ev("a and b", a=a, b=b) is conj
    assert ev("a or b", a=a, b=b) is disj


@pytest.mark.parametrize(("a", "negation"), [(T, F), (F, T), (N, N)])
def test_kleene_not(a: bool | None, negation: bool | None) -> None:
    assert ev("not a", a=a) is negation


@pytest.mark.parametrize(
    "source",
    [
        "x + 1",
        "1 - x",
        "x * x",
        "x / 2",
        "2 / x",
        "-x",
        "x == 1",
        "x != 1",
        "'a' == x",
        "x < 1",
        "x >= d",
        "abs(x)",
        "floor(x)",
        "ceil(x)",
        "round_half_up(x, 2)",
        "min(1, x)",
        "max(x, 1)",
        "if(x, 1, 2)",
        "coalesce(x, null)",
    ],
)
def test_null_propagates(source: str) -> None:
    assert ev(source, x=None, d=date(2024, 1, 1)) is None


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("is_null(x)", True),
        ("is_set(x)", False),
        ("is_null(1)", False),
        ("is_set(0)", True),
        ("coalesce(x, 5)", 5),
        ("coalesce(x, null, 'a', 1)", "a"),
        ("coalesce(3, 1 / 0)", 3),  # lazy: later arguments are not evaluated
        ("if(true, 1, 1 / 0)", 1),
        ("if(false, 1 / 0, 2)", 2),
        ("false and 1 / 0 > 1", False),  # short-circuit skips the zero denominator
        ("true or 1 / 0 > 1", True),
        ("is_set(replied_at) and not unresolvable", False),
    ],
)
def test_null_tests_and_laziness(source: str, expected: object) -> None:
    assert ev(source, x=None, replied_at=None, unresolvable=True) == expected


# --------------------------------------------------------------------- functions


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("min(3)", 3),
        ("min(3, 1, 2)", 1),
        ("max(3, 1.5, 2)", 3),
        ("min(listing_price, group_selected_price)", Fraction(95, 10)),
        ("if(selected, listing_price, min(listing_price, group_selected_price))", Fraction(95, 10)),
        ("min(d1, d2)", date(2024, 1, 1)),
        ("max(d1, d2)", date(2024, 2, 1)),
        ("abs(-2.5)", Fraction(5, 2)),
        ("abs(2)", 2),
        ("floor(2.5)", 2),
        ("floor(-2.5)", -3),
        ("ceil(2.1)", 3),
        ("ceil(-2.1)", -2),
        ("round_half_up(2.5)", 3),
        ("round_half_up(-2.5)", -3),
        ("round_half_up(2.45, 1)", Fraction(5, 2)),
        ("round_half_up(2.449, 2)", Fraction(245, 100)),
        ("round_half_up(1250, -2)", 1300),
        ("round_half_up(1 / 3, 3)", Fraction(333, 1000)),
    ],
)
def test_builtin_functions(source: str, expected: object) -> None:
    env = {
        "selected": False,
        "listing_price": Decimal("10.00"),
        "group_selected_price": Decimal("9.50"),
        "d1": date(2024, 2, 1),
        "d2": date(2024, 1, 1),
    }
    assert ev(source, env) == expected


def test_floor_and_ceil_return_int() -> None:
    assert type(ev("floor(x)", x=Fraction(7, 2))) is int
    assert type(ev("ceil(x)", x=Fraction(7, 2))) is int


def test_builtin_table_is_read_only() -> None:
    with pytest.raises(TypeError):
        BUILTIN_FUNCTIONS["eval"] = BUILTIN_FUNCTIONS["min"]  # type: ignore[index]
    with pytest.raises(TypeError):
        parse("1").functions["eval"] = BUILTIN_FUNCTIONS["min"]  # type: ignore[index]


def test_every_builtin_is_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for name, spec in BUILTIN_FUNCTIONS.items():
        assert f"`{name}(" in text, name
        assert spec.doc


def test_function_spec_arity_and_validation() -> None:
    assert BUILTIN_FUNCTIONS["if"].arity == (3, 3)
    assert BUILTIN_FUNCTIONS["min"].arity == (1, None)
    for bad in ("", "1x", "__x", "and", "a-b"):
        with pytest.raises(ValueError, match="invalid function name"):
            FunctionSpec(name=bad, min_args=0, max_args=0, impl=lambda: 0)
    with pytest.raises(ValueError, match="less than min_args"):
        FunctionSpec(name="f", min_args=2, max_args=1, impl=lambda: 0)
    with pytest.raises(ValueError, match="min_args"):
        FunctionSpec(name="f", min_args=-1, max_args=None, impl=lambda: 0)


# ------------------------------------------------------------- extension point


def _working_days_between(start: object, end: object) -> object:
    assert isinstance(start, date)
    assert isinstance(end, date)
    return (end - start).days  # stand-in for the calendar


def _count_if(condition: LazyArg, rows: LazyArg) -> object:
    table = rows()
    assert isinstance(table, list)
    return sum(1 for row in table if condition.evaluate(row) is True)


ENGINE_FUNCTIONS = {
    "working_days_between": FunctionSpec(
        name="working_days_between",
        min_args=2,
        max_args=2,
        impl=_working_days_between,
        doc="working days from start to end",
    ),
    "count_if": FunctionSpec(
        name="count_if", min_args=2, max_args=2, impl=_count_if, lazy=True, doc="count rows"
    ),
    "halve": FunctionSpec(name="halve", min_args=1, max_args=1, impl=lambda x: Fraction(x) / 2),
    "ratio": FunctionSpec(name="ratio", min_args=0, max_args=0, impl=lambda: Decimal("0.25")),
    "bad_float": FunctionSpec(name="bad_float", min_args=0, max_args=0, impl=lambda: 0.5),
    "fail_plain": FunctionSpec(
        name="fail_plain",
        min_args=0,
        max_args=0,
        impl=lambda: (_ for _ in ()).throw(ExpressionError("calendar ends in 2026")),
    ),
    "skip": FunctionSpec(
        name="skip",
        min_args=0,
        max_args=0,
        impl=lambda: (_ for _ in ()).throw(NotApplicable("no execution document")),
    ),
}


def test_engine_functions_extend_the_builtins() -> None:
    parsed = parse(
        "working_days_between(published_on, landing_date) <= 10", functions=ENGINE_FUNCTIONS
    )
    assert parsed.calls == frozenset({"working_days_between"})
    env = {"published_on": date(2024, 9, 2), "landing_date": date(2024, 9, 10)}
    assert parsed.evaluate(env) is True
    assert parse("halve(3)", functions=ENGINE_FUNCTIONS).evaluate({}) == Fraction(3, 2)
    assert parse("ratio() * 4", functions=ENGINE_FUNCTIONS).evaluate({}) == 1


def test_lazy_functions_receive_lazy_args_that_rebind_the_environment() -> None:
    parsed = parse("count_if(qty > 10, rows)", functions=ENGINE_FUNCTIONS)
    rows = [{"qty": 5}, {"qty": 11}, {"qty": 30}]
    assert parsed.evaluate({"rows": rows}) == 2
    seen: list[LazyArg] = []
    spy = FunctionSpec(name="spy", min_args=1, max_args=1, impl=seen.append, lazy=True)
    parse("spy(a + 1)", functions={"spy": spy}).evaluate({"a": 1})
    (arg,) = seen
    assert arg.text == "a + 1"
    assert arg.node == BinaryOp(op="+", left=Name(id="a"), right=Number(value=Fraction(1)))
    assert arg() == 2
    assert arg.evaluate({"a": 41}) == 42
    assert repr(arg) == "LazyArg('a + 1')"


def test_function_names_only_at_parse_time_specs_at_evaluation() -> None:
    parsed = parse("working_days_between(a, b)", functions=["working_days_between", "min"])
    with pytest.raises(UnknownNameError, match="has no implementation") as info:
        parsed.evaluate({"a": date(2024, 1, 1), "b": date(2024, 1, 2)})
    assert info.value.name == "working_days_between"
    env = {"a": date(2024, 1, 1), "b": date(2024, 1, 3)}
    assert parsed.evaluate(env, functions=ENGINE_FUNCTIONS) == 2
    assert parsed.compile(functions=ENGINE_FUNCTIONS)(env) == 2


def test_arity_is_checked_when_compiling_with_late_specs() -> None:
    parsed = parse("halve(1, 2)", functions={"halve"})
    with pytest.raises(ExpressionSyntaxError, match=r"halve\(\) takes exactly 1 argument, got 2"):
        parsed.compile(functions=ENGINE_FUNCTIONS)


def test_engine_functions_may_override_builtins() -> None:
    loud_min = FunctionSpec(name="min", min_args=2, max_args=2, impl=lambda *_: "min!")
    assert parse("min(1, 2)", functions={"min": loud_min}).evaluate({}) == "min!"
    with pytest.raises(ExpressionSyntaxError, match="exactly 2 arguments"):
        parse("min(1)", functions={"min": loud_min})


@pytest.mark.parametrize(
    ("functions", "error", "match"),
    [
        ({"f": len}, TypeError, "must be a FunctionSpec"),
        ({"g": ENGINE_FUNCTIONS["halve"]}, ValueError, "holds the spec of 'halve'"),
        ("halve", TypeError, "not a single string"),
    ],
)
def test_bad_function_tables(functions: object, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        parse("1", functions=functions)  # type: ignore[arg-type]
    if isinstance(functions, Mapping):
        with pytest.raises(error, match=match):
            parse("1").evaluate({}, functions=functions)


def test_errors_from_functions_are_located_at_the_call() -> None:
    with pytest.raises(ExpressionError, match=r"calendar ends in 2026 in 'fail_plain\(\)'") as info:
        parse("1 + fail_plain()", functions=ENGINE_FUNCTIONS).evaluate({})
    assert type(info.value) is ExpressionError
    assert info.value.offset == 4
    with pytest.raises(ExpressionTypeError, match="binary floats") as type_info:
        parse("bad_float()", functions=ENGINE_FUNCTIONS).evaluate({})
    assert type_info.value.offset == 0
    with pytest.raises(NotApplicable, match="no execution document"):
        parse("skip()", functions=ENGINE_FUNCTIONS).evaluate({})


def test_located_errors_inside_lazy_arguments_pass_through() -> None:
    with pytest.raises(ExpressionTypeError, match=r"cannot apply '\+' to a string") as info:
        ev("if(true, 'a' + 1, 0)")
    assert info.value.offset == 13


# ---------------------------------------------------------------- zero denominator


@pytest.mark.parametrize(
    ("source", "reason", "offset"),
    [
        ("responded / orders", "division by zero in 'responded / orders'", 10),
        ("1 + responded / (orders * 2)", "division by zero in 'responded / (orders * 2)'", 14),
        ("responded / 0%", "division by zero in 'responded / 0%'", 10),
    ],
)
def test_zero_denominator_is_not_applicable(source: str, reason: str, offset: int) -> None:
    with pytest.raises(NotApplicable) as info:
        ev(source, responded=3, orders=0)
    assert info.value.reason == reason
    assert str(info.value) == reason
    assert info.value.source == source
    assert info.value.offset == offset
    assert not isinstance(info.value, ExpressionError)


# ------------------------------------------------------------------ type errors


@pytest.mark.parametrize(
    ("source", "match"),
    [
        ("d + 1", r"cannot apply '\+' to a date and a number"),
        ("d + s", r"cannot apply '\+' to a date and a string"),
        ("d - d", r"cannot apply '-' to a date and a date"),
        ("s * null", r"cannot apply '\*' to a string and a null"),
        ("b + 1", r"booleans are not numbers"),
        ("1 / b", r"booleans are not numbers"),
        ("-b", r"cannot negate a boolean \(booleans are not numbers\)"),
        ("-s", r"cannot negate a string"),
        ("not 1", r"'not' needs true, false or null, not a number"),
        ("1 and true", r"'and' needs true, false or null, not a number"),
        ("true and s", r"'and' needs true, false or null, not a string"),
        ("0 or false", r"'or' needs true, false or null, not a number"),
        ("false or s", r"'or' needs true, false or null, not a string"),
        ("s == 1", r"cannot compare a string with a number"),
        ("s < 1", r"cannot compare a string with a number"),
        ("b == 1", r"cannot compare a boolean with a number"),
        ("d == t", r"cannot compare a date with a datetime \(convert the datetime"),
        ("d < t", r"cannot compare a date with a datetime"),
        ("s < 'b'", r"cannot order strings with '<'; only == and != apply"),
        ("b >= false", r"cannot order booleans with '>='"),
        ("o < 1", r"cannot compare a Opaque with a number"),
        ("min(1, d)", r"min\(\) needs all numbers, all dates or all datetimes; got date, number"),
        ("max(s)", r"max\(\) needs all numbers"),
        ("abs(s)", r"abs\(\) needs a number, got string"),
        ("floor(b)", r"floor\(\) needs a number, got boolean \(booleans are not numbers\)"),
        ("ceil(d)", r"ceil\(\) needs a number, got date"),
        ("round_half_up(1, 0.5)", r"whole number of digits from -20 to 20, got 0.5"),
        ("round_half_up(1, 21)", r"whole number of digits from -20 to 20, got 21"),
        ("round_half_up(1, null)", r"got null"),
        ("if(1, 2, 3)", r"if\(\) needs a true/false/null condition, got number"),
    ],
)
def test_type_errors(source: str, match: str) -> None:
    env = {
        "d": date(2024, 1, 1),
        "t": datetime(2024, 1, 1, 9, tzinfo=CST),
        "s": "a",
        "b": True,
        "o": Opaque(1),
    }
    with pytest.raises(ExpressionTypeError, match=match) as info:
        ev(source, env)
    assert info.value.source == source
    assert info.value.offset is not None
    assert isinstance(info.value, TypeError)
    assert " in '" in str(info.value)


def test_type_error_points_at_the_operator() -> None:
    with pytest.raises(ExpressionTypeError) as info:
        ev("x + (d  +  1)", x=1, d=date(2024, 1, 1))
    assert info.value.offset == 8
    assert "in '(d  +  1)' at column 9" in str(info.value)


# ---------------------------------------------------------------- comparisons


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("1 == 1.0", True),
        ("x == 0.5", True),
        ("m == 1.1", True),
        ("m > 1.09", True),
        ("'a' == 'a'", True),
        ("'a' != 'b'", True),
        ("kind == 'verified_demand_surge'", True),
        ("e == 'verified_demand_surge'", True),
        ("true == true", True),
        ("true != false", True),
        ("d1 < d2", True),
        ("d1 == d1", True),
        ("t1 < t2", True),
        ("t1 == t3", True),  # the same instant in two zones
        ("p < d2", True),
        ("p == d1", True),
        ("o1 < o2", True),
        ("o1 == o1", True),
        ("o1 != o2", True),
        ("u == u", True),
        ("1 <= 1", True),
        ("2 >= 3", False),
        ("2 > 1", True),
        ("1 != 1", False),
    ],
)
def test_comparisons(source: str, expected: bool) -> None:
    unordered = Unordered()
    env: dict[str, object] = {
        "x": Fraction(1, 2),
        "m": Decimal("1.10"),
        "kind": "verified_demand_surge",
        "e": Kind.SURGE,
        "d1": date(2024, 1, 1),
        "d2": date(2024, 1, 2),
        "p": PDate(2024, 1, 1),
        "t1": datetime(2024, 1, 1, 9, tzinfo=CST),
        "t2": datetime(2024, 1, 1, 10, tzinfo=CST),
        "t3": datetime(2024, 1, 1, 1, tzinfo=UTC),
        "o1": Opaque(1),
        "o2": Opaque(2),
        "u": unordered,
    }
    assert ev(source, env) is expected


@pytest.mark.parametrize(
    ("source", "match"),
    [
        ("u < u", "values of type Unordered cannot be compared with '<'"),
        ("w < w", "values of type Weird cannot be compared with '<'"),
        ("w == w", "values of type Weird cannot be compared with '=='"),
        ("o < u", "cannot compare a Opaque with a Unordered"),
        ("o == other", "cannot compare a Opaque with a Opaque"),
    ],
)
def test_opaque_comparison_errors(source: str, match: str) -> None:
    other_opaque = type("Opaque", (), {})()
    env = {"u": Unordered(), "w": Weird(), "o": Opaque(1), "other": other_opaque}
    with pytest.raises(ExpressionTypeError, match=match):
        ev(source, env)


# ---------------------------------------------------------- environment values


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("1.10"), Fraction(11, 10)),
        (Level.HIGH, 3),
        (Ratio(1, 3), Fraction(1, 3)),
        (FractionSub(1, 4), Fraction(1, 4)),
        (Kind.SURGE, "verified_demand_surge"),
        (PDate(2024, 1, 1), date(2024, 1, 1)),
    ],
)
def test_environment_values_are_normalized(value: object, expected: object) -> None:
    result = ev("x", x=value)
    assert result == expected
    if isinstance(expected, str):
        assert type(result) is str
    if isinstance(expected, int | Fraction):
        assert type(result) in (int, Fraction)


@pytest.mark.parametrize(
    ("value", "match"),
    [
        (0.95, r"variable 'x': binary floats are not allowed; pass int, Fraction or Decimal"),
        (1 + 2j, r"binary floats are not allowed"),
        (Decimal("NaN"), r"a Decimal must be finite"),
        (Decimal("Infinity"), r"a Decimal must be finite"),
        (datetime(2024, 1, 1, 9), r"naive datetime 2024-01-01T09:00:00 is not allowed"),
    ],
)
def test_bad_environment_values(value: object, match: str) -> None:
    with pytest.raises(ExpressionTypeError, match=match) as info:
        ev("x + 0 == 1", x=value)
    assert info.value.offset == 0


def test_opaque_values_pass_through_to_functions() -> None:
    marker = object()
    ident = FunctionSpec(name="ident", min_args=1, max_args=1, impl=lambda v: v)
    assert parse("ident(x)", functions={"ident": ident}).evaluate({"x": marker}) is marker


# --------------------------------------------------------------------- names


def test_names_and_calls() -> None:
    parsed = parse("if(selected, listing_price, min(listing_price, group_selected_price))")
    assert parsed.names == frozenset({"selected", "listing_price", "group_selected_price"})
    assert parsed.calls == frozenset({"if", "min"})
    assert parse("count").names == frozenset({"count"})  # function names may name variables


def test_unknown_name_at_evaluation_suggests_env_keys() -> None:
    with pytest.raises(UnknownNameError) as info:
        ev("delivred / ordered", delivered=1, ordered=2)
    error = info.value
    assert error.name == "delivred"
    assert error.suggestions[0] == "delivered"
    assert error.offset == 0
    assert "did you mean 'delivered'" in str(error)
    assert isinstance(error, LookupError)


def test_unknown_name_ignores_non_string_keys() -> None:
    with pytest.raises(UnknownNameError, match="unknown name 'a'") as info:
        parse("a").evaluate({1: 2})  # type: ignore[dict-item]
    assert info.value.suggestions == ()


def test_check_names() -> None:
    parsed = parse("responded / orderz < ratio and orderz > minimum")
    parsed.check_names({"responded", "orderz", "ratio", "minimum"})
    with pytest.raises(UnknownNameError) as info:
        parsed.check_names(["responded", "orders", "ratio"])
    assert info.value.name == "orderz"
    assert info.value.suggestions == ("orders",)
    assert info.value.offset == 12
    assert "(also unknown: minimum)" in str(info.value)


# ------------------------------------------------------------- forbidden input


@pytest.mark.parametrize(
    ("source", "match", "offset"),
    [
        ("__import__('os')", "names with double underscores are forbidden: '__import__'", 0),
        ("a.b", r"attribute access \('\.'\) is not allowed", 1),
        ("a.__class__", r"attribute access", 1),
        ("a[0]", r"subscripts \('\[\.\.\.\]'\) are not allowed", 1),
        ("lambda: 1", "'lambda' is not allowed", 0),
        ("import os", "'import' is not allowed", 0),
        ("x if y else z", "Python conditional expressions are not supported", 2),
        ("if", r"'if' is a function at column 1; write if\(condition, then, otherwise\)", 0),
        ("1 < 2 < 3", "cannot be chained at column 7; write 'a < b and b < c'", 6),
        ("a == b != c", "comparisons cannot be chained", 7),
        ("eval(x)", "unknown function 'eval'", 0),
        ("open('f')", "unknown function 'open'", 0),
        ("(a)(b)", r"unexpected '\(' at column 4; only function names can be called", 3),
        ("'a\\'b'", "backslash escapes are not supported in strings", 2),
        ("'abc", "unterminated string", 0),
        ("a = 1", "'=' is not an operator; write '=='", 2),
        ("!a", "write 'not'", 0),
        ("a && b", "write 'and'", 2),
        ("a || b", "write 'or'", 2),
        ("a <> b", "write '!='", 2),
        ("a ** 2", "there are no powers", 2),
        ("a % 2", "there is no modulo operator", 2),
        ("a ％ 2", "there is no modulo operator", 2),
        ("a @ b", "unexpected character '@'", 2),
        ("a \\ b", "backslashes are not allowed", 2),
        ("{}", "unexpected character '{'", 0),
        ("交付率 < 1", r"names must be ASCII", 0),
        ("rate率", r"names must be ASCII", 4),
        ("a （b）", r"U\+FF08.*use ASCII operators", 2),
        (".5", "write 0.5", 0),
        ("1.", r"write 1\.0", 1),
        ("1.5.2", "invalid number", 3),
        ("1e5", "invalid number", 1),
        ("95%x", "invalid number", 3),
        ("True", "write 'true'", 0),
        ("None", "write 'null'", 0),
        ("x is None", "'is' is not allowed", 2),
        ("a in b", "'in' is not allowed", 2),
        ("for", "Python keyword", 0),
        ("", "empty expression", 0),
        ("  \n ", "empty expression", 0),
        ("a +", r"unexpected end of expression at column 4; expected a value", 3),
        ("(a", r"unexpected end of expression at column 3; expected '\)'", 2),
        ("(a))", r"unexpected '\)' at column 4; expected an operator", 3),
        ("a 1", r"unexpected number 1 at column 3", 2),
        ("a 'x'", r"unexpected string 'x' at column 3", 2),
        ("a b", r"unexpected name 'b' at column 3", 2),
        ("a true", r"unexpected 'true' at column 3", 2),
        ("a + )", r"unexpected '\)' at column 5; expected a value", 4),
        ("a + and", r"unexpected 'and' at column 5; expected a value", 4),
        ("a == not b", r"unexpected 'not' at column 6; put 'not \.\.\.' in parentheses", 5),
        ("+1", r"unexpected '\+' at column 1", 0),
        ("min(a b)", r"unexpected name 'b' at column 7; expected ',' or '\)'", 6),
        ("min(a,)", r"unexpected '\)' at column 7; expected a value", 6),
        ("min()", r"min\(\) takes at least 1 argument, got 0", 0),
        ("abs(1, 2)", r"abs\(\) takes exactly 1 argument, got 2", 0),
        ("if(a, b)", r"if\(\) takes exactly 3 arguments, got 2", 0),
        ("round_half_up(1, 2, 3)", r"round_half_up\(\) takes 1 to 2 arguments, got 3", 0),
        ("true(1)", r"unexpected '\(' at column 5; only function names can be called", 4),
    ],
)
def test_forbidden_or_malformed_input(source: str, match: str, offset: int) -> None:
    with pytest.raises(ExpressionError, match=match) as info:
        parse(source)
    assert info.value.offset == offset
    assert info.value.source == source
    if source:
        assert "^" in str(info.value)


def test_error_message_shows_a_caret() -> None:
    with pytest.raises(ExpressionSyntaxError) as info:
        parse("min(a, b))")
    assert str(info.value) == (
        "unexpected ')' at column 10; expected an operator or the end of the expression\n"
        "  min(a, b))\n"
        "           ^"
    )


@pytest.mark.parametrize(
    ("source", "suggestions"),
    [
        ("mni(a, b)", ("min",)),
        ("is_nul(a)", ("is_null",)),
        ("coalesc(a, b)", ("coalesce",)),
        ("eval(a)", ()),
    ],
)
def test_unknown_function_did_you_mean(source: str, suggestions: tuple[str, ...]) -> None:
    with pytest.raises(UnknownNameError) as info:
        parse(source)
    assert info.value.suggestions == suggestions
    assert "known functions: abs, ceil, coalesce" in str(info.value)
    if suggestions:
        assert f"did you mean '{suggestions[0]}'?" in str(info.value)


def test_unknown_engine_function_suggests_engine_names() -> None:
    with pytest.raises(UnknownNameError, match="did you mean 'working_days_between'"):
        parse("working_day_between(a, b)", functions=ENGINE_FUNCTIONS)


def test_source_must_be_a_string() -> None:
    with pytest.raises(ExpressionTypeError, match="must be a string, not int"):
        parse(5)  # type: ignore[arg-type]


# ----------------------------------------------------------------- limits


def test_length_limit() -> None:
    parse("a" * MAX_LENGTH)
    with pytest.raises(ExpressionSyntaxError, match="too long") as info:
        parse("a" * (MAX_LENGTH + 1))
    assert info.value.offset == MAX_LENGTH


@pytest.mark.parametrize(
    "make",
    [
        lambda n: "(" * n + "a" + ")" * n,
        lambda n: "not " * n + "a",
        lambda n: "-" * n + "a",
        lambda n: "abs(" * n + "a" + ")" * n,
        lambda n: " + ".join(["a"] * (n + 1)),
        lambda n: " or ".join(["a"] * (n + 1)),
    ],
)
def test_nesting_limit(make: object) -> None:
    assert callable(make)
    parse(make(MAX_DEPTH - 2))
    with pytest.raises(ExpressionSyntaxError, match="nested too deeply") as info:
        parse(make(MAX_DEPTH + 1))
    assert info.value.offset is not None


def test_huge_nesting_does_not_hit_the_recursion_limit() -> None:
    with pytest.raises(ExpressionSyntaxError, match="nested too deeply"):
        parse("(" * 900 + "a" + ")" * 900)
    with pytest.raises(ExpressionSyntaxError, match="too long"):
        parse("(" * 5000)


# --------------------------------------------------------------- compile, trace


def test_compile_is_cached_and_reusable() -> None:
    parsed = parse("a * 100 < b * 95")
    run = parsed.compile()
    assert parsed.compile() is run
    assert [run({"a": a, "b": 100}) for a in (94, 95, 96)] == [True, False, False]


def test_compile_with_functions_is_cached_while_the_specs_stay_the_same() -> None:
    parsed = parse("halve(x) + min(x, 1)", functions={"halve"})
    table = dict(ENGINE_FUNCTIONS)
    run = parsed.compile(functions=table)
    assert parsed.compile(functions=dict(table)) is run  # same specs, another mapping
    assert parsed.evaluate({"x": 4}, functions=table) == 3
    table["halve"] = FunctionSpec(name="halve", min_args=1, max_args=1, impl=lambda x: x)
    rerun = parsed.compile(functions=table)
    assert rerun is not run
    assert rerun({"x": 4}) == 5
    with pytest.raises(UnknownNameError, match="no implementation"):
        parsed.compile(functions={})


def test_evaluate_traced() -> None:
    value, trace = parse(
        "if(is_set(x), x, halve(y)) > 1", functions=ENGINE_FUNCTIONS
    ).evaluate_traced({"x": None, "y": 3}, functions={"halve": ENGINE_FUNCTIONS["halve"]})
    assert value is True
    assert trace == [
        ("x", None),
        ("is_set(x)", False),
        ("y", 3),
        ("halve(y)", Fraction(3, 2)),
        ("if(is_set(x), x, halve(y))", Fraction(3, 2)),
        ("if(is_set(x), x, halve(y)) > 1", True),
    ]


def test_hand_built_expression_uses_unparsed_text() -> None:
    node = BinaryOp(op="/", left=Name(id="a"), right=Number(value=Fraction(0)))
    built = Expression(
        source="", node=node, names=frozenset({"a"}), calls=frozenset(), functions={}
    )
    with pytest.raises(NotApplicable, match="division by zero in 'a / 0'"):
        built.evaluate({"a": 1})
    with pytest.raises(ExpressionTypeError, match=r"in 'a / 0' at column 1"):
        built.evaluate({"a": "s"})


def test_expression_equality_ignores_function_tables() -> None:
    assert parse("a + 1") == parse("a + 1", functions=ENGINE_FUNCTIONS)
    assert parse("a + 1") != parse("a+1")  # different source text
    assert parse("a + 1").node == parse("a+1").node
    assert hash(parse("a + 1")) == hash(parse("a + 1"))


def test_iter_nodes_walks_parents_first() -> None:
    node = parse("-a + f(b, not c)", functions={"f"}).node
    kinds = [type(n).__name__ for n in iter_nodes(node)]
    assert kinds == ["BinaryOp", "UnaryOp", "Name", "Call", "Name", "UnaryOp", "Name"]


# ------------------------------------------------------------------- helpers


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (95, Fraction(95)),
        (Fraction(1, 3), Fraction(1, 3)),
        (Decimal("1.10"), Fraction(11, 10)),
        (Level.HIGH, Fraction(3)),
        ("95%", Fraction(19, 20)),
        ("12.5%", Fraction(1, 8)),
        (" 95 ％ ", Fraction(19, 20)),
        ("0.95", Fraction(19, 20)),
        ("-3", Fraction(-3)),
        ("-20%", Fraction(-1, 5)),
        ("19/20", Fraction(19, 20)),
        ("-2 / 4", Fraction(-1, 2)),
    ],
)
def test_to_fraction(value: object, expected: Fraction) -> None:
    result = expr.to_fraction(value)
    assert result == expected
    assert type(result) is Fraction


@pytest.mark.parametrize(
    ("value", "error", "match"),
    [
        (0.95, ExpressionTypeError, "binary floats are not allowed"),
        (True, ExpressionTypeError, "got boolean True"),
        (date(2024, 1, 1), ExpressionTypeError, "expected a number, got date"),
        (None, ExpressionTypeError, "expected a number, got null"),
        ("95 percent", ExpressionSyntaxError, "not an exact number"),
        ("1/0", ExpressionSyntaxError, "not an exact number"),
        ("1e3", ExpressionSyntaxError, "not an exact number"),
        ("٣", ExpressionSyntaxError, "not an exact number"),
    ],
)
def test_to_fraction_rejects(value: object, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        to_fraction(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "null"),
        (True, "true"),
        (False, "false"),
        (3, "3"),
        (Fraction(19, 20), "0.95"),
        (Fraction(-1, 8), "-0.125"),
        (Fraction(2, 3), "2/3 (≈0.666667)"),
        (Decimal("1.10"), "1.10"),  # money keeps its form (issue 12)
        ("verified", "'verified'"),
        (date(2024, 9, 30), "2024-09-30"),
        (datetime(2024, 9, 30, 15, 30, tzinfo=CST), "2024-09-30T15:30+08:00"),
        (datetime(2024, 9, 30, 15, 30, 5, tzinfo=CST), "2024-09-30T15:30:05+08:00"),
        (Opaque(2), "Opaque(2)"),
    ],
)
def test_format_value(value: object, expected: str) -> None:
    assert format_value(value) == expected


def test_format_value_as_percent() -> None:
    assert format_value(Fraction(19, 20), as_percent=True) == "95%"
    assert format_value(Fraction(1, 3), as_percent=True) == "1/3 (≈33.3333%)"
    assert format_value(None, as_percent=True) == "null"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Fraction(0), "0"),
        (Fraction(5), "5"),
        (Fraction(-5, 2), "-2.5"),
        (Fraction(1, 1024), "0.0009765625"),
        (Fraction(1, 3), None),
    ],
)
def test_decimal_text(value: Fraction, text: str | None) -> None:
    assert decimal_text(value) == text


@pytest.mark.parametrize("value", [Fraction(-1), Fraction(1, 3), 5])
def test_number_nodes_hold_non_negative_terminating_fractions(value: object) -> None:
    with pytest.raises(ValueError, match="non-negative terminating decimal"):
        Number(value=value)  # type: ignore[arg-type]


def test_unparse_of_hand_built_nodes() -> None:
    node = Compare(
        op="==",
        left=BoolOp(op="or", left=Boolean(value=True), right=Null()),
        right=UnaryOp(op="not", operand=String(value="x")),
    )
    assert unparse(node) == '(true or null) == (not "x")'
    assert str(Call(func="f", args=(Name(id="a"), Number(value=Fraction(1, 2))))) == "f(a, 0.5)"
    assert repr(Name(id="a")) == "Name(id='a')"
    with pytest.raises(ValueError, match="both quote characters"):
        unparse(String(value="'\""))


# --------------------------------------------------------------------- docs


def test_docs_examples_run() -> None:
    result = doctest.testfile(
        str(DOCS),
        module_relative=False,
        globs={},
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
        raise_on_error=False,
        verbose=False,
    )
    assert result.attempted > 0
    assert result.failed == 0
