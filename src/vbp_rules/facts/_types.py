"""Annotated field types shared by the fact models: exact, strict, CSV-friendly.

Each type is an ``Annotated`` alias with one plain validator (so no binary float ever
slips through pydantic's lax coercions), an explicit JSON Schema and, where the Python
value is not JSON-native, a JSON serializer. Validators raise
:class:`~pydantic_core.PydanticCustomError` so that messages read without a
"Value error," prefix.
"""

from __future__ import annotations

import re
from datetime import date, datetime, tzinfo
from decimal import Decimal, InvalidOperation, localcontext
from fractions import Fraction
from typing import Annotated, Final
from zoneinfo import ZoneInfo

from pydantic import PlainSerializer, PlainValidator, ValidationInfo, WithJsonSchema
from pydantic_core import PydanticCustomError

__all__ = [
    "CONTEXT_ASSUME_TZ",
    "SHANGHAI",
    "Day",
    "Flag",
    "Id",
    "Instant",
    "Money",
    "PositiveQuantity",
    "Quantity",
    "Ratio",
    "Year",
    "parse_ratio",
]

SHANGHAI: Final = ZoneInfo("Asia/Shanghai")
"""The zone every instant is converted to (China Standard Time, UTC+8, no DST)."""

CONTEXT_ASSUME_TZ: Final = "assume_tz"
"""Validation-context key: the :class:`tzinfo` given to naive timestamps, if any."""

_FEN: Final = Decimal("0.01")
_INT_TEXT: Final = re.compile(r"[+-]?[0-9]+")

MAX_INT64: Final = 2**63 - 1
"""The largest quantity, and the largest amount in fen: columnar engines hold both as
signed 64-bit integers, so a larger value is rejected rather than wrapped around."""

MAX_NUMBER_TEXT: Final = 100
"""Longest text read as a number (quantity, money, ratio): longer cells are rejected
before any arithmetic, so a cell cannot make parsing slow."""

MAX_RATIO_EXPONENT: Final = 30
"""Largest exponent magnitude in a ratio written in scientific notation (``3e-1``)."""

MAX_RATIO_DIGITS: Final = 60
"""Most digits in a ratio's reduced numerator or denominator."""

FIRST_FACT_YEAR: Final = 1900
LAST_FACT_YEAR: Final = 2200
"""Dates and instants in facts must fall in these years (inclusive), like :data:`Year`."""
_TRUE: Final = frozenset({"true", "t", "yes", "y", "1", "是", "真"})
_FALSE: Final = frozenset({"false", "f", "no", "n", "0", "否", "假"})


def _fail(kind: str, reason: str) -> PydanticCustomError:
    # The reason goes through the context so braces in user input are never formatted.
    return PydanticCustomError(kind, "{reason}", {"reason": reason})


def _show(value: object) -> str:
    try:
        text = repr(value)
    except (ValueError, RecursionError):  # a 4,301-digit int, a list nested 10**5 deep
        return f"a {type(value).__name__} too large to show"
    return text if len(text) <= 60 else text[:57] + "..."


# --- integers -------------------------------------------------------------------------


def _parse_int(value: object, what: str) -> int:
    if isinstance(value, bool):
        raise _fail("int_type", f"{what} must be a whole number, not a boolean ({value!r})")
    if isinstance(value, int):
        return _in_int64(int(value), what)
    if isinstance(value, str):
        text = value.strip()
        if len(text) > MAX_NUMBER_TEXT:
            raise _fail("int_too_large", f"{what} is too long ({len(text)} characters)")
        if _INT_TEXT.fullmatch(text):
            return _in_int64(int(text), what)
        raise _fail("int_parsing", f"{what} must be a whole number, got {_show(value)}")
    if isinstance(value, Decimal):
        if value.is_finite() and value.adjusted() > _INT64_DIGITS:  # before int(): 1e999999999
            raise _fail("int_too_large", f"{what} must be at most {MAX_INT64}, got {value}")
        if value.is_finite() and value == value.to_integral_value():
            return _in_int64(int(value), what)
        raise _fail("int_parsing", f"{what} must be a whole number, got {value}")
    if isinstance(value, float):
        raise _fail(
            "int_type",
            f"{what} must be a whole number, got float {value!r} "
            "(write integers; binary floats are not accepted)",
        )
    raise _fail("int_type", f"{what} must be a whole number, got {type(value).__name__}")


