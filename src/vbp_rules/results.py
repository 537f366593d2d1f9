"""Results as typed tables: the Arrow schemas of findings, skips and rejects.

Every engine's :class:`~vbp_rules.findings.Evaluation` can give its results as
``pyarrow`` tables in the schemas below, whatever held them first: a tuple of
:class:`~vbp_rules.findings.Finding` objects (the reference and stream engines) or a
:class:`TableSource` that already holds columns (a columnar engine). The columns never
depend on the data: the key columns come from the pack (:func:`subject_key_columns`).

Exact values stay exact: a number is a numerator and a denominator (``decimal128(38, 0)``)
plus its text as written (``11.50``, ``9/10``); nothing is a binary float.

pyarrow is optional (extra ``frame``): this module imports it only when a table is built.
"""

from __future__ import annotations

import csv
import html
import importlib
import io
import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from vbp_rules._format import format_value, int_text

if TYPE_CHECKING:
    import pyarrow as pa

    from vbp_rules.facts import RejectedInput
    from vbp_rules.findings import Evaluation, Finding, Skip
    from vbp_rules.packs.pack import Pack

__all__ = [
    "BASE_KEY_COLUMNS",
    "KINDS",
    "WRITE_FORMATS",
    "TableKind",
    "TableSource",
    "csv_text",
    "findings_schema",
    "findings_to_arrow",
    "neutral_cell",
    "rejects_schema",
    "rejects_to_arrow",
    "skips_schema",
    "skips_to_arrow",
    "subject_key_columns",
    "value_from_record",
    "value_record",
    "write_evaluation",
]

#: Which result table: ``findings``, ``skips`` or ``rejects``.
TableKind = Literal["findings", "skips", "rejects"]

#: The subject keys every pack's tables carry, in this order (a row's identifying fields).
BASE_KEY_COLUMNS = (
    "id",
    "batch_id",
    "institution_id",
    "county_medical_community_id",
    "enterprise_id",
    "product_id",
    "generic_name",
)

#: The three tables of an evaluation.
KINDS: tuple[TableKind, ...] = ("findings", "skips", "rejects")

#: File extensions :func:`write_evaluation` writes.
WRITE_FORMATS = (".parquet", ".csv", ".jsonl", ".json")

#: Cell starts a spreadsheet reads as a formula (OWASP "CSV injection").
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

#: The widest exact integer a ``decimal128(38, 0)`` column holds is below this.
_DECIMAL_LIMIT = 10**38


class TableSource(Protocol):
    """Findings (or skips) held as columns, materialised as objects only on demand.

    A columnar engine hands an :class:`~vbp_rules.findings.Evaluation` one of these
    instead of a tuple; ``len``, :meth:`counts` and :meth:`to_arrow` must not build
    Python objects per row.
    """

    def __len__(self) -> int:
        """The number of rows."""
        ...  # pragma: no cover - protocol

    def to_arrow(self) -> pa.Table:
        """The rows in :func:`findings_schema` (or :func:`skips_schema`)."""
        ...  # pragma: no cover - protocol

    def materialize(self) -> tuple[Any, ...]:
        """The rows as Finding (or Skip) objects, in the canonical order."""
        ...  # pragma: no cover - protocol

    def counts(self) -> dict[str, int]:
        """Rows by outcome (findings) or by skip reason (skips)."""
        ...  # pragma: no cover - protocol


def optional_module(name: str) -> Any:
    """An optional dependency of the result tables, or an error naming the extra.

    Raises:
        EngineUnavailableError: the module is not installed (an ``ImportError``).
    """
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        from vbp_rules.engine import EngineUnavailableError  # noqa: PLC0415 - avoid a cycle

        msg = (
            f"results as tables need {name}: pip install 'vbp-rules[frame]' "
            f"(or pip install {name}) ({exc})"
        )
        raise EngineUnavailableError(msg) from exc


def _pa() -> Any:
    return optional_module("pyarrow")


def subject_key_columns(pack: Pack) -> tuple[str, ...]:
    """The subject key columns of a pack's result tables.

    The row keys (:data:`BASE_KEY_COLUMNS`), then every ``group_by`` name of the pack's
    rules not already listed, in rule order: the columns depend on the pack only.

    >>> from vbp_rules import load_pack
    >>> keys = subject_key_columns(load_pack("jiangxi-2024"))
    >>> keys[:3], len(keys) >= len(BASE_KEY_COLUMNS)
    (('id', 'batch_id', 'institution_id'), True)
    """
    out = dict.fromkeys(BASE_KEY_COLUMNS)
    for rule in pack.rules:
        for g in rule.group_by or ():
            for name in [g] if isinstance(g, str) else g:
                out.setdefault(name)
    return tuple(out)


