"""Each rule kind's decision as columns over a rule's subject frame.

The output of :func:`lower_decision` is a set of columns added to the subject frame:

- ``__status``: ``breach``, ``compliant``, ``determination``, ``needs_review`` (a
  finding), ``skip:<reason>`` (a skip), or ``python``: a subject the shared per-subject
  semantics decide (a zero denominator, a date off the calendar, a sum too large to
  cross-multiply safely, an out-of-force subject under ``out_of_force="skip"``);
- ``__detail``: the skip's detail where it does not depend on the subject's values;
- ``__case``: the tier or determination case that holds;
- ``__ev``: the exemption event (index into :attr:`Lowered.events`) that exempts it;
- ``__v<i>`` (and ``__v<i>_d`` for a denominator that varies): the recorded values;
- ``__prov``: the result depends on a provisional calendar year.

What a finding records (values, tier, actions, label, message) is decoded from these by
the executor with the shared semantics, so findings equal the reference engine's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

import attrs
import narwhals as nw

from vbp_rules.engine._frame_compile import (
    TZ_OFFSET_US,
    US_PER_DAY,
    Scope,
    Unsupported,
    Val,
    compare_exprs,
    compile_node,
    constant,
    cross,
    deadline_expr,
    raw_constant,
)
from vbp_rules.engine._frame_ingest import field_types
from vbp_rules.engine._frame_units import UnitFrame, not_applicable_any
from vbp_rules.expr import Name, Number, to_fraction
from vbp_rules.facts import FactModel
from vbp_rules.packs._checks import bound_operator
from vbp_rules.packs.model import (
    BoundSpec,
    ChangeBandRule,
    DeadlineRule,
    DeterminationRule,
    ExemptionRule,
    NeedsReviewRule,
    RelativeRule,
    Rule,
    StreakRule,
    ThresholdRule,
    TiersRule,
)
from vbp_rules.packs.pack import Pack

__all__ = [
    "Lowered",
    "ValueSpec",
    "decode_number",
    "lower_decision",
    "not_configured_detail",
]

_STR = nw.String


@attrs.frozen
class ValueSpec:
    """How to read one recorded value back: its name, column(s) and Python type."""

    name: str
    column: str
    kind: str
    den: int | None  # None: the denominator is in ``column + "_d"``
    tag: str = "int"
    places: int = 0
    const: object = None  # kind "const": the value itself (a duration parameter)


@attrs.frozen
class Lowered:
    """A rule's decision as columns (see the module docstring)."""

    exprs: tuple[nw.Expr, ...]
    values: tuple[ValueSpec, ...]
    #: per tier/case index: the value specs it records (determination cases differ)
    case_values: Mapping[int, tuple[ValueSpec, ...]]
    events: tuple[tuple[ExemptionRule, FactModel], ...]
    scope: Scope
    #: the recorded values (added after ``after``, which may make what they read)
    value_exprs: tuple[nw.Expr, ...] = ()
    #: decisions that read other subjects (streaks, relative levels), applied last
    after: Any = None
    #: the order subjects are reported in, when it is not ``__unit``
    sort: tuple[str, ...] = ()


def _lit(text: str | None) -> nw.Expr:
    return nw.lit(text, dtype=_STR)


class _Chain:
    """A priority list of (condition, status, detail); the first that holds decides."""

    def __init__(self) -> None:
        self.items: list[tuple[nw.Expr, str, str | None, nw.Expr | None]] = []

    def add(
        self, cond: nw.Expr, status: str, detail: str | None = None, case: nw.Expr | None = None
    ) -> None:
        self.items.append((cond.fill_null(value=False), status, detail, case))

    def build(self, final_status: nw.Expr, final_case: nw.Expr) -> tuple[nw.Expr, ...]:
        status, detail, case = final_status, _lit(None), final_case
        for cond, s, d, c in reversed(self.items):
            status = nw.when(cond).then(_lit(s)).otherwise(status)
            detail = nw.when(cond).then(_lit(d)).otherwise(detail)
            case = nw.when(cond).then(c if c is not None else _null_int()).otherwise(case)
        return (status.alias("__status"), detail.alias("__detail"), case.alias("__case"))


