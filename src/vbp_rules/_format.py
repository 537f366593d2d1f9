"""The one display formatter for values in messages, traces, tables and explanations.

Display text is for people; :func:`vbp_rules.findings.jsonable` is the exact JSON form.
The rule (see ``docs/engines.md``, "How values print"):

- an integer prints its digits; one too long to print (Python refuses more than 4300
  digits) prints as ``<N-digit integer>``, and rendering never raises;
- a Decimal keeps the form it was written in (money ``11.50`` stays ``11.50``, ``10.00``
  stays ``10.00``);
- a ratio (a Fraction) prints as an exact decimal when it terminates (``9/10`` →
  ``0.9``), else as ``p/q (≈x)``; with ``as_percent`` it prints as a percentage, exact
  when it terminates (``90%``), else ``p/q (≈x%)``; with ``as_money`` an amount exact to
  the fen prints with two decimal places (``23/2`` → ``11.50``);
- instants print to the minute when seconds are zero (``2024-09-01T00:00+08:00``),
  dates as ISO; text as is; ``None`` as ``null``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, localcontext
from fractions import Fraction

__all__ = ["decimal_text", "format_value", "int_text"]

#: CPython's default limit on int -> str conversion (sys.get_int_max_str_digits()).
_MAX_DIGITS = 4300


def int_text(n: int) -> str:
    """An integer's digits, or ``<N-digit integer>`` when it is too long to print.

    >>> int_text(-42), int_text(10**5000)
    ('-42', '<5001-digit integer>')
    """
    if n.bit_length() < 14_000:  # fewer than ~4214 digits: always printable
        return str(n)
    digits = _digit_count(abs(n))
    if digits <= _MAX_DIGITS:
        return str(n)
    return f"<{'-' if n < 0 else ''}{digits}-digit integer>"


def _digit_count(n: int) -> int:
    estimate = int(n.bit_length() * 0.30102999566398120) + 1
    while estimate > 1 and 10 ** (estimate - 1) > n:
        estimate -= 1
    while 10**estimate <= n:
        estimate += 1
    return estimate


def decimal_text(value: Fraction, digits: Callable[[int], str] = str) -> str | None:
    """A Fraction as an exact decimal (``'0.95'``), or None if it does not terminate.

    ``digits`` renders the integer digits: :func:`str` (exact, for expressions written
    back as source) or :func:`int_text` (for display, where a number too long to print
    becomes ``<N-digit integer>``, which is returned as it is).

    >>> decimal_text(Fraction(19, 20)), decimal_text(Fraction(-5, 2)), decimal_text(Fraction(1, 3))
    ('0.95', '-2.5', None)
    """
    den = value.denominator
    twos = fives = 0
    while den % 2 == 0:
        den //= 2
        twos += 1
    while den % 5 == 0:
        den //= 5
        fives += 1
    if den != 1:
        return None
    places = max(twos, fives)
    text = digits(abs(value.numerator) * 10**places // value.denominator)
    if text.startswith("<"):
        return text
    sign = "-" if value < 0 else ""
    if places == 0:
        return sign + text
    text = text.rjust(places + 1, "0")
    return f"{sign}{text[:-places]}.{text[-places:]}"


def _terminating(value: Fraction) -> str | None:
    return decimal_text(value, int_text)


def _approx(value: Fraction) -> str:
    with localcontext() as ctx:
        ctx.prec = 6
        return str(Decimal(value.numerator) / Decimal(value.denominator))


def _fraction(value: Fraction, *, as_percent: bool) -> str:
    if as_percent:
        pct = value * 100
        exact = _terminating(pct)
        if exact is not None:
            return f"{exact}%"
        return f"{int_text(value.numerator)}/{int_text(value.denominator)} (≈{_approx(pct)}%)"
    exact = _terminating(value)
    if exact is not None:
        return exact
    return f"{int_text(value.numerator)}/{int_text(value.denominator)} (≈{_approx(value)})"


def _decimal(value: Decimal) -> str:
    if not value.is_finite():
        return str(value)
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)  # noqa: S101 - finite
    if abs(exponent) > _MAX_DIGITS or len(value.as_tuple().digits) > _MAX_DIGITS:
        return str(value)  # scientific notation: short and exact
    return format(value, "f")


def _money(value: int | Fraction | Decimal) -> str | None:
    """Yuan with two decimal places, when the amount is exact to the fen."""
    if isinstance(value, Decimal) and not value.is_finite():
        return None
    number = Fraction(value)
    fen = number * 100
    if fen.denominator != 1:
        return None
    sign = "-" if fen < 0 else ""
    digits = int_text(abs(fen.numerator)).rjust(3, "0")
    if digits.startswith("<"):
        return None
    return f"{sign}{digits[:-2]}.{digits[-2:]}"


#: Past this many bits (about 300 digits) a number is shown approximately: nobody reads
#: it, and Python refuses to print ints of more than 4,300 digits.
_PRINTABLE_BITS = 1000


def _log10(n: int) -> float:
    """log10 of a positive int of any size (math.log10 would convert it to float)."""
    shift = max(n.bit_length() - 64, 0)
    return math.log10(n >> shift) + shift * math.log10(2)


def _huge(value: Fraction) -> str | None:
    """An approximate rendering of a number too long to show exactly, else None."""
    if max(value.numerator.bit_length(), value.denominator.bit_length()) <= _PRINTABLE_BITS:
        return None
    if value == 0:  # pragma: no cover - zero is always short
        return "0"
    exponent = _log10(abs(value.numerator)) - _log10(value.denominator)
    whole = math.floor(exponent)
    mantissa = 10 ** (exponent - whole)
    sign = "-" if value < 0 else ""
    return f"≈{sign}{mantissa:.6f}e{whole:+d} (exact value too long to show)"


def format_value(value: object, *, as_percent: bool = False, as_money: bool = False) -> str:
    """A value as display text; exact, and never raising.

    Args:
        value: any recorded value.
        as_percent: print numbers as percentages (a ratio parameter).
        as_money: print numbers exact to the fen with two decimal places (a money
            parameter); an amount finer than a fen prints exactly as usual.

    >>> format_value(Decimal("11.50")), format_value(Decimal("10.00")), format_value(7)
    ('11.50', '10.00', '7')
    >>> format_value(Fraction(9, 10)), format_value(Fraction(9, 10), as_percent=True)
    ('0.9', '90%')
    >>> format_value(Fraction(1, 3), as_percent=True)
    '1/3 (≈33.3333%)'
    >>> format_value(Fraction(23, 2), as_money=True), format_value(10, as_money=True)
    ('11.50', '10.00')
    >>> format_value(datetime.fromisoformat("2024-09-01T00:00+08:00"))
    '2024-09-01T00:00+08:00'
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Fraction) or (isinstance(value, Decimal) and value.is_finite()):
        number = Fraction(value)
        huge = _huge(number * 100 if as_percent else number)
        if huge is not None:
            return f"{huge}%" if as_percent else huge
    if as_money and isinstance(value, int | Fraction | Decimal):
        money = _money(value)
        if money is not None:
            return money
    if isinstance(value, int):
        if as_percent:
            return _fraction(Fraction(value), as_percent=True)
        return int_text(value)
    if isinstance(value, Fraction):
        return _fraction(value, as_percent=as_percent)
    if isinstance(value, Decimal):
        if as_percent and value.is_finite():
            return _fraction(Fraction(value), as_percent=True)
        return _decimal(value)
    if isinstance(value, datetime):
        spec = "minutes" if value.second == 0 and value.microsecond == 0 else "auto"
        return value.isoformat(timespec=spec)
    if isinstance(value, date):
        return value.isoformat()
    try:
        return str(value)
    except ValueError:  # pragma: no cover - an object whose str() refuses
        return repr(type(value))
