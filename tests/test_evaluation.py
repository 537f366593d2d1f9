"""The one entry point, vbp_rules.evaluate: what it accepts and what it refuses."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from vbp_rules import (
    FactSet,
    NaiveDatetimeError,
    UnknownRuleError,
    evaluate,
    load_facts,
    load_pack,
)
from vbp_rules.engine import reference

ROOT = Path(__file__).resolve().parents[1]
JIANGXI = ROOT / "examples" / "jiangxi-2024"
SH = ZoneInfo("Asia/Shanghai")

REPORT = {
    "id": "d1",
    "institution_id": "h1",
    "generic_name": "阿托伐他汀",
    "reported_quantity": 79,
    "last_year_actual_quantity": 100,
}


def _breaches(ev: object) -> list[tuple[str, str | None]]:
    return [(f.rule_id, f.tier) for f in ev.breaches()]  # type: ignore[attr-defined]


def test_pack_ids_paths_and_iso_dates_are_accepted() -> None:
    by_id = evaluate("jiangxi-2024", {"demand_reports": [REPORT]}, as_of="2024-12-31")
    by_path = evaluate(
        ROOT / "policy_packs" / "jiangxi-2024",
        {"demand_reports": [REPORT]},
        as_of=date(2024, 12, 31),
    )
    assert _breaches(by_id) == [("report-change", "decrease")]
    assert by_id.findings == by_path.findings
    assert by_id.as_of == datetime(2025, 1, 1, tzinfo=SH)


def test_an_iso_instant_is_that_instant() -> None:
    ev = evaluate("jiangxi-2024", {}, as_of="2024-12-31T18:00+08:00")
    assert ev.as_of == datetime(2024, 12, 31, 18, tzinfo=SH)


def test_a_naive_iso_instant_is_refused() -> None:
    with pytest.raises(NaiveDatetimeError, match=r"\+08:00"):
        evaluate("jiangxi-2024", {}, as_of="2024-12-31T18:00")


def test_facts_from_a_folder_path_equal_load_facts() -> None:
    by_path = evaluate("jiangxi-2024", str(JIANGXI), as_of="2025-06-30")
    loaded = evaluate("jiangxi-2024", load_facts(JIANGXI), as_of="2025-06-30")
    assert by_path == loaded
    assert len(by_path.rejects) == 2


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"pack": 42}, ["pack must be", "not int"]),
        ({"facts": 3.5}, ["facts must be", "FactSet", "not float"]),
        ({"as_of": 20241231}, ["as_of must be", "ISO", "not int"]),
    ],
)
def test_anything_else_is_a_type_error_naming_it(
    kwargs: dict[str, object], words: list[str]
) -> None:
    args: dict[str, object] = {"pack": "jiangxi-2024", "facts": {}, "as_of": "2024-12-31"}
    args.update(kwargs)
    with pytest.raises(TypeError) as info:
        evaluate(args.pop("pack"), args.pop("facts"), **args)  # type: ignore[arg-type]
    for word in words:
        assert word in str(info.value)


def test_a_bad_iso_text_names_the_forms() -> None:
    with pytest.raises(ValueError, match="2025-06-30T18:00"):
        evaluate("jiangxi-2024", {}, as_of="June 30")


@pytest.mark.parametrize("library", ["pandas", "polars", "pyarrow"])
def test_frames_are_rows_and_nan_is_null(library: str) -> None:
    pytest.importorskip(library)
    data = {
        "id": ["d1", "d2"],
        "institution_id": ["h1", "h2"],
        "generic_name": ["阿托伐他汀", "阿托伐他汀"],
        "reported_quantity": [79.0, 120.0],
        "last_year_actual_quantity": [100.0, float("nan")],
    }
    if library == "pandas":
        import pandas as pd

        frame: object = pd.DataFrame(data)
    elif library == "polars":
        import polars as pl

        frame = pl.DataFrame(data)
    else:
        import pyarrow as pa

        frame = pa.table(data)
    facts = load_facts({"demand_reports": frame})
    assert facts.rejects == ()
    assert [r.id for r in facts.demand_reports] == ["d1", "d2"]
    assert facts.demand_reports[1].last_year_actual_quantity is None
    ev = evaluate("jiangxi-2024", {"demand_reports": frame}, as_of="2024-12-31")
    assert ev.rejects == ()
    assert ("report-change", "decrease") in _breaches(ev)


def test_rules_restricts_evaluation_and_still_accounts_every_row() -> None:
    full = evaluate("jiangxi-2024", JIANGXI, as_of="2025-06-30")
    only = evaluate("jiangxi-2024", JIANGXI, as_of="2025-06-30", rules=["report-change"])
    assert {f.rule_id for f in only.findings} == {"report-change"}
    assert only.by_rule("report-change") == full.by_rule("report-change")
    facts = load_facts(JIANGXI)
    every_row = {(k, r.id) for k in facts.counts() for r in facts.rows(k)}
    assert only.accounted_rows() == every_row
    assert (
        evaluate("jiangxi-2024", JIANGXI, as_of="2025-06-30", rules="report-change").findings
        == only.findings
    )


def test_an_unknown_rule_suggests_the_closest() -> None:
    with pytest.raises(UnknownRuleError, match="did you mean 'report-change'") as info:
        evaluate("jiangxi-2024", {}, as_of="2024-12-31", rules=["report-chnage"])
    assert isinstance(info.value, LookupError)
    assert info.value.rule_id == "report-chnage"


def test_the_frame_engine_takes_rules_and_accounts_every_row() -> None:
    pytest.importorskip("polars")
    ref = evaluate("jiangxi-2024", JIANGXI, as_of="2025-06-30", rules=["report-change"])
    frame = evaluate(
        "jiangxi-2024", JIANGXI, as_of="2025-06-30", rules=["report-change"], engine="frame"
    )
    assert frame.engine == "frame"
    assert frame.findings == ref.findings
    assert frame.accounted_rows() == ref.accounted_rows()


def test_the_stream_engine_refuses_rules_clearly() -> None:
    with pytest.raises(ValueError, match="stream engine cannot evaluate a subset"):
        evaluate("jiangxi-2024", {}, as_of="2024-12-31", rules=["report-change"], engine="stream")


@pytest.mark.parametrize("engine", ["reference", "frame", "auto"])
def test_every_engine_gives_the_pack_key_columns(engine: str) -> None:
    if engine == "frame":
        pytest.importorskip("polars")
    ev = evaluate("jiangxi-2024", {"demand_reports": [REPORT]}, as_of="2024-12-31", engine=engine)
    assert ev.key_columns[-2:] == ("cycle_start", "cycle_end")


def test_the_reference_module_function_still_works() -> None:
    ev = reference.evaluate(
        load_pack("jiangxi-2024"),
        FactSet.from_records({"demand_reports": [REPORT]}),
        as_of=date(2024, 12, 31),
    )
    assert _breaches(ev) == [("report-change", "decrease")]


@pytest.mark.parametrize(
    "engine",
    [
        "reference",
        "frame",
    ],
)
def test_a_pandas_frame_with_gaps_evaluates_without_warnings(engine: str) -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(
        {
            "id": ["d1", "d2"],
            "institution_id": ["h1", "h2"],
            "generic_name": ["阿托伐他汀", "阿托伐他汀"],
            "reported_quantity": [79, 120],
            "last_year_actual_quantity": [100, None],
        }
    )
    # pytest turns warnings into errors: a leaked narwhals UserWarning fails here
    ev = evaluate("jiangxi-2024", {"demand_reports": frame}, as_of="2024-12-31", engine=engine)
    assert ev.rejects == ()
    assert ("report-change", "decrease") in _breaches(ev)


def test_a_fractional_float_is_still_rejected_as_inexact() -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(
        {"id": ["d1"], "institution_id": ["h1"], "generic_name": ["x"], "reported_quantity": [7.5]}
    )
    (reject,) = load_facts({"demand_reports": frame}).rejects
    assert reject.field == "reported_quantity"


def test_tables_without_pyarrow_name_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from vbp_rules.engine import EngineUnavailableError

    ev = evaluate("jiangxi-2024", {"demand_reports": [REPORT]}, as_of="2024-12-31")
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(EngineUnavailableError, match=r"vbp-rules\[frame\]"):
        ev.to_arrow("findings")
    assert ev.summary()["breach"] == 1  # the objects need no extra


def test_a_kind_may_be_a_path_to_its_file() -> None:
    by_file = load_facts({"orders": JIANGXI / "orders.csv"})
    assert len(by_file.orders) == 144
    assert len(by_file.rejects) == 2
    ev = evaluate("jiangxi-2024", {"orders": str(JIANGXI / "orders.csv")}, as_of="2025-06-30")
    assert ev.input_rows == 146


def test_a_missing_kind_file_is_an_error() -> None:
    from vbp_rules import FactsError

    with pytest.raises(FactsError, match="no such file"):
        load_facts({"orders": "nowhere/orders.csv"})
