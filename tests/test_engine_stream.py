"""The stream engine: events, ticks, rejects, lifetime, and agreement with the reference."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

pytest.importorskip("durable_rules_engine")

from vbp_rules import evaluate, load_pack
from vbp_rules.engine.stream import Monitor, evaluate_stream, replay
from vbp_rules.findings import Finding

SH = ZoneInfo("Asia/Shanghai")


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


def order(oid: str, sent: datetime, **extra: Any) -> dict[str, Any]:
    return {
        "id": oid,
        "institution_id": "h1",
        "enterprise_id": "e1",
        "product_id": "p1",
        "sent_at": sent,
        "ordered_quantity": 5,
        **extra,
    }


def complaint(cid: str, raised: datetime, **extra: Any) -> dict[str, Any]:
    return {"id": cid, "institution_id": "h1", "enterprise_id": "e1", "raised_at": raised, **extra}


@pytest.fixture(scope="module")
def jiangxi() -> Any:
    return load_pack("jiangxi-2024")


def same_as_reference(monitor: Monitor) -> None:
    assert monitor.now is not None
    ref = evaluate(monitor.pack, monitor.facts(), as_of=monitor.now)
    supported = set(monitor.supported_rules)
    want = sorted((f.to_dict() for f in ref.findings if f.rule_id in supported), key=repr)
    got = sorted((f.to_dict() for f in monitor.findings()), key=repr)
    assert got == want


def test_order_response_deadline_arises_at_the_tick_after_48_hours(jiangxi: Any) -> None:
    seen: list[Finding] = []
    with Monitor(jiangxi, now=at(2024, 3, 1, 8), on_finding=seen.append) as m:
        assert m.order_sent(**order("o1", at(2024, 3, 1, 9)))
        assert [f.rule_id for f in seen] == []
        arose = m.tick(at(2024, 3, 3, 9))  # exactly 48 hours: not late yet
        assert [f for f in arose if f.rule_id == "order-response-48h"] == []
        arose = m.tick(at(2024, 3, 3, 9, 1))
        (late,) = [f for f in arose if f.rule_id == "order-response-48h"]
        assert late.outcome == "breach"
        (late,) = [f for f in m.findings() if f.rule_id == "order-response-48h"]
        assert late.value("as_of") == at(2024, 3, 3, 9, 1)
        same_as_reference(m)
        # the response comes in late: the absence becomes a late response
        assert m.order_responded("o1", at(2024, 3, 4, 10))
        (late,) = [f for f in m.findings() if f.rule_id == "order-response-48h"]
        assert late.value("end") == at(2024, 3, 4, 10)
        same_as_reference(m)


def test_response_on_time_is_compliant_immediately(jiangxi: Any) -> None:
    seen: list[Finding] = []
    with Monitor(jiangxi, now=at(2024, 3, 1, 8), on_finding=seen.append) as m:
        m.order_sent(**order("o1", at(2024, 3, 1, 9)))
        m.order_responded("o1", at(2024, 3, 3, 9))
        assert [(f.rule_id, f.outcome) for f in seen] == [("order-response-48h", "compliant")]


def test_complaint_reply_crosses_national_day(jiangxi: Any) -> None:
    # Friday 2024-09-27 15:30 + 2 working days: Sun 29 (make-up day) and Mon 30 -> due
    # 24:00 of 09-30; the National Day holiday starts 10-01.
    with Monitor(jiangxi, now=at(2024, 9, 27, 15)) as m:
        m.complaint_raised(**complaint("c1", at(2024, 9, 27, 15, 30)))
        m.tick(at(2024, 9, 30, 23, 59))
        assert not [f for f in m.findings() if f.rule_id == "complaint-reply"]
        (pending,) = [s for s in m.skips() if s.rule_id == "complaint-reply"]
        assert pending.reason == "pending"
        m.tick(at(2024, 10, 1, 0, 1))
        (late,) = [f for f in m.findings() if f.rule_id == "complaint-reply"]
        assert late.outcome == "breach"
        assert late.value("due") == at(2024, 10, 1)
        same_as_reference(m)


def test_complaint_lifecycle_and_unknown_reply(jiangxi: Any) -> None:
    with Monitor(jiangxi, now=at(2024, 2, 8, 9)) as m:
        assert m.complaint_raised(**complaint("c1", at(2024, 2, 8, 10)))
        # Spring Festival 02-10..17: two working days after Thu 02-08 are Fri 02-09
        # and Sun 02-18 (a make-up day): due 24:00 of 02-18
        assert m.complaint_replied(
            "c1", at(2024, 2, 18, 17), committed_resolution_at=at(2024, 2, 23, 17)
        )
        assert not m.complaint_replied("c1", at(2024, 2, 19, 18))
        assert not m.complaint_replied("nope", at(2024, 2, 19, 18))
        assert m.complaint_resolved("c1", at(2024, 2, 23, 16))
        m.tick(at(2024, 3, 1))
        reasons = [r.reason for r in m.rejects]
        assert reasons == [
            "repeated complaint_replied for complaints 'c1' (the first one stands)",
            "unknown complaints id 'nope': no complaint_raised event for it",
        ]
        outcomes = {f.rule_id: f.outcome for f in m.findings()}
        (reply,) = [f for f in m.findings() if f.rule_id == "complaint-reply"]
        assert reply.value("due") == at(2024, 2, 19)
        assert outcomes["complaint-reply"] == "compliant"
        assert outcomes["complaint-commitment-limit"] == "compliant"
        assert outcomes["complaint-resolution"] == "compliant"
        same_as_reference(m)


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        ({"event": "order_cancelled", "id": "o1"}, "unknown event kind 'order_cancelled'"),
        ({"event": "order_sent"}, "required, but missing or empty"),
        (
            {"event": "order_sent", **order("o1", datetime(2024, 3, 1, 9))},
            "naive timestamp",
        ),
        ({"event": "order_responded", "id": "o1"}, "required, but missing or empty"),
        ({"event": "order_responded", "id": "o1", "at": "2024-03-01 10:00"}, "naive"),
        (
            {"event": "order_responded", "id": "o1", "at": at(2024, 3, 1), "x": 1},
            "unknown field for order_responded",
        ),
        (
            {"event": "order_responded", "id": "o1", "at": at(2024, 2, 1)},
            "is before sent_at",
        ),
        (
            {"event": "order_sent", **order("o1", at(2024, 3, 1, 9))},
            "duplicate: orders 'o1' already exists",
        ),
        (
            {"event": "order_sent", **order("o2", at(2024, 3, 1, 9), responded_at=at(2024, 3, 2))},
            "responded_at is set by a order_responded event",
        ),
        ({"event": "period_closed", "of": "orders", "id": "x"}, "period_closed of 'orders'"),
        ("not a mapping", "an event must be a mapping"),
    ],
)
def test_malformed_events_are_rejected_with_a_reason(jiangxi: Any, event: Any, reason: str) -> None:
    with Monitor(jiangxi, now=at(2024, 3, 1)) as m:
        assert m.order_sent(**order("o1", at(2024, 3, 1, 9)))
        assert m.post(event) is False
        (reject,) = m.rejects
        assert reason in reject.reason
        # the monitor carries on
        assert m.order_responded("o1", at(2024, 3, 1, 12))
        assert m.stats["subjects"] == 1


def test_ticks_must_be_aware_and_not_go_back(jiangxi: Any) -> None:
    with Monitor(jiangxi) as m:
        assert m.now is None
        m.tick(datetime(2024, 3, 1))
        assert m.now is None
        m.tick(at(2024, 3, 2))
        m.tick(at(2024, 3, 1))
        assert m.now == at(2024, 3, 2)
        m.tick(date(2024, 3, 5))
        assert m.now == at(2024, 3, 6)
        assert [r.field for r in m.rejects] == ["now", "now"]


def test_events_before_the_first_tick_are_decided_at_it(jiangxi: Any) -> None:
    with Monitor(jiangxi) as m:
        m.order_sent(**order("o1", at(2024, 3, 1, 9)))
        m.order_responded("o1", at(2024, 3, 4, 9))
        assert m.findings() == ()
        m.tick(at(2024, 3, 31))
        assert {f.rule_id for f in m.findings()} >= {"order-response-48h"}
        same_as_reference(m)


def test_streak_arises_when_the_second_quarter_closes(jiangxi: Any) -> None:
    seen: list[Finding] = []

    def stat(sid: str, start: date, end: date, timely: int) -> dict[str, Any]:
        return {
            "id": sid,
            "enterprise_id": "e1",
            "period_start": start,
            "period_end": end,
            "orders": 100,
            "responded_orders": 100,
            "timely_delivered_orders": timely,
        }

    with Monitor(jiangxi, now=at(2024, 7, 1), on_finding=seen.append) as m:
        assert m.period_closed(**stat("q2", date(2024, 4, 1), date(2024, 6, 30), 89))
        assert not [f for f in seen if f.rule_id == "enterprise-timely-delivery-streak"][0:0]
        m.tick(at(2024, 10, 1))
        seen.clear()
        assert m.period_closed(**stat("q3", date(2024, 7, 1), date(2024, 9, 30), 90 - 1))
        streak = [f for f in seen if f.rule_id == "enterprise-timely-delivery-streak"]
        assert [(str(f.period), f.outcome) for f in streak] == [("2024Q3", "breach")]
        assert streak[0].value("consecutive_periods") == 2
        same_as_reference(m)


def test_exactly_ninety_percent_is_not_below(jiangxi: Any) -> None:
    with Monitor(jiangxi, now=at(2024, 10, 1)) as m:
        for i, (start, end) in enumerate(
            [(date(2024, 4, 1), date(2024, 6, 30)), (date(2024, 7, 1), date(2024, 9, 30))]
        ):
            m.period_closed(
                id=f"s{i}",
                enterprise_id="e1",
                period_start=start,
                period_end=end,
                orders=10,
                responded_orders=10,
                timely_delivered_orders=9,
            )
        streak = [f for f in m.findings() if f.rule_id == "enterprise-timely-delivery-streak"]
        assert [f.outcome for f in streak] == ["compliant", "compliant"]


def test_monthly_rate_is_assessed_once_the_month_is_over(jiangxi: Any) -> None:
    seen: list[Finding] = []
    with Monitor(jiangxi, now=at(2024, 10, 1), on_finding=seen.append) as m:
        for i in range(20):
            m.order_sent(**order(f"o{i}", at(2024, 10, 8, 9)))
            if i < 19:
                m.order_responded(f"o{i}", at(2024, 10, 8, 10))
        m.tick(at(2024, 10, 9))
        assert not [f for f in seen if f.rule_id == "product-order-response-rate"]
        # on demand, the current value is there (the reference engine's, as of now)
        (rate,) = [f for f in m.findings() if f.rule_id == "product-order-response-rate"]
        assert rate.outcome == "compliant"  # 19/20 is exactly 95%
        same_as_reference(m)
        seen.clear()  # deciding on demand announced it
        m.order_sent(**order("o20", at(2024, 10, 30, 9)))
        m.tick(at(2024, 10, 31, 23))
        assert not [f for f in seen if f.rule_id == "product-order-response-rate"]
        arose = m.tick(at(2024, 11, 1))
        (rate,) = [f for f in arose if f.rule_id == "product-order-response-rate"]
        assert rate.outcome == "breach"  # 19/21 is below 95%
        same_as_reference(m)


def test_monitors_do_not_collide_and_close_frees_the_ruleset(jiangxi: Any) -> None:
    a = Monitor(jiangxi, now=at(2024, 3, 1))
    b = Monitor(jiangxi, now=at(2024, 3, 1))
    assert a.name != b.name
    a.order_sent(**order("o1", at(2024, 3, 1, 9)))
    assert b.order_sent(**order("o1", at(2024, 3, 1, 9)))  # not a duplicate in b
    a.close()
    assert a.closed
    assert not a.order_responded("o1", at(2024, 3, 1, 10))
    assert a.rejects[-1].reason == "the monitor is closed"
    assert b.order_responded("o1", at(2024, 3, 1, 10))
    b.close()
    b.close()  # idempotent


def test_many_monitors_in_one_process(jiangxi: Any) -> None:
    for _ in range(50):
        with Monitor(jiangxi, now=at(2024, 3, 1)) as m:
            assert m.order_sent(**order("o1", at(2024, 3, 1, 9)))


def test_more_subjects_than_durable_sids(jiangxi: Any) -> None:
    # durable-rules holds at most 1024 sids per ruleset: subjects share partitions
    with Monitor(jiangxi, now=at(2024, 3, 1), partitions=4) as m:
        for i in range(1500):
            assert m.order_sent(**order(f"o{i}", at(2024, 3, 1, 9)))
        assert m.stats["subjects"] == 1500


def test_replay_and_evaluate_stream_match_reference(jiangxi: Any) -> None:
    facts = {
        "orders": [
            order("o1", at(2024, 9, 27, 9), responded_at=at(2024, 9, 30, 9)),
            order("o2", at(2024, 9, 28, 9)),
            order(
                "o3",
                at(2024, 10, 8, 9),
                responded_at=at(2024, 10, 8, 10),
                delivery_due_at=at(2024, 10, 10),
                delivered_at=at(2024, 10, 11),
                delivered_quantity=5,
            ),
        ],
        "complaints": [
            complaint(
                "c1",
                at(2024, 9, 27, 15, 30),
                replied_at=at(2024, 10, 8, 9),
                committed_resolution_at=at(2024, 10, 20, 9),
            ),
        ],
        "agreements": [
            {
                "id": "a1",
                "institution_id": "h1",
                "enterprise_id": "e1",
                "product_id": "p1",
                "agreed_quantity": 10,
                "cycle_start": "2024-01-01",
                "cycle_end": "2024-12-31",
            }
        ],
    }
    as_of = date(2024, 10, 15)
    ref = evaluate(jiangxi, facts, as_of=as_of)
    for run in (
        evaluate_stream(jiangxi, facts, as_of=as_of),
        replay(jiangxi, facts, as_of=as_of, tick_every=timedelta(hours=6)),
    ):
        assert run.engine == "stream"
        meta = dict(run.metadata)
        assert meta["unsupported_rules"] == ()
        # agreements are state facts: their rules are decided at ticks, not dropped
        at_ticks = dict(meta["decided_at_ticks"])  # type: ignore[arg-type]
        assert "agreement-signed-before-execution" in at_ticks
        assert run.by_rule("agreement-signed-before-execution")
        want = sorted((f.to_dict() for f in ref.findings), key=repr)
        assert sorted((f.to_dict() for f in run.findings), key=repr) == want
        assert sorted(map(repr, run.skips)) == sorted(map(repr, ref.skips))
        assert run.accounted_rows() >= {("orders", "o1"), ("agreements", "a1")}


def test_replay_with_facts_after_as_of(jiangxi: Any) -> None:
    facts = {
        "orders": [
            order("o1", at(2024, 3, 1, 9), responded_at=at(2024, 3, 20, 9)),
            order("o2", at(2024, 3, 25, 9)),
        ]
    }
    as_of = at(2024, 3, 10)
    ref = evaluate(jiangxi, facts, as_of=as_of)
    got = replay(jiangxi, facts, as_of=as_of)
    assert sorted(map(repr, (f.to_dict() for f in got.findings))) == sorted(
        map(repr, (f.to_dict() for f in ref.findings))
    )


def test_core_does_not_import_durable_rules() -> None:
    import subprocess
    import sys

    code = (
        "import sys, vbp_rules, vbp_rules.engine.stream, vbp_rules.cli; "
        "print(any(m.startswith(('durable', 'durable_rules_engine')) for m in sys.modules))"
    )
    out = subprocess.run(  # noqa: S603 - our own interpreter, fixed code
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"


def test_missing_extra_names_it(jiangxi: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import vbp_rules.engine._stream_durable as driver
    from vbp_rules.engine.stream import StreamUnavailableError
    from vbp_rules.errors import VbpRulesError

    def missing(name: str) -> None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)

    monkeypatch.setattr(driver.importlib, "import_module", missing)
    with pytest.raises(StreamUnavailableError, match=r"vbp-rules\[stream\]") as info:
        Monitor(jiangxi)
    assert isinstance(info.value, VbpRulesError)
    assert isinstance(info.value, ImportError)


def test_driver_retries_an_id_durable_rules_has_seen() -> None:
    """durable-rules identifies messages by a 32-bit hash of their id: a collision with a
    live fact is refused as 'observed'; the driver retries with a fresh id."""
    from vbp_rules.engine._stream_durable import RulesetDriver

    fired: list[str] = []
    rules = {
        "make": {"all": [{"e": {"t": "make"}}]},
        "use": {"all": [{"f": {"t": "thing"}}, {"e": {"$and": [{"t": "use"}, {"k": {"f": "k"}}]}}]},
    }
    actions = {
        "make": lambda m: [{"t": "thing", "k": m["e"]["k"]}],
        "use": lambda m: fired.append(m["e"]["k"]) or None,
    }
    driver = RulesetDriver("test.collisions", rules, actions)
    try:
        assert driver.post("p0", {"t": "make", "k": "a"})  # event id 1, fact id 2
        driver._next_id = 1  # the next event would get id 2, the live fact's id
        assert driver.post("p0", {"t": "use", "k": "a"})
        assert fired == ["a"]
        assert driver.collisions == 1
        assert [f["t"] for f in driver.facts("p0")] == ["thing"]
        assert not driver.post("p0", {"t": "nobody-listens"})
    finally:
        driver.close()
    assert driver.closed
    with pytest.raises(RuntimeError, match="closed"):
        driver.post("p0", {"t": "make", "k": "b"})


def test_driver_completes_the_action_when_it_raises() -> None:
    from vbp_rules.engine._stream_durable import RulesetDriver

    def boom(_: dict[str, Any]) -> None:
        raise ValueError("boom")

    driver = RulesetDriver("test.raises", {"r": {"all": [{"m": {"t": "x"}}]}}, {"r": boom})
    try:
        with pytest.raises(ValueError, match="boom"):
            driver.post("p0", {"t": "x"})
        with pytest.raises(ValueError, match="boom"):  # the engine is still usable
            driver.post("p0", {"t": "x"})
    finally:
        driver.close()


def test_absence_refreshes_to_the_current_as_of(jiangxi: Any) -> None:
    seen: list[Finding] = []
    with Monitor(jiangxi, now=at(2024, 3, 1), on_finding=seen.append) as m:
        m.order_sent(**order("o1", at(2024, 3, 1, 9)))
        m.tick(at(2024, 3, 5))
        m.tick(at(2024, 3, 9))
        (late,) = [f for f in m.findings() if f.rule_id == "order-response-48h"]
        assert late.value("as_of") == at(2024, 3, 9)
        assert [f.rule_id for f in seen].count("order-response-48h") == 1  # announced once
        same_as_reference(m)


def test_evaluation_and_metadata(jiangxi: Any) -> None:
    with Monitor(jiangxi) as m:
        with pytest.raises(ValueError, match="tick"):
            m.evaluation()
        m.order_sent(**order("o1", at(2024, 3, 1, 9)))
        m.tick(date(2024, 3, 31))
        ev = m.evaluation()
        assert ev.engine == "stream"
        assert ev.as_of == at(2024, 4, 1)
        meta = dict(ev.metadata)
        assert "order-response-48h" in meta["supported_rules"]  # type: ignore[operator]
        assert meta["ruleset"] == m.name
        assert "rules=" in repr(m)
    assert "closed" in repr(m)


@pytest.mark.parametrize("oid", ["订单-1", 'a"b', "c\\d", "x y"])
def test_any_id_text_correlates(jiangxi: Any, oid: str) -> None:
    with Monitor(jiangxi, now=at(2024, 3, 1)) as m:
        assert m.order_sent(**order(oid, at(2024, 3, 1, 9)))
        assert m.order_responded(oid, at(2024, 3, 1, 10))
        assert not m.order_responded(oid, at(2024, 3, 1, 11))
        assert not m.order_sent(**order(f" {oid} ", at(2024, 3, 1, 9)))  # ids are stripped
        assert len(m.rejects) == 2


def test_out_of_force_error_propagates_and_state_stays_consistent(jiangxi: Any) -> None:
    from vbp_rules.errors import OutOfForceError

    with Monitor(jiangxi, now=at(2024, 3, 1), out_of_force="error") as m:
        assert m.order_sent(**order("o1", at(2024, 3, 1, 9)))  # pending: nothing emitted
        with pytest.raises(OutOfForceError):  # the 48-hour finding is dated 03-01
            m.order_responded("o1", at(2024, 3, 1, 10))
        # durable-rules recorded the response too: a second one is a repeat
        assert not m.order_responded("o1", at(2024, 3, 1, 11))
        assert m.rejects[-1].reason.startswith("repeated order_responded")
