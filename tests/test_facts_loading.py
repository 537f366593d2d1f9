"""Specification of fact loading: formats, rejected inputs, accounting, time zones."""

from __future__ import annotations

import csv
import io
import json
import sys
import tempfile
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vbp_rules.errors import FactsError
from vbp_rules.facts import (
    FACT_KINDS,
    SHANGHAI,
    Complaint,
    FactSet,
    Order,
    RejectedInput,
    load_facts,
)

DATA = Path(__file__).parent / "data" / "facts"
SAMPLE = DATA / "sample"

Row = dict[str, Any]

# --- writing rows in each format ----------------------------------------------------------


def _columns(rows: list[Row]) -> list[str]:
    return list(dict.fromkeys(key for row in rows for key in row))


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def write_csv(path: Path, rows: list[Row]) -> None:
    columns = _columns(rows)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([_cell(row.get(c)) for c in columns] for row in rows)


def write_json(path: Path, rows: list[Row]) -> None:
    body = ",\n".join(json.dumps(row, ensure_ascii=False) for row in rows)
    path.write_text(f"[\n{body}\n]\n", encoding="utf-8")


def write_jsonl(path: Path, rows: list[Row]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")


def _yaml_scalar(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(str(value), ensure_ascii=False)  # a valid YAML double-quoted scalar


def write_yaml(path: Path, rows: list[Row]) -> None:
    lines = []
    for row in rows:
        for index, (key, value) in enumerate(row.items()):
            lines.append(f"{'- ' if index == 0 else '  '}{key}: {_yaml_scalar(value)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def yaml_line(rows: list[Row], row_index: int, field: str | None) -> int:
    """The line of ``field`` (or of the row) in what :func:`write_yaml` writes."""
    start = 1 + sum(len(r) for r in rows[:row_index])
    keys = list(rows[row_index])
    return start + keys.index(field) if field in keys else start


WRITERS: dict[str, Callable[[Path, list[Row]], None]] = {
    "csv": write_csv,
    "json": write_json,
    "jsonl": write_jsonl,
    "yaml": write_yaml,
}


def load_as(fmt: str, tmp: Path, kind: str, rows: list[Row], **options: Any) -> FactSet:
    if fmt == "python":
        return FactSet.from_records({kind: rows}, **options)
    path = tmp / f"{kind}.{fmt}"
    WRITERS[fmt](path, rows)
    return load_facts(path, **options)


def expected_line(fmt: str, rows: list[Row], row_index: int, field: str | None) -> int | None:
    if fmt == "python":
        return None
    if fmt == "csv":
        return row_index + 2  # after the header
    if fmt == "json":
        return row_index + 2  # after the opening bracket
    if fmt == "jsonl":
        return row_index + 1
    return yaml_line(rows, row_index, field)


# --- one bad row between two good ones, in every format ----------------------------------


def order(i: int, **changes: object) -> Row:
    row: Row = {
        "id": f"o-{i}",
        "institution_id": "h-001",
        "enterprise_id": "e-01",
        "product_id": "p-100",
        "sent_at": "2024-03-01T09:00:00+08:00",
        "responded_at": "2024-03-01T10:00:00+08:00",
        "ordered_quantity": 10,
        "delivered_quantity": 10,
        "amount": "12.50",
    }
    row.update(changes)
    return row


def batch(i: int, **changes: object) -> Row:
    return {"id": f"b-{i}", "name": "第九批", "non_selected_share_limit": "30%", **changes}


BASES: dict[str, Callable[..., Row]] = {"orders": order, "batches": batch}

# name, kind, changes to the row, keys to drop, field blamed, words in the reason
REJECTIONS: list[tuple[str, str, dict[str, object], tuple[str, ...], str, str]] = [
    (
        "naive timestamp",
        "orders",
        {"sent_at": "2024-03-01 09:00"},
        (),
        "sent_at",
        "naive timestamp '2024-03-01 09:00' has no time zone; add +08:00 or pass assume_tz",
    ),
    (
        "negative quantity",
        "orders",
        {"delivered_quantity": -1},
        (),
        "delivered_quantity",
        "must not be negative, got -1",
    ),
    (
        "delivered > ordered",
        "orders",
        {"delivered_quantity": 11},
        (),
        "delivered_quantity",
        "delivered_quantity (11) is greater than ordered_quantity (10)",
    ),
    (
        "unknown field",
        "orders",
        {"sent_time": "2024-03-01T09:00:00+08:00"},
        (),
        "sent_time",
        "unknown field for orders; did you mean 'sent_at'?",
    ),
    (
        "duplicate id",
        "orders",
        {"id": "o-1"},
        (),
        "id",
        "duplicate id 'o-1', first seen at row 1",
    ),
    (
        "wrong type",
        "orders",
        {"ordered_quantity": "ten"},
        (),
        "ordered_quantity",
        "must be a whole number, got 'ten'",
    ),
    (
        "too many decimals",
        "orders",
        {"amount": "12.345"},
        (),
        "amount",
        "at most 2 decimal places",
    ),
    (
        "responded before sent",
        "orders",
        {"responded_at": "2024-03-01T08:59:59+08:00"},
        (),
        "responded_at",
        "is before sent_at",
    ),
    (
        "bad ratio 130%",
        "batches",
        {"non_selected_share_limit": "130%"},
        (),
        "non_selected_share_limit",
        "between 0 and 1",
    ),
    (
        "missing required field",
        "orders",
        {},
        ("institution_id",),
        "institution_id",
        "required, but missing or empty",
    ),
]
FORMATS = ["csv", "json", "jsonl", "yaml", "python"]


def _three_rows(kind: str, changes: Mapping[str, object], drop: tuple[str, ...]) -> list[Row]:
    make = BASES[kind]
    bad = make(2, **changes)
    for key in drop:
        del bad[key]
    return [make(1), bad, make(3)]


Rejection = tuple[str, str, dict[str, object], tuple[str, ...], str, str]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("rejection", REJECTIONS, ids=[case[0] for case in REJECTIONS])
def test_a_bad_row_is_rejected_and_the_rest_loaded(
    tmp_path: Path, fmt: str, rejection: Rejection
) -> None:
    case, kind, changes, drop, field, reason = rejection
    rows = _three_rows(kind, changes, drop)
    if fmt == "csv" and case == "unknown field":  # a header-level error in a table
        with pytest.raises(FactsError, match=r"orders.csv:1: unknown column for orders"):
            load_as(fmt, tmp_path, kind, rows)
        return
    facts = load_as(fmt, tmp_path, kind, rows)
    assert [f.id for f in facts.rows(kind)] == [rows[0]["id"], rows[2]["id"]], case
    assert facts.total_rows() == 3
    (reject,) = facts.rejects
    assert reject.source == ("python" if fmt == "python" else str(tmp_path / f"{kind}.{fmt}"))
    assert reject.kind == kind
    assert reject.row == 2
    assert reject.line == expected_line(fmt, rows, 1, field)
    assert reject.field == field
    assert reason in reject.reason
    assert reject.row_id == rows[1]["id"]
    assert reject.raw is not None
    assert reject.raw["id"] == rows[1]["id"]


@pytest.mark.parametrize("value", [12.5, 0.1, 3.0])
def test_float_money_from_python_is_rejected(value: float) -> None:
    facts = FactSet.from_records({"orders": [order(1), order(2, amount=value), order(3)]})
    (reject,) = facts.rejects
    assert (reject.row, reject.field) == (2, "amount")
    assert "must not be a binary float" in reject.reason
    assert len(facts.orders) == 2


def test_float_ratio_from_python_is_rejected() -> None:
    facts = FactSet.from_records({"batches": [batch(1, non_selected_share_limit=0.3)]})
    assert "binary float" in facts.rejects[0].reason


def test_rejected_input_str() -> None:
    reject = RejectedInput(
        source="orders.csv",
        kind="orders",
        row=13,
        line=14,
        field="sent_at",
        reason="naive timestamp '2024-03-01 09:00' has no time zone; add +08:00 or pass assume_tz",
    )
    assert str(reject) == (
        "orders.csv:14 (row 13) field 'sent_at': naive timestamp '2024-03-01 09:00' has no "
        "time zone; add +08:00 or pass assume_tz"
    )
    other = RejectedInput(source="facts.yaml", kind="orders", row=2, line=20, reason="x")
    assert str(other) == "facts.yaml:20 (orders row 2): x"
    assert str(RejectedInput(source="python", reason="y")) == "python: y"


def test_several_problems_in_one_row_are_all_reported() -> None:
    facts = FactSet.from_records(
        {"orders": [order(1, ordered_quantity="ten", amount="1.234", bogus=1)]}
    )
    (reject,) = facts.rejects
    assert reject.field == "ordered_quantity"
    assert "and 2 more" in reject.reason
    assert "amount:" in reject.reason
    assert "bogus: unknown field" in reject.reason


# --- the shipped sample files -------------------------------------------------------------

SAMPLE_REJECTS = [
    # file, kind, row, line, field, words in the reason
    ("facts.json", "orders", 2, 6, "ordered_quantity", "not a boolean"),
    ("facts.json", "orders", 3, 8, "amount", "decimal places), got 12.345"),
    ("facts.json", "orders", 4, 10, "ordered_quantity", "appears more than once"),
    ("facts.json", "orders", 5, 12, "product_id", "required"),
    ("facts.json", "complaints", 1, 18, "replied_at", "is before raised_at"),
    ("facts.yaml", "batches", 1, 4, "non_selected_share_limit", "got '130%'"),
    ("facts.yaml", "orders", 2, 20, "sent_time", "did you mean 'sent_at'?"),
    ("facts.yaml", "orders", 3, 28, "ordered_quantity", "appears more than once"),
    ("facts.yaml", "orders", 4, 30, "ordered_quantity", "whole number, got 1.5"),
    ("facts.yaml", "orders", 5, 38, "amount", "got 0.125"),
    ("orders.csv", "orders", 2, 3, "sent_at", "naive timestamp '2024-03-01 09:00'"),
    ("orders.csv", "orders", 3, 4, "delivered_quantity", "must not be negative"),
    ("orders.csv", "orders", 4, 5, "delivered_quantity", "greater than ordered_quantity"),
    ("orders.csv", "orders", 5, 7, "id", "duplicate id 'c-1', first seen at row 1"),
    ("orders.csv", "orders", 6, 8, "ordered_quantity", "got 'ten'"),
    ("orders.csv", "orders", 7, 9, "amount", "at most 2 decimal places"),
    ("orders.csv", "orders", 8, 10, "responded_at", "is before sent_at"),
    ("orders.csv", "orders", 10, 13, "ordered_quantity", "greater than 0"),
]


def test_sample_directory() -> None:
    facts = load_facts(SAMPLE)
    names = ["facts.json", "facts.yaml", "orders.csv"]
    assert facts.sources == tuple(str(SAMPLE / name) for name in names)
    found = [(Path(r.source).name, r.kind, r.row, r.line, r.field, r.reason) for r in facts.rejects]
    assert len(found) == len(SAMPLE_REJECTS)
    for got, (name, kind, row, line, field, words) in zip(found, SAMPLE_REJECTS, strict=True):
        assert got[:5] == (name, kind, row, line, field)
        assert words in got[5], got
    assert [o.id for o in facts.orders] == ["j-1", "j-6", "y-1", "c-1", "c-9", "c-11"]
    assert [b.id for b in facts.batches] == ["b-2"]
    assert facts.batches[0].non_selected_share_limit == Fraction(3, 10)
    assert facts.total_rows() == 8 + 7 + 11
    by_id = {o.id: o for o in facts.orders}
    assert by_id["j-1"].amount == Decimal("0.10")  # JSON 0.1 read exactly
    assert by_id["y-1"].amount == Decimal("12.50")  # YAML 12.5 read exactly
    assert by_id["c-9"].generic_name == "阿莫西林\n胶囊"  # a quoted cell over two lines
    assert by_id["c-9"].sent_at == datetime(2024, 3, 1, 17, 0, tzinfo=SHANGHAI)
    assert by_id["c-11"].delivered_quantity == 3


def test_sample_csv_with_assume_tz() -> None:
    facts = load_facts(SAMPLE / "orders.csv", assume_tz="Asia/Shanghai")
    c2 = next(o for o in facts.orders if o.id == "c-2")
    assert c2.sent_at == datetime(2024, 3, 1, 9, 0, tzinfo=SHANGHAI)
    assert all(r.field != "sent_at" for r in facts.rejects)


# --- round trips --------------------------------------------------------------------------

GOOD = load_facts(DATA / "all_kinds.yaml")


def _same_facts(a: FactSet, b: FactSet) -> None:
    for kind in FACT_KINDS:
        assert a.rows(kind) == b.rows(kind), kind
    assert a.rejects == b.rejects == ()


def _json_rows(kind: str) -> list[Row]:
    return [fact.model_dump(mode="json") for fact in GOOD.rows(kind)]


@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl", "yaml"])
def test_round_trip_one_file_per_kind(tmp_path: Path, fmt: str) -> None:
    for kind in FACT_KINDS:
        WRITERS[fmt](tmp_path / f"{kind}.{fmt}", _json_rows(kind))
    _same_facts(load_facts(tmp_path), GOOD)


def test_round_trip_json_document(tmp_path: Path) -> None:
    document = {"$schema": "facts.schema.json"} | {k: _json_rows(k) for k in FACT_KINDS}
    path = tmp_path / "facts.json"
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2), encoding="utf-8")
    _same_facts(load_facts(path), GOOD)


def test_round_trip_yaml_document(tmp_path: Path) -> None:
    from ruamel.yaml import YAML

    path = tmp_path / "facts.yml"
    with path.open("w", encoding="utf-8") as handle:
        YAML(typ="safe", pure=True).dump({k: _json_rows(k) for k in FACT_KINDS}, handle)
    _same_facts(load_facts(path), GOOD)


def _arrow_value(value: object) -> object:
    return str(value) if isinstance(value, Fraction) else value


def test_round_trip_parquet_with_native_types(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    for kind in FACT_KINDS:
        rows = [
            {k: _arrow_value(v) for k, v in fact.model_dump().items()} for fact in GOOD.rows(kind)
        ]
        pq.write_table(pa.Table.from_pylist(rows), tmp_path / f"{kind}.parquet")
    schema = pq.read_schema(tmp_path / "orders.parquet")
    assert str(schema.field("sent_at").type) == "timestamp[us, tz=Asia/Shanghai]"
    assert str(schema.field("amount").type).startswith("decimal")
    _same_facts(load_facts(tmp_path), GOOD)


def test_parquet_rejects_float_money_and_naive_timestamps(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    table = pa.table(
        {
            "id": ["o-1", "o-2", "o-3"],
            "institution_id": ["h-1"] * 3,
            "enterprise_id": ["e-1"] * 3,
            "product_id": ["p-1"] * 3,
            "sent_at": pa.array([datetime(2024, 3, 1, 9, 0)] * 3, pa.timestamp("us")),
            "ordered_quantity": pa.array([10, 10, 10], pa.int64()),
            "amount": pa.array([None, 12.5, None], pa.float64()),
        }
    )
    path = tmp_path / "export.parquet"
    pq.write_table(table, path)
    strict = load_facts(path, kind="orders")
    assert strict.orders == ()
    assert [(r.row, r.line, r.field) for r in strict.rejects] == [
        (1, None, "sent_at"),
        (2, None, "sent_at"),
        (3, None, "sent_at"),
    ]
    assert "naive timestamp '2024-03-01 09:00:00'" in strict.rejects[0].reason
    relaxed = load_facts(path, kind="orders", assume_tz="Asia/Shanghai")
    assert [o.id for o in relaxed.orders] == ["o-1", "o-3"]
    assert relaxed.orders[0].sent_at == datetime(2024, 3, 1, 9, 0, tzinfo=SHANGHAI)
    (reject,) = relaxed.rejects
    assert (reject.row, reject.field) == (2, "amount")
    assert "binary float" in reject.reason


def test_parquet_without_pyarrow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)  # import fails
    path = tmp_path / "orders.parquet"
    path.write_bytes(b"PAR1")
    with pytest.raises(FactsError, match=r"install vbp-rules\[frame\] to read Parquet"):
        load_facts(path)


def test_unreadable_parquet(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    path = tmp_path / "orders.parquet"
    path.write_bytes(b"not parquet at all")
    with pytest.raises(FactsError, match="cannot read Parquet"):
        load_facts(path)


# --- time zones ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("Asia/Shanghai", datetime(2024, 3, 1, 9, 0, tzinfo=SHANGHAI)),
        ("UTC", datetime(2024, 3, 1, 17, 0, tzinfo=SHANGHAI)),
        ("Europe/Berlin", datetime(2024, 3, 1, 16, 0, tzinfo=SHANGHAI)),
    ],
)
@pytest.mark.parametrize("fmt", FORMATS)
def test_assume_tz_localizes_naive_timestamps(
    tmp_path: Path, fmt: str, zone: str, expected: datetime
) -> None:
    rows = [order(1, sent_at="2024-03-01 09:00", responded_at=None)]
    facts = load_as(fmt, tmp_path, "orders", rows, assume_tz=zone)
    assert facts.rejects == ()
    assert facts.orders[0].sent_at == expected
    assert facts.orders[0].sent_at.tzinfo is SHANGHAI


def test_assume_tz_leaves_aware_timestamps_alone() -> None:
    facts = FactSet.from_records(
        {"orders": [order(1, sent_at="2024-03-01T01:00Z", responded_at=None)]}, assume_tz="UTC"
    )
    assert facts.orders[0].sent_at == datetime(2024, 3, 1, 9, 0, tzinfo=SHANGHAI)


def test_unknown_assume_tz() -> None:
    with pytest.raises(FactsError, match="unknown time zone 'Asia/Shangai'"):
        load_facts({"orders": []}, assume_tz="Asia/Shangai")


# --- whole-file errors --------------------------------------------------------------------


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("facts.json", '{"orders": [\n  {"id": "o-1",}\n]}', r"facts.json:2: invalid JSON"),
        ("facts.json", '{"orders": [], "order": []}', r"unknown fact kind 'order'; did you mean"),
        ("facts.json", '{"orders": [], "orders": []}', r"fact kind 'orders' appears twice"),
        ("facts.json", '{"orders": {"id": "o-1"}}', r"'orders' must hold a list of rows"),
        ("facts.json", '[{"id": "o-1"}]', r"cannot tell the fact kind"),
        ("facts.json", '"orders"', r"holds \{kind: \[rows\]\} or a list"),
        ("facts.json", '{"orders": []} []', r"extra data"),
        ("orders.json", '[{"id": "o-1", "amount": NaN}]', r"NaN is not a JSON number"),
        ("facts.yaml", "orders:\n  - id: o-1\n   bad: indent\n", r"facts.yaml:3: invalid YAML"),
        ("facts.yaml", "complaint: []\n", r"facts.yaml:1: unknown fact kind 'complaint'"),
        ("facts.yaml", "orders: []\norders: []\n", r"facts.yaml:2: fact kind 'orders' appears"),
        ("facts.yaml", "orders: 3\n", r"'orders' must hold a list of rows"),
        ("facts.yaml", "- id: o-1\n", r"cannot tell the fact kind"),
        ("facts.yaml", "just text\n", r"holds \{kind: \[rows\]\} or a list"),
        ("facts.yaml", "a: 1\n---\nb: 2\n", r"invalid YAML"),
        (
            "facts.yaml",
            "orders:\n  - &o {id: o-1}\n  - *o\n",
            r"facts.yaml:3: invalid YAML: YAML aliases \(\*o\) are not allowed",
        ),
        (
            "facts.yaml",
            "orders:\n  - &o {id: o-1}\n  - <<: *o\n    id: o-2\n",
            r"YAML aliases \(\*o\) are not allowed",
        ),
        ("orders.csv", "id,id\no-1,o-2\n", r"orders.csv:1: column 'id' appears twice"),
        ("orders.csv", 'id,generic_name\n"o-1,x\n', r"orders.csv:\d+: invalid CSV"),
        (
            "orders.csv",
            "id,deliverd_at,zzz\no-1,,\n",
            r"orders.csv:1: unknown columns for orders: 'deliverd_at' "
            r"\(did you mean 'delivered_at'\?\), 'zzz'$",
        ),
        ("order.csv", "id\no-1\n", r"cannot tell the fact kind.*did you mean 'orders'\?"),
        ("orders.xlsx", "", r"unsupported file type '.xlsx'"),
    ],
)
def test_unreadable_sources_raise(tmp_path: Path, name: str, text: str, message: str) -> None:
    path = _write(tmp_path, name, text)
    with pytest.raises(FactsError, match=message):
        load_facts(path)


