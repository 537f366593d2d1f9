"""Column encodings of the fact kinds: every fact kind as integer-typed columns.

Every fact kind becomes one table with an ``__row`` column (the input order) and its
fields in exact integer encodings, so every backend computes the same integers:

- instants: Int64 epoch microseconds (UTC);
- dates: Int64 day numbers (days since 1970-01-01);
- quantities and years: Int64;
- money: Int64 fen;
- ratios: two Int64 columns, ``<field>__n`` and ``<field>__d`` (denominator > 0);
- flags: Boolean; ids, text and choices: String.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from decimal import Decimal
from fractions import Fraction
from types import NoneType, UnionType
from typing import Any, Final, Literal

import attrs

from vbp_rules.facts._types import SHANGHAI
from vbp_rules.facts.models import FACT_KINDS, FactModel

__all__ = [
    "EPOCH_DAY",
    "ROW",
    "US_PER_DAY",
    "Column",
    "FieldType",
    "day_number",
    "epoch_us",
    "fen",
    "field_types",
    "from_day",
    "from_fen",
    "from_us",
    "normalized_columns",
    "python_columns",
    "to_python",
]

FieldType = Literal["instant", "day", "int", "money", "ratio", "bool", "str"]

EPOCH_DAY: Final = date(1970, 1, 1).toordinal()
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
US_PER_DAY: Final = 86_400_000_000
ROW: Final = "__row"
_CENT: Final = Decimal("0.01")


def _base(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _base(typing.get_args(annotation)[0])
    if origin in (typing.Union, UnionType):
        args = [a for a in typing.get_args(annotation) if a is not NoneType]
        return _base(args[0]) if len(args) == 1 else str
    return annotation


def _classify(annotation: Any) -> FieldType:
    base = _base(annotation)
    if typing.get_origin(base) is Literal:
        return "str"
    if base is datetime:
        return "instant"
    if base is date:
        return "day"
    if base is bool:
        return "bool"
    if base is int:
        return "int"
    if base is Decimal:
        return "money"
    if base is Fraction:
        return "ratio"
    return "str"


_TYPES: dict[str, dict[str, FieldType]] = {}


def field_types(kind: str) -> dict[str, FieldType]:
    """Field name -> encoding of one fact kind, in model order (``id`` first)."""
    cached = _TYPES.get(kind)
    if cached is None:
        model = FACT_KINDS[kind]
        cached = {name: _classify(f.annotation) for name, f in model.model_fields.items()}
        _TYPES[kind] = cached
    return cached


def epoch_us(v: datetime) -> int:
    """Integer epoch microseconds of an aware instant."""
    delta = v - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_us(us: int) -> datetime:
    """The Asia/Shanghai instant of epoch microseconds (as the fact models hold them)."""
    from datetime import timedelta  # noqa: PLC0415 - tiny, keeps the header short

    return (_EPOCH + timedelta(microseconds=us)).astimezone(SHANGHAI)


def day_number(d: date) -> int:
    """Days since 1970-01-01."""
    return d.toordinal() - EPOCH_DAY


def from_day(n: int) -> date:
    """The date of a day number."""
    return date.fromordinal(n + EPOCH_DAY)


def fen(v: Decimal) -> int:
    """Integer fen of an amount in yuan (exact: amounts have at most 2 decimal places)."""
    return int(v * 100)


def from_fen(n: int) -> Decimal:
    """The amount in yuan, with exactly 2 decimal places, of an integer number of fen."""
    return (Decimal(n) / 100).quantize(_CENT)


@attrs.frozen
class Column:
    """One encoded column: its name and Polars-compatible dtype name."""

    name: str
    dtype: str  # "Int64" | "Boolean" | "String"


def normalized_columns(kind: str) -> list[Column]:
    """The encoded columns of a kind, ``__row`` first."""
    cols = [Column(ROW, "Int64")]
    for name, t in field_types(kind).items():
        if t == "ratio":
            cols += [Column(f"{name}__n", "Int64"), Column(f"{name}__d", "Int64")]
        elif t == "bool":
            cols.append(Column(name, "Boolean"))
        elif t == "str":
            cols.append(Column(name, "String"))
        else:
            cols.append(Column(name, "Int64"))
    return cols


def python_columns(rows: Iterable[FactModel], kind: str) -> dict[str, list[Any]]:
    """Encode validated facts column by column (plain Python lists)."""
    types = field_types(kind)
    out: dict[str, list[Any]] = {c.name: [] for c in normalized_columns(kind)}
    dicts = [row.__dict__ for row in rows]
    out[ROW] = list(range(len(dicts)))
    encoders: dict[str, Callable[[Any], Any]] = {
        "instant": epoch_us,
        "day": day_number,
        "money": fen,
    }
    for name, t in types.items():
        values = [d.get(name) for d in dicts]
        if t == "ratio":
            fractions = [None if v is None else Fraction(v) for v in values]
            out[f"{name}__n"] = [None if f is None else f.numerator for f in fractions]
            out[f"{name}__d"] = [None if f is None else f.denominator for f in fractions]
            continue
        encode = encoders.get(t)
        if encode is not None:
            values = [None if v is None else encode(v) for v in values]
        out[name] = values
    return out


def to_python(kind: str, name: str, value: object) -> object:
    """Decode one encoded field value back to the value the fact model holds."""
    if value is None:
        return None
    t = field_types(kind).get(name, "str")
    if t == "instant":
        return from_us(int(value))  # type: ignore[call-overload]
    if t == "day":
        return from_day(int(value))  # type: ignore[call-overload]
    if t == "money":
        return from_fen(int(value))  # type: ignore[call-overload]
    return value
