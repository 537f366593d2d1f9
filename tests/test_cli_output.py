"""How the CLI presents results: nothing erased, nothing silent (issue 12).

Text from packs and facts is printed as it is (never read as rich markup); ``evaluate``
prints a per-rule summary and one line per breach, with the accounting (files, counts,
rejects) on stderr; ``--fail-on`` sets the exit status; bad input is one ``error:`` line.
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import pytest

from vbp_rules.cli import main

ROOT = Path(__file__).resolve().parents[1]
JIANGXI = str(ROOT / "examples" / "jiangxi-2024")
SHANDONG = str(ROOT / "examples" / "shandong-2023")

Run = tuple[int, str, str]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> Run:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def evaluate(capsys: pytest.CaptureFixture[str], *extra: str, facts: str = JIANGXI) -> Run:
    return run(capsys, "evaluate", "jiangxi-2024", facts, "--as-of", "2025-06-30", *extra)


def _facts(folder: Path, document: dict[str, object]) -> str:
    folder.mkdir(exist_ok=True)
    (folder / "facts.json").write_text(json.dumps(document, ensure_ascii=False), "utf-8")
    return str(folder)


def _report(id_: str, institution: str, reported: object) -> dict[str, object]:
    # 79 reported against 100 bought last year: a 21% decrease, a report-change breach.
    return {
        "id": id_,
        "institution_id": institution,
        "generic_name": "阿托伐他汀",
        "reported_quantity": reported,
        "last_year_actual_quantity": 100,
    }


# ------------------------------------------------------------------ no markup


def test_flags_are_printed_on_finding_lines(capsys: pytest.CaptureFixture[str]) -> None:
    # shandong-2023 expired on 2026-04-09: what is judged after that is out_of_force.
    status, out, _ = run(
        capsys, "evaluate", "shandong-2023", SHANDONG, "--as-of", "2026-06-30", "--all"
    )
    assert status == 0
    assert "breach [out_of_force]  report-decrease  二（一）  " in out
    assert "flags on findings: out_of_force" in out


def test_the_install_hint_keeps_its_brackets(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "polars", None)  # as if the frame extra were missing
    status, _, err = run(capsys, "synth", "unused-folder")
    assert status == 2
    assert err == "error: this command needs the frame extra: pip install 'vbp-rules[frame]'\n"


@pytest.mark.parametrize(
    "text", ["[/bold]", "[/x]", "[link=https://example.com]click[/link]", "[bold]x"]
)
def test_fact_values_and_rejected_cells_print_as_given(
    text: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _facts(
        tmp_path / "facts",
        {"demand_reports": [_report("d1", text, 79), _report("d2", "h2", text)]},
    )
    status, out, err = evaluate(capsys, facts=folder)
    assert status == 0
    assert f"institution_id={text}" in out  # the breach of d1
    assert "rejected: " in err
    assert text in err  # d2's bad quantity, quoted in the reject
    assert "Traceback" not in out + err


def test_pack_errors_print_as_given(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = evaluate(capsys, "--set", "[/x]=1")
    assert status == 2
    assert out == ""
    assert err.startswith("error: ")
    assert "[/x]" in err


# ------------------------------------------------------------------ summary and lines


def test_default_output_is_a_summary_and_twenty_breaches(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, out, _ = evaluate(capsys)
    lines = out.splitlines()
    assert status == 0
    assert lines[0] == "jiangxi-2024 as of 2025-07-01T00:00:00+08:00 (engine: reference)"
    summary = {line.split()[0]: line.split()[1:] for line in lines[2:] if line[:1].islower()}
    # rule, clause, breach, determination, needs_review, compliant, skipped: by hand
    # from the example README (E-KY below 90% in 2024Q4 and 2025Q1, E-QL in 2024Q4).
    assert summary["enterprise-quarterly-timely-delivery"][:3] == ["一（三）", "3", "-"]
    assert summary["complaint-unresolvable"][:4] == ["一（四）", "-", "-", "1"]
    assert "breaches (20 of 49 shown; --limit N shows more, --all every finding):" in lines
    assert sum(line.startswith("breach  ") for line in lines) == 20


def test_limit_and_all(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = evaluate(capsys, "--limit", "3")
    assert sum(line.startswith("breach  ") for line in out.splitlines()) == 3
    _, out, _ = evaluate(capsys, "--limit", "100")
    assert sum(line.startswith("breach  ") for line in out.splitlines()) == 49
    assert "breaches (49 of 49 shown):" in out
    _, out, _ = evaluate(capsys, "--all")
    outcomes = [line.split("  ")[0] for line in out.splitlines()]
    # The README: 49 breaches, 31 determinations, 1 needs review, 367 compliant.
    assert outcomes.count("breach") == 49
    assert outcomes.count("determination") == 31
    assert outcomes.count("needs_review") == 2  # + the demand surge
    assert outcomes.count("compliant") == 367


def test_one_line_per_finding_whatever_the_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _facts(tmp_path / "facts", {"demand_reports": [_report("d1", "h\n1", 79)]})
    _, out, _ = evaluate(capsys, facts=folder)
    [line] = [line for line in out.splitlines() if line.startswith("breach  ")]
    assert "institution_id=h 1" in line


def test_whatif_csv_starts_with_its_header(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(
        capsys,
        *("whatif", "jiangxi-2024", JIANGXI, "--as-of", "2025-06-30", "--format", "csv"),
        *("--set", "timely_delivery_rate_floor=95%"),
    )
    assert status == 0
    assert out.startswith("rule,subject_kind,subject,period,change,")


# ------------------------------------------------------------------ accounting on stderr


def test_stderr_gives_files_and_counts_in_every_format(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for fmt in ("table", "json", "csv"):
        _, out, err = evaluate(capsys, "--format", fmt)
        assert f"read {JIANGXI}/orders.csv\n" in err
        assert f"skipped {JIANGXI}/README.md: unsupported file type '.md'" in err
        assert "findings: 449 (breach=49, determination=31, needs_review=2, compliant=367)" in err
        assert "rejects: 2; files: 11 read, 1 skipped" in err
        assert "read " not in out


def test_cut_rejects_are_counted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    reports = [_report(f"d{i}", "h1", "many") for i in range(25)]
    folder = _facts(tmp_path / "facts", {"demand_reports": reports})
    _, _, err = evaluate(capsys, facts=folder)
    assert err.count("rejected: ") == 20
    assert "... 5 more rejects not shown (--limit N shows more; --format json lists all)" in err
    _, _, err = evaluate(capsys, "--limit", "30", facts=folder)
    assert err.count("rejected: ") == 25
    assert "more rejects" not in err


def test_unread_files_are_listed_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "facts"
    _facts(folder, {"demand_reports": [_report("d1", "h1", 79)]})
    (folder / "orders.tsv").write_text("id\to1\n", "utf-8")
    (folder / "complaints.xlsx").write_bytes(b"PK\x03\x04")
    (folder / ".hidden.csv").write_text("id\n", "utf-8")
    (folder / "more").mkdir()
    status, _, err = evaluate(capsys, facts=str(folder))
    assert status == 0
    assert f"read {folder}/facts.json\n" in err
    assert f"skipped {folder}/orders.tsv: unsupported file type '.tsv'" in err
    assert f"skipped {folder}/complaints.xlsx: unsupported file type '.xlsx'" in err
    assert f"skipped {folder}/.hidden.csv: hidden" in err
    assert f"skipped {folder}/more: a folder" in err
    assert "files: 1 read, 4 skipped" in err


@pytest.mark.parametrize("content", [[], ["orders.tsv"]])
def test_an_empty_input_is_an_error(
    content: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in content:
        (tmp_path / name).write_text("id\n", "utf-8")
    status, out, err = evaluate(capsys, facts=str(tmp_path))
    assert status == 2
    assert out == ""
    assert f"error: no facts in {tmp_path}: 0 file(s) read, {len(content)} skipped" in err


@pytest.mark.parametrize(
    ("fail_on", "facts", "status"),
    [
        ((), "example", 0),
        (("breach",), "example", 1),
        (("reject",), "example", 1),
        (("breach",), "clean", 0),
        (("reject",), "clean", 0),
        (("breach", "reject"), "clean", 0),
        (("reject",), "breach-only", 0),
        (("breach",), "breach-only", 1),
    ],
)
def test_fail_on_sets_the_exit_status(
    fail_on: tuple[str, ...],
    facts: str,
    status: int,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    documents = {
        "clean": {"demand_reports": [_report("d1", "h1", 100)]},
        "breach-only": {"demand_reports": [_report("d1", "h1", 79)]},
    }
    folder = JIANGXI if facts == "example" else _facts(tmp_path / "f", documents[facts])
    options = [arg for kind in fail_on for arg in ("--fail-on", kind)]
    got, _, _ = evaluate(capsys, *options, facts=folder)
    assert got == status


def test_whatif_accounts_for_its_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    whatif = (
        "whatif",
        "jiangxi-2024",
        "--as-of",
        "2025-06-30",
        "--set",
        "report_decrease_limit=30%",
    )
    status, _, err = run(capsys, *whatif[:2], JIANGXI, *whatif[2:])
    assert status == 0
    assert f"read {JIANGXI}/orders.csv\n" in err
    assert f"skipped {JIANGXI}/README.md: unsupported file type '.md'" in err
    assert "rejects: 2\n" in err
    # The example's naive timestamps are accepted with --assume-tz, as the hint says.
    assert "pass --assume-tz Asia/Shanghai" in err
    _, _, err = run(capsys, *whatif[:2], JIANGXI, *whatif[2:], "--assume-tz", "Asia/Shanghai")
    assert "rejects: 1\n" in err
    status, out, err = run(capsys, *whatif[:2], str(tmp_path), *whatif[2:])
    assert (status, out) == (2, "")
    assert f"error: no facts in {tmp_path}: 0 file(s) read, 0 skipped\n" in err


# ------------------------------------------------------------------ errors and hints


def test_hints_name_options_not_python_parameters(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, _, err = evaluate(capsys)
    assert "add +08:00 or pass --assume-tz Asia/Shanghai" in err
    assert "assume_tz" not in err
    status, _, err = evaluate(capsys, "--assume-tz", "Mars/Base")
    assert (status, err) == (
        2,
        "error: unknown time zone 'Mars/Base' for --assume-tz (e.g. 'Asia/Shanghai')\n",
    )
    (tmp_path / "stuff.csv").write_text("id\nx\n", "utf-8")
    status, _, err = evaluate(capsys, facts=str(tmp_path / "stuff.csv"))
    assert status == 2
    assert err.startswith("error: ")
    assert "kind=" not in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["validate", "missing.yaml"], "error: no such pack file or folder: missing.yaml\n"),
        (
            ["synth", "out", "--orders", "0"],
            "error: Invalid value for '--orders': 0 is less than 1 "
            "(see 'vbp-rules synth --help')\n",
        ),
        (
            ["evaluate", "jiangxi-2024", JIANGXI, "--as-of", "2025-06-30", "--limit", "many"],
            "error: Invalid value for '--limit': 'many' is not a whole number "
            "(see 'vbp-rules evaluate --help')\n",
        ),
        (
            ["calendar", "add", "2024-09-27", "two"],
            "error: Invalid value for 'n': 'two' is not a whole number "
            "(see 'vbp-rules calendar add --help')\n",
        ),
        (
            ["evaluate", "jiangxi-2024", JIANGXI, "--as-of", "2025-06-30", "--format", "xml"],
            "error: Invalid value for '--format': 'xml' is not one of 'table', 'json', 'csv'. "
            "(see 'vbp-rules evaluate --help')\n",
        ),
        (
            ["evaluate", "jiangxi-2024"],
            "error: Missing argument 'facts'. (see 'vbp-rules evaluate --help')\n",
        ),
        (["nocommand"], "error: No such command 'nocommand'. (see 'vbp-rules --help')\n"),
    ],
)
def test_bad_input_is_one_error_line_and_status_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(capsys, *argv)
    assert (status, out, err) == (2, "", message)


def test_an_invalid_pack_fails_validation_with_status_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "pack.yaml"
    bad.write_text("id: x\n", "utf-8")
    status, _, err = run(capsys, "validate", str(bad))
    assert status == 1
    assert err.startswith("error: ")


# ------------------------------------------------------------------ the documented session


def test_the_cli_reference_example_prints_what_it_shows(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    session = text.split("```console\n", 1)[1].split("```", 1)[0]
    command, want_out = session.split("\n", 1)
    want_err = text.split("and on stderr, with exit status 1", 1)[1]
    want_err = want_err.split("```text\n", 1)[1].split("```", 1)[0]
    argv = shlex.split(command.removeprefix("$ "))
    assert argv[0] == "vbp-rules"
    monkeypatch.chdir(ROOT)
    assert run(capsys, *argv[1:]) == (1, want_out, want_err)
