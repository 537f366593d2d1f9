"""The collector pause around bulk validation and evaluation restores the caller's state."""

from __future__ import annotations

import gc
import threading
from datetime import date

import pytest

from vbp_rules.engine.reference import evaluate
from vbp_rules.facts import FactSet
from vbp_rules.facts._gc import paused_gc
from vbp_rules.packs import load_pack


@pytest.fixture(autouse=True)
def _restore_gc() -> object:
    was = gc.isenabled()
    yield
    if was:
        gc.enable()
    else:  # pragma: no cover - the suite runs with the collector on
        gc.disable()


def test_paused_then_restored() -> None:
    gc.enable()
    with paused_gc():
        assert not gc.isenabled()
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()  # an inner block does not switch it back on
    assert gc.isenabled()


def test_a_callers_disable_is_respected() -> None:
    gc.disable()
    with paused_gc():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_restored_after_an_error() -> None:
    gc.enable()
    with pytest.raises(RuntimeError), paused_gc():
        raise RuntimeError
    assert gc.isenabled()


def test_threads_leave_it_enabled() -> None:
    gc.enable()
    barrier = threading.Barrier(4)

    def work() -> None:
        barrier.wait()
        for _ in range(200):
            with paused_gc():
                pass

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert gc.isenabled()


def test_engines_restore_the_collector() -> None:
    gc.enable()
    facts = FactSet.from_records({"orders": []})
    assert gc.isenabled()
    evaluate(load_pack("jiangxi-2024"), facts, as_of=date(2025, 6, 30))
    assert gc.isenabled()
