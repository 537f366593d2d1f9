"""What-if analysis: compare two evaluations, sweep a parameter over values.

>>> from datetime import date
>>> from vbp_rules import load_pack
>>> pack = load_pack("jiangxi-2024")
>>> facts = {"orders": [
...     {"id": "o1", "institution_id": "h", "enterprise_id": "e", "product_id": "p",
...      "sent_at": "2024-07-01T09:00+08:00", "responded_at": "2024-07-03T10:00+08:00",
...      "ordered_quantity": 1}]}
>>> table = sweep(pack, facts, "order_response_window", [48, 50], as_of=date(2024, 7, 31),
...               rules=["order-response-48h"])
>>> table.select("value", "outcome", "count").rows()
[('48', 'breach', 1), ('50', 'compliant', 1)]
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, Literal

import attrs

from vbp_rules.findings import Evaluation, Finding, Period, Subject, sort_findings

__all__ = ["Change", "Diff", "diff", "reading_rules", "sweep"]

ChangeKind = Literal["enters", "leaves", "tier_change", "outcome_change", "appears", "disappears"]


@attrs.frozen(kw_only=True, slots=True)
class Change:
    """One subject whose result differs between two evaluations of one rule.

    ``enters``: a breach in b that was not in a; ``leaves``: the reverse;
    ``tier_change``: same outcome, another tier; ``outcome_change``: another non-breach
    outcome; ``appears``/``disappears``: the subject has a finding in only one of them
    (e.g. a parameter made a rule applicable).
    """

    rule_id: str
    subject: Subject
    period: Period | None
    change: ChangeKind
    outcome_a: str | None
    outcome_b: str | None
    tier_a: str | None
    tier_b: str | None

    def to_dict(self) -> dict[str, Any]:
        """A flat, JSON-ready dict."""
        return {
            "rule": self.rule_id,
            "subject_kind": self.subject.kind,
            "subject": str(self.subject),
            "period": str(self.period) if self.period else None,
            "change": self.change,
            "outcome_a": self.outcome_a,
            "outcome_b": self.outcome_b,
            "tier_a": self.tier_a,
            "tier_b": self.tier_b,
        }


@attrs.frozen(kw_only=True, slots=True)
class Diff:
    """The changes from evaluation a to evaluation b, in finding order."""

    pack_a: str
    pack_b: str
    changes: tuple[Change, ...]

    def counts(self) -> dict[tuple[str, str], int]:
        """``(rule, change) -> number of subjects``."""
        return dict(sorted(Counter((c.rule_id, c.change) for c in self.changes).items()))

    def entering(self) -> tuple[Change, ...]:
        """Subjects that become breaches."""
        return tuple(c for c in self.changes if c.change == "enters")

    def leaving(self) -> tuple[Change, ...]:
        """Subjects that stop being breaches."""
        return tuple(c for c in self.changes if c.change == "leaves")

    def to_frame(self) -> Any:
        """The changes as a Polars DataFrame (one row per change)."""
        import polars as pl  # noqa: PLC0415 - optional extra

        schema = dict.fromkeys(_CHANGE_COLUMNS, pl.String)
        return pl.DataFrame([c.to_dict() for c in self.changes], schema=schema)

    def __len__(self) -> int:
        return len(self.changes)


_CHANGE_COLUMNS = (
    "rule",
    "subject_kind",
    "subject",
    "period",
    "change",
    "outcome_a",
    "outcome_b",
    "tier_a",
    "tier_b",
)


def _key(f: Finding) -> tuple[str, tuple[tuple[str, str], ...], str]:
    return (f.rule_id, f.subject.keys, str(f.period or ""))


def diff(a: Evaluation, b: Evaluation) -> Diff:
    """Who enters, leaves or changes tier/outcome between two evaluations, by rule/subject.

    Findings are matched on (rule, subject, period). Unchanged subjects are left out.
    """
    index_a = {_key(f): f for f in a.findings}
    index_b = {_key(f): f for f in b.findings}
    changes: list[Change] = []
    for key in sorted(index_a.keys() | index_b.keys()):
        fa, fb = index_a.get(key), index_b.get(key)
        kind: ChangeKind | None
        if fa is None or fb is None:
            kind = "appears" if fa is None else "disappears"
            if (fb or fa) is not None and (fb or fa).outcome == "breach":  # type: ignore[union-attr]
                kind = "enters" if fa is None else "leaves"
        elif fa.outcome != fb.outcome:
            if fb.outcome == "breach":
                kind = "enters"
            elif fa.outcome == "breach":
                kind = "leaves"
            else:
                kind = "outcome_change"
        elif fa.tier != fb.tier:
            kind = "tier_change"
        else:
            kind = None
        if kind is None:
            continue
        ref = fb if fb is not None else fa
        assert ref is not None  # noqa: S101 - one of them exists
        changes.append(
            Change(
                rule_id=ref.rule_id,
                subject=ref.subject,
                period=ref.period,
                change=kind,
                outcome_a=fa.outcome if fa else None,
                outcome_b=fb.outcome if fb else None,
                tier_a=fa.tier if fa else None,
                tier_b=fb.tier if fb else None,
            )
        )
    return Diff(pack_a=a.pack_id, pack_b=b.pack_id, changes=tuple(changes))


def _rows_for(
    value: object, ev: Evaluation, rules: set[str] | None, *, per_subject: bool
) -> Iterable[dict[str, Any]]:
    shown = str(value)
    if per_subject:
        for f in ev.findings:
            if rules is None or f.rule_id in rules:
                yield {
                    "value": shown,
                    "rule": f.rule_id,
                    "subject": str(f.subject),
                    "period": str(f.period) if f.period else None,
                    "outcome": f.outcome,
                    "tier": f.tier,
                }
        return
    counts: Counter[tuple[str, str, str | None]] = Counter()
    for f in ev.findings:
        if rules is None or f.rule_id in rules:
            counts[(f.rule_id, f.outcome, f.tier)] += 1
    for s in ev.skips:
        if s.rule_id is not None and (rules is None or s.rule_id in rules):
            counts[(s.rule_id, f"skip:{s.reason}", None)] += 1
    for (rule, outcome, tier), n in sorted(counts.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        yield {"value": shown, "rule": rule, "outcome": outcome, "tier": tier, "count": n}


def reading_rules(pack: Any, parameter: str) -> frozenset[str]:
    """Ids of the rules whose result may depend on ``parameter`` (conservatively).

    A rule reads a parameter when its name appears anywhere in the rule (expressions,
    bounds, windows), or in an exemption rule that exempts it.
    """
    import json  # noqa: PLC0415
    import re  # noqa: PLC0415

    word = re.compile(rf"\b{re.escape(parameter)}\b")
    out: set[str] = set()
    for rule in pack.rules:
        text = json.dumps(rule.model_dump(mode="json"), ensure_ascii=False)
        if word.search(text):
            out.add(rule.id)
            out.update(getattr(rule, "exempts", None) or ())
    return frozenset(out)


def _merge(first: Evaluation, part: Evaluation, affected: frozenset[str]) -> Evaluation:
    findings = [f for f in first.findings if f.rule_id not in affected]
    findings += [f for f in part.findings if f.rule_id in affected]
    skips = [s for s in first.skips if s.rule_id not in affected]
    skips += [s for s in part.skips if s.rule_id in affected]
    return attrs.evolve(part, findings=sort_findings(findings), skips=tuple(skips))


def sweep(
    pack: Any,
    facts: Any,
    parameter: str,
    values: Sequence[object],
    *,
    as_of: datetime | date,
    engine: Literal["frame", "reference"] = "frame",
    rules: Iterable[str] | None = None,
    per_subject: bool = False,
    interpretations: Mapping[str, str] | None = None,
    backend: str | None = None,
    session: object = None,
) -> Any:
    """Evaluate ``pack`` with ``parameter`` set to each of ``values``; a tidy table.

    With the frame engine the facts are validated and encoded once, and each rule's
    subjects (filtered, grouped, aggregated rows) are computed once and reused for every
    value whose row expressions do not read ``parameter``; only the per-subject decisions
    are repeated. Rules that do not read ``parameter`` at all still get one row per value.

    Args:
        pack: the base pack; each value gives ``pack.with_overrides({parameter: value})``.
        facts: as for :func:`vbp_rules.engine.frame.evaluate_frame`.
        parameter: the parameter name.
        values: values written as in a pack (``"85%"``, ``48``).
        as_of: the evaluation instant.
        engine: ``frame`` (default) or ``reference``.
        rules: only these rule ids (default: every rule).
        per_subject: one row per value x finding instead of counts.
        interpretations: named readings of ambiguous clauses.
        backend: frame backend (default Polars).
        session: backend session (DuckDB connection, SparkSession).

    Returns:
        A Polars DataFrame: ``value, rule, outcome, tier, count`` (counts include skip
        reasons as ``skip:<reason>``), or ``value, rule, subject, period, outcome, tier``.
    """
    import polars as pl  # noqa: PLC0415 - optional extra

    from vbp_rules.engine.frame import evaluate_frame, prepare  # noqa: PLC0415
    from vbp_rules.engine.reference import evaluate  # noqa: PLC0415
    from vbp_rules.facts import FactSet  # noqa: PLC0415

    wanted = set(rules) if rules is not None else None
    prepared: Any
    if engine == "frame":
        prepared = prepare(facts, backend=backend, session=session, share_units=True)
    else:
        prepared = facts if isinstance(facts, FactSet) else FactSet.from_records(facts)
    records: list[dict[str, Any]] = []
    affected = reading_rules(pack, parameter)
    first: Evaluation | None = None
    for value in values:
        p = pack.with_overrides({parameter: value})
        if engine == "frame":
            ev = evaluate_frame(
                p,
                prepared,
                as_of=as_of,
                interpretations=interpretations,
                only_rules=None if first is None else affected,
            )
        else:
            ev = evaluate(p, prepared, as_of=as_of, interpretations=interpretations)
        if engine == "frame" and first is None:
            first = ev
        if engine == "frame" and first is not ev and first is not None:
            # rules that do not read the parameter: the first value's results hold
            ev = _merge(first, ev, affected)
        records.extend(_rows_for(value, ev, wanted, per_subject=per_subject))
    schema: dict[str, Any]
    if per_subject:
        schema = dict.fromkeys(("value", "rule", "subject", "period", "outcome", "tier"), pl.String)
    else:
        schema = {
            "value": pl.String,
            "rule": pl.String,
            "outcome": pl.String,
            "tier": pl.String,
            "count": pl.Int64,
        }
    return pl.DataFrame(records, schema=schema)
