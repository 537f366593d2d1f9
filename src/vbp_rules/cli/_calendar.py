"""The ``vbp-rules calendar`` command group: working days, deadlines, yearly schedules.

Every command takes ``--json`` for programs; bad input prints one line and exits 2.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import typer
from rich.table import Table

from vbp_rules.calendar import (
    CalendarDays,
    Duration,
    EndOfNextMonth,
    Hours,
    Months,
    WorkCalendar,
    WorkingDays,
    ensure_aware,
)
from vbp_rules.cli import app
from vbp_rules.cli._common import console, fail
from vbp_rules.errors import VbpRulesError

__all__ = ["calendar_app"]

calendar_app = typer.Typer(
    name="calendar",
    help="Mainland-China working days (调休 included), deadlines and yearly schedules.",
    no_args_is_help=True,
)
app.add_typer(calendar_app, name="calendar")

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_JSON_HELP = "Print JSON for programs."


@contextlib.contextmanager
def _one_line_errors() -> Iterator[None]:
    try:
        yield
    except VbpRulesError as exc:
        fail(" ".join(str(exc).split()))


def _calendar(ctx: typer.Context) -> WorkCalendar:
    schedules: tuple[Path, ...] = (ctx.obj or {}).get("schedules", ())
    with _one_line_errors():
        return WorkCalendar.china(schedules=schedules)


def _parse_date(text: str, what: str = "date") -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        fail(f"invalid {what} {text!r}: expected YYYY-MM-DD, e.g. 2024-09-27")


def _echo_json(payload: object) -> None:
    typer.echo(json.dumps(payload, ensure_ascii=False, default=_json_default))


def _json_default(value: object) -> str:
    if isinstance(value, date):  # datetimes too
        return value.isoformat()
    raise TypeError(type(value).__name__)  # pragma: no cover - only dates reach here


def _both(zh: str | None, en: str | None) -> str:
    return " ".join(part for part in (zh, en) if part)


@calendar_app.callback()
def _calendar_root(
    ctx: typer.Context,
    schedule: list[Path] = typer.Option(  # noqa: B008 - typer option
        [],
        "--schedule",
        help="Official schedule YAML file for a year (repeatable); see docs/calendar.md.",
    ),
) -> None:
    """Mainland-China working days (调休 included), deadlines and yearly schedules."""
    ctx.ensure_object(dict)["schedules"] = tuple(schedule)


@calendar_app.command("is-working")
def is_working(
    ctx: typer.Context,
    day: str = typer.Argument(..., help="The date, YYYY-MM-DD."),
    as_json: bool = typer.Option(False, "--json", help=_JSON_HELP),  # noqa: FBT003
) -> None:
    """Say whether a date is a working day, and why."""
    cal = _calendar(ctx)
    d = _parse_date(day)
    with _one_line_errors():
        row = cal.calendar_table(d, d)[0]
    if as_json:
        _echo_json(row.to_dict())
        return
    if row.is_make_up_day:
        served = _both(row.make_up_for_zh, row.make_up_for_en)
        reason = f"make-up working day for {served}" if served else "make-up working day"
    elif row.holiday_name_zh:
        reason = _both(row.holiday_name_zh, row.holiday_name_en)
    elif d.weekday() >= 5:
        reason = "weekend"
    else:
        reason = ""
    verdict = "is a working day" if row.is_working_day else "is not a working day"
    note = " [provisional year]" if row.is_provisional else ""
    typer.echo(f"{d} {verdict}" + (f" ({reason})" if reason else "") + note)


@calendar_app.command("add", context_settings={"ignore_unknown_options": True})
def add(
    ctx: typer.Context,
    day: str = typer.Argument(..., help="The date to count from, YYYY-MM-DD (not counted)."),
    n: int = typer.Argument(..., help="Working days to add (0 rolls forward; negative: back)."),
    as_json: bool = typer.Option(False, "--json", help=_JSON_HELP),  # noqa: FBT003
) -> None:
    """Print the n-th working day after a date (before it for negative n)."""
    cal = _calendar(ctx)
    d = _parse_date(day)
    with _one_line_errors():
        result = cal.add_working_days(d, n)
        provisional = any(
            cal.is_provisional(year) for year in range(min(d, result).year, max(d, result).year + 1)
        )
    if as_json:
        _echo_json({"date": d, "n": n, "result": result, "provisional": provisional})
        return
    typer.echo(result.isoformat())
    if provisional:
        typer.echo("warning: the count runs through a provisional year", err=True)


@calendar_app.command("between")
def between(
    ctx: typer.Context,
    start: str = typer.Argument(..., help="From this date (excluded), YYYY-MM-DD."),
    end: str = typer.Argument(..., help="To this date (included), YYYY-MM-DD."),
    as_json: bool = typer.Option(False, "--json", help=_JSON_HELP),  # noqa: FBT003
) -> None:
    """Print the number of working days in (START, END] (negative if END is before START)."""
    cal = _calendar(ctx)
    a, b = _parse_date(start, "start date"), _parse_date(end, "end date")
    with _one_line_errors():
        count = cal.working_days_between(a, b)
    if as_json:
        _echo_json({"from": a, "to": b, "working_days": count})
        return
    typer.echo(str(count))


def _period(
    working_days: int | None,
    calendar_days: int | None,
    hours: int | None,
    months: int | None,
    *,
    end_of_next_month: bool,
) -> Duration:
    given: list[Duration] = []
    with _one_line_errors():
        if working_days is not None:
            given.append(WorkingDays(working_days))
        if calendar_days is not None:
            given.append(CalendarDays(calendar_days))
        if hours is not None:
            given.append(Hours(hours))
        if months is not None:
            given.append(Months(months))
    if end_of_next_month:
        given.append(EndOfNextMonth())
    if len(given) != 1:
        fail(
            "give exactly one period: --working-days N, --calendar-days N, --hours N, "
            "--months N or --end-of-next-month"
        )
    return given[0]


def _parse_instant(text: str, tz: str | None) -> datetime:
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        fail(f"invalid timestamp {text!r}: expected ISO 8601 such as 2024-09-27T15:30+08:00")
    if parsed.tzinfo is None and tz is None:
        fail(
            f"timestamp {text!r} has no time zone: add an offset such as +08:00, "
            "or pass --tz Asia/Shanghai"
        )
    with _one_line_errors():
        return ensure_aware(parsed, tz=tz)


@calendar_app.command("deadline")
def deadline(
    ctx: typer.Context,
    start: str = typer.Argument(..., help="The start instant, e.g. 2024-09-27T15:30+08:00."),
    working_days: int | None = typer.Option(None, "--working-days", help="N working days."),
    calendar_days: int | None = typer.Option(None, "--calendar-days", help="N calendar days."),
    hours: int | None = typer.Option(None, "--hours", help="N hours from the exact instant."),
    months: int | None = typer.Option(None, "--months", help="N months."),
    end_of_next_month: bool = typer.Option(
        False,  # noqa: FBT003
        "--end-of-next-month",
        help="The end of the next month (次月底).",
    ),
    tz: str | None = typer.Option(None, "--tz", help="Zone to read a naive START in."),
    strict: bool = typer.Option(
        False,  # noqa: FBT003
        "--strict",
        help="Fail instead of answering from a provisional year.",
    ),
    as_json: bool = typer.Option(False, "--json", help=_JSON_HELP),  # noqa: FBT003
) -> None:
    """Print when a period counted from START ends (民法典第二百零一至二百零三条)."""
    cal = _calendar(ctx)
    period = _period(
        working_days, calendar_days, hours, months, end_of_next_month=end_of_next_month
    )
    instant = _parse_instant(start, tz)
    with _one_line_errors():
        result = cal.deadline(instant, period, strict=strict)
    if as_json:
        _echo_json(
            {
                "start": result.start,
                "period": {"unit": period.unit, "n": getattr(period, "n", None)},
                "last_day": result.last_day,
                "due": result.due,
                "provisional": result.provisional,
            }
        )
        return
    typer.echo(f"period:   {period}")
    typer.echo(f"start:    {result.start.isoformat()}")
    if result.last_day is None:
        typer.echo(f"due:      {result.due.isoformat()}")
    else:
        last = result.last_day
        typer.echo(f"last day: {last.isoformat()} ({_WEEKDAYS[last.weekday()]})")
        typer.echo(f"due:      {result.due.isoformat()} (24:00 of {last.isoformat()})")
    if result.provisional:
        typer.echo(
            "warning: provisional: the period runs through a year without an official "
            "holiday schedule; add one with --schedule FILE",
            err=True,
        )


@calendar_app.command("year")
def year(
    ctx: typer.Context,
    which: int = typer.Argument(..., metavar="YEAR", help="The year, e.g. 2024."),
    as_json: bool = typer.Option(False, "--json", help=_JSON_HELP),  # noqa: FBT003
) -> None:
    """Show a year's holidays and make-up working days, and whether the year is official."""
    cal = _calendar(ctx)
    with _one_line_errors():
        provisional = cal.is_provisional(which)
        rows = cal.calendar_table(date(which, 1, 1), date(which, 12, 31))
        declared = cal.days_off(which)
    shown = [row for row in rows if row.holiday_name_zh or row.is_make_up_day]
    if as_json:
        _echo_json(
            {
                "year": which,
                "provisional": provisional,
                "working_days": sum(row.is_working_day for row in rows),
                "days": [row.to_dict() for row in shown],
            }
        )
        return
    status = (
        "PROVISIONAL: no official schedule known; computed by rule (statutory days and 补假, "
        "no make-up days). Add the official one with --schedule FILE."
        if provisional
        else "official State Council schedule"
    )
    table = Table(title=f"{which}: {status}", title_justify="left")
    for header in ("date", "weekday", "kind", "名称", "name"):
        table.add_column(header)
    for row in shown:
        if row.is_make_up_day:
            kind, zh, en = "make-up working day", row.make_up_for_zh, row.make_up_for_en
        else:
            kind = "day off" if row.date in declared else "weekend"
            zh, en = row.holiday_name_zh, row.holiday_name_en
        table.add_row(
            row.date.isoformat(), _WEEKDAYS[row.date.weekday()][:3], kind, zh or "", en or ""
        )
    console.print(table)
    make_up = sum(row.is_make_up_day for row in rows)
    working = sum(row.is_working_day for row in rows)
    console.print(
        f"{len(declared)} declared days off, {make_up} make-up working days, "
        f"{working} working days in {which}.",
        highlight=False,
    )
