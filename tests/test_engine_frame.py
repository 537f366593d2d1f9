"""The frame engine returns the reference engine's findings, skips and rejects."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("narwhals")
pytest.importorskip("duckdb")

from vbp_rules import load_pack
from vbp_rules.engine.frame import evaluate_frame
from vbp_rules.engine.reference import evaluate
from vbp_rules.facts import FactSet
from vbp_rules.packs.loader import list_packs
from vbp_rules.packs.testing import PackTestCase, collect_pack_tests

BACKENDS = ("polars", "duckdb")


def _cases(backend: str) -> list[Any]:
    """Every pack test case on Polars; the first case of each test file on the others."""
    out = []
    for info in list_packs():
        out.extend(
            pytest.param(c, backend, id=f"{backend}-{c.test_id}")
            for c in collect_pack_tests(info.id)
            if backend == "polars" or c.index == 0
        )
    return out


def assert_same(a: Any, b: Any) -> None:
    """Identical findings (as dicts with rows, and as objects), skips and rejects."""
    assert [f.to_dict(with_rows=True) for f in a.findings] == [
        f.to_dict(with_rows=True) for f in b.findings
    ]
    assert a.findings == b.findings
    assert a.skips == b.skips
    assert a.rejects == b.rejects
    assert a.input_rows == b.input_rows


@pytest.mark.parametrize(("case", "backend"), [p for b in BACKENDS for p in _cases(b)])
def test_pack_cases_identical(case: PackTestCase, backend: str) -> None:
    pack = load_pack(case.pack_id)
    doc = case.doc
    p = pack.with_overrides(doc["parameters"]) if doc.get("parameters") else pack
    facts = FactSet.from_records(doc.get("facts") or {})
    kw: dict[str, Any] = {"as_of": doc["as_of"], "interpretations": doc.get("interpretations")}
    ref = evaluate(p, facts, **kw)
    frm = evaluate_frame(p, facts, backend=backend, **kw)
    assert frm.engine == "frame"
    assert dict(frm.metadata)["backend"] == backend
    assert_same(ref, frm)