def _null_int() -> nw.Expr:
    return nw.lit(None, dtype=nw.Int64)


class _Values:
    """Collects value columns and their specs."""

    def __init__(self) -> None:
        self.exprs: list[nw.Expr] = []
        self.count = 0

    def add(self, name: str, v: Val) -> ValueSpec:
        if v.kind == "duration":
            return ValueSpec(name, "", "const", 1, const=v.const)
        col = f"__v{self.count}"
        self.count += 1
        if v.kind == "num" and not isinstance(v.den, int):
            self.exprs += [v.expr.alias(col), v.den.alias(f"{col}_d")]
            return ValueSpec(name, col, "num", None, v.tag, v.places)
        self.exprs.append(v.expr.alias(col))
        den = v.den if isinstance(v.den, int) else None
        return ValueSpec(name, col, v.kind, den, v.tag, v.places)


@attrs.define
class _Ctx:
    pack: Pack
    rule: Rule
    uf: UnitFrame
    scope: Scope
    parameters: Mapping[str, object]
    values: _Values = attrs.field(factory=_Values)

    def compile(self, source: str) -> Val:
        """A decision expression, computed once into a column unless it is a plain name."""
        node = self.pack.expr(source).node
        v = compile_node(node, self.scope)
        if isinstance(node, Name | Number) or v.kind in ("null", "duration", "str"):
            return v
        expr = self.scope.materialize(v.expr)
        den = v.den if isinstance(v.den, int) else self.scope.materialize(v.den)
        return attrs.evolve(v, expr=expr, den=den)

    def metric(self, name: str, source: str, chain: _Chain) -> Val:
        """A rule's metric: a null value is a ``missing_fact`` skip naming it."""
        metric = self.compile(source)
        if metric.kind == "null":
            raise Unsupported("a null metric")
        chain.add(metric.expr.is_null(), "skip:missing_fact", f"{name} ({source}) is null")
        return metric

    def inputs(self, source: str) -> list[tuple[str, Val]]:
        """The fact values an expression reads (as ``Run.inputs``), sorted by name."""
        params = self.pack.model.parameters
        types = {} if self.uf.grouped or self.rule.over is None else field_types(self.rule.over)
        out = []
        for name in sorted(self.pack.expr(source).names):
            if name in self.scope.columns and name not in params and name != "as_of":
                v = self.scope.columns[name]
                if types.get(name) == "money":  # a row's money is recorded as its Decimal
                    v = attrs.evolve(v, tag="dec", places=2)
                out.append((name, v))
        return out

    def bound(self, b: BoundSpec, chain: _Chain) -> Val:
        """``Run.bound_value``: a parameter (not configured → skip), a value, or an expr."""
        if b.parameter is not None:
            col = self.scope.columns.get(b.parameter)
            if col is not None:  # a per-batch value joined in
                chain.add(
                    col.expr.is_null(), "skip:not_configured", not_configured_detail(b.parameter)
                )
                return col
            value = self.parameters.get(b.parameter)
            if value is None:
                chain.add(
                    nw.lit(value=True), "skip:not_configured", not_configured_detail(b.parameter)
                )
                return Val("num", nw.lit(0, dtype=nw.Int64))
            value = getattr(value, "n", value)
            return raw_constant(value)
        if b.value is not None:
            v = constant(to_fraction(b.value))
            return attrs.evolve(v, tag="frac")
        assert b.expr is not None  # noqa: S101 - the model guarantees one source
        v = self.compile(b.expr)
        chain.add(v.expr.is_null(), "skip:missing_fact", f"bound ({b.expr}) is null")
        return v


