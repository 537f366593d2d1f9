"""Property checks any pack can run: the mistakes loading a pack cannot see.

Each check takes a loaded pack and returns the :class:`Problem` s it found (an empty
list means the property holds); :func:`run_checks` runs them all and returns a
:class:`CheckReport`.

- :func:`check_tiers_exhaustive`: exactly one tier holds for metric values sampled
  across and at every bound (catches gaps and overlaps the loader cannot prove, e.g.
  bounds written as expressions).
- :func:`check_actions_monotone`: a worse metric never gets a milder action (tier
  ladders, and threshold rules of one metric at different bounds).
- :func:`check_bound_words_cited`: the bound word puts the bound value on the same side
  as the word next to that number in the cited sentence (低于90% is not 90%以下).
- :func:`check_bound_words_at_bound`: facts exactly on, just below and just above each
  bound, evaluated with the reference engine, give what the bound words say.
- :func:`check_accounting`: every input row ends in a finding, a skip or a reject.
- :func:`check_fact_order_independence`: shuffling the fact rows changes nothing.

>>> from vbp_rules.packs import load_pack
>>> check_tiers_exhaustive(load_pack("jiangxi-2024"))
[]
"""

from __future__ import annotations

import itertools
import json
import random
import re
from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction
from typing import Any

import attrs

from vbp_rules.calendar import WorkCalendar
from vbp_rules.engine._functions import CalendarContext
from vbp_rules.errors import ExpressionError, VbpRulesError
from vbp_rules.expr import NotApplicable, to_fraction
from vbp_rules.packs._checks import bound_operator
from vbp_rules.packs.model import (
    BoundSpec,
    ChangeBandRule,
    RelativeRule,
    Rule,
    StreakRule,
    ThresholdRule,
    TiersRule,
)
from vbp_rules.packs.pack import Pack
from vbp_rules.testing._boundaries import (
    BoundaryCase,
    boundary_cases,
    configured,
    exemption_cases,
    sla_cases,
    tier_of,
)
from vbp_rules.testing._words import WORD_HOLDS
from vbp_rules.vocab import ACTIONS, Action, bound_word_pattern

__all__ = [
    "ALL_CHECKS",
    "CheckReport",
    "Problem",
    "check_accounting",
    "check_actions_monotone",
    "check_bound_words_at_bound",
    "check_bound_words_cited",
    "check_fact_order_independence",
    "check_tiers_exhaustive",
    "run_checks",
]


@attrs.frozen(kw_only=True, slots=True)
class Problem:
    """One property that does not hold: which check, which rule, and what was seen."""

    check: str
    rule_id: str | None
    message: str
    source_words: tuple[str, ...] = ()
    """For a bound word that contradicts its citation: the words the source writes."""

    def __str__(self) -> str:
        where = f"{self.rule_id}: " if self.rule_id else ""
        return f"[{self.check}] {where}{self.message}"


@attrs.frozen(kw_only=True, slots=True)
class CheckReport:
    """What :func:`run_checks` found: problems, and notes on what it could not check."""

    pack_id: str
    problems: tuple[Problem, ...]
    notes: tuple[str, ...] = ()
    cases: int = 0

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return not self.problems

    def __str__(self) -> str:
        head = f"{self.pack_id}: {len(self.problems)} problem(s), {self.cases} boundary cases"
        return "\n".join([head, *(f"  {p}" for p in self.problems)])

    def raise_for_problems(self) -> None:
        """Raise ``AssertionError`` listing every problem (for use inside tests)."""
        if self.problems:
            raise AssertionError(str(self))


def _cite(rule: Rule) -> str:
    return f"[{rule.cite.clause} {rule.cite.text[:40]}…]"


# ------------------------------------------------------------------- static bound values


def _static_env(pack: Pack) -> dict[str, object]:
    return {**{k: getattr(v, "n", v) for k, v in pack.values.items()}, "as_of": None}


def _static_bound(pack: Pack, b: BoundSpec | None) -> Fraction | None:
    """A bound's value without facts: parameters, constants, parameter-only expressions."""
    if b is None:
        return None
    if b.parameter is not None:
        v = pack.values.get(b.parameter)
        return None if v is None else to_fraction(getattr(v, "n", v))
    if b.value is not None:
        return to_fraction(b.value)
    assert b.expr is not None  # noqa: S101 - the model guarantees one source
    expr = pack.expr(b.expr)
    env = _static_env(pack)
    if not expr.names <= set(env) - {"as_of"}:
        return None
    try:
        v = expr.evaluate(env, functions=CalendarContext(calendar=WorkCalendar.china()).functions())
    except (ExpressionError, NotApplicable):
        return None
    return to_fraction(v) if isinstance(v, int | Fraction) and not isinstance(v, bool) else None


