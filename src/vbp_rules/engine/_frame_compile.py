"""Compile pack expressions (their AST) to narwhals expressions over encoded frames.

Values carry a kind so that every comparison is exact integer arithmetic:

- ``num``: an integer expression over a positive denominator (``value = expr / den``);
  the denominator is a constant (ints ``1``, money columns ``100`` for fen, decimal
  literals their own) or, after a division, an expression kept positive;
  numbers are compared by cross-multiplication, never as floats;
- ``instant``: Int64 epoch microseconds; ``day``: Int64 day numbers;
- ``bool`` (Kleene three-valued, like the expression language), ``str``, ``null``;
- ``duration``: a constant duration parameter (only as the argument of ``deadline``).

Working-day arithmetic needs the calendar's day table: a call registers a *lookup*
(a day expression to be joined with the day table) in the :class:`Scope`, and the
executor adds those columns before it evaluates the expression. A division whose
denominator may be zero registers its condition in ``Scope.not_applicable``; the
executor decides the rows where one holds with the shared per-subject semantics, so
they get exactly the reference engine's ``not_applicable`` skip.

Anything outside this subset raises :class:`Unsupported`, and the executor decides
that rule's subjects with the shared semantics, so a result is never approximate.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Final, Literal

import attrs
import narwhals as nw

from vbp_rules.calendar import CalendarDays, EndOfNextMonth, Hours, Months, WorkingDays
from vbp_rules.engine._frame_ingest import US_PER_DAY, day_number, epoch_us, field_types
from vbp_rules.expr import (
    BinaryOp,
    Boolean,
    BoolOp,
    Call,
    Compare,
    Name,
    Node,
    Null,
    Number,
    String,
    UnaryOp,
)

__all__ = [
    "TZ_OFFSET_US",
    "US_PER_DAY",
    "Lookup",
    "Scope",
    "Unsupported",
    "Val",
    "compile_node",
    "constant",
    "num_op",
    "raw_constant",
    "row_columns",
]

Kind = Literal["num", "instant", "day", "bool", "str", "null", "duration"]
Den = int | nw.Expr

#: Asia/Shanghai has had a fixed +08:00 offset since 1991.
TZ_OFFSET_US: Final = 8 * 3_600_000_000
US_PER_HOUR: Final = 3_600_000_000


class Unsupported(Exception):  # noqa: N818 - a signal: decide with the shared semantics
    """The expression (or rule) cannot be compiled for frames."""


@attrs.frozen
class Val:
    """A compiled value: its kind and expression (``const`` for a constant duration)."""

    kind: Kind
    expr: nw.Expr
    den: Den = 1
    const: object = None
    #: the Python type the reference engine computes for a number: ``int``, ``frac``
    #: (Fraction) or ``dec`` (Decimal with ``places`` decimal places, e.g. money)
    tag: str = "int"
    places: int = 0


@attrs.frozen
class Lookup:
    """A day-table column to join: ``column`` = ``field`` of the day ``day`` names."""

    column: str
    day: nw.Expr
    #: "cum" (working-day index), "working", "roll", "wday" (index -> day), month fields;
    #: or "derived": ``day`` is an expression computed once into ``column`` (SQL backends
    #: then refer to a column instead of repeating the expression)
    field: str


def _lit_num(v: int | Fraction) -> Val:
    fr = Fraction(v)
    tag = "int" if fr.denominator == 1 and not isinstance(v, Fraction) else "frac"
    return Val("num", nw.lit(fr.numerator, dtype=nw.Int64), fr.denominator, tag=tag)


def _lit_decimal(v: Decimal) -> Val:
    fr = Fraction(v)
    exponent = v.as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return Val(
        "num", nw.lit(fr.numerator, dtype=nw.Int64), fr.denominator, tag="dec", places=places
    )


def raw_constant(value: object) -> Val:
    """A parameter's value as recorded raw (a Decimal stays a Decimal)."""
    if isinstance(value, Decimal) and value.is_finite():
        return _lit_decimal(value)
    return constant(value)


