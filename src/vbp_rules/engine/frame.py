"""The frame engine: a pack's row work compiled to lazy narwhals expressions.

Row filters (``where``), grouping keys, periods and aggregates of every rule run as
DataFrame expressions on Polars (default), DuckDB, pandas, PyArrow, SQLFrame or
PySpark, on exact integer encodings (instants as epoch microseconds, dates as day
numbers, money as fen; see ``docs/frame.md``). The per-subject decisions, messages and
accounting are those of the reference engine applied to the aggregated subjects, so the
returned :class:`~vbp_rules.findings.Evaluation` is identical to the reference engine's.

A rule whose expressions fall outside the compiled subset is evaluated by the reference
engine and listed in the result's ``metadata`` under ``fallback_rules``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

import attrs
import narwhals as nw

from vbp_rules.calendar import WorkCalendar
from vbp_rules.engine._frame_backend import detect_backend, lazy_table, period_table, read_native
from vbp_rules.engine._frame_backend import to_backend as _to_backend
from vbp_rules.engine._frame_compile import Scope, Unsupported, Val, compile_node
from vbp_rules.engine._frame_ingest import (
    ROW,
    field_types,
    from_day,
    from_us,
    python_columns,
)
from vbp_rules.engine._functions import split_aggregate
from vbp_rules.engine.reference import (
    OutOfForcePolicy,
    _Evaluator,
    _period_of,
    _Unit,
    evaluation_settings,
)
from vbp_rules.facts import FACT_KINDS, FactSet
from vbp_rules.findings import Evaluation, Subject
from vbp_rules.packs.model import Rule
from vbp_rules.packs.pack import Pack

__all__ = ["FactsInput", "Prepared", "evaluate_frame", "prepare", "to_fact_set"]

FactsInput = FactSet | Mapping[str, Any]
"""A FactSet, or ``{kind: frame | path | rows}`` (frames of any narwhals backend)."""


def _native_rows(native: Any) -> list[dict[str, Any]]:
    frame = nw.from_native(native)
    if isinstance(frame, nw.LazyFrame):
        frame = frame.collect()
    rows: list[dict[str, Any]] = frame.rows(named=True)
    return rows


def to_fact_set(facts: FactsInput) -> tuple[FactSet, str | None]:
    """Validate input facts as the reference engine reads them; return the input backend.

    Frames are read row by row into the fact models, so rejects (naive timestamps,
    negative quantities, delivered > ordered, duplicate ids, missing fields) carry the
    same reasons as :func:`vbp_rules.facts.load_facts`.
    """
    if isinstance(facts, FactSet):
        return facts, None
    records: dict[str, Iterable[Any]] = {}
    backend: str | None = None
    for kind, value in facts.items():
        if isinstance(value, str | os.PathLike):
            value = read_native(value)  # noqa: PLW2901 - read the path in place
        found = detect_backend(value)
        if found is not None:
            backend = backend or found
            records[kind] = _native_rows(value)
        else:
            records[kind] = value
    return FactSet.from_records(records), backend


def _decode(v: Val, value: object) -> object:
    if value is None:
        return None
    if v.kind == "day":
        return from_day(int(value))  # type: ignore[call-overload]
    if v.kind == "instant":
        return from_us(int(value))  # type: ignore[call-overload]
    if v.kind == "num":
        from fractions import Fraction  # noqa: PLC0415

        n = int(value)  # type: ignore[call-overload]
        return n if v.den == 1 else Fraction(n, v.den)
    if v.kind == "bool":
        return bool(value)
    return value


class _FrameEvaluator(_Evaluator):
    """The reference evaluator with its row work (filter, group, aggregate) on frames."""

    def __init__(
        self,
        pack: Pack,
        facts: FactSet,
        *,
        tables: Mapping[str, nw.LazyFrame[Any]],
        backend: str,
        session: object,
        unit_cache: dict[tuple[object, ...], tuple[str | None, list[_Unit]]] | None = None,
        only_rules: frozenset[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(pack, facts, **kwargs)
        self.tables = tables
        self.backend = backend
        self.session = session
        self.fallback: dict[str, str] = {}
        self.compiled: list[str] = []
        self.unit_cache = unit_cache
        self.only_rules = only_rules
        self._periods: dict[str, nw.LazyFrame[Any]] = {}

    # -- compiled row work ------------------------------------------------------------
    def period_frame(self, unit: str) -> nw.LazyFrame[Any]:
        """``__pday -> __<unit>`` (period start) on this backend, built once per run."""
        found = self._periods.get(unit)
        if found is None:
            native = period_table().select("__pday", __pstart=f"__{unit}")
            found = self._periods[unit] = _to_backend(native, self.backend, self.session)
        return found

    def scope(self, kind: str) -> Scope:
        shadow = frozenset(self.per_batch) if "batch_id" in field_types(kind) else frozenset()
        return Scope(kind=kind, constants=self.base_env, shadowed=shadow)

    def compile(self, source: str, kind: str) -> Val:
        return compile_node(self.pack.expr(source).node, self.scope(kind))

    def selected(self, rule: Rule) -> nw.LazyFrame[Any]:
        assert rule.over is not None  # noqa: S101 - checked by the caller
        lf = self.tables[rule.over]
        if rule.where is None:
            return lf
        cond = self.compile(rule.where, rule.over)
        if cond.kind != "bool":
            return lf.filter(nw.lit(value=False))
        return lf.filter(cond.expr.fill_null(value=False))

    def units(self, rule: Rule) -> list[_Unit]:
        if self.only_rules is not None and rule.id not in self.only_rules:
            return []
        key = self._cache_key(rule)
        if key is not None and self.unit_cache is not None and key in self.unit_cache:
            fallback, cached = self.unit_cache[key]
            if fallback is not None:
                self.fallback[rule.id] = fallback
            else:
                self.compiled.append(rule.id)
            return [self._refresh(u) for u in cached]
        fallback = self.fallback.get(rule.id)
        if fallback is not None:
            out = super().units(rule)
        else:
            try:
                out = self._frame_units(rule)
            except Unsupported as exc:
                fallback = self.fallback[rule.id] = str(exc)
                out = super().units(rule)
            else:
                self.compiled.append(rule.id)
        if key is not None and self.unit_cache is not None:
            self.unit_cache[key] = (fallback, out)
        return out

    def _accounting(self) -> None:
        if self.only_rules is None:
            super()._accounting()

    def _exemption_leftovers(self) -> None:
        if self.only_rules is None:
            super()._exemption_leftovers()

    # -- sharing units across evaluations (what-if sweeps) ------------------------------
    def _cache_key(self, rule: Rule) -> tuple[object, ...] | None:
        """Units depend on the parameters their row expressions read, and nothing else."""
        if self.unit_cache is None or rule.over is None:
            return None
        params = self.pack.model.parameters
        if any(name in params for name in field_types(rule.over)):
            return None  # a field shadows a parameter: do not share
        sources = [rule.where or ""]
        for g in rule.group_by or []:
            if isinstance(g, dict):
                sources.extend(g.values())
        sources.extend((rule.aggregate or {}).values())
        names: set[str] = set()
        for src in sources:
            if src:
                text = src
                if src in (rule.aggregate or {}).values():
                    inner = split_aggregate(src)[1]
                    if inner is None:
                        continue
                    text = inner.source
                names |= self.pack.expr(text).names
        used = sorted(n for n in names if n in params or n == "as_of")
        return (rule.id, tuple((n, repr(self.base_env.get(n))) for n in used))

    def _refresh(self, unit: _Unit) -> _Unit:
        """A cached unit with this run's parameter values (per-batch values kept)."""
        env = dict(self.base_env)
        env.update({k: v for k, v in unit.env.items() if k not in self.base_env})
        self.batch_values(env)
        return _Unit(env=env, rows=unit.rows, subject=unit.subject, period=unit.period)

    def _frame_units(self, rule: Rule) -> list[_Unit]:
        assert rule.over is not None  # noqa: S101
        kind = rule.over
        lf = self.selected(rule)
        if not self.facts.rows(kind):
            return []  # no rows, no subjects (the expressions compiled above)
        if not (rule.group_by or rule.period):
            idx = lf.select(ROW).collect().get_column(ROW).to_list()
            idx.sort()
            rows = self.facts.rows(kind)
            return [self.row_unit(kind, rows[i], self._row_env(rows[i])) for i in idx]
        return self._grouped_units(rule, kind, lf)

    def _grouped_units(  # noqa: PLR0915 - one linear pipeline, split in a later revision
        self, rule: Rule, kind: str, lf: nw.LazyFrame[Any]
    ) -> list[_Unit]:
        scope = self.scope(kind)
        key_names: list[str] = []
        key_vals: list[Val] = []
        for g in rule.group_by or []:
            items = [(g, g)] if isinstance(g, str) else list(g.items())
            for name, src in items:
                v = compile_node(self.pack.expr(src).node, scope)
                if v.kind in ("duration", "null") or (v.kind == "num" and v.den != 1):
                    raise Unsupported(f"group key {name} of kind {v.kind}")
                key_names.append(name)
                key_vals.append(v)
        key_cols = [f"__k{i}" for i in range(len(key_vals))]
        lf = lf.with_columns(*[v.expr.alias(c) for v, c in zip(key_vals, key_cols, strict=True)])
        group_cols = list(key_cols)
        if rule.period is not None:
            pv = scope.column(rule.period.field)
            if pv.kind == "instant":
                pday = compile_node(self.pack.expr(f"local_date({rule.period.field})").node, scope)
            elif pv.kind == "day":
                pday = pv
            else:
                raise Unsupported(f"period field {rule.period.field} is a {pv.kind}")
            table = self.period_frame(rule.period.unit)
            lf = lf.with_columns(pday.expr.alias("__pday")).join(table, on="__pday", how="inner")
            group_cols.append("__pstart")
        aggs: list[tuple[str, str, Val | None]] = []
        agg_cols: list[nw.Expr] = []
        for i, (name, source) in enumerate((rule.aggregate or {}).items()):
            fn, inner = split_aggregate(source)
            col = f"__a{i}"
            if inner is None:
                aggs.append((name, fn, None))
                agg_cols.append(nw.len().alias(col))
                continue
            v = compile_node(inner.node, scope)
            lf = lf.with_columns(v.expr.alias(col))
            c = nw.col(col)
            if fn in ("count_if", "any", "all"):
                if v.kind not in ("bool", "null"):
                    raise Unsupported(f"{fn} of a {v.kind}")
                flag = c.fill_null(value=False).cast(nw.Int64)
                expr = flag.sum() if fn == "count_if" else flag.max() if fn == "any" else flag.min()
                agg_cols.append(expr.cast(nw.Int64).alias(col))
            elif fn == "sum":
                if v.kind != "num":
                    raise Unsupported(f"sum of a {v.kind}")
                agg_cols.append(c.sum().cast(nw.Int64).fill_null(0).alias(col))
            elif fn in ("min_of", "max_of"):
                if v.kind not in ("num", "day", "instant", "str"):
                    raise Unsupported(f"{fn} of a {v.kind}")
                agg_cols.append((c.min() if fn == "min_of" else c.max()).alias(col))
            else:
                raise Unsupported(f"aggregate {fn}")
            aggs.append((name, fn, v))
        lf = lf.with_columns(nw.col(ROW).min().over(*group_cols).alias("__unit"))
        grouped = (
            lf.group_by("__unit", *group_cols)
            .agg(*agg_cols, nw.len().alias("__n"))
            .sort("__unit")
            .collect()
            .to_dict(as_series=False)
        )
        members = lf.select("__unit", ROW, "id").sort("__unit", ROW).collect()
        unit_ids = members.get_column("__unit").to_list()
        ids = members.get_column("id").to_list()
        rows_by_unit: dict[int, list[tuple[str, str]]] = {}
        for u, rid in zip(unit_ids, ids, strict=True):
            rows_by_unit.setdefault(u, []).append((kind, rid))
        out: list[_Unit] = []
        for j, u in enumerate(grouped["__unit"]):
            key = [_decode(v, grouped[c][j]) for v, c in zip(key_vals, key_cols, strict=True)]
            env = dict(self.base_env)
            env.update(zip(key_names, key, strict=True))
            period = None
            if rule.period is not None:
                period = _period_of(from_day(int(grouped["__pstart"][j])), rule.period.unit)
                env["period_start"], env["period_end"] = period.start, period.end
            self.batch_values(env)
            for i, (name, fn, av) in enumerate(aggs):
                raw = grouped[f"__a{i}"][j]
                if av is None or fn == "count_if":
                    env[name] = int(raw)
                elif fn in ("any", "all"):
                    env[name] = bool(raw)
                else:
                    env[name] = _decode(av, raw)
            keys = tuple((k, str(x)) for k, x in zip(key_names, key, strict=True) if x is not None)
            out.append(
                _Unit(
                    env=env,
                    rows=tuple(rows_by_unit[u]),
                    subject=Subject(kind=kind, keys=keys),
                    period=period,
                )
            )
        return out


