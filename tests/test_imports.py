"""Importing vbp_rules is cheap and has no side effects (issue 12).

``import vbp_rules`` imports no optional engine backend, no CLI toolkit, and none of the
~250 countries of ``holidays``; using the calendar loads China's only. Wall time is
measured in the changelog, not asserted here: machines are noisy.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest

from vbp_rules.facts import load_facts

HEAVY = ("polars", "duckdb", "narwhals", "pyarrow", "pandas", "numpy", "pyspark")
CLI = ("typer", "rich", "click")


def _imported(code: str) -> set[str]:
    """The modules ``code`` imports in a fresh interpreter (from ``-X importtime``)."""
    done = subprocess.run(  # noqa: S603 - our own interpreter, fixed code
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        check=True,
    )
    lines = [line for line in done.stderr.splitlines() if line.startswith("import time:")]
    return {line.rsplit("|", 1)[1].strip() for line in lines[1:]}


def _top(modules: set[str], names: tuple[str, ...]) -> set[str]:
    return {m for m in modules if m.split(".")[0] in names}


def test_import_vbp_rules_imports_no_heavy_or_optional_module() -> None:
    modules = _imported("import vbp_rules")
    assert "vbp_rules" in modules
    assert _top(modules, HEAVY + CLI) == set()
    assert {m for m in modules if m.startswith("holidays.countries")} == set()


def test_the_calendar_loads_china_only() -> None:
    modules = _imported(
        "import datetime, vbp_rules\n"
        "cal = vbp_rules.WorkCalendar.china()\n"
        "assert cal.is_working_day(datetime.date(2024, 9, 29))  # a 调休 Sunday\n"
    )
    countries = {m for m in modules if m.startswith("holidays.countries.")}
    assert countries <= {"holidays.countries.china"}
    assert "holidays.countries.germany" not in modules


def test_evaluating_imports_no_engine_backend() -> None:
    modules = _imported(
        "import datetime, vbp_rules\n"
        "pack = vbp_rules.load_pack('jiangxi-2024')\n"
        "facts = vbp_rules.load_facts({'enterprises': [{'id': 'e-1', 'name': 'x'}]})\n"
        "vbp_rules.evaluate(pack, facts, as_of=datetime.date(2025, 6, 30))\n"
    )
    assert _top(modules, HEAVY + CLI) == set()


def test_the_calendar_is_the_same_when_the_host_imported_every_country() -> None:
    code = "{pre}\nfrom vbp_rules._calendar_data import base_facts\nprint(repr(base_facts()))\n"
    outputs = [
        subprocess.run(  # noqa: S603 - our own interpreter, fixed code
            [sys.executable, "-c", code.format(pre=pre)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for pre in ("", "import holidays.countries")
    ]
    assert outputs[0] == outputs[1]
    assert "国庆节" in outputs[0]


def test_every_public_name_resolves() -> None:
    import vbp_rules

    for name in vbp_rules.__all__:
        assert getattr(vbp_rules, name) is not None
    assert set(vbp_rules.__all__) <= set(dir(vbp_rules))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = vbp_rules.nope


def test_the_library_logs_through_logging(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    assert any(isinstance(h, logging.NullHandler) for h in logging.getLogger("vbp_rules").handlers)
    (tmp_path / "enterprises.csv").write_text("id,name\ne-1,x\n", "utf-8")
    (tmp_path / "orders.tsv").write_text("id\n", "utf-8")
    with caplog.at_level(logging.DEBUG, logger="vbp_rules"):
        load_facts(tmp_path)
    messages = [(r.name, r.levelname, r.getMessage()) for r in caplog.records]
    assert ("vbp_rules.facts.loading", "DEBUG", f"reading {tmp_path}/enterprises.csv") in messages
    assert (
        "vbp_rules.facts.loading",
        "INFO",
        f"skipped {tmp_path}/orders.tsv: unsupported file type '.tsv'; "
        "use one of .json, .jsonl, .ndjson, .yaml, .yml, .csv, .parquet",
    ) in messages


def test_the_cli_starts_without_the_models() -> None:
    # `vbp-rules --help` registers every command; none of them needs a model to do so.
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys\nfrom vbp_rules.cli import _register\n_register()\n"
            "print('\\n'.join(sys.modules))\n",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    modules = set(done.stdout.split())
    assert "vbp_rules.cli._packs" in modules
    assert _top(modules, ("pydantic", "holidays", *HEAVY)) == set()
    assert {"vbp_rules.facts", "vbp_rules.packs"} & modules == set()
