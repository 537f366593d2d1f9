"""Pack commands: list, show, validate, test, evaluate, schema."""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from vbp_rules.cli import app
from vbp_rules.cli._common import console, err_console, fail
from vbp_rules.errors import NaiveDatetimeError, VbpRulesError
from vbp_rules.facts import facts_json_schema, load_facts
from vbp_rules.packs import list_packs, load_pack, pack_json_schema
from vbp_rules.packs._params import render_parameter
from vbp_rules.packs.testing import rule_coverage, run_pack_tests


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
    console.print(f"[bold]{m.id}[/] — {m.title.zh}\n{m.title.en}", highlight=False)
    window = f"{m.in_force.start} .. {m.in_force.end or 'open'}" if m.in_force else "not stated"
    console.print(
        f"document {m.document_number}, issued {m.issued_on}, status {m.status}, in force {window}",
        highlight=False,
    )
    console.print(
        f"issuers: {p.issuer}" + (f"; extends {m.extends}" if m.extends else ""), highlight=False
    )
    if not m.source.complete:
        console.print(
            f"[yellow]incomplete source:[/] {m.source.note.en if m.source.note else ''}",
            highlight=False,
        )
    params = Table(title="parameters")
    for col in ("name", "type", "value", "clause", "source text"):
        params.add_column(col, overflow="fold")
    for name, prm in m.parameters.items():
        value = render_parameter(p.values.get(name))
        if p.values.get(name) is None:
            value = "[yellow]unspecified in source[/]"
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
    """Validate pack files; every problem is printed with file, line and field."""
    bad = 0
    for f in files:
        try:
            p = load_pack(f)
        except VbpRulesError as exc:
            bad += 1
            err_console.print(str(exc), highlight=False)
            continue
        console.print(
            f"{f}: ok ({p.id}, {len(p.rules)} rules, {len(p.model.parameters)} parameters)",
            highlight=False,
        )
    if bad:
        raise typer.Exit(1)


@app.command("test")
def pack_test_command(
    pack: Annotated[str, typer.Argument(help="Pack id or path.")],
    coverage: Annotated[
        bool, typer.Option("--coverage", help="Report which rules the tests exercised.")
    ] = False,
) -> None:
    """Run a pack's YAML tests."""
    p = load_pack(pack)
    results = run_pack_tests(p)
    failed = [r for r in results if not r.passed]
    for r in results:
        mark = "[green]PASS[/]" if r.passed else "[red]FAIL[/]"
        console.print(f"{mark} {r.case.test_id}", highlight=False)
        for problem in r.problems:
            console.print(f"    {problem}", highlight=False)
    if coverage:
        evaluable, missing = rule_coverage(p, results)
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
        bool, typer.Option("--all", help="Include compliant findings.")
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
) -> None:
    """Evaluate facts against a pack and print the findings."""
    from vbp_rules.engine import get_engine, pick_engine  # noqa: PLC0415

    p = load_pack(pack)
    if set_:
        p = p.with_overrides(_parse_sets(set_))
    for f in facts:
        if not f.exists():
            fail(f"no such facts file or folder: {f}")
    fs = load_facts(*facts, assume_tz=assume_tz)
    evaluate = get_engine(pick_engine(engine.value, fs))
    ev = evaluate(
        p, fs, as_of=_parse_as_of(as_of), interpretations=_parse_sets(interpretation or [])
    )
    if fmt is OutputFormat.json:
        typer.echo(ev.to_json(include_compliant=include_compliant))
        return
    records = ev.to_records(include_compliant=include_compliant)
    if fmt is OutputFormat.csv:
        buf = io.StringIO()
        fields = list(records[0]) if records else ["pack", "rule", "outcome", "subject"]
        writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
        sys.stdout.write(buf.getvalue())
        return
    table = Table(title=f"{p.id} as of {ev.as_of.isoformat()} — {len(records)} findings")
    for col in ("rule", "clause", "subject", "period", "outcome", "tier", "actions", "values"):
        table.add_column(col, overflow="fold")
    known = p.actions
    for finding in ev.findings:
        if finding.outcome == "compliant" and not include_compliant:
            continue
        values = ", ".join(f"{k}={_short(v)}" for k, v in finding.values)
        flags = f" [{','.join(sorted(finding.flags))}]" if finding.flags else ""
        table.add_row(
            finding.rule_id,
            finding.citation.clause,
            str(finding.subject),
            str(finding.period or ""),
            finding.outcome + flags,
            finding.tier or "",
            ", ".join(known[a].en if a in known else a for a in finding.actions),
            values,
        )
    console.print(table)
    summary = ev.summary()
    console.print(
        f"engine: {ev.engine}; summary: " + ", ".join(f"{k}={v}" for k, v in summary.items()),
        highlight=False,
    )
    for r in ev.rejects[:20]:
        err_console.print(f"rejected: {r}", highlight=False)


def _short(v: object) -> str:
    from vbp_rules.engine.reference import _fmt  # noqa: PLC0415

    return _fmt(v)


@app.command("schema")
def schema_command(kind: Annotated[SchemaKind, typer.Argument(help="pack or facts")]) -> None:
    """Print the JSON Schema of pack files or fact documents."""
    schema = pack_json_schema() if kind is SchemaKind.pack else facts_json_schema()
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
        writer.writerows(records)
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
