"""The frame engine: each rule's subjects and decisions as lazy narwhals expressions.

Row filters, grouping keys, periods, aggregates *and the decisions* (thresholds, tiers,
deadlines with working-day windows, determinations, reviews, exemptions, ``having``
filters and the skips they give) run as DataFrame expressions on Polars (default),
DuckDB, pandas, PyArrow, SQLFrame or PySpark, on exact integer encodings (instants as
epoch microseconds, dates as day numbers, money as fen, ratios as numerator and
denominator; see ``docs/frame.md``). Working-day arithmetic is a join with the
calendar's day table.

What a finding records (values, tier, actions, citation, messages, flags) is read back
from the decided columns with the shared semantics of :mod:`vbp_rules.engine.semantics`,
only when the findings are asked for. Subjects the columns cannot decide exactly (a
zero denominator, a date off the calendar, a sum too large to cross-multiply, an
out-of-force subject under ``out_of_force="skip"``) and rules outside the compiled
subset are decided by that shared semantics too, and listed in the result's
``metadata`` (``fallback_rules``); the result is identical either way.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

import attrs
import narwhals as nw

from vbp_rules.calendar import WorkCalendar
from vbp_rules.engine._frame_backend import (
    BACKENDS,
    detect_backend,
    lazy_table,
    period_table,
    read_native,
)
from vbp_rules.engine._frame_backend import to_backend as _to_backend
from vbp_rules.engine._frame_calendar import apply_lookups, day_tables, provisional_years
from vbp_rules.engine._frame_compile import Scope, Unsupported
from vbp_rules.engine._frame_decide import Lowered, ValueSpec, decode_number, lower_decision
from vbp_rules.engine._frame_ingest import (
    ROW,
    field_types,
    from_day,
    from_us,
    python_columns,
    to_python,
)
from vbp_rules.engine._frame_units import UNIT, UnitFrame, build_unit_frame, widening
from vbp_rules.engine.semantics import (
    FactRows,
    OutOfForcePolicy,
    Run,
    Unit,
    accounting_skip,
    evaluation_settings,
    infer_period,
    key_fields,
    pending_detail,
    period_of,
)
from vbp_rules.facts import FACT_KINDS, FactModel, FactSet, RejectedInput
from vbp_rules.findings import Evaluation, Finding, RowRef, Skip, Subject, sort_findings
from vbp_rules.packs.model import (
    ChangeBandRule,
    DeadlineRule,
    DeterminationRule,
    ExemptionRule,
    RelativeRule,
    Rule,
    StreakRule,
    ThresholdRule,
    TiersRule,
)
from vbp_rules.packs.pack import Pack
from vbp_rules.results import subject_key_columns

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


def encode_tables(
    facts: FactSet, backend: str, session: object = None
) -> dict[str, nw.LazyFrame[Any]]:
    """Every fact kind of ``facts`` as an encoded narwhals LazyFrame on ``backend``."""
    return {
        kind: lazy_table(python_columns(facts.rows(kind), kind), kind, backend, session)
        for kind in FACT_KINDS
    }


class _ColumnarFacts:
    """The accepted facts of a columnar load, decoded to fact models per kind on demand.

    Offers what the shared semantics read of a :class:`FactSet` (``rows``, ``rejects``,
    ``total_rows``); a large kind that only lowered rules read is never decoded.
    """

    def __init__(self, facts: Any) -> None:
        self.columnar = facts
        self._rejects: tuple[RejectedInput, ...] = tuple(facts.rejects)
        self._rows: dict[str, tuple[FactModel, ...]] = {}

    @property
    def rejects(self) -> tuple[RejectedInput, ...]:
        """The rejected inputs, as the row loader gives them."""
        return self._rejects

    def rows(self, kind: str) -> tuple[FactModel, ...]:
        found = self._rows.get(kind)
        if found is None:
            found = self._rows[kind] = tuple(self.columnar.rows_of(kind))
        return found

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = self.columnar.counts()
        return counts

    def total_rows(self) -> int:
        total: int = self.columnar.total_rows()
        return total


@attrs.define
class Prepared:
    """Facts validated and encoded once, to evaluate several packs (what-if) on them."""

    facts: FactSet | _ColumnarFacts
    tables: dict[str, nw.LazyFrame[Any]]
    backend: str
    session: object = None
    #: accepted for compatibility with earlier sweeps; subjects are not shared any more
    unit_cache: dict[tuple[object, ...], Any] | None = None


#: Eager frame libraries: their data is validated into Polars, which runs the plan.
_EAGER = frozenset({"pandas", "pyarrow"})


def _lazy_backend(name: str) -> str:
    """Where the plan runs: a lazy backend as given; pandas and PyArrow data on Polars."""
    if name in _EAGER:
        return "polars"
    if name not in BACKENDS:
        msg = f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}"
        raise ValueError(msg)
    return name


def prepare(
    facts: FactsInput | Prepared | str | os.PathLike[str],
    *,
    backend: str | None = None,
    session: object = None,
    share_units: bool = False,  # noqa: ARG001 - kept for callers of the earlier API
) -> Prepared:
    """Validate and encode facts for the frame engine (see :func:`evaluate_frame`).

    Paths (files or folders), frames and rows are validated by columns
    (:func:`vbp_rules.facts.columnar.scan_facts`): only rejected rows become Python
    objects. A :class:`FactSet` is encoded from its models.
    """
    if isinstance(facts, Prepared):
        return facts
    if isinstance(facts, FactSet):
        chosen = _lazy_backend(backend or "polars")
        return Prepared(
            facts=facts,
            tables=encode_tables(facts, chosen, session),
            backend=chosen,
            session=session,
        )
    from vbp_rules.facts.columnar import scan_facts  # noqa: PLC0415 - needs the frame extra

    found = None
    if isinstance(facts, Mapping):
        for value in facts.values():
            found = found or detect_backend(value)
    columnar = scan_facts(facts)
    chosen = _lazy_backend(backend or found or "polars")
    tables = {
        kind: _to_backend(columnar.tables[kind].drop("__src_row"), chosen, session)
        for kind in FACT_KINDS
    }
    return Prepared(facts=_ColumnarFacts(columnar), tables=tables, backend=chosen, session=session)


@attrs.define
class _Decided:
    """One lowered rule: its decided subjects (collected) and how to read them."""

    rule: Rule
    kind: str
    uf: UnitFrame
    lowered: Lowered
    frame: Any  # a narwhals DataFrame, one row per subject
    #: subjects decided by the shared semantics: __unit -> (findings, skips)
    python: dict[int, tuple[list[Finding], list[Skip]]]
    members: dict[int, tuple[RowRef, ...]] | None = None


class _FrameRun(Run):
    """One frame-engine evaluation: lowered rules, and the shared semantics for the rest."""

    def __init__(
        self,
        pack: Pack,
        facts: FactRows,
        *,
        tables: Mapping[str, nw.LazyFrame[Any]],
        backend: str,
        session: object,
        only_rules: frozenset[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(pack, facts, **kwargs)
        self.tables = tables
        self.backend = backend
        self.session = session
        self.only_rules = only_rules
        self.fallback: dict[str, str] = {}
        self.compiled: list[str] = []
        self.decided: list[_Decided] = []
        # skips in the reference engine's order: Python skips and lowered rules' skips
        self.segments: list[list[Skip] | _Decided] = []
        self._periods: dict[str, nw.LazyFrame[Any]] = {}
        self._days: tuple[nw.LazyFrame[Any], nw.LazyFrame[Any], nw.LazyFrame[Any]] | None = None
        self.provisional_set = provisional_years(self.calendar)

    # -- backend tables -------------------------------------------------------------------
    def period_frame(self, unit: str) -> nw.LazyFrame[Any]:
        """``__pday -> __pstart`` (the period's first day) on this backend."""
        found = self._periods.get(unit)
        if found is None:
            native = period_table().select("__pday", __pstart=f"__{unit}", __pend=f"__{unit}_end")
            found = self._periods[unit] = _to_backend(native, self.backend, self.session)
        return found

    def day_frames(self) -> tuple[nw.LazyFrame[Any], nw.LazyFrame[Any], nw.LazyFrame[Any]]:
        """The calendar's day table, working-day index and month table on this backend."""
        if self._days is None:
            days, wdays, months = day_tables(self.calendar)
            self._days = (
                _to_backend(days, self.backend, self.session),
                _to_backend(wdays, self.backend, self.session),
                _to_backend(months, self.backend, self.session),
            )
        return self._days

    def lookups(self, lf: nw.LazyFrame[Any], scope: Scope) -> nw.LazyFrame[Any]:
        return apply_lookups(lf, scope, *self.day_frames())

    # -- the run ------------------------------------------------------------------------
    def run(self) -> None:
        for rule in self.pack.rules:
            if self.only_rules is not None and rule.id not in self.only_rules:
                continue
            mark = len(self.skips)
            if not self._active(rule) or isinstance(rule, ExemptionRule) or rule.over is None:
                self._run_python(rule)
            else:
                try:
                    with widening(self.backend):
                        decided = self._lower(rule)
                except Unsupported as exc:
                    self.fallback[rule.id] = str(exc)
                    self._run_python(rule)
                else:
                    self.compiled.append(rule.id)
                    self.decided.append(decided)
                    self.segments.append(decided)
                    continue
            self.segments.append(self.skips[mark:])
        if self.only_rules is None:
            self.segments.append(self._leftovers())
            self.segments.append(self._unread())

    def _run_python(self, rule: Rule) -> None:
        """One rule decided wholly by the shared semantics (as the reference engine does)."""
        self.run_rule(rule)

    def _lower(self, rule: Rule) -> _Decided:
        assert rule.over is not None  # noqa: S101
        kind = rule.over
        if str(self.calendar.tz) != "Asia/Shanghai":
            raise Unsupported(f"calendar zone {self.calendar.tz} (compiled for Asia/Shanghai)")
        uf = build_unit_frame(
            self.pack,
            rule,
            self.tables[kind],
            constants=self.base_env,
            per_batch=self.per_batch,
            batches=self.tables["batches"],
            period_frame=self.period_frame,
            apply_lookups=self.lookups,
        )
        if "__off_calendar" in uf.selected.collect_schema().names():
            off = uf.selected.filter(nw.col("__off_calendar")).select(ROW).head(1).collect()
            if len(off):
                raise Unsupported("a filter reads a day off the calendar")
        exemptions = [(ex, self._events(ex)) for ex in self.exemptions.get(rule.id, ())]
        lowered = lower_decision(
            self.pack,
            rule,
            uf,
            parameters=self.base_env,
            exemptions=exemptions,
            provisional_years=self.provisional_set,
        )
        lf = self.lookups(uf.lf, lowered.scope).with_columns(*lowered.exprs)
        if lowered.after is not None:
            lf = lowered.after(lf)
        if lowered.value_exprs:
            lf = lf.with_columns(*lowered.value_exprs)
        lf = self._escape_lookups(lf, lowered.scope)
        if self.out_of_force != "flag" and self._may_be_out_of_force():
            lf = lf.with_columns(
                nw.when(nw.col("__status").is_in(["breach", "compliant", "determination"]))
                .then(nw.lit("python", dtype=nw.String))
                .otherwise(nw.col("__status"))
                .alias("__status")
            )
        frame = lf.select(*self._kept_columns(rule, uf, lowered)).collect()
        if lowered.after is not None and (frame.get_column("__status") == "python").any():
            raise Unsupported("a subject the columns cannot decide, in a rule over all subjects")
        decided = _Decided(rule=rule, kind=kind, uf=uf, lowered=lowered, frame=frame, python={})
        self._decide_python(decided)
        return decided

    def _kept_columns(self, rule: Rule, uf: UnitFrame, lowered: Lowered) -> list[str]:
        """What reading a subject back needs: its keys, period, status and values."""
        cols = [UNIT, "__status", "__detail", "__case", "__ev", "__prov", *lowered.sort]
        if uf.grouped:
            cols += [f"__k{i}" for i in range(len(uf.key_names))]
            if rule.period is not None:
                cols.append("__pstart")
        else:
            assert rule.over is not None  # noqa: S101
            types = field_types(rule.over)
            cols += [k for k in key_fields() if k in types]
            if types.get("period_start") == "day" and types.get("period_end") == "day":
                cols += ["period_start", "period_end"]
        cols += [f"__e{i}" for i in range(len(lowered.events))]
        specs = [*lowered.values, *(s for v in lowered.case_values.values() for s in v)]
        for spec in specs:
            if spec.kind != "const":
                cols.append(spec.column)
                if spec.den is None:
                    cols.append(f"{spec.column}_d")
        return list(dict.fromkeys(cols))

    def _may_be_out_of_force(self) -> bool:
        return self.pack.model.status != "draft" and self.pack.model.in_force is not None

    def _escape_lookups(self, lf: nw.LazyFrame[Any], scope: Scope) -> nw.LazyFrame[Any]:
        """Subjects with a day off the calendar are decided by the shared semantics."""
        if not scope.lookups:
            return lf
        bad: nw.Expr = nw.lit(value=False)
        for lk in scope.lookups:
            if lk.field == "derived":
                continue
            bad = bad | (~nw.col(f"{lk.column}__in").is_null() & nw.col(lk.column).is_null())
        return lf.with_columns(
            nw.when(bad.fill_null(value=False))
            .then(nw.lit("python", dtype=nw.String))
            .otherwise(nw.col("__status"))
            .alias("__status")
        )

    def _decide_python(self, d: _Decided) -> None:
        units = d.frame.filter(nw.col("__status") == "python").get_column(UNIT).to_list()
        if not units:
            return
        rows = self.facts.rows(d.kind)
        if d.uf.grouped:
            members = self._member_rows(d, [int(u) for u in units])
            for u in units:
                selected = [(rows[i], self._row_env(rows[i])) for i in members[int(u)]]
                for unit in self._grouped(d.rule, d.kind, selected):
                    d.python[int(u)] = self._capture(d.rule, unit)
        else:
            for u in units:
                row = rows[int(u)]
                unit = self.row_unit(d.kind, row, self._row_env(row))
                d.python[int(u)] = self._capture(d.rule, unit)

    def _capture(self, rule: Rule, unit: Unit) -> tuple[list[Finding], list[Skip]]:
        nf, ns = len(self.findings), len(self.skips)
        self.one(rule, unit)
        out = (self.findings[nf:], self.skips[ns:])
        del self.findings[nf:]
        del self.skips[ns:]
        return out

    def _member_rows(self, d: _Decided, units: list[int] | None = None) -> dict[int, list[int]]:
        lf = d.uf.members.select(UNIT, ROW)
        if units is not None:
            lf = lf.filter(nw.col(UNIT).is_in(units))
        m = lf.sort(UNIT, ROW).collect()
        out: dict[int, list[int]] = {}
        for u, r in zip(m.get_column(UNIT).to_list(), m.get_column(ROW).to_list(), strict=True):
            out.setdefault(int(u), []).append(int(r))
        return out

    # -- reading decided subjects back ------------------------------------------------------
    def materialize(self) -> tuple[list[Finding], list[Skip]]:
        """Every finding and skip, as the reference engine builds them."""
        findings = list(self.findings)
        skips: list[Skip] = []
        for seg in self.segments:
            if isinstance(seg, list):
                skips.extend(seg)
                continue
            f, s = self._read(seg)
            findings.extend(f)
            skips.extend(s)
        return findings, skips

    def _read(self, d: _Decided) -> tuple[list[Finding], list[Skip]]:
        findings: list[Finding] = []
        skips: list[Skip] = []
        kind = d.kind
        if d.uf.grouped and d.members is None:
            ids = [r.id for r in self.facts.rows(kind)]
            d.members = {
                u: tuple((kind, ids[i]) for i in rows) for u, rows in self._member_rows(d).items()
            }
        for rec in d.frame.sort(*(d.lowered.sort or (UNIT,))).iter_rows(named=True):
            u = int(rec[UNIT])
            status = rec["__status"]
            if status == "python":
                f, s = d.python[u]
                findings.extend(f)
                skips.extend(s)
                continue
            unit = self._unit_of(d, rec)
            if status.startswith("skip:"):
                skips.append(self._skip_of(d, rec, unit, status[5:]))
            else:
                findings.append(self._finding_of(d, rec, unit, status))
        return findings, skips

    def _unit_of(self, d: _Decided, rec: Mapping[str, Any]) -> Unit:
        kind = d.kind
        if not d.uf.grouped:
            keys = tuple(
                (k, v if type(v) is str else str(v))
                for k in key_fields()
                if k in rec and (v := to_python(kind, k, rec[k])) is not None
            )
            period = None
            types = field_types(kind)
            if types.get("period_start") == "day" and types.get("period_end") == "day":
                ps, pe = rec.get("period_start"), rec.get("period_end")
                if ps is not None and pe is not None:
                    period = infer_period(from_day(int(ps)), from_day(int(pe)))
            rid = rec["id"]
            return Unit(
                env={}, rows=((kind, rid),), subject=Subject(kind=kind, keys=keys), period=period
            )
        keys_out = []
        for i, (name, v) in enumerate(zip(d.uf.key_names, d.uf.key_vals, strict=True)):
            raw = rec[f"__k{i}"]
            if raw is None:
                continue
            value = _decode_kind(v.kind, raw)
            keys_out.append((name, str(value)))
        period = None
        if d.rule.period is not None:
            period = period_of(from_day(int(rec["__pstart"])), d.rule.period.unit)
        assert d.members is not None  # noqa: S101
        return Unit(
            env={},
            rows=d.members[int(rec[UNIT])],
            subject=Subject(kind=kind, keys=tuple(keys_out)),
            period=period,
        )

    def _skip_of(self, d: _Decided, rec: Mapping[str, Any], unit: Unit, reason: str) -> Skip:
        rule = d.rule
        if reason == "exempted":
            found = self._credited(d, rec)
            by_rule: dict[str, list[str]] = {}
            for ex, event in found:
                by_rule.setdefault(ex.id, []).append(event.id)
            detail = "; ".join(
                f"{ex_id} (event{'s' if len(ids) > 1 else ''} {', '.join(ids)})"
                for ex_id, ids in by_rule.items()
            )
            return Skip(
                pack_id=self.pack.id,
                rule_id=rule.id,
                reason="exempted",
                detail=f"exempted by {detail}",
                subject=unit.subject,
                period=unit.period,
                exemption=found[0][0].id,
                rows=(*unit.rows, *((str(ex.over), event.id) for ex, event in found)),
            )
        detail = rec["__detail"]
        if detail is None:
            detail = self._late_detail(d, rec, reason)
        return Skip(
            pack_id=self.pack.id,
            rule_id=rule.id,
            reason=reason,  # type: ignore[arg-type]
            detail=detail,
            subject=unit.subject,
            period=unit.period,
            rows=unit.rows,
        )

    def _credited(
        self, d: _Decided, rec: Mapping[str, Any]
    ) -> list[tuple[ExemptionRule, FactModel]]:
        """Every event that exempts the subject, in pack order then event id order."""
        found = [pair for i, pair in enumerate(d.lowered.events) if rec.get(f"__e{i}")]
        return sorted(found, key=lambda p: (self._exemption_order[p[0].id], p[1].id))

    def _late_detail(self, d: _Decided, rec: Mapping[str, Any], reason: str) -> str:
        rule = d.rule
        if reason == "pending":
            due = self._value(d, rec, "due")
            assert isinstance(due, datetime)  # noqa: S101
            return pending_detail(due, self.as_of)
        if reason == "missing_fact" and isinstance(rule, DeterminationRule):
            cases = [*rule.cases, *([rule.otherwise] if rule.otherwise else [])]
            return f"case condition ({cases[int(rec['__case'])].when}) is null"
        msg = f"no detail for a {reason} skip of {rule.id}"  # pragma: no cover
        raise AssertionError(msg)

    def _specs(self, d: _Decided, rec: Mapping[str, Any]) -> tuple[ValueSpec, ...]:
        case = rec.get("__case")
        if case is not None and int(case) in d.lowered.case_values:
            return d.lowered.case_values[int(case)]
        return d.lowered.values

    def _value(self, d: _Decided, rec: Mapping[str, Any], name: str) -> object:
        for spec in self._specs(d, rec):
            if spec.name == name:
                return _decode_value(spec, rec)
        raise KeyError(name)

    def _finding_of(self, d: _Decided, rec: Mapping[str, Any], unit: Unit, outcome: str) -> Finding:
        rule = d.rule
        values = {s.name: _decode_value(s, rec) for s in self._specs(d, rec)}
        self.ctx.years.clear()
        if rec.get("__prov"):
            self.ctx.years.add(min(self.provisional_set))
        kwargs: dict[str, Any] = {}
        if isinstance(rule, ThresholdRule):
            if rule.condition is None:
                kwargs["bound"] = rule.breach_if or rule.require
        elif isinstance(rule, TiersRule):
            tier = rule.tiers[int(rec["__case"])]
            kwargs.update(
                actions=tier.actions,
                tier=tier.id,
                bound=tier.upper or tier.lower,
                label=tier.label.en if tier.label else "",
            )
        elif isinstance(rule, DeadlineRule):
            due = values["due"]
            start = values.get("start")
            anchor = start if start is not None else due
            reference = self.calendar.local_date(anchor) if isinstance(anchor, datetime) else anchor
            kwargs["reference"] = reference if isinstance(reference, date) else None
            if values["end"] is None:
                values = {**values, "as_of": self.as_of}
                kwargs["label"] = "absent at as_of"
            else:
                kwargs["operator"] = "<="
        elif isinstance(rule, StreakRule | RelativeRule):
            kwargs["bound"] = rule.breach_if
        elif isinstance(rule, ChangeBandRule):
            case = rec.get("__case")
            if case is not None:
                side = rule.decrease if int(case) == 0 else rule.increase
                acts = rule.decrease_actions if int(case) == 0 else rule.increase_actions
                kwargs.update(
                    actions=acts or rule.actions,
                    tier="decrease" if int(case) == 0 else "increase",
                    bound=side,
                )
        elif isinstance(rule, DeterminationRule):
            if outcome == "needs_review":
                values = {}
                kwargs.update(label="not determined by the source", actions=("needs_review",))
            else:
                cases = [*rule.cases, *([rule.otherwise] if rule.otherwise else [])]
                case = cases[int(rec["__case"])]
                label = case.label.en if case.label else ""
                kwargs.update(actions=case.actions or rule.actions, label=label, tier=label or None)
        nf = len(self.findings)
        self.emit(rule, unit, outcome, values=values, **kwargs)  # type: ignore[arg-type]
        found = self.findings[nf]
        del self.findings[nf:]
        return found

    # -- accounting ------------------------------------------------------------------------
    def _used_events(self) -> set[RowRef]:
        used: set[RowRef] = set()
        for seg in self.segments:
            if isinstance(seg, list):
                used.update(r for s in seg if s.reason == "exempted" for r in s.rows)
                continue
            for f, s in seg.python.values():
                del f
                used.update(r for sk in s if sk.reason == "exempted" for r in sk.rows)
            if seg.lowered.events:
                exempted = seg.frame.filter(nw.col("__status") == "skip:exempted")
                for i, (ex, event) in enumerate(seg.lowered.events):
                    if exempted.get_column(f"__e{i}").any():
                        used.add((str(ex.over), event.id))
        return used

    def _leftovers(self) -> list[Skip]:
        used = self._used_events()
        out = []
        for rule in self.pack.rules:
            if isinstance(rule, ExemptionRule) and self._active(rule) and rule.over is not None:
                for event in self._events(rule):
                    ref = (rule.over, event.id)
                    if ref not in used:
                        out.append(
                            Skip(
                                pack_id=self.pack.id,
                                rule_id=rule.id,
                                reason="not_applicable",
                                detail="the exemption event matched no assessed subject",
                                rows=(ref,),
                            )
                        )
        return out

    def _unread(self) -> list[Skip]:
        """Accounting: a skip for every accepted row no finding or skip references.

        Every member of a lowered rule's subject is in that subject's finding or skip, so
        a kind's unread rows are an anti-join of its table with the members' rows.
        """
        seen: set[RowRef] = set()
        read: dict[str, list[nw.LazyFrame[Any]]] = {}
        for seg in self.segments:
            if isinstance(seg, list):
                for s in seg:
                    seen.update(s.rows)
                continue
            read.setdefault(seg.kind, []).append(seg.uf.selected.select(ROW))
            for fs, sk in seg.python.values():
                for x in fs:
                    seen.update(x.rows)
                for y in sk:
                    seen.update(y.rows)
        for f in self.findings:
            seen.update(f.rows)
        # every event an exemption's filter keeps is in an exempted skip or a leftover skip
        for rule in self.pack.rules:
            if isinstance(rule, ExemptionRule) and self._active(rule) and rule.over is not None:
                seen.update((rule.over, e.id) for e in self._events(rule))
        out: list[Skip] = []
        for kind in FACT_KINDS:
            table = self.tables[kind].select(ROW, "id")
            frames = read.get(kind)
            if frames:
                members = nw.concat(frames, how="vertical").unique(ROW)
                table = table.join(members, on=ROW, how="anti")
            ids = table.sort(ROW).collect().get_column("id").to_list()
            out.extend(
                accounting_skip(self.pack, kind, rid) for rid in ids if (kind, rid) not in seen
            )
        return out


def _decode_kind(kind: str, raw: Any) -> object:
    if raw is None:
        return None
    if kind == "day":
        return from_day(int(raw))
    if kind == "instant":
        return from_us(int(raw))
    if kind == "num":
        return int(raw)
    if kind == "bool":
        return bool(raw)
    return raw


def _decode_value(spec: ValueSpec, rec: Mapping[str, Any]) -> object:
    if spec.kind == "const":
        return spec.const
    raw = rec[spec.column]
    if raw is None:
        return None
    if spec.kind == "num":
        d = rec[f"{spec.column}_d"] if spec.den is None else spec.den
        return decode_number(spec, raw, d)
    return _decode_kind(spec.kind, raw)


_FINDING_STATUSES = ("breach", "compliant", "determination", "needs_review")


class _Results:
    """A frame run's findings and skips, materialised (once) only when asked for."""

    def __init__(self, run: _FrameRun) -> None:
        self.run = run
        self._objects: tuple[tuple[Finding, ...], tuple[Skip, ...]] | None = None
        self._status: list[dict[str, int]] | None = None

    def objects(self) -> tuple[tuple[Finding, ...], tuple[Skip, ...]]:
        if self._objects is None:
            findings, skips = self.run.materialize()
            self._objects = (sort_findings(findings), tuple(skips))
        return self._objects

    def status_counts(self) -> list[dict[str, int]]:
        """Per lowered rule: subjects by status (no objects built)."""
        if self._status is None:
            out = []
            for d in self.run.decided:
                c = d.frame.group_by("__status").agg(nw.len().alias("n"))
                out.append(
                    dict(
                        zip(
                            c.get_column("__status").to_list(),
                            (int(n) for n in c.get_column("n").to_list()),
                            strict=True,
                        )
                    )
                )
            self._status = out
        return self._status

    def rule_counts(self, outcome: str) -> dict[str, int]:
        """Findings of one outcome per rule, from the columns (no objects built)."""
        run = self.run
        out: dict[str, int] = {}
        for d, by in zip(run.decided, self.status_counts(), strict=True):
            n = by.get(outcome, 0) + sum(
                1 for f, _ in d.python.values() for x in f if x.outcome == outcome
            )
            out[d.rule.id] = out.get(d.rule.id, 0) + n
        for x in run.findings:
            if x.outcome == outcome:
                out[x.rule_id] = out.get(x.rule_id, 0) + 1
        return out

    def counts(self, *, findings: bool) -> dict[str, int]:
        total: dict[str, int] = {}

        def add(key: str, n: int = 1) -> None:
            total[key] = total.get(key, 0) + n

        run = self.run
        for d, by in zip(run.decided, self.status_counts(), strict=True):
            for status, n in by.items():
                if status == "python":
                    continue
                if findings and status in _FINDING_STATUSES:
                    add(status, n)
                elif not findings and status.startswith("skip:"):
                    add(status[5:], n)
            for f, sk in d.python.values():
                for x in f if findings else ():
                    add(x.outcome)
                for y in () if findings else sk:
                    add(y.reason)
        if findings:
            for x in run.findings:
                add(x.outcome)
        else:
            for seg in run.segments:
                if isinstance(seg, list):
                    for y in seg:
                        add(y.reason)
        return total


@attrs.frozen
class _FindingTable:
    """The findings of a frame run as a :class:`~vbp_rules.results.TableSource`."""

    results: _Results
    key_columns: tuple[str, ...]

    def __len__(self) -> int:
        return sum(self.results.counts(findings=True).values())

    def counts(self) -> dict[str, int]:
        return self.results.counts(findings=True)

    def rule_counts(self, outcome: str = "breach") -> dict[str, int]:
        """Findings of ``outcome`` per rule, without building finding objects."""
        return self.results.rule_counts(outcome)

    def materialize(self) -> tuple[Finding, ...]:
        return self.results.objects()[0]

    def to_arrow(self) -> Any:
        from vbp_rules.results import findings_to_arrow  # noqa: PLC0415

        return findings_to_arrow(self.materialize(), self.key_columns)


@attrs.frozen
class _SkipTable:
    """The skips of a frame run as a :class:`~vbp_rules.results.TableSource`."""

    results: _Results
    key_columns: tuple[str, ...]

    def __len__(self) -> int:
        return sum(self.results.counts(findings=False).values())

    def counts(self) -> dict[str, int]:
        return self.results.counts(findings=False)

    def materialize(self) -> tuple[Skip, ...]:
        return self.results.objects()[1]

    def to_arrow(self) -> Any:
        from vbp_rules.results import skips_to_arrow  # noqa: PLC0415

        return skips_to_arrow(self.materialize(), self.key_columns)


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
    prep = prepare(facts, backend=backend, session=session)
    run = _FrameRun(
        pack,
        prep.facts,
        tables=prep.tables,
        backend=prep.backend,
        session=prep.session,
        only_rules=frozenset(only_rules) if only_rules is not None else None,
        **settings,
        out_of_force=out_of_force,
    )
    run.run()
    results = _Results(run)
    keys = subject_key_columns(pack)
    return Evaluation(
        pack_id=pack.id,
        as_of=run.as_of,
        engine="frame",
        findings=_FindingTable(results, keys),
        skips=_SkipTable(results, keys),
        rejects=tuple(prep.facts.rejects),
        interpretations=tuple(sorted(run.interpretations.items())),
        input_rows=prep.facts.total_rows(),
        metadata=(
            ("issuer", pack.issuer),
            ("lineage", pack.lineage()),
            ("backend", prep.backend),
            ("compiled_rules", tuple(dict.fromkeys(run.compiled))),
            ("fallback_rules", tuple(sorted(run.fallback.items()))),
        ),
        key_columns=keys,
    )


__all__ += ["encode_tables"]
