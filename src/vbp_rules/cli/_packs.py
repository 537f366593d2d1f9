"""Pack commands: list, show, validate, test, evaluate, schema."""

from __future__ import annotations

import csv
import io
import json
import sys
import xml.etree.ElementTree as ET
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from vbp_rules.cli import app
from vbp_rules.cli._common import console, err_console, fail, print_error
from vbp_rules.cli._lazy import (
    facts_json_schema,
    list_packs,
    load_facts,
    load_pack,
    pack_json_schema,
    pack_test_json_schema,
    render_parameter,
    rule_coverage,
    run_pack_tests,
)
from vbp_rules.cli._report import (
    FailOn,
    exit_status,
    print_accounting,
    print_findings,
    print_summary,
    require_facts,
)
from vbp_rules.errors import NaiveDatetimeError, VbpRulesError

if TYPE_CHECKING:
    from vbp_rules.findings import Evaluation
    from vbp_rules.packs.testing import PackTestResult


class OutputFormat(str, Enum):
    """Output formats of ``evaluate``."""

    table = "table"
    json = "json"
    csv = "csv"


class EngineChoice(str, Enum):
    """Evaluation engines the CLI offers."""

    auto = "auto"
    reference = "reference"
    frame = "frame"
    stream = "stream"


class SchemaKind(str, Enum):
    """Which JSON Schema to print."""

    pack = "pack"
    facts = "facts"
    pack_test = "pack-test"


def _today() -> date:
    # The listing's status column is the one place the CLI reads the clock: it answers
    # "which packs are in force today"; evaluation never does.
    return datetime.now().astimezone().date()


