"""Compile pack expressions (their AST) to narwhals expressions over encoded fact frames.

Values carry a kind so that every comparison is exact integer arithmetic:

- ``num``: an integer expression and a constant positive denominator (``value = e / den``);
  ints have ``den == 1``, money columns ``den == 100`` (fen), decimal literals their own;
  numbers are compared by cross-multiplication, never as floats;
- ``instant``: Int64 epoch microseconds; ``day``: Int64 day numbers;
- ``bool`` (Kleene three-valued, like the expression language), ``str``, ``null``;
- ``duration``: a constant duration parameter (only as the argument of ``deadline``).

Anything outside this subset raises :class:`Unsupported`, and the caller falls back to
the reference engine for that rule, so a result is never approximate.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Final, Literal

import attrs
import narwhals as nw

from vbp_rules.calendar import Hours
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

__all__ = ["Scope", "Unsupported", "Val", "compile_node"]

Kind = Literal["num", "instant", "day", "bool", "str", "null", "duration"]

#: Asia/Shanghai has had a fixed +08:00 offset since 1991.
TZ_OFFSET_US: Final = 8 * 3_600_000_000


class Unsupported(Exception):  # noqa: N818 - a signal: fall back to the reference engine
    """The expression (or rule) cannot be compiled for frames."""


@attrs.frozen
class Val:
    """A compiled value: its kind and expression (``None`` for a constant duration)."""

    kind: Kind
    expr: nw.Expr
    den: int = 1
    const: object = None


def _lit_num(v: int | Fraction) -> Val:
    fr = Fraction(v)
    return Val("num", nw.lit(fr.numerator, dtype=nw.Int64), fr.denominator)


def constant(value: object) -> Val:
    """A Python value from the environment as a compiled constant."""
    if value is None:
        return Val("null", nw.lit(None, dtype=nw.Boolean))
    if isinstance(value, bool):
        return Val("bool", nw.lit(value, dtype=nw.Boolean))
    if isinstance(value, int | Fraction):
        return _lit_num(value)
    if isinstance(value, Decimal) and value.is_finite():
        return _lit_num(Fraction(value))
    if isinstance(value, datetime):
        if value.utcoffset() is None:
            raise Unsupported("naive datetime")
        return Val("instant", nw.lit(epoch_us(value), dtype=nw.Int64))
    if isinstance(value, date):
        return Val("day", nw.lit(day_number(value), dtype=nw.Int64))
    if isinstance(value, str):
        return Val("str", nw.lit(value, dtype=nw.String))
    if isinstance(value, Hours):
        return Val("duration", nw.lit(None, dtype=nw.Boolean), const=value)
    raise Unsupported(f"value {value!r}")


@attrs.frozen
class Scope:
    """What names mean: a kind's columns first, then constants (``as_of``, parameters)."""

    kind: str
    constants: Mapping[str, object]
    shadowed: frozenset[str] = frozenset()  # per-batch parameters: vary by row

    def column(self, name: str) -> Val:
        t = field_types(self.kind).get(name)
        if t is None:
            if name in self.shadowed:
                raise Unsupported(f"per-batch parameter {name}")
            if name not in self.constants:
                raise Unsupported(f"unknown name {name}")
            return constant(self.constants[name])
        col = nw.col(name)
        if t == "int":
            return Val("num", col)
        if t == "money":
            return Val("num", col, 100)
        if t in ("instant", "day", "bool", "str"):
            return Val(t, col)
        raise Unsupported(f"field {name} of type {t}")


def _common(a: Val, b: Val) -> tuple[nw.Expr, nw.Expr, int]:
    return a.expr * b.den, b.expr * a.den, a.den * b.den


def _null_bool() -> Val:
    return Val("bool", nw.lit(None, dtype=nw.Boolean))


def _compare(op: str, a: Val, b: Val) -> Val:
    if a.kind == "null" or b.kind == "null":
        return _null_bool()
    if a.kind != b.kind:
        raise Unsupported(f"comparing {a.kind} with {b.kind}")
    if a.kind in ("str", "bool") and op not in ("==", "!="):
        raise Unsupported(f"ordering {a.kind}")
    if a.kind == "duration":
        raise Unsupported("comparing durations")
    if a.kind == "num":
        left, right = a.expr * b.den, b.expr * a.den
    else:
        left, right = a.expr, b.expr
    out = {
        "==": left == right,
        "!=": left != right,
        "<": left < right,
        "<=": left <= right,
        ">": left > right,
        ">=": left >= right,
    }[op]
    return Val("bool", out)


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
        return _lit_num(node.value)
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
        return Val("num", -v.expr, v.den)
    if isinstance(node, BinaryOp):
        a, b = compile_node(node.left, scope), compile_node(node.right, scope)
        if node.op == "/":
            raise Unsupported("division in a row expression")
        if "null" in (a.kind, b.kind) and {a.kind, b.kind} <= {"num", "null"}:
            return Val("num", nw.lit(None, dtype=nw.Int64))
        if a.kind != "num" or b.kind != "num":
            raise Unsupported(f"arithmetic on {a.kind} and {b.kind}")
        if node.op == "*":
            return Val("num", a.expr * b.expr, a.den * b.den)
        left, right, den = _common(a, b)
        return Val("num", left + right if node.op == "+" else left - right, den)
    if isinstance(node, Compare):
        return _compare(node.op, compile_node(node.left, scope), compile_node(node.right, scope))
    if isinstance(node, BoolOp):
        left = _logic_operand(compile_node(node.left, scope))
        right = _logic_operand(compile_node(node.right, scope))
        return Val("bool", left & right if node.op == "and" else left | right)
    if isinstance(node, Call):
        return _call(node, scope)
    raise Unsupported(type(node).__name__)  # pragma: no cover - closed node set


def _call(node: Call, scope: Scope) -> Val:
    args = [compile_node(a, scope) for a in node.args]
    name = node.func
    if name in ("is_set", "is_null") and len(args) == 1:
        (v,) = args
        if v.kind == "null":
            return Val("bool", nw.lit(name == "is_null", dtype=nw.Boolean))
        if v.kind == "duration":
            return Val("bool", nw.lit(name == "is_set", dtype=nw.Boolean))
        return Val("bool", ~v.expr.is_null() if name == "is_set" else v.expr.is_null())
    if name in ("start_of_day", "end_of_day") and len(args) == 1:
        (v,) = args
        if v.kind == "null":
            return Val("instant", nw.lit(None, dtype=nw.Int64))
        if v.kind != "day":
            raise Unsupported(f"{name} of a {v.kind}")
        shift = 1 if name == "end_of_day" else 0
        return Val("instant", (v.expr + shift) * US_PER_DAY - TZ_OFFSET_US)
    if name == "local_date" and len(args) == 1:
        (v,) = args
        if v.kind == "day":
            return v
        if v.kind != "instant":
            raise Unsupported(f"local_date of a {v.kind}")
        return Val("day", (v.expr + TZ_OFFSET_US) // US_PER_DAY)
    if name == "add_days" and len(args) == 2:
        d, n = args
        if d.kind != "day" or n.kind != "num" or n.den != 1:
            raise Unsupported("add_days arguments")
        return Val("day", d.expr + n.expr)
    if name == "deadline" and len(args) == 2:
        start, period = args
        if start.kind != "instant" or period.kind != "duration":
            raise Unsupported("deadline arguments")
        assert isinstance(period.const, Hours)  # noqa: S101 - constant() only admits Hours
        return Val("instant", start.expr + period.const.n * 3_600_000_000)
    raise Unsupported(f"function {name}")