_INT64_DIGITS: Final = len(str(MAX_INT64))


def _in_int64(number: int, what: str) -> int:
    if abs(number) > MAX_INT64:
        digits = int(number.bit_length() * 0.30103) + 1
        shown = str(number) if digits <= 40 else f"a number of about {digits} digits"
        raise _fail("int_too_large", f"{what} must be at most {MAX_INT64}, got {shown}")
    return number


def _quantity(value: object) -> int:
    number = _parse_int(value, "quantity")
    if number < 0:
        raise _fail("quantity_negative", f"quantity must not be negative, got {number}")
    return number


def _positive_quantity(value: object) -> int:
    number = _parse_int(value, "quantity")
    if number <= 0:
        raise _fail("quantity_not_positive", f"quantity must be greater than 0, got {number}")
    return number


def _year(value: object) -> int:
    number = _parse_int(value, "year")
    if not 1900 <= number <= 2200:
        raise _fail("year_range", f"year must be between 1900 and 2200, got {number}")
    return number


_INT_STRING_SCHEMA: Final = {"type": "string", "pattern": r"^\s*\+?[0-9]+\s*$"}

Quantity = Annotated[
    int,
    PlainValidator(_quantity),
    WithJsonSchema(
        {"anyOf": [{"type": "integer", "minimum": 0, "maximum": MAX_INT64}, _INT_STRING_SCHEMA]}
    ),
]
"""A non-negative whole number of units, at most ``2**63 - 1``. Accepts ``int`` and
integer text (``"12"``); rejects booleans, floats (even ``12.0``) and fractional
decimals."""

PositiveQuantity = Annotated[
    int,
    PlainValidator(_positive_quantity),
    WithJsonSchema(
        {"anyOf": [{"type": "integer", "minimum": 1, "maximum": MAX_INT64}, _INT_STRING_SCHEMA]}
    ),
]
"""A :data:`Quantity` greater than zero."""

Year = Annotated[
    int,
    PlainValidator(_year),
    WithJsonSchema(
        {"anyOf": [{"type": "integer", "minimum": 1900, "maximum": 2200}, _INT_STRING_SCHEMA]}
    ),
]
"""A calendar year (1900-2200), strict like :data:`Quantity`."""


# --- money ----------------------------------------------------------------------------


MAX_YUAN: Final = Decimal(MAX_INT64).scaleb(-2)
"""The largest amount of money: :data:`MAX_INT64` fen."""


def _money(value: object) -> Decimal:
    if isinstance(value, bool):
        raise _fail("money_type", f"money must be a number, not a boolean ({value!r})")
    if isinstance(value, float):
        raise _fail(
            "money_float",
            f"money must not be a binary float ({value!r}); give it as text ('12.50'), "
            "an int or a Decimal",
        )
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, str):
        text = value.strip()
        if len(text) > MAX_NUMBER_TEXT:
            raise _fail("money_too_large", f"money is too long ({len(text)} characters)")
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise _fail("money_parsing", f"money must be a number, got {_show(value)}") from None
    else:
        raise _fail("money_type", f"money must be a number, got {type(value).__name__}")
    if not amount.is_finite():
        raise _fail("money_parsing", f"money must be a finite number, got {_show(value)}")
    if amount < 0:
        raise _fail("money_negative", f"money must not be negative, got {_show(amount)}")
    if amount.adjusted() > _INT64_DIGITS or amount * 100 > MAX_INT64:
        raise _fail(
            "money_too_large",
            f"money {_show(amount)} is too large (at most {MAX_INT64} fen, {MAX_YUAN} yuan)",
        )
    with localcontext() as ctx:  # enough digits for any amount below the bound
        ctx.prec = 2 * _INT64_DIGITS + 4
        exact = amount.quantize(_FEN)
    if exact != amount:
        raise _fail(
            "money_precision",
            f"money must be exact to the fen (at most 2 decimal places), got {amount}",
        )
    return exact.copy_abs()  # copy_abs turns -0.00 into 0.00