def not_configured_detail(parameter: str) -> str:
    """The detail of a ``not_configured`` skip (as the shared semantics write it)."""
    return (
        f"parameter {parameter!r} is unspecified in the source; configure it to evaluate this rule"
    )


def _num_compare(a: Val, op: str, b: Val) -> nw.Expr:
    if a.kind != b.kind:
        raise Unsupported(f"comparing a {a.kind} with a {b.kind}")
    if a.kind == "num":
        left, right = cross(a, b)
        return compare_exprs(left, op, right)
    if a.kind in ("day", "instant"):
        return compare_exprs(a.expr, op, b.expr)
    raise Unsupported(f"ordering a {a.kind}")


def _having(ctx: _Ctx, chain: _Chain) -> None:
    rule = ctx.rule
    if rule.having is None:
        return
    params = ctx.pack.model.parameters
    for name in sorted(ctx.pack.expr(rule.having).names):
        if name in params and name not in ctx.scope.columns and ctx.parameters.get(name) is None:
            chain.add(nw.lit(value=True), "skip:not_configured", not_configured_detail(name))
            return
    keep = ctx.compile(rule.having)
    if keep.kind == "null":
        chain.add(nw.lit(value=True), "skip:missing_fact", f"having ({rule.having}) is null")
        return
    if keep.kind != "bool":
        raise Unsupported("a having that is not true/false")
    chain.add(keep.expr.is_null(), "skip:missing_fact", f"having ({rule.having}) is null")
    chain.add(~keep.expr, "skip:not_applicable", f"not assessed: having ({rule.having}) is false")


def _threshold(ctx: _Ctx, chain: _Chain) -> tuple[nw.Expr, list[ValueSpec]]:
    rule = ctx.rule
    assert isinstance(rule, ThresholdRule)  # noqa: S101
    if rule.condition is not None:
        v = ctx.compile(rule.condition)
        if v.kind == "null":
            chain.add(
                nw.lit(value=True), "skip:missing_fact", f"condition ({rule.condition}) is null"
            )
            return _lit("compliant"), []
        if v.kind != "bool":
            raise Unsupported("a condition that is not true/false")
        chain.add(v.expr.is_null(), "skip:missing_fact", f"condition ({rule.condition}) is null")
        spec = ctx.values.add("condition", v)
        return nw.when(v.expr).then(_lit("breach")).otherwise(_lit("compliant")), [spec]
    assert rule.metric is not None  # noqa: S101
    metric = ctx.metric(rule.metric.name, rule.metric.expr, chain)
    bound = rule.breach_if or rule.require
    assert bound is not None  # noqa: S101
    limit = ctx.bound(bound, chain)
    holds = _num_compare(metric, bound_operator(bound), limit)
    breach = holds if rule.breach_if is not None else ~holds
    specs = [ctx.values.add(rule.metric.name, metric), ctx.values.add("threshold", limit)]
    specs += [ctx.values.add(n, v) for n, v in ctx.inputs(rule.metric.expr)]
    return nw.when(breach).then(_lit("breach")).otherwise(_lit("compliant")), specs


