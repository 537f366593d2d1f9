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

Cases are built once per pack and cached (see :mod:`vbp_rules.testing._boundaries`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction

from hypothesis import strategies as st

from vbp_rules.packs.model import TiersRule
from vbp_rules.packs.pack import Pack
from vbp_rules.testing._boundaries import (
    BoundaryCase,
    Position,
    boundary_cases,
    configured,
    exemption_cases,
    sla_cases,
)

__all__ = [
    "boundary_facts",
    "exemption_toggles",
    "metric_values",
    "shuffled",
    "sla_events",
    "zero_denominators",
]

_CACHE: dict[tuple[int, str], list[BoundaryCase]] = {}


def _cached(pack: Pack, what: str, build: object) -> list[BoundaryCase]:
    key = (id(pack), what)
    if key not in _CACHE:
        _CACHE[key] = list(build())  # type: ignore[operator]
    return _CACHE[key]


def _pick(cases: Sequence[BoundaryCase], what: str, pack: Pack) -> st.SearchStrategy[BoundaryCase]:
    if not cases:
        msg = f"pack {pack.id} has no {what} the generators can build"
        raise ValueError(msg)
    return st.sampled_from(list(cases))


def boundary_facts(
    pack: Pack,
    *,
    rules: Sequence[str] | None = None,
    positions: Sequence[Position] = ("at", "below", "above"),
    configure: Mapping[str, object] | None = None,
) -> st.SearchStrategy[BoundaryCase]:
    """Facts exactly on, one step below or one step above a bound of the pack.

    Ratios over aggregated rows are hit exactly by choosing counts (95% → 19 of 20
    orders; one step below → 189 of 200); change bands by value/baseline pairs.

    Raises:
        ValueError: no case fits the filters.
    """
    key = f"bounds:{sorted(configure.items()) if configure else ''}"
    allc = _cached(pack, key, lambda: boundary_cases(pack, configure=configure))
    chosen = [c for c in allc if (rules is None or c.rule_id in rules) and c.position in positions]
    return _pick(chosen, "boundary cases", pack)


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
        _cached(pack, f"sla:{year}", lambda: sla_cases(pack, year=year)), "deadline cases", pack
    )


def exemption_toggles(pack: Pack) -> st.SearchStrategy[BoundaryCase]:
    """A breach with the exemption event absent (breach) or present (skip ``exempted``)."""
    return _pick(
        _cached(pack, "exemptions", lambda: exemption_cases(pack)), "exemption cases", pack
    )


def metric_values(pack: Pack, rule_id: str) -> st.SearchStrategy[Fraction]:
    """Exact metric values for a tiers rule: every bound, and values near and between them.

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
    near = st.tuples(
        st.sampled_from(bounds or [Fraction(0)]), st.fractions(-1, 1, max_denominator=1000)
    )
    return st.one_of(
        st.sampled_from(bounds or [Fraction(0)]),
        near.map(lambda t: t[0] + t[1] / 100),
        st.fractions(-1, 3, max_denominator=10_000),
    )


def shuffled(case: BoundaryCase) -> st.SearchStrategy[dict[str, list[dict[str, object]]]]:
    """The case's fact rows in a random order (for order-independence properties)."""
    records = case.records()
    kinds = sorted(records)
    return st.tuples(*(st.permutations(records[k]) for k in kinds)).map(
        lambda perms: {k: list(p) for k, p in zip(kinds, perms, strict=True)}
    )
