"""The README's quick start and CI stay in step."""

from __future__ import annotations

import doctest
import re
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    quick = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", quick)


def test_quick_start_has_exactly_two_one_line_commands() -> None:
    commands = _commands()
    assert len(commands) == 2
    assert all("\n" not in c for c in commands)


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    match = re.search(r"^TEST_COMMAND='(.+)'$", ci, re.MULTILINE)
    assert match is not None
    assert match.group(1) == _commands()[1]


def test_the_python_example_prints_what_it_shows(monkeypatch: pytest.MonkeyPatch) -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## In Python", 1)[1].split("\n## ", 1)[0]
    [block] = re.findall(r"```pycon\n(.+?)```", section, re.DOTALL)
    monkeypatch.chdir(ROOT)
    test = doctest.DocTestParser().get_doctest(block, {}, "README.md", "README.md", 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    examples = block.count("\n>>> ") + block.startswith(">>> ")
    assert runner.summarize(verbose=False) == doctest.TestResults(failed=0, attempted=examples)


def test_the_jiangxi_example_readme_counts_are_true() -> None:
    from vbp_rules import evaluate, load_facts, load_pack

    text = " ".join((ROOT / "examples" / "jiangxi-2024" / "README.md").read_text("utf-8").split())
    ev = evaluate(
        load_pack("jiangxi-2024"),
        load_facts(ROOT / "examples" / "jiangxi-2024"),
        as_of=date(2025, 6, 30),
    )
    summary = ev.summary()
    stated = re.search(
        r"prints (\d+) findings that are not compliant: (\d+) breaches, (\d+) determinations "
        r"and (\d+) needs-review\. It also reports (\d+) rejected rows\. The counts on stderr "
        r"also give (\d+) compliant findings",
        text,
    )
    assert stated is not None
    assert tuple(map(int, stated.groups())) == (
        len(ev.notable()),
        summary["breach"],
        summary["determination"],
        summary["needs_review"],
        summary["rejected"],
        summary["compliant"],
    )
    skips = re.search(
        r"The (\d+) institutions and (\d+) enterprises, .*? are `reference_data` skips; "
        r"the (\d+) listings and (\d+) exemption events? .*? are `no_applicable_rule` skips",
        text,
    )
    assert skips is not None
    by_kind = Counter((s.reason, s.rows[0][0]) for s in ev.skips if s.rule_id is None)
    assert tuple(map(int, skips.groups())) == (
        by_kind["reference_data", "institutions"],
        by_kind["reference_data", "enterprises"],
        by_kind["no_applicable_rule", "listings"],
        by_kind["no_applicable_rule", "exemption_events"],
    )
    assert sum(by_kind.values()) == sum(map(int, skips.groups()))  # no other such skips


def test_the_shandong_example_readme_counts_are_true() -> None:
    from vbp_rules import evaluate, load_facts, load_pack

    text = " ".join((ROOT / "examples" / "shandong-2023" / "README.md").read_text("utf-8").split())
    stated = re.search(
        r"(\d+) breaches and (\d+) needs-review findings \((\d+) compliant findings with "
        r"`--all`\); (\d+) subjects are \*not configured\*",
        text,
    )
    assert stated is not None
    ev = evaluate(
        load_pack("shandong-2023"),
        load_facts(ROOT / "examples" / "shandong-2023"),
        as_of=date(2024, 6, 30),
    )
    summary = ev.summary()
    assert tuple(map(int, stated.groups())) == (
        summary["breach"],
        summary["needs_review"],
        summary["compliant"],
        summary["skip:not_configured"],
    )
