"""Analysis commands: synthetic provinces and what-if (diff and sweep)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress
from rich.table import Table
from rich.text import Text

from vbp_rules.cli import app
from vbp_rules.cli._common import console, err_console, fail
from vbp_rules.cli._lazy import load_facts, load_pack
from vbp_rules.cli._packs import OutputFormat, _parse_as_of, _parse_sets
from vbp_rules.cli._report import print_rejects, print_sources, require_facts


def _frame_extra() -> None:
    try:
        import polars  # noqa: F401, PLC0415
    except ModuleNotFoundError:
        fail("this command needs the frame extra: pip install 'vbp-rules[frame]'")


@app.command("synth")
def synth_command(
    out: Annotated[Path, typer.Argument(help="Folder to write one Parquet file per fact kind.")],
    pack: Annotated[str, typer.Option("--pack", help="Pack whose rules the data probes.")] = (
        "jiangxi-2024"
    ),
    orders: Annotated[int, typer.Option("--orders", min=1, help="Order lines.")] = 10_000,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same data.")] = 7,
) -> None:
    """Write a synthetic province (deterministic by seed) as Parquet fact files."""
    _frame_extra()
    from vbp_rules.synth import write_synthetic  # noqa: PLC0415

    load_pack(pack)  # a clear error for an unknown pack id
    with Progress(
        transient=True, console=err_console, disable=not err_console.is_terminal
    ) as progress:
        progress.add_task(f"synthesizing {orders:,} orders", total=None)
        paths = write_synthetic(out, pack, orders=orders, seed=seed)
    for kind, path in sorted(paths.items()):
        console.print(f"{kind:26} {path}", highlight=False)


def _print_frame(frame: Any, fmt: OutputFormat, title: str) -> None:
    if fmt is OutputFormat.json:
        typer.echo(json.dumps(frame.to_dicts(), ensure_ascii=False, indent=2, default=str))
    elif fmt is OutputFormat.csv:
        import polars as pl  # noqa: PLC0415 - the frame extra, checked by the command

        # cells a spreadsheet would run as formulas get a leading ' (see docs/cli.md)
        texts = [c for c, t in frame.schema.items() if t == pl.String]
        neutral = [pl.col(c).str.replace(r"^([=+\-@\t\r])", "'$1") for c in texts]
        sys.stdout.write(frame.with_columns(neutral).write_csv())
    else:
        table = Table(title=title)
        for column in frame.columns:
            table.add_column(column, overflow="fold")
        for row in frame.iter_rows():
            table.add_row(*["" if v is None else str(v) for v in row])
        console.print(table)


@app.command("whatif")
def whatif_command(
    pack: Annotated[str, typer.Argument(help="Pack id or path.")],
    facts: Annotated[list[Path], typer.Argument(help="Fact files or folders.")],
    as_of: Annotated[str, typer.Option("--as-of", help="YYYY-MM-DD or an ISO instant.")],
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="The variant: name=value, repeatable (diff mode)."),
    ] = None,
    sweep: Annotated[
        str | None, typer.Option("--sweep", help="A parameter to sweep (sweep mode).")
    ] = None,
    values: Annotated[
        str | None, typer.Option("--values", help="Comma-separated values for --sweep.")
    ] = None,
    rule: Annotated[
        list[str] | None, typer.Option("--rule", help="Only these rules (sweep), repeatable.")
    ] = None,
    fmt: Annotated[OutputFormat, typer.Option("--format", help="table, json or csv.")] = (
        OutputFormat.table
    ),
    assume_tz: Annotated[
        str | None, typer.Option("--assume-tz", help="Zone for naive timestamps in the facts.")
    ] = None,
) -> None:
    """What if a threshold were different? Diff two variants, or sweep one parameter.

    stderr lists the files read and skipped and the rejected inputs; an empty input is an
    error (exit 2).
    """
    _frame_extra()
    from vbp_rules.engine.frame import evaluate_frame, prepare  # noqa: PLC0415
    from vbp_rules.whatif import diff  # noqa: PLC0415
    from vbp_rules.whatif import sweep as run_sweep  # noqa: PLC0415

    base = load_pack(pack)
    for f in facts:
        if not f.exists():
            fail(f"no such facts file or folder: {f}")
    when = _parse_as_of(as_of)
    fs = load_facts(*facts, assume_tz=assume_tz)
    require_facts(fs, facts)
    print_sources(fs)
    err_console.print(Text(f"rejects: {len(fs.rejects)}"))
    print_rejects(fs.rejects, limit=20)
    if sweep is not None:
        if not values:
            fail("--sweep needs --values, e.g. --values 80%,85%,90%")
        if set_:
            fail("give either --set (diff) or --sweep (sweep), not both")
        grid = [v.strip() for v in values.split(",") if v.strip()]
        with Progress(
            transient=True, console=err_console, disable=not err_console.is_terminal
        ) as progress:
            progress.add_task(f"sweeping {sweep} over {len(grid)} values", total=None)
            table = run_sweep(base, fs, sweep, grid, as_of=when, rules=rule)
        _print_frame(table, fmt, f"{base.id}: sweep of {sweep}")
        return
    if not set_:
        fail("give --set name=value (diff against the pack as written) or --sweep")
    variant = base.with_overrides(_parse_sets(set_))
    with Progress(
        transient=True, console=err_console, disable=not err_console.is_terminal
    ) as progress:
        progress.add_task("evaluating both variants", total=None)
        prepared = prepare(fs)
        a = evaluate_frame(base, prepared, as_of=when)
        b = evaluate_frame(variant, prepared, as_of=when)
    changes = diff(a, b)
    _print_frame(changes.to_frame(), fmt, f"{base.id}: {', '.join(set_)} — {len(changes)} changes")
