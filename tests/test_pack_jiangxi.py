"""The jiangxi-2024 pack (赣医保字〔2024〕22号): its YAML pack tests, one pytest test per case.

The cases live in ``policy_packs/jiangxi-2024/tests/*.yaml``; this module runs each one
and prints the problems the runner found. A few Python-level checks follow: every rule
that reads facts is exercised by some case, the runner does catch a wrong expectation,
and the example province in ``examples/jiangxi-2024`` evaluates cleanly.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from vbp_rules.packs import load_pack
from vbp_rules.packs.testing import (
    PackTestCase,
    collect_pack_tests,
    rule_coverage,
    run_pack_test,
)

PACK_ID = "jiangxi-2024"
ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / PACK_ID

#: Cases that record a known engine or pack defect: test_id -> reason. They run as strict
#: xfail, so fixing the defect turns them into a failure here until the entry is removed.
KNOWN_DEFECTS: dict[str, str] = {}

PACK = load_pack(PACK_ID)
CASES = collect_pack_tests(PACK)


def _param(case: PackTestCase) -> object:
    marks = []
    if case.test_id in KNOWN_DEFECTS:
        marks.append(pytest.mark.xfail(reason=KNOWN_DEFECTS[case.test_id], strict=True))
    return pytest.param(case, id=case.test_id, marks=marks)


def test_there_are_cases() -> None:
    assert len(CASES) >= 40
    names = Counter(c.test_id for c in CASES)
    assert [n for n, k in names.items() if k > 1] == [], "case names must be unique per file"


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_pack_case(case: PackTestCase) -> None:
    result = run_pack_test(PACK, case)
    for problem in result.problems:
        print(problem)  # shown by pytest on failure
    assert result.problems == ()


def test_every_evaluable_rule_is_exercised() -> None:
    """Every rule that reads facts, the exemption included, is exercised by some case."""
    reachable, missing = rule_coverage(PACK, [run_pack_test(PACK, case) for case in CASES])
    assert "completion-exemptions" in reachable
    assert missing == ()


def test_runner_reports_a_wrong_expectation() -> None:
    """The cases are only worth something if a wrong expectation fails."""
    case = next(
        c for c in CASES if c.test_id.endswith("report-change::decrease-and-increase-bounds")
    )
    doc = dict(case.doc)
    expect = dict(doc["expect"])
    findings = [dict(f) for f in expect["findings"]]
    findings[0]["outcome"] = "breach"  # R-down20: exactly -20% is compliant
    expect["findings"] = findings
    doc["expect"] = expect
    wrong = PackTestCase(
        pack_id=case.pack_id, file=case.file, index=case.index, name=case.name, doc=doc
    )
    problems = run_pack_test(PACK, wrong).problems
    assert len(problems) == 1
    assert "outcome: expected 'breach', got 'compliant'" in problems[0]


def test_unspecified_parameters_are_the_vague_words() -> None:
    assert sorted(PACK.unspecified()) == [
        "batch_non_selected_share_limit",
        "bulk_purchase_quantity",
        "complaint_concentration",
        "long_unsigned_window",
        "supply_tier_bar_below",
        "supply_tier_reduce_below",
    ]


def test_tier_overrides_must_stay_contiguous() -> None:
    """The penalty-tier bounds the source leaves open must keep bar <= reduce <= 90%."""
    from vbp_rules.errors import PackValidationError

    ok = PACK.with_overrides({"supply_tier_bar_below": "60%", "supply_tier_reduce_below": "80%"})
    assert ok.unspecified() == (
        "complaint_concentration",
        "long_unsigned_window",
        "batch_non_selected_share_limit",
        "bulk_purchase_quantity",
    )
    with pytest.raises(PackValidationError, match="overlap"):
        PACK.with_overrides({"supply_tier_bar_below": "85%", "supply_tier_reduce_below": "80%"})
    with pytest.raises(PackValidationError):
        PACK.with_overrides({"supply_tier_bar_below": "60%", "supply_tier_reduce_below": "95%"})


#: Non-compliant findings of the example province at 2025-06-30, by rule and outcome; the
#: story behind each is told in examples/jiangxi-2024/README.md.
EXAMPLE_FINDINGS = {
    ("agreement-signed-before-execution", "breach"): 2,
    ("complaint-commitment-limit", "breach"): 1,
    ("complaint-reply", "breach"): 2,
    ("complaint-resolution", "breach"): 2,
    ("complaint-unresolvable", "needs_review"): 1,
    ("cycle-end-completion", "breach"): 2,
    ("delayed-response-list-due", "determination"): 4,
    ("enterprise-quarterly-timely-delivery", "breach"): 3,
    ("enterprise-timely-delivery-streak", "breach"): 1,
    ("hospital-entry-check", "breach"): 2,
    ("monthly-non-selected-share", "breach"): 5,
    ("monthly-purchase-progress", "breach"): 14,
    ("monthly-substitutable-over-last-year", "breach"): 2,
    ("non-selected-listing-price", "breach"): 2,
    ("order-response-48h", "breach"): 4,
    ("product-order-response-rate", "breach"): 1,
    ("product-timely-delivery-rate", "breach"): 2,
    ("publication-window", "breach"): 1,
    ("report-change", "breach"): 3,
    ("supply-score-incentive", "determination"): 12,
    ("surplus-retention-eligibility", "determination"): 15,
    ("verified-demand-surge-purchases", "needs_review"): 1,
}


def test_the_example_folder_exists() -> None:
    """The example tests below read it; a deletion must fail, not skip them."""
    assert (EXAMPLE / "README.md").is_file() or any(EXAMPLE.iterdir())


def test_example_province_evaluates() -> None:
    from vbp_rules.engine.reference import evaluate
    from vbp_rules.facts import load_facts

    facts = load_facts(EXAMPLE)
    ev = evaluate(PACK, facts, as_of=date(2025, 6, 30))
    got = Counter((f.rule_id, f.outcome) for f in ev.findings if f.outcome != "compliant")
    assert dict(got) == EXAMPLE_FINDINGS
    # the two deliberately bad rows of orders.csv, and nothing else, are rejected
    assert sorted((r.row_id, r.field) for r in ev.rejects) == [
        ("O2410-BAD-NAIVE", "sent_at"),
        ("O2501-BAD-OVER", "delivered_quantity"),
    ]
    # every accepted input row is accounted for by a finding or a skip
    rows = {(kind, row.id) for kind in facts.counts() for row in facts.rows(kind)}
    assert rows <= ev.accounted_rows()
    exempted = [s for s in ev.skips if s.reason == "exempted"]
    assert [s.subject.as_dict()["institution_id"] for s in exempted if s.subject] == ["H-GZ1"]


def test_example_with_configured_tiers() -> None:
    from vbp_rules.engine.reference import evaluate
    from vbp_rules.facts import load_facts

    pack = PACK.with_overrides({"supply_tier_bar_below": "60%", "supply_tier_reduce_below": "80%"})
    ev = evaluate(pack, load_facts(EXAMPLE), as_of=date(2025, 6, 30))
    tiers = sorted(
        (f.subject.as_dict()["enterprise_id"], str(f.period), f.tier)
        for f in ev.by_rule("supply-score-penalty-tiers")
        if f.outcome == "breach"
    )
    assert tiers == [
        ("E-KY", "2024Q4", "risk-notice"),
        ("E-KY", "2025Q1", "risk-notice"),
        ("E-QL", "2024Q4", "risk-notice"),
    ]


def test_example_cli(capsys: pytest.CaptureFixture[str]) -> None:
    from vbp_rules.cli import main

    status = main(["evaluate", PACK_ID, str(EXAMPLE), "--as-of", "2025-06-30", "--format", "json"])
    out = capsys.readouterr().out
    assert status in (0, None)
    assert '"rule": "publication-window"' in out
    assert "Traceback" not in out
