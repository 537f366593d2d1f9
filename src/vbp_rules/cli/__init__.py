"""The ``vbp-rules`` command line.

Each command group lives in its own private module and registers itself on :data:`app`.
Bad input prints a one-line error and exits with status 2, never a traceback.
"""

from __future__ import annotations

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
) -> None:
    """Evaluate Chinese VBP (集采) policy packs against procurement facts."""


def _register() -> None:
    # Command groups are imported here so that each one stays in its own module.
    from vbp_rules.cli import _calendar  # noqa: F401, PLC0415

    try:  # the packs commands arrive with the packs subpackage
        from vbp_rules.cli import _packs  # noqa: F401, PLC0415
    except ModuleNotFoundError as exc:  # pragma: no cover - transitional
        if exc.name != "vbp_rules.cli._packs":
            raise


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit status (0 ok, 1 findings/failures, 2 bad input)."""
    _register()
    return run_app(app, argv)
