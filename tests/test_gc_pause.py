"""The library never touches the garbage collector; the CLI restores it exactly."""

from __future__ import annotations

import gc
from datetime import date
from pathlib import Path

import pytest

from vbp_rules.cli import main
from vbp_rules.engine import get_engine
from vbp_rules.facts import load_facts
from vbp_rules.packs import load_pack

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "jiangxi-2024"


@pytest.fixture
def gc_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every switch of the collector instead of making it."""
    calls: list[str] = []
    monkeypatch.setattr(gc, "disable", lambda: calls.append("disable"))
    monkeypatch.setattr(gc, "enable", lambda: calls.append("enable"))
    return calls


@pytest.mark.parametrize("engine", ["reference", "frame", "stream"])
def test_loading_and_evaluating_leave_the_collector_alone(engine: str, gc_calls: list[str]) -> None:
    facts = load_facts(EXAMPLE, assume_tz="Asia/Shanghai")
    get_engine(engine)(load_pack("jiangxi-2024"), facts, as_of=date(2025, 6, 30))
    assert gc_calls == []


@pytest.mark.parametrize("enabled", [True, False])
def test_the_cli_restores_the_collector_as_it_found_it(
    enabled: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    was = gc.isenabled()
    try:
        if enabled:
            gc.enable()
        else:
            gc.disable()
        status = main(["evaluate", "jiangxi-2024", str(EXAMPLE), "--as-of", "2025-06-30"])
        capsys.readouterr()
        assert status == 0
        assert gc.isenabled() is enabled
    finally:
        if was:
            gc.enable()
        else:  # pragma: no cover - the suite runs with the collector on
            gc.disable()