def _tiers(
    ctx: _Ctx, chain: _Chain
) -> tuple[nw.Expr, nw.Expr, list[ValueSpec], dict[int, tuple[ValueSpec, ...]]]:
    rule = ctx.rule
    assert isinstance(rule, TiersRule)  # noqa: S101
    metric = ctx.metric(rule.metric.name, rule.metric.expr, chain)
    metric_spec = ctx.values.add(rule.metric.name, metric)
    inputs = [ctx.values.add(n, v) for n, v in ctx.inputs(rule.metric.expr)]
    status: nw.Expr = _lit("python")  # no tier holds: the shared semantics say why
    case: nw.Expr = _null_int()
    case_values: dict[int, tuple[ValueSpec, ...]] = {}
    conds: list[tuple[int, nw.Expr, str]] = []
    for i, tier in enumerate(rule.tiers):
        parts: list[nw.Expr] = []
        specs: list[ValueSpec] = [metric_spec]
        skip_tier = False
        for side, b in (("lower", tier.lower), ("upper", tier.upper)):
            if b is None:
                continue
            if b.parameter is not None and b.parameter not in ctx.scope.columns:
                value = ctx.parameters.get(b.parameter)
                if value is None:
                    skip_tier = True
                    continue
            inner = _Chain()
            limit = ctx.bound(b, inner)
            if inner.items:
                raise Unsupported("a tier bound that may be undecided")
            parts.append(_num_compare(metric, bound_operator(b), limit))
            specs.append(ctx.values.add(f"tier_{side}", limit))
        if skip_tier:
            continue
        ok = parts[0] if parts else nw.lit(value=True)
        for p in parts[1:]:
            ok = ok & p
        case_values[i] = (*specs, *inputs)
        conds.append((i, ok, tier.outcome))
    # no tier holds (a bound not configured, or a gap): the shared semantics decide
    for i, ok, outcome in reversed(conds):
        status = nw.when(ok.fill_null(value=False)).then(_lit(outcome)).otherwise(status)
        case = nw.when(ok.fill_null(value=False)).then(nw.lit(i, dtype=nw.Int64)).otherwise(case)
    return status, case, [metric_spec, *inputs], case_values


def _deadline(ctx: _Ctx, chain: _Chain) -> tuple[nw.Expr, list[ValueSpec]]:
    rule = ctx.rule
    assert isinstance(rule, DeadlineRule)  # noqa: S101
    specs: list[ValueSpec] = []
    if rule.due is not None:
        due = ctx.compile(rule.due)
        if due.kind == "null":
            raise Unsupported("a null due")
        chain.add(due.expr.is_null(), "skip:missing_fact", f"due ({rule.due}) is null")
    else:
        assert rule.start is not None  # noqa: S101
        assert rule.window is not None  # noqa: S101
        start = ctx.compile(rule.start)
        if start.kind == "null":
            raise Unsupported("a null start")
        chain.add(start.expr.is_null(), "skip:missing_fact", f"start ({rule.start}) is null")
        window = ctx.parameters.get(rule.window)
        if rule.window in ctx.scope.columns:
            raise Unsupported("a per-batch window")
        if window is None:
            chain.add(nw.lit(value=True), "skip:not_configured", not_configured_detail(rule.window))
            return _lit("compliant"), []
        due = deadline_expr(ctx.scope, start, window)
        specs.append(ctx.values.add("start", start))
        specs.append(ValueSpec("window", "", "const", 1, const=window))
    due = _end_of(due)
    specs.append(ctx.values.add("due", due))
    end = ctx.compile(rule.end)
    if end.kind == "null":
        end = Val("instant", nw.lit(None, dtype=nw.Int64))
    end_i = _end_of(end)
    specs.append(ctx.values.add("end", end_i))
    as_of = ctx.scope.constants["as_of"]
    as_of_v = constant(as_of)
    absent = end_i.expr.is_null()
    late = end_i.expr > due.expr
    overdue = as_of_v.expr > due.expr
    status = (
        nw.when(absent & overdue)
        .then(_lit("breach"))
        .otherwise(
            nw.when(absent)
            .then(_lit("skip:pending"))
            .otherwise(nw.when(late).then(_lit("breach")).otherwise(_lit("compliant")))
        )
    )
    return status, specs


def _end_of(v: Val) -> Val:
    """An instant as is; a date as 24:00 of that day."""
    if v.kind == "instant":
        return v
    if v.kind == "day":
        return Val("instant", (v.expr + 1) * US_PER_DAY - TZ_OFFSET_US)
    raise Unsupported(f"a deadline end or due of kind {v.kind}")


