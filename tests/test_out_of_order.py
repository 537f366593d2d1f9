"""Events out of order for their subject are rejected, with the reason, by every engine.

A settlement paid before it was accepted, a complaint replied to before it was raised,
an order delivered before it was sent: the fact models refuse the row (``not_before``),
so every engine (and every way of reading facts) rejects it the same way and no engine
decides anything on it. A live monitor refuses the stage event that would put its
subject out of order, and a stage event that arrives before its subject's creation
event (a reply before the complaint), and keeps the subject as it was.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from vbp_rules import FactSet, load_pack
from vbp_rules.engine import EngineUnavailableError, get_engine

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2024, 6, 3, 9, tzinfo=SH)
EARLIER = datetime(2024, 6, 2, 9, tzinfo=SH)

#: (pack, kind, the bad row, the field named, the good row's id)
CASES: list[tuple[str, str, dict[str, Any], str]] = [
    (
        "shanxi-2021",
        "settlements",
        {
            "id": "s-bad",
            "institution_id": "h1",
            "enterprise_id": "e1",
            "accepted_at": T0,
            "paid_at": EARLIER,
            "amount": "100.00",
        },
        "paid_at",
    ),
    (
        "jiangxi-2024",
        "complaints",
        {
            "id": "c-bad",
            "institution_id": "h1",
            "enterprise_id": "e1",
            "raised_at": T0,
            "replied_at": EARLIER,
        },
        "replied_at",
    ),
    (
        "jiangxi-2024",
        "orders",
        {
            "id": "o-bad",
            "institution_id": "h1",
            "enterprise_id": "e1",
            "product_id": "p1",
            "sent_at": T0,
            "ordered_quantity": 5,
            "delivered_at": EARLIER,
            "delivered_quantity": 5,
        },
        "delivered_at",
    ),
]
ENGINES = ["reference", "frame", "stream"]


def _good(kind: str, row: dict[str, Any]) -> dict[str, Any]:
    field = {"settlements": "paid_at", "complaints": "replied_at", "orders": "delivered_at"}[kind]
    return {**row, "id": "good", field: datetime(2024, 6, 4, 9, tzinfo=SH)}


def test_the_models_name_the_order() -> None:
    from vbp_rules.facts import FACT_KINDS

    assert FACT_KINDS["settlements"].not_before["paid_at"] == "accepted_at"
    assert FACT_KINDS["complaints"].not_before["replied_at"] == "raised_at"
    assert FACT_KINDS["orders"].not_before["delivered_at"] == "sent_at"


@pytest.mark.parametrize(("pack_id", "kind", "row", "field"), CASES)
@pytest.mark.parametrize("engine", ENGINES)
def test_every_engine_rejects_the_row(
    engine: str, pack_id: str, kind: str, row: dict[str, Any], field: str
) -> None:
    try:
        evaluate = get_engine(engine)
    except EngineUnavailableError as exc:
        pytest.skip(str(exc))
    pack = load_pack(pack_id)
    facts = {kind: [row, _good(kind, row)]}
    got = evaluate(pack, facts, as_of=date(2024, 12, 31))
    (reject,) = got.rejects
    assert (reject.kind, reject.row_id, reject.field) == (kind, row["id"], field)
    assert "is before" in reject.reason
    assert (kind, row["id"]) not in got.accounted_rows()
    assert (kind, "good") in got.accounted_rows()
    want = get_engine("reference")(pack, facts, as_of=date(2024, 12, 31))
    assert got.rejects == want.rejects
    assert sorted(repr(f.to_dict()) for f in got.findings) == sorted(
        repr(f.to_dict()) for f in want.findings
    )


@pytest.mark.parametrize(("pack_id", "kind", "row", "field"), CASES)
def test_the_columnar_reader_rejects_the_row(
    pack_id: str, kind: str, row: dict[str, Any], field: str
) -> None:
    pl = pytest.importorskip("polars")
    frame = pl.DataFrame([row, _good(kind, row)])
    fs = FactSet.from_records({kind: frame})
    (reject,) = fs.rejects
    assert (reject.row_id, reject.field) == (row["id"], field)
    del pack_id


@pytest.mark.parametrize(("pack_id", "kind", "row", "field"), CASES)
def test_a_live_monitor_rejects_the_stage_event(
    pack_id: str, kind: str, row: dict[str, Any], field: str
) -> None:
    pytest.importorskip("durable_rules_engine")
    from vbp_rules.engine.stream import Monitor

    create, stage = {
        "settlements": ("settlement_accepted", "settlement_paid"),
        "complaints": ("complaint_raised", "complaint_replied"),
        "orders": ("order_sent", "order_delivered"),
    }[kind]
    created = {k: v for k, v in row.items() if k not in (field, "delivered_quantity")}
    with Monitor(load_pack(pack_id), now=T0) as monitor:
        # the stage before its subject exists: unknown subject
        assert not monitor.post({"event": stage, "id": row["id"], "at": EARLIER})
        assert "unknown" in monitor.rejects[-1].reason
        assert monitor.post({"event": create, **created})
        # the stage dated before the subject's start: rejected with the model's reason
        assert not monitor.post({"event": stage, "id": row["id"], "at": EARLIER})
        last = monitor.rejects[-1]
        assert last.field == "at"
        assert f"{field} ({EARLIER.isoformat()}) is before" in last.reason
        (kept,) = monitor.facts().rows(kind)
        assert getattr(kept, field) is None
        assert len(monitor.rejects) == 2
