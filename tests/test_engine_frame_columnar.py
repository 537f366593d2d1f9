"""The columnar frame engine: every shipped rule lowered, inputs read by columns, exact.

The frame engine decides in the backend; these tests hold it to the reference engine
(the specification) on the shapes the pack tests do not reach: whole synthetic
provinces read from Parquet and CSV files and from frames, subjects only the shared
semantics can decide (a zero denominator, a sum past what cross-multiplication can hold,
a deadline off the calendar), and the result tables.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("polars")
pytest.importorskip("duckdb")

import polars as pl

from vbp_rules import load_pack
from vbp_rules.engine.frame import evaluate_frame
from vbp_rules.engine.reference import evaluate, resolve_interpretations
from vbp_rules.facts import FactSet, load_facts
from vbp_rules.packs.loader import list_packs
from vbp_rules.synth import synthesize, write_synthetic

PACKS = sorted(info.id for info in list_packs())
AS_OF = date(2025, 7, 31)


def _same(ref: Any, frm: Any) -> None:
    assert frm.findings == ref.findings
    assert frm.skips == ref.skips
    assert frm.rejects == ref.rejects
    assert frm.input_rows == ref.input_rows


def _fallback(ev: Any) -> tuple[tuple[str, str], ...]:
    found: tuple[tuple[str, str], ...] = dict(ev.metadata)["fallback_rules"]
    return found


@pytest.mark.parametrize("pack_id", PACKS)
def test_every_shipped_rule_is_lowered(pack_id: str) -> None:
    """No rule of a shipped pack falls back to per-subject Python (issue 11's contract)."""
    pack = load_pack(pack_id)
    facts = FactSet.from_records(
        {k: v.rows(named=True) for k, v in synthesize(pack_id, orders=400, seed=11).items()}
    )
    ev = evaluate_frame(pack, facts, as_of=AS_OF)
    assert _fallback(ev) == ()
    compiled = set(dict(ev.metadata)["compiled_rules"])
    chosen = resolve_interpretations(pack, None)
    evaluated = {
        r.id
        for r in pack.rules
        if r.over is not None
        and r.kind != "exemption"
        and all(chosen.get(k) == v for k, v in (r.interpretation or {}).items())
    }
    assert evaluated <= compiled
    _same(evaluate(pack, facts, as_of=AS_OF), ev)


@pytest.mark.parametrize("pack_id", PACKS)
@pytest.mark.parametrize("suffix", ["parquet", "csv"])
def test_files_read_by_columns_equal_the_row_loader(
    pack_id: str, suffix: str, tmp_path: Path
) -> None:
    """A folder of Parquet or CSV files: validated by columns, decided in the backend."""
    paths = write_synthetic(tmp_path / "pq", pack_id, orders=300, seed=5)
    folder = tmp_path / suffix
    folder.mkdir()
    for kind, path in paths.items():
        if suffix == "parquet":
            (folder / path.name).write_bytes(path.read_bytes())
        else:
            frame = pl.read_parquet(path)
            frame = frame.with_columns(
                pl.col(c).dt.strftime("%Y-%m-%dT%H:%M:%S%.f%:z")
                for c, t in frame.schema.items()
                if isinstance(t, pl.Datetime)
            )
            frame.write_csv(folder / f"{kind}.csv")
    pack = load_pack(pack_id)
    ref = evaluate(pack, load_facts(folder), as_of=AS_OF)
    frm = evaluate_frame(pack, str(folder), as_of=AS_OF)
    assert _fallback(frm) == ()
    _same(ref, frm)


def _orders(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    base = {
        "institution_id": "H1",
        "enterprise_id": "E1",
        "product_id": "P1",
        "sent_at": "2025-03-03T09:00+08:00",
    }
    return [{**base, **r} for r in rows]


def test_sums_too_large_to_cross_multiply_are_decided_exactly() -> None:
    """Two orders of 2**62 units: the sum passes int64; the subject is still exact."""
    pack = load_pack("jiangxi-2024")
    big = 2**62
    facts = FactSet.from_records(
        {
            "orders": _orders(
                [
                    {
                        "id": "o1",
                        "ordered_quantity": big,
                        "delivered_quantity": big,
                        "responded_at": "2025-03-03T10:00+08:00",
                        "delivered_at": "2025-03-04T10:00+08:00",
                        "delivery_due_at": "2025-03-05T10:00+08:00",
                    },
                    {
                        "id": "o2",
                        "ordered_quantity": big,
                        "delivered_quantity": 1,
                        "responded_at": "2025-03-03T10:00+08:00",
                        "delivery_due_at": "2025-03-05T10:00+08:00",
                    },
                ]
            )
        }
    )
    assert not facts.rejects
    ref = evaluate(pack, facts, as_of=AS_OF)
    for backend in ("polars", "duckdb"):
        _same(ref, evaluate_frame(pack, facts, as_of=AS_OF, backend=backend))


def test_a_zero_denominator_is_the_reference_engines_skip() -> None:
    """An order of 0 units: the rate's division has no value, as in the reference."""
    pack = load_pack("jiangxi-2024")
    facts = FactSet.from_records(
        {
            "orders": _orders(
                [
                    {"id": "o1", "ordered_quantity": 0, "responded_at": "2025-03-03T10:00+08:00"},
                    {"id": "o2", "ordered_quantity": 3, "responded_at": "2025-03-06T10:00+08:00"},
                ]
            )
        }
    )
    ref = evaluate(pack, facts, as_of=AS_OF)
    _same(ref, evaluate_frame(pack, facts, as_of=AS_OF))


def test_a_deadline_in_a_provisional_year_is_flagged_alike() -> None:
    """Orders sent in 2027 (no official schedule yet): the flag comes from the columns."""
    pack = load_pack("jiangxi-2024")
    facts = FactSet.from_records(
        {
            "orders": _orders(
                [
                    {
                        "id": "o1",
                        "ordered_quantity": 3,
                        "sent_at": "2027-01-29T09:00+08:00",
                        "responded_at": "2027-02-05T10:00+08:00",
                    },
                    {"id": "o2", "ordered_quantity": 3, "sent_at": "2026-12-30T09:00+08:00"},
                ]
            )
        }
    )
    as_of = date(2027, 3, 1)
    ref = evaluate(pack, facts, as_of=as_of)
    frm = evaluate_frame(pack, facts, as_of=as_of)
    _same(ref, frm)
    flagged = {f.rule_id for f in frm.findings if "provisional_calendar" in f.flags}
    assert flagged == {"order-response-48h", "delayed-response-list-due"}


def test_result_tables_equal_the_reference_engines() -> None:
    """The typed result tables of both engines hold the same rows and columns."""
    pack = load_pack("jiangxi-2024")
    facts = load_facts("examples/jiangxi-2024")
    ref = evaluate(pack, facts, as_of=AS_OF)
    frm = evaluate_frame(pack, "examples/jiangxi-2024", as_of=AS_OF)
    for kind in ("findings", "skips", "rejects"):
        a, b = ref.to_polars(kind), frm.to_polars(kind)
        assert a.schema == b.schema
        assert a.equals(b)
    assert frm.summary() == ref.summary()
