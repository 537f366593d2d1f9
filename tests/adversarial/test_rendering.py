"""Issue 13 reproducers: values too large to print must not crash messages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from fractions import Fraction

import pytest

from vbp_rules import Pack, evaluate
from vbp_rules.expr import format_value

from .conftest import MINIMAL


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (2**14000, "≈2.629900e+4214 (exact value too long to show)"),
        (-(2**14000), "≈-2.629900e+4214 (exact value too long to show)"),
        (Fraction(1, 3**9000), "≈8.104151e-4295 (exact value too long to show)"),
        (Fraction(2**5000, 3), "≈4.708223e+1504 (exact value too long to show)"),
        (10**300, "1" + "0" * 300),  # within the limit: exact
    ],
)
def test_format_value_never_raises_on_huge_numbers(value: object, expected: str) -> None:
    assert format_value(value) == expected


def test_format_value_of_a_huge_percentage() -> None:
    assert format_value(Fraction(2**14000), as_percent=True).endswith("show)%")


def test_a_sum_of_reciprocals_over_many_orders_renders(pack_from: Callable[[str], Pack]) -> None:
    rules = (
        "  - id: recip\n    kind: threshold\n    title: {zh: 测试, en: Test}\n"
        "    cite: {clause: 一, text: x}\n    over: orders\n    group_by: [enterprise_id]\n"
        "    aggregate: {s: sum(1 / ordered_quantity)}\n"
        "    metric: {name: s, expr: s}\n"
        "    breach_if: {word: 超过, value: 1}\n    actions: [reminder]\n"
    )
    pack = pack_from(MINIMAL.split("rules:\n")[0] + "rules:\n" + rules)
    orders = [
        {
            "id": f"o{i}",
            "institution_id": "h",
            "enterprise_id": "e",
            "product_id": "p",
            "sent_at": "2024-03-01T09:00+08:00",
            "ordered_quantity": i,
        }
        for i in range(1, 2001)
    ]
    (finding,) = evaluate(pack, {"orders": orders}, as_of=date(2024, 6, 30)).findings
    assert finding.outcome == "breach"
    assert "too long to show" in finding.message_en


def test_json_output_of_a_number_too_long_to_print() -> None:
    """A finding's value past Python's 4,300-digit limit still serialises (as its size)."""
    from fractions import Fraction

    from vbp_rules.findings import jsonable

    assert jsonable(Fraction(1, 2**20000)) == "1/<6021-digit integer>"
    assert jsonable(2**20000) == "<6021-digit integer>"
    assert jsonable(Fraction(3, 4)) == "3/4"
    assert jsonable(12) == 12
