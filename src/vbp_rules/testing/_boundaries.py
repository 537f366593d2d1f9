"""Boundary facts derived from a pack: on, just below and just above every bound.

For each threshold bound, tier bound and change band of a pack, :func:`boundary_cases`
builds fact sets whose metric is exactly the bound, one step below it and one step above
it (ratios over aggregated rows get counts chosen so the ratio is exact), plus the zero
denominators it meets on the way. :func:`sla_cases` places deadline starts around
holidays and make-up working days; :func:`exemption_cases` turns a breach on and off with
an exemption event. Every case carries the outcome the bound words call for.

Not covered (listed by :func:`uncovered_rules`): streak and relative rules, metrics
computed from dates (working-day counts), determinations, and bounds whose parameter has
no value and no configuration.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal

import attrs

from vbp_rules.calendar import WorkCalendar
from vbp_rules.engine._functions import CalendarContext, split_aggregate
from vbp_rules.errors import ExpressionError
from vbp_rules.expr import NotApplicable, to_fraction
from vbp_rules.facts import FACT_KINDS
from vbp_rules.packs.model import (
    BoundSpec,
    ChangeBandRule,
    DeadlineRule,
    ExemptionRule,
    Rule,
    ThresholdRule,
    TiersRule,
)
from vbp_rules.packs.pack import Pack
from vbp_rules.testing._rows import (
    Anchor,
    base_row,
    default_value,
    field_kind,
    field_options,
    jsonable_row,
    row_is_valid,
    variants,
)
from vbp_rules.testing._words import word_holds

__all__ = [
    "BoundSite",
    "BoundaryCase",
    "Position",
    "bound_sites",
    "boundary_cases",
    "example_configuration",
    "exemption_cases",
    "sla_cases",
    "tier_of",
    "uncovered_rules",
]

Position = Literal["at", "below", "above", "zero_denominator", "on_time", "late", "pending"]
_STEP_SCALE = 10  # a ratio step is 1/(denominator * 10): 95% -> 189/200 and 191/200
_MAX_ROWS = 400


@attrs.frozen(kw_only=True, slots=True)
class BoundaryCase:
    """Facts that put one rule's metric at a chosen place relative to one bound.

    ``expected_outcome``/``expected_tier`` are what the bound words call for; when a
    skip is expected instead (a zero denominator, an exemption), ``expected_skip`` holds
    its reason and ``expected_outcome`` is None.
    """

    rule_id: str
    rule_kind: str
    bound: str
    position: Position
    metric: Fraction | None
    bound_value: Fraction | None
    word: str | None
    facts: Mapping[str, tuple[Mapping[str, object], ...]]
    as_of: datetime
    parameters: Mapping[str, object] = attrs.field(factory=dict)
    interpretations: Mapping[str, str] = attrs.field(factory=dict)
    expected_outcome: str | None = None
    expected_tier: str | None = None
    expected_skip: str | None = None

    @property
    def name(self) -> str:
        """A readable case name: ``rule/bound/position``."""
        return f"{self.rule_id}/{self.bound}/{self.position}"

    def records(self) -> dict[str, list[dict[str, object]]]:
        """The facts as plain ``{kind: [row, ...]}`` records (mutable copies)."""
        return {k: [dict(r) for r in rows] for k, rows in self.facts.items()}

    def as_pack_test(self) -> dict[str, Any]:
        """This case in the YAML pack-test format (``policy_packs/<id>/tests/*.yaml``)."""
        expect: dict[str, Any] = {}
        if self.expected_skip is not None:
            expect["skips"] = [{"rule": self.rule_id, "reason": self.expected_skip}]
        else:
            want: dict[str, Any] = {"rule": self.rule_id, "outcome": self.expected_outcome}
            if self.expected_tier is not None:
                want["tier"] = self.expected_tier
            expect["findings"] = [want]
        case: dict[str, Any] = {
            "name": self.name.replace("/", "-"),
            "as_of": self.as_of.isoformat(),
            "facts": {k: [jsonable_row(r) for r in rows] for k, rows in self.facts.items()},
            "expect": expect,
        }
        if self.parameters:
            case["parameters"] = {k: str(v) for k, v in self.parameters.items()}
        if self.interpretations:
            case["interpretations"] = dict(self.interpretations)
        return case


# --------------------------------------------------------------------------- configuration


def _resolved(pack: Pack, b: BoundSpec | None, config: Mapping[str, Fraction]) -> Fraction | None:
    if b is None:
        return None
    if b.parameter is not None:
        if b.parameter in config:
            return config[b.parameter]
        v = pack.values.get(b.parameter)
        return None if v is None else to_fraction(getattr(v, "n", v))
    if b.value is not None:
        return to_fraction(b.value)
    return None


def _tier_chain(rule: TiersRule) -> list[BoundSpec]:
    """The tier boundaries from the lowest tier up (each upper bound, in order)."""
    lowest = [t for t in rule.tiers if t.lower is None]
    if len(lowest) != 1:
        return []
    chain: list[BoundSpec] = []
    current = lowest[0]
    seen = {current.id}
    while current.upper is not None:
        up = current.upper
        nxt = next(
            (
                t
                for t in rule.tiers
                if t.id not in seen
                and t.lower is not None
                and (t.lower.parameter, t.lower.value, t.lower.expr)
                == (up.parameter, up.value, up.expr)
            ),
            None,
        )
        chain.append(up)
        if nxt is None:
            break
        seen.add(nxt.id)
        current = nxt
    return chain


def example_configuration(pack: Pack) -> dict[str, Fraction | int]:
    """Plausible values for the pack's unspecified parameters, so every rule can run.

    Tier boundaries left unspecified are spaced evenly between (or below) the
    boundaries the source does give; other ratios get 50%, counts 3, day windows 10.
    These are test values, not readings of the source.
    """
    config: dict[str, Fraction | int] = {}
    fractions: dict[str, Fraction] = {}
    for rule in pack.rules:
        if not isinstance(rule, TiersRule):
            continue
        chain = _tier_chain(rule)
        known = [_resolved(pack, b, fractions) for b in chain]
        n = len(chain)
        for i, b in enumerate(chain):
            if known[i] is not None or b.parameter is None:
                continue
            below = next(
                ((j, known[j]) for j in range(i - 1, -1, -1) if known[j] is not None), None
            )
            above = next(((j, known[j]) for j in range(i + 1, n) if known[j] is not None), None)
            if below is not None and above is not None:
                (j0, v0), (j1, v1) = below, above
                assert v0 is not None  # noqa: S101 - filtered above
                assert v1 is not None  # noqa: S101
                value = v0 + (v1 - v0) * (i - j0) / (j1 - j0)
            elif above is not None:
                j1, v1 = above
                assert v1 is not None  # noqa: S101
                value = v1 * (i + 1) / (j1 + 1)
            elif below is not None:
                j0, v0 = below
                assert v0 is not None  # noqa: S101
                value = v0 + (i - j0)
            else:
                value = Fraction(i + 1, n + 1)
            known[i] = value
            fractions[b.parameter] = value
    config.update(fractions)
    for name, p in pack.model.parameters.items():
        if name in config or pack.values.get(name) is not None:
            continue
        if p.type in ("ratio", "number"):
            config[name] = Fraction(1, 2)
        elif p.type == "count":
            config[name] = 3
        elif p.type == "money":
            config[name] = 100
        elif p.type in ("working_days", "calendar_days", "hours", "months"):
            config[name] = 10
    return config


def _override_text(v: object) -> object:
    if isinstance(v, Fraction):
        return f"{v.numerator}/{v.denominator}" if v.denominator != 1 else str(v.numerator)
    return v


def configured(
    pack: Pack, config: Mapping[str, object] | None = None
) -> tuple[Pack, dict[str, object]]:
    """The pack with its unspecified parameters configured (``config`` or the examples)."""
    chosen: dict[str, object] = (
        dict(example_configuration(pack)) if config is None else dict(config)
    )
    if not chosen:
        return pack, {}
    written = {k: _override_text(v) for k, v in chosen.items()}
    # Pack.build checks types but not tier contiguity: the kit must run on broken packs.
    merged = {**pack.overrides, **written}
    return Pack.build(pack.model, path=pack.path, parent=pack.parent, overrides=merged), written


# --------------------------------------------------------------------------- classification


def _holds(b: BoundSpec, value: Fraction, bound: Fraction) -> bool:
    """What the bound's word (or op) calls for, by the kit's own table, not the engines'."""
    return word_holds(b.word if b.word is not None else str(b.op), value, bound)


def tier_of(
    rule: TiersRule, value: Fraction, bounds: Mapping[int, tuple[Fraction | None, Fraction | None]]
) -> list[str]:
    """The ids of the tiers whose bounds contain ``value`` (per the bound words).

    ``bounds`` gives each tier's (lower, upper) values by tier index.
    """
    out = []
    for i, t in enumerate(rule.tiers):
        lo, up = bounds[i]
        ok = True
        for b, v in ((t.lower, lo), (t.upper, up)):
            if b is not None and (v is None or not _holds(b, value, v)):
                ok = False
        if ok:
            out.append(t.id)
    return out


# --------------------------------------------------------------------------- evaluation helpers


class _Ctx:
    def __init__(self, pack: Pack, anchor: Anchor, calendar: WorkCalendar) -> None:
        self.pack = pack
        self.anchor = anchor
        self.cal = calendar
        self.functions = CalendarContext(calendar=calendar).functions()
        self.base_env: dict[str, object] = {"as_of": anchor.as_of, **pack.values}

    def ev(self, source: str, env: Mapping[str, object]) -> object:
        return self.pack.expr(source).evaluate(env, functions=self.functions)

    def row_env(self, row: Mapping[str, object]) -> dict[str, object]:
        env = dict(self.base_env)
        for name in FACT_KINDS_FIELDS.get(str(row.get("__kind__")), ()):
            env.setdefault(name, None)
        env.update({k: v for k, v in row.items() if k != "__kind__"})
        return env


FACT_KINDS_FIELDS: dict[str, tuple[str, ...]] = {
    k: tuple(m.model_fields) for k, m in FACT_KINDS.items()
}


def _group_keys(rule: Rule) -> list[str]:
    return [g for g in rule.group_by or [] if isinstance(g, str)]


def _step(b0: Fraction, unit: str | None) -> Fraction:
    if unit in ("count", "working_days", "days") or (
        unit is None and b0.denominator == 1 and b0 > 1
    ):
        return Fraction(1)
    if unit == "money":
        return Fraction(1, 100)
    return Fraction(1, b0.denominator * _STEP_SCALE) if b0 != 0 else Fraction(1, 100)


def _seeds(targets: Sequence[Fraction]) -> list[int]:
    out = {0, 1, 100}
    for t in targets:
        p, q = abs(t.numerator), t.denominator
        out |= {p, q, abs(q - p), p + q}
        if q == 1:
            out.add(p * 100)
        elif (100 % q) == 0:
            out.add(p * (100 // q))
    return sorted(n for n in out if n <= 100_000)


@attrs.frozen(kw_only=True, slots=True)
class _Solution:
    rows: tuple[dict[str, object], ...]
    measure: Fraction
    bound: Fraction


class _Search:
    """Find rows of one rule's fact kind whose measure is an exact target."""

    def __init__(
        self,
        ctx: _Ctx,
        rule: Rule,
        *,
        measure: Callable[[Mapping[str, object]], tuple[Fraction, Fraction]],
        read: set[str],
        pinned: Mapping[str, object],
        targets: Sequence[Fraction],
    ) -> None:
        self.ctx = ctx
        self.rule = rule
        self.measure = measure
        assert rule.over is not None  # noqa: S101 - callers pass fact-reading rules
        self.kind = rule.over
        fields = set(FACT_KINDS_FIELDS[self.kind])
        skip = {*_group_keys(rule), "id"}
        if rule.period is not None:
            skip.add(rule.period.field)
        numbers = _seeds(targets)
        self.pinned = dict(pinned)
        for k in [*_group_keys(rule), *([rule.period.field] if rule.period else [])]:
            if k in fields and k != "id":
                self.pinned.setdefault(k, default_value(self.kind, k, ctx.anchor))
        pinned = self.pinned
        self.free = {
            f: field_options(self.kind, f, ctx.anchor, numbers)
            for f in sorted((read & fields) - skip - set(pinned))
        }
        self.grouped = bool(rule.group_by or rule.period)
        self.zero: dict[str, object] | None = None
        self._cands: list[tuple[dict[str, object], dict[str, object]]] | None = None

    def candidates(self) -> list[tuple[dict[str, object], dict[str, object]]]:
        """(row, env) pairs that pass the rule's filter, one per distinct signature."""
        if self._cands is not None:
            return self._cands
        out: list[tuple[dict[str, object], dict[str, object]]] = []
        seen: set[tuple[object, ...]] = set()
        for row in variants(self.kind, self.ctx.anchor, self.free, self.pinned):
            env = self.ctx.row_env({**row, "__kind__": self.kind})
            if self.rule.where is not None:
                try:
                    if self.ctx.ev(self.rule.where, env) is not True:
                        continue
                except (NotApplicable, ExpressionError):
                    continue
            sig = self._signature(env)
            if sig is None or sig in seen:
                continue
            seen.add(sig)
            out.append((row, env))
        self._cands = out
        return out

    def _valid(self, rows: Sequence[Mapping[str, object]]) -> bool:
        return all(row_is_valid(self.kind, r) for r in {id(r): r for r in rows}.values())

    def _signature(self, env: Mapping[str, object]) -> tuple[object, ...] | None:
        if not self.grouped:
            try:
                m, b = self.measure(env)
            except NotApplicable:
                if self.zero is None:
                    self.zero = dict(env)
                return None
            except (ExpressionError, TypeError, _Skip):
                return None
            return (m, b)
        sig: list[object] = []
        for name, source in (self.rule.aggregate or {}).items():
            fn, inner = split_aggregate(source)
            if inner is None:
                sig.append((name, 1))
                continue
            try:
                sig.append((name, inner.evaluate(env, functions=self.ctx.functions)))
            except (NotApplicable, ExpressionError):
                return None
            del fn
        return tuple(sig)

    def group_env(self, members: Sequence[tuple[Mapping[str, object], int]]) -> dict[str, object]:
        env = dict(self.ctx.base_env)
        first = members[0][0]
        for k in _group_keys(self.rule):
            env[k] = first.get(k)
        for g in self.rule.group_by or []:
            if isinstance(g, dict):
                for name, src in g.items():
                    env[name] = self.ctx.ev(src, first)
        if self.rule.period is not None:
            raw = first.get(self.rule.period.field)
            day = self.ctx.cal.local_date(raw) if isinstance(raw, datetime) else raw
            from vbp_rules.engine.semantics import period_of  # noqa: PLC0415

            assert day is not None  # noqa: S101 - period fields are filled
            period = period_of(day, self.rule.period.unit)  # type: ignore[arg-type]
            env["period_start"], env["period_end"] = period.start, period.end
        for name, source in (self.rule.aggregate or {}).items():
            env[name] = self._aggregate(source, members)
        return env

    def _aggregate(
        self, source: str, members: Sequence[tuple[Mapping[str, object], int]]
    ) -> object:
        fn, inner = split_aggregate(source)
        live = [(e, m) for e, m in members if m > 0]
        if inner is None:
            return sum(m for _, m in live)
        vals = [(inner.evaluate(e, functions=self.ctx.functions), m) for e, m in live]
        present = [(v, m) for v, m in vals if v is not None]
        if fn == "count_if":
            return sum(m for v, m in vals if v is True)
        if fn == "sum":
            total: Any = 0
            for v, m in present:
                total = total + v * m  # type: ignore[operator]
            return total
        if fn == "min_of":
            return min((v for v, _ in present), default=None)  # type: ignore[type-var]
        if fn == "max_of":
            return max((v for v, _ in present), default=None)  # type: ignore[type-var]
        if fn == "any":
            return any(v is True for v, _ in vals)
        if fn == "all":
            return all(v is True for v, _ in vals)
        return present[0][0] if present else None

    def _try(
        self, members: Sequence[tuple[Mapping[str, object], int]]
    ) -> tuple[Fraction, Fraction] | None:
        try:
            env = self.group_env(members)
            if self.rule.having is not None and self.ctx.ev(self.rule.having, env) is not True:
                return None
            return self.measure(env)
        except NotApplicable:
            if self.zero is None:
                self.zero = {"__members__": members}
            return None
        except (ExpressionError, TypeError, _Skip):
            return None

    def solve(self, offset: Fraction) -> _Solution | None:
        """Rows whose measure is ``bound + offset`` exactly."""
        cands = self.candidates()
        for row, env in cands:
            if self.grouped:
                got = self._try([(env, 1)])
            else:
                try:
                    keep = self.rule.having is None or self.ctx.ev(self.rule.having, env) is True
                    got = self.measure(env) if keep else None
                except (NotApplicable, ExpressionError, TypeError, _Skip):
                    got = None
            if got is not None and got[0] - got[1] == offset and self._valid([row]):
                return _Solution(rows=(row,), measure=got[0], bound=got[1])
        if not self.grouped:
            return None
        small = [
            (r, e)
            for r, e in cands
            if all(
                not isinstance(v, int) or isinstance(v, bool) or v <= 1
                for k, v in r.items()
                if k in self.free
            )
        ]
        pool = small[:12]
        bound0 = None
        for _, env in pool:
            got = self._try([(env, 1)])
            if got is not None:
                bound0 = got[1]
                break
        if bound0 is None:
            return None
        t = bound0 + offset
        totals = sorted(
            n
            for n in {
                t.denominator,
                t.denominator + abs(t.numerator),
                abs(t.numerator),
                2 * t.denominator,
            }
            if 0 < n <= _MAX_ROWS
        )
        for row_i, env_i in pool:
            for total in totals:
                got = self._try([(env_i, total)])
                if got is not None and got[0] - got[1] == offset and self._valid([row_i]):
                    return _Solution(rows=(row_i,) * total, measure=got[0], bound=got[1])
        for i, (row_i, env_i) in enumerate(pool):
            for row_j, env_j in pool[i + 1 :]:
                for total in totals:
                    for m in range(1, total):
                        got = self._try([(env_i, m), (env_j, total - m)])
                        if (
                            got is not None
                            and got[0] - got[1] == offset
                            and self._valid([row_i, row_j])
                        ):
                            rows = [row_i] * m + [row_j] * (total - m)
                            return _Solution(rows=tuple(rows), measure=got[0], bound=got[1])
        return None


class _Skip(Exception):  # noqa: N818 - internal signal: this env cannot be measured
    pass


def _num(v: object) -> Fraction:
    if v is None or isinstance(v, bool):
        raise _Skip
    if isinstance(v, Fraction | int | Decimal):
        return to_fraction(v)
    n = getattr(v, "n", None)
    if isinstance(n, int):
        return Fraction(n)
    raise _Skip


def _bound_in(ctx: _Ctx, b: BoundSpec, env: Mapping[str, object]) -> Fraction:
    if b.parameter is not None:
        return _num(env.get(b.parameter))
    if b.value is not None:
        return to_fraction(b.value)
    assert b.expr is not None  # noqa: S101 - the model guarantees one source
    return _num(ctx.ev(b.expr, env))


def _pinned_for(ctx: _Ctx, rule: Rule, exprs: Sequence[str | None]) -> dict[str, object]:
    """Fields read only by expression bounds: fixed to plain values (100 / 100.00)."""
    assert rule.over is not None  # noqa: S101
    fields = set(FACT_KINDS_FIELDS[rule.over])
    out: dict[str, object] = {}
    for name in ctx.pack.expression_names(exprs) & fields:
        fk, _, _ = field_kind(rule.over, name)
        if fk == "int":
            out[name] = 100
        elif fk == "money":
            out[name] = Decimal("100.00")
    return out


def _facts(
    kind: str, rows: Sequence[Mapping[str, object]], prefix: str = ""
) -> dict[str, tuple[Mapping[str, object], ...]]:
    named = tuple({**r, "id": f"{prefix}{kind}-{i + 1}"} for i, r in enumerate(rows))
    return {kind: named}


# --------------------------------------------------------------------------- the cases


@attrs.frozen(kw_only=True, slots=True, eq=False)
class BoundSite:
    """One bound of one rule: cases can be built any number of steps away from it.

    A step is the smallest move the metric's unit allows (one count, one cent, a ratio
    step of 1/(denominator·10)); zero steps is exactly on the bound.
    """

    rule_id: str
    label: str
    step: Fraction
    make: Callable[[Position, Fraction], BoundaryCase | None] = attrs.field(repr=False)

    def case(self, steps: int) -> BoundaryCase | None:
        """Facts whose metric is ``steps`` steps from the bound (None when none are found)."""
        position: Position = "at" if steps == 0 else ("below" if steps < 0 else "above")
        return self.make(position, self.step * steps)


def _threshold_like(  # noqa: PLR0915 - one pass over a rule's bounds, kept together
    ctx: _Ctx,
    rule: ThresholdRule | TiersRule | ChangeBandRule,
    params: Mapping[str, object],
    sites: list[BoundSite] | None = None,
) -> list[BoundaryCase]:
    pack = ctx.pack
    interps = dict(rule.interpretation or {})
    out: list[BoundaryCase] = []
    sides: list[tuple[str, BoundSpec, Callable[[Mapping[str, object]], Fraction], str | None]] = []
    read_sources: list[str | None] = [rule.where, rule.having, *(rule.aggregate or {}).values()]
    if isinstance(rule, ThresholdRule):
        if rule.metric is None:
            return []
        metric = rule.metric
        b = rule.breach_if or rule.require
        assert b is not None  # noqa: S101
        sides.append(
            (
                ("breach_if" if rule.breach_if else "require"),
                b,
                lambda e: _num(ctx.ev(metric.expr, e)),
                metric.unit,
            )
        )
        read_sources.append(metric.expr)
    elif isinstance(rule, TiersRule):
        metric_t = rule.metric
        done: set[tuple[object, ...]] = set()
        for t in rule.tiers:
            for side_name, b in (("lower", t.lower), ("upper", t.upper)):
                if b is None:
                    continue
                key = (b.parameter, b.value, b.expr)
                if key in done:
                    continue
                done.add(key)
                sides.append(
                    (
                        f"{t.id}.{side_name}",
                        b,
                        lambda e: _num(ctx.ev(metric_t.expr, e)),
                        metric_t.unit,
                    )
                )
        read_sources.append(metric_t.expr)
    else:
        value_src, base_src = rule.value, rule.baseline

        def change(e: Mapping[str, object]) -> Fraction:
            v, base = _num(ctx.ev(value_src, e)), _num(ctx.ev(base_src, e))
            if base == 0:
                raise NotApplicable(f"baseline {base_src} is zero")
            return (v - base) / base

        if rule.decrease is not None:
            sides.append(("decrease", rule.decrease, lambda e: -change(e), "ratio"))
        if rule.increase is not None:
            sides.append(("increase", rule.increase, change, "ratio"))
        read_sources += [value_src, base_src]
    bound_exprs = [b.expr for _, b, _, _ in sides]
    pinned = _pinned_for(ctx, rule, bound_exprs)
    read = pack.expression_names([*read_sources, *bound_exprs])
    zero_done = False
    for label, b, metric_fn, unit in sides:

        def measure(
            e: Mapping[str, object],
            b: BoundSpec = b,
            fn: Callable[[Mapping[str, object]], Fraction] = metric_fn,
        ) -> tuple[Fraction, Fraction]:
            return fn(e), _bound_in(ctx, b, e)

        b0 = _first_bound(ctx, rule, b, measure, read, pinned)
        if b0 is None:
            continue
        step = _step(b0, unit)
        offsets: list[tuple[Position, Fraction]] = [
            ("at", Fraction(0)),
            ("below", -step),
            ("above", step),
        ]
        search = _Search(
            ctx,
            rule,
            measure=measure,
            read=read,
            pinned=pinned,
            targets=[b0 + o for _, o in offsets],
        )

        def make(
            position: Position,
            off: Fraction,
            *,
            step: Fraction = step,
            search: _Search = search,
            b: BoundSpec = b,
            label: str = label,
            b0: Fraction = b0,
            measure: Callable[[Mapping[str, object]], tuple[Fraction, Fraction]] = measure,
        ) -> BoundaryCase | None:
            if off not in (Fraction(0), step, -step):
                search = _Search(
                    ctx, rule, measure=measure, read=read, pinned=pinned, targets=[b0 + off]
                )
            sol = search.solve(off)
            if sol is None:
                return None
            outcome, tier = _expected(rule, sol.measure, ctx, sol, label)
            return BoundaryCase(
                rule_id=rule.id,
                rule_kind=rule.kind,
                bound=f"{label} {b.word or b.op} {b.parameter or b.value or b.expr}",
                position=position,
                metric=sol.measure,
                bound_value=sol.bound,
                word=b.word,
                facts=_facts(rule.over or "", sol.rows),
                as_of=ctx.anchor.as_of,
                parameters=params,
                interpretations=interps,
                expected_outcome=outcome,
                expected_tier=tier,
            )

        if sites is not None:
            sites.append(BoundSite(rule_id=rule.id, label=label, step=step, make=make))
        for position, off in offsets:
            case = make(position, off)
            if case is not None:
                out.append(case)
        if not zero_done and search.zero is not None:
            zero_done = True
            rows = _zero_rows(search)
            if rows:
                out.append(
                    BoundaryCase(
                        rule_id=rule.id,
                        rule_kind=rule.kind,
                        bound=label,
                        position="zero_denominator",
                        metric=None,
                        bound_value=None,
                        word=b.word,
                        facts=_facts(rule.over or "", rows),
                        as_of=ctx.anchor.as_of,
                        parameters=params,
                        interpretations=interps,
                        expected_skip="not_applicable",
                    )
                )
    return out


def _first_bound(  # noqa: PLR0917 - an internal helper of _threshold_like
    ctx: _Ctx,
    rule: Rule,
    b: BoundSpec,
    measure: Callable[[Mapping[str, object]], tuple[Fraction, Fraction]],
    read: set[str],
    pinned: Mapping[str, object],
) -> Fraction | None:
    """The bound's value: a parameter or constant, or an expression on a first row."""
    if b.expr is None:
        try:
            return _bound_in(ctx, b, ctx.base_env)
        except (_Skip, NotApplicable, ExpressionError, TypeError):
            return None
    probe = _Search(ctx, rule, measure=measure, read=read, pinned=pinned, targets=[])
    for _, env in probe.candidates():
        try:
            e = probe.group_env([(env, 1)]) if probe.grouped else env
            return _bound_in(ctx, b, e)
        except (_Skip, NotApplicable, ExpressionError, TypeError):
            continue
    return None


def _zero_rows(search: _Search) -> list[dict[str, object]]:
    z = search.zero
    if z is None:
        return []
    if "__members__" in z:
        members: Any = z["__members__"]
        rows: list[dict[str, object]] = []
        for env, m in members:
            row = {k: env.get(k) for k in FACT_KINDS_FIELDS[search.kind] if k in env}
            rows.extend([row] * m)
        return [r for r in rows if row_is_valid(search.kind, r)]
    row = {k: z.get(k) for k in FACT_KINDS_FIELDS[search.kind] if k in z}
    return [row] if row_is_valid(search.kind, row) else []


def _expected(
    rule: ThresholdRule | TiersRule | ChangeBandRule,
    value: Fraction,
    ctx: _Ctx,
    sol: _Solution,
    label: str,
) -> tuple[str, str | None]:
    if isinstance(rule, ThresholdRule):
        b = rule.breach_if or rule.require
        assert b is not None  # noqa: S101
        holds = _holds(b, value, sol.bound)
        breach = holds if rule.breach_if is not None else not holds
        return ("breach" if breach else "compliant"), None
    if isinstance(rule, TiersRule):
        env = ctx.base_env
        bounds = {}
        for i, t in enumerate(rule.tiers):
            bounds[i] = tuple(
                (
                    _bound_in(ctx, b, env)
                    if b is not None and b.expr is None
                    else (sol.bound if b is not None else None)
                )
                for b in (t.lower, t.upper)
            )
        ids = tier_of(rule, value, bounds)  # type: ignore[arg-type]
        if len(ids) != 1:
            return "no_single_tier", None
        tier = next(t for t in rule.tiers if t.id == ids[0])
        return tier.outcome, tier.id
    return _change_expected(rule, ctx, sol, label)


def _change_expected(
    rule: ChangeBandRule, ctx: _Ctx, sol: _Solution, label: str
) -> tuple[str, str | None]:
    change = -sol.measure if label == "decrease" else sol.measure
    sides = []
    for name, b, moved in (
        ("decrease", rule.decrease, -change),
        ("increase", rule.increase, change),
    ):
        if b is None:
            continue
        limit = sol.bound if name == label else _bound_in(ctx, b, ctx.base_env)
        sides.append((name, b, moved, limit))
    for name, b, moved, limit in sides:
        if _holds(b, moved, limit):
            return "breach", name
    return "compliant", None


def boundary_cases(
    pack: Pack,
    *,
    rules: Sequence[str] | None = None,
    configure: Mapping[str, object] | None = None,
    calendar: WorkCalendar | None = None,
) -> list[BoundaryCase]:
    """Facts on, just below and just above every bound of the pack's rules.

    Covers threshold rules with a metric, tiers rules and change bands (both sides),
    with zero-denominator cases where a metric can divide by zero. Unspecified
    parameters are configured with :func:`example_configuration` unless ``configure``
    is given.

    Args:
        pack: a loaded pack.
        rules: only these rule ids.
        configure: values for unspecified parameters (written as in a pack).
        calendar: the working-day calendar (default the mainland-China one).
    """
    cal = calendar or WorkCalendar.china()
    p, params = configured(pack, configure)
    ctx = _Ctx(p, Anchor.for_pack(p, cal), cal)
    out: list[BoundaryCase] = []
    for rule in p.rules:
        if rules is not None and rule.id not in rules:
            continue
        if rule.over is None:
            continue
        if isinstance(rule, ThresholdRule | TiersRule | ChangeBandRule):
            out.extend(_threshold_like(ctx, rule, params))
    return out


def bound_sites(
    pack: Pack,
    *,
    rules: Sequence[str] | None = None,
    configure: Mapping[str, object] | None = None,
    calendar: WorkCalendar | None = None,
) -> list[BoundSite]:
    """Every bound of the pack's threshold, tiers and change-band rules, as a site.

    The arguments are those of :func:`boundary_cases`.
    """
    cal = calendar or WorkCalendar.china()
    p, params = configured(pack, configure)
    ctx = _Ctx(p, Anchor.for_pack(p, cal), cal)
    sites: list[BoundSite] = []
    for rule in p.rules:
        if rules is not None and rule.id not in rules:
            continue
        if rule.over is not None and isinstance(rule, ThresholdRule | TiersRule | ChangeBandRule):
            _threshold_like(ctx, rule, params, sites)
    return sites


def uncovered_rules(pack: Pack, cases: Sequence[BoundaryCase] | None = None) -> dict[str, str]:
    """Rules the boundary generators do not reach, with the reason."""
    got = {c.rule_id for c in (cases if cases is not None else boundary_cases(pack))}
    out: dict[str, str] = {}
    for r in pack.rules:
        if r.id in got:
            continue
        if r.over is None or r.kind == "needs_review":
            continue
        if isinstance(r, ThresholdRule) and r.condition is not None:
            out[r.id] = "a boolean condition has no bound"
        elif isinstance(r, ThresholdRule | TiersRule | ChangeBandRule):
            out[r.id] = (
                "no rows found that put the metric on the bound (date-computed metric or bound)"
            )
        elif isinstance(r, DeadlineRule):
            out[r.id] = (
                "no start and end rows could be generated around the holidays"
                if r.start and r.window
                else "deadline with a computed due instant"
            )
        else:
            out[r.id] = f"{r.kind} rules are not covered by boundary cases"
    hint = "; write its cases in the pack's tests/*.yaml (on, below and above each bound)"
    return {rule_id: why + hint for rule_id, why in out.items()}


# --------------------------------------------------------------------------- SLA


def _holiday_starts(cal: WorkCalendar, year: int) -> list[datetime]:
    from vbp_rules.facts import SHANGHAI  # noqa: PLC0415

    days = sorted(cal.days_off(year))
    picks = set()
    for i, d in enumerate(days):
        if i == 0 or (d - days[i - 1]).days > 1:
            picks.add(d - timedelta(days=1))  # the last working day before a holiday
            picks.add(d)  # the first day off
        if i == len(days) - 1 or (days[i + 1] - d).days > 1:
            picks.add(d)  # the last day off
    picks |= set(cal.make_up_days(year))
    return [datetime.combine(d, time(16, 30), tzinfo=SHANGHAI) for d in sorted(picks)]


def sla_cases(
    pack: Pack, *, year: int | None = None, calendar: WorkCalendar | None = None, limit: int = 40
) -> list[BoundaryCase]:
    """Deadline cases whose start falls around holidays and make-up working days.

    For every deadline rule with ``start`` and a duration ``window`` that are plain fields
    of its fact kind, each start gets three cases: the end event exactly at the due
    instant (met: a deadline includes its last instant), one minute late (breach), and
    absent with ``as_of`` one minute after the due instant (breach).
    """
    cal = calendar or WorkCalendar.china()
    p, params = configured(pack, None)
    anchor = Anchor.for_pack(p, cal)
    yr = year if year is not None else anchor.day.year
    out: list[BoundaryCase] = []
    for rule in p.rules:
        if (
            not isinstance(rule, DeadlineRule)
            or rule.over is None
            or rule.start is None
            or rule.window is None
        ):
            continue
        fields = FACT_KINDS_FIELDS[rule.over]
        if rule.start not in fields or rule.end not in fields:
            continue
        window = p.values.get(rule.window)
        if window is None:
            continue
        for n, start in enumerate(_holiday_starts(cal, yr)[:limit]):
            due = cal.deadline(start, window).due  # type: ignore[arg-type]
            row = base_row(rule.over, anchor)
            for name in fields:
                fk, _, _ = field_kind(rule.over, name)
                if fk == "instant" and name in row:
                    row[name] = start
            row[rule.start] = start
            for position, end, as_of, outcome in (
                ("on_time", due, due + timedelta(days=30), "compliant"),
                ("late", due + timedelta(minutes=1), due + timedelta(days=30), "breach"),
                ("pending", None, due + timedelta(minutes=1), "breach"),
            ):
                r = dict(row)
                r[rule.end] = end
                if rule.where is not None:
                    env = {"as_of": as_of, **p.values, **dict.fromkeys(fields), **r}
                    try:
                        if (
                            p.expr(rule.where).evaluate(
                                env, functions=CalendarContext(calendar=cal).functions()
                            )
                            is not True
                        ):
                            continue
                    except (NotApplicable, ExpressionError):
                        continue
                if not row_is_valid(rule.over, r):
                    continue
                out.append(
                    BoundaryCase(
                        rule_id=rule.id,
                        rule_kind=rule.kind,
                        bound=f"{rule.window} from {start:%Y-%m-%d %H:%M}",
                        position=position,  # type: ignore[arg-type]
                        metric=None,
                        bound_value=None,
                        word=None,
                        facts=_facts(rule.over, [r], prefix=f"s{n}-"),
                        as_of=as_of,
                        parameters=params,
                        interpretations=dict(rule.interpretation or {}),
                        expected_outcome=outcome,
                    )
                )
    return out


# --------------------------------------------------------------------------- exemptions


def exemption_cases(pack: Pack, *, calendar: WorkCalendar | None = None) -> list[BoundaryCase]:
    """Each exemption switched on and off over a breach of a rule it exempts.

    "Off" is the breaching boundary case itself; "on" adds one event that the exemption's
    filter accepts, matched to the subject (and overlapping its window), and expects the
    skip ``exempted``.
    """
    cal = calendar or WorkCalendar.china()
    p, params = configured(pack, None)
    anchor = Anchor.for_pack(p, cal)
    ctx = _Ctx(p, anchor, cal)
    out: list[BoundaryCase] = []
    for ex in p.rules:
        if not isinstance(ex, ExemptionRule) or ex.over is None:
            continue
        for target in ex.exempts:
            breaches = [
                c
                for c in boundary_cases(pack, rules=[target], calendar=cal)
                if c.expected_outcome == "breach"
            ]
            if not breaches:
                continue
            off = breaches[0]
            kind = next(iter(off.facts))
            subject_row = off.facts[kind][0]
            fixed = {ef: subject_row.get(tf) for ef, tf in ex.match.items()}
            fixed.update({"starts_on": anchor.day - timedelta(days=60), "ends_on": anchor.day})
            free = {
                f: field_options(ex.over, f, anchor)
                for f in sorted(p.expression_names([ex.where]) & set(FACT_KINDS_FIELDS[ex.over]))
                if f not in fixed
            }
            event = None
            for row in variants(ex.over, anchor, free, fixed):
                env = ctx.row_env({**row, "__kind__": ex.over})
                try:
                    ok = ex.where is None or ctx.ev(ex.where, env) is True
                except (NotApplicable, ExpressionError):
                    ok = False
                if ok and row_is_valid(ex.over, row):
                    event = row
                    break
            if event is None:
                continue
            on_facts = dict(off.facts)
            on_facts[ex.over] = ({**event, "id": f"{ex.over}-1"},)
            out.append(attrs.evolve(off, bound=f"{ex.id} off", position="below"))
            out.append(
                attrs.evolve(
                    off,
                    bound=f"{ex.id} on",
                    facts=on_facts,
                    expected_outcome=None,
                    expected_tier=None,
                    expected_skip="exempted",
                    parameters=params or off.parameters,
                )
            )
    return out
