"""The meaning of every rule kind, once: the per-subject decisions all engines share.

:class:`Run` holds one evaluation's settings (pack, as-of instant, calendar, readings)
and decides subjects (:class:`Unit`: a rule's subject, its expression environment and
the rows behind it): thresholds, tiers, change bands, deadlines, streaks, relative
levels, exemptions, determinations and reviews, with their findings, skips, messages,
citations and flags. The executors supply the units: the reference engine
(:mod:`vbp_rules.engine.reference`) row by row, the frame engine from frames (and it
lowers most decisions to columns, falling back to these for the rest), the stream
engine incrementally. See ``docs/engines.md`` for each rule kind's meaning.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from fractions import Fraction
from typing import Any, Literal, Protocol, cast

import attrs

from vbp_rules.calendar import WorkCalendar, add_months, ensure_aware, month_end
from vbp_rules.engine._functions import CalendarContext
from vbp_rules.engine._messages import fmt, label_zh_of, pending_detail, value_forms
from vbp_rules.errors import (
    CalendarError,
    ExpressionError,
    ExpressionTypeError,
    OutOfForceError,
    PackValidationError,
    ProvisionalYearError,
    VbpRulesError,
)
from vbp_rules.expr import FunctionSpec, NotApplicable, to_fraction
from vbp_rules.facts import FACT_KINDS, FactModel, RejectedInput
from vbp_rules.findings import (
    Citation,
    Evaluation,
    Finding,
    Outcome,
    Period,
    RowRef,
    Skip,
    SkipReason,
    Subject,
    sort_findings,
)
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
from vbp_rules.results import subject_key_columns
from vbp_rules.vocab import BOUND_WORDS, compare

__all__ = [
    "REFERENCE_KINDS",
    "FactRows",
    "OutOfForcePolicy",
    "Run",
    "Unit",
    "accounting_skip",
    "accounting_skips",
    "build_period",
    "evaluation_settings",
    "format_display",
    "infer_period",
    "key_fields",
    "pending_detail",
    "period_of",
    "resolve_as_of",
    "resolve_interpretations",
    "unsupported_skips",
]

OutOfForcePolicy = Literal["flag", "skip", "error"]

#: Fields that identify a row-level subject, in the order they are reported.
_KEY_FIELDS = (
    "id",
    "batch_id",
    "institution_id",
    "county_medical_community_id",
    "enterprise_id",
    "product_id",
    "generic_name",
)


class FactRows(Protocol):
    """What the shared semantics read of facts: a :class:`FactSet`, or a columnar view."""

    @property
    def rejects(self) -> tuple[RejectedInput, ...]:
        """The rejected inputs."""
        ...  # pragma: no cover - protocol

    def rows(self, kind: str) -> tuple[FactModel, ...]:
        """The accepted rows of one kind, as fact models."""
        ...  # pragma: no cover - protocol

    def total_rows(self) -> int:
        """Accepted rows plus rejected inputs."""
        ...  # pragma: no cover - protocol


class _Missing(Exception):  # noqa: N818 - internal signal
    def __init__(self, what: str) -> None:
        self.what = what
        super().__init__(what)


class _NotConfigured(Exception):  # noqa: N818 - internal signal
    def __init__(self, parameter: str) -> None:
        self.parameter = parameter
        super().__init__(parameter)


#: Fact kinds that describe who (names, levels, communities) rather than
#: events to assess; rows no rule reads are accounted as reference data.
REFERENCE_KINDS = frozenset({"institutions", "enterprises"})


#: The signals that leave a subject undecided (each becomes a skip with its reason).
class _Undecidable(Exception):  # noqa: N818 - internal signal
    """A subject the rule cannot decide: the detail names the value or row at fault."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


# A CalendarError while deciding one subject (a date beyond the calendar) costs that
# subject a skip, never the run.
_UNDECIDED = (NotApplicable, _Missing, _NotConfigured, _Undecidable, CalendarError)


@attrs.define(kw_only=True, slots=True)
class Unit:
    """One subject of one rule: its expression environment and the rows behind it."""

    env: dict[str, object]
    rows: tuple[RowRef, ...]
    subject: Subject
    period: Period | None
    #: why the subject cannot be decided (an aggregate failed on one of its rows)
    problem: str | None = None


def resolve_as_of(as_of: datetime | date, calendar: WorkCalendar) -> datetime:
    """An aware instant for ``as_of``; a date means the end of that day (24:00).

    Raises:
        NaiveDatetimeError: a naive datetime.
    """
    if isinstance(as_of, datetime):
        return ensure_aware(as_of)
    try:
        return datetime.combine(as_of + timedelta(days=1), time(0), tzinfo=calendar.tz)
    except OverflowError:
        raise CalendarError(f"as_of {as_of.isoformat()} is out of range") from None


def resolve_interpretations(pack: Pack, chosen: Mapping[str, str] | None) -> dict[str, str]:
    """The pack's default readings with the caller's choices applied.

    Raises:
        PackValidationError: an unknown interpretation or option.
    """
    out = {name: i.default for name, i in pack.model.interpretations.items()}
    problems = []
    for name, option in (chosen or {}).items():
        interp = pack.model.interpretations.get(name)
        if interp is None:
            known = ", ".join(sorted(pack.model.interpretations)) or "none"
            problems.append(
                (
                    f"interpretations.{name}",
                    f"pack {pack.id} has no interpretation {name!r} (known: {known})",
                )
            )
        elif option not in interp.options:
            problems.append(
                (
                    f"interpretations.{name}",
                    f"{option!r} is not an option; choose one of {sorted(interp.options)}",
                )
            )
        else:
            out[name] = option
    if problems:
        raise PackValidationError(problems, pack_id=pack.id)
    return out


