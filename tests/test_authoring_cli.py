"""``vbp-rules new-pack`` and ``vbp-rules lint``: scaffolding a pack from a notice's
text, and the reviewer's questions about a pack (fictional Province X notice)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from vbp_rules.cli import main
from vbp_rules.packs import load_pack
from vbp_rules.packs.testing import run_pack_tests
from vbp_rules.testing._source import chinese_number, normalize_clause, split_clauses
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


def test_lint_of_a_fresh_scaffold_flags_unused_nothing_and_covers_every_clause(
    tmp_path: Path,
) -> None:
    main(["new-pack", "px", "--from", str(SOURCE), "--dest", str(tmp_path)])
    issues = lint_pack(load_pack(tmp_path / "px"), source=SOURCE)
    assert [i.code for i in issues if i.code == "clause-without-rule"] == []
    assert [i for i in issues if i.level == "error"] == []


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
    assert ("error", "rule-without-citation", "rules.delivery-tiers") in issues
    assert ("warning", "citation-not-in-source", "rules.made-up.cite") in issues


def test_lint_command_exit_status_and_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _copy(tmp_path, "wrong-bound-word")
    assert main(["lint", str(folder), "--source", str(SOURCE)]) == 1  # an error
    out = capsys.readouterr().out
    assert "bound-word-contradicts-source" in out
    main(["new-pack", "px", "--from", str(SOURCE), "--dest", str(tmp_path)])
    assert main(["lint", str(tmp_path / "px"), "--source", str(SOURCE)]) == 0
    capsys.readouterr()
    assert main(["lint", str(tmp_path / "px"), "--source", str(SOURCE), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(["lint", str(folder), "--source", str(tmp_path / "none.txt")]) == 2


def test_lint_without_the_source_says_so(tmp_path: Path) -> None:
    folder = _copy(tmp_path, "non-monotone-actions")
    issues = lint_pack(load_pack(folder))
    assert [i.code for i in issues if i.level == "info"] == ["source-not-found"]
