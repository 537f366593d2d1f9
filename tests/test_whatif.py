"""What-if: diff of two evaluations, sweeps equal to one evaluation per value."""

from __future__ import annotations

from datetime import date

import pytest

pytest.importorskip("narwhals")

from vbp_rules import load_pack
from vbp_rules.engine.frame import evaluate_frame, to_fact_set
from vbp_rules.engine.reference import evaluate
from vbp_rules.synth import synthesize
from vbp_rules.whatif import diff, reading_rules, sweep

AS_OF = date(2025, 7, 31)


@pytest.fixture(scope="module")
def facts():  # type: ignore[no-untyped-def]
    fs, _ = to_fact_set(synthesize(orders=1500, seed=5))
    return fs


def test_diff_enters_and_leaves(facts) -> None:  # type: ignore[no-untyped-def]
    pack = load_pack("jiangxi-2024")
    a = evaluate(pack, facts, as_of=AS_OF)
    b = evaluate(pack.with_overrides({"timely_delivery_rate_floor": "95%"}), facts, as_of=AS_OF)
    d = diff(a, b)
    assert d.changes
    assert {c.rule_id for c in d.changes} == {"product-timely-delivery-rate"}
    assert all(c.change == "enters" for c in d.changes)
    back = diff(b, a)
    assert len(back.leaving()) == len(d.entering())
    assert diff(a, a).changes == ()
    frame = d.to_frame()
    assert frame.height == len(d)
    assert set(frame["change"].to_list()) == {"enters"}


def test_diff_tier_change(facts) -> None:  # type: ignore[no-untyped-def]
    pack = load_pack("jiangxi-2024")
    tiers = {"supply_tier_bar_below": "70%", "supply_tier_reduce_below": "85%"}
    a = evaluate(pack.with_overrides(tiers), facts, as_of=AS_OF)
    b = evaluate(
        pack.with_overrides({**tiers, "supply_tier_reduce_below": "89%"}), facts, as_of=AS_OF
    )
    kinds = {c.change for c in diff(a, b).changes}
    assert kinds <= {"tier_change", "enters", "leaves"}
    assert "tier_change" in kinds


def test_reading_rules() -> None:
    pack = load_pack("jiangxi-2024")
    assert reading_rules(pack, "timely_delivery_rate_floor") == {"product-timely-delivery-rate"}
    assert "cycle-end-completion" in reading_rules(pack, "completion_requirement")


@pytest.mark.parametrize("parameter", ["timely_delivery_rate_floor", "order_response_window"])
def test_sweep_equals_reference_per_value(facts, parameter: str) -> None:  # type: ignore[no-untyped-def]
    pack = load_pack("jiangxi-2024")
    values = ["85%", "90%", "95%"] if parameter.endswith("floor") else [24, 48, 72]
    fast = sweep(pack, facts, parameter, values, as_of=AS_OF)
    slow = sweep(pack, facts, parameter, values, as_of=AS_OF, engine="reference")
    assert fast.equals(slow)
    assert fast.columns == ["value", "rule", "outcome", "tier", "count"]
    per = sweep(pack, facts, parameter, values[:1], as_of=AS_OF, per_subject=True)
    ev = evaluate_frame(pack.with_overrides({parameter: values[0]}), facts, as_of=AS_OF)
    assert per.height == len(ev.findings)