def _determination(
    ctx: _Ctx,
) -> tuple[nw.Expr, nw.Expr, dict[int, tuple[ValueSpec, ...]]]:
    rule = ctx.rule
    assert isinstance(rule, DeterminationRule)  # noqa: S101
    cases = [*rule.cases, *([rule.otherwise] if rule.otherwise else [])]
    status: nw.Expr = _lit("needs_review")
    case: nw.Expr = _null_int()
    compiled = []
    case_values: dict[int, tuple[ValueSpec, ...]] = {}
    for i, c in enumerate(cases):
        when = ctx.compile(c.when)
        if when.kind not in ("bool", "null"):
            raise Unsupported("a case condition that is not true/false")
        specs = tuple(ctx.values.add(name, ctx.compile(src)) for name, src in c.values.items())
        case_values[i] = specs
        compiled.append((i, c, when))
    for i, _case, when in reversed(compiled):
        if when.kind == "null":
            status = _lit("skip:missing_fact")
            case = nw.lit(i, dtype=nw.Int64)
            continue
        hit = when.expr.fill_null(value=False)
        null = when.expr.is_null()
        status = (
            nw.when(null)
            .then(_lit("skip:missing_fact"))
            .otherwise(nw.when(hit).then(_lit("determination")).otherwise(status))
        )
        case = nw.when(null | hit).then(nw.lit(i, dtype=nw.Int64)).otherwise(case)
    return status, case, case_values


def _change_band(
    ctx: _Ctx, chain: _Chain
) -> tuple[nw.Expr, list[ValueSpec], dict[int, tuple[ValueSpec, ...]]]:
    rule = ctx.rule
    assert isinstance(rule, ChangeBandRule)  # noqa: S101
    value = ctx.compile(rule.value)
    base = ctx.compile(rule.baseline)
    if value.kind != "num" or base.kind != "num":
        raise Unsupported("a change band of non-numbers")
    chain.add(value.expr.is_null(), "skip:missing_fact", f"value ({rule.value}) is null")
    chain.add(base.expr.is_null(), "skip:missing_fact", f"baseline ({rule.baseline}) is null")
    chain.add(base.expr == 0, "skip:not_applicable", f"baseline {rule.baseline} is zero")
    # change = (value - baseline) / baseline, with a positive denominator
    left, right = cross(value, base)
    num = (left - right) * _den_expr(base.den)
    den = _den_expr(value.den) * _den_expr(base.den) * base.expr
    sign = nw.when(den < 0).then(nw.lit(-1, dtype=nw.Int64)).otherwise(nw.lit(1, dtype=nw.Int64))
    safe = nw.when(den == 0).then(nw.lit(1, dtype=nw.Int64)).otherwise(den * sign)
    change = Val("num", num * sign, safe, tag="frac")
    decrease = attrs.evolve(change, expr=change.expr * -1)
    base_specs = [
        ctx.values.add("value", value),
        ctx.values.add("baseline", base),
        ctx.values.add("change", change),
    ]
    case_values: dict[int, tuple[ValueSpec, ...]] = {}
    for i, (side, b, metric) in enumerate(
        (("decrease", rule.decrease, decrease), ("increase", rule.increase, change))
    ):
        if b is None:
            continue
        inner = _Chain()
        limit = ctx.bound(b, inner)
        chain.items.extend(inner.items)
        fires = _num_compare(metric, bound_operator(b), limit)
        chain.add(fires, "breach", None, case=nw.lit(i, dtype=nw.Int64))
        case_values[i] = (
            *base_specs,
            ctx.values.add(side, metric),
            ctx.values.add("threshold", limit),
        )
    return _lit("compliant"), base_specs, case_values


def _den_expr(d: int | nw.Expr) -> nw.Expr:
    return nw.lit(d, dtype=nw.Int64) if isinstance(d, int) else d