def constant(value: object) -> Val:
    """A Python value from the environment as a compiled constant (as expressions read it)."""
    if value is None:
        return Val("null", nw.lit(None, dtype=nw.Boolean))
    if isinstance(value, bool):
        return Val("bool", nw.lit(value, dtype=nw.Boolean))
    if isinstance(value, int | Fraction):
        return _lit_num(value)
    if isinstance(value, Decimal) and value.is_finite():
        # the expression language reads a Decimal as the exact Fraction it is
        return attrs.evolve(_lit_num(Fraction(value)), tag="frac")
    if isinstance(value, datetime):
        if value.utcoffset() is None:
            raise Unsupported("naive datetime")
        return Val("instant", nw.lit(epoch_us(value), dtype=nw.Int64))
    if isinstance(value, date):
        return Val("day", nw.lit(day_number(value), dtype=nw.Int64))
    if isinstance(value, str):
        return Val("str", nw.lit(value, dtype=nw.String))
    if isinstance(value, Hours | WorkingDays | CalendarDays | Months | EndOfNextMonth):
        return Val("duration", nw.lit(None, dtype=nw.Boolean), const=value)
    raise Unsupported(f"value {value!r}")


def row_columns(kind: str) -> dict[str, Val]:
    """The compiled values of a fact kind's encoded columns."""
    out: dict[str, Val] = {}
    for name, t in field_types(kind).items():
        col = nw.col(name)
        if t == "int":
            out[name] = Val("num", col)
        elif t == "money":
            out[name] = Val("num", col, 100, tag="frac")
        elif t == "ratio":
            out[name] = Val("num", nw.col(f"{name}__n"), nw.col(f"{name}__d"), tag="frac")
        elif t in ("instant", "day", "bool", "str"):
            out[name] = Val(t, col)
    return out


@attrs.define
class Scope:
    """What names mean, and what compiling asked of the executor.

    ``columns`` first (a kind's fields, or a unit frame's keys and aggregates), then
    ``constants`` (``as_of``, parameter values); a name in ``shadowed`` varies by row
    but has no column (a per-batch parameter the executor did not join).
    """

    columns: Mapping[str, Val]
    constants: Mapping[str, object]
    shadowed: frozenset[str] = frozenset()
    lookups: list[Lookup] = attrs.field(factory=list)
    not_applicable: list[nw.Expr] = attrs.field(factory=list)
    #: day expressions whose years a result touched (for the provisional-calendar flag)
    touched: list[nw.Expr] = attrs.field(factory=list)
    #: deadline computations: (start day, last day) whose span decides "provisional"
    spans: list[tuple[nw.Expr, nw.Expr]] = attrs.field(factory=list)
    prefix: str = "__l"
    #: how many lookups the executor has joined already
    applied: int = 0

    @classmethod
    def of_kind(
        cls, kind: str, constants: Mapping[str, object], shadowed: frozenset[str] = frozenset()
    ) -> Scope:
        """A scope over one fact kind's rows."""
        return cls(columns=row_columns(kind), constants=constants, shadowed=shadowed)

    def column(self, name: str) -> Val:
        found = self.columns.get(name)
        if found is not None:
            return found
        if name in self.shadowed:
            raise Unsupported(f"per-batch parameter {name}")
        if name not in self.constants:
            raise Unsupported(f"unknown name {name}")
        return constant(self.constants[name])

    def materialize(self, expr: nw.Expr) -> nw.Expr:
        """Compute ``expr`` once, as a column, and return that column."""
        return self.lookup(expr, "derived")

    def lookup(self, day: nw.Expr, field: str) -> nw.Expr:
        """Register a day-table lookup and return its (future) column."""
        name = f"{self.prefix}{len(self.lookups)}"
        self.lookups.append(Lookup(column=name, day=day, field=field))
        return nw.col(name)


def _null_bool() -> Val:
    return Val("bool", nw.lit(None, dtype=nw.Boolean))


def _mul_den(a: Den, b: Den) -> Den:
    if isinstance(a, int) and isinstance(b, int):
        return a * b
    return _as_expr(a) * _as_expr(b)


