"""The pack-test runner (``vbp_rules.packs.testing``): a case that says too little fails.

Each test writes a small case by hand against the jiangxi-2024 pack's 48-hour order rule
(三（十六）订单超过48小时未响应): an order sent Mon 2024-07-01 10:00 and answered at
10:00:01 on Wed 07-03 is late (超过 excludes 48 h itself); one answered at 09:00 on 07-03
is on time. Cases are checked strictly: unknown keys are refused where they are written,
every finding of an ``exhaustive`` rule must be listed (compliant ones too), an
expectation names its subject, and a rejected input row fails the case unless expected.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

from vbp_rules.cli import main
from vbp_rules.errors import PackValidationError
from vbp_rules.packs import load_pack
from vbp_rules.packs.testing import (
    PackTestCase,
    collect_pack_tests,
    pack_test_json_schema,
    run_pack_test,
)

ROOT = Path(__file__).resolve().parents[1]
PACK = load_pack("jiangxi-2024")
RULE = "order-response-48h"

LATE = {
    "id": "O-late",
    "institution_id": "H1",
    "enterprise_id": "E1",
    "product_id": "P1",
    "sent_at": "2024-07-01T10:00:00+08:00",
    "responded_at": "2024-07-03T10:00:01+08:00",
    "ordered_quantity": 10,
}
ON_TIME = LATE | {"id": "O-ok", "responded_at": "2024-07-03T09:00:00+08:00"}


def _case(
    expect: dict[str, Any], *, facts: dict[str, Any] | None = None, as_of: str = "2024-12-31"
) -> PackTestCase:
    doc = {
        "as_of": as_of,
        "facts": facts if facts is not None else {"orders": [LATE, ON_TIME]},
        "expect": expect,
    }
    return PackTestCase(pack_id=PACK.id, file=Path("inline.yaml"), index=0, name="inline", doc=doc)


def _problems(expect: dict[str, Any], **kw: Any) -> tuple[str, ...]:
    return run_pack_test(PACK, _case(expect, **kw)).problems


BOTH = [
    {"rule": RULE, "subject": {"id": "O-late"}, "outcome": "breach"},
    {"rule": RULE, "subject": {"id": "O-ok"}, "outcome": "compliant"},
]


def test_a_complete_case_passes() -> None:
    assert _problems({"findings": BOTH, "exhaustive": [RULE]}) == ()


def test_exhaustive_covers_compliant_findings() -> None:
    problems = _problems({"findings": BOTH[:1], "exhaustive": [RULE]})
    assert len(problems) == 1
    assert "unexpected compliant" in problems[0]
    assert "O-ok" in problems[0]


def test_an_unexpected_breach_fails_even_of_a_rule_not_listed_as_exhaustive() -> None:
    [problem] = _problems({"findings": BOTH[1:]})
    assert problem.startswith(f"{RULE} [")
    assert "unexpected breach for id=O-late" in problem
    assert problem.endswith("list it under findings")
    # compliant findings of a rule not listed as exhaustive need not be listed
    assert _problems({"findings": BOTH[:1]}) == ()


def test_a_wrong_outcome_fails() -> None:
    wrong = [BOTH[0] | {"outcome": "compliant"}, BOTH[1]]
    problems = _problems({"findings": wrong, "exhaustive": [RULE]})
    assert any("outcome: expected 'compliant', got 'breach'" in p for p in problems)


def test_an_expectation_without_subject_is_refused() -> None:
    problems = _problems({"findings": [{"rule": RULE, "outcome": "breach"}]})
    assert len(problems) == 1
    assert "names its subject" in problems[0]
    assert "any_subject: true" in problems[0]


def test_any_subject_must_be_said() -> None:
    any_late = {"rule": RULE, "any_subject": True, "outcome": "breach"}
    assert _problems({"findings": [any_late]}) == ()
    # any_subject still has to find a finding with the written fields
    any_review = any_late | {"outcome": "needs_review"}
    assert len(_problems({"findings": [any_review]})) == 1


def test_a_skip_without_subject_matches_only_a_rule_level_skip() -> None:
    # unanswered at exactly 48 h: not yet late, so pending (a skip about that order); the
    # month's response rate is 0/1, below 95%
    kw: dict[str, Any] = {
        "facts": {"orders": [LATE | {"id": "O-never", "responded_at": None}]},
        "as_of": "2024-07-03T10:00:00+08:00",
    }
    rate = {
        "rule": "product-order-response-rate",
        "subject": {"enterprise_id": "E1", "product_id": "P1"},
        "period": "2024-07",
        "outcome": "breach",
    }

    def problems(skip: dict[str, Any]) -> tuple[str, ...]:
        return _problems({"findings": [rate], "skips": [skip]}, **kw)

    pending = {"rule": RULE, "reason": "pending"}
    assert problems(pending | {"subject": {"id": "O-never"}}) == ()
    assert problems(pending | {"any_subject": True}) == ()
    [problem] = problems(pending)
    assert "for the rule as a whole" in problem
    assert len(problems(pending | {"subject": {"id": "O-other"}})) == 1


def test_an_unexpected_reject_fails_the_case() -> None:
    # a typo'd field (responded_on for responded_at) rejects the row
    typo = ON_TIME | {"id": "O-typo", "responded_on": "2024-07-03T09:00:00+08:00"}
    facts = {"orders": [LATE, ON_TIME, typo]}
    problems = _problems({"findings": BOTH, "exhaustive": [RULE]}, facts=facts)
    assert len(problems) == 1
    assert problems[0].startswith("rejects: expected 0, got 1")
    listed = {
        "findings": BOTH,
        "exhaustive": [RULE],
        "rejects": [{"kind": "orders", "id": "O-typo"}],
    }
    assert _problems(listed, facts=facts) == ()
    wrong_id = listed | {"rejects": [{"kind": "orders", "id": "O-late"}]}
    assert len(_problems(wrong_id, facts=facts)) == 2  # the missing one and the unexpected one


def test_a_mistyped_outcome_is_refused_at_run_time() -> None:
    problems = _problems({"findings": [BOTH[0] | {"outcome": "breech"}]})
    assert len(problems) == 1
    assert "expect.findings.0.outcome" in problems[0]


# --- collection: the YAML files themselves ------------------------------------------------


@pytest.fixture
def pack_dir(tmp_path: Path) -> Path:
    """A copy of the jiangxi-2024 pack with no tests: each test writes its own file."""
    folder = tmp_path / "jiangxi-2024"
    folder.mkdir()
    shutil.copy(ROOT / "policy_packs" / "jiangxi-2024" / "pack.yaml", folder / "pack.yaml")
    (folder / "tests").mkdir()
    return folder


GOOD_CASE = """\
as_of: 2024-12-31
facts:
  orders:
    - {id: O-late, institution_id: H1, enterprise_id: E1, product_id: P1,
       sent_at: "2024-07-01T10:00:00+08:00", responded_at: "2024-07-03T10:00:01+08:00",
       ordered_quantity: 10}