def table_columns(kind: TableKind, key_columns: Sequence[str]) -> list[str]:
    """The column names of a result table, in order (the schemas' names; no pyarrow).

    >>> table_columns("rejects", [])
    ['source', 'kind', 'row', 'line', 'row_id', 'field', 'reason']
    """
    keys = list(key_columns)
    period = ["period_start", "period_end", "period_unit"]
    if kind == "findings":
        head = ["pack_id", "rule_id", "rule_kind", "outcome", "tier", "subject_kind"]
        tail = [
            "actions",
            "values",
            "bound_word",
            "operator",
            "citation_document",
            "citation_clause",
            "citation_text",
            "message_zh",
            "message_en",
            "flags",
            "issuer",
            "row_count",
        ]
        return head + keys + period + tail
    if kind == "skips":
        head = ["pack_id", "rule_id", "reason", "detail", "subject_kind"]
        return head + keys + period + ["exemption", "rows"]
    if kind == "rejects":
        return ["source", "kind", "row", "line", "row_id", "field", "reason"]
    msg = f"unknown table {kind!r}; choose one of {', '.join(KINDS)}"
    raise ValueError(msg)


def table_rows(
    ev: Evaluation, kind: TableKind, *, include_compliant: bool = True
) -> tuple[list[str], list[dict[str, Any]]]:
    """A result table's column names and rows as Python values.

    Objects are converted directly (no pyarrow needed); a :class:`TableSource` is read
    through its Arrow table.

    Raises:
        ValueError: an unknown ``kind``.
    """
    columns = table_columns(kind, ev.columns() if kind != "rejects" else ())
    held: Any = getattr(ev, "_findings" if kind == "findings" else "_skips", ())
    if kind == "rejects":
        rows = reject_rows(ev.rejects)
    elif not isinstance(held, tuple):
        rows = held.to_arrow().to_pylist()
    elif kind == "findings":
        rows = finding_rows(held, ev.columns())
    else:
        rows = skip_rows(held, ev.columns())
    if kind == "findings" and not include_compliant:
        rows = [r for r in rows if r["outcome"] != "compliant"]
    return columns, rows


def _value_struct(pa: Any) -> Any:
    d = pa.decimal128(38, 0)
    return pa.struct(
        [
            pa.field("name", pa.string()),
            pa.field("type", pa.string()),
            pa.field("numerator", d),
            pa.field("denominator", d),
            pa.field("text", pa.string()),
        ]
    )


def _key_fields(pa: Any, key_columns: Sequence[str]) -> list[Any]:
    return [pa.field(k, pa.string()) for k in key_columns]


def _period_fields(pa: Any) -> list[Any]:
    return [
        pa.field("period_start", pa.date32()),
        pa.field("period_end", pa.date32()),
        pa.field("period_unit", pa.string()),
    ]


def findings_schema(key_columns: Sequence[str]) -> pa.Schema:
    """The findings table: one row per finding, one column per subject key.

    >>> findings_schema(["institution_id"]).names[4:8]
    ['tier', 'subject_kind', 'institution_id', 'period_start']
    """
    pa = _pa()
    s = pa.string()
    return pa.schema(
        [
            pa.field("pack_id", s),
            pa.field("rule_id", s),
            pa.field("rule_kind", s),
            pa.field("outcome", s),
            pa.field("tier", s),
            pa.field("subject_kind", s),
            *_key_fields(pa, key_columns),
            *_period_fields(pa),
            pa.field("actions", pa.list_(s)),
            pa.field("values", pa.list_(_value_struct(pa))),
            pa.field("bound_word", s),
            pa.field("operator", s),
            pa.field("citation_document", s),
            pa.field("citation_clause", s),
            pa.field("citation_text", s),
            pa.field("message_zh", s),
            pa.field("message_en", s),
            pa.field("flags", pa.list_(s)),
            pa.field("issuer", s),
            pa.field("row_count", pa.int64()),
        ]
    )


