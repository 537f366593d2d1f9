"""How the reference engine words its findings: values in their form, labels, details.

One display formatter (:func:`vbp_rules._format.format_value`) renders every value;
this module decides each value's *form* in a message (a ratio bound as a percentage,
money in yuan) and gives the Chinese of the engine's own labels.
"""

from __future__ import annotations

from datetime import datetime
from fractions import Fraction
from typing import cast

from vbp_rules._format import format_value as display_value
from vbp_rules.packs.model import BoundSpec, Rule
from vbp_rules.packs.pack import Pack

__all__ = ["fmt", "label_zh_of", "pending_detail", "value_forms"]

#: Rendered exact numbers (keyed by type, value and form: 1 and Fraction(1) differ in kind).
_NUMBER_TEXT: dict[tuple[type, object, str | None], str] = {}


def fmt(v: object, form: str | None = None) -> str:
    """Display text of a value in a form (``percent``, ``money`` or none).

    :func:`vbp_rules._format.format_value`, cached for numbers.
    """
    t = type(v)
    if t is str:
        return cast("str", v)
    percent, money = form == "percent", form == "money"
    if t is int or t is Fraction:
        key = (t, v, form)
        text = _NUMBER_TEXT.get(key)
        if text is None:
            if len(_NUMBER_TEXT) >= 65536:
                _NUMBER_TEXT.clear()
            text = _NUMBER_TEXT[key] = display_value(v, as_percent=percent, as_money=money)
        return text
    return display_value(v, as_percent=percent, as_money=money)


#: The display form of a parameter or metric unit.
_FORMS = {"ratio": "percent", "money": "money"}

#: Value names that take the form of the rule's bound (a ratio as 90%, money as 11.50).
_BOUND_VALUES = frozenset(
    {
        "threshold",
        "tier_lower",
        "tier_upper",
        "change",
        "decrease",
        "increase",
        "population_level",
        "margin",
    }
)

#: The Chinese of the labels the engine itself gives (tier and case labels are bilingual).
_LABEL_ZH = {
    "absent at as_of": "截至评估时点未发生",
    "not determined by the source": "原文未作规定",
}


def value_forms(pack: Pack, rule: Rule, bound: BoundSpec | None) -> dict[str, str]:
    """How the values compared with a bound print: ``percent`` or ``money``.

    A bound on a ``ratio`` parameter (or a literal written with ``%``) prints as the
    source writes ratios (90%), one on a ``money`` parameter in yuan (11.50); so do
    the other bound values (threshold, tier bounds, change…). The metric prints in
    its declared ``unit``'s form, else in the bound's.
    """
    params = pack.model.parameters
    form = None
    if bound is not None:
        named = bound.parameter or bound.margin
        if named is not None and named in params:
            form = _FORMS.get(params[named].type)
        elif isinstance(bound.value, str) and bound.value.strip().endswith("%"):
            form = "percent"
    metric = getattr(rule, "metric", None)
    unit_form = _FORMS.get(getattr(metric, "unit", None) or "")
    form = form or (unit_form if bound is not None else None)
    out = dict.fromkeys(_BOUND_VALUES, form) if form is not None else {}
    name = getattr(metric, "name", None)
    if isinstance(name, str) and (unit_form or form):
        out[name] = unit_form or form or ""
    return {k: v for k, v in out.items() if v}


def label_zh_of(rule: Rule, label: str) -> str:
    """The Chinese of a finding's label: the tier's or case's own, else the engine's."""
    if not label:
        return ""
    if label in _LABEL_ZH:
        return _LABEL_ZH[label]
    for part in [*getattr(rule, "tiers", ()), *getattr(rule, "cases", ())]:
        text = getattr(part, "label", None)
        if text is not None and text.en == label:
            return str(text.zh)
    otherwise = getattr(rule, "otherwise", None)
    text = getattr(otherwise, "label", None)
    if text is not None and text.en == label:
        return str(text.zh)
    return label


def pending_detail(due: datetime, as_of: datetime) -> str:
    """Why a deadline with no end event is not breached yet (due is not before as_of)."""
    if due == as_of:
        return (
            f"not yet due: due {fmt(due)} is the as_of instant itself; "
            "a deadline is missed only after it passes"
        )
    return f"not yet due: due {fmt(due)} is after as_of {fmt(as_of)}"
