"""Columnar loading (vbp_rules.facts.columnar) against the row-by-row loader.

The row-by-row loader (``load_facts`` / ``FactSet.from_records``) is the specification:
on the same input, the columnar path must accept the same facts (with the encodings of
``python_columns``) and report identical rejects, in the same order. Hypothesis draws
good and bad rows (naive timestamps, negative and huge quantities, delivered > ordered,
duplicate ids, missing fields, unparsable text, NaN, floats) as text (CSV, Parquet,
Polars, pandas) and as natively typed columns (Parquet, Polars).
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vbp_rules.errors import FactsError
from vbp_rules.facts import FACT_KINDS, Enterprise, FactSet, load_facts
from vbp_rules.facts._columns import normalized_columns, python_columns
from vbp_rules.facts._screen import (
    PY_SPACE,
    RUST_SPACE,
    field_specs,
    opaque_fields,
    unknown_model_checks,
)
from vbp_rules.facts.columnar import SRC_ROW, ColumnarFacts, scan_facts, validate_frame

pl = pytest.importorskip("polars")

KINDS = (
    "orders",
    "complaints",
    "settlements",
    "purchase_summaries",
    "agreements",
    "demand_reports",
    "listings",
    "batches",
    "prepayments",
    "enterprise_period_stats",
)
SLOW = int(os.environ.get("VBP_SLOW_EXAMPLES", "300"))

# --- the comparison -----------------------------------------------------------------------


def _expected_table(kind: str, facts: FactSet) -> Any:
    types = {"Int64": pl.Int64, "Boolean": pl.Boolean, "String": pl.String}
    schema = {c.name: types[c.dtype] for c in normalized_columns(kind)}
    return pl.DataFrame(python_columns(facts.rows(kind), kind), schema=schema)


_INT64 = range(-(2**63), 2**63)


def fits_int64(facts: FactSet) -> bool:
    """Every accepted integer and money (in fen) fits the encoded Int64 columns."""
    for kind in FACT_KINDS:
        table = python_columns(facts.rows(kind), kind)
        for values in table.values():
            if any(isinstance(v, int) and v not in _INT64 for v in values):
                return False
    return True


def check(scan: Callable[[], ColumnarFacts], reference: FactSet) -> None:
    """Compare, or (while the models accept integers past Int64) expect a refusal."""
    if fits_int64(reference):
        assert_same(scan(), reference)
    else:
        with pytest.raises(FactsError, match="does not fit a 64-bit integer column"):
            scan()


def assert_same(columnar: ColumnarFacts, reference: FactSet) -> None:
    """The columnar result says exactly what the row-by-row loader says."""
    assert columnar.rejects == reference.rejects
    assert columnar.counts() == reference.counts()
    assert columnar.total_rows() == reference.total_rows()
    decoded = columnar.to_fact_set()
    assert decoded == reference  # every kind's facts, the rejects and the sources
    for kind in FACT_KINDS:
        table = columnar.tables[kind]
        expected = _expected_table(kind, reference)
        assert table.drop(SRC_ROW).equals(expected), kind
        origins = reference._origins[kind]
        rows = [origins[f.id][1] for f in reference.rows(kind)]
        assert table.get_column(SRC_ROW).to_list() == rows, kind


# --- cell pools -----------------------------------------------------------------------------

GOOD_TEXT: dict[str, list[str]] = {
    "id": ["x-1", "x-2", "x-3", " x-1 ", "1001"],
    "text": ["阿莫西林", " 头孢 ", "a b"],
    "int": ["0", "1", "2", "5", "10", "12"],
    "money": ["0", "12.50", "3", "0.1", "99.99", "12.500"],
    "ratio": ["30%", "0.3", "3/10", "1", "0", "80％"],
    "instant": [
        "2024-03-01T09:00+08:00",
        "2024-03-01T12:30:15+08:00",
        "2024-03-02 09:00:00Z",
        "2024-03-01T09:00:00.25-05:00",
        "2024-03-01T09:00+0800",
        "2024-03-01T23:30:00.000001+08",
    ],
    "day": ["2024-03-01", "2024-03-31", "2023-12-31"],
    "bool": ["true", "false", "是", "否", "1", "0", "YES", " n "],
}
BAD_TEXT: dict[str, list[str]] = {
    "id": ["", "   ", "\u3000"],
    "text": ["", "  ", "\x1c"],
    "int": [
        "-1",
        "+5",
        "007",
        "1.5",
        "ten",
        "1e3",
        "１２",
        str(2**63),
        str(2**63 - 1),
        "-0",
        "1_000",
    ],
    "money": [
        "-1",
        "12.345",
        "1e2",
        "NaN",
        "Infinity",
        ".5",
        "5.",
        "1_0",
        "92233720368547758.07",
        "92233720368547758",
        "１",
    ],
    "ratio": ["3/0", "150%", "abc", "0.30000", "1/3", "-0", "2"],
    "instant": [
        "2024-03-01 09:00",
        "2024-03-01",
        "2024-02-30T09:00+08:00",
        "2024-03-01T24:00+08:00",
        "2024-03-01t09:00+08:00",
        "20240301T0900+08:00",
        "2024-03-01T09:00+08:",
        "2024-03-01T09:00+0860",
        "2024-03-01T09:00+08:00:30",
        "2024-03-01T09:00:00.1234567+08:00",
        "2024-03-10 02:30",  # not a New York time (spring forward)
        "2024-11-03 01:30",  # twice a New York time (fall back)
        "0999-03-01T09:00+08:00",
        "x",
    ],
    "day": ["2024-02-30", "20240301", "2024-3-1", "2024-03-01T00:00", "x", "0999-01-01"],
    "bool": ["2", "maybe", "是的", "ſ"],
}
CHOICE_BAD = ["bogus", " primary", "PRIMARY"]


def _pool(kind: str, name: str) -> tuple[list[str], list[str]]:
    spec = field_specs(kind)[name]
    if spec.check == "choice":
        return list(spec.choices), CHOICE_BAD
    if spec.check == "text":
        return GOOD_TEXT["text"], BAD_TEXT["text"]
    return GOOD_TEXT[spec.check], BAD_TEXT[spec.check]


@st.composite
def text_rows(draw: st.DrawFn, kind: str, *, max_rows: int = 8) -> list[dict[str, str | None]]:
    """Rows of text cells (None = empty), mostly good, some bad."""
    names = list(field_specs(kind))
    columns = [*draw(st.lists(st.sampled_from(names), unique=True, min_size=1)), "id"]
    columns = [n for n in names if n in columns]
    rows = []
    for _ in range(draw(st.integers(0, max_rows))):
        row: dict[str, str | None] = {}
        for name in columns:
            good, bad = _pool(kind, name)
            required = field_specs(kind)[name].required
            cell = st.sampled_from(good * 3)
            if draw(st.integers(0, 9)) == 0:
                cell = st.none() | st.sampled_from(bad)
            elif not required and draw(st.booleans()):
                cell = st.none()
            row[name] = draw(cell)
        rows.append(row)
    return rows


def full_rows(kind: str, rows: list[dict[str, str | None]]) -> list[dict[str, str | None]]:
    """Required fields filled in (so that most rows are valid), keeping the drawn cells."""
    out = []
    for row in rows:
        full = dict(row)
        for name, spec in field_specs(kind).items():
            if spec.required and name not in full:
                full[name] = _pool(kind, name)[0][0]
        out.append(full)
    return out


def write_csv(path: Path, rows: list[dict[str, str | None]]) -> None:
    columns = list(dict.fromkeys(k for row in rows for k in row)) or ["id"]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([row.get(c) or "" for c in columns] for row in rows)


def text_frame(rows: list[dict[str, str | None]]) -> Any:
    columns = list(dict.fromkeys(k for row in rows for k in row)) or ["id"]
    data = {c: [row.get(c) for row in rows] for c in columns}
    return pl.DataFrame(data, schema=dict.fromkeys(columns, pl.String))


ZONES = st.sampled_from([None, "Asia/Shanghai", "UTC", "America/New_York"])

# --- generated text rows: CSV, Parquet, Polars and pandas ------------------------------------


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), zone=ZONES)
def test_text_rows_agree_in_every_format(
    tmp_path_factory: Any, data: Any, zone: str | None
) -> None:
    kind = data.draw(st.sampled_from(KINDS))
    rows = full_rows(kind, data.draw(text_rows(kind)))
    _check_text(tmp_path_factory.mktemp("t"), kind, rows, zone)


@pytest.mark.slow
@settings(max_examples=SLOW, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), zone=ZONES)
def test_text_rows_agree_in_every_format_long(
    tmp_path_factory: Any, data: Any, zone: str | None
) -> None:
    kind = data.draw(st.sampled_from(KINDS))
    rows = data.draw(text_rows(kind, max_rows=30))
    if data.draw(st.booleans()):
        rows = full_rows(kind, rows)
    _check_text(tmp_path_factory.mktemp("t"), kind, rows, zone)


def _check_text(tmp: Path, kind: str, rows: list[dict[str, str | None]], zone: str | None) -> None:
    frame = text_frame(rows)
    csv_path = tmp / f"{kind}.csv"
    write_csv(csv_path, rows)
    check(lambda: scan_facts(csv_path, assume_tz=zone), load_facts(csv_path, assume_tz=zone))
    parquet_path = tmp / f"{kind}.parquet"
    frame.write_parquet(parquet_path)
    reference = load_facts(parquet_path, assume_tz=zone)
    check(lambda: scan_facts(parquet_path, assume_tz=zone), reference)
    # frames: the reference reads the frame's rows as Python values
    reference = load_facts({kind: frame.to_dicts()}, assume_tz=zone)
    check(lambda: scan_facts({kind: frame}, assume_tz=zone), reference)
    check(lambda: scan_facts({kind: frame.lazy()}, assume_tz=zone), reference)
    check(
        lambda: scan_facts({kind: rows}, assume_tz=zone), load_facts({kind: rows}, assume_tz=zone)
    )
    pd = pytest.importorskip("pandas")
    with_none = pd.DataFrame(
        {c: pd.Series(frame[c].to_list(), dtype=object) for c in frame.columns}
    )
    check(lambda: scan_facts({kind: with_none}, assume_tz=zone), reference)


# --- generated typed columns: Parquet and Polars ---------------------------------------------

_SH = ZoneInfo("Asia/Shanghai")


def _typed_columns(kind: str, name: str) -> list[tuple[Any, list[Any]]]:
    """(Polars dtype, values) choices for one field: good values and bad ones."""
    check = field_specs(kind)[name].check
    ints = [0, 1, 2, 5, 10, 12]
    moments = [datetime(2024, 3, 1, 9, tzinfo=_SH), datetime(2024, 3, 2, 1, 30, tzinfo=UTC)]
    naive = [datetime(2024, 3, 1, 9), datetime(2024, 11, 3, 1, 30), datetime(2024, 3, 10, 2, 30)]
    if check == "id":
        return [(pl.String, ["x-1", "x-2", "x-1 ", ""]), (pl.Int64, [1, 2, -3])]
    if check == "int":
        return [
            (pl.Int64, [*ints, -1, 2**62]),
            (pl.UInt64, [3, 2**63, 2**64 - 1]),
            (pl.Float64, [1.0, 1.5, float("nan"), 2.0]),
            (pl.Int8, [1, 2, -1]),
            (pl.Boolean, [True, False]),
            (pl.Decimal(10, 1), [Decimal("2.0"), Decimal("2.5")]),
        ]
    if check == "money":
        return [
            (pl.Decimal(20, 2), [Decimal("12.50"), Decimal("0.00"), Decimal("-1.00")]),
            (pl.Decimal(20, 3), [Decimal("1.230"), Decimal("1.234")]),
            (pl.Decimal(38, 0), [Decimal(10**20), Decimal(7)]),
            (pl.Float64, [12.5, float("nan")]),
            (pl.Int64, [5, 0, -1, 2**62]),
        ]
    if check == "ratio":
        return [(pl.String, ["30%", "1/3", "3/0"]), (pl.Int64, [0, 1, 2])]
    if check == "instant":
        return [
            (pl.Datetime("us", "Asia/Shanghai"), moments),
            (pl.Datetime("us", "UTC"), moments),
            (pl.Datetime("ms", "America/New_York"), moments),
            (pl.Datetime("us"), naive),
            (pl.Datetime("ns", "UTC"), moments),
            (pl.Date, [date(2024, 3, 1)]),
        ]
    if check == "day":
        return [
            (pl.Date, [date(2024, 3, 1), date(2024, 3, 31), date(2023, 1, 1)]),
            (pl.Datetime("us"), [datetime(2024, 3, 1), datetime(2024, 3, 1, 0, 0, 1)]),
            (pl.Datetime("ns"), [datetime(2024, 3, 2)]),
            (pl.Datetime("us", "UTC"), [datetime(2024, 3, 1, tzinfo=UTC)]),
        ]
    if check == "bool":
        return [(pl.Boolean, [True, False]), (pl.Int64, [0, 1, 2]), (pl.String, ["是", "x"])]
    good, bad = _pool(kind, name)
    return [(pl.String, good + bad[:1]), (pl.Int64, [1])]


@st.composite
def typed_frames(draw: st.DrawFn, kind: str, *, max_rows: int = 8) -> Any:
    names = list(field_specs(kind))
    optional = [n for n in names if not field_specs(kind)[n].required]
    chosen = set(draw(st.lists(st.sampled_from(optional or names), unique=True)))
    columns = [n for n in names if field_specs(kind)[n].required or n in chosen]
    height = draw(st.integers(0, max_rows))
    data: dict[str, list[Any]] = {}
    schema: dict[str, Any] = {}
    for name in columns:
        dtype, values = draw(st.sampled_from(_typed_columns(kind, name)))
        first = values[0]
        cell = st.sampled_from([first] * 4 + values) | st.none()
        data[name] = [draw(cell) for _ in range(height)]
        schema[name] = dtype
    return pl.DataFrame(data, schema=schema)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), zone=ZONES)
def test_typed_columns_agree(tmp_path_factory: Any, data: Any, zone: str | None) -> None:
    kind = data.draw(st.sampled_from(KINDS))
    _check_typed(tmp_path_factory.mktemp("t"), kind, data.draw(typed_frames(kind)), zone)


@pytest.mark.slow
@settings(max_examples=SLOW, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), zone=ZONES)
def test_typed_columns_agree_long(tmp_path_factory: Any, data: Any, zone: str | None) -> None:
    kind = data.draw(st.sampled_from(KINDS))
    frame = data.draw(typed_frames(kind, max_rows=30))
    _check_typed(tmp_path_factory.mktemp("t"), kind, frame, zone)


def _check_typed(tmp: Path, kind: str, frame: Any, zone: str | None) -> None:
    path = tmp / f"{kind}.parquet"
    frame.write_parquet(path)
    check(lambda: scan_facts(path, assume_tz=zone), load_facts(path, assume_tz=zone))
    reference = load_facts({kind: frame}, assume_tz=zone)  # frames: NaN null, whole floats ints
    check(lambda: scan_facts({kind: frame}, assume_tz=zone), reference)


# --- several sources: directories, duplicates across files -------------------------------------


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_folder_of_files_agrees(tmp_path_factory: Any, data: Any) -> None:
    tmp = tmp_path_factory.mktemp("dir")
    for kind in ("orders", "complaints"):
        write_csv(tmp / f"{kind}.a.csv", full_rows(kind, data.draw(text_rows(kind))))
        text_frame(full_rows(kind, data.draw(text_rows(kind)))).write_parquet(
            tmp / f"{kind}.b.parquet"
        )
        rows = full_rows(kind, data.draw(text_rows(kind)))
        (tmp / f"{kind}.c.jsonl").write_text("".join(_json_line(r) for r in rows), encoding="utf-8")
    kinds = ("orders", "settlements")
    document = {kind: full_rows(kind, data.draw(text_rows(kind))) for kind in kinds}
    (tmp / "more.json").write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    check(lambda: scan_facts(tmp), load_facts(tmp))


def _json_line(row: dict[str, str | None]) -> str:
    return json.dumps(row, ensure_ascii=False) + "\n"


# --- hand-written cases, one per check --------------------------------------------------------


def order(i: int, **changes: object) -> dict[str, object]:
    row: dict[str, object] = {
        "id": f"o-{i}",
        "institution_id": "h-1",
        "enterprise_id": "e-1",
        "product_id": "p-1",
        "sent_at": "2024-03-01T09:00+08:00",
        "ordered_quantity": "10",
    }
    row.update(changes)
    return row


CASES = [
    ("naive timestamp", {"sent_at": "2024-03-01 09:00"}, "sent_at", "naive timestamp"),
    ("negative quantity", {"delivered_quantity": "-1"}, "delivered_quantity", "negative"),
    ("huge quantity", {"ordered_quantity": str(2**63)}, "ordered_quantity", None),
    (
        "delivered > ordered",
        {"delivered_quantity": "11"},
        "delivered_quantity",
        "delivered_quantity (11) is greater than ordered_quantity (10)",
    ),
    ("duplicate id", {"id": "o-1"}, "id", "duplicate id 'o-1', first seen at row 1"),
    ("missing required", {"institution_id": None}, "institution_id", "required"),
    ("unparsable", {"ordered_quantity": "ten"}, "ordered_quantity", "got 'ten'"),
    ("responded before sent", {"responded_at": "2024-03-01T08:00+08:00"}, "responded_at", None),
    ("money precision", {"amount": "1.234"}, "amount", "at most 2 decimal places"),
    ("not a date", {"sent_at": "2024-02-30T09:00+08:00"}, "sent_at", "ISO 8601"),
]


@pytest.mark.parametrize(("case", "changes", "field", "reason"), CASES, ids=[c[0] for c in CASES])
def test_each_check_gives_the_loaders_reject(
    tmp_path: Path, case: str, changes: dict[str, object], field: str, reason: str | None
) -> None:
    rows = [order(1), order(2, **changes), order(3)]
    text = [{k: None if v is None else str(v) for k, v in r.items()} for r in rows]
    path = tmp_path / "orders.csv"
    write_csv(path, text)
    reference = load_facts(path)
    if not fits_int64(reference):  # until the models refuse integers past Int64
        with pytest.raises(FactsError, match="does not fit"):
            scan_facts(path)
        return
    result = scan_facts(path)
    assert_same(result, reference)
    (reject,) = result.rejects
    assert (reject.row, reject.line, reject.field) == (2, 3, field), case
    table = result.rejects_table()
    assert table.rows() == [(str(path), "orders", 2, 3, reject.row_id, field, reject.reason)]
    assert reason is None or reason in reject.reason
    assert result.tables["orders"].get_column(SRC_ROW).to_list() == [1, 3]
    assert result.tables["orders"].get_column("__row").to_list() == [0, 1]


def test_encodings_of_a_valid_order() -> None:
    frame = pl.DataFrame(
        {
            "id": [" o-1 "],
            "institution_id": [7],
            "enterprise_id": ["e-1"],
            "product_id": ["p-1"],
            "sent_at": ["2024-03-01T09:00:00.5+08:00"],
            "ordered_quantity": ["+12"],
            "delivered_quantity": [None],
            "amount": ["12.5"],
            "offline": ["是"],
        }
    )
    result = validate_frame("orders", frame)
    assert result.rejects == ()
    row = result.table.row(0, named=True)
    sent = datetime(2024, 3, 1, 1, tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    assert row["id"] == "o-1"
    assert row["institution_id"] == "7"
    assert row["sent_at"] == sent // timedelta(microseconds=1) + 500_000
    assert (row["ordered_quantity"], row["delivered_quantity"]) == (12, 0)
    assert row["amount"] == 1250
    assert row["offline"] is True
    assert row["__row"] == 0
    assert row[SRC_ROW] == 1


def test_ratios_are_numerator_and_denominator() -> None:
    frame = pl.DataFrame(
        {"id": ["b-1", "b-2", "b-3"], "non_selected_share_limit": ["30%", None, "1/3"]}
    )
    table = validate_frame("batches", frame).table
    pairs = table.select("non_selected_share_limit__n", "non_selected_share_limit__d").rows()
    assert pairs == [(3, 10), (None, None), (1, 3)]
    assert [Fraction(3, 10), None, Fraction(1, 3)] == [
        f.non_selected_share_limit for f in scan_facts({"batches": frame}).to_fact_set().batches
    ]


def test_assume_tz_localizes_naive_timestamps() -> None:
    frame = pl.DataFrame(
        {
            "id": ["c-1"],
            "institution_id": ["h"],
            "enterprise_id": ["e"],
            "raised_at": ["2024-03-01 09:00"],
        }
    )
    assert len(validate_frame("complaints", frame).rejects) == 1
    table = validate_frame("complaints", frame, assume_tz="Asia/Shanghai").table
    expected = datetime(2024, 3, 1, 1, tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    assert table.get_column("raised_at").to_list() == [expected // timedelta(microseconds=1)]
    fixed = validate_frame("complaints", frame, assume_tz=timezone(timedelta(hours=8))).table
    assert fixed.get_column("raised_at").equals(table.get_column("raised_at"))


def test_nan_is_null_in_both_paths() -> None:
    frame = pl.DataFrame(
        {
            "id": ["s-1", "s-2"],
            "institution_id": ["h", "h"],
            "accepted_at": ["2024-03-01T09:00Z"] * 2,
            "amount": ["1.00", "2.00"],
            "enterprise_id": [float("nan"), 1.5],
        }
    )
    result = scan_facts({"settlements": frame})
    assert_same(result, load_facts({"settlements": frame.to_dicts()}))
    assert result.tables["settlements"].get_column("enterprise_id").to_list() == [None]
    assert [r.field for r in result.rejects] == ["enterprise_id"]


def test_pandas_nan_is_null() -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"id": ["e-1", "e-2"], "name": ["甲", float("nan")]})
    result = scan_facts({"enterprises": frame})
    assert result.rejects == ()
    assert result.tables["enterprises"].get_column("name").to_list() == ["甲", None]


def test_duplicate_ids_across_files_name_the_first_file(tmp_path: Path) -> None:
    write_csv(tmp_path / "orders.1.csv", [{k: str(v) for k, v in order(1).items()}])
    pl.DataFrame({k: [str(v)] for k, v in order(1).items()}).write_parquet(
        tmp_path / "orders.2.parquet"
    )
    result = scan_facts(tmp_path)
    assert_same(result, load_facts(tmp_path))
    (reject,) = result.rejects
    assert reject.reason == f"duplicate id 'o-1', first seen at {tmp_path / 'orders.1.csv'} row 1"


def test_unknown_columns_are_one_error_per_file(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    write_csv(path, [{**{k: str(v) for k, v in order(1).items()}, "deliverd_at": "", "zz": "1"}])
    message = (
        r"orders.csv:1: unknown columns for orders: 'deliverd_at' "
        r"\(did you mean 'delivered_at'\?\), 'zz'$"
    )
    for read in (load_facts, scan_facts):
        with pytest.raises(FactsError, match=message):
            read(path)
    frame = pl.DataFrame(
        {"id": ["o-1"], "deliverd_at": [None]}, schema={"id": pl.String, "deliverd_at": pl.String}
    )
    with pytest.raises(FactsError, match=r"python \(orders frame\): unknown column for orders"):
        validate_frame("orders", frame)
    frame.write_parquet(tmp_path / "orders.parquet")
    with pytest.raises(FactsError, match=r"orders.parquet: unknown column"):
        scan_facts(tmp_path / "orders.parquet")


def test_every_kind_has_a_table_with_the_encoded_schema() -> None:
    result = scan_facts({"orders": []})
    assert set(result.tables) == set(FACT_KINDS)
    for kind, table in result.tables.items():
        assert table.columns == [c.name for c in normalized_columns(kind)] + [SRC_ROW]
        assert table.height == 0
    assert result.total_rows() == 0


def test_csv_the_polars_reader_cannot_read_goes_through_the_row_reader(tmp_path: Path) -> None:
    path = tmp_path / "enterprises.csv"
    path.write_text("id,name\ne-1,甲,extra\ne-2,乙\n", encoding="utf-8")
    assert_same(scan_facts(path), load_facts(path))
    assert len(scan_facts(path).rejects) == 1


def test_csv_blank_lines_bom_and_multiline_cells(tmp_path: Path) -> None:
    path = tmp_path / "enterprises.csv"
    text = '\ufeff\n  \n id , name \n\ne-1,"甲\n乙"\n , \ne-1,x\n"",y\n'
    path.write_text(text, encoding="utf-8")
    result = scan_facts(path)
    assert_same(result, load_facts(path))
    assert [(r.row, r.line) for r in result.rejects] == [(2, 8), (3, 9)]


# --- the screen knows every field and check of the models -----------------------------------


def test_the_screen_understands_every_field_and_model_check() -> None:
    # A new validator or constraint would send every such value through pydantic (still
    # correct, but slow): teach the screen (facts/_screen.py) when this fails.
    assert opaque_fields() == {}
    assert {kind: unknown_model_checks(m) for kind, m in FACT_KINDS.items()} == {
        key: [] for key in FACT_KINDS
    }


@pytest.mark.parametrize("char", sorted(set(PY_SPACE)))
def test_text_strips_as_pydantic_does(char: str) -> None:
    text = f"{char}甲{char}"
    expected = Enterprise(id="e", name=text).name
    assert (text.strip(RUST_SPACE) or None) == expected


def _two_orders() -> list[dict[str, object]]:
    return [order(1), order(2, sent_at="2024-03-01 09:00"), order(3, ordered_quantity="0")]


def test_duckdb_and_pyarrow_frames() -> None:
    duckdb = pytest.importorskip("duckdb")
    rows = _two_orders()
    frame = pl.DataFrame(rows)
    reference = load_facts({"orders": rows})
    relation = duckdb.sql("select * from frame")
    for native in (relation, frame.to_arrow()):
        result = validate_frame("orders", native)
        assert result.rejects == reference.rejects
        assert result.table.get_column("id").to_list() == ["o-1"]


def test_a_frame_polars_cannot_hold_goes_row_by_row() -> None:
    pd = pytest.importorskip("pandas")
    mixed = pd.DataFrame({"id": ["e-1", 2], "name": ["甲", 3]})
    result = scan_facts({"enterprises": mixed})
    rows = [{"id": "e-1", "name": "甲"}, {"id": 2, "name": 3}]
    assert_same(result, load_facts({"enterprises": rows}))
    assert [(r.row, r.field) for r in result.rejects] == [(2, "name")]