@app.command("packs")
def packs_command(
    on: Annotated[str | None, typer.Option(help="Status on this day (default today).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List installed packs with their status (in force, draft, expired)."""
    day = _parse_date(on) if on else _today()
    rows = []
    for info in list_packs():
        try:
            pack = load_pack(info.path)
        except VbpRulesError as exc:
            rows.append(
                {
                    "id": info.id,
                    "status": "invalid",
                    "title": str(exc).splitlines()[0],
                    "document": "",
                    "origin": info.origin,
                    "extends": None,
                }
            )
            continue
        rows.append(
            {
                "id": pack.id,
                "status": pack.status_on(day),
                "title": pack.model.title.en,
                "document": pack.model.document_number,
                "origin": info.origin,
                "extends": pack.model.extends,
            }
        )
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table(title=f"vbp_rules packs (status on {day})")
    for col in ("id", "status", "document", "extends", "title"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["id"], r["status"], r["document"], r["extends"] or "", r["title"])
    console.print(table)


@app.command("show")
def show_command(pack: Annotated[str, typer.Argument(help="Pack id or path.")]) -> None:
    """Show a pack: metadata, parameters (with citations), interpretations and rules."""
    p = load_pack(pack)
    m = p.model
    console.print(Text(m.id, style="bold"), Text(f"— {m.title.zh}\n{m.title.en}"))
    window = f"{m.in_force.start} .. {m.in_force.end or 'open'}" if m.in_force else "not stated"
    console.print(
        f"document {m.document_number}, issued {m.issued_on}, status {m.status}, in force {window}",
        highlight=False,
    )
    console.print(
        f"issuers: {p.issuer}" + (f"; extends {m.extends}" if m.extends else ""), highlight=False
    )
    if not m.source.complete:
        note = m.source.note.en if m.source.note else ""
        console.print(Text("incomplete source:", style="yellow"), Text(note))
    params = Table(title="parameters")
    for col in ("name", "type", "value", "clause", "source text"):
        params.add_column(col, overflow="fold")
    for name, prm in m.parameters.items():
        value: str | Text = render_parameter(p.values.get(name))
        if p.values.get(name) is None:
            value = Text("unspecified in source", style="yellow")
        params.add_row(name, prm.type, value, prm.cite.clause, prm.cite.text)
    console.print(params)
    unspecified = [n for n in m.parameters if p.values.get(n) is None]
    if unspecified:
        console.print(
            "unspecified in source (rules using them report not_configured until set with "
            "--set name=value): " + ", ".join(unspecified),
            highlight=False,
        )
    if m.interpretations:
        interp = Table(title="named interpretations")
        for col in ("name", "question", "options", "default"):
            interp.add_column(col, overflow="fold")
        for name, it in m.interpretations.items():
            interp.add_row(
                name,
                it.question.en,
                "\n".join(f"{k}: {v.en}" for k, v in it.options.items()),
                it.default,
            )
        console.print(interp)
        console.print(
            "named interpretations (choose with --interpretation name=option): "
            + ", ".join(f"{name} (default {it.default})" for name, it in m.interpretations.items()),
            highlight=False,
        )
    rules = Table(title="rules")
    for col in ("id", "kind", "clause", "over", "actions", "title"):
        rules.add_column(col, overflow="fold")
    for r in m.rules:
        acts = list(r.actions)
        for t in getattr(r, "tiers", []) or []:
            acts.extend(a for a in t.actions if a not in acts)
        rules.add_row(r.id, r.kind, r.cite.clause, r.over or "—", ", ".join(acts), r.title.en)
    console.print(rules)


@app.command("validate")
def validate_command(
    files: Annotated[list[Path], typer.Argument(help="pack.yaml files or pack folders.")],
) -> None:
    """Validate pack files; every problem is printed with file, line and field.

    Exit status 1 when a pack is invalid, 2 when a file or folder does not exist.
    """
    for f in files:
        if not f.exists():
            fail(f"no such pack file or folder: {f}")
    bad = 0
    for f in files:
        try:
            p = load_pack(f)
        except VbpRulesError as exc:
            bad += 1
            print_error(str(exc))
            continue
        console.print(
            f"{f}: ok ({p.id}, {len(p.rules)} rules, {len(p.model.parameters)} parameters)",
            highlight=False,
        )
    if bad:
        raise typer.Exit(1)


class TestFormat(str, Enum):
    """How ``vbp-rules test`` prints its results."""

    text = "text"
    json = "json"


@app.command("test")
def pack_test_command(
    pack: Annotated[str, typer.Argument(help="Pack id or path.")],
    coverage: Annotated[
        bool, typer.Option("--coverage", help="Report which rules the tests exercised.")
    ] = False,
    select: Annotated[
        list[str] | None,
        typer.Option(
            "-k",
            help="Run only the cases whose id (pack/file::name) contains this text; "
            "repeat to run the cases matching any.",
        ),
    ] = None,
    junit_xml: Annotated[
        Path | None,
        typer.Option("--junit-xml", help="Also write a JUnit XML report to this file."),
    ] = None,
    output_format: Annotated[
        TestFormat, typer.Option("--format", help="text, or json (one document).")
    ] = TestFormat.text,
) -> None:
    """Run a pack's YAML tests."""
    p = load_pack(pack)
    results = run_pack_tests(p, only=select or ())
    failed = [r for r in results if not r.passed]
    if select and not results:
        fail(f"no case of {p.id} matches -k {' -k '.join(select)}")
    if junit_xml is not None:
        junit_xml.write_text(_junit(p.id, results), encoding="utf-8")
    evaluable, missing = rule_coverage(p, results)
    if output_format is TestFormat.json:
        doc: dict[str, object] = {
            "pack": p.id,
            "passed": len(results) - len(failed),
            "failed": len(failed),
            "cases": [
                {
                    "id": r.case.test_id,
                    "file": r.case.file.name,
                    "name": r.case.name,
                    "passed": r.passed,
                    "problems": list(r.problems),
                }
                for r in results
            ],
        }
        if coverage:
            doc["coverage"] = {"evaluable": list(evaluable), "not_exercised": list(missing)}
        typer.echo(json.dumps(doc, ensure_ascii=False, indent=2))
    else:
        for r in results:
            mark = Text("PASS", style="green") if r.passed else Text("FAIL", style="red")
            console.print(mark, Text(r.case.test_id))
            for problem in r.problems:
                console.print(f"    {problem}", highlight=False)
        if coverage:
            pct = 100 * (len(evaluable) - len(missing)) // max(len(evaluable), 1)
            console.print(
                f"coverage: {len(evaluable) - len(missing)}/{len(evaluable)} evaluable rules "
                f"exercised ({pct}%)"
            )
            for rid in missing:
                console.print(f"  not exercised: {rid}")
        console.print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    if failed or not results:
        raise typer.Exit(1)


def _junit(pack_id: str, results: list[PackTestResult]) -> str:
    """A JUnit XML report: one test case per pack test case, problems as the failure."""
    failures = sum(not r.passed for r in results)
    suite = ET.Element(
        "testsuite", name=pack_id, tests=str(len(results)), failures=str(failures), errors="0"
    )
    for r in results:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"{pack_id}.{r.case.file.stem}",
            name=r.case.name,
            file=str(r.case.file),
        )
        if not r.passed:
            failure = ET.SubElement(case, "failure", message=r.problems[0])
            failure.text = "\n".join(r.problems)
    ET.indent(suite)
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"invalid date {text!r}; expected YYYY-MM-DD")


def _parse_as_of(text: str) -> date | datetime:
    if "T" not in text and " " not in text:
        return _parse_date(text)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        fail(f"invalid --as-of {text!r}; expected YYYY-MM-DD or an ISO instant with offset")
    if value.tzinfo is None:
        raise NaiveDatetimeError(f"--as-of {text!r} has no time zone; add +08:00")
    return value


def _parse_sets(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            fail(f"--set takes name=value, got {item!r}")
        out[name.strip()] = value.strip()
    return out


@app.command("evaluate")
def evaluate_command(
    pack: Annotated[str, typer.Argument(help="Pack id or path.")],
    facts: Annotated[
        list[Path], typer.Argument(help="Fact files or folders (JSON, YAML, CSV, Parquet).")
    ],
    as_of: Annotated[
        str,
        typer.Option(
            "--as-of", help="Evaluation instant: YYYY-MM-DD (end of day) or ISO with offset."
        ),
    ],
    fmt: Annotated[
        OutputFormat, typer.Option("--format", help="table, json or csv.")
    ] = OutputFormat.table,
    interpretation: Annotated[
        list[str] | None, typer.Option("--interpretation", "-i", help="name=option, repeatable.")
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a parameter: name=value, repeatable."),
    ] = None,
    include_compliant: Annotated[
        bool,
        typer.Option(
            "--all",
            help="Every finding, compliant ones too: the table lists them all, one a line; "
            "JSON and CSV include compliant findings.",
        ),
    ] = False,
    assume_tz: Annotated[
        str | None, typer.Option("--assume-tz", help="Zone for naive timestamps in the facts.")
    ] = None,
    engine: Annotated[
        EngineChoice,
        typer.Option(
            "--engine",
            help="auto (frame for large inputs when installed, else reference), reference, "
            "frame or stream; all return the same findings.",
        ),
    ] = EngineChoice.auto,
    limit: Annotated[
        int,
        typer.Option(
            "--limit",
            min=0,
            help="How many breaches the table lists, and how many rejects stderr lists.",
        ),
    ] = 20,
    fail_on: Annotated[
        list[FailOn] | None,
        typer.Option(
            "--fail-on",
            help="Exit with status 1 if there is a breach, or a rejected input; repeatable.",
        ),
    ] = None,
    rules: Annotated[
        str | None,
        typer.Option("--rules", help="Evaluate only these rules: comma-separated ids."),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            help="Write the results to a file by extension (.parquet, .csv, .jsonl: skips "
            "and rejects beside it; .json: one document) instead of printing them.",
        ),
    ] = None,
) -> None:
    """Evaluate facts against a pack and print the findings.

    The table shows a summary per rule and the breaches, one line each (--limit, --all).
    stderr always lists the files read and skipped and counts findings by outcome, skips
    and rejects. Exit status 0, or 1 with --fail-on when a breach or reject is found.
    """
    from vbp_rules.evaluation import evaluate  # noqa: PLC0415

    p = load_pack(pack)
    if set_:
        p = p.with_overrides(_parse_sets(set_))
    for f in facts:
        if not f.exists():
            fail(f"no such facts file or folder: {f}")
    fs = load_facts(*facts, assume_tz=assume_tz)
    require_facts(fs, facts)
    ev = evaluate(
        p,
        fs,
        as_of=_parse_as_of(as_of),
        engine=engine.value,
        rules=[r.strip() for r in rules.split(",") if r.strip()] if rules else None,
        interpretations=_parse_sets(interpretation or []),
    )
    warn_unsupported(ev)
    if output is not None:
        written = ev.write(output)
        err_console.print("wrote " + ", ".join(str(w) for w in written), highlight=False)
    elif fmt is OutputFormat.json:
        typer.echo(ev.to_json(include_compliant=include_compliant))
    elif fmt is OutputFormat.csv:
        # the findings table (stable columns); the rejects are listed on stderr below
        sys.stdout.write(ev.to_csv("findings", include_compliant=include_compliant))
    else:
        print_summary(p, ev)
        print_findings(ev, limit=limit, everything=include_compliant, actions=p.actions)
    print_accounting(fs, ev, limit=limit)
    raise typer.Exit(exit_status(ev, fail_on or ()))


def warn_unsupported(ev: Evaluation) -> None:
    """One warning line on stderr when the engine left rules unevaluated (never silent)."""
    left = sorted(
        {s.rule_id for s in ev.skips if s.reason == "unsupported_by_engine" and s.rule_id}
    )
    if left:
        err_console.print(
            f"warning: the {ev.engine} engine could not evaluate {len(left)} rule(s): "
            f"{', '.join(left)}; their subjects are skipped as unsupported_by_engine "
            "(--engine reference evaluates every rule)",
            highlight=False,
            markup=False,
        )


@app.command("schema")
def schema_command(
    kind: Annotated[SchemaKind, typer.Argument(help="pack, facts or pack-test")],
) -> None:
    """Print the JSON Schema of pack files, fact documents or pack test files."""
    makers = {
        SchemaKind.pack: pack_json_schema,
        SchemaKind.facts: facts_json_schema,
        SchemaKind.pack_test: pack_test_json_schema,
    }
    schema = makers[kind]()
    typer.echo(json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True, default=str))