def test_yaml_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}]" for i in range(1, 30)]
    path = _write(tmp_path, "facts.yaml", "\n".join(lines) + "\n")
    # refused at the first alias, before anything is expanded (timing lives in bench/)
    with pytest.raises(FactsError, match="aliases"):
        load_facts(path)


def test_yaml_anchor_without_alias_is_fine(tmp_path: Path) -> None:
    path = _write(tmp_path, "facts.yaml", "enterprises:\n  - &e {id: e-1}\n")
    assert [e.id for e in load_facts(path).enterprises] == ["e-1"]


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "enterprises.csv"
    path.write_bytes("id,name\ne-1,阿莫西林\n".encode("gbk"))
    with pytest.raises(FactsError, match="not UTF-8"):
        load_facts(path)


def test_missing_source(tmp_path: Path) -> None:
    with pytest.raises(FactsError, match="no such file or directory"):
        load_facts(tmp_path / "nowhere.csv")


def test_kind_argument(tmp_path: Path) -> None:
    path = tmp_path / "export-2024-03.csv"
    write_csv(path, [order(1), order(2)])
    assert len(load_facts(path, kind="orders").orders) == 2
    with pytest.raises(FactsError, match="unknown fact kind 'order'"):
        load_facts(path, kind="order")
    doc = _write(tmp_path, "facts.json", '{"orders": []}')
    with pytest.raises(FactsError, match="kind= was given but the file holds a mapping"):
        load_facts(doc, kind="orders")
    with pytest.raises(FactsError, match="kind= cannot be combined"):
        load_facts({"orders": []}, kind="orders")