def _tier_bounds(
    pack: Pack, rule: TiersRule
) -> dict[int, tuple[Fraction | None, Fraction | None]] | None:
    out: dict[int, tuple[Fraction | None, Fraction | None]] = {}
    for i, t in enumerate(rule.tiers):
        lo, up = _static_bound(pack, t.lower), _static_bound(pack, t.upper)
        if (t.lower is not None and lo is None) or (t.upper is not None and up is None):
            return None
        out[i] = (lo, up)
    return out


def _samples(values: Sequence[Fraction]) -> list[Fraction]:
    pts = sorted(set(values))
    eps = Fraction(1, 10**6)
    out = set(pts)
    for v in pts:
        out |= {v - eps, v + eps}
    for a, b in itertools.pairwise(pts):
        out.add((a + b) / 2)
    lo = pts[0] if pts else Fraction(0)
    hi = pts[-1] if pts else Fraction(1)
    out |= {lo - 1, hi + 1, Fraction(0), Fraction(1)}
    return sorted(out)


def _configured(pack: Pack, configure: Mapping[str, object] | None) -> Pack:
    return configured(pack, configure)[0]


# ------------------------------------------------------------------- tiers


def check_tiers_exhaustive(
    pack: Pack, *, configure: Mapping[str, object] | None = None
) -> list[Problem]:
    """Exactly one tier holds at, around and between every bound of every tiers rule.

    Unspecified bounds are configured (``configure`` or the example configuration);
    bounds that are expressions over parameters are evaluated; tiers whose bounds read
    subject fields are left to :func:`check_bound_words_at_bound`.
    """
    p = _configured(pack, configure)
    problems: list[Problem] = []
    for rule in p.rules:
        if not isinstance(rule, TiersRule):
            continue
        bounds = _tier_bounds(p, rule)
        if bounds is None:
            continue
        values = [v for lo_up in bounds.values() for v in lo_up if v is not None]
        for x in _samples(values):
            ids = tier_of(rule, x, bounds)
            if len(ids) != 1:
                what = "no tier" if not ids else f"{len(ids)} tiers ({', '.join(ids)})"
                problems.append(
                    Problem(
                        check="tiers_exhaustive",
                        rule_id=rule.id,
                        message=(
                            f"{rule.metric.name} = {x} ({float(x):.6g}) falls in {what} "
                            f"{_cite(rule)}"
                        ),
                    )
                )
    return problems


# ------------------------------------------------------------------- monotone actions


def _severity(actions: Sequence[str], known: Mapping[str, Action] = ACTIONS) -> int:
    weights = [known[a].weight for a in actions if a in known]
    return max(weights) if weights else 0


def _below_words(text: str) -> tuple[bool, bool]:
    sides = [WORD_HOLDS[w] for w in _WORD_RE.findall(text) if w in WORD_HOLDS]
    return any(below and not above for below, _, above in sides), any(
        above and not below for below, _, above in sides
    )


def _low_is_worse(rule: TiersRule, order: Sequence[int]) -> bool | None:
    first, last = rule.tiers[order[0]], rule.tiers[order[-1]]
    if last.outcome == "compliant" and first.outcome != "compliant":
        return True
    if first.outcome == "compliant" and last.outcome != "compliant":
        return False
    below, above = _below_words(rule.cite.text)
    if below != above:
        return below
    return None