def skips_schema(key_columns: Sequence[str]) -> pa.Schema:
    """The skips table: why a rule did not decide a subject (or a row was not read).

    >>> skips_schema([]).names[3:]
    ['detail', 'subject_kind', 'period_start', 'period_end', 'period_unit', 'exemption', 'rows']
    """
    pa = _pa()
    s = pa.string()
    row = pa.struct([pa.field("kind", s), pa.field("id", s)])
    return pa.schema(
        [
            pa.field("pack_id", s),
            pa.field("rule_id", s),
            pa.field("reason", s),
            pa.field("detail", s),
            pa.field("subject_kind", s),
            *_key_fields(pa, key_columns),
            *_period_fields(pa),
            pa.field("exemption", s),
            pa.field("rows", pa.list_(row)),
        ]
    )


def rejects_schema() -> pa.Schema:
    """The rejects table: input rows that did not become facts.

    >>> rejects_schema().names
    ['source', 'kind', 'row', 'line', 'row_id', 'field', 'reason']
    """
    pa = _pa()
    s = pa.string()
    return pa.schema(
        [
            pa.field("source", s),
            pa.field("kind", s),
            pa.field("row", pa.int64()),
            pa.field("line", pa.int64()),
            pa.field("row_id", s),
            pa.field("field", s),
            pa.field("reason", s),
        ]
    )


def value_record(name: str, value: object) -> dict[str, object]:
    """One recorded value as a ``values`` struct: its type, exact number and text.

    A Decimal keeps its scale (11.50 is 1150/100), a ratio its fraction, an integer is
    n/1; numbers wider than 38 digits keep only their exact text. Non-numbers have only
    text (ISO for instants and dates).

    >>> r = value_record("threshold", Decimal("11.50"))
    >>> r["type"], r["numerator"], r["denominator"], r["text"]
    ('decimal', Decimal('1150'), Decimal('100'), '11.50')
    >>> value_record("rate", Fraction(9, 10))["text"]
    '9/10'
    """
    kind = "other"
    num: int | None = None
    den: int | None = None
    text: str | None
    if value is None:
        return {"name": name, "type": "null", "numerator": None, "denominator": None, "text": None}
    if isinstance(value, bool):
        kind, text = "bool", "true" if value else "false"
    elif isinstance(value, int):
        kind, num, den = "int", value, 1
        text = int_text(value)  # exact digits (or its size past Python's print limit)
    elif isinstance(value, Fraction):
        kind, num, den = "ratio", value.numerator, value.denominator
        text = _ratio_text(value)
    elif isinstance(value, Decimal):
        kind = "decimal"
        text = format_value(value)
        if value.is_finite():
            sign, digits, exponent = value.as_tuple()
            assert isinstance(exponent, int)  # noqa: S101 - finite decimals
            n = int("".join(map(str, digits)) or "0") * (-1 if sign else 1)
            if exponent >= 0:
                num, den = n * 10**exponent, 1
            else:
                num, den = n, 10**-exponent
        else:
            kind = "other"
    elif isinstance(value, datetime):
        kind, text = "instant", value.isoformat()
    elif isinstance(value, date):
        kind, text = "date", value.isoformat()
    elif isinstance(value, str):
        kind, text = "text", value
    else:
        text = format_value(value)
    if (
        num is not None
        and den is not None
        and (abs(num) >= _DECIMAL_LIMIT or den >= _DECIMAL_LIMIT)
    ):
        num = den = None
    return {
        "name": name,
        "type": kind,
        "numerator": None if num is None else Decimal(num),
        "denominator": None if den is None else Decimal(den),
        "text": text,
    }


def value_from_record(record: dict[str, Any]) -> object:
    """The value a ``values`` struct records: the inverse of :func:`value_record`.

    For a columnar engine's ``materialize()``: ints, ratios (``Fraction``), decimals (with
    their scale), instants, dates, text, booleans and nulls come back exactly; an
    ``other`` value comes back as its text.

    >>> value_from_record(value_record("t", Decimal("11.50")))
    Decimal('11.50')
    >>> value_from_record(value_record("r", Fraction(9, 10)))
    Fraction(9, 10)
    """
    kind, text = record["type"], record["text"]
    num, den = record["numerator"], record["denominator"]
    if kind == "null":
        return None
    if kind == "bool":
        return text == "true"
    if kind == "int":
        return int(num) if num is not None else int(text)
    if kind == "ratio":
        if num is not None:
            return Fraction(int(num), int(den))
        return Fraction(text)
    if kind == "decimal":
        return Decimal(text)
    if kind == "instant":
        return datetime.fromisoformat(text)
    if kind == "date":
        return date.fromisoformat(text)
    return text