def test_kind_from_file_name_up_to_first_dot(tmp_path: Path) -> None:
    write_csv(tmp_path / "orders.2024-03.csv", [order(1)])
    write_csv(tmp_path / "orders.2024-04.csv", [order(2)])
    facts = load_facts(tmp_path)
    assert [o.id for o in facts.orders] == ["o-1", "o-2"]


def test_directory_reads_supported_files_sorted(tmp_path: Path) -> None:
    write_json(tmp_path / "orders.json", [order(2)])
    write_csv(tmp_path / "complaints.csv", [])
    write_csv(tmp_path / "b_orders.csv", [order(1)])
    _write(tmp_path, "README.md", "not facts")
    _write(tmp_path, ".hidden.csv", "garbage")
    (tmp_path / "sub").mkdir()
    write_csv(tmp_path / "sub" / "orders.csv", [order(3)])
    with pytest.raises(FactsError, match=r"b_orders\.csv: cannot tell the fact kind"):
        load_facts(tmp_path)
    (tmp_path / "b_orders.csv").unlink()
    facts = load_facts(tmp_path)
    assert facts.sources == (str(tmp_path / "complaints.csv"), str(tmp_path / "orders.json"))
    assert [o.id for o in facts.orders] == ["o-2"]


def test_json_kind_may_be_null_or_empty(tmp_path: Path) -> None:
    path = _write(tmp_path, "facts.json", '{"orders": null, "complaints": [], "$schema": "x"}')
    facts = load_facts(path)
    assert len(facts) == 0
    assert facts.total_rows() == 0


