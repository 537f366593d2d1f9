"""What the authoring kit expects of each bound word, written down independently.

The engines read :data:`vbp_rules.vocab.BOUND_WORDS`; the kit must not, or a wrong entry
there would be checked against itself. This table is written by hand from
《民法典》第1259条 ("'以上''以下''以内''届满'，包括本数；'不满''超过''以外'，不包括本数")
and each word's plain meaning, as the three answers a reader gives to "does the metric
satisfy 'metric WORD bound'" when the metric is just below, exactly at and just above
the bound. ``tests/test_bound_words.py`` holds a third, separate table.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from types import MappingProxyType

from vbp_rules.errors import PackValidationError

__all__ = ["WORD_HOLDS", "word_holds"]

_Y, _N = True, False

#: word or operator -> (holds just below the bound, holds at it, holds just above it).
WORD_HOLDS: Mapping[str, tuple[bool, bool, bool]] = MappingProxyType(
    {
        # the number and everything above it
        "以上": (_N, _Y, _Y),
        "及以上": (_N, _Y, _Y),
        "达到": (_N, _Y, _Y),
        "达到以上": (_N, _Y, _Y),
        "达到或超过": (_N, _Y, _Y),
        "满": (_N, _Y, _Y),
        "不少于": (_N, _Y, _Y),
        "不得少于": (_N, _Y, _Y),
        "不低于": (_N, _Y, _Y),
        "不得低于": (_N, _Y, _Y),
        "不小于": (_N, _Y, _Y),
        "大于或等于": (_N, _Y, _Y),
        "至少": (_N, _Y, _Y),
        ">=": (_N, _Y, _Y),
        # strictly above the number
        "超过": (_N, _N, _Y),
        "高于": (_N, _N, _Y),
        "多于": (_N, _N, _Y),
        "大于": (_N, _N, _Y),
        "以外": (_N, _N, _Y),
        ">": (_N, _N, _Y),
        # the number and everything below it
        "以下": (_Y, _Y, _N),
        "及以下": (_Y, _Y, _N),
        "以内": (_Y, _Y, _N),
        "之内": (_Y, _Y, _N),
        "届满": (_Y, _Y, _N),
        "不超过": (_Y, _Y, _N),
        "不得超过": (_Y, _Y, _N),
        "未超过": (_Y, _Y, _N),
        "不高于": (_Y, _Y, _N),
        "不得高于": (_Y, _Y, _N),
        "不多于": (_Y, _Y, _N),
        "不得多于": (_Y, _Y, _N),
        "不大于": (_Y, _Y, _N),
        "低于或等于": (_Y, _Y, _N),
        "小于或等于": (_Y, _Y, _N),
        "至多": (_Y, _Y, _N),
        "<=": (_Y, _Y, _N),
        # strictly below the number
        "低于": (_Y, _N, _N),
        "少于": (_Y, _N, _N),
        "小于": (_Y, _N, _N),
        "不满": (_Y, _N, _N),
        "未满": (_Y, _N, _N),
        "不足": (_Y, _N, _N),
        "未达到": (_Y, _N, _N),
        "<": (_Y, _N, _N),
        # exactly the number
        "等于": (_N, _Y, _N),
        "==": (_N, _Y, _N),
    }
)


def word_holds(word: str, value: Fraction, bound: Fraction) -> bool:
    """Whether ``value`` satisfies "value WORD bound", by :data:`WORD_HOLDS`.

    >>> word_holds("低于", Fraction(9, 10), Fraction(9, 10))
    False

    Raises:
        PackValidationError: the word is not in the kit's table.
    """
    if word not in WORD_HOLDS:
        msg = f"the authoring kit has no expectation for bound word {word!r}"
        raise PackValidationError([("bound word", msg)])
    below, at, above = WORD_HOLDS[word]
    if value < bound:
        return below
    if value > bound:
        return above
    return at
