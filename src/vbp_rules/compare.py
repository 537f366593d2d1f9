"""Comparing packs side by side: shared metrics, SLA windows and actions.

Rules line up across provinces by the glossary names they use: a metric name
(``timely_delivery_rate``), an SLA (the fact kind and the event that must come in time,
``complaints.replied_at``), a change band (``reported_quantity`` vs its baseline) or a
determination's outputs; and, separately, by action code.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import attrs

from vbp_rules.errors import PackValidationError
from vbp_rules.packs._checks import bound_operator
from vbp_rules.packs._params import render_parameter
from vbp_rules.packs.model import (
    BoundSpec,
    ChangeBandRule,
    DeadlineRule,
    DeterminationRule,
    RelativeRule,
    Rule,
    StreakRule,
    ThresholdRule,
    TiersRule,
)
from vbp_rules.packs.pack import Pack

__all__ = ["METRIC_FAMILIES", "ComparisonRow", "compare_packs", "metric_family", "rule_items"]

#: Glossary metrics (and SLA keys) grouped by what they measure, so that related rules of
#: different provinces line up even when they measure slightly different things (Shandong's
#: delivery rate beside Jiangxi's timely-delivery rate).
METRIC_FAMILIES: dict[str, str] = {
    "delivery_rate": "delivery",
    "timely_delivery_rate": "delivery",
    "order_response_rate": "order response",
    "sla:orders.responded_at": "order response",
    "complaints": "complaints",
    "complaint_timely_resolution_rate": "complaints",
    "sla:complaints.replied_at": "complaints",
    "sla:complaints.committed_resolution_at": "complaints",
    "sla:complaints.resolved_at": "complaints",
    "purchase_progress": "purchase progress",
    "progress_lag": "purchase progress",
    "completion_ratio": "purchase progress",
    "non_selected_share": "non-selected purchases",
    "assessed_non_selected_share": "non-selected purchases",
    "non_selected_quantity": "non-selected purchases",
    "selected_share": "non-selected purchases",
    "substitutable_quantity": "substitutable purchases",
    "unreported_purchase_quantity": "purchases without a demand report",
    "reported_quantity": "demand reports",
    "listing_price": "prices",
    "payment_standard": "prices",
    "settlement_rate": "settlement",
    "sla:settlements.paid_at": "settlement",
    "prepayment_ratio": "settlement",
    "sla:agreements.signed_at": "agreements",
    "sla:agreements.first_purchase_at": "agreements",
    "agreed_ratio": "agreements",
}


def metric_family(key: str) -> str | None:
    """The family of a comparison key, if it has one.

    >>> metric_family("timely_delivery_rate"), metric_family("delivery_rate")
    ('delivery', 'delivery')
    """
    if key in METRIC_FAMILIES:
        return METRIC_FAMILIES[key]
    if key.startswith("change:reported"):
        return "demand reports"
    return None


@attrs.frozen(kw_only=True, slots=True)
class Item:
    """One comparable thing a rule states."""

    key: str
    kind: str
    pack_id: str
    rule_id: str
    clause: str
    statement: str
    actions: tuple[str, ...]


@attrs.frozen(kw_only=True, slots=True)
class ComparisonRow:
    """One metric, SLA or action, with what each pack states about it."""

    dimension: str
    key: str
    cells: tuple[tuple[str, tuple[str, ...]], ...]

    @property
    def shared(self) -> bool:
        """True when more than one pack states something here."""
        return sum(1 for _, c in self.cells if c) > 1

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "dimension": self.dimension,
            "key": self.key,
            "shared": self.shared,
            "packs": {p: list(c) for p, c in self.cells},
        }


def _bound(pack: Pack, b: BoundSpec) -> str:
    word = b.word or b.op or ""
    if b.parameter is not None:
        value = pack.values.get(b.parameter)
        shown = "unspecified" if value is None else render_parameter(value)
    elif b.value is not None:
        shown = str(b.value)
    else:
        shown = f"({b.expr})" if b.expr else ""
    if b.margin is not None:
        margin = pack.values.get(b.margin)
        shown += (
            f" population level ∓ {'unspecified' if margin is None else render_parameter(margin)}"
        )
    return f"{word} {shown} [{bound_operator(b)}]".strip()


def rule_items(pack: Pack, rule: Rule) -> list[Item]:
    """What one rule states, keyed for comparison."""
    base = {"pack_id": pack.id, "rule_id": rule.id, "clause": rule.cite.clause, "kind": rule.kind}
    acts = tuple(rule.actions)
    if isinstance(rule, ThresholdRule) and rule.metric is not None:
        b = rule.breach_if or rule.require
        assert b is not None  # noqa: S101 - the model requires one
        verb = "breach if" if rule.breach_if else "require"
        return [
            Item(key=rule.metric.name, statement=f"{verb} {_bound(pack, b)}", actions=acts, **base)
        ]
    if isinstance(rule, ThresholdRule):
        return [
            Item(key=f"condition:{rule.id}", statement=rule.condition or "", actions=acts, **base)
        ]
    if isinstance(rule, TiersRule):
        parts = []
        all_actions: list[str] = []
        for t in rule.tiers:
            sides = " and ".join(_bound(pack, b) for b in (t.lower, t.upper) if b is not None)
            parts.append(f"{sides}: {', '.join(t.actions) or t.outcome}")
            all_actions.extend(a for a in t.actions if a not in all_actions)
        return [
            Item(
                key=rule.metric.name,
                statement="tiers " + "; ".join(parts),
                actions=tuple(all_actions),
                **base,
            )
        ]
    if isinstance(rule, StreakRule):
        unit = rule.period.unit if rule.period else "period"
        text = f"{rule.length} consecutive {unit}s {_bound(pack, rule.breach_if)}"
        return [Item(key=rule.metric.name, statement=text, actions=acts, **base)]
    if isinstance(rule, RelativeRule):
        return [
            Item(
                key=rule.metric.name,
                statement=f"relative {_bound(pack, rule.breach_if)}",
                actions=acts,
                **base,
            )
        ]
    if isinstance(rule, ChangeBandRule):
        bands: list[str] = []
        if rule.decrease is not None:
            bands.append(f"decrease {_bound(pack, rule.decrease)}")
        if rule.increase is not None:
            bands.append(f"increase {_bound(pack, rule.increase)}")
        return [
            Item(
                key=f"change:{rule.value}/{rule.baseline}",
                statement=", ".join(bands),
                actions=acts,
                **base,
            )
        ]
    if isinstance(rule, DeadlineRule):
        if rule.window is not None:
            window = pack.values.get(rule.window)
            shown = window if window is not None else "unspecified"
            text = f"{rule.end} within {shown} of {rule.start}"
        else:
            text = f"{rule.end} by {rule.due}"
        return [Item(key=f"sla:{rule.over}.{rule.end}", statement=text, actions=acts, **base)]
    if isinstance(rule, DeterminationRule):
        outputs = sorted({name for c in rule.cases for name in c.values})
        cases = "; ".join(c.label.en if c.label else c.when for c in rule.cases)
        return [
            Item(
                key=f"determination:{','.join(outputs) or rule.id}",
                statement=cases,
                actions=acts,
                **base,
            )
        ]
    return []


def compare_packs(packs: Sequence[Pack]) -> list[ComparisonRow]:
    """Metrics, SLAs and actions of several packs side by side (shared rows first).

    >>> from vbp_rules import load_pack
    >>> rows = compare_packs([load_pack("jiangxi-2024")])
    >>> any(r.key == "order_response_rate" for r in rows)
    True
    """
    ids = [p.id for p in packs]
    if len(set(ids)) != len(ids):
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        raise PackValidationError([("compare", f"pack {', '.join(dupes)} given more than once")])
    by_key: dict[tuple[str, str], dict[str, list[str]]] = {}
    for pack in packs:
        for rule in pack.rules:
            for item in rule_items(pack, rule):
                dim = "sla" if item.key.startswith("sla:") else "metric"
                cell = by_key.setdefault((dim, item.key.removeprefix("sla:")), {})
                cell.setdefault(pack.id, []).append(
                    f"{item.rule_id} ({item.clause}): {item.statement}"
                    + (f" -> {', '.join(item.actions)}" if item.actions else "")
                )
                for action in item.actions:
                    acell = by_key.setdefault(("action", action), {})
                    acell.setdefault(pack.id, []).append(
                        f"{item.rule_id} ({item.clause}) on {item.key}"
                    )
                family = metric_family(item.key)
                if family is not None:
                    fcell = by_key.setdefault(("family", family), {})
                    fcell.setdefault(pack.id, []).append(
                        f"{item.key.removeprefix('sla:')}: {item.rule_id} ({item.clause}) "
                        f"{item.statement}"
                    )
    rows = [
        ComparisonRow(
            dimension=dim, key=key, cells=tuple((pid, tuple(cells.get(pid, []))) for pid in ids)
        )
        for (dim, key), cells in by_key.items()
    ]
    order = {"family": 0, "metric": 1, "sla": 2, "action": 3}
    return sorted(rows, key=lambda r: (not r.shared, order[r.dimension], r.key))


def rows_to_records(rows: Iterable[ComparisonRow]) -> list[dict[str, str]]:
    """Flat records (one per row, one column per pack) for CSV."""
    out = []
    for r in rows:
        rec = {"dimension": r.dimension, "key": r.key, "shared": str(r.shared).lower()}
        rec.update({pid: " | ".join(cells) for pid, cells in r.cells})
        out.append(rec)
    return out