def _as_expr(d: Den) -> nw.Expr:
    return nw.lit(d, dtype=nw.Int64) if isinstance(d, int) else d


def _scale(e: nw.Expr, d: Den) -> nw.Expr:
    if isinstance(d, int) and d == 1:
        return e
    return e * d


def cross(a: Val, b: Val) -> tuple[nw.Expr, nw.Expr]:
    """Both numbers over a common (positive) denominator: compare the two numerators."""
    return _scale(a.expr, b.den), _scale(b.expr, a.den)


def _compare(op: str, a: Val, b: Val) -> Val:
    if a.kind == "null" or b.kind == "null":
        return _null_bool()
    if a.kind != b.kind:
        raise Unsupported(f"comparing {a.kind} with {b.kind}")
    if a.kind in ("str", "bool") and op not in ("==", "!="):
        raise Unsupported(f"ordering {a.kind}")
    if a.kind == "duration":
        raise Unsupported("comparing durations")
    left, right = cross(a, b) if a.kind == "num" else (a.expr, b.expr)
    return Val("bool", compare_exprs(left, op, right))


def compare_exprs(left: nw.Expr, op: str, right: nw.Expr) -> nw.Expr:
    """``left OP right`` as an expression."""
    if op == "==":
        return left == right
    if op == "!=":
        return left != right
    if op == "<":
        return left < right
    if op == "<=":
        return left <= right
    if op == ">":
        return left > right
    if op == ">=":
        return left >= right
    raise Unsupported(f"operator {op}")  # pragma: no cover - closed operator set


def _logic_operand(v: Val) -> nw.Expr:
    if v.kind == "null":
        return nw.lit(None, dtype=nw.Boolean)
    if v.kind != "bool":
        raise Unsupported("logic on a non-boolean")
    return v.expr


def compile_node(node: Node, scope: Scope) -> Val:
    """Compile one AST node.

    Raises:
        Unsupported: a construct outside the compiled subset.
    """
    if isinstance(node, Number):
        lit = node.value
        return _lit_num(lit.numerator if lit.denominator == 1 else lit)
    if isinstance(node, String):
        return Val("str", nw.lit(node.value, dtype=nw.String))
    if isinstance(node, Boolean):
        return Val("bool", nw.lit(node.value, dtype=nw.Boolean))
    if isinstance(node, Null):
        return Val("null", nw.lit(None, dtype=nw.Boolean))
    if isinstance(node, Name):
        return scope.column(node.id)
    if isinstance(node, UnaryOp):
        v = compile_node(node.operand, scope)
        if node.op == "not":
            if v.kind == "null":
                return _null_bool()
            if v.kind != "bool":
                raise Unsupported("not on a non-boolean")
            return Val("bool", ~v.expr)
        if v.kind == "null":
            return v
        if v.kind != "num":
            raise Unsupported("negating a non-number")
        return attrs.evolve(v, expr=v.expr * -1)
    if isinstance(node, BinaryOp):
        return _arithmetic(node, scope)
    if isinstance(node, Compare):
        return _compare(node.op, compile_node(node.left, scope), compile_node(node.right, scope))
    if isinstance(node, BoolOp):
        left = _logic_operand(compile_node(node.left, scope))
        right = _logic_operand(compile_node(node.right, scope))
        return Val("bool", left & right if node.op == "and" else left | right)
    if isinstance(node, Call):
        return _call(node, scope)
    raise Unsupported(type(node).__name__)  # pragma: no cover - closed node set


def _arithmetic(node: BinaryOp, scope: Scope) -> Val:
    a, b = compile_node(node.left, scope), compile_node(node.right, scope)
    if "null" in (a.kind, b.kind) and {a.kind, b.kind} <= {"num", "null"}:
        return Val("num", nw.lit(None, dtype=nw.Int64))
    if a.kind != "num" or b.kind != "num":
        raise Unsupported(f"arithmetic on {a.kind} and {b.kind}")
    return num_op(node.op, a, b, scope)


