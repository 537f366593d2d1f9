"""Private helpers of :mod:`vbp_rules.calendar`: day tables built from ``holidays.China``.

Nothing here is public. The public module wraps these tables in ``WorkCalendar``.

The tables cover every day of ``FIRST_YEAR``-01-01 .. ``LAST_YEAR``-12-31. They are
built from three populations of ``holidays.China`` (all days off in Chinese; statutory
names without observed days in Chinese and in English) and never from a hand-typed table.
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import importlib.util
import re
import sys
from array import array
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs
import pendulum

from vbp_rules.errors import CalendarError


@functools.cache
def _china_class() -> Callable[..., Any]:
    """``holidays.China``, without importing every other country of ``holidays``.

    ``import holidays.countries.china`` runs ``holidays/countries/__init__.py``, which
    imports all ~250 countries (most of a second). Unless the host has already imported
    them, the China module is loaded from its file under a private name. (``holidays``
    ships no type hints for its constructors, hence ``Any``.)
    """
    if "holidays.countries" not in sys.modules:
        package = importlib.util.find_spec("holidays")
        locations = package.submodule_search_locations if package is not None else None
        if locations:
            path = Path(next(iter(locations))) / "countries" / "china.py"
            spec = importlib.util.spec_from_file_location("vbp_rules._holidays_china", path)
            if path.is_file() and spec is not None and spec.loader is not None:
                module = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(module)
                china: Callable[..., Any] = module.China
                return china
    from holidays.countries.china import China  # noqa: PLC0415 - the fallback

    china_class: Callable[..., Any] = China
    return china_class


def _new_china(**kwargs: Any) -> Any:
    return _china_class()(**kwargs)


FIRST_YEAR = 2000
LAST_YEAR = 2040
EPOCH = date(FIRST_YEAR, 1, 1)
LAST_DATE = date(LAST_YEAR, 12, 31)
EPOCH_ORDINAL = EPOCH.toordinal()
DAY_COUNT = LAST_DATE.toordinal() - EPOCH_ORDINAL + 1

# How names are joined when one day or one holiday period carries several festivals.
JOIN_ZH = "、"
JOIN_EN = "; "
# Name of a declared day off that has no festival name at all (user schedules only).
FALLBACK_ZH = "休息日"
FALLBACK_EN = "Day off"
WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# One year's schedule as pairs of (date, name or None): (holidays, workdays).
NamedDates = tuple[tuple[date, str | None], ...]


@attrs.frozen(slots=True, kw_only=True)
class DayOff:
    """A declared day off; ``zh``/``en`` are its own festival names, if it has any.

    Substituted (调休) and observed (补假) days off have no name of their own: they take
    the names of the holiday period they belong to.
    """

    zh: str | None = None
    en: str | None = None


@attrs.frozen(slots=True, kw_only=True)
class MakeUp:
    """A make-up working day (调休上班) on a weekend.

    ``swapped_with`` is the day off it was exchanged for, when known; ``zh``/``en`` name
    the festival explicitly (user schedules), else the names come from ``swapped_with``.
    """

    swapped_with: date | None = None
    zh: str | None = None
    en: str | None = None


@attrs.frozen(slots=True, kw_only=True)
class Facts:
    """What the calendar knows, before tables are derived from it."""

    days_off: Mapping[date, DayOff]
    make_up: Mapping[date, MakeUp]
    official_years: frozenset[int]
    # Chinese festival name -> English name, learnt from the holidays data.
    translations: Mapping[str, str]
    # The year of the State Council schedule each make-up day belongs to.
    make_up_years: Mapping[date, int]


@attrs.frozen(slots=True, kw_only=True)
class Tables:
    """Per-day arrays derived from :class:`Facts`; every lookup is an index."""

    working: bytes
    # cum[i]: number of working days in EPOCH .. EPOCH + i, both included.
    cum: array[int]
    # positions[k]: day offset of the (k + 1)-th working day.
    positions: array[int]
    names_zh: Mapping[date, str]
    names_en: Mapping[date, str]
    make_up_zh: Mapping[date, str | None]
    make_up_en: Mapping[date, str | None]


def split_names(name: str) -> list[str]:
    """Split a ``holidays`` name such as ``"中秋节; 国庆节"`` into its parts."""
    return [part.strip() for part in name.split(";") if part.strip()]


def _substituted_pattern(china: Any) -> tuple[re.Pattern[str], str]:
    """The regex of the (untranslated) substituted-day label, and its date format."""
    label = str(china.substituted_label)
    head, _, tail = label.partition("%s")
    pattern = re.compile(re.escape(head) + "(?P<day>.+?)" + re.escape(tail))
    return pattern, str(china.substituted_date_format)


@functools.cache
def base_facts() -> Facts:
    """The facts of ``holidays.China`` for the supported years (built once per process)."""
    years = range(FIRST_YEAR, LAST_YEAR + 1)
    observed_zh = _new_china(years=years, language="zh_CN")
    plain_zh = _new_china(years=years, language="zh_CN", observed=False)
    plain_en = _new_china(years=years, language="en_US", observed=False)
    pattern, date_format = _substituted_pattern(observed_zh)

    translations: dict[str, str] = {}
    days_off: dict[date, DayOff] = {}
    swapped: dict[date, date] = {}
    for day in sorted(observed_zh.keys()):
        for part in split_names(observed_zh[day]):
            match = pattern.fullmatch(part)
            if match:
                source = datetime.strptime(match["day"], date_format).date()  # noqa: DTZ007
                swapped.setdefault(source, day)
        names_zh = split_names(plain_zh.get(day) or "")
        names_en = split_names(plain_en.get(day) or "")
        pairs = [
            (zh, en) for zh, en in zip(names_zh, names_en, strict=True) if not pattern.fullmatch(zh)
        ]
        translations.update(pairs)
        days_off[day] = DayOff(
            zh=JOIN_ZH.join(zh for zh, _ in pairs) or None,
            en=JOIN_EN.join(en for _, en in pairs) or None,
        )

    # ``weekend_workdays`` also holds cross-year make-up days (e.g. 2005-12-31, worked for
    # the 2006 New Year) whatever ``years`` was asked for: every one of them is kept, and
    # attributed to the year of the day off it was swapped with.
    make_up: dict[date, MakeUp] = {}
    make_up_years: dict[date, int] = {}
    for day in sorted(d for d in observed_zh.weekend_workdays if EPOCH <= d <= LAST_DATE):
        partner = swapped.get(day)
        make_up[day] = MakeUp(swapped_with=partner)
        make_up_years[day] = partner.year if partner else day.year

    schedule_years = {partner.year for partner in swapped.values()}
    official = (
        frozenset(range(min(schedule_years), max(schedule_years) + 1))
        if schedule_years
        else frozenset()
    )
    return Facts(
        days_off=days_off,
        make_up=make_up,
        official_years=official,
        translations=translations,
        make_up_years=make_up_years,
    )


def build_tables(facts: Facts) -> Tables:
    """Derive the per-day arrays (working flag, running index, names) from ``facts``."""
    off = {day.toordinal() - EPOCH_ORDINAL for day in facts.days_off}
    up = {day.toordinal() - EPOCH_ORDINAL for day in facts.make_up}
    first_weekday = EPOCH.weekday()
    working = bytearray(DAY_COUNT)
    cum: array[int] = array("q")
    positions: array[int] = array("q")
    running = 0
    for i in range(DAY_COUNT):
        if i in up or ((first_weekday + i) % 7 < 5 and i not in off):
            working[i] = 1
            running += 1
            positions.append(i)
        cum.append(running)

    names_zh: dict[date, str] = {}
    names_en: dict[date, str] = {}
    for run in _non_working_runs(working):
        days = [date.fromordinal(EPOCH_ORDINAL + i) for i in run]
        declared = [facts.days_off[day] for day in days if day in facts.days_off]
        if not declared:
            continue  # an ordinary weekend
        period_zh = _join_unique([d.zh for d in declared], JOIN_ZH) or FALLBACK_ZH
        period_en = _join_unique([d.en for d in declared], JOIN_EN) or FALLBACK_EN
        for day in days:
            own = facts.days_off.get(day)
            names_zh[day] = own.zh if own and own.zh else period_zh
            names_en[day] = own.en if own and own.en else period_en

    make_up_zh: dict[date, str | None] = {}
    make_up_en: dict[date, str | None] = {}
    for day, info in facts.make_up.items():
        if info.zh:
            make_up_zh[day] = info.zh
            make_up_en[day] = info.en or _translate(info.zh, facts.translations)
        elif info.swapped_with is not None and info.swapped_with in names_zh:
            make_up_zh[day] = names_zh[info.swapped_with]
            make_up_en[day] = names_en[info.swapped_with]
        else:
            make_up_zh[day] = make_up_en[day] = None
    return Tables(
        working=bytes(working),
        cum=cum,
        positions=positions,
        names_zh=names_zh,
        names_en=names_en,
        make_up_zh=make_up_zh,
        make_up_en=make_up_en,
    )


def _non_working_runs(working: bytearray) -> Iterable[range]:
    start: int | None = None
    for i, flag in enumerate([*working, 1]):  # a working sentinel closes the last run
        if not flag and start is None:
            start = i
        elif flag and start is not None:
            yield range(start, i)
            start = None


def _join_unique(names: Iterable[str | None], joiner: str) -> str:
    seen: list[str] = []
    for name in names:
        for part in (name or "").split(joiner):
            if part and part not in seen:
                seen.append(part)
    return joiner.join(seen)


def _translate(zh: str, translations: Mapping[str, str]) -> str:
    parts = zh.split(JOIN_ZH)
    return JOIN_EN.join(translations.get(part, part) for part in parts)


def translate(zh: str, facts: Facts) -> str:
    """English for a Chinese festival name, when the holidays data knows it, else ``zh``."""
    return _translate(zh, facts.translations)


# --------------------------------------------------------------------------- values


def check_count(instance: object, attribute: attrs.Attribute[int], value: object) -> None:
    """attrs validator: a whole number >= 0 (``bool`` refused)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise CalendarError(
            f"{type(instance).__name__}({attribute.name}=...) needs a whole number, got {value!r}"
        )
    if value < 0:
        raise CalendarError(
            f"{type(instance).__name__}({attribute.name}=...) needs a number >= 0, got {value}"
        )


