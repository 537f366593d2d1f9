"""Synthetic fact rows for a rule: valid base rows and the variants a rule can tell apart.

A rule reads a few fields of one fact kind. The rows built here fill every other field
with a plain valid default, and give the fields the rule reads a small set of options
(null, early, late, far after ``as_of``; false/true; 0, 1 and target-derived numbers),
so that a search over the variants can hit a metric value exactly.
"""

from __future__ import annotations

import itertools
import types
import typing
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import attrs

from vbp_rules.calendar import WorkCalendar, month_end
from vbp_rules.facts import FACT_KINDS, SHANGHAI, FactSet
from vbp_rules.packs.pack import Pack

__all__ = ["Anchor", "FieldKind", "base_row", "field_kind", "field_options", "row_is_valid"]

#: The coarse type of a fact field, as far as synthesis cares.
FieldKind = typing.Literal[
    "id", "text", "int", "money", "ratio", "flag", "date", "instant", "choice", "other"
]

_MAX_VARIANTS = 4096


@attrs.frozen(kw_only=True, slots=True)
class Anchor:
    """The day synthetic facts are placed on, and the instant they are evaluated at."""

    day: date
    as_of: datetime

    @property
    def instant(self) -> datetime:
        """10:00 on the anchor day, Asia/Shanghai."""
        return datetime.combine(self.day, time(10), tzinfo=SHANGHAI)

    @classmethod
    def for_pack(cls, pack: Pack, calendar: WorkCalendar | None = None) -> Anchor:
        """A working day in the middle of a month, inside the pack's in-force window.

        ``as_of`` is 24:00 of the last day of the anchor's quarter plus 120 days, so that
        periods and cycles that end at the anchor's month are closed and deadlines due.
        """
        cal = calendar or WorkCalendar.china()
        window = pack.model.in_force
        start = window.start if window is not None else pack.model.issued_on
        month = start.month % 12 + 1
        year = start.year + (1 if start.month == 12 else 0)
        day = date(year, month, 15)
        lo, hi = cal.supported_range
        if day > hi - timedelta(days=400):
            day = date(hi.year - 2, 7, 15)
        day = max(day, lo + timedelta(days=400))
        while not cal.is_working_day(day):
            day += timedelta(days=1)
        quarter_end_month = (day.month - 1) // 3 * 3 + 3
        q_end = month_end(date(day.year, quarter_end_month, 1))
        as_of = datetime.combine(q_end + timedelta(days=121), time(0), tzinfo=SHANGHAI)
        return cls(day=day, as_of=as_of)


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """The base type of a field annotation and whether it may be null."""
    optional = False
    t = annotation
    origin = typing.get_origin(t)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(t) if a is not type(None)]
        optional = len(args) < len(typing.get_args(t))
        t = args[0] if len(args) == 1 else t
    while typing.get_origin(t) is typing.Annotated:
        t = typing.get_args(t)[0]
    return t, optional


def field_kind(kind: str, name: str) -> tuple[FieldKind, bool, tuple[object, ...]]:
    """(coarse type, nullable, literal choices) of a field of a fact kind."""
    info = FACT_KINDS[kind].model_fields[name]
    t, optional = _unwrap(info.annotation)
    optional = optional or not info.is_required()
    if typing.get_origin(t) is typing.Literal:
        return "choice", optional, typing.get_args(t)
    if name == "id" or name.endswith("_id"):
        return "id", optional, ()
    table: dict[Any, FieldKind] = {
        str: "text",
        bool: "flag",
        int: "int",
        Decimal: "money",
        Fraction: "ratio",
        datetime: "instant",
        date: "date",
    }
    return table.get(t, "other"), optional, ()


def base_row(kind: str, anchor: Anchor, *, index: int = 1) -> dict[str, object]:
    """A valid row of ``kind``: required fields filled, optional ones left out.

    Ids name one subject (``enterprise-1``); dates sit on the anchor day; a period is the
    anchor's month; a cycle runs from a year before the anchor to the end of its month.
    """
    model = FACT_KINDS[kind]
    row: dict[str, object] = {"id": f"{kind}-{index}"}
    for name, info in model.model_fields.items():
        if name == "id" or not info.is_required():
            continue
        row[name] = default_value(kind, name, anchor)
    return row