def _exemptions(
    ctx: _Ctx, exemptions: Sequence[tuple[ExemptionRule, Sequence[FactModel]]]
) -> tuple[nw.Expr | None, tuple[tuple[ExemptionRule, FactModel], ...]]:
    events: list[tuple[ExemptionRule, FactModel]] = []
    conds: list[nw.Expr] = []
    for ex, rows in exemptions:
        window: tuple[Val | None, Val | None] | None = None
        if ex.overlap:
            window = (
                ctx.compile(ex.overlap["start"]) if "start" in ex.overlap else None,
                ctx.compile(ex.overlap["end"]) if "end" in ex.overlap else None,
            )
        for event in rows:
            cond: nw.Expr = nw.lit(value=True)
            for ef, tf in ex.match.items():
                value = getattr(event, ef)
                if value is None:
                    continue
                col = ctx.scope.columns.get(tf)
                if col is None:
                    if tf in ctx.scope.constants:
                        ok = ctx.scope.constants[tf] == value
                        cond = cond & nw.lit(value=ok)
                    else:
                        cond = cond & nw.lit(value=False)
                    continue
                target = constant(value)
                if target.kind != col.kind or col.kind not in ("str", "day", "bool"):
                    raise Unsupported("an exemption match on a non-text field")
                cond = cond & (col.expr == target.expr).fill_null(value=False)
            if window is not None:
                starts, ends = getattr(event, "starts_on", None), getattr(event, "ends_on", None)
                w_start, w_end = window
                if w_end is not None and starts is not None:
                    if w_end.kind not in ("day", "null"):
                        raise Unsupported("an exemption window end that is not a date")
                    if w_end.kind == "day":
                        s = constant(starts).expr
                        cond = cond & ~(~w_end.expr.is_null() & (s > w_end.expr)).fill_null(
                            value=False
                        )
                if w_start is not None and ends is not None:
                    if w_start.kind not in ("day", "null"):
                        raise Unsupported("an exemption window start that is not a date")
                    if w_start.kind == "day":
                        e = constant(ends).expr
                        cond = cond & ~(~w_start.expr.is_null() & (e < w_start.expr)).fill_null(
                            value=False
                        )
            events.append((ex, event))
            conds.append(cond)
    if not conds:
        return None, ()
    out: nw.Expr = _null_int()
    for i in range(len(conds) - 1, -1, -1):
        out = nw.when(conds[i]).then(nw.lit(i, dtype=nw.Int64)).otherwise(out)
    # every matching event is credited: one column per event
    ctx.values.exprs.extend(c.alias(f"__e{i}") for i, c in enumerate(conds))
    return out, tuple(events)


def _year_runs(years: frozenset[int]) -> list[tuple[int, int]]:
    """Provisional years as runs of day numbers ``[first, last]``."""
    from datetime import date  # noqa: PLC0415

    from vbp_rules.engine._frame_ingest import day_number  # noqa: PLC0415

    runs: list[tuple[int, int]] = []
    for year in sorted(years):
        first, last = day_number(date(year, 1, 1)), day_number(date(year, 12, 31))
        if runs and runs[-1][1] + 1 == first:
            runs[-1] = (runs[-1][0], last)
        else:
            runs.append((first, last))
    return runs


def _in_runs(day: nw.Expr, runs: list[tuple[int, int]]) -> nw.Expr:
    out: nw.Expr = nw.lit(value=False)
    for first, last in runs:
        out = out | ((day >= first) & (day <= last)).fill_null(value=False)
    return out


def _provisional(scope: Scope, provisional_years: frozenset[int]) -> nw.Expr:
    """True where a day the decision touched lies in a provisional year.

    A deadline counted over days spans the years from its start to its last day; the
    provisional years form a few runs of day numbers, so each test is two comparisons.
    """
    if not provisional_years or not (scope.touched or scope.spans):
        return nw.lit(value=False)
    runs = _year_runs(provisional_years)
    out: nw.Expr = nw.lit(value=False)
    for day in scope.touched:
        out = out | _in_runs(day, runs)
    for start, last in scope.spans:
        # some year from start's to last's is provisional: a run meets [start, last]
        for first, final in runs:
            out = out | ((start <= final) & (last >= first)).fill_null(value=False)
    return out