def plural(n: int, word: str) -> str:
    """``"1 hour"``, ``"2 hours"``."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def is_aware(value: datetime) -> bool:
    """Whether a datetime denotes an instant."""
    return value.tzinfo is not None and value.tzinfo.utcoffset(value) is not None


def zone(tz: str | tzinfo) -> tzinfo:
    """A ``tzinfo`` from a zone name (or the ``tzinfo`` itself)."""
    return tz if isinstance(tz, tzinfo) else zoneinfo(tz)


def zoneinfo(name: str) -> ZoneInfo:
    """The ``ZoneInfo`` of a zone name; CalendarError for an unknown one."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise CalendarError(f"unknown time zone {name!r} (expected e.g. 'Asia/Shanghai')") from exc


def as_date(value: object, what: str = "date") -> date:
    """``value`` if it is a ``date`` (and not a ``datetime``), else CalendarError."""
    if isinstance(value, datetime) or not isinstance(value, date):
        hint = (
            " (use cal.local_date(instant) for a datetime)" if isinstance(value, datetime) else ""
        )
        raise CalendarError(
            f"{what} must be a datetime.date, got {type(value).__name__} {value!r}{hint}"
        )
    return value


def add_months(day: date, n: int) -> date:
    """The corresponding day ``n`` months on, or that month's last day (民法典第二百零二条).

    pendulum does the month arithmetic (it clamps 01-31 + 1 month to the month's end);
    the result is a plain :class:`datetime.date`.
    """
    moved = pendulum.date(day.year, day.month, day.day).add(months=n)
    return date(moved.year, moved.month, moved.day)


