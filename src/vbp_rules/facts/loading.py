"""Loading facts: files, directories and Python records into a :class:`FactSet`.

Every input row ends up either accepted (a validated fact model) or rejected (a
:class:`RejectedInput` naming the file, row, line, field and reason); nothing is dropped
silently, and a bad row never stops the rest of the file. Only problems that make a
whole source unreadable raise :class:`~vbp_rules.errors.FactsError`.

>>> facts = FactSet.from_records({
...     "orders": [
...         {"id": "o-1", "institution_id": "h-1", "enterprise_id": "e-1",
...          "product_id": "p-1", "sent_at": "2024-03-01T09:00+08:00",
...          "ordered_quantity": 10, "delivered_quantity": 10},
...         {"id": "o-2", "institution_id": "h-1", "enterprise_id": "e-1",
...          "product_id": "p-1", "sent_at": "2024-03-01 09:00", "ordered_quantity": 5},
...     ]
... })
>>> len(facts.orders), facts.total_rows()
(1, 2)
>>> reject = facts.rejects[0]
>>> reject.row, reject.field, reject.row_id
(2, 'sent_at', 'o-2')
>>> reject.reason
"naive timestamp '2024-03-01 09:00' has no time zone; add +08:00 or pass assume_tz"
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from datetime import tzinfo
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs
from pydantic import ValidationError

from vbp_rules.errors import FactsError
from vbp_rules.facts._frames import frame_rows, is_frame
from vbp_rules.facts._readers import (
    SUFFIXES,
    RawRow,
    check_kind,
    did_you_mean,
    files_in,
    read_file,
)
from vbp_rules.facts._types import CONTEXT_ASSUME_TZ
from vbp_rules.facts.models import (
    FACT_KINDS,
    Agreement,
    Batch,
    Complaint,
    DemandReport,
    Enterprise,
    EnterprisePeriodStat,
    ExemptionEvent,
    FactModel,
    Institution,
    Listing,
    Order,
    Prepayment,
    ProcurementGroup,
    PurchaseSummary,
    Settlement,
)

__all__ = ["FactSet", "RejectedInput", "SkippedSource", "load_facts"]

PYTHON_SOURCE: Final = "python"

_log = logging.getLogger(__name__)


@attrs.frozen(kw_only=True)
class RejectedInput:
    """An input row that did not become a fact, and why.

    Attributes:
        source: the file name as given (``"data/orders.csv"``), or ``"python"``.
        kind: the fact kind the row was read as, if known.
        row: 1-based position of the row among its kind's rows in its source: the data
            row number in CSV (header and blank lines not counted) and Parquet, the
            position in the list in JSON, JSON Lines and YAML.
        line: the line in the file where known (CSV: the record's first line; JSON and
            JSON Lines: the row's first line; YAML: the offending field's line, else the
            row's).
        row_id: the row's ``id`` as given, if any.
        field: the offending field, if one is to blame.
        reason: what is wrong, in words.
        raw: the row as read (not compared in ``==``).
    """

    source: str
    kind: str | None = None
    row: int | None = None
    line: int | None = None
    row_id: str | None = None
    field: str | None = None
    reason: str
    raw: Mapping[str, object] | None = attrs.field(default=None, eq=False, repr=False)

    def __str__(self) -> str:
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        parts = []
        if self.kind is not None and Path(self.source).name.split(".", 1)[0] != self.kind:
            parts.append(self.kind)
        if self.row is not None:
            parts.append(f"row {self.row}")
        if parts:
            where += f" ({' '.join(parts)})"
        if self.field is not None:
            where += f" field {self.field!r}"
        return f"{where}: {self.reason}"


@attrs.frozen(kw_only=True)
class SkippedSource:
    """An entry of a facts folder that was not read, and why.

    >>> SkippedSource(source="data/orders.tsv", reason="unsupported file type '.tsv'")
    SkippedSource(source='data/orders.tsv', reason="unsupported file type '.tsv'")

    Attributes:
        source: the entry's path as it was reached (``"data/orders.tsv"``).
        reason: why it was skipped, in words.
    """

    source: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}: {self.reason}"


def _skipped_in(directory: Path, read: Iterable[Path]) -> list[SkippedSource]:
    """The entries of ``directory`` that :func:`files_in` leaves out, with the reason."""
    taken = set(read)
    skipped = []
    for entry in sorted(directory.iterdir()):
        if entry in taken:
            continue
        if entry.name.startswith("."):
            reason = "hidden"
        elif entry.is_dir():
            reason = "a folder (folders inside a facts folder are not read)"
        elif not entry.is_file():
            reason = "not a regular file"
        else:
            reason = (
                f"unsupported file type {entry.suffix or '(none)'!r}; "
                f"use one of {', '.join(SUFFIXES)}"
            )
        skipped.append(SkippedSource(source=str(entry), reason=reason))
    return skipped


def _rows(value: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class FactSet:
    """Validated facts, one tuple per kind, with the inputs that were rejected.

    Build one with :func:`load_facts` or :meth:`from_records`. Ids are unique within a
    kind. ``len(facts)`` counts accepted facts; :meth:`total_rows` adds the rejected
    rows, so it equals the number of input rows read. ``sources`` names every file (or
    ``"python"``) read, in order; ``skipped`` every entry of a facts folder that was not
    read, with the reason (an unsupported type, a hidden file, a subfolder).
    """

    batches: tuple[Batch, ...] = attrs.field(default=(), converter=_rows)
    institutions: tuple[Institution, ...] = attrs.field(default=(), converter=_rows)
    enterprises: tuple[Enterprise, ...] = attrs.field(default=(), converter=_rows)
    agreements: tuple[Agreement, ...] = attrs.field(default=(), converter=_rows)
    demand_reports: tuple[DemandReport, ...] = attrs.field(default=(), converter=_rows)
    orders: tuple[Order, ...] = attrs.field(default=(), converter=_rows)
    purchase_summaries: tuple[PurchaseSummary, ...] = attrs.field(default=(), converter=_rows)
    complaints: tuple[Complaint, ...] = attrs.field(default=(), converter=_rows)
    settlements: tuple[Settlement, ...] = attrs.field(default=(), converter=_rows)
    listings: tuple[Listing, ...] = attrs.field(default=(), converter=_rows)
    exemption_events: tuple[ExemptionEvent, ...] = attrs.field(default=(), converter=_rows)
    enterprise_period_stats: tuple[EnterprisePeriodStat, ...] = attrs.field(
        default=(), converter=_rows
    )
    procurement_groups: tuple[ProcurementGroup, ...] = attrs.field(default=(), converter=_rows)
    prepayments: tuple[Prepayment, ...] = attrs.field(default=(), converter=_rows)
    rejects: tuple[RejectedInput, ...] = attrs.field(default=(), converter=_rows)
    sources: tuple[str, ...] = attrs.field(default=(), converter=_rows)
    skipped: tuple[SkippedSource, ...] = attrs.field(default=(), converter=_rows)
    # kind -> id -> (source, row) of each accepted fact, for "first seen at" messages.
    _origins: Mapping[str, Mapping[str, tuple[str, int | None]]] = attrs.field(
        init=False, factory=dict, eq=False, repr=False
    )

    def __attrs_post_init__(self) -> None:
        for kind, model in FACT_KINDS.items():
            seen: set[str] = set()
            for fact in getattr(self, kind):
                if not isinstance(fact, model):
                    raise FactsError(
                        f"FactSet.{kind} holds a {type(fact).__name__}, not a {model.__name__}"
                    )
                if fact.id in seen:
                    raise FactsError(f"FactSet.{kind} holds id {fact.id!r} twice")
                seen.add(fact.id)

    @classmethod
    def from_records(
        cls,
        records: Mapping[str, Iterable[Mapping[str, Any] | FactModel]],
        *,
        source: str = PYTHON_SOURCE,
        assume_tz: str | tzinfo | None = None,
    ) -> FactSet:
        """Validate Python records ``{kind: [row, ...]}``; rows are mappings or models.

        Args:
            records: rows by fact kind; a row is a mapping of field names to values, or
                an already validated model of that kind. A kind may instead hold a
                DataFrame of any narwhals backend (NaN is null) or a path to a file of
                its rows.
            source: the name rejected inputs give as their source.
            assume_tz: zone given to naive timestamps (e.g. ``"Asia/Shanghai"``);
                without it a naive timestamp rejects its row.

        Raises:
            FactsError: an unknown kind, a kind whose rows are not a list, an unknown
                time zone.
        """
        builder = _Builder(assume_tz)
        builder.add_records(records, source)
        return builder.build()

    def rows(self, kind: str) -> tuple[FactModel, ...]:
        """The accepted facts of ``kind`` (``"orders"``); FactsError if no such kind."""
        rows: tuple[FactModel, ...] = getattr(self, check_kind(kind, "FactSet.rows"))
        return rows

    def counts(self) -> dict[str, int]:
        """Number of accepted facts per kind, for every kind (zeros included)."""
        return {kind: len(getattr(self, kind)) for kind in FACT_KINDS}

    def total_rows(self) -> int:
        """Accepted facts plus rejected inputs: every input row read, counted once."""
        return len(self) + len(self.rejects)

    def merge(self, other: FactSet) -> FactSet:
        """Combine two fact sets; a fact whose id is already present is rejected."""
        builder = _Builder(None)
        builder.absorb(self)
        builder.absorb(other)
        return builder.build()

    def __len__(self) -> int:
        return sum(len(getattr(self, kind)) for kind in FACT_KINDS)


def load_facts(
    *sources: str | os.PathLike[str] | Mapping[str, Iterable[Mapping[str, Any] | FactModel]],
    kind: str | None = None,
    assume_tz: str | tzinfo | None = None,
) -> FactSet:
    """Read facts from files, directories and Python mappings into one :class:`FactSet`.

    Formats go by extension: ``.json`` and ``.yaml``/``.yml`` hold ``{kind: [rows]}`` or
    a list of rows; ``.csv``, ``.parquet`` and ``.jsonl`` hold rows of one kind. The kind
    of a list of rows is ``kind=``, else the file name up to its first dot
    (``orders.csv``, ``orders.2024-03.parquet``). A directory contributes its supported,
    non-hidden files (not subdirectories), sorted by name. Ids must be unique per kind
    across all sources: later duplicates are rejected.

    Args:
        sources: paths to files or directories, or mappings ``{kind: [rows]}``.
        kind: the kind of every list of rows read (overrides file names); not allowed
            with mapping documents.
        assume_tz: zone given to naive timestamps (e.g. ``"Asia/Shanghai"``).

    Returns:
        The accepted facts and the rejected rows.

    Raises:
        FactsError: a missing or unreadable file, an unsupported extension, a syntax
            error (with line), an unknown kind, rows of unknown kind, an unknown zone.

    >>> load_facts({"enterprises": [{"id": "e-1", "name": "某药业"}]}).counts()["enterprises"]
    1
    """
    if kind is not None:
        check_kind(kind, "kind=")
    builder = _Builder(assume_tz)
    for source in sources:
        if isinstance(source, Mapping):
            if kind is not None:
                raise FactsError("kind= cannot be combined with a mapping of kinds")
            builder.add_records(source, PYTHON_SOURCE)
            continue
        name = os.fspath(source)
        path = Path(name)
        if path.is_dir():
            files = files_in(path)
            for skipped in _skipped_in(path, files):
                _log.info("skipped %s", skipped)
                builder.skipped.append(skipped)
            for file in files:
                builder.add_file(file, str(file), kind)
        elif path.is_file():
            builder.add_file(path, name, kind)
        else:
            raise FactsError(f"{name}: no such file or directory")
    return builder.build()


def _zone(assume_tz: str | tzinfo | None) -> tzinfo | None:
    if assume_tz is None or isinstance(assume_tz, tzinfo):
        return assume_tz
    try:
        return ZoneInfo(assume_tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise FactsError(
            f"unknown time zone {assume_tz!r} for assume_tz (e.g. 'Asia/Shanghai')"
        ) from None


class _Builder:
    """Accumulates accepted facts and rejects across sources, enforcing unique ids."""

    def __init__(self, assume_tz: str | tzinfo | None) -> None:
        zone = _zone(assume_tz)
        self.context = {CONTEXT_ASSUME_TZ: zone} if zone is not None else None
        self.facts: dict[str, list[FactModel]] = {kind: [] for kind in FACT_KINDS}
        self.origins: dict[str, dict[str, tuple[str, int | None]]] = {
            kind: {} for kind in FACT_KINDS
        }
        self.rejects: list[RejectedInput] = []
        self.sources: dict[str, None] = {}  # an ordered set
        self.skipped: list[SkippedSource] = []

    def add_file(self, path: Path, source: str, kind: str | None) -> None:
        _log.debug("reading %s", source)
        self.sources[source] = None
        for raw in read_file(path, source, kind):
            self.add_raw(raw, source)

    def add_records(
        self, records: Mapping[str, Iterable[Mapping[str, Any] | FactModel]], source: str
    ) -> None:
        self.sources[source] = None
        for name, rows in records.items():
            kind = check_kind(name, source)
            if rows is None:
                continue
            if isinstance(rows, str | os.PathLike):  # a file of this kind's rows
                path = Path(rows)
                if not path.is_file():
                    raise FactsError(f"{source}: {kind!r}: no such file {os.fspath(rows)!r}")
                self.add_file(path, os.fspath(rows), kind)
                continue
            if is_frame(rows):  # a DataFrame of any narwhals backend: its rows, not names
                rows = frame_rows(rows)  # noqa: PLW2901 - read the frame in place
            if isinstance(rows, str | bytes | Mapping) or not isinstance(rows, Iterable):
                raise FactsError(f"{source}: {kind!r} must hold a list of rows")
            for index, row in enumerate(rows, start=1):
                self.add_raw(RawRow(kind, row, index), source)

    def absorb(self, facts: FactSet) -> None:
        for source in facts.sources:
            self.sources[source] = None
        self.skipped.extend(facts.skipped)
        self.rejects.extend(facts.rejects)
        for kind in FACT_KINDS:
            origins = facts._origins.get(kind, {})
            for fact in getattr(facts, kind):
                source, row = origins.get(fact.id, (PYTHON_SOURCE, None))
                self.accept(kind, fact, RawRow(kind, fact, row), source)

    def add_raw(self, raw: RawRow, source: str) -> None:
        checked = check_raw(raw, self.context)
        if isinstance(checked, FactModel):
            self.accept(raw.kind, checked, raw, source)
        else:
            self.reject(raw, source, *checked)

    def accept(self, kind: str, fact: FactModel, raw: RawRow, source: str) -> None:
        seen = self.origins[kind]
        first = seen.get(fact.id)
        if first is not None:
            reason = duplicate_reason(fact.id, first, source)
            self.reject(raw, source, "id", reason)
            return
        seen[fact.id] = (source, raw.row)
        self.facts[kind].append(fact)

    def reject(self, raw: RawRow, source: str, field: str | None, reason: str) -> None:
        self.rejects.append(reject_of(raw, source, field, reason))

    def build(self) -> FactSet:
        facts = FactSet(
            **{kind: self.facts[kind] for kind in FACT_KINDS},
            rejects=self.rejects,
            sources=tuple(self.sources),
            skipped=self.skipped,
        )
        object.__setattr__(facts, "_origins", self.origins)
        return facts


def check_raw(raw: RawRow, context: Mapping[str, Any] | None) -> FactModel | tuple[str | None, str]:
    """Validate one raw row: its fact model, or the field to blame and the reason."""
    model = FACT_KINDS[raw.kind]
    data = raw.data
    if raw.problem is not None:
        return raw.problem_field, raw.problem
    if isinstance(data, model):
        return data
    if isinstance(data, FactModel):
        return None, f"a {type(data).__name__} is not a {raw.kind} row"
    if not isinstance(data, Mapping):
        return None, f"a row must map field names to values, got {_show(data)}"
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        return _explain(exc, model)


def duplicate_reason(fact_id: str, first: tuple[str, int | None], source: str) -> str:
    """The reason of a row whose id was first seen at ``first`` (its source and row)."""
    first_source, first_row = first
    where = [first_source] if first_source != source else []
    where += [f"row {first_row}"] if first_row is not None else []
    return f"duplicate id {fact_id!r}, first seen at {' '.join(where) or 'an earlier row'}"


def reject_of(raw: RawRow, source: str, field: str | None, reason: str) -> RejectedInput:
    """The rejected input of a raw row read from ``source``."""
    data = raw.data
    if isinstance(data, FactModel):
        data = data.model_dump()
    mapping = dict(data) if isinstance(data, Mapping) else None
    line = raw.line
    if field is not None and raw.field_lines is not None:
        line = raw.field_lines.get(field, line)
    return RejectedInput(
        source=source,
        kind=raw.kind,
        row=raw.row,
        line=line,
        row_id=_row_id(mapping),
        field=field,
        reason=reason,
        raw=mapping,
    )


def _row_id(row: Mapping[str, object] | None) -> str | None:
    value = row.get("id") if row is not None else None
    if isinstance(value, str | int) and not isinstance(value, bool):
        return str(value).strip() or None
    return None


def _show(value: object) -> str:
    try:
        text = repr(value)
    except (ValueError, RecursionError):  # a 4,301-digit int, a list nested 10**5 deep
        return f"a {type(value).__name__} too large to show"
    return text if len(text) <= 60 else text[:57] + "..."


def _explain(exc: ValidationError, model: type[FactModel]) -> tuple[str | None, str]:
    """The field to blame and a reason covering every problem of the row."""
    problems: list[tuple[str | None, str]] = []
    for error in exc.errors(include_url=False):
        context = error.get("ctx") or {}
        loc = error["loc"]
        field = str(loc[0]) if loc else context.get("field")
        kind = error["type"]
        if kind == "extra_forbidden":
            hint = did_you_mean(field or "", model.model_fields)
            reason = f"unknown field for {model.fact_kind}{hint}"
        elif kind == "missing":
            reason = "required, but missing or empty"
        elif "reason" in context:  # our own validators: the message shows the value
            reason = str(context["reason"])
        else:
            reason = f"{error['msg']}, got {_show(error['input'])}"
        problems.append((field, reason))
    field, reason = problems[0]
    if len(problems) > 1:
        more = "; ".join(f"{f or 'row'}: {r}" for f, r in problems[1:])
        reason = f"{reason} (and {len(problems) - 1} more: {more})"
    return field, reason