def check_actions_monotone(
    pack: Pack, *, configure: Mapping[str, object] | None = None
) -> list[Problem]:
    """A worse metric never gets a milder action.

    Tiers are ordered by their bounds; the worse end is the one away from the compliant
    tier (or, with none, the side the cited words point to: 低于/以下 mean low is worse).
    Severity is the heaviest action's :attr:`~vbp_rules.vocab.Action.severity`. Threshold
    rules that test one metric against different bounds in the same direction form a
    ladder and are checked the same way.
    """
    p = _configured(pack, configure)
    problems: list[Problem] = []
    for rule in p.rules:
        if not isinstance(rule, TiersRule):
            continue
        bounds = _tier_bounds(p, rule)
        if bounds is None:
            continue

        def low_key(
            i: int, bounds: Mapping[int, tuple[Fraction | None, Fraction | None]] = bounds
        ) -> tuple[int, Fraction]:
            lo = bounds[i][0]
            return (0, Fraction(0)) if lo is None else (1, lo)

        order = sorted(range(len(rule.tiers)), key=low_key)
        low_worse = _low_is_worse(rule, order)
        if low_worse is None:
            continue
        best_to_worst = list(reversed(order)) if low_worse else order
        for a, b in itertools.pairwise(best_to_worst):
            ta, tb = rule.tiers[a], rule.tiers[b]
            sa = _severity(ta.actions, p.actions)
            sb = _severity(tb.actions, p.actions)
            sa = min(sa, 0) if ta.outcome == "compliant" else sa
            sb = min(sb, 0) if tb.outcome == "compliant" else sb
            if sb < sa:
                problems.append(
                    Problem(
                        check="actions_monotone",
                        rule_id=rule.id,
                        message=(
                            f"tier {tb.id!r} (worse {rule.metric.name}) gets "
                            f"{tb.actions or tb.outcome} "
                            f"(severity {sb}), milder than {ta.id!r} {ta.actions} (severity {sa}) "
                            f"{_cite(rule)}"
                        ),
                    )
                )
    problems.extend(_threshold_ladders(p))
    return problems


def _threshold_ladders(pack: Pack) -> list[Problem]:
    groups: dict[str, list[tuple[ThresholdRule, str, Fraction]]] = {}
    for rule in pack.rules:
        if not isinstance(rule, ThresholdRule) or rule.metric is None or rule.breach_if is None:
            continue
        value = _static_bound(pack, rule.breach_if)
        if value is None:
            continue
        op = bound_operator(rule.breach_if)
        if op == "==":
            continue
        key = json.dumps(
            [
                rule.over,
                rule.metric.expr,
                rule.where,
                repr(rule.group_by),
                repr(rule.period),
                sorted((rule.interpretation or {}).items()),
                op in ("<", "<="),
            ],
            ensure_ascii=False,
        )
        groups.setdefault(key, []).append((rule, op, value))
    problems = []
    for members in groups.values():
        if len(members) < 2:
            continue
        below = members[0][1] in ("<", "<=")
        # worse first: the lowest bound of a "below" ladder, the highest of an "above" one
        ordered = sorted(members, key=lambda m: m[2], reverse=not below)
        for (worse, _, wv), (milder, _, mv) in itertools.pairwise(ordered):
            if _severity(worse.actions, pack.actions) < _severity(milder.actions, pack.actions):
                problems.append(
                    Problem(
                        check="actions_monotone",
                        rule_id=worse.id,
                        message=(
                            f"breached at {worse.metric.name if worse.metric else ''} "
                            f"{'<' if below else '>'} {wv} it gets {worse.actions}, milder than "
                            f"{milder.id!r} at {mv} {milder.actions} {_cite(worse)}"
                        ),
                    )
                )
    return problems


# ------------------------------------------------------------------- bound words vs citation

_WORD_RE = bound_word_pattern()
_UNIT = r"(?:个)?(?:工作日|自然日|小时|日|天|个月|月|季度|年|家|件|次|倍)?"


def _point_below(word: str) -> bool | None:
    """Which side of the bound the bound value itself is on: True for the lower side.

    ``word`` is a bound word or an operator; the answer comes from the kit's own table
    (:data:`vbp_rules.testing._words.WORD_HOLDS`), not from the engines' registry.
    """
    below, at, above = WORD_HOLDS.get(word, (False, True, False))
    if below == above:
        return None
    return at == below


def _number_texts(value: Fraction, *, percent: bool) -> list[str]:
    v = value * 100 if percent else value
    if v.denominator == 1:
        return [str(v.numerator)]
    dec = float(v)
    return [f"{dec:g}"]


def _words_at(text: str, value: Fraction, *, percent: bool) -> list[str]:
    """Bound words written right before or right after ``value`` in ``text``."""
    found: list[str] = []
    pct = r"\s*[%％]" if percent else r""
    words = _WORD_RE.pattern
    for num in _number_texts(value, percent=percent):
        n = rf"(?<![\d.]){re.escape(num)}(?![\d.])"
        found += re.findall(rf"({words})\s*{n}{pct}", text)
        found += re.findall(rf"{n}{pct}\s*{_UNIT}\s*({words})", text)
    return found


