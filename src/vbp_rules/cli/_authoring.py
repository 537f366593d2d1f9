"""Authoring commands: ``new-pack`` (scaffold a pack from a notice) and ``lint``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from vbp_rules.cli import app
from vbp_rules.cli._common import console, fail
from vbp_rules.cli._lazy import lint_pack, load_pack, scaffold_pack


@app.command("new-pack")
def new_pack_command(
    pack_id: Annotated[
        str, typer.Argument(metavar="ID", help="The new pack's id, e.g. anhui-2025.")
    ],
    source: Annotated[
        Path, typer.Option("--from", help="The notice's text (UTF-8), one clause marker a line.")
    ],
    dest: Annotated[
        Path, typer.Option("--dest", help="Folder that receives the pack folder.")
    ] = Path("policy_packs"),
) -> None:
    """Scaffold a pack folder from a notice: pack.yaml, tests/, README.md.

    Every clause found in the text (一、 （一） (十二)) becomes a needs_review rule citing
    the clause's first sentence; the README lists them in a coverage table.
    """
    if not source.is_file():
        fail(f"no such source file: {source}")
    try:
        folder = scaffold_pack(pack_id, source, dest)
    except (FileExistsError, ValueError) as exc:
        fail(str(exc))
    pack = load_pack(folder)
    console.print(
        f"created {folder}: {len(pack.rules)} clause rules to encode; next: "
        f"vbp-rules lint {folder} --source {source}",
        highlight=False,
    )


@app.command("lint")
def lint_command(
    pack: Annotated[str, typer.Argument(help="Pack id or path.")],
    source: Annotated[
        Path | None,
        typer.Option("--source", help="The notice's text (default: the pack's source.file)."),
    ] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Warnings fail too.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    allow: Annotated[
        list[str] | None,
        typer.Option(
            "--allow",
            help="WHERE=REASON: accept the issues at WHERE (e.g. rules.my-rule) for this "
            "reason; they are shown as notes.",
        ),
    ] = None,
) -> None:
    """Check a pack against its notice: TODOs, citations, bound words, clauses, parameters.

    The notice is the pack's source.txt (or --source). Exit status 1 when an error is
    found (or a warning, with --strict).
    """
    if source is not None and not source.is_file():
        fail(f"no such source file: {source}")
    allowed: dict[str, str] = {}
    for item in allow or []:
        where, sep, reason = item.partition("=")
        if not sep or not where or not reason:
            fail(f"--allow takes WHERE=REASON, got {item!r}")
        allowed[where] = reason
    p = load_pack(pack)
    issues = lint_pack(p, source=source, allow=allowed)
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {"level": i.level, "code": i.code, "where": i.where, "message": i.message}
                    for i in issues
                ],
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        for issue in issues:
            console.print(str(issue), highlight=False, markup=False)
        counts = {
            lvl: sum(1 for i in issues if i.level == lvl) for lvl in ("error", "warning", "info")
        }
        console.print(
            f"{p.id}: {counts['error']} error(s), {counts['warning']} warning(s), "
            f"{counts['info']} note(s)"
        )
    if any(i.level == "error" or (strict and i.level == "warning") for i in issues):
        raise typer.Exit(1)


@app.command("check")
def check_command(
    pack: Annotated[str, typer.Argument(help="Pack id or path.")],
    allow: Annotated[
        list[str] | None,
        typer.Option(
            "--allow",
            help="RULE=REASON: a rule whose bound word deliberately differs from the source's.",
        ),
    ] = None,
    notes: Annotated[bool, typer.Option("--notes", help="Also list what was not covered.")] = False,
) -> None:
    """Run the property checks: tiers exhaustive, actions monotone, bound words honoured.

    Facts are generated on, just below and just above every bound, around holidays for
    deadlines, and with exemptions on and off, and evaluated with the reference engine.
    Exit status 1 when a property does not hold.
    """
    from vbp_rules.testing.checks import run_checks  # noqa: PLC0415

    allowed: dict[str, str] = {}
    for item in allow or []:
        rule, sep, reason = item.partition("=")
        if not sep or not rule:
            fail(f"--allow takes RULE=REASON, got {item!r}")
        allowed[rule] = reason
    p = load_pack(pack)
    report = run_checks(p, allow=allowed)
    for problem in report.problems:
        console.print(str(problem), highlight=False, markup=False)
    if notes:
        for note in report.notes:
            console.print(f"note: {note}", highlight=False, markup=False)
    console.print(
        f"{p.id}: {len(report.problems)} problem(s) in {report.cases} generated cases",
        highlight=False,
    )
    if report.problems:
        raise typer.Exit(1)
