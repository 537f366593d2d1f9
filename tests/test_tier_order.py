"""Tiers are tried in the order the pack writes them: the first tier that holds decides.

The loader proves tiers with literal or parameter bounds contiguous, so on the shipped
packs at most one tier can hold and the order is not observable. A bound written as an
expression cannot be checked statically, so a pack may let two tiers overlap; there the
order decides. The fixture is shandong-2023 with the ``bar`` tier's upper bound written as
an expression reaching up to the next tier's bound (低于 60% instead of 低于 30%): a
delivery rate of 50% is then inside both ``bar`` (below 60%) and ``reduce-volume``
(30% to below 60%), and the first written, ``bar``, must decide.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from vbp_rules.engine import get_engine
from vbp_rules.facts import FactSet
from vbp_rules.packs import load_pack

ROOT = Path(__file__).resolve().parents[1]
BAR_UPPER = "upper: {word: 低于, parameter: delivery_tier_bar_below}"


@pytest.fixture(scope="module")
def overlapping(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("packs") / "shandong-2023"
    folder.mkdir()
    text = (ROOT / "policy_packs" / "shandong-2023" / "pack.yaml").read_text("utf-8")
    assert text.count(BAR_UPPER) == 1
    text = text.replace(BAR_UPPER, 'upper: {word: 低于, expr: "delivery_tier_reduce_below"}')
    (folder / "pack.yaml").write_text(text, encoding="utf-8")
    return folder


# delivered of 100 ordered -> (the tier that must decide, outcome)
CASES = [
    (50, "bar"),  # inside bar (< 60%) and reduce-volume (30% .. < 60%): bar is written first
    (30, "bar"),  # at 30%: bar (< 60%) and reduce-volume (不低于 30% includes it)
    (29, "bar"),  # bar only
    (60, "risk-notice"),  # 60% is outside bar (低于 excludes it) and reduce-volume
    (80, "no-penalty"),
]


@pytest.mark.parametrize("engine", ["reference", "frame", "stream"])
@pytest.mark.parametrize(("delivered", "tier"), CASES)
def test_the_first_written_tier_that_holds_decides(
    overlapping: Path, engine: str, delivered: int, tier: str
) -> None:
    pack = load_pack(overlapping)
    facts = FactSet.from_records(
        {
            "enterprise_period_stats": [
                {
                    "id": "S1",
                    "enterprise_id": "E1",
                    "product_id": "P1",
                    "period_start": "2024-01-01",
                    "period_end": "2024-06-30",
                    "orders": 10,
                    "responded_orders": 10,
                    "timely_delivered_orders": 10,
                    "ordered_quantity": 100,
                    "delivered_quantity": delivered,
                }
            ]
        }
    )
    ev = get_engine(engine)(pack, facts, as_of=date(2024, 12, 31))
    assert ev.rejects == ()
    [finding] = ev.by_rule("enterprise-delivery-penalty-tiers")
    assert finding.tier == tier