def num_op(op: str, a: Val, b: Val, scope: Scope | None = None) -> Val:
    """``a OP b`` for two numbers (``+ - * /``), exact, with a positive denominator.

    A division registers its zero-denominator condition in ``scope`` (the reference
    engine's NotApplicable).
    """
    tag = "frac" if "frac" in (a.tag, b.tag) else "int"
    if op == "*":
        return Val("num", a.expr * b.expr, _mul_den(a.den, b.den), tag=tag)
    if op == "/":
        # a/b = (a.n * b.d) / (b.n * a.d); keep the denominator positive
        num = _scale(a.expr, b.den)
        den: nw.Expr = _scale(b.expr, a.den)
        if scope is not None:
            scope.not_applicable.append((b.expr == 0) & ~a.expr.is_null())
        one = nw.lit(1, dtype=nw.Int64)
        sign = nw.when(den < 0).then(one * -1).otherwise(one)
        safe = nw.when(den == 0).then(one).otherwise(den * sign)
        if scope is None:
            return Val("num", num * sign, safe, tag="frac")
        return Val("num", scope.materialize(num * sign), scope.materialize(safe), tag="frac")
    left, right = cross(a, b)
    return Val("num", left + right if op == "+" else left - right, _mul_den(a.den, b.den), tag=tag)


def _int_arg(v: Val, what: str) -> nw.Expr:
    if v.kind != "num" or not (isinstance(v.den, int) and v.den == 1):
        raise Unsupported(f"{what} needs a whole number")
    return v.expr


def _day_of(v: Val, what: str) -> nw.Expr:
    if v.kind != "day":
        raise Unsupported(f"{what} of a {v.kind}")
    return v.expr


def _local_day(v: Val) -> nw.Expr:
    if v.kind == "day":
        return v.expr
    if v.kind == "instant":
        return (v.expr + TZ_OFFSET_US) // US_PER_DAY
    raise Unsupported(f"local_date of a {v.kind}")


def add_months_expr(scope: Scope, day: nw.Expr, n: nw.Expr) -> nw.Expr:
    """The same day ``n`` months on (that month's last day if it has no such day)."""
    target = scope.lookup(day, "mi") + n
    dom = scope.lookup(day, "dom")
    first = scope.lookup(target, "mfirst")
    length = scope.lookup(target, "mlen")
    return first + nw.when(dom > length).then(length).otherwise(dom) - 1


def month_end_expr(scope: Scope, day: nw.Expr, months_on: int = 0) -> nw.Expr:
    """The last day of the month ``months_on`` months after ``day``'s month."""
    target = scope.lookup(day, "mi") + months_on
    return scope.lookup(target, "mfirst") + scope.lookup(target, "mlen") - 1


def year_of_day(scope: Scope, day: nw.Expr) -> nw.Expr:
    """The calendar year of a day number."""
    return scope.lookup(day, "year")


def add_working_days_expr(scope: Scope, day: nw.Expr, n: int) -> nw.Expr:
    """``WorkCalendar.add_working_days(day, n)`` for a constant ``n``, via the day table."""
    cum = scope.lookup(day, "cum")
    if n >= 1:
        target = cum + n
    else:
        working = scope.lookup(day, "working")
        target = cum - working + 1 + n
    out = scope.lookup(target, "wday")
    scope.touched.extend([day, out])
    return out


def roll_expr(scope: Scope, day: nw.Expr) -> nw.Expr:
    """The day itself if it is a working day, else the next working day."""
    return scope.lookup(day, "roll")