def month_end(year: int, month: int) -> date:
    """The last day of a month."""
    end = pendulum.date(year, month, 1).end_of("month")
    return date(end.year, end.month, end.day)


# --------------------------------------------------------------------------- schedules


def named_dates(value: object) -> tuple[tuple[Any, Any], ...]:
    """attrs converter: a mapping of date to name, or dates, as (date, name) pairs."""
    if isinstance(value, Mapping):
        return tuple(value.items())
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise CalendarError(f"expected dates (a list or a mapping of date to name), got {value!r}")
    return tuple((item, None) for item in value)


def check_schedule(
    year: object,
    *,
    holidays: Iterable[tuple[object, object]],
    workdays: Iterable[tuple[object, object]],
    source: str | None,
) -> None:
    """Validate one year's schedule; the error names the field (and the file)."""
    where = f"schedule for {year!r}" + (f" in {source}" if source else "")
    if isinstance(year, bool) or not isinstance(year, int):
        raise CalendarError(f"{where}: field 'year' must be a whole number")
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise CalendarError(
            f"{where}: field 'year' must lie in the supported range {FIRST_YEAR}..{LAST_YEAR}"
        )
    low = max(date(year - 1, 12, 1), EPOCH)
    high = min(date(year + 1, 1, 31), LAST_DATE)
    seen: set[date] = set()
    for field_name, pairs in (("holidays", holidays), ("workdays", workdays)):
        for day, name in pairs:
            if isinstance(day, datetime) or not isinstance(day, date):
                raise CalendarError(
                    f"{where}: field {field_name!r}: {day!r} is not a date (expected YYYY-MM-DD)"
                )
            if not low <= day <= high:
                raise CalendarError(
                    f"{where}: field {field_name!r}: {day} lies outside {low}..{high}, "
                    f"the span a {year} schedule may cover"
                )
            if name is not None and (not isinstance(name, str) or not name.strip()):
                raise CalendarError(
                    f"{where}: field {field_name!r}: the name of {day} must be text"
                )
            if day in seen:
                raise CalendarError(f"{where}: field {field_name!r}: {day} is listed twice")
            seen.add(day)
            if field_name == "workdays" and day.weekday() < 5:
                raise CalendarError(
                    f"{where}: field 'workdays': {day} is a {WEEKDAYS_EN[day.weekday()]}; "
                    "a make-up working day falls on a Saturday or Sunday"
                )


