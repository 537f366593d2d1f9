"""Hypothesis strategies derived from a loaded pack (needs the ``test`` extra).

Every strategy draws from facts built for the pack's own bounds, so a property test
written once runs against any province's pack:

>>> from hypothesis import given
>>> from vbp_rules.packs import load_pack
>>> from vbp_rules.testing.strategies import boundary_facts
>>> pack = load_pack("jiangxi-2024")
>>> @given(boundary_facts(pack, rules=["report-change"]))
... def test_report_change(case):
...     assert case.expected_outcome in ("breach", "compliant", None)
>>> test_report_change()

:func:`boundary_facts` and :func:`metric_values` generate values around every bound,
any number of steps away, and shrink to the bound itself (zero steps): a failure is
reported at the bound, where the bound word decides. Built cases are cached per pack
object (weakly: a freed pack's cases go with it, and a new pack never reuses them).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction
from typing import Any

from hypothesis import strategies as st

from vbp_rules.packs.model import TiersRule
from vbp_rules.packs.pack import Pack
from vbp_rules.testing._boundaries import (
    BoundaryCase,
    BoundSite,
    Position,
    bound_sites,
    boundary_cases,
    configured,
    exemption_cases,
    sla_cases,
)

__all__ = [
    "MAX_STEPS",
    "boundary_facts",
    "exemption_toggles",
    "metric_values",
    "shuffled",
    "sla_events",
    "zero_denominators",
]

_CACHE: weakref.WeakKeyDictionary[Pack, dict[str, Any]] = weakref.WeakKeyDictionary()

#: How many steps from a bound the generated metrics go, each way.
MAX_STEPS = 20


def _cached(pack: Pack, what: str, build: Callable[[], Any]) -> Any:
    """``build()`` once per pack object and ``what``; freed with the pack."""
    per_pack = _CACHE.setdefault(pack, {})
    if what not in per_pack:
        per_pack[what] = build()
    return per_pack[what]


def _pick(cases: Sequence[BoundaryCase], what: str, pack: Pack) -> st.SearchStrategy[BoundaryCase]:
    if not cases:
        msg = f"pack {pack.id} has no {what} the generators can build"
        raise ValueError(msg)
    return st.sampled_from(list(cases))


def _steps(positions: Sequence[Position]) -> st.SearchStrategy[int]:
    """Whole steps from a bound, shrinking to 0 (the bound), on the allowed sides."""
    lo = -MAX_STEPS if "below" in positions else 0
    hi = MAX_STEPS if "above" in positions else 0
    steps = st.integers(lo, hi)
    if "at" not in positions:
        steps = steps.filter(lambda k: k != 0)
    return steps


def boundary_facts(
    pack: Pack,
    *,
    rules: Sequence[str] | None = None,
    positions: Sequence[Position] = ("at", "below", "above"),
    configure: Mapping[str, object] | None = None,
) -> st.SearchStrategy[BoundaryCase]:
    """Facts whose metric is on a bound of the pack, or some steps below or above it.

    A bound is drawn, then a whole number of steps from it (up to :data:`MAX_STEPS`
    each way; a step is the smallest move of the metric's unit). Both shrink: to the
    first bound, and to the bound itself. Ratios over aggregated rows are hit exactly
    by choosing counts (95% → 19 of 20 orders; one step below → 189 of 200); change
    bands by value/baseline pairs. With ``positions=("zero_denominator",)`` the facts
    divide by zero instead.

    Raises:
        ValueError: no bound or case fits the filters.
    """
    key = f"{sorted(configure.items()) if configure else ''}"
    if "zero_denominator" in positions:
        allc = _cached(pack, f"bounds:{key}", lambda: boundary_cases(pack, configure=configure))
        chosen = [
            c for c in allc if (rules is None or c.rule_id in rules) and c.position in positions
        ]
        return _pick(chosen, "boundary cases", pack)
    wanted = sorted(rules) if rules is not None else None
    chosen_sites: list[BoundSite] = _cached(
        pack,
        f"sites:{key}:{wanted}",
        lambda: bound_sites(pack, rules=wanted, configure=configure),
    )
    if not chosen_sites:
        msg = f"pack {pack.id} has no bounds the generators can reach for rules {rules}"
        raise ValueError(msg)
    steps = _steps(positions)

    def build(steps_index: tuple[int, int]) -> BoundaryCase | None:
        k, i = steps_index
        case: BoundaryCase | None = _cached(
            pack, f"case:{key}:{wanted}:{i}:{k}", lambda: chosen_sites[i].case(k)
        )
        return case

    # steps first: shrinking takes them to 0 (the bound) before it changes the bound
    drawn = st.tuples(steps, st.integers(0, len(chosen_sites) - 1)).map(build)
    return drawn.filter(lambda c: c is not None)  # type: ignore[return-value]


def zero_denominators(
    pack: Pack, *, rules: Sequence[str] | None = None
) -> st.SearchStrategy[BoundaryCase]:
    """Facts whose metric divides by zero (no due orders, a zero baseline)."""
    return boundary_facts(pack, rules=rules, positions=("zero_denominator",))


def sla_events(pack: Pack, *, year: int | None = None) -> st.SearchStrategy[BoundaryCase]:
    """Deadline events starting around holidays and make-up working days.

    Each case is on time (at the due instant), one minute late, or absent just after the
    due instant; the working-day calendar is :meth:`WorkCalendar.china`.
    """
    return _pick(
        _cached(pack, f"sla:{year}", lambda: list(sla_cases(pack, year=year))),
        "deadline cases",
        pack,
    )


def exemption_toggles(pack: Pack) -> st.SearchStrategy[BoundaryCase]:
    """A breach with the exemption event absent (breach) or present (skip ``exempted``)."""
    return _pick(
        _cached(pack, "exemptions", lambda: list(exemption_cases(pack))),
        "exemption cases",
        pack,
    )


def metric_values(pack: Pack, rule_id: str) -> st.SearchStrategy[Fraction]:
    """Exact metric values for a tiers rule: a bound plus an offset in [-1, 1].

    The offset shrinks to 0, so a failing value is reported as the bound itself.

    Useful for properties of the tier ladder itself (see
    :func:`vbp_rules.testing.checks.check_tiers_exhaustive`).
    """
    p, _ = configured(pack)
    rule = p.rule(rule_id)
    if not isinstance(rule, TiersRule):
        msg = f"{rule_id} is a {rule.kind} rule, not tiers"
        raise ValueError(msg)
    from vbp_rules.testing.checks import _static_bound  # noqa: PLC0415

    bounds = sorted(
        {
            v
            for t in rule.tiers
            for b in (t.lower, t.upper)
            if (v := _static_bound(p, b)) is not None
        }
    )
    if not bounds:
        msg = f"{rule_id} has no bound with a known value"
        raise ValueError(msg)
    # an offset that shrinks to 0 (the bound itself) before the bound changes
    offsets = st.fractions(-1, 1, max_denominator=10_000)
    return st.tuples(offsets, st.sampled_from(bounds)).map(lambda t: t[0] + t[1])


def shuffled(case: BoundaryCase) -> st.SearchStrategy[dict[str, list[dict[str, object]]]]:
    """The case's fact rows in a random order (for order-independence properties)."""
    records = case.records()
    kinds = sorted(records)
    return st.tuples(*(st.permutations(records[k]) for k in kinds)).map(
        lambda perms: {k: list(p) for k, p in zip(kinds, perms, strict=True)}
    )