def _texts(pack: Pack, rule: Rule, b: BoundSpec) -> list[str]:
    out = [rule.cite.text]
    if b.parameter is not None and b.parameter in pack.model.parameters:
        out.append(pack.model.parameters[b.parameter].cite.text)
    return out


def _bounds_of(rule: Rule) -> list[tuple[str, BoundSpec]]:
    if isinstance(rule, ThresholdRule):
        b = rule.breach_if or rule.require
        return [("breach_if" if rule.breach_if else "require", b)] if b is not None else []
    if isinstance(rule, TiersRule):
        return [
            (f"tiers.{t.id}.{side}", b)
            for t in rule.tiers
            for side, b in (("lower", t.lower), ("upper", t.upper))
            if b is not None
        ]
    if isinstance(rule, ChangeBandRule):
        return [
            (s, b)
            for s, b in (("decrease", rule.decrease), ("increase", rule.increase))
            if b is not None
        ]
    if isinstance(rule, StreakRule | RelativeRule):
        return [("breach_if", rule.breach_if)]
    return []


def check_bound_words_cited(pack: Pack, *, allow: Mapping[str, str] | None = None) -> list[Problem]:
    """Each bound word puts the bound value on the side its cited sentence does.

    The word written next to the bound's number in the rule's (or its parameter's)
    citation decides: 低于90% leaves 90% itself on the upper side, 90%以下 on the lower
    side, so a rule citing 低于90% but writing 以下 is reported. For expression bounds,
    whose number is not in the text, the words of the sentence are compared instead.
    ``allow`` maps rule ids to the reason a deliberate reading differs.
    """
    problems: list[Problem] = []
    for rule in pack.rules:
        if allow and rule.id in allow:
            continue
        for where, b in _bounds_of(rule):
            op = bound_operator(b)
            mine = _point_below(b.word or op)
            if mine is None or (b.parameter is None and b.value is None and b.expr is None):
                continue
            shown = b.word or op
            value = _static_bound(pack, b) if b.expr is None else None
            texts = _texts(pack, rule, b)
            percent = b.parameter is not None and pack.model.parameters[b.parameter].type == "ratio"
            percent = percent or (value is not None and value.denominator != 1 and value < 2)
            if value is not None:
                near = [w for t in texts for w in _words_at(t, value, percent=percent)]
                if near:
                    if not any(_point_below(w) == mine for w in near):
                        problems.append(
                            Problem(
                                check="bound_words_cited",
                                rule_id=rule.id,
                                message=(
                                    f"{where}: {shown!r} ({op}) puts {value} on the "
                                    f"{'lower' if mine else 'upper'} side, but the source says "
                                    f"{'/'.join(dict.fromkeys(near))} next to that number "
                                    f"{_cite(rule)}"
                                ),
                                source_words=tuple(dict.fromkeys(near)),
                            )
                        )
                    continue
            if b.word is not None and any(b.word in t for t in texts):
                continue
            if b.expr is not None:
                words = [w for t in texts for w in _WORD_RE.findall(t)]
                if words and not any(_point_below(w) == mine for w in words):
                    problems.append(
                        Problem(
                            check="bound_words_cited",
                            rule_id=rule.id,
                            message=(
                                f"{where}: {shown!r} ({op}) is not what the cited sentence says "
                                f"({'/'.join(dict.fromkeys(words))}) {_cite(rule)}"
                            ),
                            source_words=tuple(dict.fromkeys(words)),
                        )
                    )
    return problems


# ------------------------------------------------------------------- engine checks


def _evaluate(pack: Pack, case: BoundaryCase, facts: Mapping[str, Any] | None = None) -> Any:
    from vbp_rules.engine.reference import evaluate  # noqa: PLC0415

    p = (
        Pack.build(
            pack.model,
            path=pack.path,
            parent=pack.parent,
            overrides={**pack.overrides, **case.parameters},
        )
        if case.parameters
        else pack
    )
    return evaluate(
        p,
        facts if facts is not None else case.records(),
        as_of=case.as_of,
        interpretations=case.interpretations or None,
    )


def _all_cases(
    pack: Pack, configure: Mapping[str, object] | None, *, sla: bool = True
) -> list[BoundaryCase]:
    cases = boundary_cases(pack, configure=configure)
    cases += exemption_cases(pack)
    if sla:
        cases += sla_cases(pack, limit=6)
    return cases


