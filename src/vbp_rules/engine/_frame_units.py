"""The frame engine's subjects: one lazy frame per rule, one row per subject.

A row-level rule's subjects are its selected rows; a grouped rule's are the groups of
its selected rows by key and period, with the aggregates as columns. Either way the
frame carries ``__unit`` (the subject's first row, which orders subjects as the
reference engine meets them) and a :class:`Scope` that names its columns for the
decision expressions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Final

import attrs
import narwhals as nw

from vbp_rules.engine._frame_compile import (
    Scope,
    Unsupported,
    Val,
    compile_node,
    constant,
    row_columns,
)
from vbp_rules.engine._frame_ingest import ROW, field_types
from vbp_rules.engine._functions import split_aggregate
from vbp_rules.packs.model import Rule
from vbp_rules.packs.pack import Pack

__all__ = [
    "UNIT",
    "UnitFrame",
    "build_unit_frame",
    "not_applicable_any",
    "wide_dtype",
    "widening",
]

UNIT: Final = "__unit"
#: The integer type exact cross-multiplication runs in: Int128 where the backend has one
#: (Polars, DuckDB), else Decimal(38, 0) (Spark-like backends); set per evaluation.
_WIDE: ContextVar[Any] = ContextVar("vbp_rules_frame_wide", default=nw.Int128)


def wide_dtype(backend: str) -> Any:
    """The wide integer type of ``backend``."""
    return nw.Decimal(38, 0) if backend in ("pyspark", "sqlframe") else nw.Int128


@contextmanager
def widening(backend: str) -> Iterator[None]:
    """Lower expressions for ``backend``'s wide integer type inside this block."""
    token = _WIDE.set(wide_dtype(backend))
    try:
        yield
    finally:
        _WIDE.reset(token)


#: Sums at or beyond this magnitude are decided by the shared semantics (no wrap-around).
SAFE_SUM: Final = 2**62


@attrs.frozen
class UnitFrame:
    """A rule's subjects as a lazy frame and the names its decisions may use."""

    lf: nw.LazyFrame[Any]
    scope: Scope
    grouped: bool
    key_names: tuple[str, ...]
    key_vals: tuple[Val, ...]
    #: the frame of selected rows (before grouping), with ``__unit`` for grouped rules
    members: nw.LazyFrame[Any]
    #: the selected rows (every one is in some subject's finding or skip)
    selected: nw.LazyFrame[Any]
    #: columns that mark subjects the shared semantics must decide
    escape: tuple[str, ...] = ()


def not_applicable_any(scope: Scope, start: int = 0) -> nw.Expr | None:
    """True where a registered zero-denominator condition holds (from ``start`` on)."""
    conds = scope.not_applicable[start:]
    if not conds:
        return None
    out = conds[0].fill_null(value=False)
    for c in conds[1:]:
        out = out | c.fill_null(value=False)
    return out


def _widen(val: Val) -> Val:
    if val.kind != "num":
        return val
    den = val.den if isinstance(val.den, int) else val.den.cast(_WIDE.get())
    return attrs.evolve(val, expr=val.expr.cast(_WIDE.get()), den=den)


def build_unit_frame(
    pack: Pack,
    rule: Rule,
    table: nw.LazyFrame[Any],
    *,
    constants: Mapping[str, object],
    per_batch: Mapping[str, str],
    batches: nw.LazyFrame[Any] | None,
    period_frame: Callable[[str], nw.LazyFrame[Any]],
    apply_lookups: Callable[[nw.LazyFrame[Any], Scope], nw.LazyFrame[Any]],
) -> UnitFrame:
    """The subjects of ``rule`` over its kind's encoded ``table``.

    Raises:
        Unsupported: an expression outside the compiled subset.
    """
    assert rule.over is not None  # noqa: S101 - checked by the caller
    kind = rule.over
    columns = {k: _widen(v) for k, v in row_columns(kind).items()}
    lf = table
    shadowed = frozenset(per_batch) if "batch_id" in field_types(kind) else frozenset()
    if shadowed and batches is not None:
        lf, batch_cols = _join_batch_values(lf, batches, per_batch, constants)
        columns.update(batch_cols)
        shadowed = frozenset()
    scope = Scope(columns=columns, constants=constants, shadowed=shadowed, prefix="__lw")
    if rule.where is not None:
        cond = compile_node(pack.expr(rule.where).node, scope)
        lf = apply_lookups(lf, scope)
        if cond.kind not in ("bool", "null"):
            raise Unsupported("a where that is not true/false")
        keep = cond.expr.fill_null(value=False) if cond.kind == "bool" else nw.lit(value=False)
        na = not_applicable_any(scope)
        if na is not None:
            keep = keep & ~na  # a where that cannot be evaluated leaves the row out
        if any(lk.field != "derived" for lk in scope.lookups):
            # a day off the calendar in a filter is a skip of that row in the shared
            # semantics: the executor hands the rule to them if any row has one
            off: nw.Expr = nw.lit(value=False)
            for lk in scope.lookups:
                if lk.field == "derived":
                    continue
                off = off | (~nw.col(f"{lk.column}__in").is_null() & nw.col(lk.column).is_null())
            lf = lf.with_columns(off.fill_null(value=False).alias("__off_calendar"))
            keep = keep | nw.col("__off_calendar")
        lf = lf.filter(keep)
    if not (rule.group_by or rule.period):
        lf = lf.with_columns(nw.col(ROW).alias(UNIT))
        dscope = Scope(columns=columns, constants=constants, shadowed=shadowed, prefix="__ld")
        return UnitFrame(
            lf=lf, scope=dscope, grouped=False, key_names=(), key_vals=(), members=lf, selected=lf
        )
    return _grouped(
        pack,
        rule=rule,
        lf=lf,
        scope=scope,
        per_batch=per_batch,
        batches=batches,
        period_frame=period_frame,
        apply_lookups=apply_lookups,
    )