def key_fields() -> tuple[str, ...]:
    """The fields that identify a row-level subject, in the order they are reported."""
    return _KEY_FIELDS


def infer_period(start: date, end: date) -> Period:
    """The period a row's ``period_start``/``period_end`` name (month, quarter, year, range)."""
    return Period(start=start, end=end, unit=_infer_unit(start, end))


@functools.lru_cache(maxsize=8192)
def _infer_unit(start: date, end: date) -> str:
    if start.day == 1 and end == month_end(end):
        months = (end.year - start.year) * 12 + end.month - start.month + 1
        if months == 1:
            return "month"
        if months == 3 and start.month in (1, 4, 7, 10):
            return "quarter"
        if months == 12 and start.month == 1:
            return "year"
    return "range"


#: Periods already built, keyed by the day's type too (a date subclass keeps its type).
_PERIODS: dict[tuple[type, date, str], Period] = {}


def period_of(day: date, unit: str) -> Period:
    """The month, quarter or year a day falls in."""
    key = (type(day), day, unit)
    found = _PERIODS.get(key)
    if found is None:
        if len(_PERIODS) >= 8192:
            _PERIODS.clear()
        found = _PERIODS[key] = build_period(day, unit)
    return found


def build_period(day: date, unit: str) -> Period:
    if unit == "month":
        start = day.replace(day=1)
    elif unit == "quarter":
        start = date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    else:
        start = date(day.year, 1, 1)
    months = {"month": 0, "quarter": 2}.get(unit, 11)
    return Period(start=start, end=month_end(add_months(start, months)), unit=unit)


def _why(exc: Exception) -> str:
    return exc.reason if isinstance(exc, NotApplicable) else str(exc)


#: Display text of a value in a form (``fmt`` of :mod:`vbp_rules.engine._messages`).
format_display = fmt


_HEAD_EN = {
    "breach": "breach",
    "compliant": "compliant",
    "determination": "determined",
    "needs_review": "needs review",
}
_HEAD_ZH = {
    "breach": "触发",
    "compliant": "符合",
    "determination": "认定",
    "needs_review": "需人工研判",
}

_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