cases:
  - name: late
    expect:
      findings:
        - {rule: order-response-48h, subject: {id: O-late}, outcome: breach}
      exhaustive: [order-response-48h]
"""


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ("      findings:", "      finding:", 10, "unknown key 'finding'; did you mean"),
        ("outcome: breach", "outcom: breach", 11, "unknown key 'outcom'; did you mean 'outcome'?"),
        ("as_of: 2024", "as_off: 2024", 1, "unknown key 'as_off'; did you mean 'as_of'?"),
        ("  - name: late", "  - name: late\n    as_off: 2024-12-31", 9, "did you mean 'as_of'?"),
        (
            "rule: order-response-48h,",
            "rule: order-response-84h,",
            11,
            "did you mean 'order-response-48h'?",
        ),
        (
            "exhaustive: [order-response-48h]",
            "exhaustive: [order-reponse-48h]",
            12,
            "no rule 'order-reponse-48h'",
        ),
        ("subject: {id: O-late}, ", "", 11, "names its subject"),
    ],
)
def test_a_bad_case_is_refused_with_file_line_and_hint(
    pack_dir: Path, old: str, new: str, line: int, message: str
) -> None:
    assert old in GOOD_CASE
    file = pack_dir / "tests" / "bad.yaml"
    file.write_text(GOOD_CASE.replace(old, new), encoding="utf-8")
    with pytest.raises(PackValidationError) as info:
        collect_pack_tests(load_pack(pack_dir))
    text = str(info.value)
    assert message in text
    assert f"bad.yaml:{line}:" in text
    assert text.count(message) == 1  # reported once, not again in every case


def test_the_good_case_collects_and_passes(pack_dir: Path) -> None:
    (pack_dir / "tests" / "good.yaml").write_text(GOOD_CASE, encoding="utf-8")
    pack = load_pack(pack_dir)
    [case] = collect_pack_tests(pack)
    assert run_pack_test(pack, case).problems == ()


def test_cli_test_refuses_a_bad_file_instead_of_passing(
    pack_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (pack_dir / "tests" / "bad.yaml").write_text(
        GOOD_CASE.replace("      findings:", "      finding:"), encoding="utf-8"
    )
    status = main(["test", str(pack_dir)])
    out, err = capsys.readouterr()
    assert status != 0
    assert "passed" not in out
    assert "did you mean 'findings'" in out + err
    assert "Traceback" not in out + err


def test_the_committed_schema_matches_and_refuses_unknown_keys() -> None:
    committed = json.loads((ROOT / "schemas" / "pack-test.schema.json").read_text("utf-8"))
    assert committed == pack_test_json_schema()
    finding = committed["$defs"]["ExpectedFinding"]
    assert finding["additionalProperties"] is False


# --- vbp-rules test: case filter and reports ----------------------------------------------


def test_cli_k_filter_and_json_report(capsys: pytest.CaptureFixture[str]) -> None:
    file = ROOT / "policy_packs" / "jiangxi-2024" / "tests" / "orders-48h.yaml"
    names = [
        line.split("name:", 1)[1].strip()
        for line in file.read_text("utf-8").splitlines()
        if line.lstrip().startswith("- name:")
    ]
    status = main(["test", "jiangxi-2024", "-k", "orders-48h::", "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert status == 0
    assert [c["id"] for c in doc["cases"]] == [f"jiangxi-2024/orders-48h::{n}" for n in names]
    assert (doc["passed"], doc["failed"]) == (len(names), 0)


def test_cli_k_matching_nothing_fails(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["test", "jiangxi-2024", "-k", "no-such-case"])
    _, err = capsys.readouterr()
    assert status != 0
    assert "no case of jiangxi-2024 matches -k no-such-case" in err


def test_cli_junit_and_json_show_a_failing_case(
    pack_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (pack_dir / "tests" / "wrong.yaml").write_text(
        GOOD_CASE.replace("outcome: breach", "outcome: compliant"), encoding="utf-8"
    )
    (pack_dir / "tests" / "good.yaml").write_text(GOOD_CASE, encoding="utf-8")
    report = tmp_path / "junit.xml"
    status = main(["test", str(pack_dir), "--junit-xml", str(report), "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert status == 1
    assert [(c["id"], c["passed"]) for c in doc["cases"]] == [
        ("jiangxi-2024/good::late", True),
        ("jiangxi-2024/wrong::late", False),
    ]
    [problem] = doc["cases"][1]["problems"]
    assert "outcome: expected 'compliant', got 'breach'" in problem
    suite = ElementTree.fromstring(report.read_text("utf-8"))  # noqa: S314 - our own file
    assert (suite.get("name"), suite.get("tests"), suite.get("failures")) == (
        "jiangxi-2024",
        "2",
        "1",
    )
    cases = suite.findall("testcase")
    assert [(c.get("classname"), c.get("name")) for c in cases] == [
        ("jiangxi-2024.good", "late"),
        ("jiangxi-2024.wrong", "late"),
    ]
    assert cases[0].find("failure") is None
    failure = cases[1].find("failure")
    assert failure is not None
    assert "expected 'compliant', got 'breach'" in (failure.get("message") or "")
