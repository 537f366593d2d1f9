"""``vbp-rules new-pack`` and ``vbp-rules lint``: scaffolding a pack from a notice's
text, and the reviewer's questions about a pack (fictional Province X notice)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from vbp_rules import PackValidationError
from vbp_rules.cli import main
from vbp_rules.packs import load_pack
from vbp_rules.packs.testing import run_pack_tests
from vbp_rules.testing._source import (
    SourceOutsidePackError,
    chinese_number,
    find_quote,
    find_source,
    normalize_clause,
    split_clauses,
)
from vbp_rules.testing.authoring import lint_pack

DATA = Path(__file__).parent / "data" / "bad_packs"
SOURCE = DATA / "province-x.txt"


@pytest.mark.parametrize(
    ("text", "number"), [("一", 1), ("十", 10), ("十二", 12), ("二十", 20), ("二十一", 21)]
)
def test_chinese_clause_numbers(text: str, number: int) -> None:
    assert chinese_number(text) == number


def test_clauses_are_found_with_either_bracket() -> None:
    clauses = split_clauses(SOURCE.read_text(encoding="utf-8"))
    assert [c.label for c in clauses] == ["一", "二", "二（一）", "二（二）", "二（三）"]
    assert clauses[2].first_sentence == "强化供应监测。"
    assert normalize_clause("二 (三)") == "二（三）"


def test_inline_sub_clause_after_a_heading() -> None:
    clauses = split_clauses(
        "一、夯实采购基础(一)推动科学报量。医疗机构要报量。(二)签订协议。按时签订。\n"
    )
    assert [c.label for c in clauses] == ["一", "一（一）", "一（二）"]


def test_new_pack_scaffolds_a_loadable_pack_whose_example_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["new-pack", "province-x-2024", "--from", str(SOURCE), "--dest", str(tmp_path)])
    assert code == 0
    folder = tmp_path / "province-x-2024"
    assert "created" in capsys.readouterr().out
    pack = load_pack(folder)
    assert pack.model.document_number == "某医保发〔2024〕1号"
    assert str(pack.model.issued_on) == "2024-03-01"
    assert [r.id for r in pack.rules] == ["clause-1", "clause-2-1", "clause-2-2", "clause-2-3"]
    assert {r.kind for r in pack.rules} == {"needs_review"}
    assert pack.rule("clause-2-1").cite.text == "强化供应监测。"
    results = run_pack_tests(pack)
    assert [r.passed for r in results] == [True]
    readme = (folder / "README.md").read_text(encoding="utf-8")
    assert "| 二（二） | 畅通投诉渠道。 | `clause-2-2` | to encode |" in readme


def test_new_pack_refuses_an_existing_folder_and_a_bad_id(tmp_path: Path) -> None:
    assert main(["new-pack", "px", "--from", str(SOURCE), "--dest", str(tmp_path)]) == 0
    assert main(["new-pack", "px", "--from", str(SOURCE), "--dest", str(tmp_path)]) == 2
    assert main(["new-pack", "Bad_ID!", "--from", str(SOURCE), "--dest", str(tmp_path)]) == 2
    assert (
        main(["new-pack", "py", "--from", str(tmp_path / "none.txt"), "--dest", str(tmp_path)]) == 2
    )


def test_lint_of_a_fresh_scaffold_fails_on_its_todos_and_heading_citations(
    tmp_path: Path,
) -> None:
    main(["new-pack", "px", "--from", str(SOURCE), "--dest", str(tmp_path)])
    folder = tmp_path / "px"
    assert (folder / "source.txt").read_text(encoding="utf-8") == SOURCE.read_text(encoding="utf-8")
    issues = lint_pack(load_pack(folder))  # the source.txt of the pack folder
    assert [i.code for i in issues if i.code == "clause-without-rule"] == []
    errors = {(i.code, i.where) for i in issues if i.level == "error"}
    assert ("todo-left", "title.en") in errors
    assert ("todo-left", "jurisdiction.zh") in errors
    assert ("todo-left", "rules[0].title.en") in errors
    assert {code for code, _ in errors} == {"todo-left"}
    warnings = {(i.code, i.where) for i in issues if i.level == "warning"}
    # 二（一） starts with its heading 强化供应监测。, which states no rule
    assert ("citation-is-heading", "rules.clause-2-1.cite.text") in warnings


def _copy(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / name
    shutil.copytree(DATA / name, folder)
    return folder


def test_lint_flags_uncited_clauses_unused_parameters_and_bound_words(tmp_path: Path) -> None:
    folder = _copy(tmp_path, "wrong-bound-word")
    text = (folder / "pack.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "rules:",
        "  unused_limit:\n    type: count\n    value: 3\n"
        "    cite: {clause: 二（二）, text: 企业应在2个工作日内回复医疗机构的投诉。}\n"
        "  vague_many:\n    type: count\n    unspecified: true\n"
        "    cite: {clause: 二（二）, text: 企业应在2个工作日内回复医疗机构的投诉。}\n"
        "rules:",
    )
    (folder / "pack.yaml").write_text(text, encoding="utf-8")
    issues = {(i.code, i.where) for i in lint_pack(load_pack(folder), source=SOURCE)}
    assert ("bound-word-contradicts-source", "rules.delivery-floor") in issues
    assert ("bound-word-not-cited", "rules.delivery-floor.breach_if") in issues
    assert ("unused-parameter", "parameters.unused_limit") in issues
    assert ("unused-parameter", "parameters.vague_many") in issues
    assert ("unspecified-parameter", "parameters.vague_many") in issues
    assert ("clause-without-rule", "一") in issues
    assert ("clause-without-rule", "二（三）") in issues
    assert ("clause-without-rule", "二（一）") not in issues
    assert ("clause-without-rule", "二（二）") not in issues  # cited by a parameter


def test_lint_flags_a_rule_with_no_citation_text_and_a_citation_not_in_the_source(
    tmp_path: Path,
) -> None:
    folder = _copy(tmp_path, "non-monotone-actions")
    text = (folder / "pack.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "    cite: {clause: 二（一）, text: 配送率低于90%的，予以约谈；配送率低于80%的，暂停挂网。}"
        "\n    over:",
        "    cite: {clause: 二（一）, text: TODO}\n    over:",
    )
    text += (
        "  - id: made-up\n    kind: needs_review\n    title: {zh: 杜撰, en: made up}\n"
        "    cite: {clause: 二（三）, text: 这句话不在原文里。}\n"
    )
    (folder / "pack.yaml").write_text(text, encoding="utf-8")
    issues = {(i.level, i.code, i.where) for i in lint_pack(load_pack(folder), source=SOURCE)}
    assert ("error", "rule-without-citation", "rules.delivery-tiers.cite") in issues
    assert ("error", "citation-not-in-source", "rules.made-up.cite.text") in issues


def test_lint_command_exit_status_and_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _copy(tmp_path, "wrong-bound-word")
    assert main(["lint", str(folder), "--source", str(SOURCE)]) == 1  # an error
    out = capsys.readouterr().out
    assert "bound-word-contradicts-source" in out
    main(["new-pack", "px", "--from", str(SOURCE), "--dest", str(tmp_path)])
    assert main(["lint", str(tmp_path / "px"), "--source", str(SOURCE)]) == 1  # TODOs
    capsys.readouterr()
    assert main(["lint", str(tmp_path / "px"), "--source", str(SOURCE), "--json"]) == 1
    assert {i["code"] for i in json.loads(capsys.readouterr().out)} == {
        "todo-left",
        "citation-is-heading",
    }
    assert main(["lint", str(folder), "--source", str(tmp_path / "none.txt")]) == 2


def test_lint_without_the_source_says_so(tmp_path: Path) -> None:
    folder = _copy(tmp_path, "non-monotone-actions")
    issues = lint_pack(load_pack(folder))
    assert ("warning", "source-not-found") in {(i.level, i.code) for i in issues}


# ------------------------------------------------------------------ the shipped packs

SHIPPED = [
    "jiangxi-2024",
    "shandong-2021",
    "shandong-2023",
    "shanxi-2021",
    "weihai-2023",
    "zhejiang-2025",
]


@pytest.mark.parametrize("pack_id", SHIPPED)
def test_every_shipped_pack_ships_its_source_and_lints_without_error(
    pack_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    pack = load_pack(pack_id)
    assert pack.path is not None
    assert (pack.path.parent / "source.txt").is_file()
    issues = lint_pack(pack)
    assert [str(i) for i in issues if i.level == "error"] == []
    assert "source-not-found" not in {i.code for i in issues}
    assert main(["lint", pack_id, "--strict"]) == 0  # every exception allowed with its reason
    capsys.readouterr()


@pytest.mark.parametrize("pack_id", SHIPPED)
def test_every_citation_of_a_shipped_pack_is_the_sources_words(pack_id: str) -> None:
    pack = load_pack(pack_id)
    assert pack.path is not None
    text = (pack.path.parent / "source.txt").read_text(encoding="utf-8")
    cites = [r.cite for r in pack.rules] + [p.cite for p in pack.model.parameters.values()]
    missing = [c.text for c in cites if not c.document and not find_quote(c.text, text)]
    assert missing == []


@pytest.mark.parametrize(
    ("quote", "found"),
    [
        ("配送率低于90%的，予以约谈", True),
        ("配送率低于90%的,予以约谈", True),  # full-width and ASCII commas are the same
        ("配送率低于90%的……暂停挂网。", True),
        ("暂停挂网……配送率低于90%的", False),  # the parts keep their order
        ("配送率低于90%的，应予约谈", False),  # a paraphrase
        ("配送率低于90%的，予以约谈。", False),  # the source goes on after 约谈 (；)
    ],
)
def test_quotes_are_verbatim_up_to_cuts_and_punctuation_width(quote: str, found: bool) -> None:
    assert (
        find_quote(
            quote, "（一）强化供应监测。配送率低于90%的，予以约谈；\n配送率低于80%的，暂停挂网。"
        )
        is found
    )


@pytest.mark.parametrize("file", ["../province-x.txt", "/etc/hostname", "sub/../../x.txt"])
def test_source_file_may_not_leave_the_pack_folder(tmp_path: Path, file: str) -> None:
    folder = _copy(tmp_path, "non-monotone-actions")
    text = (folder / "pack.yaml").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^source:.*$", f"source: {{file: {json.dumps(file)}}}", text)
    (folder / "pack.yaml").write_text(text, encoding="utf-8")
    issues = lint_pack(load_pack(folder))
    assert ("error", "source-outside-pack") in {(i.level, i.code) for i in issues}
    with pytest.raises(SourceOutsidePackError, match="leaves the pack folder"):
        find_source(folder, file)


def test_lint_allow_accepts_issues_under_a_location_with_a_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _copy(tmp_path, "wrong-bound-word")
    assert main(["lint", str(folder), "--source", str(SOURCE)]) == 1
    capsys.readouterr()
    reason = "rules.delivery-floor=the bureau reads 以下 as below"
    assert main(["lint", str(folder), "--source", str(SOURCE), "--allow", reason]) == 0
    out = capsys.readouterr().out
    assert "[allowed: the bureau reads 以下 as below]" in out
    assert main(["lint", str(folder), "--allow", "no-reason"]) == 2


def test_a_pack_allows_lint_issues_with_reasons_and_stale_allowances_are_reported(
    tmp_path: Path,
) -> None:
    folder = _copy(tmp_path, "wrong-bound-word")
    text = (folder / "pack.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "rules:",
        "lint:\n  allow:\n"
        '    rules.delivery-floor: "the bureau reads 以下 as below"\n'
        '    二（三）: "publicity, no check"\n'
        '    rules.gone: "a rule that was removed"\n'
        "rules:",
        1,
    )
    (folder / "pack.yaml").write_text(text, encoding="utf-8")
    issues = {(i.level, i.code, i.where) for i in lint_pack(load_pack(folder), source=SOURCE)}
    assert ("info", "bound-word-contradicts-source", "rules.delivery-floor") in issues
    assert ("info", "clause-without-rule", "二（三）") in issues
    assert ("warning", "clause-without-rule", "一") in issues  # not allowed
    assert ("warning", "allow-unused", "lint.allow.rules.gone") in issues
    assert not [i for i in issues if i[0] == "error"]


def test_an_allowance_needs_a_reason(tmp_path: Path) -> None:
    folder = _copy(tmp_path, "wrong-bound-word")
    text = (folder / "pack.yaml").read_text(encoding="utf-8")
    text = text.replace("rules:", 'lint: {allow: {rules.delivery-floor: " "}}\nrules:', 1)
    (folder / "pack.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(PackValidationError, match="needs a reason"):
        load_pack(folder)
