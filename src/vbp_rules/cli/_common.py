"""Shared CLI plumbing: error handling, consoles, option parsing."""

from __future__ import annotations

import sys
from typing import NoReturn

import typer
from rich.console import Console

from vbp_rules.errors import VbpRulesError

__all__ = ["EXIT_BAD_INPUT", "console", "err_console", "fail", "run_app"]

EXIT_BAD_INPUT = 2

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)


def fail(message: str) -> NoReturn:
    """Print a one-line error on stderr and exit with status 2."""
    first = message.strip()
    err_console.print(f"[bold red]error:[/] {first}", markup=True, highlight=False)
    raise typer.Exit(EXIT_BAD_INPUT)


def run_app(app: typer.Typer, argv: list[str] | None) -> int:
    """Run a typer app, turning library errors into a one-line message and exit 2."""
    command = typer.main.get_command(app)
    try:
        result = command.main(args=argv, prog_name="vbp-rules", standalone_mode=False)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.TyperException as exc:  # usage errors: bad option, missing argument
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:  # pragma: no cover - every typer usage error can show itself
            err_console.print(f"error: {exc.format_message()}", highlight=False)
        return EXIT_BAD_INPUT
    except typer.Abort:
        err_console.print("aborted")
        return 1
    except VbpRulesError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
        return EXIT_BAD_INPUT
    if isinstance(result, int):
        return result
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(1)
