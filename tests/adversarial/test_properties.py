"""Hostile input, generated: only documented, located errors; no hangs; nothing lost.

Each property runs a bounded number of examples in the default suite; the ``slow``
variants run ``VBP_SLOW_EXAMPLES`` (CI's slow step) or 300 by hand. A generous per-call
deadline catches a hang or a quadratic blow-up without timing assertions that would
flake on a shared machine.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vbp_rules import (
    Evaluation,
    FactSet,
    Pack,
    PackValidationError,
    VbpRulesError,
    evaluate,
    load_facts,
    load_pack,
)
from vbp_rules.errors import ExpressionError
from vbp_rules.expr import NotApplicable, format_value
from vbp_rules.synth import synthesize

from .conftest import MINIMAL
from .strategies import cells, expressions, yaml_scalars

FAST = settings(
    max_examples=25,
    deadline=timedelta(seconds=20),
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SLOW = settings(
    max_examples=int(os.environ.get("VBP_SLOW_EXAMPLES", "300")),
    deadline=timedelta(seconds=20),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
AS_OF = date(2024, 6, 30)
ORDER: dict[str, object] = {
    "id": "o1",
    "institution_id": "h",
    "enterprise_id": "e",
    "product_id": "p",
    "sent_at": "2024-03-01T09:00+08:00",
    "ordered_quantity": 10,
    "delivered_quantity": 10,
    "amount": "12.50",
}
ORDER_FIELDS = [
    "id",
    "product_id",
    "ordered_quantity",
    "delivered_quantity",
    "amount",
    "sent_at",
    "responded_at",
    "delivered_at",
]


@cache
def _pack(text: str) -> Pack:
    import tempfile

    folder = Path(tempfile.mkdtemp()) / "demo-2024"
    folder.mkdir()
    (folder / "pack.yaml").write_text(text, encoding="utf-8")
    return load_pack(folder / "pack.yaml")


def _located(exc: PackValidationError) -> None:
    """Every problem of a pack file names the file (and line, where there is one)."""
    assert exc.problems
    assert all("pack.yaml" in loc or not loc for loc, _ in exc.problems)
    assert any("pack.yaml" in loc for loc, _ in exc.problems) or "pack.yaml" in str(exc)


def _accounted(ev: Evaluation, facts: FactSet) -> None:
    """Every accepted row is in a finding or a skip; every reject names its row."""
    seen = {r for f in ev.findings for r in f.rows} | {r for s in ev.skips for r in s.rows}
    for kind in ("orders", "exemption_events"):
        for row in facts.rows(kind):
            assert (kind, row.id) in seen, (kind, row.id)
    assert all(r.row is not None for r in ev.rejects)


def _agree(pack: Pack, facts: FactSet, ref: Evaluation) -> None:
    """The frame engine, when it returns, gives what the reference engine gave."""
    frame = pytest.importorskip("vbp_rules.engine.frame")
    try:
        other = frame.evaluate_frame(pack, facts, as_of=AS_OF, backend="polars")
    except Exception:  # only agreement is checked here ("whenever both return")
        return
    assert [f.to_dict(with_rows=True) for f in ref.findings] == [
        f.to_dict(with_rows=True) for f in other.findings
    ]
    assert ref.rejects == other.rejects
    assert ref.skips == other.skips


# --- fact cells ----------------------------------------------------------------------


def _check_cell(field: str, value: object, *, compare: bool) -> None:
    rows = [{**ORDER, field: value}, {**ORDER, "id": "o2"}]
    facts = load_facts({"orders": rows})  # a bad cell never raises
    assert len(facts.orders) + len(facts.rejects) == 2
    for reject in facts.rejects:
        assert reject.row == 1
        assert reject.field is not None or reject.reason
        str(reject)  # printable, whatever the value
    pack = _pack(MINIMAL)
    try:
        ev = evaluate(pack, facts, as_of=AS_OF)
    except VbpRulesError:
        return
    _accounted(ev, facts)
    for f in ev.findings:
        assert f.message_en
    if compare:
        _agree(pack, facts, ev)


@FAST
@given(st.sampled_from(ORDER_FIELDS), cells())
def test_a_hostile_fact_cell_is_one_reject_or_a_fact(field: str, value: object) -> None:
    _check_cell(field, value, compare=True)


@pytest.mark.slow
@SLOW
@given(st.sampled_from(ORDER_FIELDS), cells())
def test_a_hostile_fact_cell_is_one_reject_or_a_fact_long(field: str, value: object) -> None:
    _check_cell(field, value, compare=True)


# --- pack scalars --------------------------------------------------------------------

_SLOTS = [
    ("issued_on: 2024-01-01", "issued_on: {}"),
    ("value: 95%", "value: {}"),
    ("id: rate", "id: {}"),
    ("word: 低于", "word: {}"),
    ("status: in_force", "status: {}"),
    ("over: orders", "over: {}"),
    ("group_by: [enterprise_id]", "group_by: {}"),
    ("expr: responded / orders", "expr: {}"),
    ("orders: count()", "orders: {}"),
]


def _check_pack_scalar(slot: int, scalar: str) -> None:
    old, new = _SLOTS[slot]
    text = MINIMAL.replace(old, new.format(scalar), 1)
    try:
        pack = _pack(text)
    except PackValidationError as exc:
        _located(exc)
        return
    orders = [ORDER, {**ORDER, "id": "o2", "responded_at": "2024-03-01T10:00+08:00"}]
    facts = load_facts({"orders": orders})
    try:
        ev = evaluate(pack, facts, as_of=AS_OF)
    except VbpRulesError:
        return
    _accounted(ev, facts)
    _agree(pack, facts, ev)


@FAST
@given(st.integers(min_value=0, max_value=len(_SLOTS) - 1), yaml_scalars())
def test_a_hostile_pack_scalar_is_a_located_error_or_a_pack(slot: int, scalar: str) -> None:
    _check_pack_scalar(slot, scalar)


@pytest.mark.slow
@SLOW
@given(st.integers(min_value=0, max_value=len(_SLOTS) - 1), yaml_scalars())
def test_a_hostile_pack_scalar_is_a_located_error_or_a_pack_long(slot: int, scalar: str) -> None:
    _check_pack_scalar(slot, scalar)


# --- expressions ---------------------------------------------------------------------


def _check_expression(source: str) -> None:
    text = MINIMAL.replace("expr: responded / orders", f"expr: {source!r}", 1)
    try:
        pack = _pack(text)
    except PackValidationError:
        return
    facts = load_facts({"orders": [ORDER, {**ORDER, "id": "o2", "enterprise_id": "e2"}]})
    try:
        ev = evaluate(pack, facts, as_of=AS_OF)
    except VbpRulesError:
        return
    _accounted(ev, facts)
    _agree(pack, facts, ev)


@FAST
@given(expressions())
def test_a_hostile_expression_is_a_load_error_or_evaluates(source: str) -> None:
    _check_expression(source)


@pytest.mark.slow
@SLOW
@given(expressions())
def test_a_hostile_expression_is_a_load_error_or_evaluates_long(source: str) -> None:
    _check_expression(source)


def _check_raw_expression(source: str) -> None:
    from vbp_rules.engine._functions import parse_expression

    try:
        expression = parse_expression(source)
    except ExpressionError:
        return
    env: dict[str, Any] = {
        **load_facts({"orders": [ORDER]}).orders[0].__dict__,
        "floor": 1,
        "as_of": None,
    }
    try:
        value = expression.evaluate(env)
    except (VbpRulesError, NotApplicable):
        return
    format_value(value)  # any result can be shown


@FAST
@given(expressions())
def test_a_hostile_expression_raises_only_documented_errors(source: str) -> None:
    _check_raw_expression(source)


# --- overrides -----------------------------------------------------------------------


@cache
def _jiangxi() -> tuple[Pack, FactSet]:
    tables = synthesize("jiangxi-2024", orders=40, seed=5)
    facts = FactSet.from_records({k: v.rows(named=True) for k, v in tables.items()})
    return load_pack("jiangxi-2024"), facts


def _check_override(pick: Callable[[list[str]], str], value: object) -> None:
    pack, facts = _jiangxi()
    name = pick(sorted(pack.model.parameters))
    try:
        changed = pack.with_overrides({name: value})
    except PackValidationError as exc:
        problems = exc.problems
    else:
        problems = []
    if problems:
        assert any(name in loc or name in msg for loc, msg in problems)
        return
    try:
        evaluate(changed, facts, as_of=date(2025, 7, 31))
    except VbpRulesError:
        return


@FAST
@given(st.data(), cells())
def test_a_hostile_override_is_refused_or_evaluates(data: st.DataObject, value: object) -> None:
    _check_override(lambda names: data.draw(st.sampled_from(names)), value)


@pytest.mark.slow
@SLOW
@given(st.data(), cells())
def test_a_hostile_override_is_refused_or_evaluates_long(
    data: st.DataObject, value: object
) -> None:
    _check_override(lambda names: data.draw(st.sampled_from(names)), value)