@app.command("compare")
def compare_command(
    packs: Annotated[list[str], typer.Argument(help="Two or more pack ids or paths.")],
    fmt: Annotated[
        OutputFormat, typer.Option("--format", help="table, json or csv.")
    ] = OutputFormat.table,
    only_shared: Annotated[
        bool, typer.Option("--shared", help="Only rows several packs share.")
    ] = False,
) -> None:
    """Compare packs side by side: thresholds, tiers, SLA windows and actions."""
    from vbp_rules.compare import compare_packs, rows_to_records  # noqa: PLC0415
    from vbp_rules.results import neutral_cell  # noqa: PLC0415

    loaded = [load_pack(p) for p in packs]
    rows = [r for r in compare_packs(loaded) if r.shared or not only_shared]
    if fmt is OutputFormat.json:
        typer.echo(json.dumps([r.to_dict() for r in rows], ensure_ascii=False, indent=2))
        return
    if fmt is OutputFormat.csv:
        records = rows_to_records(rows)
        buf = io.StringIO()
        writer = csv.DictWriter(
            buf,
            fieldnames=["dimension", "key", "shared", *[p.id for p in loaded]],
            lineterminator="\n",
        )
        writer.writeheader()
        writer.writerows([{k: neutral_cell(v) for k, v in r.items()} for r in records])
        sys.stdout.write(buf.getvalue())
        return
    table = Table(title="pack comparison: " + " vs ".join(p.id for p in loaded), show_lines=True)
    table.add_column("dimension")
    table.add_column("key", overflow="fold")
    for p in loaded:
        table.add_column(p.id, overflow="fold")
    for r in rows:
        table.add_row(
            r.dimension,
            r.key + (" *" if r.shared else ""),
            *["\n".join(c) or "—" for _, c in r.cells],
        )
    console.print(table)
    console.print("* shared by several packs", highlight=False)