def check_bound_words_at_bound(
    pack: Pack,
    *,
    cases: Sequence[BoundaryCase] | None = None,
    configure: Mapping[str, object] | None = None,
) -> list[Problem]:
    """On, just below and just above each bound, the reference engine does what the words say.

    Also covers zero denominators (the rule does not apply), deadlines around holidays
    and exemptions switched on and off (see :mod:`vbp_rules.testing.strategies`).
    """
    problems = []
    for case in cases if cases is not None else _all_cases(pack, configure):
        rule = pack.rule(case.rule_id)
        try:
            ev = _evaluate(pack, case)
        except (VbpRulesError, AssertionError, ArithmeticError) as exc:
            problems.append(
                Problem(
                    check="bound_words_at_bound",
                    rule_id=case.rule_id,
                    message=f"{case.name}: evaluation failed: {exc} {_cite(rule)}",
                )
            )
            continue
        findings = ev.by_rule(case.rule_id)
        if case.expected_skip is not None:
            reasons = [s.reason for s in ev.skips if s.rule_id == case.rule_id]
            if case.expected_skip not in reasons:
                got = [f.outcome for f in findings] or reasons
                problems.append(
                    Problem(
                        check="bound_words_at_bound",
                        rule_id=case.rule_id,
                        message=(
                            f"{case.name}: expected skip {case.expected_skip}, got {got} "
                            f"{_cite(rule)}"
                        ),
                    )
                )
            continue
        got = sorted({(f.outcome, f.tier) for f in findings}, key=str)
        want = (case.expected_outcome, case.expected_tier)
        tier_ok = case.expected_tier is None or isinstance(rule, ChangeBandRule)
        ok = len(got) == 1 and got[0][0] == want[0] and (tier_ok or got[0][1] == want[1])
        if isinstance(rule, ChangeBandRule) and ok and case.expected_tier is not None:
            ok = got[0][1] == case.expected_tier
        if not ok:
            at = f" at {case.metric} (bound {case.bound_value})" if case.metric is not None else ""
            skipped = [f"{s.reason}: {s.detail}" for s in ev.skips if s.rule_id == case.rule_id]
            gave = got or (f"a skip ({'; '.join(skipped)})" if skipped else "nothing")
            problems.append(
                Problem(
                    check="bound_words_at_bound",
                    rule_id=case.rule_id,
                    message=(
                        f"{case.name}{at}: the bound word {case.word or ''} calls for "
                        f"{want[0]}{f' [{want[1]}]' if want[1] else ''}, the engine gave "
                        f"{gave} {_cite(rule)}"
                    ),
                )
            )
    return problems


def check_accounting(
    pack: Pack,
    *,
    cases: Sequence[BoundaryCase] | None = None,
    configure: Mapping[str, object] | None = None,
) -> list[Problem]:
    """Every input row of every boundary case is read by the case's own rule, or rejected.

    A boundary case is built for one rule, so each of its rows must appear in a finding
    or a skip *of that rule*: the engine's accounting pass would otherwise file a row the
    rule silently dropped as ``no_applicable_rule``, and "every row is accounted for"
    would hold by construction.
    """
    problems = []
    for case in cases if cases is not None else _all_cases(pack, configure, sla=False):
        try:
            ev = _evaluate(pack, case)
        except (VbpRulesError, AssertionError, ArithmeticError):
            continue  # reported by check_bound_words_at_bound
        read = {ref for f in ev.findings if f.rule_id == case.rule_id for ref in f.rows}
        read |= {ref for s in ev.skips if s.rule_id == case.rule_id for ref in s.rows}
        read |= {(r.kind, r.row_id) for r in ev.rejects}
        rows = {(k, str(r["id"])) for k, rs in case.facts.items() for r in rs}
        lost = sorted(rows - read)
        if lost:
            problems.append(
                Problem(
                    check="accounting",
                    rule_id=case.rule_id,
                    message=(
                        f"{case.name}: rows {case.rule_id} did not read (no finding or skip "
                        f"of it, no reject): {lost[:5]}"
                    ),
                )
            )
    return problems


def _prefixed(case: BoundaryCase, n: int) -> dict[str, list[dict[str, object]]]:
    out: dict[str, list[dict[str, object]]] = {}
    for kind, rows in case.facts.items():
        out[kind] = [
            {
                k: (f"c{n}-{v}" if (k == "id" or k.endswith("_id")) and isinstance(v, str) else v)
                for k, v in r.items()
            }
            for r in rows
        ]
    return out


