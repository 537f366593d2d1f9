"""The pack, evaluation and analysis commands of the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vbp_rules.cli import main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = str(ROOT / "examples" / "jiangxi-2024")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_packs_lists_six_packs_with_status(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "packs", "--json", "--on", "2026-11-28")
    rows = {r["id"]: r["status"] for r in json.loads(out)}
    assert status == 0
    assert rows == {
        "jiangxi-2024": "in_force",
        "shandong-2021": "draft",
        "shandong-2023": "expired",
        "shanxi-2021": "in_force",
        "weihai-2023": "expired",
        "zhejiang-2025": "in_force",
    }


def test_show_lists_unspecified_parameters_and_interpretations(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, out, _ = run(capsys, "show", "jiangxi-2024")
    assert status == 0
    assert "unspecified in source" in out
    assert "publication_window_counting" in out


@pytest.mark.parametrize("engine", ["reference", "frame", "stream"])
def test_every_engine_prints_the_same_report(
    engine: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["evaluate", "jiangxi-2024", EXAMPLE, "--as-of", "2025-06-30", "--format", "json"]
    _, reference, _ = run(capsys, *args, "--engine", "reference")
    status, out, _ = run(capsys, *args, "--engine", engine)
    assert status == 0
    got, want = json.loads(out), json.loads(reference)
    for doc in (got, want):
        doc.pop("engine")
    assert got == want


def test_evaluate_csv_and_table(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(
        capsys, "evaluate", "jiangxi-2024", EXAMPLE, "--as-of", "2025-06-30", "--format", "csv"
    )
    assert status == 0
    assert out.splitlines()[0].startswith("pack_id,rule_id,rule_kind,outcome")
    status, out, _ = run(capsys, "evaluate", "jiangxi-2024", EXAMPLE, "--as-of", "2025-06-30")
    assert status == 0
    assert "engine: reference" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["evaluate", "jiangxi-2024", EXAMPLE, "--as-of", "2025-13-01"], "invalid date"),
        (["evaluate", "jiangxi-2024", EXAMPLE, "--as-of", "2025-06-30T10:00"], "no time zone"),
        (["evaluate", "jiangxi-2042", EXAMPLE, "--as-of", "2025-06-30"], "did you mean"),
        (["evaluate", "jiangxi-2024", "nowhere", "--as-of", "2025-06-30"], "no such facts"),
        (
            ["evaluate", "jiangxi-2024", EXAMPLE, "--as-of", "2025-06-30", "--set", "nope=1"],
            "unknown parameter",
        ),
        (["whatif", "jiangxi-2024", EXAMPLE, "--as-of", "2025-06-30"], "give --set"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(capsys, *argv)
    assert status == 2
    assert message in err
    assert "Traceback" not in out + err


def test_whatif_diff_and_sweep(capsys: pytest.CaptureFixture[str]) -> None:
    base = ["whatif", "jiangxi-2024", EXAMPLE, "--as-of", "2025-06-30", "--format", "json"]
    status, out, _ = run(capsys, *base, "--set", "timely_delivery_rate_floor=95%")
    assert status == 0
    changes = json.loads(out)
    assert changes
    assert {c["change"] for c in changes} <= {"enters", "leaves", "tier", "outcome"}
    status, out, _ = run(
        capsys,
        *base,
        "--sweep",
        "timely_delivery_rate_floor",
        "--values",
        "85%,90%,95%",
        "--rule",
        "product-timely-delivery-rate",
    )
    assert status == 0
    rows = json.loads(out)
    breaches = {r["value"]: r["count"] for r in rows if r["outcome"] == "breach"}
    assert breaches["85%"] <= breaches["90%"] <= breaches["95%"]


def test_synth_writes_parquet(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "synth", str(tmp_path), "--orders", "500", "--seed", "3")
    assert status == 0
    assert (tmp_path / "orders.parquet").is_file()
    status, out, _ = run(
        capsys,
        "evaluate",
        "jiangxi-2024",
        str(tmp_path),
        "--as-of",
        "2025-06-30",
        "--format",
        "json",
    )
    assert status == 0
    assert json.loads(out)["summary"]["breach"] > 0


def test_evaluate_rules_restricts_the_rules(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(
        capsys,
        "evaluate",
        "jiangxi-2024",
        EXAMPLE,
        "--as-of",
        "2025-06-30",
        "--format",
        "json",
        "--rules",
        "report-change,publication-window",
    )
    assert status == 0
    assert {f["rule"] for f in json.loads(out)["findings"]} == {
        "report-change",
        "publication-window",
    }
    status, _, err = run(
        capsys, "evaluate", "jiangxi-2024", EXAMPLE, "--as-of", "2025-06-30", "--rules", "nope"
    )
    assert status == 2
    assert "has no rule 'nope'" in err


@pytest.mark.parametrize("engine", ["reference", "frame", "stream"])
def test_evaluate_output_writes_all_three_tables(
    engine: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "out.csv"
    argv = ["evaluate", "jiangxi-2024", EXAMPLE, "--as-of", "2025-06-30"]
    status, out, err = run(capsys, *argv, "--engine", engine, "--output", str(target))
    assert status == 0
    assert out == ""
    assert "out.rejects.csv" in err
    rejects = (tmp_path / "out.rejects.csv").read_text(encoding="utf-8").splitlines()
    assert len(rejects) == 3  # header and the two bad order rows
    assert (tmp_path / "out.skips.csv").exists()


def test_evaluate_csv_of_only_rejected_rows_keeps_its_header_and_reports_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "orders.csv"
    bad.write_text("id,sent_at\no1,2024-03-01 09:00\n", encoding="utf-8")
    status, out, err = run(
        capsys, "evaluate", "jiangxi-2024", str(bad), "--as-of", "2025-06-30", "--format", "csv"
    )
    assert status == 0
    header = out.splitlines()[0].split(",")
    assert header[:4] == ["pack_id", "rule_id", "rule_kind", "outcome"]
    assert len(out.splitlines()) == 1
    assert "rejected:" in err
    assert "orders.csv" in err


def test_whatif_csv_neutralises_formula_like_cells(capsys: pytest.CaptureFixture[str]) -> None:
    pl = pytest.importorskip("polars")
    from vbp_rules.cli._analysis import _print_frame
    from vbp_rules.cli._packs import OutputFormat

    frame = pl.DataFrame({"subject": ["=cmd()", "h1", "@x"], "n": [1, -2, 3]})
    _print_frame(frame, OutputFormat.csv, "t")
    assert capsys.readouterr().out.splitlines() == ["subject,n", "'=cmd(),1", "h1,-2", "'@x,3"]
