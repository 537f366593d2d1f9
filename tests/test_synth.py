"""The synthetic province: deterministic, valid, and around the thresholds."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("numpy")

from vbp_rules import load_pack
from vbp_rules.engine.frame import to_fact_set
from vbp_rules.engine.reference import evaluate
from vbp_rules.facts import FACT_KINDS, load_facts
from vbp_rules.synth import synthesize, write_synthetic


def test_deterministic_by_seed() -> None:
    a, b = synthesize(orders=300, seed=11), synthesize(orders=300, seed=11)
    assert all(a[k].equals(b[k]) for k in a)
    assert not synthesize(orders=300, seed=12)["orders"].equals(a["orders"])


def test_every_kind_and_size() -> None:
    t = synthesize(orders=1234, seed=1)
    assert set(t) <= set(FACT_KINDS)
    assert t["orders"].height == 1234
    assert {"primary", "secondary", "tertiary"} <= set(t["institutions"]["level"].to_list())


def test_rows_validate_and_rules_fire_on_both_sides() -> None:
    fs, backend = to_fact_set(synthesize(orders=2000, seed=7))
    assert backend == "polars"
    assert fs.rejects == ()
    ev = evaluate(load_pack("jiangxi-2024"), fs, as_of=__import__("datetime").date(2025, 7, 31))
    outcomes = {(f.rule_id, f.outcome) for f in ev.findings}
    for rule in (
        "order-response-48h",
        "product-order-response-rate",
        "product-timely-delivery-rate",
        "report-change",
        "non-selected-listing-price",
    ):
        assert (rule, "breach") in outcomes
        assert (rule, "compliant") in outcomes


def test_write_parquet_roundtrip(tmp_path: Path) -> None:
    paths = write_synthetic(tmp_path, orders=200, seed=3)
    assert paths["orders"].name == "orders.parquet"
    facts = load_facts(tmp_path)
    assert len(facts.orders) == 200
