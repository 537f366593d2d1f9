"""Row accounting: where each input row must land, written by hand from the rules.

``rows <= ev.accounted_rows()`` holds by construction (the accounting pass adds a
``no_applicable_rule`` skip for any row nothing referenced), so it cannot show a rule that
drops a row it should read. These tests say *which* rule reads each row:

- small fixtures whose landing places (rule ids, or the reason of a rule-less skip) are
  written from each rule's ``over`` and ``where`` in the pack;
- a property over generated facts: every row whose ``where`` is true — known from how the
  row was generated, never from the engine — appears in that rule's findings or skips, and
  no row whose ``where`` is false does.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vbp_rules.engine.reference import evaluate
from vbp_rules.facts import FactSet
from vbp_rules.findings import Evaluation, RowRef
from vbp_rules.packs import load_pack

ROOT = Path(__file__).resolve().parents[1]
SH = ZoneInfo("Asia/Shanghai")
JIANGXI = load_pack("jiangxi-2024")
SHANDONG = load_pack("shandong-2023")


def landing(ev: Evaluation) -> dict[RowRef, set[str]]:
    """Row -> the rules whose findings or skips reference it (a rule-less skip: its reason)."""
    out: dict[RowRef, set[str]] = defaultdict(set)
    for f in ev.findings:
        for ref in f.rows:
            out[ref].add(f.rule_id)
    for s in ev.skips:
        for ref in s.rows:
            out[ref].add(s.rule_id or s.reason)
    return dict(out)


def _order(oid: str, **kw: object) -> dict[str, object]:
    return {
        "id": oid,
        "institution_id": "H1",
        "enterprise_id": "E1",
        "product_id": "P1",
        "sent_at": "2024-07-01T10:00:00+08:00",
        "ordered_quantity": 10,
    } | kw


def _complaint(cid: str, **kw: object) -> dict[str, object]:
    return {
        "id": cid,
        "institution_id": "H1",
        "enterprise_id": "E1",
        "product_id": "P1",
        "raised_at": "2024-07-01T10:00:00+08:00",
    } | kw


#: jiangxi-2024 as of 2024-12-31: each row and the rules that must read it.
JIANGXI_FACTS = {
    "orders": [
        # answered in 2 h, due and delivered: the 48-hour check, both monthly rates; the
        # delayed-response list's `where` (answered after 48 h, or not yet) is false
        _order(
            "O-on-time",
            responded_at="2024-07-01T12:00:00+08:00",
            delivery_due_at="2024-07-03T10:00:00+08:00",
            delivered_at="2024-07-02T10:00:00+08:00",
            delivered_quantity=10,
        ),
        # never answered, no delivery due time: the timely-delivery rate's `where`
        # (is_set(delivery_due_at)) is false; the delayed-response list reads it
        _order("O-never"),
    ],
    "complaints": [
        _complaint(
            "C-full",
            replied_at="2024-07-01T16:00:00+08:00",
            committed_resolution_at="2024-07-03T10:00:00+08:00",
            resolved_at="2024-07-02T10:00:00+08:00",
        ),
        _complaint("C-raised-only"),
        _complaint(
            "C-unresolvable",
            replied_at="2024-07-01T16:00:00+08:00",
            committed_resolution_at="2024-07-03T10:00:00+08:00",
            unresolvable=True,
        ),
    ],
    "batches": [
        {
            "id": "B-both",
            "execution_document_published_on": "2024-09-10",
            "landing_date": "2024-10-01",
        },
        {"id": "B-no-landing", "execution_document_published_on": "2024-09-10"},
    ],
    "settlements": [
        {
            "id": "S-1",
            "institution_id": "H1",
            "accepted_at": "2024-07-01T10:00:00+08:00",
            "amount": "1.00",
        },
    ],
    "institutions": [{"id": "H1", "name": "一院"}],
}

# The concentration rule (集中, no number in the source) is not configured: its skip is
# per enterprise x product and still accounts for the complaints it would count. The
# from-complaint commitment rule and the landing-day publication rule are other readings
# (rule-level skips that read no row).
COMPLAINT_RULES = {"complaint-reply", "product-complaints-concentrated"}
JIANGXI_LANDING: dict[RowRef, set[str]] = {
    ("orders", "O-on-time"): {
        "order-response-48h",
        "product-order-response-rate",
        "product-timely-delivery-rate",
    },
    ("orders", "O-never"): {
        "order-response-48h",
        "product-order-response-rate",
        "delayed-response-list-due",
    },
    ("complaints", "C-full"): COMPLAINT_RULES
    | {"complaint-commitment-limit", "complaint-resolution"},
    ("complaints", "C-raised-only"): COMPLAINT_RULES,
    ("complaints", "C-unresolvable"): COMPLAINT_RULES
    | {"complaint-commitment-limit", "complaint-unresolvable"},
    ("batches", "B-both"): {"publication-window"},
    ("batches", "B-no-landing"): {"no_applicable_rule"},
    ("settlements", "S-1"): {"no_applicable_rule"},  # jiangxi-2024 has no settlement rule
    ("institutions", "H1"): {"reference_data"},
}


def test_each_jiangxi_row_lands_where_its_rules_say() -> None:
    facts = FactSet.from_records(JIANGXI_FACTS)
    ev = evaluate(JIANGXI, facts, as_of=date(2024, 12, 31))
    assert ev.rejects == ()
    assert landing(ev) == JIANGXI_LANDING


#: shandong-2023 as of 2024-12-31: the delivery-rate rules read orders of a batch that were
#: sent by as_of and are delivered or overdue; other orders are read by no rule.
SHANDONG_FACTS = {
    "orders": [
        _order(
            "O-batch",
            batch_id="B8",
            delivered_at="2024-07-02T10:00:00+08:00",
            delivered_quantity=10,
        ),
        _order("O-no-batch", delivered_at="2024-07-02T10:00:00+08:00", delivered_quantity=10),
        # due in the future and not yet delivered: not yet assessable
        _order("O-not-due", batch_id="B8", delivery_due_at="2025-01-10T00:00:00+08:00"),
    ],
}
SHANDONG_LANDING: dict[RowRef, set[str]] = {
    ("orders", "O-batch"): {"delivery-rate-floor", "delivery-rate-low"},
    ("orders", "O-no-batch"): {"no_applicable_rule"},
    ("orders", "O-not-due"): {"no_applicable_rule"},
}


def test_each_shandong_order_lands_where_its_rules_say() -> None:
    facts = FactSet.from_records(SHANDONG_FACTS)
    ev = evaluate(SHANDONG, facts, as_of=date(2024, 12, 31))
    assert ev.rejects == ()
    assert landing(ev) == SHANDONG_LANDING


# --- the property ------------------------------------------------------------------------

_BASE = datetime(2024, 9, 2, 9, 0, tzinfo=SH)
_AS_OF = date(2025, 3, 31)

_order_spec = st.fixed_dictionaries(
    {
        "day": st.integers(min_value=0, max_value=90),
        "responded_hours": st.none() | st.integers(min_value=0, max_value=100),
        "due": st.booleans(),
        "enterprise": st.sampled_from(["E1", "E2"]),
    }
)
_complaint_spec = st.fixed_dictionaries(
    {
        "day": st.integers(min_value=0, max_value=90),
        "replied": st.booleans(),
        "committed": st.booleans(),
        "unresolvable": st.booleans(),
    }
)


@settings(max_examples=30, deadline=None)
@given(orders=st.lists(_order_spec, max_size=12), complaints=st.lists(_complaint_spec, max_size=8))
def test_every_row_a_where_selects_is_read_by_that_rule(
    orders: list[dict[str, object]], complaints: list[dict[str, object]]
) -> None:
    order_rows, complaint_rows = [], []
    # rule id -> the rows whose `where` is true, from how each row is generated
    selects: dict[str, set[RowRef]] = defaultdict(set)
    for i, o in enumerate(orders):
        sent = _BASE + timedelta(days=int(o["day"]))  # type: ignore[call-overload]
        hours = o["responded_hours"]
        row: dict[str, object] = _order(
            f"O{i}", enterprise_id=o["enterprise"], sent_at=sent.isoformat()
        )
        if hours is not None:
            row["responded_at"] = (sent + timedelta(hours=int(hours))).isoformat()  # type: ignore[call-overload]
        if o["due"]:
            row["delivery_due_at"] = (sent + timedelta(days=3)).isoformat()
        order_rows.append(row)
        ref = ("orders", f"O{i}")
        selects["order-response-48h"].add(ref)  # no where: every order
        selects["product-order-response-rate"].add(ref)
        if o["due"]:
            selects["product-timely-delivery-rate"].add(ref)
        # 超过48小时: answered after 48 h, or not answered by as_of (always past 48 h here)
        if hours is None or int(hours) > 48:  # type: ignore[call-overload]
            selects["delayed-response-list-due"].add(ref)
    for i, c in enumerate(complaints):
        raised = _BASE + timedelta(days=int(c["day"]))  # type: ignore[call-overload]
        row = _complaint(f"C{i}", raised_at=raised.isoformat())
        if c["replied"]:
            row["replied_at"] = (raised + timedelta(hours=3)).isoformat()
        if c["committed"]:
            row["committed_resolution_at"] = (raised + timedelta(days=4)).isoformat()
        if c["unresolvable"]:
            row["unresolvable"] = True
        complaint_rows.append(row)
        ref = ("complaints", f"C{i}")
        selects["complaint-reply"].add(ref)
        if c["replied"]:
            selects["complaint-commitment-limit"].add(ref)
        if c["committed"] and not c["unresolvable"]:
            selects["complaint-resolution"].add(ref)
        if c["unresolvable"]:
            selects["complaint-unresolvable"].add(ref)
    facts = FactSet.from_records({"orders": order_rows, "complaints": complaint_rows})
    ev = evaluate(JIANGXI, facts, as_of=_AS_OF)
    assert ev.rejects == ()
    read: dict[str, set[RowRef]] = defaultdict(set)
    for ref, rules in landing(ev).items():
        for rule in rules:
            read[rule].add(ref)
    for rule, wanted in selects.items():
        assert read[rule] == wanted, rule


@pytest.mark.xfail(
    strict=True,
    reason=(
        "engine defect: the reference engine's grouped path skips a row whose period field "
        "is empty (`continue`), so the rule never accounts for it; it should be a "
        "missing_fact skip of the rule. engine/ is being rewritten: reported, not fixed here."
    ),
)
def test_a_row_with_no_period_date_is_not_dropped_silently(tmp_path: Path) -> None:
    """A rule grouped by a period of an optional field must still account for a row that
    lacks the date: as a skip of that rule (a missing fact), not as "no rule reads it".

    The shipped packs period only on required fields; this pack periods the monthly
    response rate by ``delivered_at`` (optional), and O-undelivered has none.
    """
    folder = tmp_path / "jiangxi-2024"
    folder.mkdir()
    text = (ROOT / "policy_packs" / "jiangxi-2024" / "pack.yaml").read_text("utf-8")
    old = "    period: {unit: month, field: sent_at}\n"
    at = text.index("  - id: product-order-response-rate")
    assert text.index(old, at) < text.index("  - id: ", at + 10)
    text = text[:at] + text[at:].replace(old, "    period: {unit: month, field: delivered_at}\n", 1)
    (folder / "pack.yaml").write_text(text, encoding="utf-8")
    pack = load_pack(folder)
    delivered = _order(
        "O-delivered",
        responded_at="2024-07-01T12:00:00+08:00",
        delivered_at="2024-07-02T10:00:00+08:00",
        delivered_quantity=10,
    )
    undelivered = _order("O-undelivered", responded_at="2024-07-01T12:00:00+08:00")
    facts = FactSet.from_records({"orders": [delivered, undelivered]})
    ev = evaluate(pack, facts, as_of=date(2024, 12, 31))
    rule = "product-order-response-rate"
    assert rule in landing(ev)[("orders", "O-delivered")]
    assert rule in landing(ev)[("orders", "O-undelivered")]