def lower_decision(
    pack: Pack,
    rule: Rule,
    uf: UnitFrame,
    *,
    parameters: Mapping[str, object],
    exemptions: Sequence[tuple[ExemptionRule, Sequence[FactModel]]],
    provisional_years: frozenset[int],
) -> Lowered:
    """The decision of ``rule`` over its subject frame, as columns.

    Raises:
        Unsupported: the rule kind or an expression outside the compiled subset.
    """
    scope = uf.scope
    ctx = _Ctx(pack=pack, rule=rule, uf=uf, scope=scope, parameters=parameters)
    ev, events = _exemptions(ctx, exemptions)
    chain = _Chain()
    if ev is not None and not isinstance(rule, RelativeRule):
        chain.add(~ev.is_null(), "skip:exempted")
    _having(ctx, chain)
    case: nw.Expr = _null_int()
    case_values: dict[int, tuple[ValueSpec, ...]] = {}
    specs: list[ValueSpec] = []
    extra: list[nw.Expr] = []
    after: Any = None
    sort: tuple[str, ...] = ()
    if isinstance(rule, ThresholdRule):
        final, specs = _threshold(ctx, chain)
    elif isinstance(rule, TiersRule):
        final, case, specs, case_values = _tiers(ctx, chain)
    elif isinstance(rule, DeadlineRule):
        final, specs = _deadline(ctx, chain)
    elif isinstance(rule, DeterminationRule):
        final, case, case_values = _determination(ctx)
    elif isinstance(rule, ChangeBandRule):
        final, specs, case_values = _change_band(ctx, chain)
    elif isinstance(rule, NeedsReviewRule):
        final = _lit("needs_review")
    elif isinstance(rule, StreakRule):
        from vbp_rules.engine._frame_windows import streak_decision  # noqa: PLC0415

        final, specs, extra, after, sort = streak_decision(ctx, chain)
    elif isinstance(rule, RelativeRule):
        from vbp_rules.engine._frame_windows import relative_decision  # noqa: PLC0415

        final, specs, extra, after, sort = relative_decision(ctx, chain, ev)
    else:
        raise Unsupported(f"rule kind {rule.kind}")
    status, detail, case_col = chain.build(final, case)
    na = not_applicable_any(scope)
    escape: nw.Expr = na if na is not None else nw.lit(value=False)
    for col in uf.escape:
        escape = escape | (nw.col(col).cast(nw.Int64) == 1).fill_null(value=False)
    status = nw.when(escape).then(_lit("python")).otherwise(status).alias("__status")
    exprs = [
        status,
        detail,
        case_col,
        (ev if ev is not None else _null_int()).alias("__ev"),
        _provisional(scope, provisional_years).alias("__prov"),
        *extra,
    ]
    return Lowered(
        exprs=tuple(exprs),
        values=tuple(specs),
        case_values=case_values,
        events=events,
        scope=scope,
        value_exprs=tuple(ctx.values.exprs),
        after=after,
        sort=sort,
    )


def decode_number(spec: ValueSpec, n: Any, d: Any) -> object:
    """A recorded number as the reference engine holds it (int, Fraction or Decimal)."""
    from decimal import Decimal  # noqa: PLC0415

    num = int(n)
    den = int(d) if spec.den is None else spec.den
    if spec.tag == "dec":
        scaled = Fraction(num, den) * 10**spec.places
        return (
            Decimal(int(scaled)).scaleb(-spec.places)
            if scaled.denominator == 1
            else Fraction(num, den)
        )
    if spec.tag == "frac":
        return Fraction(num, den)
    return num if den == 1 else Fraction(num, den)