def deadline_expr(scope: Scope, start: Val, period: object) -> Val:
    """``CalendarContext.deadline(start, period)``: the due instant (民法典 201/203)."""
    if start.kind == "day":
        instant = start.expr * US_PER_DAY - TZ_OFFSET_US
    elif start.kind == "instant":
        instant = start.expr
    else:
        raise Unsupported(f"deadline from a {start.kind}")
    start_day = _local_day(Val("instant", instant))
    if isinstance(period, Hours):
        due = instant + period.n * US_PER_HOUR
        scope.touched.extend([start_day, (due + TZ_OFFSET_US) // US_PER_DAY])
        return Val("instant", due)
    if isinstance(period, WorkingDays):
        last = add_working_days_expr(scope, start_day, period.n)
    elif isinstance(period, CalendarDays):
        last = roll_expr(scope, start_day + period.n)
    elif isinstance(period, Months):
        last = roll_expr(scope, add_months_expr(scope, start_day, nw.lit(period.n, dtype=nw.Int64)))
    elif isinstance(period, EndOfNextMonth):
        last = month_end_expr(scope, start_day, 1)
        due = (last + 1) * US_PER_DAY - TZ_OFFSET_US
        scope.touched.extend([start_day, last + 1])
        return Val("instant", due)
    else:
        raise Unsupported(f"deadline period {period!r}")
    scope.spans.append((start_day, last))
    scope.touched.extend([start_day, last + 1])
    return Val("instant", (last + 1) * US_PER_DAY - TZ_OFFSET_US)


def _call(node: Call, scope: Scope) -> Val:
    name = node.func
    if name == "if" and len(node.args) == 3:
        cond = _logic_operand(compile_node(node.args[0], scope))
        a, b = compile_node(node.args[1], scope), compile_node(node.args[2], scope)
        return _choose(cond, a, b)
    args = [compile_node(a, scope) for a in node.args]
    if name in ("is_set", "is_null") and len(args) == 1:
        (v,) = args
        if v.kind == "null":
            return Val("bool", nw.lit(name == "is_null", dtype=nw.Boolean))
        if v.kind == "duration":
            return Val("bool", nw.lit(name == "is_set", dtype=nw.Boolean))
        return Val("bool", ~v.expr.is_null() if name == "is_set" else v.expr.is_null())
    if name == "coalesce" and args:
        return _coalesce(args)
    if name in ("min", "max") and args:
        return _extreme(name, args)
    if name == "abs" and len(args) == 1:
        (v,) = args
        if v.kind == "null":
            return Val("num", nw.lit(None, dtype=nw.Int64))
        if v.kind != "num":
            raise Unsupported("abs of a non-number")
        return attrs.evolve(v, expr=v.expr.abs())
    if name in ("start_of_day", "end_of_day") and len(args) == 1:
        (v,) = args
        if v.kind == "null":
            return Val("instant", nw.lit(None, dtype=nw.Int64))
        shift = 1 if name == "end_of_day" else 0
        return Val("instant", (_day_of(v, name) + shift) * US_PER_DAY - TZ_OFFSET_US)
    if name == "local_date" and len(args) == 1:
        return Val("day", _local_day(args[0]))
    if name == "year_of" and len(args) == 1:
        return Val("num", year_of_day(scope, _local_day(args[0])))
    if name == "add_days" and len(args) == 2:
        d, n = args
        return Val("day", _day_of(d, name) + _int_arg(n, name))
    if name == "calendar_days_between" and len(args) == 2:
        a, b = args
        return Val("num", _day_of(b, name) - _day_of(a, name))
    if name == "add_months" and len(args) == 2:
        d, n = args
        return Val("day", add_months_expr(scope, _day_of(d, name), _int_arg(n, name)))
    if name == "month_end" and len(args) == 1:
        return Val("day", month_end_expr(scope, _day_of(args[0], name)))
    if name == "next_month_end" and len(args) == 1:
        return Val("day", month_end_expr(scope, _local_day(args[0]), 1))
    if name == "working_days_between" and len(args) == 2:
        day_a, day_b = _day_of(args[0], name), _day_of(args[1], name)
        scope.touched.extend([day_a, day_b])
        return Val("num", scope.lookup(day_b, "cum") - scope.lookup(day_a, "cum"))
    if name == "add_working_days" and len(args) == 2:
        d, n = args
        if n.kind != "num" or n.den != 1:
            raise Unsupported("add_working_days needs a whole number")
        count = _constant_int(node.args[1], scope)
        return Val("day", add_working_days_expr(scope, _day_of(d, name), count))
    if name == "deadline" and len(args) == 2:
        start, period = args
        if period.kind != "duration":
            raise Unsupported("deadline arguments")
        return deadline_expr(scope, start, period.const)
    raise Unsupported(f"function {name}")


def _constant_int(node: Node, scope: Scope) -> int:
    if isinstance(node, Number) and Fraction(node.value).denominator == 1:
        return int(node.value)
    if isinstance(node, Name) and node.id not in scope.columns:
        value = scope.constants.get(node.id)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        n = getattr(value, "n", None)
        if isinstance(n, int):
            return n
    raise Unsupported("a working-day count that varies by row")


def _same_number_type(vals: list[Val], what: str) -> tuple[str, int]:
    """The type a choice among numbers has: a Fraction if any may be one (equal values)."""
    tags = {v.tag for v in vals if v.kind == "num"}
    if "dec" in tags:
        raise Unsupported(f"{what} of raw decimals")
    return ("frac" if "frac" in tags else "int"), 0


def _choose(cond: nw.Expr, a: Val, b: Val) -> Val:
    kinds = {a.kind, b.kind} - {"null"}
    if len(kinds) > 1 or "duration" in kinds:
        raise Unsupported("if() with branches of different kinds")
    kind = next(iter(kinds), "null")
    if kind == "num":
        tag, places = _same_number_type([a, b], "if()")
        null = nw.lit(None, dtype=nw.Int64)
        if a.kind == "null":
            left, right, den = null, b.expr, b.den
        elif b.kind == "null":
            left, right, den = a.expr, null, a.den
        else:
            left, right = cross(a, b)
            den = _mul_den(a.den, b.den)
        expr = nw.when(cond.fill_null(value=False)).then(left).otherwise(right)
        return Val(
            "num",
            nw.when(cond.is_null()).then(None).otherwise(expr),
            den,
            tag=tag,
            places=places,
        )
    expr = nw.when(cond.fill_null(value=False)).then(a.expr).otherwise(b.expr)
    return Val(kind, nw.when(cond.is_null()).then(None).otherwise(expr))  # type: ignore[arg-type]


def _pick(cond: nw.Expr, a: Val, b: Val) -> Val:
    """Per row: ``a`` where ``cond`` holds, else ``b`` (numbers keep their own denominator)."""
    expr = nw.when(cond).then(a.expr).otherwise(b.expr)
    if a.kind != "num":
        return Val(a.kind, expr)
    tag = "frac" if "frac" in (a.tag, b.tag) else "int"
    if isinstance(a.den, int) and isinstance(b.den, int) and a.den == b.den:
        return Val("num", expr, a.den, tag=tag)
    den = nw.when(cond).then(_as_expr(a.den)).otherwise(_as_expr(b.den))
    return Val("num", expr, den, tag=tag)


def _coalesce(args: list[Val]) -> Val:
    kinds = {v.kind for v in args} - {"null"}
    if not kinds:
        return Val("null", nw.lit(None, dtype=nw.Boolean))
    if len(kinds) > 1 or "duration" in kinds:
        raise Unsupported("coalesce() of different kinds")
    present = [v for v in args if v.kind != "null"]
    out = present[-1]
    for v in reversed(present[:-1]):
        out = _pick(~v.expr.is_null(), v, out)
    return out


def _extreme(name: str, args: list[Val]) -> Val:
    if any(v.kind == "null" for v in args):
        # min()/max() are null if any argument is null
        kinds = {v.kind for v in args} - {"null"}
        return Val(next(iter(kinds), "null"), nw.lit(None, dtype=nw.Int64))
    kinds = {v.kind for v in args}
    if len(kinds) != 1 or kinds & {"bool", "str", "duration"}:
        raise Unsupported(f"{name}() of {sorted(kinds)}")
    out = args[0]
    any_null = args[0].expr.is_null()
    for v in args[1:]:
        any_null = any_null | v.expr.is_null()
        if v.kind == "num":
            left, right = cross(v, out)
        else:
            left, right = v.expr, out.expr
        better = (left < right) if name == "min" else (left > right)
        out = _pick(better.fill_null(value=False), v, out)
    null = nw.lit(None, dtype=nw.Int64)
    return attrs.evolve(out, expr=nw.when(any_null).then(null).otherwise(out.expr))