def _join_batch_values(
    lf: nw.LazyFrame[Any],
    batches: nw.LazyFrame[Any],
    per_batch: Mapping[str, str],
    constants: Mapping[str, object],
    left_on: str = "batch_id",
) -> tuple[nw.LazyFrame[Any], dict[str, Val]]:
    """Per-batch parameter values joined on ``batch_id`` (the pack's value otherwise)."""
    btypes = field_types("batches")
    bcols = row_columns("batches")
    wanted: list[nw.Expr] = [nw.col("id").alias("__pb_id")]
    out: dict[str, Val] = {}
    for name, field in per_batch.items():
        t = btypes.get(field)
        if t is None:
            raise Unsupported(f"per-batch parameter {name} reads an unknown batch field")
        base = constant(constants.get(name))
        if t == "ratio":
            wanted += [
                nw.col(f"{field}__n").alias(f"__pb_{name}__n"),
                nw.col(f"{field}__d").alias(f"__pb_{name}__d"),
            ]
            n, d = (
                nw.col(f"__pb_{name}__n").cast(_WIDE.get()),
                nw.col(f"__pb_{name}__d").cast(_WIDE.get()),
            )
        else:
            wanted.append(nw.col(field).alias(f"__pb_{name}"))
            v = bcols[field]
            if v.kind != "num":
                raise Unsupported(f"per-batch parameter {name} of kind {v.kind}")
            n = nw.col(f"__pb_{name}").cast(_WIDE.get())
            d = nw.lit(v.den, dtype=_WIDE.get()) if isinstance(v.den, int) else v.den
        if base.kind == "null":
            out[name] = Val("num", n, d)
            continue
        if base.kind != "num" or not isinstance(base.den, int):
            raise Unsupported(f"per-batch parameter {name} of kind {base.kind}")
        out[name] = Val(
            "num",
            nw.when(n.is_null()).then(base.expr.cast(_WIDE.get())).otherwise(n),
            nw.when(n.is_null()).then(nw.lit(base.den, dtype=_WIDE.get())).otherwise(d),
        )
    joined = lf.join(batches.select(*wanted), left_on=left_on, right_on="__pb_id", how="left")
    return joined, out


