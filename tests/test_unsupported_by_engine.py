"""No engine drops a rule silently: a rule an engine cannot evaluate is skipped, subject
by subject, as ``unsupported_by_engine`` naming the engine, and the CLI warns on stderr."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import attrs
import pytest

import vbp_rules.evaluation
from vbp_rules import list_packs, load_facts, load_pack
from vbp_rules.cli import main
from vbp_rules.engine.reference import evaluate as reference_evaluate
from vbp_rules.engine.semantics import Run, evaluation_settings, unsupported_skips
from vbp_rules.findings import Evaluation

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "jiangxi-2024"
AS_OF = date(2025, 6, 30)


def _run() -> Run:
    pack = load_pack("jiangxi-2024")
    return Run(
        pack,
        load_facts(EXAMPLE),
        **evaluation_settings(pack, as_of=AS_OF, interpretations=None, calendar=None),
        out_of_force="flag",
    )


def test_each_subject_is_skipped_naming_the_engine() -> None:
    run = _run()
    rule = next(r for r in run.pack.rules if r.id == "order-response-48h")
    want = reference_evaluate(run.pack, run.facts, as_of=AS_OF)  # type: ignore[arg-type]
    decided = {(f.subject, f.rows) for f in want.by_rule("order-response-48h")} | {
        (s.subject, s.rows) for s in want.skips if s.rule_id == "order-response-48h"
    }
    got = unsupported_skips(run, rule, engine="stream", reason="a test")
    assert {(s.subject, s.rows) for s in got} == decided
    assert {s.reason for s in got} == {"unsupported_by_engine"}
    assert all(s.detail == "the stream engine cannot evaluate this rule: a test" for s in got)


def test_a_rule_with_no_subjects_gets_one_rule_level_skip() -> None:
    run = _run()
    rule = next(r for r in run.pack.rules if r.id == "order-response-48h")
    run.facts = attrs.evolve(run.facts, orders=())  # type: ignore[arg-type]
    (skip,) = unsupported_skips(run, rule, engine="frame", reason="why")
    assert (skip.rule_id, skip.reason, skip.subject) == (rule.id, "unsupported_by_engine", None)


@pytest.mark.parametrize("pack_id", sorted(p.id for p in list_packs()))
def test_the_stream_engine_evaluates_every_rule(pack_id: str) -> None:
    pytest.importorskip("durable_rules_engine")
    from vbp_rules.engine.stream import Monitor, stream_support

    pack = load_pack(pack_id)
    per_event, at_ticks = stream_support(pack)
    decided = {r.id for r in pack.rules if r.over is not None and r.kind != "exemption"}
    assert set(per_event) | {r for r, _ in at_ticks} == decided
    with Monitor(pack) as monitor:
        assert monitor.unsupported_rules == ()


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_cli_warns_when_an_engine_left_rules_out(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ["evaluate", "jiangxi-2024", str(EXAMPLE), "--as-of", "2025-06-30"]
    _, _, err = _cli(capsys, *args, "--format", "json")
    assert "warning:" not in err
    real = vbp_rules.evaluation.evaluate

    def lacking(*a: Any, **k: Any) -> Evaluation:
        """An engine that cannot evaluate order-response-48h (skips its subjects)."""
        ev = real(*a, **k)
        run = _run()
        rule = next(r for r in run.pack.rules if r.id == "order-response-48h")
        return attrs.evolve(
            ev,
            engine="lacking",
            findings=tuple(f for f in ev.findings if f.rule_id != rule.id),
            skips=tuple(s for s in ev.skips if s.rule_id != rule.id)
            + tuple(unsupported_skips(run, rule, engine="lacking", reason="test")),
        )

    monkeypatch.setattr(vbp_rules.evaluation, "evaluate", lacking)
    status, out, err = _cli(capsys, *args, "--format", "json")
    assert status == 0
    warnings = [line for line in err.splitlines() if line.startswith("warning:")]
    assert warnings == [
        "warning: the lacking engine could not evaluate 1 rule(s): order-response-48h; their "
        "subjects are skipped as unsupported_by_engine (--engine reference evaluates every rule)"
    ]
    reasons = {s["reason"] for s in json.loads(out)["skips"] if s["rule"] == "order-response-48h"}
    assert reasons == {"unsupported_by_engine"}
