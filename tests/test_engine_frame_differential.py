"""Differential tests: the frame engine (Polars, DuckDB) equals the reference engine.

Hypothesis draws synthetic provinces (values placed around every bound), packs, as-of
instants on and around holidays, parameter overrides near the bounds, and bad rows; both
engines must return identical findings, skips (same order) and rejects.
"""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta
from typing import Any

import pytest

pytest.importorskip("duckdb")

import polars as pl
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from vbp_rules import load_pack
from vbp_rules.engine.frame import evaluate_frame
from vbp_rules.engine.reference import evaluate
from vbp_rules.errors import PackValidationError
from vbp_rules.facts import FactSet
from vbp_rules.packs.loader import list_packs
from vbp_rules.synth import synthesize

PACKS = sorted(info.id for info in list_packs())
AS_OF = [
    date(2024, 9, 30),  # eve of National Day
    date(2024, 10, 8),  # first working day after it
    date(2025, 1, 1),
    date(2025, 1, 26),  # a make-up working Sunday before the Spring Festival
    date(2025, 2, 5),
    date(2025, 7, 31),  # after the cycle end
]
RATIOS = ["0%", "50%", "85%", "89.5%", "90%", "94.5%", "95%", "100%"]


def _bad_rows() -> dict[str, list[dict[str, Any]]]:
    base = {
        "institution_id": "H1",
        "enterprise_id": "E1",
        "product_id": "P1",
        "ordered_quantity": 5,
    }
    return {
        "orders": [
            {**base, "id": "BAD-naive", "sent_at": datetime(2024, 8, 1, 9)},
            {**base, "id": "BAD-neg", "sent_at": "2024-08-01T09:00+08:00", "ordered_quantity": -1},
            {
                **base,
                "id": "BAD-over",
                "sent_at": "2024-08-01T09:00+08:00",
                "delivered_quantity": 9,
            },
            {**base, "id": "O00000000", "sent_at": "2024-08-01T09:00+08:00"},  # duplicate id
            {"id": "BAD-missing", "sent_at": "2024-08-01T09:00+08:00"},
        ]
    }


def _records(tables: dict[str, pl.DataFrame], bad: bool) -> dict[str, list[dict[str, Any]]]:
    out = {k: v.rows(named=True) for k, v in tables.items()}
    if bad:
        for k, rows in _bad_rows().items():
            out[k] = out.get(k, []) + rows
    return out


def _same(a: Any, b: Any) -> None:
    assert [f.to_dict(with_rows=True) for f in a.findings] == [
        f.to_dict(with_rows=True) for f in b.findings
    ]
    assert a.findings == b.findings
    assert a.skips == b.skips
    assert a.rejects == b.rejects


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    pack_id = draw(st.sampled_from(PACKS))
    pack = load_pack(pack_id)
    ratio_params = sorted(
        name
        for name, p in pack.model.parameters.items()
        if p.type == "ratio" and not getattr(p, "per_batch", None)
    )
    overrides = {}
    if ratio_params and draw(st.booleans()):
        overrides[draw(st.sampled_from(ratio_params))] = draw(st.sampled_from(RATIOS))
    return {
        "pack_id": pack_id,
        "orders": draw(st.integers(min_value=5, max_value=250)),
        "seed": draw(st.integers(min_value=0, max_value=10_000)),
        "as_of": draw(st.sampled_from(AS_OF)),
        "hours": draw(st.sampled_from([0, 1, 23])),
        "overrides": overrides,
        "bad": draw(st.booleans()),
    }


def _check(s: dict[str, Any], backends: tuple[str, ...] = ("polars", "duckdb")) -> None:
    pack = load_pack(s["pack_id"])
    if s["overrides"]:
        try:
            pack = pack.with_overrides(s["overrides"])
        except PackValidationError:
            assume(False)  # e.g. tiers that stop being contiguous
    tables = synthesize(s["pack_id"], orders=s["orders"], seed=s["seed"])
    facts = FactSet.from_records(_records(tables, s["bad"]))
    as_of = datetime.combine(s["as_of"], datetime.min.time()).replace(
        tzinfo=__import__("zoneinfo").ZoneInfo("Asia/Shanghai")
    ) + timedelta(hours=s["hours"])
    ref = evaluate(pack, facts, as_of=as_of)
    for backend in backends:
        _same(ref, evaluate_frame(pack, facts, as_of=as_of, backend=backend))


@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(scenarios())
def test_frame_equals_reference(s: dict[str, Any]) -> None:
    _check(s)


def test_frames_as_input_give_identical_rejects() -> None:
    tables = synthesize(orders=60, seed=3)
    bad = pl.DataFrame(_bad_rows()["orders"][:1])  # naive timestamp column
    orders = pl.concat(
        [tables["orders"].with_columns(pl.col("sent_at").dt.replace_time_zone(None)), bad],
        how="diagonal_relaxed",
    )
    inputs = {**tables, "orders": orders}
    pack = load_pack("jiangxi-2024")
    ref = evaluate(
        pack,
        FactSet.from_records({k: v.rows(named=True) for k, v in inputs.items()}),
        as_of=date(2025, 7, 31),
    )
    frm = evaluate_frame(pack, inputs, as_of=date(2025, 7, 31))
    assert len(ref.rejects) == 61  # every order: a naive sent_at
    _same(ref, frm)


@pytest.mark.slow
@settings(
    # CI bounds the long run with VBP_SLOW_EXAMPLES; run it unbounded by hand
    max_examples=int(os.environ.get("VBP_SLOW_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(scenarios())
def test_frame_equals_reference_long(s: dict[str, Any]) -> None:
    _check(s)
