"""The one display formatter, and how findings' messages and explanations use it."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from vbp_rules import evaluate
from vbp_rules._format import format_value, int_text
from vbp_rules.engine.semantics import format_display as _fmt
from vbp_rules.findings import _fmt as findings_fmt

ROOT = Path(__file__).resolve().parents[1]
JIANGXI = ROOT / "examples" / "jiangxi-2024"
SH = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("11.50"), "11.50"),
        (Decimal("10.00"), "10.00"),
        (Decimal("-0.05"), "-0.05"),
        (Fraction(23, 2), "11.5"),
        (Fraction(9, 10), "0.9"),
        (Fraction(1, 3), "1/3 (≈0.333333)"),
        (10, "10"),
        (None, "null"),
        (False, "false"),
        (date(2024, 9, 1), "2024-09-01"),
        (datetime(2024, 9, 1, tzinfo=SH), "2024-09-01T00:00+08:00"),
        (datetime(2024, 9, 1, 0, 0, 1, tzinfo=SH), "2024-09-01T00:00:01+08:00"),
    ],
)
def test_display_text(value: object, expected: str) -> None:
    assert format_value(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Fraction(9, 10), "90%"),
        (Fraction(3, 2), "150%"),
        (Fraction(1, 8), "12.5%"),
        (Fraction(1, 3), "1/3 (≈33.3333%)"),
        (1, "100%"),
        (Decimal("0.955"), "95.5%"),
    ],
)
def test_percentages(value: object, expected: str) -> None:
    assert format_value(value, as_percent=True) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # past 1000 bits (about 300 digits) a number is shown by its size, never in full
        (10**5000, "≈1.000000e+5000 (exact value too long to show)"),
        (-(10**4300), "≈-1.000000e+4300 (exact value too long to show)"),
        (10**300, "1" + "0" * 300),  # 997 bits: still exact
        (Fraction(1, 10**5000), "≈1.000000e-5000 (exact value too long to show)"),
    ],
    ids=["5001-digits", "negative-4301-digits", "301-digits", "tiny-fraction"],
)
def test_huge_numbers_never_raise(value: object, expected: str) -> None:
    assert format_value(value) == expected


def test_int_text_of_a_short_number() -> None:
    assert int_text(-12) == "-12"


@pytest.mark.parametrize("fmt", [_fmt, findings_fmt])
def test_every_formatter_delegates(fmt: object) -> None:
    assert fmt(Decimal("11.50")) == "11.50"  # type: ignore[operator]
    assert fmt(10**5000) == "≈1.000000e+5000 (exact value too long to show)"  # type: ignore[operator]


@pytest.fixture(scope="module")
def jiangxi_notable() -> dict[str, object]:
    ev = evaluate("jiangxi-2024", JIANGXI, as_of="2025-06-30")
    first: dict[str, object] = {}
    for f in ev.notable():  # the first notable finding of each rule
        first.setdefault(f.rule_id, f)
    return first


def test_a_ratio_bound_prints_as_the_source_writes_it(jiangxi_notable: dict[str, object]) -> None:
    f = jiangxi_notable["enterprise-quarterly-timely-delivery"]
    assert "threshold=90%" in f.message_en  # type: ignore[attr-defined]
    assert "timely_delivery_rate=81/94 (≈86.1702%)" in f.message_en  # type: ignore[attr-defined]
    assert "orders=188" in f.message_zh  # type: ignore[attr-defined]


def test_chinese_messages_have_no_english_labels_or_python(
    jiangxi_notable: dict[str, object],
) -> None:
    f = jiangxi_notable["agreement-signed-before-execution"]
    zh = f.message_zh  # type: ignore[attr-defined]
    assert "（截至评估时点未发生）" in zh
    assert "absent" not in zh
    assert "None" not in zh
    assert "end=null" in zh
    assert "(absent at as_of)" in f.message_en  # type: ignore[attr-defined]


def test_explain_shows_a_deadlines_bound(jiangxi_notable: dict[str, object]) -> None:
    text = jiangxi_notable["complaint-reply"].explain()  # type: ignore[attr-defined]
    assert "  bound:   end <= due" in text.splitlines()


def test_a_deadline_due_at_as_of_is_pending_and_says_so() -> None:
    agreement = {
        "id": "A1",
        "batch_id": "B1",
        "institution_id": "H1",
        "enterprise_id": "E1",
        "product_id": "P1",
        "generic_name": "氨氯地平片",
        "agreed_quantity": 100,
        "cycle_start": "2024-09-01",
        "cycle_end": "2025-08-31",
    }
    ev = evaluate(
        "jiangxi-2024",
        {"agreements": [agreement]},
        as_of=datetime(2024, 9, 1, tzinfo=SH),
        rules=["agreement-signed-before-execution"],
    )
    (skip,) = [s for s in ev.skips if s.reason == "pending"]
    assert skip.detail == (
        "not yet due: due 2024-09-01T00:00+08:00 is the as_of instant itself; "
        "a deadline is missed only after it passes"
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Fraction(23, 2), "11.50"),
        (10, "10.00"),
        (Decimal("10"), "10.00"),
        (Decimal("7.2"), "7.20"),
        (Fraction(-1, 20), "-0.05"),
        (Fraction(1, 1000), "0.001"),  # finer than a fen: exact, as usual
        (Fraction(1, 3), "1/3 (≈0.333333)"),
    ],
)
def test_money(value: object, expected: str) -> None:
    assert format_value(value, as_money=True) == expected


def test_money_metrics_and_bounds_print_in_yuan(jiangxi_notable: dict[str, object]) -> None:
    f = jiangxi_notable["non-selected-listing-price"]
    assert "listing_price=7.21, threshold=7.20" in f.message_en  # type: ignore[attr-defined]


def test_a_ratio_metric_takes_its_units_form(jiangxi_notable: dict[str, object]) -> None:
    f = jiangxi_notable["monthly-purchase-progress"]
    assert "purchase_progress=20%, threshold=92/365 (≈25.2055%)" in f.message_en  # type: ignore[attr-defined]