def test_empty_files(tmp_path: Path) -> None:
    _write(tmp_path, "facts.yaml", "# nothing yet\n")
    _write(tmp_path, "orders.csv", "")
    _write(tmp_path, "complaints.csv", "id,institution_id\n")
    _write(tmp_path, "settlements.jsonl", "\n")
    _write(tmp_path, "listings.json", "[]")
    assert load_facts(tmp_path).total_rows() == 0


# --- row-level problems found while reading ----------------------------------------------


def test_csv_cells_beyond_the_header(tmp_path: Path) -> None:
    path = _write(tmp_path, "enterprises.csv", "id,name\ne-1,甲\ne-2,乙,extra\ne-3,丙,,\ne-4\n")
    facts = load_facts(path)
    assert [e.id for e in facts.enterprises] == ["e-1", "e-3", "e-4"]
    (reject,) = facts.rejects
    assert (reject.row, reject.line) == (2, 3)
    assert "3 cells but the header has 2 columns" in reject.reason


def test_csv_unnamed_column(tmp_path: Path) -> None:
    path = _write(tmp_path, "enterprises.csv", "id,,name\ne-1,,甲\ne-2,x,乙\n")
    facts = load_facts(path)
    assert [e.id for e in facts.enterprises] == ["e-1"]
    assert "in column 2, which has no header" in facts.rejects[0].reason


