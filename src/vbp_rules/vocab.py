"""Closed vocabularies shared by packs, engines and reports.

Bound words (以上, 超过, 低于, …) map to exact comparison operators after
《民法典》第1259条 and plain meaning; action codes give provinces one vocabulary so
their packs can be compared. Every entry has a Chinese and an English label.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Literal

import attrs

__all__ = [
    "ACTIONS",
    "BOUND_WORDS",
    "OPERATORS",
    "RULE_KINDS",
    "Action",
    "ActionEffect",
    "BoundWord",
    "Operator",
    "bound_word_pattern",
    "compare",
]

Operator = Literal[">=", ">", "<=", "<", "=="]

OPERATORS: Mapping[str, Callable[[Any, Any], Any]] = MappingProxyType(
    {
        ">=": operator.ge,
        ">": operator.gt,
        "<=": operator.le,
        "<": operator.lt,
        "==": operator.eq,
    }
)


def compare(left: object, op: str, right: object) -> bool:
    """Compare two exact values with one of the operators of :data:`OPERATORS`.

    >>> from fractions import Fraction
    >>> compare(Fraction(7, 100), "<", Fraction(7, 100))
    False
    """
    return bool(OPERATORS[op](left, right))


@attrs.frozen(kw_only=True, slots=True)
class BoundWord:
    """A word the notices use to state a bound, and the operator it means.

    ``operator`` reads "metric OP bound": 低于80% is ``metric < 0.80``.
    """

    word: str
    operator: Operator
    inclusive: bool
    en: str


def _bw(word: str, op: Operator, en: str) -> tuple[str, BoundWord]:
    return word, BoundWord(word=word, operator=op, inclusive=op in (">=", "<=", "=="), en=en)


#: Every bound word a pack may write, after 《民法典》第1259条 ("民法所称的'以上''以下''以内'
#: '届满'，包括本数；所称的'不满''超过''以外'，不包括本数。") and, for the words the article
#: does not name, their plain meaning: 不少于/不低于/不超过/达到/满 include the number;
#: 低于/少于/不足/未达到/未满 exclude it. docs/packs.md has the table.
BOUND_WORDS: Mapping[str, BoundWord] = MappingProxyType(
    dict(
        [
            # >= : the number itself meets the bound
            _bw("以上", ">=", "at or above"),
            _bw("及以上", ">=", "at or above"),
            _bw("达到", ">=", "reaches"),
            _bw("达到以上", ">=", "reaches or exceeds"),
            _bw("达到或超过", ">=", "reaches or exceeds"),
            _bw("满", ">=", "reaches (a full)"),
            _bw("不少于", ">=", "not less than"),
            _bw("不得少于", ">=", "must not be less than"),
            _bw("不低于", ">=", "not below"),
            _bw("不得低于", ">=", "must not be below"),
            _bw("不小于", ">=", "not smaller than"),
            _bw("大于或等于", ">=", "greater than or equal to"),
            _bw("至少", ">=", "at least"),
            # > : strictly beyond the number
            _bw("超过", ">", "more than"),
            _bw("高于", ">", "higher than"),
            _bw("多于", ">", "more than"),
            _bw("大于", ">", "greater than"),
            _bw("以外", ">", "beyond"),
            # <= : the number itself is within the bound
            _bw("以下", "<=", "at or below"),
            _bw("及以下", "<=", "at or below"),
            _bw("以内", "<=", "within"),
            _bw("之内", "<=", "within"),
            _bw("届满", "<=", "up to the end of"),
            _bw("不超过", "<=", "not more than"),
            _bw("不得超过", "<=", "must not exceed"),
            _bw("未超过", "<=", "has not exceeded"),
            _bw("不高于", "<=", "not higher than"),
            _bw("不得高于", "<=", "must not be higher than"),
            _bw("不多于", "<=", "not more than"),
            _bw("不得多于", "<=", "must not be more than"),
            _bw("不大于", "<=", "not greater than"),
            _bw("低于或等于", "<=", "lower than or equal to"),
            _bw("小于或等于", "<=", "less than or equal to"),
            _bw("至多", "<=", "at most"),
            # < : strictly short of the number
            _bw("低于", "<", "below"),
            _bw("少于", "<", "less than"),
            _bw("小于", "<", "smaller than"),
            _bw("不满", "<", "under"),
            _bw("未满", "<", "not yet reaching"),
            _bw("不足", "<", "short of"),
            _bw("未达到", "<", "does not reach"),
            # == : exactly the number
            _bw("等于", "==", "equal to"),
        ]
    )
)

#: Where the letters of a bound word in a sentence are not one: 满 in 满足, 期满, 充满.
_NOT_A_WORD = {"满": r"(?<![期届圆充])满(?![足意员])"}


def bound_word_pattern() -> re.Pattern[str]:
    """A regular expression that finds the bound words of :data:`BOUND_WORDS` in a text.

    Longer words win (不得低于 before 低于); 满 in 满足 or 期满 is not a bound word.

    >>> bound_word_pattern().findall("配送率不得低于95%，采购期满后满足需求")
    ['不得低于']
    """
    alternatives = [
        _NOT_A_WORD.get(w, re.escape(w)) for w in sorted(BOUND_WORDS, key=len, reverse=True)
    ]
    return re.compile("|".join(alternatives))


ActionEffect = Literal["penalty", "incentive", "neutral"]


@attrs.frozen(kw_only=True, slots=True)
class Action:
    """An action code, with its labels: of the shared vocabulary, or declared by a pack."""

    code: str
    zh: str
    en: str
    severity: int
    """Rough order of severity (higher is heavier), used by monotonicity checks."""
    effect: ActionEffect = "penalty"
    """A penalty, an incentive (milder than no action at all) or neither (a review, a
    determination)."""

    @property
    def weight(self) -> int:
        """Signed severity for monotonicity: penalties count up, incentives count down."""
        if self.effect == "incentive":
            return -max(self.severity, 1)
        return self.severity if self.effect == "penalty" else 0


def _a(
    code: str, zh: str, en: str, severity: int, effect: ActionEffect = "penalty"
) -> tuple[str, Action]:
    return code, Action(code=code, zh=zh, en=en, severity=severity, effect=effect)


#: The action vocabulary of RULES-INVENTORY.md, shared by every pack.
ACTIONS: Mapping[str, Action] = MappingProxyType(
    dict(
        [
            _a("reminder", "提醒", "reminder", 10),
            _a("require_explanation", "作出说明", "require an explanation", 10),
            _a("key_monitoring", "重点监测", "key monitoring", 15),
            _a("hospital_entry_check", "进院问题排查", "hospital entry check", 15),
            _a("delayed_response_list", "延迟响应清单", "delayed-response list", 15),
            _a("volume_risk_notice", "报量风险提示", "volume risk notice", 20),
            _a("supervise", "督导/督促", "supervise", 20),
            _a("inquiry_letter", "函询", "inquiry letter", 25),
            _a("notify", "通报", "public notification", 30),
            _a("return_for_refiling", "退回重新填报", "return for refiling", 30),
            _a("rectify", "限期整改", "rectify within a time limit", 30),
            _a("interview", "约谈", "interview (约谈)", 40),
            _a("warning", "告诫/警示", "warning", 45),
            _a("escalate", "逐级上报", "escalate to the province", 45),
            _a("assessment_fail", "考核不合格", "fails the assessment", 50),
            _a(
                "assessment_penalty",
                "在医保总额指标制定或年终考核中予以惩戒",
                "penalty in budget setting or year-end assessment",
                55,
            ),
            _a("reduce_agreed_volume", "减少约定采购量", "reduce the agreed volume", 60),
            _a("credit_rating", "招采信用评价", "procurement credit rating", 65),
            _a("suspend_listing", "暂停采购/暂停挂网/撤网", "suspend the listing", 70),
            _a(
                "suspend_direct_settlement",
                "暂停医保基金直接结算",
                "suspend direct settlement by the insurance fund",
                75,
            ),
            _a("cancel_selection", "取消中选资格", "cancel the selection", 90),
            _a(
                "bar_from_procurement",
                "不接受参加集采/取消参与集采资格",
                "bar from volume-based procurement",
                95,
            ),
            _a("incentive", "激励", "incentive", 0, "incentive"),
            _a("payment_standard", "支付标准", "payment standard (determination)", 0, "neutral"),
            _a("self_pay_increase", "提高个人首先自付比例", "raise the self-pay ratio", 20),
            _a("needs_review", "人工研判", "needs human review", 0, "neutral"),
        ]
    )
)

#: The rule kinds of the architecture, each with one meaning in every engine.
RULE_KINDS: tuple[str, ...] = (
    "threshold",
    "tiers",
    "change_band",
    "deadline",
    "streak",
    "relative",
    "exemption",
    "determination",
    "needs_review",
)
