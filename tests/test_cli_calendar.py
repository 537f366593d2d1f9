"""The ``vbp-rules calendar`` command group."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import vbp_rules
from vbp_rules.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(["calendar", *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.mark.parametrize(
    ("day", "line"),
    [
        ("2024-09-29", "2024-09-29 is a working day (make-up working day for 国庆节 National Day)"),
        ("2024-10-05", "2024-10-05 is not a working day (国庆节 National Day)"),
        ("2024-09-28", "2024-09-28 is not a working day (weekend)"),
        ("2024-09-30", "2024-09-30 is a working day"),
        ("2027-10-04", "2027-10-04 is not a working day (国庆节 National Day) [provisional year]"),
    ],
)
def test_is_working(capsys: pytest.CaptureFixture[str], day: str, line: str) -> None:
    assert run(capsys, "is-working", day) == (0, line + "\n", "")


def test_is_working_json(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "is-working", "2024-09-29", "--json")
    assert status == 0
    doc = json.loads(out)
    assert isinstance(doc.pop("working_day_index"), int)  # its differences are checked below
    assert doc == {
        "date": "2024-09-29",
        "is_working_day": True,
        "holiday_name_zh": None,
        "holiday_name_en": None,
        "is_make_up_day": True,
        "make_up_for_zh": "国庆节",
        "make_up_for_en": "National Day",
        "is_provisional": False,
    }


@pytest.mark.parametrize(
    ("a", "b", "working_days"),
    [
        ("2024-09-27", "2024-09-29", 1),  # Sat 28 off, Sun 29 a make-up working day
        ("2024-09-29", "2024-10-08", 2),  # Mon 30 and Tue 8 (1-7 October off)
        ("2024-09-30", "2024-10-07", 0),  # the National Day holiday
        ("2024-12-31", "2025-01-02", 1),  # New Year's Day off
    ],
)
def test_is_working_json_index_counts_working_days(
    capsys: pytest.CaptureFixture[str], a: str, b: str, working_days: int
) -> None:
    def index(day: str) -> int:
        status, out, _ = run(capsys, "is-working", day, "--json")
        assert status == 0
        value = json.loads(out)["working_day_index"]
        assert isinstance(value, int)
        return value

    assert index(b) - index(a) == working_days


@pytest.mark.parametrize(
    ("args", "out"),
    [
        (["2024-09-27", "2"], "2024-09-30\n"),
        (["2024-10-01", "0"], "2024-10-08\n"),
        (["2024-10-08", "-1"], "2024-09-30\n"),
    ],
)
def test_add(capsys: pytest.CaptureFixture[str], args: list[str], out: str) -> None:
    assert run(capsys, "add", *args) == (0, out, "")


def test_add_json_and_provisional_warning(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "add", "2024-09-27", "2", "--json")
    assert status == 0
    assert json.loads(out) == {
        "date": "2024-09-27",
        "n": 2,
        "result": "2024-09-30",
        "provisional": False,
    }
    status, out, err = run(capsys, "add", "2026-12-30", "3")
    assert (status, out) == (0, "2027-01-05\n")
    assert "provisional" in err


def test_between(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "between", "2024-09-27", "2024-10-08") == (0, "3\n", "")
    assert run(capsys, "between", "2024-10-08", "2024-09-27") == (0, "-3\n", "")
    _, out, _ = run(capsys, "between", "2024-09-27", "2024-10-08", "--json")
    assert json.loads(out) == {"from": "2024-09-27", "to": "2024-10-08", "working_days": 3}


def test_deadline_working_days(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "deadline", "2024-09-27T15:30+08:00", "--working-days", "2")
    assert status == 0
    assert out.splitlines() == [
        "period:   2 working days",
        "start:    2024-09-27T15:30:00+08:00",
        "last day: 2024-09-30 (Monday)",
        "due:      2024-10-01T00:00:00+08:00 (24:00 of 2024-09-30)",
    ]
    assert err == ""


@pytest.mark.parametrize(
    ("options", "due", "last_day"),
    [
        (["--hours", "48"], "2024-09-29T15:30:00+08:00", None),
        (["--calendar-days", "4"], "2024-10-09T00:00:00+08:00", "2024-10-08"),
        (["--months", "1"], "2024-10-29T00:00:00+08:00", "2024-10-28"),  # 27th: a Sunday
        (["--end-of-next-month"], "2024-11-01T00:00:00+08:00", "2024-10-31"),
    ],
)
def test_deadline_json(
    capsys: pytest.CaptureFixture[str], options: list[str], due: str, last_day: str | None
) -> None:
    status, out, _ = run(capsys, "deadline", "2024-09-27T15:30+08:00", *options, "--json")
    assert status == 0
    result = json.loads(out)
    assert (result["due"], result["last_day"], result["provisional"]) == (due, last_day, False)
    assert result["start"] == "2024-09-27T15:30:00+08:00"


def test_deadline_hours_text_and_tz(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "deadline", "2024-09-27T15:30", "--tz", "UTC", "--hours", "1")
    assert status == 0
    assert "start:    2024-09-27T15:30:00+00:00" in out
    assert "due:      2024-09-28T00:30:00+08:00" in out
    assert "last day" not in out


def test_deadline_provisional(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "deadline", "2026-12-30T15:30+08:00", "--working-days", "2")
    assert status == 0
    assert "last day: 2027-01-04 (Monday)" in out
    assert "warning: provisional" in err
    status, _, err = run(
        capsys, "deadline", "2026-12-30T15:30+08:00", "--working-days", "2", "--strict"
    )
    assert status == 2
    assert "provisional year(s) 2027" in err


def test_year(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "year", "2024")
    assert status == 0
    assert "2024: official State Council schedule" in out
    assert "2024-09-29" in out
    assert "make-up working day" in out
    assert "21 declared days off, 8 make-up working days, 251 working days in 2024." in out


def test_year_provisional(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "year", "2027")
    assert status == 0
    assert "2027: PROVISIONAL" in out
    assert "0 make-up working days" in out
    status, out, _ = run(capsys, "year", "2027", "--json")
    data = json.loads(out)
    assert data["provisional"] is True
    assert not any(day["is_make_up_day"] for day in data["days"])
    assert data["days"][0]["date"] == "2027-01-01"


def test_schedule_option(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    file = tmp_path / "2027.yaml"
    file.write_text(
        "year: 2027\nholidays: {2027-10-01: 国庆节}\nworkdays: {2027-09-26: 国庆节}\n",
        encoding="utf-8",
    )
    status, out, _ = run(capsys, "--schedule", str(file), "year", "2027")
    assert status == 0
    assert "2027: official State Council schedule" in out
    assert "1 declared days off, 1 make-up working days" in out
    status, out, _ = run(capsys, "--schedule", str(file), "is-working", "2027-09-26")
    assert out == "2027-09-26 is a working day (make-up working day for 国庆节 National Day)\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["is-working", "2024-13-01"], "invalid date '2024-13-01'"),
        (["add", "someday", "2"], "invalid date 'someday'"),
        (["between", "2024-01-01", "x"], "invalid end date 'x'"),
        (["add", "2040-12-30", "5"], "outside the supported calendar range"),
        (["is-working", "1999-01-01"], "outside the supported calendar range"),
        (["year", "2099"], "outside the supported calendar range"),
        (["deadline", "2024-09-27T15:30", "--hours", "2"], "has no time zone"),
        (["deadline", "tomorrow", "--hours", "2"], "invalid timestamp 'tomorrow'"),
        (["deadline", "2024-09-27T15:30+08:00"], "give exactly one period"),
        (["deadline", "2024-09-27T15:30+08:00", "--hours", "1", "--months", "1"], "exactly one"),
        (["deadline", "2024-09-27T15:30+08:00", "--hours", "-1"], "needs a number >= 0"),
        (["deadline", "2024-09-27T15:30", "--tz", "Mars/Base", "--hours", "1"], "time zone"),
        (["--schedule", "missing.yaml", "year", "2027"], "cannot be read"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    status, out, err = run(capsys, *args)
    assert status == 2
    assert out == ""
    assert message in err
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_python_dash_m(tmp_path: Path) -> None:
    source = str(Path(vbp_rules.__file__).parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([source, os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run(
        [sys.executable, "-m", "vbp_rules", "calendar", "add", "2024-09-27", "2"],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        cwd=tmp_path,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "2024-09-30\n", "")
