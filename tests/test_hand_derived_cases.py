"""Two cases derived by hand from the notices (issue 14): Shanxi's agreement cycle by the
number of winners, and Jiangxi's verified demand surge."""

from __future__ import annotations

from datetime import date

import pytest

from vbp_rules.engine.reference import evaluate
from vbp_rules.packs import load_pack

SHANXI = load_pack("shanxi-2021")
JIANGXI = load_pack("jiangxi-2024")

# 五（一）: "原则上中选企业为1家的品种,集中带量采购协议周期为1年;中选企业为2家或3家的品种,
# 集中带量采购协议周期为2年。采购周期视实际情况可延长1年。"
# (winners, cycle years stated in the facts, extension granted, flagged for review?)
CYCLES = [
    (2, 4, False, True),  # the case: 4 years for 2 winners
    (2, 4, True, True),  # 2 + 1 extension = 3, still not 4
    (2, 2, False, False),
    (2, 3, True, False),  # the extension the notice allows
    (2, 3, False, True),  # 3 years without the extension
    (3, 2, False, False),
    (3, 1, False, True),  # shorter is not what the notice says either
    (1, 1, False, False),
    (1, 2, True, False),
    (1, 2, False, True),
    (4, 4, False, False),  # 4 winners: the notice sets no cycle (agreement-cycle reviews it)
]


@pytest.mark.parametrize(("winners", "years", "extended", "flagged"), CYCLES)
def test_shanxi_a_cycle_other_than_the_notices_needs_review(
    winners: int, years: int, extended: bool, flagged: bool
) -> None:
    group = {
        "id": "G1",
        "generic_name": "阿莫西林胶囊",
        "group_count": 1,
        "consistency_evaluated_listed_count": 3,
        "selected_enterprise_count": winners,
        "extended": extended,
        "cycle_years": years,
    }
    ev = evaluate(SHANXI, {"procurement_groups": [group]}, as_of=date(2022, 6, 30))
    found = ev.by_rule("agreement-cycle-differs")
    assert [f.outcome for f in found] == (["needs_review"] if flagged else [])
    if flagged:
        assert "G1" in found[0].message_en
        assert "is not the one the notice sets" in found[0].message_en
        assert "原则上" in found[0].message_zh


def test_shanxi_no_cycle_stated_is_not_flagged() -> None:
    group = {
        "id": "G1",
        "generic_name": "阿莫西林胶囊",
        "group_count": 1,
        "consistency_evaluated_listed_count": 3,
        "selected_enterprise_count": 2,
    }
    ev = evaluate(SHANXI, {"procurement_groups": [group]}, as_of=date(2022, 6, 30))
    assert ev.by_rule("agreement-cycle-differs") == ()


def test_jiangxi_a_verified_demand_surge_says_what_the_platform_must_send() -> None:
    # 二（十四）: "经核实应急采购的备供企业产品可直接视作采购中选产品" — the event is read,
    # and the finding names the quantity field that makes the purchases count as selected.
    event = {
        "id": "X-surge",
        "kind": "verified_demand_surge",
        "institution_id": "H8",
        "generic_name": "氨氯地平片",
        "starts_on": "2024-12-01",
        "ends_on": "2025-01-31",
        "verified": True,
    }
    ev = evaluate(JIANGXI, {"exemption_events": [event]}, as_of=date(2025, 7, 1))
    (finding,) = ev.by_rule("verified-demand-surge-purchases")
    assert finding.outcome == "needs_review"
    assert "emergency_backup_quantity" in finding.message_en
    assert "counted as selected" in finding.message_en
    assert not [s for s in ev.skips if s.reason == "no_applicable_rule"]


def test_jiangxi_emergency_backup_purchases_count_as_selected() -> None:
    # 700 selected + 300 emergency backup of 1000 agreed: 100% complete (二（十四）).
    row = {
        "id": "S1",
        "batch_id": "B1",
        "institution_id": "H8",
        "generic_name": "氨氯地平片",
        "period_start": "2025-01-01",
        "period_end": "2025-06-30",
        "agreed_quantity": 1000,
        "cycle_start": "2024-07-01",
        "cycle_end": "2025-06-30",
        "selected_quantity": 700,
        "emergency_backup_quantity": 300,
    }
    ev = evaluate(JIANGXI, {"purchase_summaries": [row]}, as_of=date(2025, 7, 1))
    (finding,) = ev.by_rule("cycle-end-completion")
    assert finding.outcome == "compliant"
