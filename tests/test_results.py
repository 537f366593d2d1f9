"""Results as typed tables: schemas, exact values, table sources, writing files."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vbp_rules import Evaluation, Finding, evaluate, load_pack
from vbp_rules.calendar import WorkingDays
from vbp_rules.findings import Citation, Period, Skip, Subject
from vbp_rules.results import (
    findings_to_arrow,
    skips_to_arrow,
    subject_key_columns,
    value_from_record,
    value_record,
)

pl = pytest.importorskip("polars")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

ROOT = Path(__file__).resolve().parents[1]
JIANGXI = ROOT / "examples" / "jiangxi-2024"
SH = ZoneInfo("Asia/Shanghai")

JIANGXI_KEYS = [
    "id",
    "batch_id",
    "institution_id",
    "county_medical_community_id",
    "enterprise_id",
    "product_id",
    "generic_name",
    "cycle_start",
    "cycle_end",
]


@pytest.fixture(scope="module")
def jiangxi() -> Evaluation:
    return evaluate("jiangxi-2024", JIANGXI, as_of="2025-06-30")


def test_subject_key_columns_are_the_row_keys_then_the_packs_group_by_names() -> None:
    assert list(subject_key_columns(load_pack("jiangxi-2024"))) == JIANGXI_KEYS


def test_jiangxi_findings_have_the_typed_columns(jiangxi: Evaluation) -> None:
    s, d = pl.String, pl.Decimal(38, 0)
    value = pl.Struct({"name": s, "type": s, "numerator": d, "denominator": d, "text": s})
    expected = {
        "pack_id": s,
        "rule_id": s,
        "rule_kind": s,
        "outcome": s,
        "tier": s,
        "subject_kind": s,
        **dict.fromkeys(JIANGXI_KEYS, s),
        "period_start": pl.Date,
        "period_end": pl.Date,
        "period_unit": s,
        "actions": pl.List(s),
        "values": pl.List(value),
        "bound_word": s,
        "operator": s,
        "citation_document": s,
        "citation_clause": s,
        "citation_text": s,
        "message_zh": s,
        "message_en": s,
        "flags": pl.List(s),
        "issuer": s,
        "row_count": pl.Int64,
    }
    frame = jiangxi.to_polars("findings")
    assert dict(frame.schema) == expected
    assert frame.height == 449  # 49 breaches, 367 compliant, 31 determinations, 2 reviews


def test_jiangxi_skips_and_rejects_have_the_typed_columns(jiangxi: Evaluation) -> None:
    s = pl.String
    skips = jiangxi.to_polars("skips")
    assert dict(skips.schema) == {
        "pack_id": s,
        "rule_id": s,
        "reason": s,
        "detail": s,
        "subject_kind": s,
        **dict.fromkeys(JIANGXI_KEYS, s),
        "period_start": pl.Date,
        "period_end": pl.Date,
        "period_unit": s,
        "exemption": s,
        "rows": pl.List(pl.Struct({"kind": s, "id": s})),
    }
    rejects = jiangxi.to_polars("rejects")
    assert dict(rejects.schema) == {
        "source": s,
        "kind": s,
        "row": pl.Int64,
        "line": pl.Int64,
        "row_id": s,
        "field": s,
        "reason": s,
    }
    assert sorted(rejects["row_id"].to_list()) == ["O2410-BAD-NAIVE", "O2501-BAD-OVER"]


def _exact(v: dict[str, Any]) -> Fraction:
    return Fraction(int(v["numerator"]), int(v["denominator"]))


def test_every_finding_appears_in_its_row(jiangxi: Evaluation) -> None:
    rows = jiangxi.to_arrow("findings").to_pylist()
    assert len(rows) == len(jiangxi.findings)
    for f, r in zip(jiangxi.findings, rows, strict=True):
        assert (r["pack_id"], r["rule_id"], r["rule_kind"], r["outcome"], r["tier"]) == (
            f.pack_id,
            f.rule_id,
            f.rule_kind,
            f.outcome,
            f.tier,
        )
        assert r["subject_kind"] == f.subject.kind
        keys = f.subject.as_dict()
        assert {k: r[k] for k in JIANGXI_KEYS if r[k] is not None} == keys
        if f.period is None:
            assert (r["period_start"], r["period_end"], r["period_unit"]) == (None, None, None)
        else:
            assert (r["period_start"], r["period_end"], r["period_unit"]) == (
                f.period.start,
                f.period.end,
                f.period.unit,
            )
        assert r["actions"] == list(f.actions)
        assert [v["name"] for v in r["values"]] == [k for k, _ in f.values]
        for v, (_, original) in zip(r["values"], f.values, strict=True):
            if isinstance(original, bool) or original is None:
                continue
            if isinstance(original, int | Fraction | Decimal):
                assert _exact(v) == original
        assert (r["bound_word"], r["operator"]) == (f.bound_word, f.operator)
        assert (r["citation_document"], r["citation_clause"], r["citation_text"]) == (
            f.citation.document,
            f.citation.clause,
            f.citation.text,
        )
        assert (r["message_zh"], r["message_en"]) == (f.message_zh, f.message_en)
        assert r["flags"] == sorted(f.flags)
        assert r["issuer"] == f.issuer
        assert r["row_count"] == len(f.rows)


def test_every_skip_appears_in_its_row(jiangxi: Evaluation) -> None:
    rows = jiangxi.to_arrow("skips").to_pylist()
    for s, r in zip(jiangxi.skips, rows, strict=True):
        assert (r["rule_id"], r["reason"], r["detail"], r["exemption"]) == (
            s.rule_id,
            s.reason,
            s.detail,
            s.exemption,
        )
        assert r["rows"] == [{"kind": k, "id": i} for k, i in s.rows]


# -- exact values ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kind", "num", "den", "text"),
    [
        (Decimal("11.50"), "decimal", 1150, 100, "11.50"),
        (Decimal("10.00"), "decimal", 1000, 100, "10.00"),
        (Decimal("-0.5"), "decimal", -5, 10, "-0.5"),
        (Decimal("1E+2"), "decimal", 100, 1, "100"),
        (Fraction(9, 10), "ratio", 9, 10, "9/10"),
        (Fraction(3), "ratio", 3, 1, "3"),
        (7, "int", 7, 1, "7"),
        (10**37, "int", 10**37, 1, "1" + "0" * 37),
        (10**38, "int", None, None, "1" + "0" * 38),
        (Fraction(1, 10**38), "ratio", None, None, "1/1" + "0" * 38),
        (True, "bool", None, None, "true"),
        (None, "null", None, None, None),
        ("某药业", "text", None, None, "某药业"),
        (date(2024, 9, 30), "date", None, None, "2024-09-30"),
        (
            datetime(2024, 9, 1, 8, 30, tzinfo=SH),
            "instant",
            None,
            None,
            "2024-09-01T08:30:00+08:00",
        ),
        (WorkingDays(20), "other", None, None, str(WorkingDays(20))),
    ],
)
def test_values_are_exact(
    value: object, kind: str, num: int | None, den: int | None, text: str | None
) -> None:
    record = value_record("v", value)
    assert record["type"] == kind
    assert record["numerator"] == (None if num is None else Decimal(num))
    assert record["denominator"] == (None if den is None else Decimal(den))
    assert record["text"] == text


def test_a_huge_integer_renders_without_raising() -> None:
    record = value_record("v", 10**5000)
    assert record["numerator"] is None
    assert record["text"] == "<5001-digit integer>"


# -- table sources -----------------------------------------------------------------------

CITE = Citation(document="赣医保字〔2024〕22号", clause="二（七）", text="……")


def _finding(outcome: str, institution: str) -> Finding:
    return Finding(
        pack_id="p",
        rule_id="r",
        rule_kind="threshold",
        outcome=outcome,  # type: ignore[arg-type]
        subject=Subject(kind="orders", keys=(("institution_id", institution),)),
        period=Period(start=date(2024, 9, 1), end=date(2024, 9, 30), unit="month"),
        values=(("rate", Fraction(9, 10)),),
        citation=CITE,
        rows=(("orders", "o1"),),
    )


class _Source:
    """A columnar stand-in: counts and a table without building objects."""

    def __init__(self, items: tuple[Any, ...], table: Any, counts: dict[str, int]) -> None:
        self.items = items
        self.table = table
        self._counts = counts
        self.materialized = 0

    def __len__(self) -> int:
        return len(self.items)

    def to_arrow(self) -> Any:
        return self.table

    def materialize(self) -> tuple[Any, ...]:
        self.materialized += 1
        return self.items

    def counts(self) -> dict[str, int]:
        return self._counts


def _sourced() -> tuple[Evaluation, _Source, _Source]:
    keys = ("id", "institution_id")
    findings = (_finding("breach", "h1"), _finding("compliant", "h2"))
    skips = (Skip(pack_id="p", rule_id=None, reason="reference_data", rows=(("x", "1"),)),)
    fs = _Source(findings, findings_to_arrow(findings, keys), {"breach": 1, "compliant": 1})
    ss = _Source(skips, skips_to_arrow(skips, keys), {"reference_data": 1})
    ev = Evaluation(
        pack_id="p",
        as_of=datetime(2024, 10, 1, tzinfo=SH),
        engine="columnar",
        findings=fs,
        skips=ss,
        rejects=(),
        key_columns=keys,
    )
    return ev, fs, ss


def test_summary_len_and_tables_do_not_materialize() -> None:
    ev, fs, ss = _sourced()
    assert ev.summary() == {
        "breach": 1,
        "compliant": 1,
        "rejected": 0,
        "skip:reference_data": 1,
    }
    assert len(ev) == 2
    assert ev.to_arrow("findings").num_rows == 2
    assert ev.to_polars("skips").height == 1
    assert "breach=1" in repr(ev)
    assert (fs.materialized, ss.materialized) == (0, 0)


def test_objects_are_built_once_and_equal_a_tuple_evaluation() -> None:
    ev, fs, ss = _sourced()
    assert [f.outcome for f in ev.findings] == ["breach", "compliant"]
    assert [f.outcome for f in ev.breaches()] == ["breach"]
    assert len(ev.skips) == 1
    assert (fs.materialized, ss.materialized) == (1, 1)
    plain = Evaluation(
        pack_id="p",
        as_of=datetime(2024, 10, 1, tzinfo=SH),
        engine="columnar",
        findings=fs.items,
        skips=ss.items,
        rejects=(),
    )
    assert ev == plain


def test_columns_do_not_depend_on_the_data() -> None:
    empty = evaluate("jiangxi-2024", {}, as_of="2025-06-30")
    assert empty.to_arrow("findings").num_rows == 0
    assert empty.to_arrow("findings").column_names[6 : 6 + len(JIANGXI_KEYS)] == JIANGXI_KEYS
    assert empty.to_pandas("rejects").columns.tolist() == [
        "source",
        "kind",
        "row",
        "line",
        "row_id",
        "field",
        "reason",
    ]


def test_unknown_table_kind_is_an_error() -> None:
    ev, _, _ = _sourced()
    with pytest.raises(ValueError, match="choose one of findings, skips, rejects"):
        ev.to_arrow("breaches")  # type: ignore[arg-type]


def test_html_summary_escapes_text() -> None:
    ev = Evaluation(
        pack_id="<script>x</script>",
        as_of=datetime(2024, 10, 1, tzinfo=SH),
        engine="reference",
        findings=(),
        skips=(),
        rejects=(),
    )
    page = ev._repr_html_()
    assert "<script>" not in page
    assert "&lt;script&gt;x&lt;/script&gt;" in page


# -- writing -----------------------------------------------------------------------------


def test_parquet_writes_findings_and_the_other_tables_beside(
    jiangxi: Evaluation, tmp_path: Path
) -> None:
    written = jiangxi.write(tmp_path / "out.parquet")
    assert [p.name for p in written] == [
        "out.parquet",
        "out.skips.parquet",
        "out.rejects.parquet",
    ]
    back = pq.read_table(tmp_path / "out.parquet")
    assert back.equals(jiangxi.to_arrow("findings"))
    assert pq.read_table(tmp_path / "out.rejects.parquet").num_rows == 2


def test_csv_has_stable_headers_and_carries_rejects(tmp_path: Path) -> None:
    ev = evaluate(
        "jiangxi-2024",
        {"orders": [{"id": "o1", "sent_at": "2024-03-01 09:00"}]},
        as_of="2025-06-30",
    )
    ev.write(tmp_path / "out.csv")
    header = (tmp_path / "out.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.split(",")[:4] == ["pack_id", "rule_id", "rule_kind", "outcome"]
    assert header.endswith("issuer,row_count")
    rejects = (tmp_path / "out.rejects.csv").read_text(encoding="utf-8").splitlines()
    assert rejects[0] == "source,kind,row,line,row_id,field,reason"
    assert len(rejects) == 2
    assert rejects[1].startswith("python,orders,1,")


def test_csv_neutralises_formula_like_cells() -> None:
    skip = Skip(
        pack_id="p",
        rule_id="r",
        reason="missing_fact",
        detail='=HYPERLINK("http://x")',
        subject=Subject(kind="orders", keys=(("id", "-1+1"),)),
    )
    ev = Evaluation(
        pack_id="p",
        as_of=datetime(2024, 10, 1, tzinfo=SH),
        engine="reference",
        findings=(),
        skips=(skip,),
        rejects=(),
        key_columns=("id",),
    )
    line = ev.to_csv("skips").splitlines()[1]
    assert "'=HYPERLINK" in line
    assert ",'-1+1," in line


def test_jsonl_is_one_row_per_line_with_exact_numbers(jiangxi: Evaluation, tmp_path: Path) -> None:
    jiangxi.write(tmp_path / "out.jsonl")
    lines = (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(jiangxi.findings)
    first = json.loads(lines[0])
    assert isinstance(first["values"][0]["text"], str)
    skips = (tmp_path / "out.skips.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(skips) == len(jiangxi.skips)


def test_json_is_one_document_with_all_three_tables(jiangxi: Evaluation, tmp_path: Path) -> None:
    assert [p.name for p in jiangxi.write(tmp_path / "out.json")] == ["out.json"]
    doc = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert doc["pack_id"] == "jiangxi-2024"
    assert doc["as_of"] == "2025-07-01T00:00:00+08:00"
    assert len(doc["findings"]) == 449
    assert len(doc["rejects"]) == 2
    assert doc["key_columns"] == JIANGXI_KEYS
    breach = next(f for f in doc["findings"] if f["rule_id"] == "publication-window")
    assert breach["period_start"] is None or isinstance(breach["period_start"], str)


def test_unknown_extension_lists_the_supported_ones(tmp_path: Path) -> None:
    ev, _, _ = _sourced()
    with pytest.raises(ValueError, match=r"\.parquet, \.csv, \.jsonl, \.json"):
        ev.write(tmp_path / "out.xlsx")


@pytest.mark.parametrize("backend", ["polars", "pandas"])
def test_to_frame_has_the_same_columns_with_no_findings(backend: str) -> None:
    pytest.importorskip(backend)
    empty = evaluate("jiangxi-2024", {}, as_of="2025-06-30").to_frame(backend=backend)
    assert list(empty.columns) == [
        "pack",
        "rule",
        "kind",
        "outcome",
        "subject_kind",
        "subject",
        "period",
        "tier",
        "actions",
        "values",
        "bound_word",
        "clause",
        "message_en",
        "message_zh",
        "flags",
    ]
    assert len(empty) == 0


# -- the documentation's examples run ------------------------------------------------


def _section(page: str, heading: str, fence: str) -> str:
    text = (ROOT / "docs" / page).read_text(encoding="utf-8")
    part = text.split(heading, 1)[1].split("\n## ", 1)[0]
    blocks = part.split(f"```{fence}\n")[1:]
    assert blocks, f"no {fence} block under {heading}"
    return blocks[0].split("```", 1)[0]


def test_the_result_tables_example_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    monkeypatch.chdir(tmp_path)
    exec(_section("engines.md", "## Result tables", "python"), {})  # noqa: S102 - our docs
    assert "publication-window" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.glob("results*")) == [
        "results.parquet",
        "results.rejects.parquet",
        "results.skips.parquet",
    ]


def test_the_cli_output_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shlex

    from vbp_rules.cli import main

    (tmp_path / "examples").symlink_to(ROOT / "examples")
    monkeypatch.chdir(tmp_path)
    argv = shlex.split(_section("cli.md", "## Evaluation output", "bash").strip())
    assert argv[0] == "vbp-rules"
    assert main(argv[1:]) == 0
    rejects = (tmp_path / "out.rejects.csv").read_text(encoding="utf-8").splitlines()
    assert len(rejects) == 3
    findings = (tmp_path / "out.csv").read_text(encoding="utf-8").splitlines()
    assert {line.split(",")[1] for line in findings[1:]} == {"report-change"}


def test_text_outputs_need_no_pyarrow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from vbp_rules.engine import EngineUnavailableError

    ev = evaluate("jiangxi-2024", JIANGXI, as_of="2025-06-30")
    header = ev.to_arrow("findings").column_names
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    text = ev.to_csv("findings", include_compliant=False)
    assert text.splitlines()[0].split(",") == header
    assert len(text.splitlines()) == 1 + 82  # 49 breaches, 31 determinations, 2 reviews
    assert len(ev.write(tmp_path / "out.jsonl")) == 3
    assert len(ev.write(tmp_path / "out.json")) == 1
    with pytest.raises(EngineUnavailableError, match=r"vbp-rules\[frame\]"):
        ev.write(tmp_path / "out.parquet")


def test_a_table_source_is_written_through_its_arrow_table(tmp_path: Path) -> None:
    ev, fs, _ = _sourced()
    ev.write(tmp_path / "out.csv")
    lines = (tmp_path / "out.csv").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3
    assert ',"{""rate"": ""9/10""}",' in lines[1]
    assert fs.materialized == 0


# -- values round-trip (for columnar engines' materialize) -----------------------------

exact_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**60), max_value=10**60),
    st.fractions(max_denominator=10**40),
    st.decimals(allow_nan=False, allow_infinity=False, places=3, max_value=10**20),
    st.dates(),
    # procurement instants (Shanghai has had no DST since 1991, so no ambiguous times)
    st.datetimes(min_value=datetime(1992, 1, 1), timezones=st.just(SH)),
    st.text(max_size=10),
)


@given(value=exact_values)
def test_a_recorded_value_comes_back_exactly(value: object) -> None:
    back = value_from_record(value_record("v", value))
    assert back == value
    assert type(back) is type(value)
    if isinstance(value, Decimal):
        assert str(back) == format(value, "f")


def test_huge_integers_come_back_from_their_text() -> None:
    assert value_from_record(value_record("v", 10**45)) == 10**45
    assert value_from_record(value_record("v", Fraction(1, 10**45))) == Fraction(1, 10**45)
