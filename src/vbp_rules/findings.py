"""What an evaluation returns: findings, skips, rejected inputs, and their traces.

Every input row ends in at least one of these, with its reason: nothing is lost silently.
All values are frozen attrs classes; ratios stay exact ``Fraction`` and money ``Decimal``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Literal

import attrs

if TYPE_CHECKING:
    from pathlib import Path

    from vbp_rules.facts import RejectedInput
    from vbp_rules.results import TableKind, TableSource

__all__ = [
    "Citation",
    "Evaluation",
    "Finding",
    "Outcome",
    "Period",
    "RowRef",
    "Skip",
    "SkipReason",
    "Subject",
    "jsonable",
]

Outcome = Literal["breach", "compliant", "determination", "needs_review"]
SkipReason = Literal[
    "not_applicable",
    "exempted",
    "not_configured",
    "out_of_force",
    "missing_fact",
    "pending",
    "documentation_only",
    "no_applicable_rule",
    "reference_data",
    "other_interpretation",
    "unsupported_by_engine",
]

#: A reference to one input row: ``(fact kind, row id)``.
RowRef = tuple[str, str]


@attrs.frozen(kw_only=True, slots=True)
class Citation:
    """Where a rule or parameter comes from: document, clause and the original sentence."""

    document: str
    clause: str
    text: str
    pack_id: str = ""

    def __str__(self) -> str:
        return f"{self.document} {self.clause}: {self.text}"


@attrs.frozen(kw_only=True, slots=True)
class Subject:
    """Who or what a finding is about: a fact kind and its identifying keys."""

    kind: str
    keys: tuple[tuple[str, str], ...]

    def as_dict(self) -> dict[str, str]:
        """The keys as a plain dict."""
        return dict(self.keys)

    def __str__(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.keys)


@attrs.frozen(kw_only=True, slots=True)
class Period:
    """A reporting period: first and last day (both included) and its unit."""

    start: date
    end: date
    unit: str

    def __str__(self) -> str:
        if self.unit == "month":
            return f"{self.start:%Y-%m}"
        if self.unit == "quarter":
            return f"{self.start.year}Q{(self.start.month - 1) // 3 + 1}"
        if self.unit == "year":
            return f"{self.start.year}"
        return f"{self.start.isoformat()}..{self.end.isoformat()}"


@attrs.frozen(kw_only=True, slots=True)
class Finding:
    """The result of one rule for one subject (and period).

    ``outcome`` is ``breach`` (the rule's condition for action holds), ``compliant``,
    ``determination`` (a computed output such as a payment standard) or ``needs_review``.
    ``values`` holds the exact metric values and thresholds the decision used.
    """

    pack_id: str
    rule_id: str
    rule_kind: str
    outcome: Outcome
    subject: Subject
    period: Period | None = None
    actions: tuple[str, ...] = ()
    tier: str | None = None
    values: tuple[tuple[str, object], ...] = ()
    bound_word: str | None = None
    operator: str | None = None
    citation: Citation
    message_zh: str = ""
    message_en: str = ""
    flags: frozenset[str] = frozenset()
    issuer: str = ""
    rows: tuple[RowRef, ...] = ()
    trace: tuple[tuple[str, object], ...] = ()

    @property
    def key(self) -> tuple[str, str, tuple[tuple[str, str], ...], str]:
        """A sortable identity: rule, subject and period."""
        return (self.pack_id, self.rule_id, self.subject.keys, str(self.period or ""))

    def value(self, name: str) -> object:
        """One of the recorded values by name."""
        for k, v in self.values:
            if k == name:
                return v
        raise KeyError(name)

    def to_dict(self, *, with_rows: bool = False) -> dict[str, Any]:
        """A JSON-ready dict with stable keys."""
        out: dict[str, Any] = {
            "pack": self.pack_id,
            "rule": self.rule_id,
            "kind": self.rule_kind,
            "outcome": self.outcome,
            "subject": self.subject.as_dict(),
            "subject_kind": self.subject.kind,
            "period": str(self.period) if self.period else None,
            "tier": self.tier,
            "actions": list(self.actions),
            "values": {k: jsonable(v) for k, v in self.values},
            "bound_word": self.bound_word,
            "operator": self.operator,
            "citation": {
                "document": self.citation.document,
                "clause": self.citation.clause,
                "text": self.citation.text,
            },
            "message": {"zh": self.message_zh, "en": self.message_en},
            "flags": sorted(self.flags),
            "issuer": self.issuer,
        }
        if with_rows:
            out["rows"] = [list(r) for r in self.rows]
        return out

    def explain(self) -> str:
        """A readable, multi-line trace of how this finding was decided."""
        lines = [
            f"{self.pack_id} / {self.rule_id} ({self.rule_kind}) -> {self.outcome}"
            + (f" [{self.tier}]" if self.tier else ""),
            f"  subject: {self.subject.kind} {self.subject}",
        ]
        if self.period:
            lines.append(f"  period:  {self.period}")
        lines.append(f"  source:  {self.citation.document} {self.citation.clause}")
        lines.append(f"           {self.citation.text}")
        for k, v in self.values:
            lines.append(f"  {k} = {_fmt(v)}")
        if self.bound_word:
            lines.append(f"  bound:   {self.bound_word} ({self.operator})")
        elif self.operator and self.rule_kind == "deadline":
            lines.append(f"  bound:   end {self.operator} due")
        elif self.operator:
            lines.append(f"  bound:   {self.operator}")
        for text, v in self.trace:
            lines.append(f"  | {text} = {_fmt(v)}")
        if self.actions:
            lines.append(f"  actions: {', '.join(self.actions)}")
        if self.flags:
            lines.append(f"  flags:   {', '.join(sorted(self.flags))}")
        if self.message_en:
            lines.append(f"  message: {self.message_zh} / {self.message_en}")
        if self.rows:
            shown = ", ".join(f"{k}:{i}" for k, i in self.rows[:10])
            more = f" (+{len(self.rows) - 10} more)" if len(self.rows) > 10 else ""
            lines.append(f"  rows:    {shown}{more}")
        return "\n".join(lines)


@attrs.frozen(kw_only=True, slots=True)
class Skip:
    """A rule not applied to a subject (or to anything), with the reason."""

    pack_id: str
    rule_id: str | None
    reason: SkipReason
    detail: str = ""
    subject: Subject | None = None
    period: Period | None = None
    exemption: str | None = None
    rows: tuple[RowRef, ...] = ()

    def to_dict(self, *, with_rows: bool = False) -> dict[str, Any]:
        """A JSON-ready dict with stable keys."""
        out: dict[str, Any] = {
            "pack": self.pack_id,
            "rule": self.rule_id,
            "reason": self.reason,
            "detail": self.detail,
            "subject": self.subject.as_dict() if self.subject else None,
            "subject_kind": self.subject.kind if self.subject else None,
            "period": str(self.period) if self.period else None,
            "exemption": self.exemption,
        }
        if with_rows:
            out["rows"] = [list(r) for r in self.rows]
        return out


def _fmt(v: object) -> str:
    from vbp_rules._format import format_value  # noqa: PLC0415 - the one formatter

    return format_value(v)


def jsonable(v: object) -> object:
    """Turn an exact value into JSON without losing exactness.

    Fractions become ``"n/d"`` strings (or integers), Decimals strings, dates ISO text. A
    number Python cannot print (over 4,300 digits) becomes its size, ``"<N-digit
    integer>"``, instead of failing the whole output.

    >>> jsonable(Fraction(9, 10)), jsonable(10**5000)
    ('9/10', '<5001-digit integer>')
    """
    from vbp_rules._format import int_text  # noqa: PLC0415 - a small, always-present module

    if v is None or isinstance(v, bool | str):
        return v
    if isinstance(v, int):
        text = int_text(v)
        return v if not text.startswith("<") else text
    if isinstance(v, Fraction):
        if v.denominator == 1:
            return jsonable(v.numerator)
        return f"{int_text(v.numerator)}/{int_text(v.denominator)}"
    if isinstance(v, Decimal):
        return str(v)
    if isinstance(v, datetime | date):
        return v.isoformat()
    if isinstance(v, list | tuple):
        return [jsonable(x) for x in v]
    return str(v)


#: The columns of :meth:`Evaluation.to_records` and :meth:`Evaluation.to_frame`.
RECORD_COLUMNS = (
    "pack",
    "rule",
    "kind",
    "outcome",
    "subject_kind",
    "subject",
    "period",
    "tier",
    "actions",
    "values",
    "bound_word",
    "clause",
    "message_en",
    "message_zh",
    "flags",
)


def _str_tuple(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(names)


@attrs.frozen(kw_only=True, slots=True, eq=False, repr=False)
class Evaluation:
    """Everything one evaluation returned.

    ``findings`` include compliant results (use :meth:`breaches` for the ones that call
    for action); ``skips`` say why a rule did not decide; ``rejects`` are input rows
    that could not be read.

    An engine gives ``findings`` and ``skips`` either as tuples of objects or as
    :class:`~vbp_rules.results.TableSource` objects that hold columns: then
    :meth:`summary`, ``len`` and the table methods (:meth:`to_arrow`, :meth:`to_polars`,
    :meth:`to_pandas`, :meth:`write`) read the columns, and ``Finding`` objects are
    built only when ``findings`` is read (once). ``key_columns`` are the pack's subject
    key columns (:func:`vbp_rules.results.subject_key_columns`). Two evaluations are
    equal when their findings, skips, rejects and metadata are.
    """

    pack_id: str
    as_of: datetime
    engine: str
    _findings: tuple[Finding, ...] | TableSource = attrs.field(alias="findings")
    _skips: tuple[Skip, ...] | TableSource = attrs.field(alias="skips")
    rejects: tuple[RejectedInput, ...]
    interpretations: tuple[tuple[str, str], ...] = ()
    input_rows: int = 0
    metadata: tuple[tuple[str, object], ...] = ()
    key_columns: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)
    _cache: dict[str, Any] = attrs.field(init=False, factory=dict)

    @property
    def findings(self) -> tuple[Finding, ...]:
        """The findings, in the canonical order (built from the table once, if need be)."""
        held = self._findings
        if isinstance(held, tuple):
            return held
        if "findings" not in self._cache:
            self._cache["findings"] = tuple(held.materialize())
        found: tuple[Finding, ...] = self._cache["findings"]
        return found

    @property
    def skips(self) -> tuple[Skip, ...]:
        """The skips (built from the table once, if need be)."""
        held = self._skips
        if isinstance(held, tuple):
            return held
        if "skips" not in self._cache:
            self._cache["skips"] = tuple(held.materialize())
        found: tuple[Skip, ...] = self._cache["skips"]
        return found

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Evaluation):
            return NotImplemented
        return (
            self.pack_id == other.pack_id
            and self.as_of == other.as_of
            and self.engine == other.engine
            and self.rejects == other.rejects
            and self.interpretations == other.interpretations
            and self.input_rows == other.input_rows
            and self.metadata == other.metadata
            and self.findings == other.findings
            and self.skips == other.skips
        )

    def __hash__(self) -> int:
        return hash((self.pack_id, self.as_of, self.engine, len(self), self.input_rows))

    def __len__(self) -> int:
        """The number of findings (compliant ones included)."""
        return len(self._findings)

    def __repr__(self) -> str:
        counts = ", ".join(f"{k}={v}" for k, v in self.summary().items())
        return (
            f"<Evaluation {self.pack_id} engine={self.engine} "
            f"as_of={self.as_of.isoformat()} {counts}>"
        )

    def _repr_html_(self) -> str:
        from vbp_rules.results import evaluation_html  # noqa: PLC0415 - keep imports light

        return evaluation_html(self)

    def columns(self) -> tuple[str, ...]:
        """The subject key columns of the tables: ``key_columns``, else inferred.

        An engine that did not pass ``key_columns`` gets the row keys followed by the
        other keys its subjects carry, sorted.
        """
        if self.key_columns:
            return self.key_columns
        from vbp_rules.results import BASE_KEY_COLUMNS  # noqa: PLC0415

        subjects = [f.subject for f in self.findings] + [s.subject for s in self.skips]
        extra = {k for subject in subjects if subject is not None for k, _ in subject.keys}
        return BASE_KEY_COLUMNS + tuple(sorted(extra - set(BASE_KEY_COLUMNS)))

    def breaches(self) -> tuple[Finding, ...]:
        """Findings whose outcome is ``breach``."""
        return tuple(f for f in self.findings if f.outcome == "breach")

    def notable(self) -> tuple[Finding, ...]:
        """Findings that are not ``compliant``: breaches, determinations, reviews."""
        return tuple(f for f in self.findings if f.outcome != "compliant")

    def by_rule(self, rule_id: str) -> tuple[Finding, ...]:
        """Findings of one rule."""
        return tuple(f for f in self.findings if f.rule_id == rule_id)

    def summary(self) -> dict[str, int]:
        """Counts by outcome, skip reason and rejects."""
        c: Counter[str] = Counter()
        if isinstance(self._findings, tuple):
            c.update(f.outcome for f in self._findings)
        else:
            c.update(self._findings.counts())
        if isinstance(self._skips, tuple):
            c.update(f"skip:{s.reason}" for s in self._skips)
        else:
            c.update({f"skip:{k}": n for k, n in self._skips.counts().items()})
        c["rejected"] = len(self.rejects)
        return dict(sorted(c.items()))

    def accounted_rows(self) -> set[RowRef]:
        """Every input row referenced by a finding or a skip (rejects are separate)."""
        seen: set[RowRef] = set()
        for f in self.findings:
            seen.update(f.rows)
        for s in self.skips:
            seen.update(s.rows)
        return seen

    def to_records(self, *, include_compliant: bool = False) -> list[dict[str, Any]]:
        """Findings as flat dicts (one per finding), for frames and CSV."""
        rows = []
        for f in self.findings:
            if f.outcome == "compliant" and not include_compliant:
                continue
            d = f.to_dict()
            flat: dict[str, Any] = {
                "pack": d["pack"],
                "rule": d["rule"],
                "kind": d["kind"],
                "outcome": d["outcome"],
                "subject_kind": d["subject_kind"],
                "subject": str(f.subject),
                "period": d["period"],
                "tier": d["tier"],
                "actions": ";".join(d["actions"]),
                "values": json.dumps(d["values"], ensure_ascii=False, sort_keys=True),
                "bound_word": d["bound_word"],
                "clause": f.citation.clause,
                "message_en": f.message_en,
                "message_zh": f.message_zh,
                "flags": ";".join(d["flags"]),
            }
            rows.append(flat)
        return rows

    def to_json(self, *, include_compliant: bool = False, indent: int | None = 2) -> str:
        """The whole evaluation as JSON with stable keys."""
        doc = {
            "pack": self.pack_id,
            "as_of": self.as_of.isoformat(),
            "engine": self.engine,
            "interpretations": dict(self.interpretations),
            "summary": self.summary(),
            "findings": [
                f.to_dict() for f in self.findings if include_compliant or f.outcome != "compliant"
            ],
            "skips": [s.to_dict() for s in self.skips],
            "rejects": [_reject_dict(r) for r in self.rejects],
        }
        return json.dumps(doc, ensure_ascii=False, indent=indent, sort_keys=False)

    def to_frame(self, *, include_compliant: bool = False, backend: str | None = None) -> Any:
        """Findings as a DataFrame: Polars if installed (or ``backend="pandas"``)."""
        records = self.to_records(include_compliant=include_compliant)
        # the same columns whatever the data, even with no findings
        columns = {name: [r[name] for r in records] for name in RECORD_COLUMNS}
        if backend in (None, "polars"):
            try:
                import polars as pl  # noqa: PLC0415 - optional dependency
            except ModuleNotFoundError:
                if backend == "polars":
                    raise
            else:
                return pl.DataFrame(columns, schema=dict.fromkeys(RECORD_COLUMNS, pl.String))
        import pandas as pd  # noqa: PLC0415 - optional dependency

        return pd.DataFrame(columns, columns=list(RECORD_COLUMNS), dtype=object)

    # -- tables ----------------------------------------------------------------------
    def to_arrow(self, kind: TableKind = "findings") -> Any:
        """One of the result tables as a ``pyarrow.Table`` (extra ``frame``).

        ``kind`` is ``findings``, ``skips`` or ``rejects``; the columns are those of
        :func:`~vbp_rules.results.findings_schema`, :func:`~vbp_rules.results.skips_schema`
        and :func:`~vbp_rules.results.rejects_schema`, whatever the data.

        >>> from datetime import date
        >>> from vbp_rules import evaluate
        >>> ev = evaluate("jiangxi-2024", {}, as_of=date(2024, 12, 31))
        >>> ev.to_arrow("rejects").column_names
        ['source', 'kind', 'row', 'line', 'row_id', 'field', 'reason']

        Raises:
            ValueError: an unknown ``kind``.
            EngineUnavailableError: pyarrow is not installed.
        """
        from vbp_rules import results  # noqa: PLC0415 - pyarrow is optional

        if kind == "findings":
            held: Any = self._findings
            if not isinstance(held, tuple):
                return held.to_arrow()
            return results.findings_to_arrow(held, self.columns())
        if kind == "skips":
            held = self._skips
            if not isinstance(held, tuple):
                return held.to_arrow()
            return results.skips_to_arrow(held, self.columns())
        if kind == "rejects":
            return results.rejects_to_arrow(self.rejects)
        msg = f"unknown table {kind!r}; choose one of {', '.join(results.KINDS)}"
        raise ValueError(msg)

    def to_polars(self, kind: TableKind = "findings") -> Any:
        """One of the result tables as a Polars DataFrame (see :meth:`to_arrow`).

        >>> from datetime import date
        >>> from vbp_rules import evaluate
        >>> ev = evaluate("jiangxi-2024", {}, as_of=date(2024, 12, 31))
        >>> ev.to_polars("skips").height == len(ev.skips)
        True
        """
        from vbp_rules.results import optional_module  # noqa: PLC0415

        pl = optional_module("polars")
        return pl.from_arrow(self.to_arrow(kind))

    def to_pandas(self, kind: TableKind = "findings") -> Any:
        """One of the result tables as a pandas DataFrame (see :meth:`to_arrow`).

        Decimal columns become Python ``Decimal`` objects, dates ``datetime.date``.

        >>> from datetime import date
        >>> from vbp_rules import evaluate
        >>> ev = evaluate("jiangxi-2024", {}, as_of=date(2024, 12, 31))
        >>> list(ev.to_pandas("rejects").columns)[:3]
        ['source', 'kind', 'row']
        """
        from vbp_rules.results import optional_module  # noqa: PLC0415

        optional_module("pandas")
        return self.to_arrow(kind).to_pandas()

    def to_csv(self, kind: TableKind = "findings", *, include_compliant: bool = True) -> str:
        """One of the result tables as CSV text, formula-like cells neutralised.

        See :func:`vbp_rules.results.csv_text`. Needs no extra (CSV, JSON Lines and JSON
        are written without pyarrow; Parquet and the frame methods need it).

        >>> from datetime import date
        >>> from vbp_rules import evaluate
        >>> ev = evaluate("jiangxi-2024", {}, as_of=date(2024, 12, 31))
        >>> ev.to_csv("rejects").splitlines()
        ['source,kind,row,line,row_id,field,reason']
        """
        from vbp_rules.results import csv_text, table_rows  # noqa: PLC0415

        return csv_text(*table_rows(self, kind, include_compliant=include_compliant))

    def write(self, path: str | Path) -> list[Path]:
        """Write the results to ``path``; the format goes by its extension.

        ``.parquet``, ``.csv`` and ``.jsonl`` hold one table: the findings go to
        ``path`` and the skips and rejects beside it (``out.skips.parquet``,
        ``out.rejects.parquet``). ``.json`` writes one document with all three. Only
        Parquet needs pyarrow (extra ``frame``).

        Returns:
            The files written.

        Raises:
            ValueError: an unsupported extension (the message lists the supported ones).

        >>> import tempfile, pathlib
        >>> from datetime import date
        >>> from vbp_rules import evaluate
        >>> ev = evaluate("jiangxi-2024", {}, as_of=date(2024, 12, 31))
        >>> with tempfile.TemporaryDirectory() as d:
        ...     [p.name for p in ev.write(pathlib.Path(d) / "out.csv")]
        ['out.csv', 'out.skips.csv', 'out.rejects.csv']
        """
        from vbp_rules.results import write_evaluation  # noqa: PLC0415

        return write_evaluation(self, path)

    def explain(self, finding: Finding) -> str:
        """A readable trace of one finding."""
        return finding.explain()

    def __iter__(self) -> Iterator[Finding]:
        return iter(self.findings)


def _reject_dict(r: RejectedInput) -> dict[str, Any]:
    return {
        "source": r.source,
        "kind": r.kind,
        "row": r.row,
        "line": getattr(r, "line", None),
        "row_id": r.row_id,
        "field": r.field,
        "reason": r.reason,
    }


def sort_findings(items: Iterable[Finding]) -> tuple[Finding, ...]:
    """Findings in a stable order: rule, subject, period, tier."""
    return tuple(sorted(items, key=_order))


def _order(f: Finding) -> tuple[str, str, tuple[tuple[str, str], ...], str, str, str]:
    # (*f.key, tier, outcome), without the property call and the unpacking
    period = f.period
    return (
        f.pack_id,
        f.rule_id,
        f.subject.keys,
        str(period) if period is not None else "",
        f.tier or "",
        f.outcome,
    )