def encode_tables(
    facts: FactSet, backend: str, session: object = None
) -> dict[str, nw.LazyFrame[Any]]:
    """Every fact kind of ``facts`` as an encoded narwhals LazyFrame on ``backend``."""
    return {
        kind: lazy_table(python_columns(facts.rows(kind), kind), kind, backend, session)
        for kind in FACT_KINDS
    }


@attrs.define
class Prepared:
    """Facts validated and encoded once, to evaluate several packs (what-if) on them."""

    facts: FactSet
    tables: dict[str, nw.LazyFrame[Any]]
    backend: str
    session: object = None
    unit_cache: dict[tuple[object, ...], tuple[str | None, list[_Unit]]] | None = None


def prepare(
    facts: FactsInput | Prepared,
    *,
    backend: str | None = None,
    session: object = None,
    share_units: bool = False,
) -> Prepared:
    """Validate and encode facts for the frame engine (see :func:`evaluate_frame`).

    With ``share_units=True`` the grouped subjects of each rule are kept and reused by
    later evaluations whose row expressions read the same parameter values (a sweep).
    """
    if isinstance(facts, Prepared):
        return facts
    fs, found = to_fact_set(facts)
    chosen = backend or found or "polars"
    return Prepared(
        facts=fs,
        tables=encode_tables(fs, chosen, session),
        backend=chosen,
        session=session,
        unit_cache={} if share_units else None,
    )