def _canonical(ev: Any) -> tuple[list[str], list[str]]:
    f = sorted(
        json.dumps(x.to_dict(), ensure_ascii=False, sort_keys=True, default=str)
        for x in ev.findings
    )
    s = sorted(
        json.dumps(x.to_dict(), ensure_ascii=False, sort_keys=True, default=str) for x in ev.skips
    )
    return f, s


def check_fact_order_independence(
    pack: Pack,
    *,
    cases: Sequence[BoundaryCase] | None = None,
    configure: Mapping[str, object] | None = None,
    seed: int = 0,
    max_rows: int = 3000,
) -> list[Problem]:
    """The boundary cases evaluated together give the same results in any row order."""
    groups: dict[str, list[BoundaryCase]] = {}
    for case in cases if cases is not None else _all_cases(pack, configure, sla=False):
        key = json.dumps(
            [
                sorted(map(str, case.parameters.items())),
                sorted(case.interpretations.items()),
                case.as_of.isoformat(),
            ]
        )
        groups.setdefault(key, []).append(case)
    problems = []
    rng = random.Random(seed)  # noqa: S311 - a reproducible shuffle, not a secret
    for members in groups.values():
        merged: dict[str, list[dict[str, object]]] = {}
        total = 0
        for n, case in enumerate(members):
            size = sum(len(r) for r in case.facts.values())
            if total + size > max_rows:
                continue
            total += size
            for kind, rows in _prefixed(case, n).items():
                merged.setdefault(kind, []).extend(rows)
        base = members[0]
        orders: list[tuple[str, Callable[[list[dict[str, object]]], list[dict[str, object]]]]] = [
            ("reversed", lambda rows: list(reversed(rows))),
            ("shuffled", lambda rows: rng.sample(rows, len(rows))),
        ]
        try:
            want = _canonical(_evaluate(pack, base, merged))
        except (VbpRulesError, AssertionError, ArithmeticError):
            continue
        for label, permute in orders:
            kinds = list(merged)
            rng.shuffle(kinds)
            other = {k: permute(merged[k]) for k in kinds}
            got = _canonical(_evaluate(pack, base, other))
            if got != want:
                diff = (
                    sorted(set(got[0]) ^ set(want[0]))[:2] or sorted(set(got[1]) ^ set(want[1]))[:2]
                )
                problems.append(
                    Problem(
                        check="fact_order",
                        rule_id=None,
                        message=f"{label} rows give different results: {diff}",
                    )
                )
    return problems


#: Every check, by name, in the order :func:`run_checks` runs them.
ALL_CHECKS: Mapping[str, Callable[..., list[Problem]]] = {
    "tiers_exhaustive": check_tiers_exhaustive,
    "actions_monotone": check_actions_monotone,
    "bound_words_cited": check_bound_words_cited,
    "bound_words_at_bound": check_bound_words_at_bound,
    "accounting": check_accounting,
    "fact_order": check_fact_order_independence,
}


def run_checks(
    pack: Pack,
    *,
    configure: Mapping[str, object] | None = None,
    allow: Mapping[str, str] | None = None,
    skip: Sequence[str] = (),
) -> CheckReport:
    """Run every property check on a pack.

    Args:
        pack: a loaded pack.
        configure: values for unspecified parameters (default: example values).
        allow: rule ids whose bound words deliberately differ from the cited word, with
            the reason (reported as notes, not problems).
        skip: names of checks (keys of :data:`ALL_CHECKS`) not to run.
    """
    from vbp_rules.testing._boundaries import uncovered_rules  # noqa: PLC0415

    cases = _all_cases(pack, configure)
    value_cases = [c for c in cases if c.position not in ("on_time", "late", "pending")]
    problems: list[Problem] = []
    for name, check in ALL_CHECKS.items():
        if name in skip:
            continue
        if name in ("tiers_exhaustive", "actions_monotone"):
            problems += check(pack, configure=configure)
        elif name == "bound_words_cited":
            problems += check(pack, allow=allow)
        elif name == "bound_words_at_bound":
            problems += check(pack, cases=cases)
        else:
            problems += check(pack, cases=value_cases)
    notes = [f"{rid}: {why}" for rid, why in uncovered_rules(pack, cases).items()]
    notes += [
        f"{rid}: bound words not compared with the source ({why})"
        for rid, why in (allow or {}).items()
    ]
    return CheckReport(
        pack_id=pack.id, problems=tuple(problems), notes=tuple(notes), cases=len(cases)
    )
