"""Action codes: the shared vocabulary, codes a pack declares in YAML, and actions on
compliant tiers (an incentive for the best tier)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from vbp_rules import PackValidationError, load_pack
from vbp_rules.engine.reference import evaluate
from vbp_rules.testing.checks import check_actions_monotone
from vbp_rules.vocab import ACTIONS

PACK = """\
id: demo-2024
title: {{zh: 演示, en: Demo}}
jurisdiction: {{zh: 演示省, en: Demo Province}}
issuers: [{{zh: 演示局, en: Demo Bureau}}]
document_number: 演示〔2024〕1号
issued_on: 2024-01-01
status: in_force
source: {{file: source.txt}}
actions:
  bad_record:
    zh: 记入不良记录
    en: recorded as a bad record
    severity: 50
    effect: penalty
  priority_listing:
    zh: 优先挂网
    en: priority listing
    severity: 20
    effect: incentive
parameters:
  low: {{type: ratio, value: 80%, cite: {{clause: 一, text: 配送率低于80%的}}}}
  good: {{type: ratio, value: 95%, cite: {{clause: 一, text: 配送率不低于95%的}}}}
rules:
  - id: delivery
    kind: tiers
    title: {{zh: 配送率, en: Delivery rate}}
    cite: {{clause: 一, text: 配送率低于80%的，记入不良记录；配送率不低于95%的，优先挂网。}}
    over: enterprise_period_stats
    group_by: [enterprise_id]
    aggregate: {{orders: sum(orders), delivered: sum(timely_delivered_orders)}}
    metric: {{name: delivery_rate, expr: delivered / orders, unit: ratio}}
    tiers:
      - id: bad
        upper: {{word: 低于, parameter: low}}
        actions: [{bad}]
      - id: middle
        lower: {{word: 不低于, parameter: low}}
        upper: {{word: 低于, parameter: good}}
        outcome: compliant
      - id: best
        lower: {{word: 不低于, parameter: good}}
        outcome: compliant
        actions: [{best}]
"""


def _write(tmp_path: Path, *, bad: str = "bad_record", best: str = "priority_listing") -> Path:
    folder = tmp_path / "demo-2024"
    folder.mkdir(exist_ok=True)
    (folder / "pack.yaml").write_text(PACK.format(bad=bad, best=best), encoding="utf-8")
    return folder


def _rows(delivered: int) -> dict[str, list[dict[str, object]]]:
    row = {
        "id": "s1",
        "enterprise_id": "E1",
        "period_start": "2024-01-01",
        "period_end": "2024-03-31",
        "orders": 100,
        "responded_orders": 100,
        "timely_delivered_orders": delivered,
    }
    return {"enterprise_period_stats": [row]}


def test_a_pack_declares_its_own_action_codes(tmp_path: Path) -> None:
    pack = load_pack(_write(tmp_path))
    assert pack.actions["bad_record"].zh == "记入不良记录"
    assert pack.actions["bad_record"].effect == "penalty"
    assert pack.actions["priority_listing"].effect == "incentive"
    assert pack.actions["reminder"] == ACTIONS["reminder"]  # the shared codes stay
    assert "bad_record" not in ACTIONS  # and are not changed by a pack
    ev = evaluate(pack, _rows(79), as_of=date(2024, 6, 30))
    (finding,) = ev.by_rule("delivery")
    assert (finding.outcome, finding.tier, finding.actions) == ("breach", "bad", ("bad_record",))


@pytest.mark.parametrize(("delivered", "tier"), [(94, "middle"), (95, "best"), (100, "best")])
def test_a_compliant_tier_keeps_its_incentive(tmp_path: Path, delivered: int, tier: str) -> None:
    pack = load_pack(_write(tmp_path))
    (finding,) = evaluate(pack, _rows(delivered), as_of=date(2024, 6, 30)).by_rule("delivery")
    assert (finding.outcome, finding.tier) == ("compliant", tier)
    assert finding.actions == (("priority_listing",) if tier == "best" else ())


def test_a_shared_incentive_on_a_compliant_tier_is_kept_too(tmp_path: Path) -> None:
    pack = load_pack(_write(tmp_path, best="incentive"))
    (finding,) = evaluate(pack, _rows(96), as_of=date(2024, 6, 30)).by_rule("delivery")
    assert finding.actions == ("incentive",)


def test_an_unknown_action_lists_the_known_codes_with_a_hint(tmp_path: Path) -> None:
    with pytest.raises(PackValidationError) as info:
        load_pack(_write(tmp_path, bad="bad_recrod"))
    message = str(info.value)
    assert "unknown action 'bad_recrod'; did you mean bad_record?" in message
    assert "known codes: assessment_fail, assessment_penalty, bad_record," in message
    assert "rules[0].tiers[0].actions[0]" in message


def test_declared_effects_keep_the_monotonicity_check_working(tmp_path: Path) -> None:
    assert check_actions_monotone(load_pack(_write(tmp_path))) == []
    # the incentive on the worst tier: a worse metric would get a milder action
    swapped = load_pack(_write(tmp_path, bad="priority_listing", best="bad_record"))
    assert [p.rule_id for p in check_actions_monotone(swapped)] == ["delivery"]


def test_a_declared_action_needs_its_labels_severity_and_effect(tmp_path: Path) -> None:
    folder = _write(tmp_path)
    text = (folder / "pack.yaml").read_text(encoding="utf-8")
    (folder / "pack.yaml").write_text(text.replace("    effect: penalty\n", ""), encoding="utf-8")
    with pytest.raises(PackValidationError, match=r"actions.bad_record.effect"):
        load_pack(folder)
