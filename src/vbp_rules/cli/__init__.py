"""The ``vbp-rules`` command line.

Each command group lives in its own private module and registers itself on :data:`app`.
Bad input prints a one-line error and exits with status 2, never a traceback.
"""

from __future__ import annotations

import contextvars
import gc
from pathlib import Path
from typing import Annotated

import typer

from vbp_rules._version import __version__
from vbp_rules.cli._common import run_app

app = typer.Typer(
    name="vbp-rules",
    help="Evaluate Chinese VBP (集采) policy packs against procurement facts.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"vbp-rules {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    version: bool = typer.Option(
        False,  # noqa: FBT003 - typer default
        "--version",
        callback=_version_callback,
        is_eager=True,
        help="Print the version and exit.",
    ),
    packs_dir: Annotated[
        list[Path] | None,
        typer.Option(
            "--packs-dir",
            help="A folder of local packs, searched for pack ids (and extends:) before "
            "$VBP_RULES_PACKS, the built-in packs and installed ones; repeatable.",
        ),
    ] = None,
) -> None:
    """Evaluate Chinese VBP (集采) policy packs against procurement facts."""
    del version  # handled by its eager callback
    if packs_dir:
        from vbp_rules.packs.loader import _DIRS  # noqa: PLC0415 - keep start-up light

        _DIRS.set(tuple(packs_dir))


#: Command-group modules, each registering itself on :data:`app` when imported.
COMMAND_MODULES = ("_calendar", "_packs", "_authoring", "_analysis")


def _register() -> None:
    import importlib  # noqa: PLC0415

    for name in COMMAND_MODULES:
        full = f"vbp_rules.cli.{name}"
        try:
            importlib.import_module(full)
        except ModuleNotFoundError as exc:  # a group whose module is not shipped yet
            if exc.name != full:
                raise


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit status (0 ok, 1 findings/failures, 2 bad input).

    The command owns its process, so it runs with automatic garbage collection off (bulk
    loading and evaluation allocate many acyclic objects the collector would rescan); the
    collector's state is restored exactly when the command returns. The library itself
    never touches the collector.
    """
    _register()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        # --packs-dir holds for this run only: the run gets its own copy of the context.
        return contextvars.copy_context().run(run_app, app, argv)
    finally:
        if was_enabled:
            gc.enable()
