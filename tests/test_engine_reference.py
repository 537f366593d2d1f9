"""The reference engine: exact boundaries, accounting of every input row, flags."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vbp_rules import FactSet, NaiveDatetimeError, PackValidationError, evaluate, load_pack

SH = ZoneInfo("Asia/Shanghai")


def orders(n: int, responded: int) -> list[dict[str, object]]:
    sent = datetime(2024, 10, 8, 9, 0, tzinfo=SH)
    return [
        {
            "id": f"o{i}",
            "institution_id": "h1",
            "enterprise_id": "e1",
            "product_id": "p1",
            "sent_at": sent.isoformat(),
            "responded_at": (sent + timedelta(hours=1)).isoformat() if i < responded else None,
            "ordered_quantity": 1,
        }
        for i in range(n)
    ]


@pytest.mark.parametrize(
    ("n", "responded", "outcome"),
    [(20, 19, "compliant"), (200, 189, "breach"), (200, 191, "compliant"), (100, 94, "breach")],
)
def test_response_rate_boundary_is_exact(n: int, responded: int, outcome: str) -> None:
    ev = evaluate(
        load_pack("jiangxi-2024"), {"orders": orders(n, responded)}, as_of=date(2024, 12, 31)
    )
    (finding,) = ev.by_rule("product-order-response-rate")
    assert finding.outcome == outcome
    assert str(finding.period) == "2024-10"


def test_naive_as_of_is_rejected() -> None:
    with pytest.raises(NaiveDatetimeError):
        evaluate(load_pack("jiangxi-2024"), {}, as_of=datetime(2024, 12, 31))


def test_unknown_interpretation_is_rejected() -> None:
    with pytest.raises(PackValidationError, match="no interpretation 'nope'"):
        evaluate(
            load_pack("jiangxi-2024"), {}, as_of=date(2024, 12, 31), interpretations={"nope": "x"}
        )


def test_unspecified_parameter_is_not_configured_until_set() -> None:
    complaints = [
        {
            "id": f"c{i}",
            "institution_id": "h1",
            "enterprise_id": "e1",
            "product_id": "p1",
            "raised_at": "2024-10-08T09:00:00+08:00",
        }
        for i in range(3)
    ]
    pack = load_pack("jiangxi-2024")
    ev = evaluate(pack, {"complaints": complaints}, as_of=date(2024, 12, 31))
    assert {s.reason for s in ev.skips if s.rule_id == "product-complaints-concentrated"} == {
        "not_configured"
    }
    ev = evaluate(
        pack.with_overrides({"complaint_concentration": 3}),
        {"complaints": complaints},
        as_of=date(2024, 12, 31),
    )
    (finding,) = ev.by_rule("product-complaints-concentrated")
    assert finding.outcome == "breach"


def test_deadline_across_national_day_make_up_weekend() -> None:
    complaint = {
        "id": "c1",
        "institution_id": "h1",
        "enterprise_id": "e1",
        "raised_at": "2024-09-27T15:30:00+08:00",
        "replied_at": "2024-10-01T00:00:00+08:00",
    }
    ev = evaluate(load_pack("jiangxi-2024"), {"complaints": [complaint]}, as_of=date(2024, 12, 31))
    (finding,) = ev.by_rule("complaint-reply")
    assert finding.outcome == "compliant"
    assert finding.value("due") == datetime(2024, 10, 1, tzinfo=SH)


_row = st.fixed_dictionaries(
    {
        "ordered": st.integers(min_value=-1, max_value=5),
        "delivered": st.integers(min_value=0, max_value=6),
        "naive": st.booleans(),
        "responded_hours": st.none() | st.integers(min_value=0, max_value=100),
        "day": st.integers(min_value=0, max_value=120),
    }
)


@settings(max_examples=40, deadline=None)
@given(rows=st.lists(_row, max_size=25))
def test_every_input_row_is_accounted_for(rows: list[dict[str, object]]) -> None:
    base = datetime(2024, 9, 1, 9, 0, tzinfo=SH)
    records = []
    for i, r in enumerate(rows):
        sent = base + timedelta(days=int(r["day"]))  # type: ignore[call-overload]
        sent_text = sent.replace(tzinfo=None).isoformat() if r["naive"] else sent.isoformat()
        hours = r["responded_hours"]
        records.append(
            {
                "id": f"o{i % 20}",  # some duplicate ids
                "institution_id": "h1",
                "enterprise_id": f"e{i % 3}",
                "product_id": "p1",
                "sent_at": sent_text,
                "responded_at": None
                if hours is None
                else (sent + timedelta(hours=int(hours))).isoformat(),  # type: ignore[call-overload]
                "ordered_quantity": r["ordered"],
                "delivered_quantity": r["delivered"],
            }
        )
    facts = FactSet.from_records({"orders": records})
    ev = evaluate(load_pack("jiangxi-2024"), facts, as_of=date(2025, 3, 31))
    accepted = {("orders", o.id) for o in facts.orders}
    assert len(accepted) + len(ev.rejects) == len(records)
    # not merely "accounted" (the accounting pass files any unread row): the 48-hour rule
    # has no `where`, so it reads every accepted order, in a finding or a skip
    read = {ref for f in ev.by_rule("order-response-48h") for ref in f.rows}
    read |= {ref for s in ev.skips if s.rule_id == "order-response-48h" for ref in s.rows}
    assert read == accepted


def test_results_do_not_depend_on_fact_order() -> None:
    rows = orders(30, 27)
    pack = load_pack("jiangxi-2024")
    a = evaluate(pack, {"orders": rows}, as_of=date(2024, 12, 31))
    b = evaluate(pack, {"orders": list(reversed(rows))}, as_of=date(2024, 12, 31))
    assert [f.to_dict() for f in a.findings] == [f.to_dict() for f in b.findings]


def test_evaluation_serialises() -> None:
    ev = evaluate(load_pack("jiangxi-2024"), {"orders": orders(10, 5)}, as_of=date(2024, 12, 31))
    text = ev.to_json()
    assert '"order_response_rate": "1/2"' in text
    # 10 orders of e1/p1 sent 2024-10-08, 5 answered: 5 breaches of the 48-hour rule (o5..o9)
    # and a monthly response rate of 1/2, below (低于) 95%
    late = [f for f in ev.breaches() if f.rule_id == "order-response-48h"]
    assert sorted(str(f.subject) for f in late) == sorted(
        f"id=o{i}, institution_id=h1, enterprise_id=e1, product_id=p1" for i in range(5, 10)
    )
    [rate] = ev.by_rule("product-order-response-rate")
    text = rate.explain()
    assert text.splitlines()[0] == (
        "jiangxi-2024 / product-order-response-rate (threshold) -> breach"
    )
    assert "  order_response_rate = 0.5" in text.splitlines()  # one formatter: exact decimal
    assert "  bound:   低于 (<)" in text.splitlines()


def test_relative_level_is_taken_per_variety() -> None:
    """zhejiang-2025 compares a non-selected share with the province level of its variety."""
    pack = load_pack("zhejiang-2025").with_overrides({"non_selected_share_margin": "0%"})

    def row(i: int, generic: str, selected: int, non_selected: int) -> dict[str, object]:
        return {
            "id": f"s{i}",
            "institution_id": f"h{i}",
            "generic_name": generic,
            "period_start": "2025-05-01",
            "period_end": "2025-05-31",
            "selected_quantity": selected,
            "non_selected_quantity": non_selected,
        }

    facts = {
        "purchase_summaries": [
            row(1, "A", 90, 10),  # A's level: 30/200 = 15%
            row(2, "A", 80, 20),
            row(3, "B", 50, 50),  # B's level: 80/200 = 40%
            row(4, "B", 70, 30),
        ]
    }
    ev = evaluate(
        pack,
        facts,
        as_of=date(2025, 6, 30),
        interpretations={"non_selected_share_reading": "relative_to_province"},
    )
    got = {
        f.subject.as_dict()["institution_id"]: (f.outcome, f.value("population_level"))
        for f in ev.by_rule("non-selected-share-above-province")
    }
    assert got == {
        "h1": ("compliant", Fraction(3, 20)),
        "h2": ("breach", Fraction(3, 20)),
        "h3": ("breach", Fraction(2, 5)),
        "h4": ("compliant", Fraction(2, 5)),
    }
