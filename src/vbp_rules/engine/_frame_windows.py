"""Streaks and relative levels as columns: decisions that read other subjects.

A streak counts, per subject in period order, the consecutive periods in which the
condition holds (a period that is exempted, filtered out or undecided, or a gap between
periods, breaks the run): a cumulative sum over ordered windows. A relative rule pools
the numerators and denominators of the subjects it assesses per period and
``population_by`` key (window sums) and compares each subject with that level.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import narwhals as nw

from vbp_rules.engine._frame_compile import (
    Unsupported,
    Val,
    compare_exprs,
    cross,
    num_op,
    raw_constant,
)
from vbp_rules.engine._frame_decide import (
    ValueSpec,
    _Chain,
    _Ctx,
    _lit,
    _num_compare,
    not_configured_detail,
)
from vbp_rules.expr import to_fraction
from vbp_rules.packs._checks import bound_operator
from vbp_rules.packs.model import RelativeRule, StreakRule

__all__ = ["relative_decision", "streak_decision"]

After = Callable[[nw.LazyFrame[Any]], nw.LazyFrame[Any]]


def _keys(ctx: _Ctx) -> list[str]:
    return [f"__k{i}" for i in range(len(ctx.uf.key_names))]


def _over(expr: nw.Expr, partition: list[str], order: str) -> nw.Expr:
    if partition:
        return expr.over(*partition, order_by=order)
    return expr.over(order_by=order)


def streak_decision(
    ctx: _Ctx, chain: _Chain
) -> tuple[nw.Expr, list[ValueSpec], list[nw.Expr], After, tuple[str, ...]]:
    """A streak's per-period test as columns, and the run counted over ordered windows."""
    rule = ctx.rule
    assert isinstance(rule, StreakRule)  # noqa: S101
    if not ctx.uf.grouped or rule.period is None:
        raise Unsupported("a streak without periods")
    metric = ctx.metric(rule.metric.name, rule.metric.expr, chain)
    limit = ctx.bound(rule.breach_if, chain)
    holds = _num_compare(metric, bound_operator(rule.breach_if), limit)
    specs = [
        ctx.values.add(rule.metric.name, metric),
        ctx.values.add("threshold", limit),
        ValueSpec("consecutive_periods", "__run", "num", 1),
        *(ctx.values.add(n, v) for n, v in ctx.inputs(rule.metric.expr)),
    ]
    keys = _keys(ctx)
    length = rule.length

    def after(lf: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
        ok = (nw.col("__status") == "decided") & nw.col("__holds").fill_null(value=False)
        prev = _over(nw.col("__pend").shift(1), keys, "__pstart")
        gap = prev.is_null() | (nw.col("__pstart") != prev + 1)
        lf = lf.with_columns(ok.alias("__ok"), gap.alias("__gap"))
        brk = (~nw.col("__ok") | nw.col("__gap")).cast(nw.Int64)
        lf = lf.with_columns(_over(brk.cum_sum(), keys, "__pstart").alias("__seg"))
        counted = _over(nw.col("__ok").cast(nw.Int64).cum_sum(), [*keys, "__seg"], "__pstart")
        run = nw.when(nw.col("__ok")).then(counted).otherwise(nw.lit(0, dtype=nw.Int64))
        lf = lf.with_columns(run.cast(nw.Int64).alias("__run"))
        decided = (
            nw.when(nw.col("__run") >= length).then(_lit("breach")).otherwise(_lit("compliant"))
        )
        status = (
            nw.when(nw.col("__status") == "decided").then(decided).otherwise(nw.col("__status"))
        )
        if not keys:
            lf = lf.with_columns(nw.lit(0, dtype=nw.Int64).alias("__all"))
        first = nw.col("__unit").min().over(*(keys or ["__all"]))
        return lf.with_columns(status.alias("__status"), first.alias("__order"))

    return _lit("decided"), specs, [holds.alias("__holds")], after, ("__order", "__pstart")


def relative_decision(  # noqa: PLR0915 - one rule kind, read top to bottom
    ctx: _Ctx, chain: _Chain, exempt: nw.Expr | None
) -> tuple[nw.Expr, list[ValueSpec], list[nw.Expr], After, tuple[str, ...]]:
    """A subject's ratio against the pooled level of the subjects assessed with it."""
    rule = ctx.rule
    assert isinstance(rule, RelativeRule)  # noqa: S101
    n = ctx.compile(rule.metric.numerator)
    d = ctx.compile(rule.metric.denominator)
    if n.kind != "num" or d.kind != "num":
        raise Unsupported("a relative metric of non-numbers")
    if not isinstance(n.den, int) or not isinstance(d.den, int):
        raise Unsupported("a relative metric over ratios")
    chain.add(n.expr.is_null(), "skip:missing_fact", f"numerator ({rule.metric.numerator}) is null")
    chain.add(
        d.expr.is_null(), "skip:missing_fact", f"denominator ({rule.metric.denominator}) is null"
    )
    b = rule.breach_if
    op = bound_operator(b)
    margin = Val("num", nw.lit(0, dtype=nw.Int64), tag="frac")
    unconfigured: str | None = None
    if b.margin:
        value = ctx.parameters.get(b.margin)
        if value is None or b.margin in ctx.scope.columns:
            unconfigured = b.margin
        else:
            margin = raw_constant(to_fraction(getattr(value, "n", value)))
    offset = Val("num", nw.lit(0, dtype=nw.Int64), tag="frac")
    if b.parameter or b.value or b.expr:
        inner = _Chain()
        offset = ctx.bound(b, inner)
        if inner.items:
            if unconfigured is None and b.parameter:
                unconfigured = b.parameter
            else:
                raise Unsupported("a relative bound that may be undecided")
    part: list[str] = ["__pstart"] if ctx.rule.period is not None else []
    part += [f"__k{ctx.uf.key_names.index(k)}" for k in rule.population_by if k in ctx.uf.key_names]
    if any(k not in ctx.uf.key_names and k in ctx.scope.columns for k in rule.population_by):
        raise Unsupported("a population split by a value that is not a subject key")
    metric = num_op("/", n, d)
    level = Val("num", nw.col("__tn") * d.den, nw.col("__td") * n.den, tag="frac")
    limit = num_op("-" if op in ("<", "<=") else "+", level, margin)
    limit = num_op("+", limit, offset)
    specs = [
        ctx.values.add(rule.metric.name, metric),
        ctx.values.add("population_level", level),
        ctx.values.add("margin", margin),
        ctx.values.add("threshold", limit),
        ctx.values.add(rule.metric.numerator, n),
        ctx.values.add(rule.metric.denominator, d),
    ]
    left, right = cross(metric, limit)
    breach = compare_exprs(left, op, right)
    zero = (d.expr == 0).fill_null(value=False)
    denominator = f"denominator {rule.metric.denominator} is zero"

    def after(lf: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
        included = nw.col("__status") == "decided"
        zero_n = nw.lit(0, dtype=nw.Int64)
        tn = nw.when(included).then(nw.col("__rn")).otherwise(zero_n)
        td = nw.when(included).then(nw.col("__rd")).otherwise(zero_n)
        cols = part
        if not cols:  # one population: partition by a constant
            lf = lf.with_columns(nw.lit(0, dtype=nw.Int64).alias("__all"))
            cols = ["__all"]
        lf = lf.with_columns(tn.sum().over(*cols).alias("__tn"), td.sum().over(*cols).alias("__td"))
        phase2 = (
            nw.when(exempt_col)
            .then(_lit("skip:exempted"))
            .otherwise(
                nw.when(nw.col("__zero"))
                .then(_lit("skip:not_applicable"))
                .otherwise(
                    _lit("skip:not_configured")
                    if unconfigured is not None
                    else nw.when(nw.col("__breach"))
                    .then(_lit("breach"))
                    .otherwise(_lit("compliant"))
                )
            )
        )
        detail = (
            nw.when(exempt_col)
            .then(_lit(None))
            .otherwise(
                nw.when(nw.col("__zero"))
                .then(_lit(denominator))
                .otherwise(
                    _lit(not_configured_detail(unconfigured))
                    if unconfigured is not None
                    else _lit(None)
                )
            )
        )
        lf = lf.with_columns(breach.fill_null(value=False).alias("__breach"))
        return lf.with_columns(
            nw.when(included).then(phase2).otherwise(nw.col("__status")).alias("__status"),
            nw.when(included).then(detail).otherwise(nw.col("__detail")).alias("__detail"),
            nw.when(included)
            .then(nw.lit(1, dtype=nw.Int64))
            .otherwise(nw.lit(0, dtype=nw.Int64))
            .alias("__order"),
        )

    exempt_col = (
        (~exempt.is_null()).fill_null(value=False) if exempt is not None else nw.lit(value=False)
    )
    extra = [
        n.expr.alias("__rn"),
        d.expr.alias("__rd"),
        zero.alias("__zero"),
    ]
    return _lit("decided"), specs, extra, after, ("__order", "__unit")
