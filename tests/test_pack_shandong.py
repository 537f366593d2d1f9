"""The Shandong packs: shandong-2023 (鲁医保发〔2023〕14号), its Weihai adoption weihai-2023,
and the 2021 draft shandong-2021.

Every YAML pack-test case of the three packs runs as one pytest test (id = the case's
test_id). Python-level checks follow: the in-force window (flag and refusal), Weihai's
findings carrying its own pack id and issuers while citing the provincial notice, every
draft finding flagged, the unspecified parameters and named interpretations, coverage of
every rule that reads facts, and the example facts.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from vbp_rules.engine.reference import evaluate
from vbp_rules.errors import OutOfForceError
from vbp_rules.facts import load_facts
from vbp_rules.packs import load_pack
from vbp_rules.packs.testing import PackTestCase, collect_pack_tests, run_pack_test

ROOT = Path(__file__).resolve().parents[1]
PACK_IDS = ("shandong-2023", "weihai-2023", "shandong-2021")
PACKS = {pid: load_pack(pid) for pid in PACK_IDS}
CASES = [case for pid in PACK_IDS for case in collect_pack_tests(PACKS[pid])]
DOCUMENT = "鲁医保发〔2023〕14号"
WEIHAI_ISSUERS = [
    "威海市医疗保障局",
    "威海市工业和信息化局",
    "威海市卫生健康委员会",
    "威海市市场监督管理局",
]


def _results(pack_id: str) -> list:
    return [run_pack_test(PACKS[pack_id], c) for c in CASES if c.pack_id == pack_id]


def _notable(ev: object) -> list:
    """Findings that are not compliant: breaches, determinations and reviews."""
    return [f for f in ev.findings if f.outcome != "compliant"]  # type: ignore[attr-defined]


# ------------------------------------------------------------------ the YAML pack tests
def test_there_are_cases() -> None:
    counts = Counter(c.pack_id for c in CASES)
    assert counts["shandong-2023"] >= 30
    assert counts["weihai-2023"] >= 6
    assert counts["shandong-2021"] >= 8
    ids = Counter(c.test_id for c in CASES)
    assert [i for i, n in ids.items() if n > 1] == [], "case names must be unique per file"


@pytest.mark.parametrize("case", [pytest.param(c, id=c.test_id) for c in CASES])
def test_pack_case(case: PackTestCase) -> None:
    result = run_pack_test(PACKS[case.pack_id], case)
    for problem in result.problems:
        print(problem)
    assert result.problems == ()


@pytest.mark.parametrize("pack_id", PACK_IDS)
def test_every_evaluable_rule_is_exercised(pack_id: str) -> None:
    pack = PACKS[pack_id]
    found: set[str] = set()
    for result in _results(pack_id):
        assert result.evaluation is not None
        found |= {f.rule_id for f in result.evaluation.findings}
    evaluable = {r.id for r in pack.rules if r.over is not None and r.kind != "exemption"}
    # every rule that reads facts produced at least one finding somewhere (not only a skip)
    assert sorted(evaluable - found) == []


def test_runner_reports_a_wrong_expectation() -> None:
    """A wrong expectation must fail: exactly 80% delivery is compliant, not a breach."""
    case = next(c for c in CASES if c.test_id == "shandong-2023/delivery-rate::floor-at-80-percent")
    doc = json.loads(json.dumps(case.doc, default=str))
    doc["as_of"] = case.doc["as_of"]
    doc["expect"]["findings"][1]["outcome"] = "breach"
    wrong = PackTestCase(
        pack_id=case.pack_id, file=case.file, index=case.index, name=case.name, doc=doc
    )
    problems = run_pack_test(PACKS["shandong-2023"], wrong).problems
    assert len(problems) == 1
    assert "outcome: expected 'breach', got 'compliant'" in problems[0]


# ------------------------------------------------------------------ shandong-2023
MAY_2026 = {
    "orders": [
        {
            "id": "O1",
            "batch_id": "B8",
            "institution_id": "H1",
            "enterprise_id": "E1",
            "product_id": "P1",
            "sent_at": "2026-05-06T09:00+08:00",
            "ordered_quantity": 100,
            "delivered_quantity": 70,
            "delivered_at": "2026-05-07T09:00+08:00",
        },
    ],
    "complaints": [
        {
            "id": "C1",
            "institution_id": "H1",
            "enterprise_id": "E1",
            "raised_at": "2026-05-11T10:00+08:00",
            "replied_at": "2026-05-15T10:00+08:00",
        },
    ],
}


def test_metadata_shandong_2023() -> None:
    m = PACKS["shandong-2023"].model
    assert m.document_number == DOCUMENT
    assert m.issued_on == date(2023, 3, 9)
    assert (m.in_force.start, m.in_force.end) == (date(2023, 4, 10), date(2026, 4, 9))
    assert [i.zh for i in m.issuers] == [
        "山东省医疗保障局",
        "山东省工业和信息化厅",
        "山东省卫生健康委员会",
        "山东省药品监督管理局",
        "山东省公共资源交易中心",
    ]
    assert PACKS["shandong-2023"].status_on(date(2026, 4, 9)) == "in_force"
    assert PACKS["shandong-2023"].status_on(date(2026, 4, 10)) == "expired"
    assert PACKS["shandong-2023"].status_on(date(2023, 4, 9)) == "not_yet_in_force"


def test_out_of_force_is_flagged_by_default() -> None:
    ev = evaluate(PACKS["shandong-2023"], MAY_2026, as_of=date(2026, 5, 31))
    assert ev.findings
    assert all("out_of_force" in f.flags for f in ev.findings)


def test_out_of_force_error_refuses() -> None:
    with pytest.raises(OutOfForceError, match="shandong-2023 is not in force"):
        evaluate(PACKS["shandong-2023"], MAY_2026, as_of=date(2026, 5, 31), out_of_force="error")
    # the same refusal applies to the Weihai adoption, which inherits the window
    with pytest.raises(OutOfForceError, match="weihai-2023 is not in force"):
        evaluate(PACKS["weihai-2023"], MAY_2026, as_of=date(2026, 5, 31), out_of_force="error")


def test_in_force_facts_pass_error_mode() -> None:
    facts = json.loads(json.dumps(MAY_2026).replace("2026-05", "2025-05"))
    ev = evaluate(PACKS["shandong-2023"], facts, as_of=date(2025, 5, 31), out_of_force="error")
    assert ev.findings
    assert not any("out_of_force" in f.flags for f in ev.findings)


def test_unspecified_parameters_are_the_vague_words() -> None:
    assert sorted(PACKS["shandong-2023"].unspecified()) == [
        "complaint_count_many",  # 较多
        "low_delivery_rate",  # 较低
        "selected_share_floor",  # 明显偏低
        "unreported_other_bulk_quantity",  # 大量
        "unreported_selected_bulk_quantity",  # 大量
    ]
    assert PACKS["shandong-2021"].unspecified() == ("allocation_ratio",)


def test_interpretations() -> None:
    interp = PACKS["shandong-2023"].model.interpretations
    assert interp["over_purchase_reading"].default == "excess_over_4x"
    assert set(interp["over_purchase_reading"].options) == {"excess_over_4x", "total_over_4x"}
    assert interp["commitment_counted_from"].default == "from_reply"


def test_every_rule_cites_the_document_explicitly() -> None:
    """So that packs extending shandong-2023 cite 鲁医保发〔2023〕14号, not their own number."""
    assert {r.cite.document for r in PACKS["shandong-2023"].rules} == {DOCUMENT}


def test_complaint_tiers_need_many_complaints() -> None:
    facts = {
        "enterprise_period_stats": [
            {
                "id": "S1",
                "enterprise_id": "E1",
                "period_start": "2024-01-01",
                "period_end": "2024-03-31",
                "orders": 1,
                "responded_orders": 1,
                "timely_delivered_orders": 1,
                "complaints": 20,
                "timely_resolved_complaints": 1,
            },
        ]
    }
    ev = evaluate(PACKS["shandong-2023"], facts, as_of=date(2024, 6, 30))
    skips = [s for s in ev.skips if s.rule_id == "enterprise-complaint-penalty-tiers"]
    assert [s.reason for s in skips] == ["not_configured"]
    assert "complaint_count_many" in skips[0].detail
    configured = PACKS["shandong-2023"].with_overrides({"complaint_count_many": 20})
    ev = evaluate(configured, facts, as_of=date(2024, 6, 30))
    (finding,) = ev.by_rule("enterprise-complaint-penalty-tiers")
    assert (finding.tier, sorted(finding.actions)) == (
        "bar",
        ["bar_from_procurement", "credit_rating"],
    )


# ------------------------------------------------------------------ weihai-2023
def test_weihai_copies_no_rule() -> None:
    from vbp_rules._yaml import read_yaml

    raw, _ = read_yaml(ROOT / "policy_packs" / "weihai-2023" / "pack.yaml")
    assert raw["extends"] == "shandong-2023"
    assert sorted(k for k in ("rules", "parameters", "interpretations") if k in raw) == []
    weihai, province = PACKS["weihai-2023"], PACKS["shandong-2023"]
    assert [r.id for r in weihai.rules] == [r.id for r in province.rules]
    assert weihai.lineage() == ("weihai-2023", "shandong-2023")


def test_weihai_metadata() -> None:
    m = PACKS["weihai-2023"].model
    assert [i.zh for i in m.issuers] == WEIHAI_ISSUERS
    assert (m.jurisdiction.zh, m.jurisdiction.level, m.jurisdiction.code) == (
        "威海市",
        "city",
        "371000",
    )
    assert m.issued_on == date(2023, 3, 27)
    assert m.adoption is not None
    assert "2023年3月27日" in m.adoption.zh
    assert "无文号" in m.document_number  # the forwarding notice shows none
    assert (m.in_force.start, m.in_force.end) == (date(2023, 4, 10), date(2026, 4, 9))


def test_weihai_findings_name_weihai_and_cite_the_province() -> None:
    facts = load_facts(ROOT / "examples" / "weihai-2023")
    ev = evaluate(PACKS["weihai-2023"], facts, as_of=date(2023, 12, 31))
    assert ev.pack_id == "weihai-2023"
    assert dict(ev.metadata)["lineage"] == ("weihai-2023", "shandong-2023")
    assert len(_notable(ev)) >= 10
    for f in ev.findings:
        assert f.pack_id == "weihai-2023"
        assert f.issuer == "、".join(WEIHAI_ISSUERS)
        assert f.citation.pack_id == "shandong-2023"  # where the rule comes from
        assert f.citation.document == DOCUMENT
    reply = next(f for f in ev.by_rule("complaint-reply") if f.outcome == "breach")
    assert reply.citation.clause == "二（四）"


# ------------------------------------------------------------------ shandong-2021 (draft)
def test_draft_metadata() -> None:
    pack = PACKS["shandong-2021"]
    assert pack.model.status == "draft"
    assert pack.status_on(date(2021, 2, 1)) == "draft"
    assert pack.model.issuers[0].zh == "山东省医疗保障局"


def test_every_draft_finding_is_flagged() -> None:
    flagged = 0
    for result in _results("shandong-2021"):
        assert result.evaluation is not None
        for f in result.evaluation.findings:
            assert "draft_source" in f.flags, f"{f.rule_id} {f.subject}"
            flagged += 1
    assert flagged >= 15


def test_payment_standard_boundaries() -> None:
    listings = [
        {
            "id": f"L{p}",
            "product_id": f"P{p}",
            "generic_name": "x",
            "selected": False,
            "listing_price": f"1.{p}",
            "group_selected_price": "1.20",
            "self_pay_ratio": "25%",
        }
        for p in (19, 20, 21)
    ]
    ev = evaluate(PACKS["shandong-2021"], {"listings": listings}, as_of=date(2021, 3, 1))
    got = {
        f.subject.as_dict()["id"]: (f.actions, dict(f.values))
        for f in ev.by_rule("payment-standard")
    }
    assert got["L19"][0] == ("payment_standard",)
    assert got["L20"][0] == ("payment_standard",)  # 低于或等于: equal counts as at or below
    assert got["L21"][0] == ("self_pay_increase",)  # 高于
    assert str(got["L21"][1]["self_pay_ratio"]) == "7/20"  # 25% + 10 points


# ------------------------------------------------------------------ the examples
@pytest.mark.parametrize(
    ("pack_id", "folder", "as_of", "minimum"),
    [
        ("shandong-2023", "shandong-2023", date(2024, 6, 30), 30),
        ("weihai-2023", "weihai-2023", date(2023, 12, 31), 10),
        ("weihai-2023", "shandong-2023", date(2024, 6, 30), 30),
        ("shandong-2021", "shandong-2021", date(2022, 2, 28), 8),
    ],
)
def test_examples_evaluate(pack_id: str, folder: str, as_of: date, minimum: int) -> None:
    facts = load_facts(ROOT / "examples" / folder)
    ev = evaluate(PACKS[pack_id], facts, as_of=as_of)
    assert len(_notable(ev)) >= minimum
    assert ev.rejects == ()
    rows = {(kind, row.id) for kind in facts.counts() for row in facts.rows(kind)}
    assert rows <= ev.accounted_rows()


@pytest.mark.parametrize(
    ("pack_id", "folder", "as_of", "rule"),
    [
        ("shandong-2023", "shandong-2023", "2024-06-30", "enterprise-delivery-penalty-tiers"),
        ("weihai-2023", "weihai-2023", "2023-12-31", "complaint-reply"),
        ("shandong-2021", "shandong-2021", "2022-02-28", "payment-standard"),
    ],
)
def test_example_cli(
    pack_id: str, folder: str, as_of: str, rule: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The command each example's README gives prints findings."""
    from vbp_rules.cli import main

    status = main(
        ["evaluate", pack_id, str(ROOT / "examples" / folder), "--as-of", as_of, "--format", "json"]
    )
    out = capsys.readouterr().out
    assert status in (0, None)
    doc = json.loads(out)
    assert doc["pack"] == pack_id
    assert any(f["rule"] == rule for f in doc["findings"])
