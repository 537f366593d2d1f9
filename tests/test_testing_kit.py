"""The pack-authoring kit: boundary facts, property checks, strategies and coverage.

Each deliberately broken pack in ``tests/data/bad_packs`` is caught by the check meant
for it (and only by the checks that should see it); every shipped pack passes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings

from vbp_rules.engine.reference import evaluate
from vbp_rules.packs import list_packs, load_pack
from vbp_rules.packs.model import PackModel
from vbp_rules.packs.pack import Pack
from vbp_rules.testing import (
    BoundaryCase,
    boundary_cases,
    coverage_report,
    example_configuration,
    exemption_cases,
    run_checks,
    sla_cases,
    uncovered_rules,
)
from vbp_rules.testing.checks import (
    check_accounting,
    check_actions_monotone,
    check_bound_words_at_bound,
    check_bound_words_cited,
    check_fact_order_independence,
    check_tiers_exhaustive,
)
from vbp_rules.testing.strategies import (
    boundary_facts,
    exemption_toggles,
    metric_values,
    shuffled,
    sla_events,
    zero_denominators,
)

BAD = Path(__file__).parent / "data" / "bad_packs"
JIANGXI = load_pack("jiangxi-2024")

#: Deliberate readings of shipped packs that differ from the word next to the number in
#: the source, with the reason; the checks report them as notes.
ALLOWED_READINGS = {
    "supply-score-penalty-tiers": (
        "jiangxi-2024 reads 90%以下 as 'below 90%' so that 90% itself falls in the incentive's "
        "'90%及以上' (see the rule's notes)"
    ),
}


def _checks(problems: list[object]) -> set[str]:
    return {p.check for p in problems}  # type: ignore[attr-defined]


# ------------------------------------------------------------------ broken packs are caught


def test_tier_gap_written_as_expressions_is_caught() -> None:
    pack = load_pack(BAD / "tier-gap-expr")  # loads: the loader cannot evaluate expressions
    gaps = check_tiers_exhaustive(pack)
    assert gaps
    assert all("falls in no tier" in p.message for p in gaps)
    assert {Fraction(4, 5), Fraction(17, 20)} <= {
        Fraction(p.message.split(" = ")[1].split(" ")[0]) for p in gaps
    }
    # the reference engine meets the gap too, at the bound and just above it
    at_bound = check_bound_words_at_bound(pack)
    assert any("no tier of delivery-tiers holds" in p.message for p in at_bound)
    assert check_actions_monotone(pack) == []
    assert check_bound_words_cited(pack) == []


def test_tier_gap_in_a_model_built_without_the_loader_is_caught() -> None:
    doc = JIANGXI.model.model_dump(by_alias=True, exclude_none=True)
    rule = next(r for r in doc["rules"] if r["id"] == "supply-score-penalty-tiers")
    rule["tiers"][2]["lower"] = {"word": "不低于", "value": "70%"}  # reduce ends at 60%: gap
    model = PackModel.model_validate(doc)
    pack = Pack.build(
        model, overrides={"supply_tier_bar_below": "30%", "supply_tier_reduce_below": "60%"}
    )
    problems = check_tiers_exhaustive(pack)
    assert [p.rule_id for p in problems]
    assert {p.rule_id for p in problems} == {"supply-score-penalty-tiers"}
    assert any("= 13/20 " in p.message for p in problems)  # 65%, between 60% and 70%


def test_non_monotone_action_ladder_is_caught() -> None:
    pack = load_pack(BAD / "non-monotone-actions")
    problems = check_actions_monotone(pack)
    assert len(problems) == 1
    assert "tier 'worst'" in problems[0].message
    assert "milder than 'middle'" in problems[0].message
    assert check_tiers_exhaustive(pack) == []
    assert check_bound_words_cited(pack) == []
    assert check_bound_words_at_bound(pack) == []


def test_threshold_ladder_of_one_metric_is_checked() -> None:
    doc = load_pack(BAD / "wrong-bound-word").model.model_dump(by_alias=True, exclude_none=True)
    doc["rules"][0]["breach_if"]["word"] = "低于"
    harsh = dict(doc["rules"][0], id="delivery-floor-severe")
    harsh["breach_if"] = {"word": "低于", "value": "80%"}
    harsh["actions"] = ["reminder"]  # the worse rate gets the milder action
    doc["rules"].append(harsh)
    pack = Pack.build(PackModel.model_validate(doc))
    problems = check_actions_monotone(pack)
    assert [p.rule_id for p in problems] == ["delivery-floor-severe"]


def test_wrong_bound_word_is_caught_against_the_cited_sentence() -> None:
    pack = load_pack(BAD / "wrong-bound-word")
    problems = check_bound_words_cited(pack)
    assert len(problems) == 1
    assert "'以下' (<=)" in problems[0].message
    assert "the source says 低于" in problems[0].message
    # the engine does apply 以下 faithfully: the word is wrong, not its evaluation
    assert check_bound_words_at_bound(pack) == []
    assert check_tiers_exhaustive(pack) == []


def test_wrong_word_on_an_expression_bound_is_caught() -> None:
    doc = JIANGXI.model.model_dump(by_alias=True, exclude_none=True)
    rule = next(r for r in doc["rules"] if r["id"] == "monthly-purchase-progress")
    rule["breach_if"]["word"] = "以下"  # the source: 采购进度低于序时进度
    pack = Pack.build(PackModel.model_validate(doc))
    problems = check_bound_words_cited(pack, allow=ALLOWED_READINGS)
    assert [p.rule_id for p in problems] == ["monthly-purchase-progress"]


def test_run_checks_reports_every_broken_pack() -> None:
    expected = {
        "tier-gap-expr": {"tiers_exhaustive", "bound_words_at_bound"},
        "non-monotone-actions": {"actions_monotone"},
        "wrong-bound-word": {"bound_words_cited"},
    }
    for name, checks in expected.items():
        report = run_checks(load_pack(BAD / name))
        assert not report.ok
        assert {p.check for p in report.problems} == checks, name
        with pytest.raises(AssertionError, match=name):
            report.raise_for_problems()


# ------------------------------------------------------------------ shipped packs pass


@pytest.mark.parametrize("pack_id", [i.id for i in list_packs()])
def test_shipped_pack_passes_every_check(pack_id: str) -> None:
    pack = load_pack(pack_id)
    report = run_checks(pack, allow=ALLOWED_READINGS)
    report.raise_for_problems()
    assert report.cases > 0


def test_jiangxi_reading_of_90_percent_is_reported_unless_allowed() -> None:
    problems = check_bound_words_cited(JIANGXI)
    assert {p.rule_id for p in problems} == {"supply-score-penalty-tiers"}
    assert check_bound_words_cited(JIANGXI, allow=ALLOWED_READINGS) == []


@pytest.mark.parametrize("pack_id", [i.id for i in list_packs()])
def test_pack_tests_exercise_every_rule(pack_id: str) -> None:
    exercised, total, missing = coverage_report(load_pack(pack_id))
    assert missing == ()
    assert exercised == total


# ------------------------------------------------------------------ boundary cases


def test_ratio_bounds_are_hit_exactly_with_counts() -> None:
    cases = {c.position: c for c in boundary_cases(JIANGXI, rules=["product-order-response-rate"])}
    assert cases["at"].metric == Fraction(19, 20)
    assert len(cases["at"].facts["orders"]) == 20
    assert cases["below"].metric == Fraction(189, 200)
    assert cases["above"].metric == Fraction(191, 200)
    assert [cases[p].expected_outcome for p in ("below", "at", "above")] == [
        "breach",
        "compliant",
        "compliant",
    ]


def test_change_band_cases_are_value_baseline_pairs() -> None:
    cases = boundary_cases(JIANGXI, rules=["report-change"])
    at = {c.bound.split()[0]: c for c in cases if c.position == "at"}
    assert at["decrease"].metric == Fraction(1, 5)
    assert at["increase"].metric == Fraction(3, 2)
    assert all(c.expected_outcome == "compliant" for c in at.values())  # 超过 excludes the bound
    zero = [c for c in cases if c.position == "zero_denominator"]
    assert zero
    assert zero[0].expected_skip == "not_applicable"


def test_unspecified_tier_bounds_are_configured_in_order() -> None:
    config = example_configuration(JIANGXI)
    assert config["supply_tier_bar_below"] < config["supply_tier_reduce_below"] < Fraction(9, 10)


def test_cases_become_pack_tests() -> None:
    case = boundary_cases(JIANGXI, rules=["non-selected-listing-price"])[0]
    doc = case.as_pack_test()
    assert doc["expect"]["findings"][0]["rule"] == "non-selected-listing-price"
    assert doc["facts"]["listings"][0]["max_listing_price"] == "100.00"


def test_sla_cases_straddle_holidays_and_make_up_days() -> None:
    cases = sla_cases(JIANGXI, year=2024)
    reply = [c for c in cases if c.rule_id == "complaint-reply"]
    starts = {c.bound.split("from ")[1][:10] for c in reply}
    assert "2024-09-30" in starts  # the last working day before National Day
    assert "2024-09-29" in starts  # a make-up working day (Sunday)
    assert {c.position for c in reply} == {"on_time", "late", "pending"}


@pytest.fixture(scope="module")
def jiangxi_cases() -> list[BoundaryCase]:
    return boundary_cases(JIANGXI)


def test_every_case_evaluates_as_its_words_say(jiangxi_cases: list[BoundaryCase]) -> None:
    cases = jiangxi_cases + exemption_cases(JIANGXI) + sla_cases(JIANGXI, limit=4)
    assert check_bound_words_at_bound(JIANGXI, cases=cases) == []
    assert check_accounting(JIANGXI, cases=[c for c in cases if c.metric is not None][:20]) == []


def test_accounting_check_wants_rows_read_by_the_cases_rule(
    jiangxi_cases: list[BoundaryCase],
) -> None:
    """A row the case's rule does not read is reported, even though the engine's
    accounting pass files it as no_applicable_rule (jiangxi-2024 has no settlement rule)."""
    case = next(c for c in jiangxi_cases if c.metric is not None)
    stray = {
        "id": "S-stray",
        "institution_id": "H1",
        "accepted_at": "2024-07-01T10:00:00+08:00",
        "amount": "1.00",
    }
    with_stray = attrs.evolve(case, facts={**case.facts, "settlements": (stray,)})
    [problem] = check_accounting(JIANGXI, cases=[with_stray])
    assert problem.rule_id == case.rule_id
    assert "('settlements', 'S-stray')" in problem.message


def test_exemption_switches_a_breach_off() -> None:
    off, on = exemption_cases(JIANGXI)
    assert off.expected_outcome == "breach"
    assert on.expected_skip == "exempted"
    assert "exemption_events" in on.facts
    assert "exemption_events" not in off.facts


def test_results_do_not_depend_on_fact_order() -> None:
    cases = boundary_cases(JIANGXI, rules=["product-timely-delivery-rate", "report-change"])
    assert check_fact_order_independence(JIANGXI, cases=cases) == []


def test_uncovered_rules_say_why(jiangxi_cases: list[BoundaryCase]) -> None:
    why = uncovered_rules(JIANGXI, jiangxi_cases)
    assert "streak" in why["enterprise-timely-delivery-streak"]
    assert "product-order-response-rate" not in why
    # the note sends the author to YAML cases, not to a Python function
    assert all("tests/*.yaml" in reason for reason in why.values())
    assert not [r for r in why.values() if "sla_cases" in r or "()" in r]


# ------------------------------------------------------------------ hypothesis strategies


@settings(max_examples=15, deadline=None)
@given(
    boundary_facts(JIANGXI, rules=["product-timely-delivery-rate", "supply-score-penalty-tiers"])
)
def test_strategy_boundary_facts(case: object) -> None:
    assert check_bound_words_at_bound(JIANGXI, cases=[case]) == []  # type: ignore[list-item]


@settings(max_examples=10, deadline=None)
@given(sla_events(JIANGXI))
def test_strategy_sla_events(case: object) -> None:
    assert check_bound_words_at_bound(JIANGXI, cases=[case]) == []  # type: ignore[list-item]


@settings(max_examples=5, deadline=None)
@given(zero_denominators(JIANGXI))
def test_strategy_zero_denominators(case: object) -> None:
    assert case.expected_skip == "not_applicable"  # type: ignore[attr-defined]
    assert check_bound_words_at_bound(JIANGXI, cases=[case]) == []  # type: ignore[list-item]


@settings(max_examples=4, deadline=None)
@given(exemption_toggles(JIANGXI))
def test_strategy_exemption_toggles(case: object) -> None:
    assert check_bound_words_at_bound(JIANGXI, cases=[case]) == []  # type: ignore[list-item]


@settings(max_examples=50, deadline=None)
@given(metric_values(JIANGXI, "supply-score-penalty-tiers"))
def test_strategy_metric_values_fall_in_one_tier(value: Fraction) -> None:
    from vbp_rules.testing._boundaries import configured, tier_of
    from vbp_rules.testing.checks import _tier_bounds

    pack, _ = configured(JIANGXI)
    rule = pack.rule("supply-score-penalty-tiers")
    bounds = _tier_bounds(pack, rule)  # type: ignore[arg-type]
    assert bounds is not None
    assert len(tier_of(rule, value, bounds)) == 1  # type: ignore[arg-type]


@settings(max_examples=5, deadline=None)
@given(shuffled(boundary_cases(JIANGXI, rules=["product-order-response-rate"])[1]))
def test_strategy_shuffled_rows_give_the_same_finding(
    records: dict[str, list[dict[str, object]]],
) -> None:
    case = boundary_cases(JIANGXI, rules=["product-order-response-rate"])[1]
    ev = evaluate(JIANGXI, records, as_of=case.as_of)
    assert [f.outcome for f in ev.by_rule(case.rule_id)] == [case.expected_outcome]


# ------------------------------------------------------------------ the pytest plugin

ROOT = Path(__file__).resolve().parents[1]


def _pytest(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "vbp_rules.testing.plugin",
            "-p",
            "no:cacheprovider",
            "-q",
            "--rootdir",
            str(cwd),
            "-c",
            os.devnull,
            *args,
        ],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def _pack_with_tests(tmp_path: Path, outcome: str) -> Path:
    folder = tmp_path / "packs" / "wrong-bound-word"
    shutil.copytree(BAD / "wrong-bound-word", folder)
    (folder / "tests").mkdir()
    (folder / "tests" / "floor.yaml").write_text(
        "cases:\n"
        "  - name: exactly-90-percent\n"
        "    as_of: 2024-12-31\n"
        "    facts:\n"
        "      enterprise_period_stats:\n"
        "        - {id: s1, enterprise_id: E1, period_start: 2024-07-01, period_end: 2024-07-31,\n"
        "           orders: 10, responded_orders: 10, timely_delivered_orders: 9}\n"
        "    expect:\n"
        "      findings:\n"
        f"        - {{rule: delivery-floor, subject: {{enterprise_id: E1}}, outcome: {outcome}}}\n",
        encoding="utf-8",
    )
    return folder.parent


def test_plugin_collects_nothing_unless_asked(tmp_path: Path) -> None:
    packs = _pack_with_tests(tmp_path, "breach")
    run = _pytest(str(packs), "--co", cwd=tmp_path)
    assert "no tests collected" in run.stdout + run.stderr


def test_plugin_runs_a_packs_yaml_cases(tmp_path: Path) -> None:
    packs = _pack_with_tests(tmp_path, "breach")  # 以下 includes 90%: a breach
    run = _pytest("--vbp-packs", str(packs), cwd=tmp_path)
    assert run.returncode == 0, run.stdout
    assert "1 passed" in run.stdout


def test_plugin_failure_shows_expected_actual_and_citation(tmp_path: Path) -> None:
    packs = _pack_with_tests(tmp_path, "compliant")
    run = _pytest("--vbp-packs", str(packs), cwd=tmp_path)
    assert run.returncode == 1
    out = run.stdout
    assert "floor.yaml::exactly-90-percent" in out
    assert "outcome: expected 'compliant', got 'breach'" in out
    assert (
        "expected:\n  delivery-floor: {'subject': {'enterprise_id': 'E1'}, 'outcome': 'compliant'}"
        in out
    )
    assert "actual:\n  delivery-floor: breach enterprise_id=E1 2024Q3" in out
    assert "delivery-floor — 某医保发〔2024〕1号 二（一）: 配送率低于90%的，予以约谈" in out


def test_plugin_refuses_a_mistyped_key_instead_of_passing(tmp_path: Path) -> None:
    packs = _pack_with_tests(tmp_path, "breach")
    floor = packs / "wrong-bound-word" / "tests" / "floor.yaml"
    floor.write_text(floor.read_text("utf-8").replace("findings:", "finding:"), "utf-8")
    run = _pytest("--vbp-packs", str(packs), cwd=tmp_path)
    assert run.returncode != 0
    assert "passed" not in run.stdout
    assert "floor.yaml:9:7 cases[0].expect.finding: unknown key 'finding'" in run.stdout
    assert "did you mean 'findings'?" in run.stdout


@pytest.mark.slow
def test_plugin_runs_every_shipped_pack() -> None:
    run = _pytest("--vbp-packs", str(ROOT / "policy_packs"), cwd=ROOT)
    assert run.returncode == 0, run.stdout[-3000:]
    assert " passed" in run.stdout