def _render(
    template: str, values: Mapping[str, object], forms: Mapping[str, str] | None = None
) -> str:
    shown = forms or {}

    def one(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in values:
            return m.group(0)
        return format_display(values[name], shown.get(name))

    return _PLACEHOLDER.sub(one, template)


class Run:
    """One evaluation run of one pack over one fact set."""

    def __init__(
        self,
        pack: Pack,
        facts: FactRows,
        *,
        as_of: datetime,
        calendar: WorkCalendar,
        interpretations: dict[str, str],
        out_of_force: OutOfForcePolicy,
        as_of_day: date | None = None,
        only_rules: frozenset[str] | None = None,
    ) -> None:
        self.pack = pack
        self.selected_rules = only_rules
        self.facts = facts
        self.as_of = as_of
        # the day the evaluation speaks for: a date as_of means that day (its 24:00 is
        # the next day's 00:00 instant), an instant its local day
        self.as_of_day = as_of_day or calendar.local_date(as_of)
        self.calendar = calendar
        self.interpretations = interpretations
        self.out_of_force = out_of_force
        self.ctx = CalendarContext.shared(calendar)
        self.functions: Mapping[str, FunctionSpec] = self.ctx.functions()
        self.findings: list[Finding] = []
        self.skips: list[Skip] = []
        self.base_env: dict[str, object] = {"as_of": as_of, **pack.values}
        self.per_batch = {
            name: p.per_batch for name, p in pack.model.parameters.items() if p.per_batch
        }
        self.batches = {b.id: b for b in facts.rows("batches")}
        self.origin = self._rule_origins()
        self.exemptions: dict[str, list[ExemptionRule]] = defaultdict(list)
        for r in pack.rules:
            if isinstance(r, ExemptionRule) and self._active(r):
                for target in r.exempts:
                    self.exemptions[target].append(r)
        self._event_cache: dict[str, list[FactModel]] = {}
        self._exemption_order = {r.id: i for i, r in enumerate(pack.rules)}
        # each expression compiled once against this run's function table
        self._runs: dict[str, Callable[[Mapping[str, object]], object]] = {}
        self._citations: dict[int, tuple[Rule, Citation]] = {}
        self._provisional_years: dict[int, bool] = {}

    # -- plumbing ------------------------------------------------------------------------
    def _rule_origins(self) -> dict[str, Pack]:
        """The pack that first defines each rule (an ancestor for inherited rules)."""
        origin: dict[str, Pack] = {}
        chain = []
        p: Pack | None = self.pack
        while p is not None:
            chain.append(p)
            p = p.parent
        for pk in reversed(chain):
            for r in pk.rules:
                origin.setdefault(r.id, pk)
        return origin

    def is_active(self, rule: Rule) -> bool:
        """Whether the rule applies under the run's chosen interpretations."""
        return all(self.interpretations.get(k) == v for k, v in (rule.interpretation or {}).items())

    _active = is_active  # the former private name, kept for existing callers

    def ev(self, source: str, env: Mapping[str, object]) -> object:
        run = self._runs.get(source)
        if run is None:
            run = self.pack.expr(source).compile(functions=self.functions)
            self._runs[source] = run
        return run(env)

    def need(self, source: str, env: Mapping[str, object], what: str) -> object:
        value = self.ev(source, env)
        if value is None:
            raise _Missing(f"{what} ({source}) is null")
        return value

    def inputs(self, source: str, env: Mapping[str, object]) -> dict[str, object]:
        """The fact values an expression read (not parameters), for the finding's record."""
        params = self.pack.model.parameters
        return {
            name: env[name]
            for name in sorted(self.pack.expr(source).names)
            if name in env and name not in params and name != "as_of"
        }

    def parameter(self, name: str, env: Mapping[str, object]) -> object:
        """A parameter's value for a subject; unspecified and unset → not configured."""
        value = env.get(name)
        if value is None:
            raise _NotConfigured(name)
        # a duration used as a bound (20 working days) compares as its count
        return getattr(value, "n", value)

    def bound_value(self, b: BoundSpec, env: Mapping[str, object]) -> object:
        if b.parameter is not None:
            return self.parameter(b.parameter, env)
        if b.value is not None:
            return to_fraction(b.value)
        assert b.expr is not None  # noqa: S101 - model guarantees one source
        return self.need(b.expr, env, "bound")

    def row_env(self, row: FactModel) -> dict[str, object]:
        """The names a row-level expression sees: ``as_of``, parameters, the row's fields."""
        env = {**self.base_env, **row.__dict__}
        self.batch_values(env)
        return env

    _row_env = row_env  # the former private name, kept for existing callers

    def batch_values(self, env: dict[str, object]) -> None:
        """Replace ``per_batch`` parameters by the values the subject's batch sets."""
        if not self.per_batch:
            return
        batch_id = env.get("batch_id")
        if isinstance(batch_id, str) and batch_id in self.batches:
            batch = self.batches[batch_id]
            for name, field in self.per_batch.items():
                v = getattr(batch, field, None)
                if v is not None:
                    env[name] = v

    # -- units -----------------------------------------------------------------------
    def units(self, rule: Rule) -> list[Unit]:
        assert rule.over is not None  # noqa: S101 - checked by the caller
        kind = rule.over
        selected: list[tuple[FactModel, dict[str, object]]] = []
        for row in self.facts.rows(kind):
            env = self.row_env(row)
            if rule.where is not None:
                try:
                    keep = self.ev(rule.where, env)
                except NotApplicable:
                    keep = False
                except CalendarError as exc:  # a date beyond the calendar: this row only
                    detail = f"where ({rule.where}) cannot be decided: calendar: {exc}"
                    self.skip(rule, None, "not_applicable", detail, extra_rows=((kind, row.id),))
                    continue
                if keep is not True:
                    continue
            selected.append((row, env))
        if not (rule.group_by or rule.period):
            return [self.row_unit(kind, row, env) for row, env in selected]
        return self.grouped_units(rule, kind, selected)

    def row_unit(self, kind: str, row: FactModel, env: dict[str, object]) -> Unit:
        """The unit of a row-level rule: the row is the subject (its period, if it has one)."""
        keys = tuple(
            [
                (k, v if type(v) is str else str(v))
                for k in _KEY_FIELDS
                if (v := env.get(k)) is not None
            ]
        )
        period = None
        ps, pe = env.get("period_start"), env.get("period_end")
        if isinstance(ps, date) and isinstance(pe, date):
            period = Period(start=ps, end=pe, unit=_infer_unit(ps, pe))
        return Unit(
            env=env, rows=((kind, row.id),), subject=Subject(kind=kind, keys=keys), period=period
        )

    def result(self, engine: str, *, metadata: Sequence[tuple[str, object]] = ()) -> Evaluation:
        """The evaluation this run produced (findings in the canonical order)."""
        return Evaluation(
            pack_id=self.pack.id,
            as_of=self.as_of,
            engine=engine,
            findings=sort_findings(self.findings),
            skips=tuple(self.skips),
            rejects=self.facts.rejects,
            interpretations=tuple(sorted(self.interpretations.items())),
            input_rows=self.facts.total_rows(),
            metadata=(("issuer", self.pack.issuer), ("lineage", self.pack.lineage()), *metadata),
            key_columns=subject_key_columns(self.pack),
        )

    def grouped_units(
        self, rule: Rule, kind: str, selected: list[tuple[FactModel, dict[str, object]]]
    ) -> list[Unit]:
        """The units of a grouped rule: its selected ``(row, env)`` pairs by group key
        and period, each with its aggregates computed."""
        groups: dict[tuple[Any, ...], list[tuple[FactModel, dict[str, object]]]] = {}
        key_names: list[str] = []
        for g in rule.group_by or []:
            key_names.extend([g] if isinstance(g, str) else g.keys())
        periods: dict[tuple[Any, ...], Period | None] = {}
        for row, env in selected:
            values: list[object] = []
            try:
                for g in rule.group_by or []:
                    if isinstance(g, str):
                        values.append(env.get(g))
                    else:
                        values.extend(self.ev(src, env) for src in g.values())
            except (NotApplicable, CalendarError) as exc:
                # the row cannot be placed in a group: it costs its own skip
                detail = f"group_by: {_why(exc)}"
                self.skip(rule, None, "not_applicable", detail, extra_rows=((kind, row.id),))
                continue
            period = None
            if rule.period is not None:
                raw = env.get(rule.period.field)
                if raw is None:
                    continue  # rows with no date cannot be placed in a period
                day = self.calendar.local_date(raw) if isinstance(raw, datetime) else raw
                assert isinstance(day, date)  # noqa: S101 - a date or instant field
                period = period_of(day, rule.period.unit)
                values.append(period.start)
            key = tuple(values)
            groups.setdefault(key, []).append((row, env))
            periods[key] = period
        out = []
        for key, members in groups.items():
            env = dict(self.base_env)
            env.update(zip(key_names, key, strict=False))
            period = periods[key]
            if period is not None:
                env["period_start"], env["period_end"] = period.start, period.end
            self.batch_values(env)
            problem = None
            for name, source in (rule.aggregate or {}).items():
                try:
                    env[name] = self._aggregate(source, [e for _, e in members])
                except _Undecidable as exc:
                    env[name] = None
                    problem = problem or exc.what
            keys = tuple((k, str(v)) for k, v in zip(key_names, key, strict=False) if v is not None)
            rows = tuple((kind, r.id) for r, _ in members)
            subject = Subject(kind=kind, keys=keys)
            out.append(Unit(env=env, rows=rows, subject=subject, period=period, problem=problem))
        return out

    _grouped = grouped_units  # the former private name, kept for existing callers

    def _aggregate(self, source: str, envs: Sequence[Mapping[str, object]]) -> object:
        fn, inner = self.pack.aggregate(source)
        if inner is None:
            return len(envs)
        run = inner.compile(functions=self.functions) if envs else None
        vals = []
        if run is not None:
            for e in envs:
                try:
                    vals.append(run(e))
                except (NotApplicable, CalendarError) as exc:  # names the row, not the run
                    raise _Undecidable(f"{source} for row {e.get('id')!r}: {_why(exc)}") from None
        present = [v for v in vals if v is not None]
        if fn == "count_if":
            return sum(1 for v in vals if v is True)
        if fn == "sum":
            total: Any = 0
            for v in present:
                total = total + v
            return total
        if fn == "min_of":
            return min(present) if present else None  # type: ignore[type-var]
        if fn == "max_of":
            return max(present) if present else None  # type: ignore[type-var]
        if fn == "any":
            return any(v is True for v in vals)
        if fn == "all":
            return all(v is True for v in vals)
        return present[0] if present else None  # first

    # -- exemptions ------------------------------------------------------------------
    def exemption_events(self, ex: ExemptionRule) -> list[FactModel]:
        """The exemption's event rows (its ``where`` applied), read once per run."""
        if ex.id not in self._event_cache:
            assert ex.over is not None  # noqa: S101 - checked at load
            events = []
            for row in self.facts.rows(ex.over):
                try:
                    keep = ex.where is None or self.ev(ex.where, self._row_env(row)) is True
                except (NotApplicable, CalendarError) as exc:
                    detail = f"where ({ex.where}) cannot be decided for this event: {_why(exc)}"
                    self.skip(ex, None, "not_applicable", detail, extra_rows=((ex.over, row.id),))
                    continue
                if keep:
                    events.append(row)
            self._event_cache[ex.id] = events
        return self._event_cache[ex.id]

    _events = exemption_events  # the former private name, kept for existing callers

    def forget_exemption_events(self) -> None:
        """Read the exemption events again at their next use (the facts changed)."""
        self._event_cache.clear()

    def exemption_for(self, rule: Rule, unit: Unit) -> list[tuple[ExemptionRule, FactModel]]:
        """Every (exemption, event) pair that takes the subject out, in pack order and
        then event id order: which events are credited never depends on input order."""
        found: list[tuple[ExemptionRule, FactModel]] = []
        for ex in self.exemptions.get(rule.id, ()):
            window: tuple[object, object] | None = None
            if ex.overlap:
                window = (
                    self.ev(ex.overlap["start"], unit.env) if "start" in ex.overlap else None,
                    self.ev(ex.overlap["end"], unit.env) if "end" in ex.overlap else None,
                )
            for event in self.exemption_events(ex):
                if not all(
                    getattr(event, ef) is None or getattr(event, ef) == unit.env.get(tf)
                    for ef, tf in ex.match.items()
                ):
                    continue
                if window is not None:
                    starts, ends = (
                        getattr(event, "starts_on", None),
                        getattr(event, "ends_on", None),
                    )
                    w_start, w_end = window
                    if isinstance(w_end, date) and isinstance(starts, date) and starts > w_end:
                        continue
                    if isinstance(w_start, date) and isinstance(ends, date) and ends < w_start:
                        continue
                found.append((ex, event))
        return sorted(found, key=lambda pair: (self._exemption_order[pair[0].id], pair[1].id))

    # -- findings --------------------------------------------------------------------
    def citation(self, rule: Rule) -> Citation:
        """The rule's citation; an inherited rule cites the document that defines it."""
        found = self._citations.get(id(rule))
        if found is not None and found[0] is rule:
            return found[1]
        origin = self.origin.get(rule.id, self.pack)
        cited = Citation(
            document=rule.cite.document or origin.model.document_number,
            clause=rule.cite.clause,
            text=rule.cite.text,
            pack_id=origin.id,
        )
        self._citations[id(rule)] = (rule, cited)
        return cited

    def _provisional(self) -> bool:
        """``ctx.provisional()``, with each year's answer remembered for the run."""
        known = self._provisional_years
        for year in self.ctx.years:
            p = known.get(year)
            if p is None:
                p = known[year] = self.calendar.is_provisional(year)
            if p:
                return True
        return False

    def _reference_day(self, unit: Unit, reference: date | None) -> date:
        """The day a subject is dated, for the in-force check.

        A period's last day; else the day the rule itself names (a deadline's start, or
        its due instant); else the as-of day.
        """
        if unit.period is not None:
            return unit.period.end
        if reference is not None:
            return reference
        return self.as_of_day

    def emit(
        self,
        rule: Rule,
        unit: Unit,
        outcome: Outcome,
        *,
        values: Mapping[str, object],
        actions: Iterable[str] | None = None,
        tier: str | None = None,
        bound: BoundSpec | None = None,
        operator: str | None = None,
        label: str = "",
        trace: Sequence[tuple[str, object]] = (),
        reference: date | None = None,
    ) -> None:
        flags: set[str] = set()
        model = self.pack.model
        if model.status == "draft":
            flags.add("draft_source")
        elif model.in_force is not None and not self.pack.in_force_on(
            self._reference_day(unit, reference)
        ):
            if self.out_of_force == "error":
                day = self._reference_day(unit, reference)
                msg = (
                    f"{self.pack.id} is not in force on {day} (rule {rule.id}, subject "
                    f"{unit.subject}); pass out_of_force='flag' to evaluate anyway"
                )
                raise OutOfForceError(msg)
            if self.out_of_force == "skip":
                self.skip(
                    rule,
                    unit,
                    "out_of_force",
                    f"{self.pack.id} is not in force on {self._reference_day(unit, reference)}",
                )
                return
            flags.add("out_of_force")
        if self.ctx.years and self._provisional():
            flags.add("provisional_calendar")
        if not model.source.complete:
            flags.add("incomplete_source")
        word = bound.word if bound is not None else None
        op = operator or (bound_operator(bound) if bound is not None else None)
        # a compliant finding carries only actions given for it (a compliant tier's incentive)
        if outcome == "compliant":
            acts = tuple(actions or ())
        else:
            acts = tuple(rule.actions if actions is None else actions)
        forms = value_forms(self.pack, rule, bound)
        if rule.message is not None:
            rendered = {
                **dict(values.items()),
                "subject": str(unit.subject),
                "period": str(unit.period or ""),
                "tier": tier or "",
                "label": label,
            }
            zh = _render(rule.message.zh, rendered, forms)
            en = _render(rule.message.en, rendered, forms)
        else:
            zh, en = self._default_message(
                rule=rule,
                outcome=outcome,
                values=values,
                word=word,
                op=op,
                label=label,
                forms=forms,
            )
        self.findings.append(
            Finding(
                pack_id=self.pack.id,
                rule_id=rule.id,
                rule_kind=rule.kind,
                outcome=outcome,
                subject=unit.subject,
                period=unit.period,
                actions=acts,
                tier=tier,
                values=tuple(values.items()),
                bound_word=word,
                operator=op,
                citation=self.citation(rule),
                message_zh=zh,
                message_en=en,
                flags=frozenset(flags),
                issuer=self.pack.issuer,
                rows=unit.rows,
                trace=tuple(trace),
            )
        )

    def _default_message(
        self,
        *,
        rule: Rule,
        outcome: Outcome,
        values: Mapping[str, object],
        word: str | None,
        op: str | None,
        label: str,
        forms: Mapping[str, str] | None = None,
    ) -> tuple[str, str]:
        form = forms or {}
        shown = ", ".join(f"{k}={format_display(v, form.get(k))}" for k, v in values.items())
        head_en = _HEAD_EN[outcome]
        head_zh = _HEAD_ZH[outcome]
        extra_en = f" ({label})" if label else ""
        label_zh = label_zh_of(rule, label)
        bound_en = (
            f"; bound {BOUND_WORDS[word].en if word is not None and word in BOUND_WORDS else op}"
            if (word or op)
            else ""
        )
        bound_zh = f"；界限：{word or op}" if (word or op) else ""
        return (
            f"{rule.title.zh}：{head_zh}{f'（{label_zh}）' if label_zh else ''}；{shown}{bound_zh}",
            f"{rule.title.en}: {head_en}{extra_en}; {shown}{bound_en}",
        )

    def skip(
        self,
        rule: Rule | None,
        unit: Unit | None,
        reason: SkipReason,
        detail: str,
        *,
        exemption: str | None = None,
        extra_rows: tuple[RowRef, ...] = (),
    ) -> None:
        self.skips.append(
            Skip(
                pack_id=self.pack.id,
                rule_id=rule.id if rule is not None else None,
                reason=reason,
                detail=detail,
                subject=unit.subject if unit else None,
                period=unit.period if unit else None,
                exemption=exemption,
                rows=(unit.rows if unit else ()) + extra_rows,
            )
        )

    # -- the rule kinds --------------------------------------------------------------
    def run(self) -> None:
        for rule in self.pack.rules:
            if self.selected_rules is not None and rule.id not in self.selected_rules:
                continue  # evaluate(rules=...): its rows are still accounted below
            self.run_rule(rule)
        self._exemption_leftovers()
        self._accounting()

    def run_rule(self, rule: Rule) -> None:
        """Decide one rule over all its subjects (no row accounting): the kind's dispatch.

        A rule of another reading and a rule no facts decide become one rule-level skip;
        exemptions are applied by the rules they exempt.
        """
        if not self._active(rule):
            chosen = ", ".join(
                f"{k}={self.interpretations.get(k)}" for k in (rule.interpretation or {})
            )
            self.skip(rule, None, "other_interpretation", f"applies to another reading ({chosen})")
            return
        if isinstance(rule, ExemptionRule):
            return
        if rule.over is None:
            self.skip(
                rule, None, "documentation_only", "carried for documentation; no facts decide it"
            )
            return
        if isinstance(rule, StreakRule):
            self.streak(rule)
        elif isinstance(rule, RelativeRule):
            self.relative(rule)
        else:
            for unit in self.units(rule):
                self.one(rule, unit)

    def one(self, rule: Rule, unit: Unit) -> None:
        self.ctx.reset()
        try:
            if self.exempted(rule, unit):
                return
            if not self.having(rule, unit):
                return
            self.decide(rule, unit)
        except _UNDECIDED as exc:
            self._skip_for(rule, unit, exc)
        except TypeError as exc:  # values of the wrong type: a pack error, named
            if isinstance(exc, VbpRulesError):
                raise
            raise ExpressionTypeError(f"rule {rule.id}: {exc}") from None

    def exempted(self, rule: Rule, unit: Unit) -> bool:
        """Record an ``exempted`` skip when an exemption takes the subject out."""
        found = self.exemption_for(rule, unit)
        if not found:
            return False
        by_rule: dict[str, list[str]] = {}
        for ex, event in found:
            by_rule.setdefault(ex.id, []).append(event.id)
        detail = "; ".join(
            f"{ex_id} (event{'s' if len(ids) > 1 else ''} {', '.join(ids)})"
            for ex_id, ids in by_rule.items()
        )
        self.skip(
            rule,
            unit,
            "exempted",
            f"exempted by {detail}",
            exemption=found[0][0].id,
            extra_rows=tuple((cast("str", ex.over), event.id) for ex, event in found),
        )
        return True

    def _skip_for(self, rule: Rule, unit: Unit, exc: Exception) -> None:
        """The skip for a subject a rule could not decide, by the reason it could not."""
        if isinstance(exc, NotApplicable):
            self.skip(rule, unit, "not_applicable", exc.reason)
        elif isinstance(exc, _Undecidable):
            self.skip(rule, unit, "not_applicable", exc.what)
        elif isinstance(exc, CalendarError) and not isinstance(exc, ProvisionalYearError):
            self.skip(rule, unit, "not_applicable", f"calendar: {exc}")
        elif isinstance(exc, _Missing):
            self.skip(rule, unit, "missing_fact", exc.what)
        elif isinstance(exc, _NotConfigured):
            detail = (
                f"parameter {exc.parameter!r} is unspecified in the source; "
                "configure it to evaluate this rule"
            )
            self.skip(rule, unit, "not_configured", detail)
        else:  # pragma: no cover - only the three signals above are caught
            raise exc

    def having(self, rule: Rule, unit: Unit) -> bool:
        """Apply a rule's subject filter; False records why the subject is not assessed."""
        if unit.problem is not None:
            raise _Undecidable(unit.problem)
        if rule.having is None:
            return True
        for name in sorted(self.pack.expr(rule.having).names):
            if name in self.pack.model.parameters and unit.env.get(name) is None:
                raise _NotConfigured(name)
        keep = self.ev(rule.having, unit.env)
        if keep is None:
            raise _Missing(f"having ({rule.having}) is null")
        if keep is not True:
            self.skip(
                rule, unit, "not_applicable", f"not assessed: having ({rule.having}) is false"
            )
            return False
        return True

    def decide(self, rule: Rule, unit: Unit) -> None:
        env = unit.env
        if isinstance(rule, ThresholdRule):
            if rule.condition is not None:
                value = self.need(rule.condition, env, "condition")
                if not isinstance(value, bool):  # 10 is no answer, not "compliant"
                    shown = format_display(value)
                    raise _Undecidable(f"condition ({rule.condition}) gave {shown}, not true/false")
                self.emit(
                    rule,
                    unit,
                    "breach" if value is True else "compliant",
                    values={"condition": value},
                )
                return
            assert rule.metric is not None  # noqa: S101
            metric = self.need(rule.metric.expr, env, rule.metric.name)
            bound = rule.breach_if or rule.require
            assert bound is not None  # noqa: S101
            limit = self.bound_value(bound, env)
            op = bound_operator(bound)
            holds = compare(metric, op, limit)
            breach = holds if rule.breach_if is not None else not holds
            self.emit(
                rule,
                unit,
                "breach" if breach else "compliant",
                values={
                    rule.metric.name: metric,
                    "threshold": limit,
                    **self.inputs(rule.metric.expr, env),
                },
                bound=bound,
            )
        elif isinstance(rule, TiersRule):
            self.tiers(rule, unit)
        elif isinstance(rule, ChangeBandRule):
            value = self.need(rule.value, env, "value")
            base = self.need(rule.baseline, env, "baseline")
            if base == 0:
                raise NotApplicable(f"baseline {rule.baseline} is zero")
            change = Fraction(to_fraction(value) - to_fraction(base), to_fraction(base))
            vals = {"value": value, "baseline": base, "change": change}
            if rule.decrease is not None and compare(
                -change, bound_operator(rule.decrease), self.bound_value(rule.decrease, env)
            ):
                self.emit(
                    rule,
                    unit,
                    "breach",
                    values={
                        **vals,
                        "decrease": -change,
                        "threshold": self.bound_value(rule.decrease, env),
                    },
                    actions=rule.decrease_actions or rule.actions,
                    tier="decrease",
                    bound=rule.decrease,
                )
            elif rule.increase is not None and compare(
                change, bound_operator(rule.increase), self.bound_value(rule.increase, env)
            ):
                self.emit(
                    rule,
                    unit,
                    "breach",
                    values={
                        **vals,
                        "increase": change,
                        "threshold": self.bound_value(rule.increase, env),
                    },
                    actions=rule.increase_actions or rule.actions,
                    tier="increase",
                    bound=rule.increase,
                )
            else:
                self.emit(rule, unit, "compliant", values=vals)
        elif isinstance(rule, DeadlineRule):
            self.deadline(rule, unit)
        elif isinstance(rule, DeterminationRule):
            self.determination(rule, unit)
        elif isinstance(rule, NeedsReviewRule):
            self.emit(rule, unit, "needs_review", values={})
        else:  # pragma: no cover - every kind is dispatched above
            msg = f"rule kind {rule.kind} is not evaluated per unit"
            raise AssertionError(msg)

    def tiers(self, rule: TiersRule, unit: Unit) -> None:
        env = unit.env
        metric = self.need(rule.metric.expr, env, rule.metric.name)
        unconfigured: _NotConfigured | None = None
        for tier in rule.tiers:
            # A tier whose own bounds are all configured decides on its own: tiers are
            # contiguous, so a metric inside it is in no other tier, even while some
            # other tier's bound is still unspecified in the source.
            try:
                ok = all(
                    compare(metric, bound_operator(b), self.bound_value(b, env))
                    for b in (tier.lower, tier.upper)
                    if b is not None
                )
            except _NotConfigured as exc:
                unconfigured = unconfigured or exc
                continue
            if ok:
                values: dict[str, object] = {rule.metric.name: metric}
                for side, b in (("lower", tier.lower), ("upper", tier.upper)):
                    if b is not None:
                        values[f"tier_{side}"] = self.bound_value(b, env)
                values.update(self.inputs(rule.metric.expr, env))
                label = tier.label.en if tier.label else ""
                self.emit(
                    rule,
                    unit,
                    tier.outcome,
                    values=values,
                    actions=tier.actions,
                    tier=tier.id,
                    bound=tier.upper or tier.lower,
                    label=label,
                )
                return
        if unconfigured is not None:
            raise unconfigured
        # the loader proves constant tiers exhaustive; bounds computed by expressions can
        # still leave a gap for some subject, which is then not decided
        raise _Undecidable(f"no tier of {rule.id} holds for {format_display(metric)} (a gap)")

    def deadline(self, rule: DeadlineRule, unit: Unit) -> None:
        env = unit.env
        if rule.due is not None:
            due = self.need(rule.due, env, "due")
            values: dict[str, object] = {}
        else:
            assert rule.start is not None  # noqa: S101 - the model requires start with window
            assert rule.window is not None  # noqa: S101
            start = self.need(rule.start, env, "start")
            window = env.get(rule.window)
            if window is None:
                raise _NotConfigured(rule.window)
            due = self.ctx.deadline(start, window)
            values = {"start": start, "window": window}
        # a date given as due (or end) means the whole day: it ends at 24:00
        due = self._end_of(due, rule, "due")
        anchor = values.get("start", due)
        reference = self.calendar.local_date(anchor) if isinstance(anchor, datetime) else anchor
        end = self.ev(rule.end, env)
        values["due"] = due
        values["end"] = end
        if end is None:
            if self.as_of > due:
                self.emit(
                    rule,
                    unit,
                    "breach",
                    values={**values, "as_of": self.as_of},
                    label="absent at as_of",
                    reference=reference if isinstance(reference, date) else None,
                )
            else:
                self.skip(
                    rule,
                    unit,
                    "pending",
                    pending_detail(due, self.as_of),
                )
            return
        end = self._end_of(end, rule, "end")
        self.emit(
            rule,
            unit,
            "breach" if end > due else "compliant",
            values=values,
            operator="<=",
            reference=reference if isinstance(reference, date) else None,
        )

    def _end_of(self, value: object, rule: Rule, what: str) -> datetime:
        """An instant as is; a date as 24:00 of that day (00:00 of the next)."""
        if isinstance(value, datetime):
            return value
        if isinstance(value, date):
            return datetime.combine(value + timedelta(days=1), time(0), tzinfo=self.calendar.tz)
        msg = f"rule {rule.id}: {what} must be an instant or a date, got {value!r}"
        raise ExpressionError(msg)

    def determination(self, rule: DeterminationRule, unit: Unit) -> None:
        env = unit.env
        for case in [*rule.cases, *([rule.otherwise] if rule.otherwise else [])]:
            hold = self.ev(case.when, env)
            if hold is None:
                raise _Missing(f"case condition ({case.when}) is null")
            if hold is True:
                values = {name: self.ev(src, env) for name, src in case.values.items()}
                label = case.label.en if case.label else ""
                self.emit(
                    rule,
                    unit,
                    "determination",
                    values=values,
                    actions=case.actions or rule.actions,
                    label=label,
                    tier=label or None,
                )
                return
        self.emit(
            rule,
            unit,
            "needs_review",
            values={},
            label="not determined by the source",
            actions=("needs_review",),
        )

    def streak(self, rule: StreakRule) -> None:
        units = self.units(rule)
        by_subject: dict[tuple[tuple[str, str], ...], list[Unit]] = defaultdict(list)
        for u in units:
            by_subject[u.subject.keys].append(u)
        for members in by_subject.values():
            members.sort(key=lambda u: u.period.start if u.period else date.min)
            run = 0
            previous_end: date | None = None
            for u in members:
                self.ctx.reset()
                assert u.period is not None  # noqa: S101 - a streak has periods
                if previous_end is not None and u.period.start != previous_end + timedelta(days=1):
                    run = 0
                previous_end = u.period.end
                # a period that is exempted, filtered out or undecided breaks the run
                try:
                    if self.exempted(rule, u):
                        run = 0
                        continue
                    if not self.having(rule, u):
                        run = 0
                        continue
                    metric = self.need(rule.metric.expr, u.env, rule.metric.name)
                    limit = self.bound_value(rule.breach_if, u.env)
                except _UNDECIDED as exc:
                    self._skip_for(rule, u, exc)
                    run = 0
                    continue
                holds = compare(metric, bound_operator(rule.breach_if), limit)
                run = run + 1 if holds else 0
                self.emit(
                    rule,
                    u,
                    "breach" if run >= rule.length else "compliant",
                    values={
                        rule.metric.name: metric,
                        "threshold": limit,
                        "consecutive_periods": run,
                        **self.inputs(rule.metric.expr, u.env),
                    },
                    bound=rule.breach_if,
                )

    def relative(self, rule: RelativeRule) -> None:
        units = self.units(rule)
        computed: list[tuple[Unit, Any, Any, tuple[object, ...]]] = []
        totals: dict[tuple[object, ...], list[Any]] = {}
        for u in units:
            # the population is the subjects the rule assesses: a subject its `having`
            # filter leaves out is in neither its own finding nor the level
            try:
                if not self.having(rule, u):
                    continue
                n = self.need(rule.metric.numerator, u.env, "numerator")
                d = self.need(rule.metric.denominator, u.env, "denominator")
            except _UNDECIDED as exc:
                self._skip_for(rule, u, exc)
                continue
            # one level per period and per population_by key
            part = (
                u.period.start if u.period else None,
                *(u.env.get(k) for k in rule.population_by),
            )
            computed.append((u, n, d, part))
            total = totals.setdefault(part, [0, 0])
            total[0] += n
            total[1] += d
        for u, n, d, part in computed:
            total_n, total_d = totals[part]
            self.ctx.reset()
            try:
                if self.exempted(rule, u):
                    continue
            except _UNDECIDED as exc:
                self._skip_for(rule, u, exc)
                continue
            if d == 0:
                self.skip(
                    rule, u, "not_applicable", f"denominator {rule.metric.denominator} is zero"
                )
                continue
            if total_d == 0:  # pragma: no cover - a subject with d != 0 makes total_d != 0
                self.skip(rule, u, "not_applicable", "population denominator is zero")
                continue
            metric = Fraction(to_fraction(n), to_fraction(d))
            level = Fraction(to_fraction(total_n), to_fraction(total_d))
            b = rule.breach_if
            op = bound_operator(b)
            try:
                margin = to_fraction(self.parameter(b.margin, u.env)) if b.margin else Fraction(0)
                offset = (
                    to_fraction(self.bound_value(b, u.env))
                    if (b.parameter or b.value or b.expr)
                    else Fraction(0)
                )
            except _NotConfigured as exc:
                self._skip_for(rule, u, exc)
                continue
            limit = level - margin if op in ("<", "<=") else level + margin
            limit += offset
            breach = compare(metric, op, limit)
            self.emit(
                rule,
                u,
                "breach" if breach else "compliant",
                values={
                    rule.metric.name: metric,
                    "population_level": level,
                    "margin": margin,
                    "threshold": limit,
                    rule.metric.numerator: n,
                    rule.metric.denominator: d,
                },
                bound=b,
            )

    # -- accounting --------------------------------------------------------------------
    def exemption_leftovers(self) -> None:
        """Skip each exemption event that exempted no subject (``not_applicable``)."""
        self._exemption_leftovers()

    def _exemption_leftovers(self) -> None:
        used = {r for s in self.skips if s.reason == "exempted" for r in s.rows}
        for rule in self.pack.rules:
            if isinstance(rule, ExemptionRule) and self._active(rule) and rule.over is not None:
                for event in self._events(rule):
                    ref = (rule.over, event.id)
                    if ref not in used:
                        self.skips.append(
                            Skip(
                                pack_id=self.pack.id,
                                rule_id=rule.id,
                                reason="not_applicable",
                                detail="the exemption event matched no assessed subject",
                                rows=(ref,),
                            )
                        )

    def _accounting(self) -> None:
        seen: set[RowRef] = set()
        for f in self.findings:
            seen.update(f.rows)
        for s in self.skips:
            seen.update(s.rows)
        self.skips.extend(accounting_skips(self.pack, self.facts, seen))


def accounting_skip(pack: Pack, kind: str, row_id: str, detail: str | None = None) -> Skip:
    """The skip of one accepted row that no finding or skip references.

    Institutions and enterprises are ``reference_data``; other rows ``no_applicable_rule``
    (``detail`` may say why, e.g. an engine that does not read the kind).
    """
    reason: SkipReason
    if kind in REFERENCE_KINDS:
        reason = "reference_data"
        text = (
            f"{kind} are reference data (names, levels, communities); "
            f"no rule of {pack.id} assesses them"
        )
    else:
        reason = "no_applicable_rule"
        text = detail or (
            f"no rule of {pack.id} reads this {kind} row (or every rule's filter left it out)"
        )
    return Skip(pack_id=pack.id, rule_id=None, reason=reason, detail=text, rows=((kind, row_id),))


def accounting_skips(
    pack: Pack,
    facts: FactRows,
    seen: set[RowRef],
    *,
    unread: Callable[[str], str | None] | None = None,
) -> list[Skip]:
    """A skip for every accepted row no finding or skip references: nothing is lost.

    Institutions and enterprises are ``reference_data``; other rows ``no_applicable_rule``
    with a detail that ``unread(kind)`` may give (an engine that does not read a kind).
    """
    out: list[Skip] = []
    for kind in FACT_KINDS:
        detail = unread(kind) if unread is not None else None
        out.extend(
            accounting_skip(pack, kind, row.id, detail)
            for row in facts.rows(kind)
            if (kind, row.id) not in seen
        )
    return out


def unsupported_skips(run: Run, rule: Rule, *, engine: str, reason: str) -> list[Skip]:
    """One ``unsupported_by_engine`` skip per subject of a rule an engine cannot evaluate.

    An engine that cannot evaluate a rule never drops it silently: each subject the
    reference engine would assess (its units, with their rows) is skipped with the
    engine's name and the reason; a rule whose subjects cannot even be formed gets one
    rule-level skip.
    """
    detail = f"the {engine} engine cannot evaluate this rule: {reason}"
    try:
        units = run.units(rule) if rule.over is not None else []
    except (VbpRulesError, NotApplicable):
        units = []
    finally:
        run.ctx.reset()
    if not units:
        return [
            Skip(
                pack_id=run.pack.id, rule_id=rule.id, reason="unsupported_by_engine", detail=detail
            )
        ]
    return [
        Skip(
            pack_id=run.pack.id,
            rule_id=rule.id,
            reason="unsupported_by_engine",
            detail=detail,
            subject=u.subject,
            period=u.period,
            rows=u.rows,
        )
        for u in units
    ]


def evaluation_settings(
    pack: Pack,
    *,
    as_of: datetime | date,
    interpretations: Mapping[str, str] | None,
    calendar: WorkCalendar | None,
) -> dict[str, Any]:
    """The resolved settings every engine's evaluator is built with.

    The calendar (default China), the as-of instant and day, and the chosen readings.

    Raises:
        NaiveDatetimeError: ``as_of`` is a naive datetime.
        PackValidationError: an unknown interpretation or option.
    """
    cal = calendar or WorkCalendar.china()
    return {
        "calendar": cal,
        "as_of": resolve_as_of(as_of, cal),
        "as_of_day": None if isinstance(as_of, datetime) else as_of,
        "interpretations": resolve_interpretations(pack, interpretations),
    }