Money = Annotated[
    Decimal,
    PlainValidator(_money),
    PlainSerializer(str, return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0, "maximum": MAX_INT64 // 100},
                {"type": "string", "pattern": r"^\s*\+?[0-9]{1,17}(\.[0-9]{1,2})?\s*$"},
            ]
        }
    ),
]
"""An amount in yuan, exact to the fen: a non-negative :class:`~decimal.Decimal` with at
most 2 decimal places (normalised to exactly 2). Accepts ``str``, ``int`` and ``Decimal``;
rejects floats."""


# --- ratios ---------------------------------------------------------------------------


def parse_ratio(value: object) -> Fraction:
    """Read a ratio exactly as a :class:`~fractions.Fraction` in ``[0, 1]``.

    Accepts ``"30%"`` (also full-width ``％``), ``"0.3"``, ``"3/10"``, ``Fraction``,
    ``Decimal`` and ``int``. Floats are refused: ``0.3`` as a float is not 3/10.

    Raises:
        pydantic_core.PydanticCustomError: the value is not a ratio in ``[0, 1]``.

    >>> parse_ratio("30%"), parse_ratio("0.3"), parse_ratio("3/10")
    (Fraction(3, 10), Fraction(3, 10), Fraction(3, 10))
    """
    ratio: Fraction
    if isinstance(value, bool):
        raise _fail("ratio_type", f"ratio must be a number, not a boolean ({value!r})")
    if isinstance(value, float):
        raise _fail(
            "ratio_float",
            f"ratio must not be a binary float ({value!r}); write '30%', '0.3' or '3/10'",
        )
    if isinstance(value, Fraction | int):
        ratio = Fraction(value)
    elif isinstance(value, Decimal):
        ratio = _decimal_ratio(value, value)
    elif isinstance(value, str):
        text = value.strip()
        if len(text) > MAX_NUMBER_TEXT:
            raise _fail("ratio_parsing", f"ratio is too long ({len(text)} characters)")
        percent = text.endswith(("%", "％"))
        number = text[:-1].strip() if percent else text
        scientific = "e" in number.lower()  # Fraction would compute 10**exponent first
        try:
            parsed: Fraction | Decimal = Decimal(number) if scientific else Fraction(number)
        except (ValueError, ZeroDivisionError, InvalidOperation):
            raise _fail(
                "ratio_parsing",
                f"ratio must look like '30%', '0.3' or '3/10', got {_show(value)}",
            ) from None
        ratio = _decimal_ratio(parsed, value) if isinstance(parsed, Decimal) else parsed
        if percent:
            ratio /= 100
    else:
        raise _fail("ratio_type", f"ratio must be a number, got {type(value).__name__}")
    if max(ratio.numerator.bit_length(), ratio.denominator.bit_length()) > _RATIO_BITS:
        raise _fail(
            "ratio_precision",
            f"ratio has more than {MAX_RATIO_DIGITS} digits in its numerator or denominator",
        )
    if not 0 <= ratio <= 1:
        raise _fail("ratio_range", f"ratio must be between 0 and 1 (0%-100%), got {_show(value)}")
    return ratio


_RATIO_BITS: Final = int(MAX_RATIO_DIGITS * 3.33)


def _decimal_ratio(number: Decimal, shown: object) -> Fraction:
    if not number.is_finite():
        raise _fail("ratio_parsing", f"ratio must be a finite number, got {_show(shown)}")
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and abs(exponent) > MAX_RATIO_EXPONENT:
        raise _fail(
            "ratio_parsing",
            f"ratio exponent out of range (at most {MAX_RATIO_EXPONENT} either way), "
            f"got {_show(shown)}",
        )
    return Fraction(number)


Ratio = Annotated[
    Fraction,
    PlainValidator(parse_ratio),
    PlainSerializer(str, return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0, "maximum": 1},
                {
                    "type": "string",
                    "pattern": r"^\s*[0-9.]+\s*([%％]|/\s*[0-9]+)?\s*$",
                },
            ],
            "examples": ["30%", "0.3", "3/10"],
        }
    ),
]
"""An exact ratio in ``[0, 1]`` held as a :class:`~fractions.Fraction` (see
:func:`parse_ratio`); serialised to JSON as text such as ``"3/10"``."""


# --- time -----------------------------------------------------------------------------