def test_csv_unknown_column_refuses_the_file(tmp_path: Path) -> None:
    # A header-level problem: one error naming the file and column, not a reject per row
    # (even when nobody filled the column in).
    path = _write(tmp_path, "enterprises.csv", "\nid,nmae\ne-1,\ne-2,乙\n")
    with pytest.raises(
        FactsError,
        match=r"enterprises.csv:2: unknown column for enterprises: "
        r"'nmae' \(did you mean 'name'\?\)$",
    ):
        load_facts(path)


def test_parquet_unknown_column_refuses_the_file(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "enterprises.parquet"
    pq.write_table(pa.table({"id": ["e-1"], "nmae": [None]}), path)
    with pytest.raises(
        FactsError,
        match=r"enterprises.parquet: unknown column for enterprises: "
        r"'nmae' \(did you mean 'name'\?\)$",
    ):
        load_facts(path)


def test_csv_strips_cells_and_reads_bom(tmp_path: Path) -> None:
    path = tmp_path / "institutions.csv"
    path.write_bytes("\ufeffid , level ,public\n h-1 , primary , 否 \n".encode())
    (inst,) = load_facts(path).institutions
    assert (inst.id, inst.level, inst.public) == ("h-1", "primary", False)


def test_jsonl_bad_line_is_a_rejected_row(tmp_path: Path) -> None:
    text = '{"id": "e-1"}\n\n{"id": "e-2",\n{"id": "e-3"}\n[1]\n'
    facts = load_facts(_write(tmp_path, "enterprises.jsonl", text))
    assert [e.id for e in facts.enterprises] == ["e-1", "e-3"]
    assert [(r.row, r.line) for r in facts.rejects] == [(2, 3), (4, 5)]
    assert facts.rejects[0].reason.startswith("invalid JSON")
    assert "must map field names to values" in facts.rejects[1].reason


def test_json_row_that_is_not_an_object(tmp_path: Path) -> None:
    facts = load_facts(_write(tmp_path, "enterprises.json", '[{"id": "e-1"}, 5, "x"]'))
    assert len(facts.enterprises) == 1
    assert [(r.row, r.line, r.raw) for r in facts.rejects] == [(2, 1, None), (3, 1, None)]


def test_yaml_nested_value_is_a_wrong_type(tmp_path: Path) -> None:
    path = _write(tmp_path, "enterprises.yaml", "- id: e-1\n  name: [a, b]\n- id: e-2\n")
    facts = load_facts(path)
    assert [e.id for e in facts.enterprises] == ["e-2"]
    assert (facts.rejects[0].field, facts.rejects[0].line) == ("name", 2)


def test_yaml_booleans_are_not_quantities(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "procurement_groups.yaml",
        "- {id: g-1, generic_name: x, group_count: true, consistency_evaluated_listed_count: 1,"
        " selected_enterprise_count: 1}\n",
    )
    assert "not a boolean" in load_facts(path).rejects[0].reason


# --- the fact set -------------------------------------------------------------------------


def test_from_records_accepts_models_and_rejects_models_of_another_kind() -> None:
    good = Order.model_validate(order(1))
    complaint = Complaint.model_validate(
        {"id": "c-1", "institution_id": "h", "enterprise_id": "e", "raised_at": "2024-01-01T08:00Z"}
    )
    facts = FactSet.from_records({"orders": [good, complaint, order(2)]}, source="api")
    assert facts.orders[0] is good
    assert [o.id for o in facts.orders] == ["o-1", "o-2"]
    (reject,) = facts.rejects
    assert (reject.source, reject.row) == ("api", 2)
    assert "a Complaint is not a orders row" in reject.reason
    assert facts.sources == ("api",)


def test_from_records_checks_its_input() -> None:
    with pytest.raises(FactsError, match="unknown fact kind 'order'"):
        FactSet.from_records({"order": []})
    with pytest.raises(FactsError, match="'orders' must hold a list of rows"):
        FactSet.from_records({"orders": order(1)})  # type: ignore[dict-item]


def test_fact_set_accounting() -> None:
    facts = FactSet.from_records(
        {
            "orders": [order(1), order(2, delivered_quantity=99), order(3)],
            "batches": [batch(1), batch(1)],
            "settlements": None,  # type: ignore[dict-item]
        }
    )
    assert len(facts) == 3
    assert facts.counts()["orders"] == 2
    assert facts.counts()["batches"] == 1
    assert set(facts.counts()) == set(FACT_KINDS)
    assert facts.total_rows() == 5
    assert facts.rows("orders") == facts.orders
    with pytest.raises(FactsError, match="did you mean 'orders'"):
        facts.rows("order")


def test_merge_rejects_ids_already_present(tmp_path: Path) -> None:
    write_csv(tmp_path / "a.csv", [order(1), order(2)])
    write_csv(tmp_path / "b.csv", [order(2), order(3), order(4, delivered_quantity=20)])
    a = load_facts(tmp_path / "a.csv", kind="orders")
    b = load_facts(tmp_path / "b.csv", kind="orders")
    merged = a.merge(b)
    assert [o.id for o in merged.orders] == ["o-1", "o-2", "o-3"]
    assert merged.total_rows() == a.total_rows() + b.total_rows() == 5
    assert merged.sources == (str(tmp_path / "a.csv"), str(tmp_path / "b.csv"))
    assert [r.row for r in merged.rejects] == [3, 1]
    duplicate = merged.rejects[1]
    assert duplicate.source == str(tmp_path / "b.csv")
    assert duplicate.reason == f"duplicate id 'o-2', first seen at {tmp_path / 'a.csv'} row 2"
    assert a.merge(FactSet()) == a


def test_ids_are_unique_across_sources(tmp_path: Path) -> None:
    write_csv(tmp_path / "orders.csv", [order(1)])
    facts = load_facts(tmp_path / "orders.csv", {"orders": [order(1)]})
    (reject,) = facts.rejects
    assert reject.source == "python"
    assert reject.reason == f"duplicate id 'o-1', first seen at {tmp_path / 'orders.csv'} row 1"


def test_fact_set_constructor_checks_its_tuples() -> None:
    one = Order.model_validate(order(1))
    assert FactSet(orders=[one]).orders == (one,)
    with pytest.raises(FactsError, match="holds id 'o-1' twice"):
        FactSet(orders=[one, one])
    complaint = Complaint.model_validate(
        {"id": "c-1", "institution_id": "h", "enterprise_id": "e", "raised_at": "2024-01-01T08:00Z"}
    )
    with pytest.raises(FactsError, match="holds a Complaint, not a Order"):
        FactSet(orders=[complaint])


# --- property: every input row is accounted for ------------------------------------------

BAD_ORDER_CHANGES: list[dict[str, object]] = [
    {"sent_at": "2024-03-01 09:00"},
    {"delivered_quantity": -1},
    {"delivered_quantity": 11},
    {"sent_time": "2024-03-01T09:00:00+08:00"},
    {"ordered_quantity": "ten"},
    {"ordered_quantity": 0},
    {"amount": "12.345"},
    {"responded_at": "2024-03-01T08:59:59+08:00"},
    {"institution_id": None},
    {"offline": "maybe"},
]

good_changes = st.fixed_dictionaries(
    {},
    optional={
        "ordered_quantity": st.integers(10, 10**6).map(str),
        "amount": st.decimals(0, 10**6, places=2).map(str),
        "offline": st.booleans(),
        "sent_at": st.datetimes(
            min_value=datetime(2019, 1, 1),
            max_value=datetime(2030, 1, 1),
            timezones=st.just(SHANGHAI),
        ).map(lambda d: d.isoformat()),
    },
)
row_plans = st.lists(
    st.one_of(
        st.tuples(st.just("good"), good_changes),
        st.tuples(st.just("bad"), st.sampled_from(BAD_ORDER_CHANGES)),
        st.tuples(st.just("duplicate"), st.just({})),
    ),
    max_size=25,
)


def _plan_rows(plan: list[tuple[str, dict[str, object]]]) -> tuple[list[Row], set[int]]:
    rows: list[Row] = []
    bad: set[int] = set()
    good_ids: list[str] = []
    for index, (what, changes) in enumerate(plan, start=1):
        if what == "duplicate" and good_ids:
            rows.append(order(index, id=good_ids[0], responded_at=None))
            bad.add(index)
            continue
        row = order(index, **changes)
        if "sent_at" in changes and what == "good":
            row["responded_at"] = None
        rows.append(row)
        if what == "bad":
            bad.add(index)
        else:
            good_ids.append(str(row["id"]))
    return rows, bad


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=row_plans, fmt=st.sampled_from(["python", "csv", "json", "yaml"]))
def test_every_row_is_accepted_or_rejected(
    plan: list[tuple[str, dict[str, object]]], fmt: str
) -> None:
    rows, bad = _plan_rows(plan)
    fields = FACT_KINDS["orders"].model_fields
    if fmt == "csv" and any(key not in fields for row in rows for key in row):
        with tempfile.TemporaryDirectory() as tmp, pytest.raises(FactsError, match="unknown col"):
            load_as(fmt, Path(tmp), "orders", rows)  # a header-level error in a table
        return
    with tempfile.TemporaryDirectory() as tmp:
        facts = load_as(fmt, Path(tmp), "orders", rows)
    assert len(facts.orders) + len(facts.rejects) == len(rows) == facts.total_rows()
    assert {r.row for r in facts.rejects} == bad
    assert len(facts.rejects) == len(bad)
    accepted = {o.id for o in facts.orders}
    assert accepted == {str(r["id"]) for i, r in enumerate(rows, 1) if i not in bad}


# --- speed --------------------------------------------------------------------------------


@pytest.mark.slow
def test_loading_100k_orders(tmp_path: Path) -> None:
    rows = [order(i, institution_id=f"h-{i % 500}") for i in range(100_000)]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path = tmp_path / "orders.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    facts = load_facts(path)  # speed is measured in bench/, never asserted in a test
    assert len(facts.orders) == 100_000
    assert not facts.rejects