def _ratio_text(value: Fraction) -> str:
    if value.denominator == 1:
        return format_value(value.numerator)
    return f"{format_value(value.numerator)}/{format_value(value.denominator)}"


def _period(row: dict[str, object], period: Any) -> None:
    row["period_start"] = period.start if period is not None else None
    row["period_end"] = period.end if period is not None else None
    row["period_unit"] = period.unit if period is not None else None


def _keys(
    row: dict[str, object], subject: Any, key_columns: Sequence[str], known: frozenset[str]
) -> None:
    for k in key_columns:
        row[k] = None
    if subject is None:
        return
    for k, v in subject.keys:
        if k not in known:
            msg = (
                f"subject key {k!r} has no column; the key columns are "
                f"{', '.join(key_columns)} (pass the pack's subject_key_columns)"
            )
            raise ValueError(msg)
        row[k] = v


def findings_to_arrow(findings: Iterable[Finding], key_columns: Sequence[str]) -> pa.Table:
    """Findings as a table in :func:`findings_schema` (same order as given).

    Raises:
        ValueError: a finding's subject has a key not in ``key_columns``.
    """
    pa = _pa()
    rows = finding_rows(findings, key_columns)
    return pa.Table.from_pylist(rows, schema=findings_schema(key_columns))


def finding_rows(findings: Iterable[Finding], key_columns: Sequence[str]) -> list[dict[str, Any]]:
    """Findings as the rows of :func:`findings_schema`, as Python values (no pyarrow).

    Raises:
        ValueError: a finding's subject has a key not in ``key_columns``.
    """
    known = frozenset(key_columns)
    rows = []
    for f in findings:
        row: dict[str, object] = {
            "pack_id": f.pack_id,
            "rule_id": f.rule_id,
            "rule_kind": f.rule_kind,
            "outcome": f.outcome,
            "tier": f.tier,
            "subject_kind": f.subject.kind,
        }
        _keys(row, f.subject, key_columns, known)
        _period(row, f.period)
        row.update(
            actions=list(f.actions),
            values=[value_record(k, v) for k, v in f.values],
            bound_word=f.bound_word,
            operator=f.operator,
            citation_document=f.citation.document,
            citation_clause=f.citation.clause,
            citation_text=f.citation.text,
            message_zh=f.message_zh,
            message_en=f.message_en,
            flags=sorted(f.flags),
            issuer=f.issuer,
            row_count=len(f.rows),
        )
        rows.append(row)
    return rows


def skips_to_arrow(skips: Iterable[Skip], key_columns: Sequence[str]) -> pa.Table:
    """Skips as a table in :func:`skips_schema` (same order as given).

    Raises:
        ValueError: a skip's subject has a key not in ``key_columns``.
    """
    pa = _pa()
    return pa.Table.from_pylist(skip_rows(skips, key_columns), schema=skips_schema(key_columns))


def skip_rows(skips: Iterable[Skip], key_columns: Sequence[str]) -> list[dict[str, Any]]:
    """Skips as the rows of :func:`skips_schema`, as Python values (no pyarrow).

    Raises:
        ValueError: a skip's subject has a key not in ``key_columns``.
    """
    known = frozenset(key_columns)
    rows = []
    for s in skips:
        row: dict[str, object] = {
            "pack_id": s.pack_id,
            "rule_id": s.rule_id,
            "reason": s.reason,
            "detail": s.detail,
            "subject_kind": s.subject.kind if s.subject is not None else None,
        }
        _keys(row, s.subject, key_columns, known)
        _period(row, s.period)
        row["exemption"] = s.exemption
        row["rows"] = [{"kind": k, "id": i} for k, i in s.rows]
        rows.append(row)
    return rows


def rejects_to_arrow(rejects: Iterable[RejectedInput]) -> pa.Table:
    """Rejected inputs as a table in :func:`rejects_schema`."""
    pa = _pa()
    return pa.Table.from_pylist(reject_rows(rejects), schema=rejects_schema())


def reject_rows(rejects: Iterable[RejectedInput]) -> list[dict[str, Any]]:
    """Rejected inputs as the rows of :func:`rejects_schema` (no pyarrow)."""
    return [
        {
            "source": r.source,
            "kind": r.kind,
            "row": r.row,
            "line": r.line,
            "row_id": r.row_id,
            "field": r.field,
            "reason": r.reason,
        }
        for r in rejects
    ]