def _grouped(  # noqa: PLR0915 - one linear pipeline
    pack: Pack,
    *,
    rule: Rule,
    lf: nw.LazyFrame[Any],
    scope: Scope,
    per_batch: Mapping[str, str],
    batches: nw.LazyFrame[Any] | None,
    period_frame: Callable[[str], nw.LazyFrame[Any]],
    apply_lookups: Callable[[nw.LazyFrame[Any], Scope], nw.LazyFrame[Any]],
) -> UnitFrame:
    key_names: list[str] = []
    key_vals: list[Val] = []
    mark = len(scope.not_applicable)
    for g in rule.group_by or []:
        items = [(g, g)] if isinstance(g, str) else list(g.items())
        for name, src in items:
            v = compile_node(pack.expr(src).node, scope)
            if v.kind in ("duration", "null") or (v.kind == "num" and v.den != 1):
                raise Unsupported(f"group key {name} of kind {v.kind}")
            key_names.append(name)
            key_vals.append(v)
    key_cols = [f"__k{i}" for i in range(len(key_vals))]
    group_cols = list(key_cols)
    pday: Val | None = None
    if rule.period is not None:
        pv = scope.column(rule.period.field)
        if pv.kind == "instant":
            pday = compile_node(pack.expr(f"local_date({rule.period.field})").node, scope)
        elif pv.kind == "day":
            pday = pv
        else:
            raise Unsupported(f"period field {rule.period.field} is a {pv.kind}")
    aggs: list[tuple[str, str, Val | None]] = []
    agg_exprs: list[nw.Expr] = []
    inner_cols: list[nw.Expr] = []
    for i, (name, source) in enumerate((rule.aggregate or {}).items()):
        fn, inner = split_aggregate(source)
        col = f"__a{i}"
        if inner is None:
            aggs.append((name, fn, None))
            agg_exprs.append(nw.len().cast(nw.Int64).alias(col))
            continue
        v = compile_node(inner.node, scope)
        c = nw.col(col)
        if fn in ("count_if", "any", "all"):
            if v.kind not in ("bool", "null"):
                raise Unsupported(f"{fn} of a {v.kind}")
            inner_cols.append(v.expr.alias(col))
            flag = c.fill_null(value=False).cast(nw.Int64)
            expr = flag.sum() if fn == "count_if" else flag.max() if fn == "any" else flag.min()
            agg_exprs.append(expr.cast(nw.Int64).alias(col))
        elif fn == "sum":
            if v.kind != "num" or not isinstance(v.den, int):
                raise Unsupported(f"sum of a {v.kind}")
            inner_cols.append(v.expr.cast(_WIDE.get()).alias(col))
            agg_exprs.append(c.sum().cast(_WIDE.get()).fill_null(0).alias(col))
            agg_exprs.append(c.count().cast(nw.Int64).alias(f"{col}__present"))
        elif fn in ("min_of", "max_of"):
            if v.kind not in ("num", "day", "instant", "str") or not isinstance(v.den, int):
                raise Unsupported(f"{fn} of a {v.kind}")
            inner_cols.append(v.expr.alias(col))
            agg_exprs.append((c.min() if fn == "min_of" else c.max()).alias(col))
        else:
            raise Unsupported(f"aggregate {fn}")
        aggs.append((name, fn, v))
    lf = apply_lookups(lf, scope)
    na = not_applicable_any(scope, mark)
    lf = lf.with_columns(
        *[v.expr.alias(c) for v, c in zip(key_vals, key_cols, strict=True)],
        *inner_cols,
        (na if na is not None else nw.lit(value=False)).alias("__na"),
    )
    if pday is not None and rule.period is not None:
        table = period_frame(rule.period.unit)
        lf = lf.with_columns(pday.expr.alias("__pday")).join(table, on="__pday", how="inner")
        group_cols += ["__pstart", "__pend"]
    units = lf.group_by(*group_cols).agg(
        nw.col(ROW).min().alias(UNIT),
        *agg_exprs,
        nw.col("__na").cast(nw.Int64).max().alias("__na_any"),
    )
    # the members with their subject's __unit, for reading subjects back (lazy)
    members = lf.with_columns(nw.col(ROW).min().over(*group_cols).alias(UNIT))
    columns: dict[str, Val] = {}
    for name, v, kc in zip(key_names, key_vals, key_cols, strict=True):
        columns[name] = attrs.evolve(v, expr=nw.col(kc))
    escapes = ["__na_any"]
    big: list[nw.Expr] = []
    for i, (name, fn, av) in enumerate(aggs):
        v = av  # type: ignore[assignment]
        c = nw.col(f"__a{i}")
        if v is None or fn == "count_if":
            columns[name] = Val("num", c.cast(_WIDE.get()))
        elif fn in ("any", "all"):
            columns[name] = Val("bool", c == 1)
        elif fn == "sum":
            assert v is not None  # noqa: S101
            columns[name] = attrs.evolve(v, expr=c)
            big.append(c.abs() >= SAFE_SUM)
        else:
            assert v is not None  # noqa: S101
            columns[name] = _widen(attrs.evolve(v, expr=c))
    if rule.period is not None:
        columns["period_start"] = Val("day", nw.col("__pstart"))
        columns["period_end"] = Val("day", nw.col("__pend"))
    if big:
        flag = big[0]
        for b in big[1:]:
            flag = flag | b
        units = units.with_columns(flag.alias("__big"))
        escapes.append("__big")
    # per-batch parameters are the subject's batch's values, when it is keyed by batch
    if per_batch and "batch_id" in key_names:
        if batches is None:
            raise Unsupported("per-batch parameters without a batches table")
        key = f"__k{key_names.index('batch_id')}"
        units, batch_cols = _join_batch_values(
            units, batches, per_batch, scope.constants, left_on=key
        )
        columns.update(batch_cols)
    dscope = Scope(columns=columns, constants=scope.constants, shadowed=frozenset(), prefix="__ld")
    return UnitFrame(
        lf=units,
        scope=dscope,
        grouped=True,
        key_names=tuple(key_names),
        key_vals=tuple(key_vals),
        members=members,
        selected=lf,
        escape=tuple(escapes),
    )
