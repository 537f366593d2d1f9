"""Differential tests: the stream engine against the reference engine (hypothesis).

Histories of orders, complaints, settlements, enterprise quarter statistics and
agreements (state facts) are drawn around the 2024 Spring Festival (02-10..17 off, Sun
02-04 and Sun 02-18 worked) and National Day (10-01..07 off, Sun 09-29 and Sat 10-12
worked), with instants on and next to the deadlines, and replayed as events for every
pack. The stream engine's evaluation must equal the reference engine's for every rule:
findings ``to_dict()`` for ``to_dict()``, skips and rejects, in the same order; a live
monitor must equal it after every tick.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("durable_rules_engine")

from vbp_rules import FactSet, evaluate, load_pack
from vbp_rules.engine.stream import Monitor, replay, replay_events, state_events
from vbp_rules.findings import Evaluation, Finding, Skip
from vbp_rules.packs.pack import Pack

SH = ZoneInfo("Asia/Shanghai")

#: Days next to the 2024 holidays and their make-up working days.
DAYS = [
    *(date(2024, 2, d) for d in range(2, 22)),
    *(date(2024, 9, d) for d in range(25, 31)),
    *(date(2024, 10, d) for d in range(1, 16)),
]
#: Times of day that sit on or next to a day boundary or a whole hour.
TIMES = [(0, 0), (0, 1), (9, 0), (15, 30), (23, 59)]
#: Offsets that land on, just before and just after 48 hours and whole days.
DELTAS = [
    timedelta(0),
    timedelta(minutes=1),
    timedelta(hours=47, minutes=59),
    timedelta(hours=48),
    timedelta(hours=48, minutes=1),
    timedelta(days=1),
    timedelta(days=2, hours=9),
    timedelta(days=3),
    timedelta(days=5, hours=14, minutes=30),
    timedelta(days=8),
    timedelta(days=12),
]

PACKS = [
    "jiangxi-2024",
    "shandong-2021",
    "shandong-2023",
    "shanxi-2021",
    "weihai-2023",
    "zhejiang-2025",
]
SETTINGS = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
)


def _pack(pack_id: str) -> Pack:
    return load_pack(pack_id)  # a missing pack fails: a deletion must not pass as a skip


instants = st.builds(
    lambda d, t: datetime(d.year, d.month, d.day, t[0], t[1], tzinfo=SH),
    st.sampled_from(DAYS),
    st.sampled_from(TIMES),
)
maybe_delta = st.none() | st.sampled_from(DELTAS)


@st.composite
def orders(draw: st.DrawFn, i: int) -> dict[str, Any]:
    sent = draw(instants)
    ordered = draw(st.integers(1, 5))
    row: dict[str, Any] = {
        "id": f"o{i}",
        "institution_id": draw(st.sampled_from(["h1", "h2"])),
        "enterprise_id": draw(st.sampled_from(["e1", "e2"])),
        "product_id": "p1",
        "sent_at": sent,
        "ordered_quantity": ordered,
        "batch_id": draw(st.sampled_from([None, "b1"])),
    }
    if (d := draw(maybe_delta)) is not None:
        row["responded_at"] = sent + d
    if (d := draw(maybe_delta)) is not None:
        row["delivery_due_at"] = sent + d
    if (d := draw(maybe_delta)) is not None:
        row["delivered_at"] = sent + d
        row["delivered_quantity"] = draw(st.integers(0, ordered))
    return row


@st.composite
def complaints(draw: st.DrawFn, i: int) -> dict[str, Any]:
    raised = draw(instants)
    row: dict[str, Any] = {
        "id": f"c{i}",
        "institution_id": "h1",
        "enterprise_id": draw(st.sampled_from(["e1", "e2"])),
        "product_id": draw(st.sampled_from([None, "p1"])),
        "raised_at": raised,
        "unresolvable": draw(st.booleans()),
    }
    replied = None
    if (d := draw(maybe_delta)) is not None:
        replied = raised + d
        row["replied_at"] = replied
    if (d := draw(maybe_delta)) is not None:
        row["committed_resolution_at"] = (replied or raised) + d
    if (d := draw(maybe_delta)) is not None:
        row["resolved_at"] = raised + d
    return row


QUARTERS = [
    (date(2023, 10, 1), date(2023, 12, 31)),
    (date(2024, 1, 1), date(2024, 3, 31)),
    (date(2024, 4, 1), date(2024, 6, 30)),
    (date(2024, 7, 1), date(2024, 9, 30)),
    (date(2024, 10, 1), date(2024, 12, 31)),
]


@st.composite
def period_stats(draw: st.DrawFn) -> list[dict[str, Any]]:
    rows = []
    for enterprise in ("e1", "e2"):
        chosen = draw(st.lists(st.sampled_from(range(len(QUARTERS))), unique=True, max_size=4))
        for q in sorted(chosen):
            start, end = QUARTERS[q]
            n = draw(st.sampled_from([0, 10, 20]))
            timely = draw(st.integers(0, n)) if n else 0
            if n and draw(st.booleans()):
                timely = n * 9 // 10  # exactly 90%
            rows.append(
                {
                    "id": f"s-{enterprise}-{q}",
                    "enterprise_id": enterprise,
                    "period_start": start,
                    "period_end": end,
                    "orders": n,
                    "responded_orders": draw(st.integers(0, n)),
                    "timely_delivered_orders": timely,
                    "complaints": draw(st.integers(0, 3)),
                }
            )
    return rows


@st.composite
def settlements(draw: st.DrawFn, i: int) -> dict[str, Any]:
    accepted = draw(instants)
    row: dict[str, Any] = {
        "id": f"s{i}",
        "institution_id": draw(st.sampled_from(["h1", "h2"])),
        "enterprise_id": "e1",
        "accepted_at": accepted,
        "amount": "100.00",
    }
    if d := draw(st.none() | st.sampled_from([*DELTAS, timedelta(days=30), timedelta(days=45)])):
        row["paid_at"] = accepted + d
    return row


@st.composite
def agreements(draw: st.DrawFn, i: int) -> dict[str, Any]:
    """State facts: rules over them are decided at ticks over the whole fact state."""
    start = draw(st.sampled_from(DAYS))
    row: dict[str, Any] = {
        "id": f"a{i}",
        "institution_id": draw(st.sampled_from(["h1", "h2"])),
        "enterprise_id": "e1",
        "product_id": "p1",
        "agreed_quantity": draw(st.integers(0, 20)),
        "cycle_start": start,
        "cycle_end": start + timedelta(days=draw(st.sampled_from([0, 30, 364]))),
    }
    if (d := draw(st.none() | st.sampled_from(DELTAS))) is not None:
        row["signed_at"] = datetime(start.year, start.month, start.day, 9, tzinfo=SH) + d
    return row


@st.composite
def histories(draw: st.DrawFn) -> dict[str, list[dict[str, Any]]]:
    n_orders = draw(st.integers(0, 8))
    n_complaints = draw(st.integers(0, 6))
    return {
        "orders": [draw(orders(i)) for i in range(n_orders)],
        "complaints": [draw(complaints(i)) for i in range(n_complaints)],
        "settlements": [draw(settlements(i)) for i in range(draw(st.integers(0, 4)))],
        "agreements": [draw(agreements(i)) for i in range(draw(st.integers(0, 3)))],
        "enterprise_period_stats": draw(period_stats()),
        "batches": [{"id": "b1", "name": "batch one"}],
    }


interpretations = st.sampled_from(
    [{}, {"commitment_counted_from": "from_reply"}, {"commitment_counted_from": "from_complaint"}]
)


def _findings(items: tuple[Finding, ...]) -> list[str]:
    return sorted(repr(f.to_dict()) for f in items)


def _skips(items: tuple[Skip, ...]) -> list[str]:
    # a grouped subject lists its rows in arrival order in a live monitor
    return sorted(repr(attrs.evolve(s, rows=tuple(sorted(s.rows)))) for s in items)


def _check(got: Evaluation, want: Evaluation) -> None:
    """Every rule: findings, skips (in the reference engine's order), rejects."""
    assert dict(got.metadata)["unsupported_rules"] == ()
    assert [f.to_dict() for f in got.findings] == [f.to_dict() for f in want.findings]
    assert got.skips == want.skips
    assert got.rejects == want.rejects


@pytest.mark.parametrize("pack_id", PACKS)
@SETTINGS
@given(
    facts=histories(),
    as_of=instants,
    chosen=interpretations,
    every=st.sampled_from([None, timedelta(hours=6), timedelta(days=1)]),
)
def test_replay_equals_reference(
    pack_id: str,
    facts: dict[str, list[dict[str, Any]]],
    as_of: datetime,
    chosen: dict[str, str],
    every: timedelta | None,
) -> None:
    pack = _pack(pack_id)
    if chosen and "commitment_counted_from" not in pack.model.interpretations:
        chosen = {}
    want = evaluate(pack, facts, as_of=as_of, interpretations=chosen)
    got = replay(pack, facts, as_of=as_of, interpretations=chosen, tick_every=every)
    _check(got, want)


@pytest.mark.parametrize("pack_id", PACKS)
@SETTINGS
@given(facts=histories(), data=st.data())
def test_every_tick_matches_reference_on_the_facts_so_far(
    pack_id: str, facts: dict[str, list[dict[str, Any]]], data: st.DataObject
) -> None:
    """After any interleaving of events and ticks, the monitor's findings are the
    reference engine's on the facts seen so far, as of the last tick."""
    pack = _pack(pack_id)
    fs = FactSet.from_records(facts)
    events = replay_events(fs)
    ticks = sorted(data.draw(st.lists(instants, max_size=4)))
    with Monitor(pack) as monitor:
        for fact in state_events(fs):
            assert monitor.post(fact)
        for at, event in events:
            while ticks and ticks[0] <= at:
                monitor.tick(ticks.pop(0))
                _same_as_reference(monitor, pack)
            assert monitor.post(event)
        final = ticks[-1] if ticks else datetime(2024, 12, 31, tzinfo=SH)
        monitor.tick(max(final, monitor.now or final))
        _same_as_reference(monitor, pack)


def _same_as_reference(monitor: Monitor, pack: Pack) -> None:
    want = evaluate(pack, monitor.facts(), as_of=monitor.now)  # type: ignore[arg-type]
    assert _findings(monitor.findings()) == _findings(want.findings)
    # the monitor's skips are the rules' own; replay adds the row accounting
    assert _skips(monitor.skips()) == _skips(tuple(s for s in want.skips if s.rule_id))


def test_national_day_make_up_sunday_counts() -> None:
    """Fri 09-27 15:30 + 2 working days = Sun 09-29 (make-up) and Mon 09-30."""
    pack = _pack("jiangxi-2024")
    raised = datetime(2024, 9, 27, 15, 30, tzinfo=SH)
    for replied, outcome in [
        (datetime(2024, 10, 1, 0, 0, tzinfo=SH), "compliant"),  # 24:00 of 09-30
        (datetime(2024, 10, 1, 0, 1, tzinfo=SH), "breach"),
    ]:
        facts = {
            "complaints": [
                {
                    "id": "c1",
                    "institution_id": "h1",
                    "enterprise_id": "e1",
                    "raised_at": raised,
                    "replied_at": replied,
                }
            ]
        }
        got = replay(pack, facts, as_of=date(2024, 10, 31))
        (reply,) = got.by_rule("complaint-reply")
        assert reply.outcome == outcome
        _check(got, evaluate(pack, facts, as_of=date(2024, 10, 31)))