# -- text outputs ------------------------------------------------------------------------


def neutral_cell(value: object) -> object:
    """A CSV cell a spreadsheet will not run: text with a formula-like start gets ``'``.

    Text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
    prefixed; anything else is returned as is.

    >>> neutral_cell("=1+1"), neutral_cell("-5"), neutral_cell("ok"), neutral_cell(-5)
    ("'=1+1", "'-5", 'ok', -5)
    """
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def _neutral(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _csv_cell(name: str, value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, str):
        return _neutral(value)
    if isinstance(value, list):
        if name == "values":
            shown = {v["name"]: v["text"] for v in value}
            return _neutral(json.dumps(shown, ensure_ascii=False))
        if name == "rows":
            return _neutral(";".join(f"{r['kind']}:{r['id']}" for r in value))
        return _neutral(";".join(str(v) for v in value))
    if isinstance(value, date):
        return value.isoformat()
    return value


def csv_text(columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> str:
    """Result rows as CSV: the header always, lists joined by ``;``, values as JSON.

    ``actions`` and ``flags`` are joined with ``;``, skip ``rows`` as ``kind:id;…``,
    ``values`` as a JSON object ``{name: exact text}``. A text cell that starts with
    ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'`` so a
    spreadsheet shows it instead of running it (messages can carry fact text).

    >>> print(csv_text(["reason"], [{"reason": "=HYPERLINK(1)"}, {"reason": "ok"}]), end="")
    reason
    '=HYPERLINK(1)
    ok
    """
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_cell(n, row[n]) for n in columns])
    return buf.getvalue()


def _json_cell(value: object) -> object:
    if isinstance(value, Decimal):
        return int(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return [_json_cell(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_cell(v) for k, v in value.items()}
    return value


def json_rows(rows: Iterable[dict[str, Any]]) -> list[dict[str, object]]:
    """Result rows as JSON-ready dicts (exact integers, ISO dates)."""
    return [{k: _json_cell(v) for k, v in row.items()} for row in rows]


def _beside(path: Path, kind: str) -> Path:
    return path.with_name(f"{path.stem}.{kind}{path.suffix}")


def write_evaluation(ev: Evaluation, path: str | Path) -> list[Path]:
    """Write an evaluation's tables to ``path`` by extension (see :meth:`Evaluation.write`).

    Raises:
        ValueError: an unsupported extension.
    """
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in WRITE_FORMATS:
        msg = (
            f"cannot write {target.name!r}: unsupported extension {suffix or '(none)'}; "
            f"use one of {', '.join(WRITE_FORMATS)}"
        )
        raise ValueError(msg)
    if suffix == ".json":
        doc: dict[str, object] = {
            "pack_id": ev.pack_id,
            "as_of": ev.as_of.isoformat(),
            "engine": ev.engine,
            "interpretations": dict(ev.interpretations),
            "key_columns": list(ev.columns()),
            "summary": ev.summary(),
            **{kind: json_rows(table_rows(ev, kind)[1]) for kind in KINDS},
        }
        target.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", "utf-8")
        return [target]
    written = []
    for kind in KINDS:
        out = target if kind == "findings" else _beside(target, kind)
        if suffix == ".parquet":
            optional_module("pyarrow.parquet").write_table(ev.to_arrow(kind), out)
            written.append(out)
            continue
        columns, rows = table_rows(ev, kind)
        if suffix == ".csv":
            out.write_text(csv_text(columns, rows), encoding="utf-8")
        else:
            lines = [json.dumps(r, ensure_ascii=False) + "\n" for r in json_rows(rows)]
            out.write_text("".join(lines), encoding="utf-8")
        written.append(out)
    return written


def evaluation_html(ev: Evaluation) -> str:
    """A small HTML summary of an evaluation for notebooks (all text escaped)."""
    e = html.escape
    rows = "".join(
        f"<tr><td>{e(k)}</td><td style='text-align:right'>{v}</td></tr>"
        for k, v in ev.summary().items()
    )
    return (
        f"<div><strong>Evaluation</strong> of <code>{e(ev.pack_id)}</code> "
        f"({e(ev.engine)} engine) as of {e(ev.as_of.isoformat())}: "
        f"{len(ev)} findings"
        f"<table><thead><tr><th>count</th><th></th></tr></thead>"
        f"<tbody>{rows}</tbody></table></div>"
    )
