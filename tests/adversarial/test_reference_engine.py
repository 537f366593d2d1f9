"""Issue 13 reproducers for the reference engine: wrong answers and one-cell aborts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import pytest

from vbp_rules import CalendarError, Pack, evaluate, load_facts, load_pack
from vbp_rules.calendar import CalendarDays, Hours, Months, WorkCalendar, add_months
from vbp_rules.engine._functions import CalendarContext

from .conftest import MINIMAL

ROOT = Path(__file__).resolve().parents[2]
ORDER = {
    "id": "o1",
    "institution_id": "h",
    "enterprise_id": "e",
    "product_id": "p",
    "sent_at": "2024-03-01T09:00+08:00",
    "ordered_quantity": 10,
}
AS_OF = date(2024, 6, 30)


def _rule(text: str) -> str:
    """MINIMAL with its rules replaced by ``text`` (indented YAML list items)."""
    return MINIMAL.split("rules:\n")[0] + "rules:\n" + text


def test_a_non_boolean_condition_is_a_skip_not_compliant(pack_from: Callable[[str], Pack]) -> None:
    pack = pack_from(
        _rule(
            "  - id: odd\n    kind: threshold\n    title: {zh: 测试, en: Test}\n"
            "    cite: {clause: 一, text: x}\n    over: orders\n"
            "    condition: 'if(true, ordered_quantity, 0)'\n    actions: [reminder]\n"
        )
    )
    ev = evaluate(pack, {"orders": [ORDER]}, as_of=AS_OF)
    assert ev.findings == ()
    (skip,) = [s for s in ev.skips if s.rule_id == "odd"]
    assert (skip.reason, skip.rows) == ("not_applicable", (("orders", "o1"),))
    assert "gave 10, not true/false" in skip.detail


def test_a_condition_known_not_to_be_boolean_is_a_load_error(
    problems_of: Callable[[str], str],
) -> None:
    message = problems_of(
        _rule(
            "  - id: odd\n    kind: threshold\n    title: {zh: 测试, en: Test}\n"
            "    cite: {clause: 一, text: x}\n    over: orders\n"
            "    condition: ordered_quantity\n    actions: [reminder]\n"
        )
    )
    assert "rules[0].condition: the condition ordered_quantity is a number" in message


def test_a_zero_denominator_inside_an_aggregate_costs_one_subject(
    pack_from: Callable[[str], Pack],
) -> None:
    pack = pack_from(
        _rule(
            "  - id: share\n    kind: threshold\n    title: {zh: 测试, en: Test}\n"
            "    cite: {clause: 一, text: x}\n    over: orders\n    group_by: [enterprise_id]\n"
            "    aggregate: {small: count_if(delivered_quantity / ordered_quantity < 50%),"
            " n: count()}\n"
            "    metric: {name: small_share, expr: small / n}\n"
            "    breach_if: {word: 低于, parameter: floor}\n    actions: [reminder]\n"
        ).replace("delivered_quantity / ordered_quantity", "ordered_quantity / delivered_quantity")
    )
    rows = [
        {**ORDER, "delivered_quantity": 0},
        {**ORDER, "id": "o2", "delivered_quantity": 10},
        {**ORDER, "id": "o3", "enterprise_id": "e2", "delivered_quantity": 10},
    ]
    ev = evaluate(pack, {"orders": rows}, as_of=AS_OF)
    assert [f.subject.keys for f in ev.findings] == [(("enterprise_id", "e2"),)]
    (skip,) = [s for s in ev.skips if s.rule_id == "share"]
    assert skip.reason == "not_applicable"
    assert "'o1'" in skip.detail
    assert skip.rows == (("orders", "o1"), ("orders", "o2"))


def test_a_zero_denominator_in_a_group_by_expression_costs_one_row(
    pack_from: Callable[[str], Pack],
) -> None:
    pack = pack_from(
        _rule(
            "  - id: grouped\n    kind: threshold\n    title: {zh: 测试, en: Test}\n"
            "    cite: {clause: 一, text: x}\n    over: orders\n"
            "    group_by: [{bucket: ordered_quantity / delivered_quantity}]\n"
            "    aggregate: {n: count()}\n"
            "    metric: {name: n, expr: n}\n"
            "    breach_if: {word: 超过, value: 5}\n    actions: [reminder]\n"
        )
    )
    rows = [{**ORDER, "delivered_quantity": 0}, {**ORDER, "id": "o2", "delivered_quantity": 5}]
    ev = evaluate(pack, {"orders": rows}, as_of=AS_OF)
    assert [f.rows for f in ev.findings] == [(("orders", "o2"),)]
    (skip,) = [s for s in ev.skips if s.rule_id == "grouped"]
    assert (skip.reason, skip.rows) == ("not_applicable", (("orders", "o1"),))
    assert skip.detail.startswith("group_by:")


EXAMPLE = ROOT / "examples" / "jiangxi-2024"


@pytest.fixture(scope="module")
def jiangxi() -> Pack:
    return load_pack("jiangxi-2024")


def _exempted(ev: object) -> list[tuple[str, str, tuple[tuple[str, str], ...]]]:
    return sorted(
        (s.rule_id or "", s.detail, s.rows)
        for s in ev.skips  # type: ignore[attr-defined]
        if s.rows and s.rows[-1][0] == "exemption_events"
    )


def test_two_matching_exemption_events_are_both_credited_in_any_order(jiangxi: Pack) -> None:
    facts = load_facts(EXAMPLE)
    first = facts.exemption_events[0].model_dump(exclude_none=True)
    twin = {**first, "id": "X-2025-000"}
    others = [e.model_dump(exclude_none=True) for e in facts.exemption_events[1:]]
    rest = {k: [r.model_dump(exclude_none=True) for r in facts.rows(k)] for k in _KINDS}
    forward = {**rest, "exemption_events": [first, twin, *others]}
    backward = {**rest, "exemption_events": [*others, twin, first]}
    a = evaluate(jiangxi, forward, as_of=date(2025, 6, 30))
    b = evaluate(jiangxi, backward, as_of=date(2025, 6, 30))
    assert _exempted(a) == _exempted(b)
    credited = [s for s in a.skips if s.reason == "exempted"]
    assert credited
    assert ("exemption_events", "X-2025-000") in credited[0].rows
    assert ("exemption_events", "X-2025-001") in credited[0].rows
    assert "events X-2025-000, X-2025-001" in credited[0].detail
    unmatched = [s for s in a.skips if "matched no assessed subject" in s.detail]
    assert not any(("exemption_events", "X-2025-000") in s.rows for s in unmatched)


_KINDS = [
    "batches",
    "institutions",
    "enterprises",
    "agreements",
    "demand_reports",
    "orders",
    "purchase_summaries",
    "complaints",
    "listings",
    "enterprise_period_stats",
]


def test_a_date_beyond_the_calendar_costs_one_skip_not_the_run(jiangxi: Pack) -> None:
    facts = load_facts(EXAMPLE)
    before = evaluate(jiangxi, facts, as_of=date(2025, 6, 30))
    late = {
        "id": "late",
        "institution_id": "H-GZ1",
        "enterprise_id": facts.complaints[0].enterprise_id,
        "raised_at": "2100-09-27T09:00+08:00",
    }
    more = facts.merge(load_facts({"complaints": [late]}))
    after = evaluate(jiangxi, more, as_of=date(2025, 6, 30))
    assert len(after.findings) == len(before.findings)
    skips = [s for s in after.skips if ("complaints", "late") in s.rows]
    assert any(s.detail.startswith("calendar: 2100-09-27") for s in skips)


def test_an_as_of_at_the_end_of_time_is_a_calendar_error(jiangxi: Pack) -> None:
    with pytest.raises(CalendarError, match="out of range"):
        evaluate(jiangxi, {}, as_of=date(9999, 12, 31))


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("add_days", (date(2024, 1, 1), 10**12)),
        ("end_of_day", (date(9999, 12, 31),)),
        ("add_months", (date(2024, 1, 1), 10**14)),
        ("next_month_end", (date(9999, 12, 1),)),
        ("deadline", (datetime(2024, 1, 1, tzinfo=WorkCalendar.china().tz), Hours(10**14))),
    ],
)
def test_engine_functions_at_their_limits_raise_calendar_error(
    name: str, args: tuple[object, ...]
) -> None:
    functions = CalendarContext.shared(WorkCalendar.china()).functions()
    with pytest.raises(CalendarError, match="out of range"):
        functions[name].impl(*args)


@pytest.mark.parametrize(
    "call",
    [
        lambda _cal: add_months(date(9999, 12, 1), 1),
        lambda cal: cal.next_month_end(date(9999, 12, 1)),
        lambda cal: cal.deadline(datetime(2024, 1, 1, tzinfo=cal.tz), Hours(10**12)),
        lambda cal: cal.deadline(datetime(2024, 1, 1, tzinfo=cal.tz), Months(10**9)),
        lambda cal: cal.deadline(datetime(2024, 1, 1, tzinfo=cal.tz), CalendarDays(10**12)),
    ],
)
def test_calendar_arithmetic_past_year_9999_is_a_calendar_error(
    call: Callable[[WorkCalendar], object],
) -> None:
    with pytest.raises(CalendarError, match="out of range"):
        call(WorkCalendar.china())


def test_expression_tier_bounds_with_a_gap_skip_the_subject_with_a_reason() -> None:
    pack = load_pack(ROOT / "tests" / "data" / "bad_packs" / "tier-gap-expr")
    stats = [
        {
            "id": f"s{n}",
            "enterprise_id": f"e{n}",
            "period_start": "2024-04-01",
            "period_end": "2024-06-30",
            "orders": 100,
            "responded_orders": 100,
            "timely_delivered_orders": n,
        }
        for n in (85, 95)
    ]
    ev = evaluate(pack, {"enterprise_period_stats": stats}, as_of=date(2024, 7, 31))
    assert [f.rows for f in ev.findings] == [(("enterprise_period_stats", "s95"),)]
    (skip,) = [s for s in ev.skips if s.rule_id == "delivery-tiers"]
    assert skip.reason == "not_applicable"
    assert skip.detail == "no tier of delivery-tiers holds for 0.85 (a gap)"
    assert skip.rows == (("enterprise_period_stats", "s85"),)


def test_an_exemption_filter_that_cannot_be_decided_costs_its_event(
    pack_from: Callable[[str], Pack],
) -> None:
    rules = (
        "  - id: small\n    kind: threshold\n    title: {zh: 测试, en: Test}\n"
        "    cite: {clause: 一, text: x}\n    over: orders\n"
        "    metric: {name: q, expr: ordered_quantity}\n"
        "    breach_if: {word: 低于, value: 5}\n    actions: [reminder]\n"
        "  - id: excuse\n    kind: exemption\n    title: {zh: 豁免, en: Excuse}\n"
        "    cite: {clause: 一, text: x}\n    over: exemption_events\n"
        "    where: add_days(starts_on, 1000000000) > starts_on\n"
        "    exempts: [small]\n    match: {institution_id: institution_id}\n"
    )
    pack = pack_from(MINIMAL.split("rules:\n")[0] + "rules:\n" + rules)
    events = [{"id": "x1", "kind": "guideline_change", "starts_on": "2024-01-01"}]
    ev = evaluate(pack, {"orders": [ORDER], "exemption_events": events}, as_of=AS_OF)
    assert [(f.rule_id, f.outcome) for f in ev.findings] == [("small", "compliant")]
    (skip,) = [s for s in ev.skips if s.rule_id == "excuse"]
    assert (skip.reason, skip.rows) == ("not_applicable", (("exemption_events", "x1"),))
    assert "cannot be decided for this event" in skip.detail


def test_a_calendar_error_in_a_where_filter_costs_one_row(
    pack_from: Callable[[str], Pack],
) -> None:
    rules = (
        "  - id: slow\n    kind: threshold\n    title: {zh: 测试, en: Test}\n"
        "    cite: {clause: 一, text: x}\n    over: orders\n"
        "    where: working_days_between(local_date(sent_at), local_date(as_of)) > 0\n"
        "    metric: {name: q, expr: ordered_quantity}\n"
        "    breach_if: {word: 低于, value: 5}\n    actions: [reminder]\n"
    )
    pack = pack_from(MINIMAL.split("rules:\n")[0] + "rules:\n" + rules)
    rows = [{**ORDER, "id": "late", "sent_at": "2100-01-04T09:00+08:00"}, ORDER]
    ev = evaluate(pack, {"orders": rows}, as_of=AS_OF)
    assert [f.rows for f in ev.findings] == [(("orders", "o1"),)]
    (skip,) = [s for s in ev.skips if s.rule_id == "slow"]
    assert (skip.reason, skip.rows) == ("not_applicable", (("orders", "late"),))
    assert "calendar: 2100-01-04 is outside" in skip.detail