def default_value(kind: str, name: str, anchor: Anchor) -> object:
    """A plain valid value for one field."""
    fk, _, choices = field_kind(kind, name)
    if name == "period_start":
        return anchor.day.replace(day=1)
    if name == "period_end":
        return month_end(anchor.day)
    if name == "cycle_start":
        return date(anchor.day.year - 1, anchor.day.month, 1)
    if name == "cycle_end":
        return month_end(anchor.day) - timedelta(days=month_end(anchor.day).day)
    if name == "year":
        return anchor.day.year
    value: dict[FieldKind, object] = {
        "id": f"{name.removesuffix('_id').replace('_', '-')}-1",
        "text": f"{name.replace('_', '-')}-1",
        "int": 10,
        "money": Decimal("10.00"),
        "ratio": Fraction(1, 2),
        "flag": False,
        "date": anchor.day,
        "instant": anchor.instant,
        "choice": choices[0] if choices else None,
        "other": None,
    }
    return value[fk]


def field_options(
    kind: str, name: str, anchor: Anchor, numbers: Sequence[int] = (0, 1)
) -> list[object]:
    """The values a variant search tries for a field the rule reads."""
    fk, optional, choices = field_kind(kind, name)
    out: list[object]
    if fk == "instant":
        t = anchor.instant
        out = [t, t + timedelta(days=1), t + timedelta(days=3), anchor.as_of + timedelta(days=5)]
    elif fk == "date":
        d = anchor.day
        out = [default_value(kind, name, anchor), d - timedelta(days=40), d + timedelta(days=40)]
    elif fk == "flag":
        out = [False, True]
    elif fk == "choice":
        out = list(choices)
    elif fk == "int":
        out = list(dict.fromkeys(int(n) for n in numbers if n >= 0))
    elif fk == "money":
        out = [Decimal(n) / 100 for n in dict.fromkeys(numbers) if n >= 0]
    else:
        out = [default_value(kind, name, anchor)]
    if optional:
        out = [None, *out]
    return list(dict.fromkeys(out))


def variants(
    kind: str,
    anchor: Anchor,
    free: Mapping[str, Sequence[object]],
    fixed: Mapping[str, object] | None = None,
) -> Iterator[dict[str, object]]:
    """Rows of ``kind``: the base row with every combination of the free fields' options.

    At most a few thousand combinations are produced (the first options win).
    """
    base = base_row(kind, anchor)
    base.update(fixed or {})
    names = list(free)
    for n, combo in enumerate(itertools.product(*(free[k] for k in names))):
        if n >= _MAX_VARIANTS:
            return
        row = dict(base)
        row.update(zip(names, combo, strict=True))
        yield row


def row_is_valid(kind: str, row: Mapping[str, object]) -> bool:
    """True when the row passes its fact model (relations included)."""
    clean = {k: v for k, v in row.items() if v is not None}
    fs = FactSet.from_records({kind: [clean]})
    return not fs.rejects


def jsonable_row(row: Mapping[str, object]) -> dict[str, object]:
    """A row as YAML/JSON-friendly values (instants and dates as ISO text)."""
    out: dict[str, object] = {}
    for k, v in row.items():
        if v is None:
            continue
        if isinstance(v, datetime | date):
            out[k] = v.isoformat()
        elif isinstance(v, Decimal | Fraction):
            out[k] = str(v)
        else:
            out[k] = v
    return out


def rows_named(
    rows: Iterable[Mapping[str, object]], kind: str, prefix: str
) -> list[dict[str, object]]:
    """Copies of rows with fresh ids ``<prefix><kind>-<n>``."""
    return [{**r, "id": f"{prefix}{kind}-{i + 1}"} for i, r in enumerate(rows)]
