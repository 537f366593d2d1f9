"""Hypothesis strategies for hostile input: cells, YAML scalars, expressions, overrides."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction

from hypothesis import strategies as st

#: Text that broke, hung or was misread before issue 13, and its neighbours.
NASTY_TEXT = [
    "1e-1000000000",
    "1e1000000000",
    "1e-999999",
    "0e99999999",
    "1E+30",
    "9" * 5000,
    "9223372036854775807",
    "9223372036854775808",
    "92233720368547758.08",
    "-0",
    "0x1F",
    "00042",
    "1_000",
    "NaN",
    "Infinity",
    "-Infinity",
    "1/0",
    "3/10",
    "30%",
    "１２",
    "",
    " ",
    "a\u2028b",
    "\u0085",
    "9999-12-31T23:59Z",
    "0001-01-01T00:00+08:00",
    "2204-09-27T09:00+08:00",
    "2100-09-27T09:00+08:00",
    "2024-02-30T09:00+08:00",
    "2024-03-01T09:00",
    "9999-12-31",
    "2024-13-01",
    "[red]x[/red]",
    "=cmd|' /C calc'!A0",
    "{reason}",
]

NASTY_NUMBERS = [
    2**14000,
    2**63,
    2**63 - 1,
    -(2**63),
    -1,
    0,
    Decimal("1e1000000000"),
    Decimal("1e-1000000000"),
    Decimal("NaN"),
    Decimal("-Infinity"),
    Decimal("92233720368547758.07"),
    Fraction(1, 3**2000),
    Fraction(2**5000, 3),
    True,
    False,
    0.1,
    float("inf"),
]


def _nested(depth: int) -> list[object]:
    value: list[object] = []
    for _ in range(depth):
        value = [value]
    return value


def cells() -> st.SearchStrategy[object]:
    """One value for a fact cell: nasty numbers, texts, dates and random junk."""
    return st.one_of(
        st.sampled_from(NASTY_TEXT),
        st.sampled_from(NASTY_NUMBERS),
        st.integers(min_value=-(2**80), max_value=2**80),
        st.decimals(allow_nan=True, allow_infinity=True, places=None),
        st.text(max_size=20),
        st.none(),
        st.dates(),
        st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=14))])),
        st.datetimes(max_value=datetime(9999, 12, 30)),
        st.lists(st.integers(), max_size=3),
        st.just(date.max),
        st.integers(min_value=1_000, max_value=100_000).map(_nested),
    )


#: Scalars written into pack YAML in place of a value.
YAML_SCALARS = [
    "2024-02-30",
    "2024-13-01",
    "2024-01-01 25:00:00",
    "0000-01-01",
    "9" * 5000,
    "!!int 0x_",
    "!!timestamp nonsense",
    "!!float .nan",
    ".inf",
    "1e1000000000",
    "1e-1000000000",
    "true",
    "null",
    "~",
    "[]",
    "{}",
    "'95%'",
    "100000000000000",
    "-5",
    "0x1F",
    "*alias",
    "&anchor x",
    "[" * 200 + "]" * 200,
    "'\u2028'",
]


def yaml_scalars() -> st.SearchStrategy[str]:
    """A scalar (or small node) as YAML text, hostile or plain."""
    safe = st.text(
        alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"),
        max_size=12,
    )
    return st.one_of(st.sampled_from(YAML_SCALARS), safe.map(repr))


_TOKENS = [
    "ordered_quantity",
    "delivered_quantity",
    "amount",
    "sent_at",
    "responded_at",
    "floor",
    "as_of",
    "1",
    "0",
    "100%",
    "1e9",
    "99999999999999999999999999",
    "'x'",
    "true",
    "null",
    "+",
    "-",
    "*",
    "/",
    "**",
    "<",
    "<=",
    "==",
    "and",
    "or",
    "not",
    "(",
    ")",
    ",",
    "add_days(",
    "add_months(",
    "end_of_day(",
    "next_month_end(",
    "deadline(",
    "hours(",
    "months(",
    "min(",
    "max(",
    "if(",
    "is_set(",
    "round_half_up(",
    "local_date(",
    "working_days_between(",
    "__import__",
    "lambda",
    "[",
    "]",
]


def expressions() -> st.SearchStrategy[str]:
    """Token soup that is sometimes a valid expression and often not."""
    return st.one_of(
        st.lists(st.sampled_from(_TOKENS), min_size=1, max_size=12).map(" ".join),
        st.text(max_size=40),
        st.integers(min_value=1, max_value=400).map(lambda n: "(" * n + "1" + ")" * n),
        st.integers(min_value=1, max_value=400).map(lambda n: "not " * n + "true"),
    )