def evaluate_frame(
    pack: Pack,
    facts: FactsInput | Prepared,
    *,
    as_of: datetime | date,
    interpretations: Mapping[str, str] | None = None,
    calendar: WorkCalendar | None = None,
    out_of_force: OutOfForcePolicy = "flag",
    backend: str | None = None,
    session: object = None,
    only_rules: Iterable[str] | None = None,
) -> Evaluation:
    """Evaluate a pack with the frame engine; the result equals the reference engine's.

    Args:
        pack: a loaded pack.
        facts: a FactSet, or ``{kind: frame | path | rows}``; frames may be Polars, DuckDB,
            pandas, PyArrow, SQLFrame or PySpark; paths are Parquet or CSV files; or a
            :class:`Prepared` from :func:`prepare`.
        as_of: the evaluation instant (a date means 24:00 of that day).
        interpretations: named readings of ambiguous clauses.
        calendar: the working-day calendar (default :meth:`WorkCalendar.china`).
        out_of_force: ``flag``, ``skip`` or ``error`` (as the reference engine).
        backend: where the row work runs (default: the input frames' backend, else Polars).
        session: a DuckDB connection, SparkSession or SQLFrame session for that backend.
        only_rules: evaluate only these rules (what-if); row accounting and exemption
            leftovers are then left out, so the result is partial.

    Returns:
        An :class:`Evaluation` with ``engine="frame"``; ``metadata`` adds ``backend``,
        ``compiled_rules`` and ``fallback_rules`` (rule id, reason).
    """
    settings = evaluation_settings(
        pack, as_of=as_of, interpretations=interpretations, calendar=calendar
    )
    cal = settings["calendar"]
    prep = prepare(facts, backend=backend, session=session)
    fs = prep.facts
    run = _FrameEvaluator(
        pack,
        fs,
        tables=prep.tables,
        backend=prep.backend,
        session=prep.session,
        unit_cache=prep.unit_cache,
        only_rules=frozenset(only_rules) if only_rules is not None else None,
        **settings,
        out_of_force=out_of_force,
    )
    if str(cal.tz) != "Asia/Shanghai":
        for rule in pack.rules:
            run.fallback[rule.id] = f"calendar zone {cal.tz} (compiled for Asia/Shanghai)"
    run.run()
    return run.result(
        "frame",
        metadata=(
            ("backend", prep.backend),
            ("compiled_rules", tuple(dict.fromkeys(run.compiled))),
            ("fallback_rules", tuple(sorted(run.fallback.items()))),
        ),
    )
