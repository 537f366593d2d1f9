"""The stream engine equals the reference engine on every pack test of every pack.

Each case's facts are replayed (state facts asserted, events fed in time order) and, in
a live monitor, checked after every tick: findings, skips and rejects are the reference
engine's on the facts seen so far, as of the tick. The expected values come from the
reference engine, the specification, never from the stream engine.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest

pytest.importorskip("durable_rules_engine")

from vbp_rules import FactSet, evaluate, list_packs, load_pack
from vbp_rules.calendar import WorkCalendar
from vbp_rules.engine.semantics import resolve_as_of
from vbp_rules.engine.stream import Monitor, replay, replay_events, state_events
from vbp_rules.findings import Evaluation, Finding, Skip
from vbp_rules.packs._test_model import PackTestCaseModel
from vbp_rules.packs.pack import Pack
from vbp_rules.packs.testing import PackTestCase, collect_pack_tests

PACK_IDS = sorted(p.id for p in list_packs())


def _cases() -> list[Any]:
    out = []
    for pack_id in PACK_IDS:
        out.extend(
            pytest.param(pack_id, case, id=case.test_id)
            for case in collect_pack_tests(load_pack(pack_id))
        )
    return out


def _as_of(value: object) -> date | datetime:
    if isinstance(value, datetime | date):
        return value
    text = str(value).strip()
    return datetime.fromisoformat(text) if "T" in text or " " in text else date.fromisoformat(text)


def _findings(items: tuple[Finding, ...]) -> list[str]:
    return sorted(repr(f.to_dict()) for f in items)


def _skips(items: tuple[Skip, ...]) -> list[str]:
    # a grouped subject lists its rows in arrival order in the stream (time order), in
    # fact-set order in the reference engine: the same rows
    return sorted(repr(attrs.evolve(s, rows=tuple(sorted(s.rows)))) for s in items)


def _same(got: Evaluation, want: Evaluation) -> None:
    assert _findings(got.findings) == _findings(want.findings)
    assert _skips(got.skips) == _skips(want.skips)
    assert got.rejects == want.rejects
    assert got.input_rows == want.input_rows


def test_every_pack_has_tests() -> None:
    assert len(PACK_IDS) == 6
    assert all(collect_pack_tests(load_pack(p)) for p in PACK_IDS)


@pytest.mark.parametrize(("pack_id", "case"), _cases())
def test_replay_equals_reference_on_pack_tests(pack_id: str, case: PackTestCase) -> None:
    model = PackTestCaseModel.model_validate(dict(case.doc))
    pack = load_pack(pack_id)
    if model.parameters:
        pack = pack.with_overrides(model.parameters)
    facts = FactSet.from_records(model.facts or {}, source=f"{case.file.name}#{case.name}")
    as_of = _as_of(model.as_of)
    want = evaluate(pack, facts, as_of=as_of, interpretations=model.interpretations)
    got = replay(pack, facts, as_of=as_of, interpretations=model.interpretations)
    _same(got, want)
    # replay gives the reference engine's own order (rows in fact-set order, skips rule
    # by rule), so the CLI's tables and JSON are identical too
    assert [f.to_dict() for f in got.findings] == [f.to_dict() for f in want.findings]
    assert got.skips == want.skips
    meta = dict(got.metadata)
    assert meta["unsupported_rules"] == ()


@pytest.mark.parametrize(("pack_id", "case"), _cases())
def test_every_tick_equals_reference_on_pack_tests(pack_id: str, case: PackTestCase) -> None:
    """A live monitor ticks a day after each event (and at as_of); after each tick its
    findings and skips are the reference engine's on the facts it has seen."""
    model = PackTestCaseModel.model_validate(dict(case.doc))
    pack = load_pack(pack_id)
    if model.parameters:
        pack = pack.with_overrides(model.parameters)
    facts = FactSet.from_records(model.facts or {})
    chosen = model.interpretations
    end = resolve_as_of(_as_of(model.as_of), calendar := WorkCalendar.china())
    with Monitor(pack, calendar=calendar, interpretations=chosen) as monitor:
        for fact in state_events(facts):
            assert monitor.post(fact)
        ticks = sorted({at + timedelta(days=1) for at, _ in replay_events(facts)} | {end})
        for at, event in replay_events(facts):
            while ticks and ticks[0] <= at:
                _check_tick(monitor, pack, chosen, ticks.pop(0))
            assert monitor.post(event)
        for tick in ticks:
            _check_tick(monitor, pack, chosen, tick)


def _check_tick(
    monitor: Monitor, pack: Pack, chosen: dict[str, str] | None, tick: datetime
) -> None:
    monitor.tick(tick)
    want = evaluate(pack, monitor.facts(), as_of=tick, interpretations=chosen)
    assert _findings(monitor.findings()) == _findings(want.findings)
    rule_skips = tuple(s for s in want.skips if s.rule_id is not None)
    assert _skips(monitor.skips()) == _skips(rule_skips)


@pytest.mark.parametrize("pack_id", PACK_IDS)
def test_cli_stream_equals_reference_on_synth(
    pack_id: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``vbp-rules evaluate <pack> <synth> --engine stream`` prints what ``reference`` does."""
    pytest.importorskip("polars")
    from vbp_rules.cli import main
    from vbp_rules.synth import write_synthetic

    write_synthetic(tmp_path, pack_id, orders=400, seed=3)
    docs = {}
    for engine in ("reference", "stream"):
        args = ["evaluate", pack_id, str(tmp_path), "--as-of", "2025-06-30", "--format", "json"]
        try:
            status = main([*args, "--engine", engine])
        except SystemExit as exc:
            status = exc.code
        assert status == 0
        docs[engine] = json.loads(capsys.readouterr().out)
        docs[engine].pop("engine")
    assert docs["stream"]["findings"]
    assert docs["stream"] == docs["reference"]
