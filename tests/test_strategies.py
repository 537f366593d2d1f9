"""The hypothesis strategies of the authoring kit: a cache that follows pack objects,
and values generated around every bound that shrink to the bound."""

from __future__ import annotations

import gc
from fractions import Fraction

import pytest
from hypothesis import find, given, settings

from vbp_rules.packs import load_pack
from vbp_rules.testing import strategies
from vbp_rules.testing._boundaries import BoundaryCase, configured
from vbp_rules.testing.strategies import MAX_STEPS, boundary_facts, metric_values

RULE = "product-order-response-rate"  # 订单响应率低于95% (jiangxi-2024 一（五）)


def _drawn_bounds(pack: object) -> set[Fraction | None]:
    seen: set[Fraction | None] = set()

    @settings(max_examples=6, deadline=None, database=None)
    @given(boundary_facts(pack, rules=[RULE]))  # type: ignore[arg-type]
    def draw(case: BoundaryCase) -> None:
        seen.add(case.bound_value)

    draw()
    return seen


def test_a_new_pack_never_gets_a_freed_packs_cases(monkeypatch: pytest.MonkeyPatch) -> None:
    # Issue 14: the cache was keyed by id(pack); a freed pack's address is reused by the
    # next one, which then drew the old pack's 95% cases. Address reuse is up to the
    # allocator, so it is forced here: every object of the module gets the same id.
    monkeypatch.setattr(strategies, "id", lambda _obj: 1, raising=False)
    base = load_pack("jiangxi-2024")
    for value, bound in [("70%", Fraction(7, 10)), ("95%", Fraction(19, 20))] * 2:
        pack = base.with_overrides({"order_response_rate_floor": value})
        assert _drawn_bounds(pack) == {bound}
        del pack
        gc.collect()


def test_the_cache_lets_freed_packs_go() -> None:
    pack = load_pack("jiangxi-2024").with_overrides({"order_response_rate_floor": "70%"})
    boundary_facts(pack, rules=[RULE])  # builds and caches the rule's bound sites
    assert pack in strategies._CACHE
    before = len(strategies._CACHE)
    del pack
    gc.collect()
    assert len(strategies._CACHE) == before - 1


def test_boundary_facts_go_several_steps_from_the_bound_and_agree_with_the_words() -> None:
    pack = load_pack("jiangxi-2024")
    offsets: set[Fraction] = set()

    @settings(max_examples=30, deadline=None, database=None)
    @given(boundary_facts(pack, rules=[RULE]))
    def draw(case: BoundaryCase) -> None:
        assert case.metric is not None
        assert case.bound_value == Fraction(19, 20)
        offset = case.metric - case.bound_value
        offsets.add(offset)
        # 低于95% is the breach: hand-derived, not from the kit's table
        assert case.expected_outcome == ("breach" if offset < 0 else "compliant")

    draw()
    assert len(offsets) > 3  # not just on, one step below and one step above
    assert max(abs(o) for o in offsets) <= MAX_STEPS * Fraction(1, 200)


def test_a_failure_shrinks_to_the_bound_itself() -> None:
    pack = load_pack("jiangxi-2024")
    # "fails" whenever the metric is not above the bound: the minimal case is the bound
    case = find(
        boundary_facts(pack, rules=[RULE]),
        lambda c: c.metric is not None and c.metric <= Fraction(19, 20),
        settings=settings(max_examples=200, deadline=None, database=None),
    )
    assert case.metric == Fraction(19, 20)
    assert case.position == "at"
    value = find(
        metric_values(pack, "supply-score-penalty-tiers"),
        lambda v: v >= Fraction(1, 2),
        settings=settings(max_examples=200, deadline=None, database=None),
    )
    configured_pack, _ = configured(pack)
    bounds = {
        configured_pack.value(name)
        for name in ("supply_tier_bar_below", "supply_tier_reduce_below", "supply_penalty_floor")
    }
    assert value in bounds  # a bound itself, not a bound plus some offset
