"""Every bound word, at its bound, just below and just above: a table written by hand.

The expectations come from 《民法典》第1259条 ("民法所称的'以上''以下''以内''届满'，包括本数；
所称的'不满''超过''以外'，不包括本数。") and, for the words the article does not name, from
their plain meaning (不低于90%: 90% itself is not below 90%, so it satisfies the bound).
They are NOT derived from ``vbp_rules.vocab``: changing one word's operator there fails
this file. The authoring kit keeps its own table too (``vbp_rules.testing._words``), and
it must agree with this one.
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from vbp_rules.testing._words import WORD_HOLDS, word_holds
from vbp_rules.vocab import BOUND_WORDS, bound_word_pattern, compare

# word: does "metric WORD 90%" hold for 89.9%, for 90%, for 90.1%?
#   Y = yes, N = no; columns: just below, at, just above.
TABLE = """
以上        N Y Y   1259: 以上 includes the number
及以上      N Y Y   "and above": includes it
达到        N Y Y   reaching 90% means 90% or more
达到以上    N Y Y   reaching or going beyond
达到或超过  N Y Y   reaching (Y at) or exceeding (Y above)
满          N Y Y   满3年: three full years or more
不少于      N Y Y   not fewer: the number itself is not fewer
不得少于    N Y Y   must not be fewer
不低于      N Y Y   not below: the number itself is not below
不得低于    N Y Y   must not be below
不小于      N Y Y   not smaller
大于或等于  N Y Y   greater or equal
至少        N Y Y   at least
超过        N N Y   1259: 超过 excludes the number
高于        N N Y   higher than: strictly
多于        N N Y   more than: strictly
大于        N N Y   greater than: strictly
以外        N N Y   1259: 以外 excludes the number; beyond it
以下        Y Y N   1259: 以下 includes the number
及以下      Y Y N   "and below": includes it
以内        Y Y N   1259: 以内 includes the number
之内        Y Y N   same as 以内
届满        Y Y N   1259: 届满 includes the number (up to the end)
不超过      Y Y N   the number itself does not exceed itself
不得超过    Y Y N   must not exceed
未超过      Y Y N   has not exceeded
不高于      Y Y N   not higher
不得高于    Y Y N   must not be higher
不多于      Y Y N   not more
不得多于    Y Y N   must not be more
不大于      Y Y N   not greater
低于或等于  Y Y N   lower or equal
小于或等于  Y Y N   less or equal
至多        Y Y N   at most
低于        Y N N   below: strictly
少于        Y N N   fewer: strictly
小于        Y N N   smaller: strictly
不满        Y N N   1259: 不满 excludes the number
未满        Y N N   not yet full: 未满1年 is less than a year
不足        Y N N   short of: 不足90% is less than 90%
未达到      Y N N   has not reached: strictly less
等于        N Y N   exactly the number
"""

ROWS = [
    (word, tuple(c == "Y" for c in cells))
    for line in TABLE.strip().splitlines()
    for word, *cells in [line.split()[:4]]
]
BOUND = Fraction(9, 10)
POINTS = (BOUND - Fraction(1, 1000), BOUND, BOUND + Fraction(1, 1000))


def test_the_table_lists_every_registered_word_once() -> None:
    words = [w for w, _ in ROWS]
    assert len(words) == len(set(words))
    assert sorted(words) == sorted(BOUND_WORDS)


@pytest.mark.parametrize(("word", "expected"), ROWS, ids=[w for w, _ in ROWS])
def test_the_engines_registry_reads_each_word_as_written(
    word: str, expected: tuple[bool, bool, bool]
) -> None:
    op = BOUND_WORDS[word].operator
    assert tuple(compare(v, op, BOUND) for v in POINTS) == expected
    assert BOUND_WORDS[word].inclusive == expected[1]


@pytest.mark.parametrize(("word", "expected"), ROWS, ids=[w for w, _ in ROWS])
def test_the_kits_table_agrees(word: str, expected: tuple[bool, bool, bool]) -> None:
    assert WORD_HOLDS[word] == expected
    assert tuple(word_holds(word, v, BOUND) for v in POINTS) == expected


@pytest.mark.parametrize(
    ("op", "expected"),
    [
        (">=", (False, True, True)),
        (">", (False, False, True)),
        ("<=", (True, True, False)),
        ("<", (True, False, False)),
        ("==", (False, True, False)),
    ],
)
def test_operators(op: str, expected: tuple[bool, bool, bool]) -> None:
    assert tuple(compare(v, op, BOUND) for v in POINTS) == expected
    assert tuple(word_holds(op, v, BOUND) for v in POINTS) == expected


def test_every_bound_word_of_the_five_notices_is_registered() -> None:
    # Scanned by hand from the shared seeds: every bound word the five texts use.
    in_the_notices = [
        "超过",  # 减少超过30% (Jiangxi 一（三）, Shandong 2023)
        "低于",  # 配送率低于90%
        "达到",  # 达到约定采购量
        "高于",  # 高于全省平均水平
        "以下",  # 90%以下 (Jiangxi 一（六）)
        "不得超过",  # 不得超过2家
        "未达到",  # 配送及时率未达到90%
        "不少于",  # 不少于…
        "届满",  # 直至采购周期届满
        "及以上",  # 90%及以上
        "以上",
        "不足",
        "不超过",
        "不得高于",
        "不低于",
    ]
    assert not [w for w in in_the_notices if w not in BOUND_WORDS]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("配送率不得低于95%的企业", ["不得低于"]),
        ("不低于90%", ["不低于"]),
        ("减少超过30%", ["超过"]),
        ("达到或超过80%", ["达到或超过"]),
        ("满3年", ["满"]),
        ("未满1年", ["未满"]),
        ("采购协议期满后，满足临床需求", []),
        ("直至采购周期届满", ["届满"]),
    ],
)
def test_words_found_in_sentences(text: str, found: list[str]) -> None:
    assert bound_word_pattern().findall(text) == found
