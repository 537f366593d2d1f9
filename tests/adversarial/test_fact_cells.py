"""Issue 13 reproducers for the facts layer: hostile cells cost one reject, never the run."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from vbp_rules import FactsError, load_facts

ORDER = {
    "id": "o1",
    "institution_id": "h",
    "enterprise_id": "e",
    "product_id": "p",
    "sent_at": "2024-03-01T09:00+08:00",
    "ordered_quantity": 10,
}


def _one_reject(field: str, **changes: object) -> str:
    facts = load_facts({"orders": [{**ORDER, **changes}, {**ORDER, "id": "o2"}]})
    assert [o.id for o in facts.orders] == ["o2"]
    assert len(facts.rejects) == 1
    reject = facts.rejects[0]
    assert (reject.row, reject.field) == (1, field)
    return reject.reason


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("amount", "1E+30", "too large"),
        ("amount", "1e1000000000", "too large"),
        ("amount", Decimal("1e1000000000"), "too large"),
        ("amount", "92233720368547758.08", "too large"),
        ("amount", "9" * 200, "too long"),
        ("sent_at", "9999-12-31T23:59Z", "outside the years"),
        ("sent_at", "0001-01-01T00:00+08:00", "outside the years"),
        ("sent_at", "2204-09-27T09:00+08:00", "outside the years"),
        ("ordered_quantity", 2**14000, "at most"),
        ("ordered_quantity", 2**63, "at most"),
        ("ordered_quantity", Decimal("1e1000000000"), "at most"),
        ("ordered_quantity", "1e1000000000", "whole number"),
        ("ordered_quantity", "1" * 5000, "too long"),
    ],
)
def test_a_hostile_cell_is_one_reject_naming_the_field(
    field: str, value: object, words: str
) -> None:
    assert words in _one_reject(field, **{field: value})


def test_the_largest_int64_quantity_and_fen_amount_are_accepted() -> None:
    facts = load_facts(
        {"orders": [{**ORDER, "ordered_quantity": 2**63 - 1, "amount": "92233720368547758.07"}]}
    )
    assert facts.orders[0].ordered_quantity == 2**63 - 1
    assert facts.orders[0].amount == Decimal("92233720368547758.07")


@pytest.mark.parametrize(
    "text", ["1e-999999", "1e-1000000000", "0e99999999", "1e1000000000%", "3" * 101]
)
def test_ratio_text_with_a_huge_exponent_is_refused_at_once(text: str) -> None:
    facts = load_facts({"listings": [_listing(self_pay_ratio=text)]})
    assert facts.listings == ()
    assert facts.rejects[0].field == "self_pay_ratio"


def test_ratio_in_scientific_notation_within_bounds_is_read_exactly() -> None:
    from fractions import Fraction

    facts = load_facts({"listings": [_listing(self_pay_ratio="3e-1")]})
    assert facts.listings[0].self_pay_ratio == Fraction(3, 10)
    assert facts.listings[0].model_dump(mode="json")["self_pay_ratio"] == "3/10"


def _listing(**changes: object) -> dict[str, object]:
    listing = {"id": "l1", "product_id": "p", "generic_name": "g", "selected": True}
    return listing | {"listing_price": "1.00"} | changes


@pytest.mark.parametrize("day", ["2204-09-27", "9999-12-01", "1899-12-31"])
def test_a_date_outside_the_fact_years_is_one_reject(day: str) -> None:
    facts = load_facts({"batches": [{"id": "b", "cycle_start": day}, {"id": "b2"}]})
    assert [b.id for b in facts.batches] == ["b2"]
    assert (facts.rejects[0].field, facts.rejects[0].row) == ("cycle_start", 1)


def test_yaml_ids_keep_the_text_as_written(tmp_path: Path) -> None:
    path = tmp_path / "institutions.yaml"
    path.write_text("- id: 00042\n- id: 0x1F\n- id: 0o17\n- id: 1_000\n- id: 7\n")
    ids = [i.id for i in load_facts(path).institutions]
    assert ids == ["00042", "0x1F", "0o17", "1_000", "7"]


def test_yaml_quantity_in_hex_is_rejected_not_reinterpreted(tmp_path: Path) -> None:
    path = tmp_path / "orders.yaml"
    lines = [f"  {k}: {v}" for k, v in ORDER.items() if k != "ordered_quantity"]
    path.write_text("- " + "\n".join(lines)[2:] + "\n  ordered_quantity: 0x1F\n")
    facts = load_facts(path)
    assert facts.orders == ()
    assert facts.rejects[0].field == "ordered_quantity"


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\u0085"])
def test_json_lines_keep_unicode_line_separators_inside_strings(
    tmp_path: Path, separator: str
) -> None:
    path = tmp_path / "orders.jsonl"
    row = json.dumps({**ORDER, "product_id": f"a{separator}b"}, ensure_ascii=False)
    path.write_text(row + "\r\n" + json.dumps({**ORDER, "id": "o2"}) + "\n", encoding="utf-8")
    facts = load_facts(path)
    assert facts.rejects == ()
    assert [o.product_id for o in facts.orders] == [f"a{separator}b", "p"]


def test_deeply_nested_json_is_a_located_error_not_recursion(tmp_path: Path) -> None:
    path = tmp_path / "orders.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(FactsError, match=r"orders\.json:1: .*nested too deeply"):
        load_facts(path)


def test_deeply_nested_json_line_is_one_reject(tmp_path: Path) -> None:
    path = tmp_path / "orders.jsonl"
    path.write_text("[" * 100_000 + "]" * 100_000 + "\n" + json.dumps(ORDER) + "\n")
    facts = load_facts(path)
    assert len(facts.orders) == 1
    assert (facts.rejects[0].line, "nested too deeply" in facts.rejects[0].reason) == (1, True)


def test_parquet_with_a_duplicate_column_is_refused(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    names = [*ORDER, "ordered_quantity"]
    columns = [pa.array([v]) for v in ORDER.values()] + [pa.array([5])]
    pq.write_table(pa.table(columns, names=names), tmp_path / "orders.parquet")
    with pytest.raises(FactsError, match="column 'ordered_quantity' appears twice"):
        load_facts(tmp_path / "orders.parquet")


def test_parquet_values_beyond_year_9999_cost_one_row(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    late = 253_402_300_800_000_000 * 10  # microseconds: far beyond 9999-12-31
    sent = pa.array([late, 1_709_254_800_000_000], pa.timestamp("us", tz="UTC"))
    table = pa.table(
        {
            "id": ["o1", "o2"],
            "institution_id": ["h", "h"],
            "enterprise_id": ["e", "e"],
            "product_id": ["p", "p"],
            "sent_at": sent,
            "ordered_quantity": [10, 10],
        }
    )
    pq.write_table(table, tmp_path / "orders.parquet")
    pq.write_table(
        pa.table({"id": ["b1", "b2"], "cycle_start": pa.array([3_000_000, 19_000], pa.date32())}),
        tmp_path / "batches.parquet",
    )
    facts = load_facts(tmp_path / "orders.parquet", tmp_path / "batches.parquet")
    assert [o.id for o in facts.orders] == ["o2"]
    assert [b.id for b in facts.batches] == ["b2"]
    assert [(r.kind, r.row, r.field) for r in facts.rejects] == [
        ("orders", 1, "sent_at"),
        ("batches", 1, "cycle_start"),
    ]


def _deep(depth: int) -> list[object]:
    value: list[object] = []
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize("field", ["sent_at", "delivered_at", "id", "ordered_quantity"])
def test_a_deeply_nested_python_cell_is_one_reject(field: str) -> None:
    facts = load_facts({"orders": [{**ORDER, field: _deep(100_000)}]})
    assert (len(facts.rejects), facts.rejects[0].field) == (1, field)
    assert str(facts.rejects[0])


def test_a_deeply_nested_python_row_is_one_reject() -> None:
    facts = load_facts({"orders": [_deep(100_000)]})
    assert "too large to show" in str(facts.rejects[0])


def test_a_5000_digit_json_integer_is_one_reject_not_a_file_error(tmp_path: Path) -> None:
    path = tmp_path / "orders.json"
    rows = [{**ORDER, "ordered_quantity": 123}, {**ORDER, "id": "o2"}]
    path.write_text(json.dumps(rows).replace("123", "1" * 5000))
    facts = load_facts(path)
    assert [o.id for o in facts.orders] == ["o2"]
    assert (facts.rejects[0].row, facts.rejects[0].field) == (1, "ordered_quantity")
