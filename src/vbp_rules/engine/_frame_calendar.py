"""The calendar as columns: a day table the frame engine joins for working-day arithmetic.

One row per day of the calendar's range: its day number, whether it is a working day,
its working-day index (working days up to and including it) and the first working day
on or after it (the Civil Code's roll-forward, 民法典第二百零三条); and one row per
working day: its index and day number. ``add_working_days``, ``working_days_between``,
working-day deadlines and roll-forwards become integer arithmetic and joins, exact on
every backend, with no Python per row.
"""

from __future__ import annotations

from typing import Any

import narwhals as nw

from vbp_rules.calendar import WorkCalendar
from vbp_rules.engine._frame_compile import Scope
from vbp_rules.engine._frame_ingest import day_number

__all__ = ["apply_lookups", "day_tables", "provisional_years"]

_TABLES: dict[int, tuple[WorkCalendar, Any, Any, Any]] = {}


def day_tables(calendar: WorkCalendar) -> tuple[Any, Any, Any]:
    """Polars tables ``(days, working_days)`` for ``calendar`` (built once per calendar).

    ``days``: ``__day`` (day number), ``__working`` (0/1), ``__cum`` (working-day index),
    ``__roll`` (day number of the first working day on or after it, null past the end).
    ``working_days``: ``__cum`` (1, 2, …) and ``__wday`` (its day number).
    Days also carry ``__mi`` (months since 1970-01), ``__dom`` and ``__year``;
    ``months``: ``__mi`` -> ``__mfirst`` (its first day number) and ``__mlen`` (days).
    """
    found = _TABLES.get(id(calendar))
    if found is not None and found[0] is calendar:
        return found[1], found[2], found[3]
    import polars as pl  # noqa: PLC0415 - optional extra

    first, working, cum, positions = calendar.day_arrays()
    base = day_number(first)
    n = len(working)
    days = pl.DataFrame(
        {
            "__day": pl.int_range(base, base + n, eager=True, dtype=pl.Int64),
            "__working": pl.Series(list(working), dtype=pl.Int64),
            "__cum": pl.Series(cum, dtype=pl.Int64),
        }
    )
    wdays = pl.DataFrame(
        {
            "__cum": pl.int_range(1, len(positions) + 1, eager=True, dtype=pl.Int64),
            "__wday": pl.Series(positions, dtype=pl.Int64) + base,
        }
    )
    # roll-forward: the working day whose index is cum (on a working day) or cum + 1
    target = days.select("__day", __t=pl.col("__cum") + 1 - pl.col("__working")).join(
        wdays.rename({"__cum": "__t", "__wday": "__roll"}), on="__t", how="left"
    )
    days = days.join(target.select("__day", "__roll"), on="__day", how="left").sort("__day")
    dates = (pl.col("__day")).cast(pl.Date)
    days = days.with_columns(
        __mi=((dates.dt.year().cast(pl.Int64) - 1970) * 12 + dates.dt.month().cast(pl.Int64) - 1),
        __dom=dates.dt.day().cast(pl.Int64),
        __year=dates.dt.year().cast(pl.Int64),
    )
    months = (
        days.group_by("__mi")
        .agg(__mfirst=pl.col("__day").min(), __mlen=pl.len().cast(pl.Int64))
        .sort("__mi")
    )
    _TABLES[id(calendar)] = (calendar, days, wdays, months)
    return days, wdays, months


def provisional_years(calendar: WorkCalendar) -> frozenset[int]:
    """The years of the calendar's range whose schedule is provisional."""
    first, working, _, _ = calendar.day_arrays()
    last_year = first.year + len(working) // 366 + 1
    out = set()
    for year in range(first.year, last_year + 1):
        try:
            if calendar.is_provisional(year):
                out.add(year)
        except Exception:  # noqa: S112 - years past the range are not provisional
            continue
    return frozenset(out)


_FIELDS = {
    "cum": "__cum",
    "working": "__working",
    "roll": "__roll",
    "mi": "__mi",
    "dom": "__dom",
    "year": "__year",
}


def apply_lookups(
    lf: nw.LazyFrame[Any],
    scope: Scope,
    days: nw.LazyFrame[Any],
    wdays: nw.LazyFrame[Any],
    months: nw.LazyFrame[Any],
) -> nw.LazyFrame[Any]:
    """Join the day table for every lookup ``scope`` registered (in order), once each.

    Each lookup adds ``<column>`` (null where the day is off the calendar) and
    ``<column>__in`` (the day or index looked up), so callers can tell "off the
    calendar" from "no date".
    """
    done = scope.applied
    for lk in scope.lookups[done:]:
        if lk.field == "derived":
            lf = lf.with_columns(lk.day.alias(lk.column))
            continue
        key = f"{lk.column}__in"
        lf = lf.with_columns(lk.day.alias(key))
        if lk.field == "wday":
            right = wdays.select(nw.col("__cum").alias(key), nw.col("__wday").alias(lk.column))
        elif lk.field in ("mfirst", "mlen"):
            right = months.select(
                nw.col("__mi").alias(key), nw.col(f"__{lk.field}").alias(lk.column)
            )
        else:
            right = days.select(
                nw.col("__day").alias(key), nw.col(_FIELDS[lk.field]).alias(lk.column)
            )
        lf = lf.join(right, on=key, how="left")
    scope.applied = len(scope.lookups)
    return lf