def apply_schedules(base: Facts, schedules: Mapping[int, tuple[NamedDates, NamedDates]]) -> Facts:
    """``base`` with each year's facts replaced by its official schedule."""
    days_off = dict(base.days_off)
    make_up = dict(base.make_up)
    make_up_years = dict(base.make_up_years)
    for year in sorted(schedules):
        holidays, workdays = schedules[year]
        for day in [day for day in days_off if day.year == year]:
            del days_off[day]
        for day in [day for day, owner in make_up_years.items() if owner == year]:
            del make_up[day], make_up_years[day]
        for day, name in holidays:
            make_up.pop(day, None)
            make_up_years.pop(day, None)
            known = base.days_off.get(day, DayOff())
            days_off[day] = DayOff(zh=name, en=translate(name, base)) if name else known
        for day, name in workdays:
            days_off.pop(day, None)
            make_up[day] = MakeUp(zh=name, en=translate(name, base) if name else None)
            make_up_years[day] = year
    return Facts(
        days_off=days_off,
        make_up=make_up,
        official_years=base.official_years | frozenset(schedules),
        translations=base.translations,
        make_up_years=make_up_years,
    )


SCHEDULE_FIELDS = ("year", "holidays", "workdays", "notice")


def read_schedule_file(path: Path) -> dict[str, Any]:
    """Read a schedule YAML file (ruamel, safe loader) into YearSchedule's fields.

    Raises:
        CalendarError: unreadable file, bad YAML, unknown/missing/malformed field; the
            message names the file and the field.
    """
    from ruamel.yaml import YAML  # noqa: PLC0415 - only needed when a file is loaded
    from ruamel.yaml.constructor import SafeConstructor  # noqa: PLC0415
    from ruamel.yaml.error import YAMLError  # noqa: PLC0415

    class _Constructor(SafeConstructor):
        """Leaves an impossible date (2027-02-30) as text, so the field check names it."""

        def construct_yaml_timestamp(self, node: Any, values: Any = None) -> Any:
            try:
                return super().construct_yaml_timestamp(node, values)
            except ValueError:
                return self.construct_scalar(node)

    _Constructor.add_constructor(
        "tag:yaml.org,2002:timestamp", _Constructor.construct_yaml_timestamp
    )

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CalendarError(f"schedule file {path}: cannot be read ({exc.strerror})") from exc
    try:
        yaml = YAML(typ="safe", pure=True)
        yaml.Constructor = _Constructor
        raw = yaml.load(text)
    except YAMLError as exc:
        problem = " ".join(str(exc).split())
        raise CalendarError(f"schedule file {path}: not valid YAML: {problem}") from exc
    if not isinstance(raw, dict):
        raise CalendarError(
            f"schedule file {path}: expected a mapping with the fields year, holidays and workdays"
        )
    unknown = [str(key) for key in raw if key not in SCHEDULE_FIELDS]
    if unknown:
        key = unknown[0]
        close = difflib.get_close_matches(key, SCHEDULE_FIELDS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        line = next(
            (
                i
                for i, text_line in enumerate(text.splitlines(), 1)
                if re.match(rf"['\"]?{re.escape(key)}['\"]?\s*:", text_line)
            ),
            None,
        )
        where = f"{path}:{line}" if line else str(path)
        raise CalendarError(
            f"schedule file {where}: unknown field {key!r}{hint} "
            f"(expected {', '.join(SCHEDULE_FIELDS)})"
        )
    for required in ("year", "holidays"):
        if required not in raw:
            raise CalendarError(f"schedule file {path}: field {required!r} is missing")
    year = raw["year"]
    if isinstance(year, bool) or not isinstance(year, int):
        raise CalendarError(f"schedule file {path}: field 'year': expected a year like 2027")
    notice = raw.get("notice")
    if notice is not None and not isinstance(notice, str):
        raise CalendarError(f"schedule file {path}: field 'notice': expected text")
    return {
        "year": year,
        "holidays": _file_dates(path, "holidays", raw["holidays"]),
        "workdays": _file_dates(path, "workdays", raw.get("workdays")),
        "notice": notice,
        "source": str(path),
    }


def _file_date(path: Path, field: str, value: object) -> date:
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = date.fromisoformat(value.strip())
    if isinstance(value, datetime) or not isinstance(value, date):
        raise CalendarError(
            f"schedule file {path}: field {field!r}: {value!r} is not a date (expected YYYY-MM-DD)"
        )
    return value


def _file_dates(path: Path, field: str, value: object) -> dict[date, str | None]:
    if value is None:
        return {}
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list):
        items = [(item, None) for item in value]
    else:
        raise CalendarError(
            f"schedule file {path}: field {field!r}: expected a list of dates or a mapping "
            "of date to name"
        )
    result: dict[date, str | None] = {}
    for raw, name in items:
        day = _file_date(path, field, raw)
        if day in result:
            raise CalendarError(f"schedule file {path}: field {field!r}: {day} is listed twice")
        result[day] = name
    return result
