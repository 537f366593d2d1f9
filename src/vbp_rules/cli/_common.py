"""Shared CLI plumbing: error handling, consoles, option parsing.

Both consoles are built with ``markup=False`` and ``highlight=False``: pack text, fact
values, file names and error messages are printed as they are, never read as rich markup
(``[out_of_force]``, ``[/bold]``, ``[link=...]``). Styling is given explicitly with
:class:`rich.text.Text`. Results go to stdout; errors, warnings, counts and progress go
to stderr, so ``--format json|csv`` output can be piped as it is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.text import Text

from vbp_rules.errors import VbpRulesError

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_FAILED",
    "cli_words",
    "console",
    "err_console",
    "fail",
    "print_error",
    "run_app",
]

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2

console = Console(soft_wrap=True, markup=False, highlight=False)
err_console = Console(stderr=True, soft_wrap=True, markup=False, highlight=False)

# Library messages name Python parameters; on the command line the same hint names the
# option (or, where the CLI has none, is dropped).
_CLI_WORDS = (
    (re.compile(r"\bor pass assume_tz\b"), "or pass --assume-tz Asia/Shanghai"),
    (re.compile(r"\bfor assume_tz\b"), "for --assume-tz"),
    (re.compile(r"\s+or pass kind=(?=\W|$)"), ""),
)


def cli_words(message: str) -> str:
    """Reword a library message for the command line (``assume_tz`` -> ``--assume-tz``).

    >>> cli_words("naive timestamp '09:00' has no time zone; add +08:00 or pass assume_tz")
    "naive timestamp '09:00' has no time zone; add +08:00 or pass --assume-tz Asia/Shanghai"
    """
    for pattern, replacement in _CLI_WORDS:
        message = pattern.sub(replacement, message)
    return message


def print_error(message: str) -> None:
    """Print ``error: message`` on stderr, the message as plain text (never markup)."""
    err_console.print(Text("error:", style="bold red"), Text(cli_words(message.strip())))


def fail(message: str) -> NoReturn:
    """Print a one-line error on stderr and exit with status 2."""
    print_error(message)
    raise typer.Exit(EXIT_BAD_INPUT)


def _plain_reason(error: Mapping[str, Any]) -> str:
    """One validation problem (typer checks values with pydantic) in the CLI's words."""
    kind = error.get("type", "")
    context = error.get("ctx") or {}
    given = error.get("input")
    if kind == "int_parsing":
        return f"{given!r} is not a whole number"
    if kind in {"float_parsing", "decimal_parsing"}:
        return f"{given!r} is not a number"
    if kind == "greater_than_equal":
        return f"{given} is less than {context.get('ge')}"
    if kind == "less_than_equal":
        return f"{given} is more than {context.get('le')}"
    if kind == "greater_than":
        return f"{given} is not more than {context.get('gt')}"
    if kind == "less_than":
        return f"{given} is not less than {context.get('lt')}"
    return str(error.get("msg", "invalid value")).removeprefix("Value error, ")


def _usage_message(exc: typer.TyperException) -> str:
    format_message = getattr(exc, "format_message", None)
    message = str(format_message() if callable(format_message) else exc)
    errors = getattr(exc.__cause__, "errors", None)  # a pydantic ValidationError
    if callable(errors):
        reasons = "; ".join(_plain_reason(e) for e in errors())
        head, sep, _ = message.partition(": ")
        message = f"{head}: {reasons}" if sep and head.startswith("Invalid value") else reasons
    ctx = getattr(exc, "ctx", None)
    if ctx is not None:
        message += f" (see '{ctx.command_path} --help')"
    return message


def run_app(app: typer.Typer, argv: list[str] | None) -> int:
    """Run a typer app, turning library errors into a one-line message and exit 2."""
    command = typer.main.get_command(app)
    try:
        result = command.main(args=argv, prog_name="vbp-rules", standalone_mode=False)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.TyperException as exc:  # usage errors: bad option, missing argument
        show = getattr(exc, "show", None)
        if type(exc).__name__ == "NoArgsIsHelpError" and callable(show):
            show()  # a group called without a command prints its help
            return int(getattr(exc, "exit_code", EXIT_BAD_INPUT))
        print_error(_usage_message(exc))
        return EXIT_BAD_INPUT
    except typer.Abort:
        err_console.print("aborted")
        return EXIT_FAILED
    except VbpRulesError as exc:
        print_error(str(exc))
        return EXIT_BAD_INPUT
    if isinstance(result, int):
        return result
    return 0
