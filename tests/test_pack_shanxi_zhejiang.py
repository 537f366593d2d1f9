"""The shanxi-2021 (晋政办发〔2021〕45号) and zhejiang-2025 packs.

One pytest test per YAML pack-test case of the two packs (ids are the cases' test ids),
then Python checks: every evaluable rule is exercised, the READMEs name every rule,
parameter and interpretation, the vague thresholds of zhejiang-2025 are unspecified and
reported not_configured until configured, county medical communities are one subject,
the relative rules' province-wide level equals a hand computation, the incomplete source
flags every finding, and the example facts evaluate from the command line. The engine
defects met while writing the packs (since fixed) are kept at the end as regression tests.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import date
from fractions import Fraction
from pathlib import Path

import pytest

from vbp_rules.engine.reference import evaluate
from vbp_rules.facts import load_facts
from vbp_rules.packs import load_pack
from vbp_rules.packs.pack import Pack
from vbp_rules.packs.testing import (
    PackTestCase,
    collect_pack_tests,
    rule_coverage,
    run_pack_test,
)

ROOT = Path(__file__).resolve().parents[1]
PACK_IDS = ("shanxi-2021", "zhejiang-2025")
PACKS: dict[str, Pack] = {pid: load_pack(pid) for pid in PACK_IDS}
CASES: list[PackTestCase] = [c for pid in PACK_IDS for c in collect_pack_tests(PACKS[pid])]

SHANXI = PACKS["shanxi-2021"]
ZHEJIANG = PACKS["zhejiang-2025"]

#: zhejiang-2025's vague words, each an unspecified parameter.
ZHEJIANG_UNSPECIFIED = {
    "report_change_obvious",  # 明显变化
    "signing_window",  # 在规定时间内
    "long_unsigned_window",  # 长期
    "non_selected_share_high",  # 过高
    "settlement_window",  # 资金结算不及时
    "order_response_window",  # 订单响应不及时
    "delivery_rate_low",  # 明显偏低
    "complaint_concentration",  # 集中
    "progress_lag_obvious",  # 明显滞后
    "settlement_gap_obvious",  # 明显低于全省整体水平
    "non_selected_share_margin",  # 过高 (relative reading)
}

#: A value for every unspecified parameter (examples, not the notice's).
ZHEJIANG_CONFIG = {
    "report_change_obvious": "20%",
    "signing_window": 10,
    "long_unsigned_window": 60,
    "non_selected_share_high": "30%",
    "settlement_window": 30,
    "order_response_window": 48,
    "delivery_rate_low": "80%",
    "complaint_concentration": 3,
    "progress_lag_obvious": "10%",
    "settlement_gap_obvious": "10%",
    "non_selected_share_margin": "10%",
}


# ------------------------------------------------------------------ the YAML cases
def test_there_are_cases() -> None:
    per_pack = Counter(c.pack_id for c in CASES)
    assert per_pack["shanxi-2021"] >= 15
    assert per_pack["zhejiang-2025"] >= 25
    names = Counter(c.test_id for c in CASES)
    assert [n for n, k in names.items() if k > 1] == []


@pytest.mark.parametrize("case", [pytest.param(c, id=c.test_id) for c in CASES])
def test_pack_case(case: PackTestCase) -> None:
    result = run_pack_test(PACKS[case.pack_id], case)
    for problem in result.problems:
        print(problem)  # shown by pytest on failure
    assert result.problems == ()


@pytest.mark.parametrize("pack_id", PACK_IDS)
def test_every_evaluable_rule_is_exercised(pack_id: str) -> None:
    pack = PACKS[pack_id]
    results = [run_pack_test(pack, c) for c in CASES if c.pack_id == pack_id]
    _, missing = rule_coverage(pack, results)
    assert missing == ()


def test_runner_reports_a_wrong_expectation() -> None:
    """A wrong expectation at a boundary must fail: 80% exactly is inside 50%-80%."""
    case = next(c for c in CASES if c.test_id == "shanxi-2021/agreed-ratio::upper-bound")
    doc = dict(case.doc)
    expect = dict(doc["expect"])
    findings = [dict(f) for f in expect["findings"]]
    assert findings[1]["subject"] == {"id": "a800"}
    findings[1]["outcome"] = "breach"
    expect["findings"] = findings
    doc["expect"] = expect
    wrong = PackTestCase(
        pack_id=case.pack_id, file=case.file, index=case.index, name=case.name, doc=doc
    )
    problems = run_pack_test(SHANXI, wrong).problems
    assert len(problems) == 1
    assert "outcome: expected 'breach', got 'compliant'" in problems[0]


# ------------------------------------------------------------------ pack metadata
def test_shanxi_metadata() -> None:
    m = SHANXI.model
    assert m.document_number == "晋政办发〔2021〕45号"
    assert m.issued_on == date(2021, 5, 14)
    assert m.in_force is not None
    assert m.in_force.start == date(2021, 5, 14)
    assert m.in_force.end is None
    assert m.source.complete is True
    assert [i.zh for i in m.issuers] == ["山西省人民政府办公厅"]
    assert SHANXI.unspecified() == ()


def test_zhejiang_metadata_records_the_incomplete_copy() -> None:
    m = ZHEJIANG.model
    assert m.issued_on == date(2025, 4, 9)
    assert sorted(i.zh for i in m.issuers) == sorted(["浙江省医疗保障局", "浙江省卫生健康委员会"])
    assert "文号不详" in m.document_number
    assert m.source.complete is False
    assert m.source.note is not None
    for word in ("二（七）", "###", "****"):
        assert word in m.source.note.zh
    assert set(ZHEJIANG.unspecified()) == ZHEJIANG_UNSPECIFIED


@pytest.mark.parametrize("pack_id", PACK_IDS)
def test_readme_names_every_rule_parameter_and_interpretation(pack_id: str) -> None:
    pack = PACKS[pack_id]
    readme = (ROOT / "policy_packs" / pack_id / "README.md").read_text(encoding="utf-8")
    names = (
        [r.id for r in pack.rules] + list(pack.model.parameters) + list(pack.model.interpretations)
    )
    for name in names:
        assert f"`{name}`" in readme, f"README of {pack_id} does not mention {name}"
    for interp in pack.model.interpretations.values():
        for option in interp.options:
            assert f"`{option}`" in readme


@pytest.mark.parametrize("pack_id", PACK_IDS)
def test_every_rule_cites_the_source_text(pack_id: str) -> None:
    source = (ROOT / "policy_packs" / pack_id / "pack.yaml").read_text(encoding="utf-8")
    assert "/work/" not in source
    assert "/home/" not in source
    seeds = ROOT.parent / "shared" / "seeds" / f"{pack_id}.txt"
    if not seeds.is_file():
        pytest.skip("the shared seeds are not next to the repository")
    text = re.sub(r"\s+", "", seeds.read_text(encoding="utf-8"))
    for rule in PACKS[pack_id].rules:
        for part in rule.cite.text.split("……"):
            assert re.sub(r"\s+", "", part) in text, f"{rule.id}: {part!r} not found in the source"


# ------------------------------------------------------------------ shanxi checks
def test_shanxi_cycle_not_determined_for_four_winners() -> None:
    groups = [
        {
            "id": f"g{n}",
            "generic_name": f"n{n}",
            "group_count": 1,
            "consistency_evaluated_listed_count": 0,
            "selected_enterprise_count": n,
        }
        for n in range(6)
    ]
    ev = evaluate(SHANXI, {"procurement_groups": groups}, as_of=date(2022, 6, 30))
    by_id = {f.subject.as_dict()["id"]: f for f in ev.by_rule("agreement-cycle")}
    assert {k: f.outcome for k, f in by_id.items()} == {
        "g0": "needs_review",
        "g1": "determination",
        "g2": "determination",
        "g3": "determination",
        "g4": "needs_review",
        "g5": "needs_review",
    }
    assert "not determined by the source" in by_id["g4"].message_en
    assert by_id["g3"].value("cycle_years") == 2


def test_shanxi_settlement_due_is_end_of_next_month_not_rolled() -> None:
    row = {
        "id": "s",
        "institution_id": "h",
        "accepted_at": "2021-06-30T23:59:00+08:00",
        "paid_at": "2021-08-02T09:00:00+08:00",
        "amount": "1.00",
    }
    ev = evaluate(SHANXI, {"settlements": [row]}, as_of=date(2021, 9, 30))
    (f,) = ev.by_rule("settlement-by-end-of-next-month")
    assert f.outcome == "breach"
    assert str(f.value("due")) == "2021-08-01 00:00:00+08:00"
    assert "provisional_calendar" not in f.flags
    rolled = evaluate(
        SHANXI,
        {"settlements": [row]},
        as_of=date(2021, 9, 30),
        interpretations={"end_of_next_month_rolling": "roll_to_working_day"},
    )
    (g,) = rolled.by_rule("settlement-by-end-of-next-month-rolled")
    assert g.outcome == "compliant"
    assert str(g.value("due")) == "2021-08-03 00:00:00+08:00"


SHANXI_EXAMPLE = ROOT / "examples" / "shanxi-2021"
ZHEJIANG_EXAMPLE = ROOT / "examples" / "zhejiang-2025"


def test_shanxi_example_evaluates() -> None:
    facts = load_facts(SHANXI_EXAMPLE)
    ev = evaluate(SHANXI, facts, as_of=date(2022, 9, 30))
    got = Counter((f.rule_id, f.outcome) for f in ev.findings if f.outcome != "compliant")
    assert dict(got) == {
        ("agreed-ratio", "breach"): 2,
        ("agreed-volume-completion", "breach"): 1,
        ("agreement-cycle", "determination"): 3,
        ("agreement-cycle", "needs_review"): 1,
        ("group-count-limit", "breach"): 1,
        ("insurance-prepayment", "breach"): 1,
        ("non-evaluated-not-selected", "breach"): 1,
        ("non-evaluated-payment-ceiling", "breach"): 1,
        ("payment-standard-basis", "determination"): 4,
        ("platform-purchasing", "needs_review"): 1,
        ("settlement-by-end-of-next-month", "breach"): 4,
        ("supply-failure", "needs_review"): 1,
    }
    assert ev.rejects == ()
    rows = {(kind, row.id) for kind in facts.counts() for row in facts.rows(kind)}
    assert rows <= ev.accounted_rows()
    assert [
        s.subject.as_dict()["id"] for s in ev.skips if s.reason == "exempted" and s.subject
    ] == ["od-03"]


# ------------------------------------------------------------------ zhejiang checks
def _rules_using(pack: Pack, parameter: str) -> set[str]:
    out = set()
    for rule in pack.rules:
        dumped = rule.model_dump_json()
        if re.search(rf"\b{parameter}\b", dumped):
            out.add(rule.id)
    return out


def test_zhejiang_unconfigured_rules_report_not_configured() -> None:
    """Every rule using an unspecified parameter is not_configured, never silently passed."""
    facts = load_facts(ZHEJIANG_EXAMPLE)
    readings = [
        {},
        {
            "progress_lag_reading": "behind_province",
            "non_selected_share_reading": "relative_to_province",
        },
    ]
    not_configured: set[str] = set()
    findings_of: set[str] = set()
    for chosen in readings:
        ev = evaluate(ZHEJIANG, facts, as_of=date(2025, 7, 31), interpretations=chosen)
        not_configured |= {
            s.rule_id for s in ev.skips if s.reason == "not_configured" and s.rule_id
        }
        findings_of |= {f.rule_id for f in ev.findings}
    using = set().union(*(_rules_using(ZHEJIANG, p) for p in ZHEJIANG_UNSPECIFIED))
    assert using == not_configured
    assert using & findings_of == set()
    # configured, the same rules give findings and no rule is not_configured any more
    configured = ZHEJIANG.with_overrides(ZHEJIANG_CONFIG)
    assert configured.unspecified() == ()
    findings_after: set[str] = set()
    for chosen in readings:
        ev = evaluate(configured, facts, as_of=date(2025, 7, 31), interpretations=chosen)
        assert [s for s in ev.skips if s.reason == "not_configured"] == []
        findings_after |= {f.rule_id for f in ev.findings}
    assert using <= findings_after


def test_zhejiang_every_finding_is_flagged_incomplete_source() -> None:
    configured = ZHEJIANG.with_overrides(ZHEJIANG_CONFIG)
    ev = evaluate(configured, load_facts(ZHEJIANG_EXAMPLE), as_of=date(2025, 7, 31))
    assert ev.findings
    assert all("incomplete_source" in f.flags for f in ev.findings)
    shanxi = evaluate(SHANXI, load_facts(SHANXI_EXAMPLE), as_of=date(2022, 9, 30))
    assert not any("incomplete_source" in f.flags for f in shanxi.findings)


def test_zhejiang_county_community_members_not_assessed_separately() -> None:
    configured = ZHEJIANG.with_overrides({"report_change_obvious": "20%"})
    facts = load_facts(ZHEJIANG_EXAMPLE)
    members = {
        r.institution_id
        for r in facts.demand_reports
        if r.reporting_unit == "county_medical_community"
    }
    assert members == {"zj-h-aj-lead", "zj-h-aj-t1", "zj-h-aj-t2"}
    ev = evaluate(configured, facts, as_of=date(2025, 7, 31))
    for rule in ("demand-report-change", "demand-report-explanation-review"):
        subjects = [f.subject.as_dict() for f in ev.by_rule(rule)]
        subjects += [s.subject.as_dict() for s in ev.skips if s.rule_id == rule and s.subject]
        assert not any(s.get("reporting_unit_id") in members for s in subjects)
        assert not any("institution_id" in s for s in subjects)
    (community,) = [
        f
        for f in ev.by_rule("demand-report-change")
        if f.subject.as_dict()["reporting_unit_id"] == "cmc-anji"
    ]
    assert community.outcome == "compliant"
    assert community.value("value") == 17500
    assert community.value("baseline") == 17000
    assert sorted(community.rows) == sorted(
        ("demand_reports", f"dr-aj-{m}") for m in ("lead", "t1", "t2")
    )


def test_zhejiang_settlement_level_equals_hand_computation() -> None:
    facts = load_facts(ZHEJIANG_EXAMPLE)
    as_of = date(2025, 7, 31)
    ev = evaluate(ZHEJIANG.with_overrides({"settlement_gap_obvious": "10%"}), facts, as_of=as_of)
    cutoff = ev.as_of
    paid: dict[str, Fraction] = defaultdict(Fraction)
    accepted: dict[str, Fraction] = defaultdict(Fraction)
    for s in facts.settlements:
        if s.accepted_at <= cutoff:
            accepted[s.institution_id] += Fraction(s.amount)
            if s.paid_at is not None and s.paid_at <= cutoff:
                paid[s.institution_id] += Fraction(s.amount)
    level = sum(paid.values(), Fraction(0)) / sum(accepted.values(), Fraction(0))
    assert level == Fraction(103, 121)
    findings = ev.by_rule("settlement-below-province")
    assert len(findings) == len(accepted)
    for f in findings:
        inst = f.subject.as_dict()["institution_id"]
        rate = paid[inst] / accepted[inst]
        assert f.value("population_level") == level
        assert f.value("settlement_rate") == rate
        assert f.value("threshold") == level - Fraction(1, 10)
        assert f.outcome == ("breach" if rate < level - Fraction(1, 10) else "compliant")
    assert sorted(
        f.subject.as_dict()["institution_id"] for f in findings if f.outcome == "breach"
    ) == ["zj-h-aj-lead", "zj-h-nb02"]


def test_zhejiang_example_evaluates() -> None:
    facts = load_facts(ZHEJIANG_EXAMPLE)
    ev = evaluate(ZHEJIANG, facts, as_of=date(2025, 7, 31))
    got = Counter((f.rule_id, f.outcome) for f in ev.findings if f.outcome != "compliant")
    assert dict(got) == {
        ("hospital-entry-check", "breach"): 2,
        ("non-selected-listing-price", "breach"): 1,
        ("progress-below-schedule", "breach"): 1,
    }
    assert ev.rejects == ()
    rows = {(kind, row.id) for kind in facts.counts() for row in facts.rows(kind)}
    assert rows <= ev.accounted_rows()


@pytest.mark.parametrize(
    ("args", "expected_rule"),
    [
        (["shanxi-2021", str(SHANXI_EXAMPLE), "--as-of", "2022-09-30"], "agreed-ratio"),
        (["zhejiang-2025", str(ZHEJIANG_EXAMPLE), "--as-of", "2025-07-31"], "hospital-entry-check"),
        (
            [
                "zhejiang-2025",
                str(ZHEJIANG_EXAMPLE),
                "--as-of",
                "2025-07-31",
                "--set",
                "settlement_gap_obvious=10%",
            ],
            "settlement-below-province",
        ),
    ],
)
def test_example_cli(
    capsys: pytest.CaptureFixture[str], args: list[str], expected_rule: str
) -> None:
    from vbp_rules.cli import main

    status = main(["evaluate", *args, "--format", "json"])
    out = capsys.readouterr().out
    assert status in (0, None)
    assert f'"rule": "{expected_rule}"' in out
    assert "Traceback" not in out


# ------------------------------------------- regression tests for engine defects found here
_AGREEMENT = {
    "id": "a",
    "institution_id": "h",
    "enterprise_id": "e",
    "product_id": "p",
    "agreed_quantity": 40,
    "annual_use_quantity": 100,
    "cycle_start": "2021-01-01",
    "cycle_end": "2021-12-31",
}


def test_engine_as_of_date_before_issue_is_flagged() -> None:
    ev = evaluate(SHANXI, {"agreements": [_AGREEMENT]}, as_of=date(2021, 5, 12))
    assert "out_of_force" in ev.findings[0].flags


def test_engine_as_of_date_reference_day() -> None:
    ev = evaluate(SHANXI, {"agreements": [_AGREEMENT]}, as_of=date(2021, 5, 13))
    assert "out_of_force" in ev.findings[0].flags


def _with_rule_changes(pack: Pack, rule_id: str, **update: object) -> Pack:
    rules = [r.model_copy(update=update) if r.id == rule_id else r for r in pack.model.rules]
    return Pack.build(
        pack.model.model_copy(update={"rules": rules}), path=pack.path, overrides=pack.overrides
    )


_SETTLEMENTS = [
    {
        "id": "a",
        "institution_id": "h1",
        "accepted_at": "2025-05-06T10:00:00+08:00",
        "paid_at": "2025-05-07T10:00:00+08:00",
        "amount": "100.00",
    },
    {
        "id": "b",
        "institution_id": "h2",
        "accepted_at": "2025-06-06T10:00:00+08:00",
        "amount": "100.00",
    },
]


def test_engine_relative_rule_applies_having() -> None:
    pack = _with_rule_changes(
        ZHEJIANG.with_overrides({"settlement_gap_obvious": "0%"}),
        "settlement-below-province",
        having="accepted_amount > 1000",
    )
    assert pack.value("settlement_gap_obvious") == 0
    ev = evaluate(pack, {"settlements": _SETTLEMENTS}, as_of=date(2025, 12, 31))
    # both institutions accepted only 100.00: neither is assessed
    assert ev.by_rule("settlement-below-province") == ()
    assert (
        len(
            [
                s
                for s in ev.skips
                if s.rule_id == "settlement-below-province" and s.reason == "not_applicable"
            ]
        )
        == 2
    )


def test_engine_relative_level_per_period() -> None:
    from vbp_rules.packs.model import PeriodSpec

    pack = _with_rule_changes(
        ZHEJIANG.with_overrides({"settlement_gap_obvious": "0%"}),
        "settlement-below-province",
        period=PeriodSpec(unit="month", field="accepted_at"),
    )
    ev = evaluate(pack, {"settlements": _SETTLEMENTS}, as_of=date(2025, 12, 31))
    # h1 is the only subject in May (level 1), h2 the only one in June (level 0)
    levels = sorted(
        str(f.value("population_level")) for f in ev.by_rule("settlement-below-province")
    )
    assert levels == ["0", "1"]


def test_engine_unspecified_end_of_next_month_is_not_configured() -> None:
    from vbp_rules.packs.model import Parameter

    params = dict(SHANXI.model.parameters)
    params["settlement_due"] = Parameter.model_validate(
        {
            "type": "end_of_next_month",
            "unspecified": True,
            "cite": SHANXI.model.parameters["settlement_due"].cite.model_dump(),
        }
    )
    pack = Pack.build(SHANXI.model.model_copy(update={"parameters": params}), path=SHANXI.path)
    assert "settlement_due" in pack.unspecified()
    # evaluated, the settlement it would decide is reported not_configured, never passed
    settlement = {
        "id": "s1",
        "institution_id": "h1",
        "accepted_at": "2021-06-30T10:00+08:00",
        "paid_at": "2021-08-01T00:00+08:00",
        "amount": "100.00",
    }
    ev = evaluate(pack, {"settlements": [settlement]}, as_of=date(2022, 6, 30))
    assert ev.by_rule("settlement-by-end-of-next-month") == ()
    skips = [s for s in ev.skips if s.rule_id == "settlement-by-end-of-next-month"]
    assert [(s.reason, s.subject.as_dict()["id"] if s.subject else None) for s in skips] == [
        ("not_configured", "s1")
    ]