def _instant(value: object, info: ValidationInfo) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        text = value.strip()
        if "T" not in text.upper() and " " not in text:
            raise _fail(
                "instant_parsing",
                f"an instant needs a date and a time of day, got {_show(value)} "
                "(e.g. '2024-03-01T09:00+08:00')",
            )
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise _fail(
                "instant_parsing",
                f"not an ISO 8601 timestamp: {_show(value)} (e.g. '2024-03-01T09:00+08:00')",
            ) from None
    elif isinstance(value, date):
        raise _fail(
            "instant_type", f"an instant needs a time of day, got the date {value.isoformat()}"
        )
    else:
        raise _fail(
            "instant_type",
            f"an instant must be an ISO 8601 timestamp, got {type(value).__name__} {_show(value)}",
        )
    if moment.tzinfo is None or moment.utcoffset() is None:
        zone: tzinfo | None = (info.context or {}).get(CONTEXT_ASSUME_TZ)
        if zone is None:
            shown = value.strip() if isinstance(value, str) else moment.isoformat(sep=" ")
            raise _fail(
                "naive_datetime",
                f"naive timestamp {shown!r} has no time zone; add +08:00 or pass assume_tz",
            )
        moment = moment.replace(tzinfo=zone)
    local: datetime | None
    try:
        local = moment.astimezone(SHANGHAI)
    except OverflowError:  # 9999-12-31T23:59Z is in year 10000 in Shanghai
        local = None
    if local is None or not FIRST_FACT_YEAR <= local.year <= LAST_FACT_YEAR:
        raise _fail(
            "instant_range",
            f"instant {_show(value)} is outside the years {FIRST_FACT_YEAR}-{LAST_FACT_YEAR}",
        )
    return local


Instant = Annotated[
    datetime,
    PlainValidator(_instant),
    PlainSerializer(datetime.isoformat, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
"""A moment in time: an ISO 8601 timestamp or aware ``datetime``, converted to
Asia/Shanghai. A timestamp without offset is rejected unless the loader was given
``assume_tz``."""


def _day(value: object) -> date:
    day = _any_day(value)
    if not FIRST_FACT_YEAR <= day.year <= LAST_FACT_YEAR:
        raise _fail(
            "date_range",
            f"date {day.isoformat()} is outside the years {FIRST_FACT_YEAR}-{LAST_FACT_YEAR}",
        )
    return day


def _any_day(value: object) -> date:
    if isinstance(value, datetime):
        if value.tzinfo is None and value.time() == datetime.min.time():
            return value.date()
        raise _fail(
            "date_type",
            f"a date must not carry a time of day or zone, got {value.isoformat(sep=' ')}",
        )
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise _fail(
                "date_parsing", f"not an ISO 8601 date: {_show(value)} (e.g. '2024-03-01')"
            ) from None
    raise _fail(
        "date_type", f"a date must be ISO 8601 text, got {type(value).__name__} {_show(value)}"
    )


Day = Annotated[
    date,
    PlainValidator(_day),
    PlainSerializer(date.isoformat, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date"}),
]
"""A calendar date (``2024-03-01``). Naive midnight datetimes, as some frame libraries
produce, are accepted; numbers are not."""


# --- identifiers and flags ------------------------------------------------------------


def _id(value: object) -> str:
    if isinstance(value, str):
        text = value.strip()
    elif isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
    else:
        raise _fail("id_type", f"an id must be text or a whole number, got {type(value).__name__}")
    if not text:
        raise _fail("id_empty", "an id must not be empty")
    return text


Id = Annotated[
    str,
    PlainValidator(_id),
    WithJsonSchema({"anyOf": [{"type": "string", "minLength": 1}, {"type": "integer"}]}),
]
"""A non-empty identifier; whole numbers (``1001``) are accepted and become text."""


def _flag(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise _fail(
        "bool_parsing",
        f"a yes/no value must be true/false, yes/no, 1/0 or 是/否, got {_show(value)}",
    )


Flag = Annotated[
    bool,
    PlainValidator(_flag),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "boolean"},
                {"enum": sorted(_TRUE | _FALSE)},
                {"enum": [0, 1]},
            ]
        }
    ),
]
"""A yes/no value: ``bool``, 0/1, or text ``true/false``, ``yes/no``, ``1/0``, ``是/否``."""
