"""The stream engine: live monitoring of a pack on events, on durable-rules.

A :class:`Monitor` is fed events as they happen on a procurement platform (an order sent,
responded to, delivered; a complaint raised, replied to, resolved; a settlement accepted,
paid; a period's statistics closed) and clock ticks, and raises findings as they arise.
:func:`replay` turns a fact set into such events, in time order, and returns the same
findings as the reference engine for every rule the stream engine supports.

How the work is split (see ``docs/stream.md``):

- durable-rules (a Rete engine) holds the per-key state of every subject and correlates
  events with it: a reply joins its complaint, a second ``order_responded`` meets the
  mark the first one left, a reply for a complaint nobody raised matches no complaint.
  Its verdict decides whether an event is applied or rejected. It only ever sees exact
  strings (kinds, keys): no number, no instant, no arithmetic.
- Python keeps the payloads (aware instants, exact ratios, money) and decides every rule
  with the reference engine's own code (:class:`vbp_rules.engine.semantics.Run`)
  on the rows of the subject that changed, so findings are the reference's, exactly.
  Facts that are not events (agreements, listings, batches, ...) are asserted as state
  (``fact_asserted``); rules over them, exempted rules and relative rules are decided at
  ticks by the same plan over the whole fact state. Every rule is decided.
- Time comes only from :meth:`Monitor.tick` (and the ``now`` a monitor starts at), never
  from the wall clock; durable-rules timers are not used. After any sequence of events
  and ticks, :meth:`Monitor.findings` equals the reference engine's findings on the
  facts seen so far, evaluated ``as_of`` the last tick.

durable-rules is an optional extra (``pip install vbp-rules[stream]``) imported only
when a monitor is created.
"""

from __future__ import annotations

import heapq
import json
import re
import uuid
import zlib
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final, cast

import attrs
from pydantic import ValidationError

from vbp_rules._expr_parser import Compare, Name, iter_nodes
from vbp_rules.calendar import WorkCalendar
from vbp_rules.engine._functions import split_aggregate
from vbp_rules.engine.semantics import (
    OutOfForcePolicy,
    Run,
    Unit,
    accounting_skips,
    period_of,
    resolve_as_of,
    resolve_interpretations,
)
from vbp_rules.errors import NaiveDatetimeError, VbpRulesError
from vbp_rules.expr import NotApplicable
from vbp_rules.facts import FACT_KINDS, FactModel, FactSet, RejectedInput
from vbp_rules.facts.loading import _explain
from vbp_rules.findings import Evaluation, Finding, RowRef, Skip, sort_findings
from vbp_rules.packs.model import (
    DeadlineRule,
    ExemptionRule,
    RelativeRule,
    Rule,
    StreakRule,
)
from vbp_rules.packs.pack import Pack
from vbp_rules.results import subject_key_columns

__all__ = [
    "EVENT_KINDS",
    "STATE_KINDS",
    "STREAMED_KINDS",
    "Monitor",
    "StreamUnavailableError",
    "evaluate_stream",
    "replay",
    "replay_events",
    "state_events",
    "stream_support",
]


class StreamUnavailableError(VbpRulesError, ImportError):
    """The stream engine's optional dependency, durable-rules, is not installed.

    Install the extra: ``pip install vbp-rules[stream]``. durable-rules ships only as a
    source distribution with a C extension; it does not build on every Python (it fails
    on 3.13 with gcc 14), which is why the core package does not depend on it.
    """


@attrs.frozen(kw_only=True, slots=True)
class _EventSpec:
    """What one event kind does: create a subject, or record a stage of one."""

    name: str
    kinds: tuple[str, ...]  # the fact kind(s) it creates or updates
    create: bool
    at_field: str | None = None  # stage events: the row field ``at`` sets
    extra: tuple[str, ...] = ()  # stage events: other row fields it may set
    excluded: tuple[str, ...] = ()  # create events: row fields set by later stages


_SPECS: Final = (
    _EventSpec(
        name="order_sent",
        kinds=("orders",),
        create=True,
        excluded=("responded_at", "delivered_at"),
    ),
    _EventSpec(name="order_responded", kinds=("orders",), create=False, at_field="responded_at"),
    _EventSpec(
        name="order_delivered",
        kinds=("orders",),
        create=False,
        at_field="delivered_at",
        extra=("delivered_quantity", "receipt_confirmed_at"),
    ),
    _EventSpec(
        name="complaint_raised",
        kinds=("complaints",),
        create=True,
        excluded=("replied_at", "resolved_at"),
    ),
    _EventSpec(
        name="complaint_replied",
        kinds=("complaints",),
        create=False,
        at_field="replied_at",
        extra=("committed_resolution_at", "unresolvable"),
    ),
    _EventSpec(
        name="complaint_resolved", kinds=("complaints",), create=False, at_field="resolved_at"
    ),
    _EventSpec(
        name="settlement_accepted", kinds=("settlements",), create=True, excluded=("paid_at",)
    ),
    _EventSpec(name="settlement_paid", kinds=("settlements",), create=False, at_field="paid_at"),
    _EventSpec(
        name="period_closed",
        kinds=("enterprise_period_stats", "purchase_summaries"),
        create=True,
    ),
    _EventSpec(
        name="fact_asserted",
        kinds=tuple(
            k
            for k in FACT_KINDS
            if k
            not in (
                "orders",
                "complaints",
                "settlements",
                "enterprise_period_stats",
                "purchase_summaries",
            )
        ),
        create=True,
    ),
)
_SPEC: Final = {s.name: s for s in _SPECS}

#: The event kinds a monitor accepts (plus :meth:`Monitor.tick`).
EVENT_KINDS: Final = tuple(s.name for s in _SPECS)
#: The fact kinds lifecycle events build (a subject created, then its stages recorded).
STREAMED_KINDS: Final = ("orders", "complaints", "settlements", *_SPEC["period_closed"].kinds)
#: The fact kinds that are state, not events (agreements, batches, listings, ...): a
#: ``fact_asserted`` event asserts one row; rules over them are decided at ticks.
STATE_KINDS: Final = _SPEC["fact_asserted"].kinds
#: Fact kinds whose rows arrive once, complete (a closed period): their grouped rules are
#: decided at once; grouped rules over the other kinds wait for the next tick.
_CLOSED_KINDS: Final = frozenset(_SPEC["period_closed"].kinds)
_CREATOR: Final = {k: s.name for s in _SPECS if s.create for k in s.kinds}
_STAGE_RANK: Final = {s.name: i for i, s in enumerate(_SPECS)}
_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NAME_AS_OF: Final = re.compile(r"\bas_of\b")
#: Rule fields that hold prose or names, never expressions.
_PROSE: Final = frozenset(
    {"id", "kind", "title", "cite", "over", "actions", "message", "interpretation", "notes"}
)
_NEVER: Final = datetime.min.replace(tzinfo=UTC)
_FAR: Final = datetime.max.replace(tzinfo=UTC)
_TICK: Final = timedelta(microseconds=1)
Notify = Callable[[Finding], object]


def stream_support(pack: Pack) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """How the stream engine decides each of a pack's rules (it decides every one).

    Returns:
        ``(rule ids decided per subject as events change it, ((rule id, why it is
        decided at ticks instead), ...))``. A rule of the second kind is re-decided at
        each tick (and when results are read) by the shared plan (:class:`Run`) over
        the monitor's whole fact state. Rules the reference engine itself never decides
        (exemptions, documentation-only rules) are in neither list.
    """
    exempted: dict[str, list[str]] = {}
    for r in pack.rules:
        if isinstance(r, ExemptionRule):
            for target in r.exempts:
                exempted.setdefault(target, []).append(r.id)
    per_event: list[str] = []
    at_ticks: list[tuple[str, str]] = []
    for r in pack.rules:
        if isinstance(r, ExemptionRule) or r.over is None:
            continue
        reason = _at_ticks_reason(r, exempted.get(r.id, []))
        if reason is None:
            per_event.append(r.id)
        else:
            at_ticks.append((r.id, reason))
    return tuple(per_event), tuple(at_ticks)


def _at_ticks_reason(rule: Rule, exemptions: Sequence[str]) -> str | None:
    if isinstance(rule, RelativeRule):
        return "a relative rule compares a subject with the whole population"
    if rule.over not in STREAMED_KINDS:
        return f"it reads {rule.over}, which are state facts, not events"
    if exemptions:
        return f"exempted by {', '.join(exemptions)}, whose exemption events are state facts"
    return None


# ----------------------------------------------------------------------------- plans


@attrs.define(kw_only=True, slots=True, eq=False)
class _Plan:
    """One supported rule: how rows map to its partitions, and when to decide them."""

    index: int
    rule: Rule
    kind: str
    grouped: bool  # group_by/period (or a streak): a partition holds many rows
    streak: bool
    immediate: bool  # decide on every change (else at the next tick or findings())
    as_of: bool  # some expression reads as_of: every tick re-decides every partition
    reads: frozenset[str]  # every name the rule's text mentions (a safe over-estimate)
    key_fields: tuple[str, ...] | None  # plain group_by fields, or None for expressions
    horizon: tuple[str, ...] | None  # row expressions compared with as_of (None: any use)
    members: dict[Hashable, dict[str, None]] = attrs.field(factory=dict)
    row_key: dict[str, Hashable] = attrs.field(factory=dict)


@attrs.define(kw_only=True, slots=True, eq=False)
class _Result:
    findings: tuple[Finding, ...] = ()
    skips: tuple[Skip, ...] = ()
    version: int = 0
    stale_as_of: bool = False  # records as_of (an absence, a pending skip): refresh on demand
    at: datetime | None = None  # the clock reading it was decided at


class _View:
    """The rows the evaluator sees while it decides one partition (duck-types FactSet)."""

    __slots__ = ("batches", "kind", "rows_of")

    def __init__(self, batches: tuple[FactModel, ...]) -> None:
        self.batches = batches
        self.kind = ""
        self.rows_of: tuple[FactModel, ...] = ()

    def rows(self, kind: str) -> tuple[FactModel, ...]:
        if kind == self.kind:
            return self.rows_of
        if kind == "batches":
            return self.batches
        return ()


class _State:
    """The monitor's whole fact state, as the shared plan reads it (a ``FactRows``)."""

    __slots__ = ("_rows",)
    rejects: tuple[RejectedInput, ...] = ()

    def __init__(self, rows: Mapping[str, Mapping[str, FactModel]]) -> None:
        self._rows = rows

    def rows(self, kind: str) -> tuple[FactModel, ...]:
        return tuple(self._rows[kind].values())

    def total_rows(self) -> int:
        return sum(len(v) for v in self._rows.values())


def _names(rule: Rule) -> frozenset[str]:
    """Every identifier in the rule's text: a superset of the row fields it reads."""
    text = json.dumps(rule.model_dump(mode="json"), ensure_ascii=False)
    return frozenset(_NAME.findall(text))


def _strings(value: object) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _strings(v)


def _as_of_operands(pack: Pack, rule: Rule, *, grouped: bool) -> tuple[str, ...] | None:
    """The row-level expressions a rule compares ``as_of`` with (``as_of < x`` ...).

    None when ``as_of`` is used any other way (inside a call or arithmetic, compared for
    equality, or in a subject-level expression of a grouped rule): such a rule is
    re-decided at every tick. Text that does not parse as an expression (titles,
    citations) is ignored unless it names ``as_of``.
    """
    row_level: list[str] = []
    other: list[str] = []
    data = rule.model_dump(mode="json", exclude=set(_PROSE))
    for name, source in (data.get("aggregate") or {}).items():
        _, inner = split_aggregate(source)
        if inner is not None:
            row_level.append(inner.source)
        data["aggregate"][name] = ""
    if data.get("where"):
        row_level.append(data.pop("where"))
    for g in data.pop("group_by", None) or []:
        if isinstance(g, Mapping):
            row_level.extend(g.values())
    other.extend(_strings(data))
    if not grouped:
        row_level, other = row_level + other, []
    for text in other:
        if _NAME_AS_OF.search(text):
            return None
    out: list[str] = []
    for text in row_level:
        if not _NAME_AS_OF.search(text):
            continue
        try:
            node = pack.expr(text).node
        except VbpRulesError:
            return None
        uses = sum(1 for n in iter_nodes(node) if isinstance(n, Name) and n.id == "as_of")
        found = 0
        for n in iter_nodes(node):
            if not isinstance(n, Compare) or n.op not in ("<", "<=", ">", ">="):
                continue
            for this, that in ((n.left, n.right), (n.right, n.left)):
                if isinstance(this, Name) and this.id == "as_of":
                    if any(isinstance(m, Name) and m.id == "as_of" for m in iter_nodes(that)):
                        return None
                    out.append(str(that))
                    found += 1
        if found != uses:
            return None
    return tuple(dict.fromkeys(out))


def _sid(key: str, partitions: int) -> str:
    return f"p{zlib.crc32(key.encode()) % partitions}"


def _lifecycles() -> list[tuple[_EventSpec, str]]:
    """Every (event kind, fact kind) pair: one durable-rules event type each."""
    return [(spec, kind) for spec in _SPECS for kind in spec.kinds]


def _ruleset(actions: Mapping[str, Callable[..., Any]]) -> dict[str, Any]:
    """durable-rules rules of the subject lifecycles (names must match ``actions``).

    For an event kind ``E`` over fact kind ``K``: a subject is a fact ``{t: K, k: id}``;
    a recorded stage a fact ``{t: "E:K.done", k}``; an event ``{t: "E:K", k, n}``
    (``n`` finds its payload). Types per kind keep each fact out of the other kinds'
    join nodes.
    """
    rules: dict[str, Any] = {}
    for spec, kind in _lifecycles():
        name = f"{spec.name}:{kind}"
        ev = {"t": name}
        subject = {"t": kind}
        same_key = {"k": {"e": "k"}}
        if spec.create:
            rules[name] = {"all": [{"e": ev}, {"x$not": {"$and": [subject, same_key]}}]}
            rules[f"{name}.duplicate"] = {
                "all": [{"f": subject}, {"e": {"$and": [ev, {"k": {"f": "k"}}]}}],
            }
        else:
            done = {"t": f"{name}.done"}
            rules[name] = {
                "all": [
                    {"f": subject},
                    {"e": {"$and": [ev, {"k": {"f": "k"}}]}},
                    {"x$not": {"$and": [done, same_key]}},
                ],
            }
            rules[f"{name}.repeated"] = {
                "all": [{"d": done}, {"e": {"$and": [ev, {"k": {"d": "k"}}]}}],
            }
            rules[f"{name}.unknown"] = {
                "all": [{"e": ev}, {"x$not": {"$and": [subject, same_key]}}],
            }
    assert set(rules) == set(actions)  # noqa: S101 - both built from _SPECS
    return rules


# ----------------------------------------------------------------------------- monitor


class Monitor:
    """Live evaluation of every rule of a pack on events, state facts and caller-driven ticks.

    Args:
        pack: a loaded pack.
        calendar: the working-day calendar (default :meth:`WorkCalendar.china`).
        interpretations: named readings of ambiguous clauses (defaults from the pack).
        now: the instant the monitor starts at; without it nothing is decided before
            the first :meth:`tick` (events are kept and decided then).
        on_finding: called with each finding that arises: a subject's first finding for
            a rule, or one whose outcome or tier changed. Refreshed values with the same
            outcome (a rate that moved, ``as_of`` of an absence) are not re-announced;
            :meth:`findings` always has the current ones. Called after the event or tick
            that caused it has been fully applied; an exception it raises propagates.
        batches: batch facts (asserted as ``fact_asserted`` state), for parameters a
            batch's execution document sets (``per_batch``).
        out_of_force: as in :func:`vbp_rules.evaluate`.
        partitions: durable-rules sids the subjects are spread over (at most 1024).

    Raises:
        StreamUnavailableError: durable-rules is not installed.
        PackValidationError: an unknown interpretation or option.
        NaiveDatetimeError: ``now`` is naive.

    Each monitor owns one durable-rules ruleset named ``vbp_rules.stream.<pack>.<uuid>``.
    durable-rules' C core keeps a ruleset until it is deleted: :meth:`close` (or leaving
    a ``with`` block) deletes it; a monitor that is never closed keeps its ruleset (and
    one of the process's 131,072 ruleset handles) until the process ends.
    """

    def __init__(
        self,
        pack: Pack,
        *,
        calendar: WorkCalendar | None = None,
        interpretations: Mapping[str, str] | None = None,
        now: datetime | date | None = None,
        on_finding: Notify | None = None,
        batches: Iterable[FactModel] = (),
        out_of_force: OutOfForcePolicy = "flag",
        partitions: int = 64,
    ) -> None:
        from vbp_rules.engine._stream_durable import RulesetDriver  # noqa: PLC0415

        if not 1 <= partitions <= 1000:
            msg = f"partitions must be in 1..1000 (durable-rules' sid limit), got {partitions}"
            raise ValueError(msg)
        self.pack = pack
        self.calendar = calendar or WorkCalendar.china()
        self.interpretations = resolve_interpretations(pack, interpretations)
        self.on_finding = on_finding
        self._partitions = partitions
        self._view = _View(())
        self._out_of_force: OutOfForcePolicy = out_of_force
        self._ev = self._evaluator(_NEVER, None)
        self._now: datetime | None = None
        self._day: date | None = None
        self._rows: dict[str, dict[str, FactModel]] = {k: {} for k in FACT_KINDS}
        # rules decided at ticks by the shared plan over the whole fact state: their
        # current findings and skips, and the (clock, fact version) they were decided at
        self._versions: dict[str, int] = dict.fromkeys(FACT_KINDS, 0)
        self._tick_findings: tuple[Finding, ...] = ()
        self._tick_skips: tuple[Skip, ...] = ()
        self._tick_stamp: tuple[object, ...] | None = None
        self._rejects: list[RejectedInput] = []
        self._seq = 0
        self._payloads: dict[int, tuple[_EventSpec, str, str, Mapping[str, Any], FactModel | None]]
        self._payloads = {}
        self._notes: list[Finding] = []
        self._error: Exception | None = None
        self._results: dict[tuple[int, Hashable], _Result] = {}
        # partitions to decide at the next flush, and deferred ones (grouped rules over
        # event streams) waiting for their period to end, a tick, or findings()
        self._dirty: dict[tuple[int, Hashable], None] = {}
        self._deferred: dict[tuple[int, Hashable], None] = {}
        self._due: list[tuple[datetime, int, int, Hashable, int]] = []
        self._every_tick: set[tuple[int, Hashable]] = set()
        self._rule_skips: list[Skip] = []
        self._plans: list[_Plan] = []
        self._by_kind: dict[str, list[_Plan]] = {k: [] for k in FACT_KINDS}
        self._plan_rules(pack)
        self.name = f"vbp_rules.stream.{pack.id}.{uuid.uuid4().hex}"
        actions: dict[str, Callable[[dict[str, Any]], list[dict[str, Any]] | None]] = {}
        for spec, kind in _lifecycles():
            name = f"{spec.name}:{kind}"
            actions[name] = self._make_accept(spec, kind)
            if spec.create:
                actions[f"{name}.duplicate"] = self._make_refuse(spec, "duplicate")
            else:
                actions[f"{name}.repeated"] = self._make_refuse(spec, "repeated")
                actions[f"{name}.unknown"] = self._make_refuse(spec, "unknown")
        try:
            self._driver = RulesetDriver(self.name, _ruleset(actions), actions)
        except ModuleNotFoundError as exc:
            raise StreamUnavailableError(str(exc)) from exc
        for batch in batches:
            self.post({"event": "fact_asserted", "of": "batches", **batch.model_dump()})
        if now is not None:
            self.tick(now)

    # -- set-up ------------------------------------------------------------------------
    def _plan_rules(self, pack: Pack) -> None:
        ev = self._ev
        per_event, at_ticks = stream_support(pack)
        self.supported_rules: tuple[str, ...] = ()
        #: Always empty: the stream engine decides every rule (kept for callers).
        self.unsupported_rules: tuple[tuple[str, str], ...] = ()
        ok = set(per_event)
        later = dict(at_ticks)
        chosen: list[str] = []
        ticked: list[tuple[str, str]] = []
        self._tick_needed = any(
            isinstance(r, ExemptionRule) and r.over is not None and ev.is_active(r)
            for r in pack.rules
        )
        for rule in pack.rules:
            if not ev.is_active(rule):
                shown = ", ".join(
                    f"{k}={self.interpretations.get(k)}" for k in (rule.interpretation or {})
                )
                self._rule_skips.append(
                    Skip(
                        pack_id=pack.id,
                        rule_id=rule.id,
                        reason="other_interpretation",
                        detail=f"applies to another reading ({shown})",
                    )
                )
                continue
            if isinstance(rule, ExemptionRule):
                continue
            if rule.over is None:
                self._rule_skips.append(
                    Skip(
                        pack_id=pack.id,
                        rule_id=rule.id,
                        reason="documentation_only",
                        detail="carried for documentation; no facts decide it",
                    )
                )
                continue
            if rule.id in later:
                ticked.append((rule.id, later[rule.id]))
                chosen.append(rule.id)
                continue
            if rule.id not in ok:  # pragma: no cover - every rule is in one of the two
                continue
            streak = isinstance(rule, StreakRule)
            grouped = streak or bool(rule.group_by or rule.period)
            reads = _names(rule)
            plain = all(isinstance(g, str) for g in rule.group_by or [])
            fields = FACT_KINDS[rule.over].model_fields
            key_fields = tuple(cast("list[str]", rule.group_by or []))
            plan = _Plan(
                index=len(self._plans),
                rule=rule,
                kind=rule.over,
                grouped=grouped,
                streak=streak,
                immediate=not grouped or rule.over in _CLOSED_KINDS,
                as_of="as_of" in reads,
                reads=reads,
                key_fields=key_fields if plain and all(f in fields for f in key_fields) else None,
                horizon=_as_of_operands(pack, rule, grouped=grouped),
            )
            self._plans.append(plan)
            self._by_kind[rule.over].append(plan)
            chosen.append(rule.id)
        self.supported_rules = tuple(chosen)
        #: The rules decided at ticks (and when results are read) over the whole fact
        #: state, with the reason each is not decided per event.
        self.tick_rules: tuple[tuple[str, str], ...] = tuple(ticked)
        self._tick_ids = frozenset(r for r, _ in ticked)
        self._tick_needed = self._tick_needed or bool(ticked)
        # what the rules decided at ticks depend on: the kinds they (and exemptions) read,
        # and the clock only if one of them reads as_of (a deadline does)
        read = [r for r in pack.rules if r.id in self._tick_ids]
        read += [r for r in pack.rules if isinstance(r, ExemptionRule) and ev.is_active(r)]
        self._tick_kinds = tuple(sorted({"batches", *(r.over for r in read if r.over)}))
        self._tick_clock = any(isinstance(r, DeadlineRule) or "as_of" in _names(r) for r in read)

    # -- properties --------------------------------------------------------------------
    @property
    def now(self) -> datetime | None:
        """The instant of the last tick (None before the first one)."""
        return self._now

    @property
    def rejects(self) -> tuple[RejectedInput, ...]:
        """Events and ticks that were refused, with the reason, in arrival order."""
        return tuple(self._rejects)

    @property
    def closed(self) -> bool:
        """True once :meth:`close` has been called."""
        return self._driver.closed

    @property
    def stats(self) -> dict[str, int]:
        """Counters: events posted to durable-rules, subjects, id-hash collisions, rejects."""
        return {
            "events": self._seq,
            "durable_events": self._driver.events,
            "subjects": sum(len(v) for v in self._rows.values()),
            "id_hash_collisions": self._driver.collisions,
            "rejects": len(self._rejects),
        }

    # -- events ------------------------------------------------------------------------
    def post(self, event: Mapping[str, Any]) -> bool:
        """Apply one event ``{"event": kind, "id": ..., ...}``; False if it was rejected.

        Event kinds and their fields (instants aware, or ISO text with an offset):

        - ``order_sent``: an order's fields (``id``, ``institution_id``, ``enterprise_id``,
          ``product_id``, ``sent_at``, ``ordered_quantity``, optional others) except
          ``responded_at`` and ``delivered_at``;
        - ``order_responded``: ``id``, ``at``;
        - ``order_delivered``: ``id``, ``at``, optional ``delivered_quantity``,
          ``receipt_confirmed_at``;
        - ``complaint_raised``: a complaint's fields except ``replied_at``, ``resolved_at``;
        - ``complaint_replied``: ``id``, ``at``, optional ``committed_resolution_at``,
          ``unresolvable``;
        - ``complaint_resolved``: ``id``, ``at``;
        - ``settlement_accepted``: a settlement's fields except ``paid_at``;
        - ``settlement_paid``: ``id``, ``at``;
        - ``period_closed``: ``of`` (``enterprise_period_stats``, the default, or
          ``purchase_summaries``) and that row's fields;
        - ``fact_asserted``: ``of`` (a kind of :data:`STATE_KINDS`) and that row's
          fields: a state fact.

        A rejected event (unknown kind, missing or malformed field, naive timestamp, a
        stage for an unknown subject, a repeated stage, a duplicate subject) is kept in
        :attr:`rejects` with the reason; the monitor carries on.
        """
        self._seq += 1
        n = self._seq
        try:
            accepted = self._post(n, event)
        finally:
            self._payloads.pop(n, None)
        self._announce()
        return accepted

    def _reject(
        self,
        n: int,
        event: object,
        reason: str,
        *,
        kind: str | None = None,
        field: str | None = None,
    ) -> bool:
        raw = dict(event) if isinstance(event, Mapping) else None
        row_id = raw.get("id") if raw is not None else None
        self._rejects.append(
            RejectedInput(
                source=f"stream:{raw.get('event') if raw is not None else '?'}",
                kind=kind,
                row=n,
                row_id=str(row_id) if isinstance(row_id, str | int) else None,
                field=field,
                reason=reason,
                raw=raw,
            )
        )
        return False

    def _post(self, n: int, event: Mapping[str, Any]) -> bool:
        if not isinstance(event, Mapping):
            return self._reject(n, event, f"an event must be a mapping, got {type(event).__name__}")
        if self.closed:
            return self._reject(n, event, "the monitor is closed")
        name = event.get("event")
        spec = _SPEC.get(name) if isinstance(name, str) else None
        if spec is None:
            known = ", ".join(EVENT_KINDS)
            return self._reject(
                n, event, f"unknown event kind {name!r} (known: {known}, and tick)", field="event"
            )
        kind = spec.kinds[0]
        if len(spec.kinds) > 1:
            kind = event.get("of", kind if spec.name == "period_closed" else None)
            if kind not in spec.kinds:
                return self._reject(
                    n,
                    event,
                    f"period_closed of {kind!r}: expected one of {', '.join(spec.kinds)}",
                    field="of",
                )
        raw_id = event.get("id")
        if not isinstance(raw_id, str | int) or isinstance(raw_id, bool) or not str(raw_id).strip():
            return self._reject(n, event, "required, but missing or empty", kind=kind, field="id")
        row_id = str(raw_id).strip()
        fields = {k: v for k, v in event.items() if k not in ("event", "of")}
        model = FACT_KINDS[kind]
        made: FactModel | None = None
        if spec.create:
            for name_ in spec.excluded:
                if fields.get(name_) is not None:
                    stage = next(s.name for s in _SPECS if s.at_field == name_)
                    return self._reject(
                        n, event, f"{name_} is set by a {stage} event", kind=kind, field=name_
                    )
            try:
                made = model.model_validate(fields)
            except ValidationError as exc:
                field, reason = _explain(exc, model)
                return self._reject(n, event, reason, kind=kind, field=field)
        else:
            allowed = {"id", "at", *spec.extra}
            unknown = sorted(set(fields) - allowed)
            if unknown:
                return self._reject(
                    n,
                    event,
                    f"unknown field for {spec.name} (allowed: {', '.join(sorted(allowed))})",
                    kind=kind,
                    field=unknown[0],
                )
            if fields.get("at") is None:
                return self._reject(
                    n, event, "required, but missing or empty", kind=kind, field="at"
                )
        self._payloads[n] = (spec, kind, row_id, event, made)
        sid = _sid(f"{kind}/{row_id}", self._partitions)
        took = self._driver.post(sid, {"t": f"{spec.name}:{kind}", "k": row_id, "n": n})
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        if not took:  # pragma: no cover - every event kind has rules
            return self._reject(n, event, "no durable-rules rule took the event", kind=kind)
        return not (self._rejects and self._rejects[-1].row == n)

    def _make_accept(
        self, spec: _EventSpec, kind_: str
    ) -> Callable[[dict[str, Any]], list[dict[str, Any]]]:
        done = f"{spec.name}:{kind_}.done"

        def accept(matched: dict[str, Any]) -> list[dict[str, Any]]:
            n = int(matched["e"]["n"])
            _, kind, row_id, event, made = self._payloads[n]
            key = matched["e"]["k"]
            if spec.create:
                assert made is not None  # noqa: S101 - validated before posting
                self._rows[kind][row_id] = made
                self._apply(kind, made, None)
                return [{"t": kind, "k": key}]
            row = self._rows[kind].get(row_id)
            if row is None:  # pragma: no cover - durable-rules joined it with its subject
                self._reject(n, event, f"unknown {kind} id {row_id!r}", kind=kind, field="id")
                return []
            assert spec.at_field is not None  # noqa: S101 - stage events have one
            update = {spec.at_field: event["at"]}
            update.update({f: event[f] for f in spec.extra if event.get(f) is not None})
            data = {k: v for k, v in row.__dict__.items() if v is not None}
            data.update(update)
            try:
                new = type(row).model_validate(data)
            except ValidationError as exc:
                field, reason = _explain(exc, type(row))
                if field == spec.at_field:
                    field = "at"
                self._reject(n, event, reason, kind=kind, field=field)
                return []
            self._rows[kind][row_id] = new
            self._apply(kind, new, frozenset(update))
            return [{"t": done, "k": key}]

        return accept

    def _apply(self, kind: str, row: FactModel, fields: frozenset[str] | None) -> None:
        """Record a change; an error deciding it (``out_of_force="error"``) is raised once
        durable-rules has recorded the change too, so both stay in step."""
        try:
            self._changed(kind, row, fields)
        except Exception as exc:  # re-raised by _post
            if self._error is None:
                self._error = exc

    def _make_refuse(
        self, spec: _EventSpec, why: str
    ) -> Callable[[dict[str, Any]], list[dict[str, Any]]]:
        def refuse(matched: dict[str, Any]) -> list[dict[str, Any]]:
            n = int(matched["e"]["n"])
            _, kind, row_id, event, _ = self._payloads[n]
            if why == "duplicate":
                reason = f"duplicate: {kind} {row_id!r} already exists"
                field = "id"
            elif why == "repeated":
                reason = f"repeated {spec.name} for {kind} {row_id!r} (the first one stands)"
                field = "id"
            else:
                creator = _CREATOR[kind]
                reason = f"unknown {kind} id {row_id!r}: no {creator} event for it"
                field = "id"
            self._reject(n, event, reason, kind=kind, field=field)
            return []

        return refuse

    # convenience methods, one per event kind
    def order_sent(self, **fields: Any) -> bool:
        """Post an ``order_sent`` event (see :meth:`post`)."""
        return self.post({"event": "order_sent", **fields})

    def order_responded(self, id: str, at: datetime | str) -> bool:
        """Post an ``order_responded`` event."""
        return self.post({"event": "order_responded", "id": id, "at": at})

    def order_delivered(self, id: str, at: datetime | str, **fields: Any) -> bool:
        """Post an ``order_delivered`` event (``delivered_quantity``, ``receipt_confirmed_at``)."""
        return self.post({"event": "order_delivered", "id": id, "at": at, **fields})

    def complaint_raised(self, **fields: Any) -> bool:
        """Post a ``complaint_raised`` event."""
        return self.post({"event": "complaint_raised", **fields})

    def complaint_replied(self, id: str, at: datetime | str, **fields: Any) -> bool:
        """Post a ``complaint_replied`` event (``committed_resolution_at``, ``unresolvable``)."""
        return self.post({"event": "complaint_replied", "id": id, "at": at, **fields})

    def complaint_resolved(self, id: str, at: datetime | str) -> bool:
        """Post a ``complaint_resolved`` event."""
        return self.post({"event": "complaint_resolved", "id": id, "at": at})

    def settlement_accepted(self, **fields: Any) -> bool:
        """Post a ``settlement_accepted`` event."""
        return self.post({"event": "settlement_accepted", **fields})

    def settlement_paid(self, id: str, at: datetime | str) -> bool:
        """Post a ``settlement_paid`` event."""
        return self.post({"event": "settlement_paid", "id": id, "at": at})

    def period_closed(self, of: str = "enterprise_period_stats", **fields: Any) -> bool:
        """Post a ``period_closed`` event carrying one period row of kind ``of``."""
        return self.post({"event": "period_closed", "of": of, **fields})

    # -- time --------------------------------------------------------------------------
    def tick(self, now: datetime | date) -> tuple[Finding, ...]:
        """Advance the clock to ``now`` and decide what became due.

        ``now`` must be aware (a date means 24:00 of that day) and not before the last
        tick; otherwise the tick is rejected (kept in :attr:`rejects`).

        Returns:
            The findings that arose at this tick (those passed to ``on_finding``).
        """
        self._seq += 1
        n = self._seq
        event = {"event": "tick", "now": now}
        if self.closed:
            self._reject(n, event, "the monitor is closed")
            return ()
        try:
            when = resolve_as_of(now, self.calendar)
        except NaiveDatetimeError as exc:
            self._reject(n, event, str(exc), field="now")
            return ()
        if self._now is not None and when < self._now:
            self._reject(
                n,
                event,
                f"the clock cannot go back: {when.isoformat()} is before the last tick "
                f"{self._now.isoformat()}",
                field="now",
            )
            return ()
        before = self._day
        day = now if not isinstance(now, datetime) else self.calendar.local_date(when)
        self._set_now(when, day)
        if before is None or self._in_force(before) != self._in_force(day):
            for key in self._results:
                self._mark(key)
        while self._due and self._due[0][0] < when:
            _, _, pi, pk, version = heapq.heappop(self._due)
            res = self._results.get((pi, pk))
            if res is not None and res.version == version:
                self._mark((pi, pk))
        for key in self._every_tick:
            self._mark(key)
        start = len(self._notes)
        self._flush(everything=False, ripe=True)
        self._decide_at_ticks()
        arose = tuple(self._notes[start:])
        self._announce()
        return arose

    def _evaluator(self, when: datetime, day: date | None) -> Run:
        """A reference-engine evaluator for one clock reading (rows come from the view)."""
        return Run(
            self.pack,
            cast("FactSet", self._view),
            as_of=when,
            calendar=self.calendar,
            interpretations=self.interpretations,
            out_of_force=self._out_of_force,
            as_of_day=day,
        )

    def _in_force(self, day: date) -> bool:
        return self.pack.in_force_on(day)

    def _set_now(self, when: datetime, day: date) -> None:
        self._now = when
        self._day = day
        self._ev = self._evaluator(when, day)

    # -- deciding ----------------------------------------------------------------------
    def _partition_key(self, plan: _Plan, row: FactModel) -> Hashable | None:
        """The partition of ``row`` for ``plan``: the reference engine's group key."""
        if not plan.grouped:
            return row.id
        rule = plan.rule
        values: list[object]
        data = row.__dict__
        if plan.key_fields is not None:  # plain fields of the row (the common case)
            values = [data[g] for g in plan.key_fields]
            env: Mapping[str, object] = data
        else:
            ev = self._ev
            env = ev.row_env(row)
            values = []
            try:
                for g in rule.group_by or []:
                    if isinstance(g, str):
                        values.append(env.get(g))
                    else:
                        values.extend(ev.ev(src, env) for src in g.values())
            except (NotApplicable, VbpRulesError):
                return ("?",)  # decided with the rows the reference would also fail on
        if rule.period is not None:
            raw = env.get(rule.period.field)
            if raw is None:
                return None
            day = raw.astimezone(self.calendar.tz).date() if isinstance(raw, datetime) else raw
            if not plan.streak and isinstance(day, date):
                values.append(period_of(day, rule.period.unit).start)
        return tuple(values)

    def _changed(self, kind: str, row: FactModel, fields: frozenset[str] | None = None) -> None:
        """Re-partition a new or updated row; mark what it touches for a decision.

        ``fields``: the fields an update changed (None for a new row). A rule whose text
        names none of them cannot decide differently, so it is left alone. A new batch
        may set parameters (``per_batch``) of any rule: everything is re-decided.
        """
        self._versions[kind] += 1
        if kind == "batches":
            self._view.batches = tuple(self._rows["batches"].values())
            self._ev = self._evaluator(self._now or _NEVER, self._day)
            for p in self._plans:
                for pk in p.members:
                    self._mark((p.index, pk))
        for plan in self._by_kind[kind]:
            if fields is not None and plan.reads.isdisjoint(fields):
                continue
            new = self._partition_key(plan, row)
            old = plan.row_key.get(row.id)
            if old is not None and old != new:
                group = plan.members.get(old)
                if group is not None:
                    group.pop(row.id, None)
                self._mark((plan.index, old))
            if new is None:
                plan.row_key.pop(row.id, None)
                continue
            plan.row_key[row.id] = new
            plan.members.setdefault(new, {})[row.id] = None
            self._mark((plan.index, new))
        if self._now is not None:
            self._flush(everything=False)

    def _mark(self, key: tuple[int, Hashable]) -> None:
        if self._plans[key[0]].immediate:
            self._dirty[key] = None
        else:
            self._deferred[key] = None

    def _flush(self, *, everything: bool, ripe: bool = False) -> None:
        """Decide the dirty partitions, and deferred ones when ``everything`` (or, when
        ``ripe``, those whose period has ended)."""
        if self._now is None:
            return
        todo = list(self._dirty)
        self._dirty.clear()
        if everything or ripe:
            for key in list(self._deferred):
                if everything or self._ripe(self._plans[key[0]], key[1]):
                    del self._deferred[key]
                    todo.append(key)
        for pi, pk in todo:
            self._decide(self._plans[pi], pk)

    def _ripe(self, plan: _Plan, pk: Hashable) -> bool:
        """Whether a deferred partition's period has ended by the current day."""
        period = plan.rule.period
        if period is None or not isinstance(pk, tuple) or not pk:
            return False
        start = pk[-1]
        if not isinstance(start, date) or self._day is None:
            return True
        return period_of(start, period.unit).end < self._day

    def _decide(self, plan: _Plan, pk: Hashable) -> None:
        ev = self._ev
        rule = plan.rule
        members = plan.members.get(pk) or {}
        table = self._rows[plan.kind]
        self._view.kind = plan.kind
        self._view.rows_of = rows = tuple(table[rid] for rid in members)
        ev.findings = []
        ev.skips = []
        ev.forget_exemption_events()
        dues: list[datetime | None] = []
        if plan.streak:
            assert isinstance(rule, StreakRule)  # noqa: S101
            ev.streak(rule)
        else:
            for unit in ev.units(rule):
                before = len(ev.skips)
                ev.one(rule, unit)
                if isinstance(rule, DeadlineRule) and any(
                    s.reason == "pending" for s in ev.skips[before:]
                ):
                    dues.append(self._due_of(rule, unit))
        key = (plan.index, pk)
        old = self._results.get(key)
        version = (old.version + 1) if old is not None else 1
        new = _Result(
            findings=tuple(ev.findings),
            skips=tuple(ev.skips),
            version=version,
            stale_as_of=any(name == "as_of" for f in ev.findings for name, _ in f.values)
            or any(s.reason == "pending" for s in ev.skips),
            at=self._now,
        )
        self._view.rows_of = ()
        if not new.findings and not new.skips and not members:
            self._results.pop(key, None)
            plan.members.pop(pk, None)
        else:
            self._results[key] = new
        self._every_tick.discard(key)
        if plan.as_of and members:
            dues.append(self._horizon(plan, rows))
        for due in dues:
            if due is None:
                self._every_tick.add(key)
            elif due is not _FAR:
                heapq.heappush(self._due, (due, self._seq, plan.index, pk, version))
        self._compare(old.findings if old is not None else (), new.findings)

    def _horizon(self, plan: _Plan, rows: Sequence[FactModel]) -> datetime | None:
        """When a decision that reads ``as_of`` may next change: the earliest instant a
        row's value compared with ``as_of`` is reached (None: re-decide every tick).

        The heap fires an entry once ``now`` is strictly after it: an instant ``x`` still
        ahead fires from ``x`` on (``as_of >= x`` turns true at ``x``), one equal to now
        fires just after it (``as_of > x``).
        """
        if plan.horizon is None:
            return None
        assert self._now is not None  # noqa: S101 - decisions need a clock
        now = self._now
        ev = self._ev
        best = _FAR
        for row in rows:
            env = ev.row_env(row)
            for source in plan.horizon:
                try:
                    x = ev.ev(source, env)
                except (NotApplicable, VbpRulesError):
                    return None
                if x is None:
                    continue
                if not isinstance(x, datetime):
                    return None
                if x > now:
                    x -= _TICK
                elif x < now:
                    continue
                best = min(best, x)
        ev.ctx.reset()
        return best

    def _due_of(self, rule: DeadlineRule, unit: Unit) -> datetime | None:
        """The instant a pending deadline becomes due (as the reference engine computes it)."""
        ev = self._ev
        env = unit.env
        try:
            if rule.due is not None:
                due = ev.ev(rule.due, env)
            else:
                assert rule.start is not None  # noqa: S101
                assert rule.window is not None  # noqa: S101
                due = ev.ctx.deadline(ev.ev(rule.start, env), env.get(rule.window))
        except (NotApplicable, VbpRulesError):  # pragma: no cover - it was just computed
            return None
        finally:
            ev.ctx.reset()
        if isinstance(due, date) and not isinstance(due, datetime):
            due = datetime.combine(due + timedelta(days=1), time(0), tzinfo=self.calendar.tz)
        return due if isinstance(due, datetime) else None

    def _compare(self, old: tuple[Finding, ...], new: tuple[Finding, ...]) -> None:
        if self.on_finding is None:
            return
        before = {f.key: f for f in old}
        for f in new:
            prev = before.get(f.key)
            if prev is None or prev.outcome != f.outcome or prev.tier != f.tier:
                self._notes.append(f)

    def _announce(self) -> None:
        if not self._notes or self.on_finding is None:
            self._notes.clear()
            return
        notes, self._notes = self._notes, []
        for f in notes:
            self.on_finding(f)

    def _refresh(self) -> None:
        """Decide deferred partitions and refresh absences to the current ``as_of``."""
        if self._now is None:
            return
        for key, res in list(self._results.items()):
            if res.stale_as_of and res.at != self._now:
                self._mark(key)
        self._flush(everything=True)
        self._decide_at_ticks()
        self._announce()

    def _decide_at_ticks(self) -> None:
        """Decide the rules over state facts (and exempted, relative ones) with the shared
        plan over the whole fact state, as the reference engine does, once per clock
        reading and fact version."""
        if not self._tick_needed or self._now is None:
            return
        day = self._day
        stamp = (
            self._now if self._tick_clock else None,
            # the in-force flag reads the as-of day; an out-of-force skip names it
            day if self._out_of_force != "flag" or day is None else self._in_force(day),
            *(self._versions[k] for k in self._tick_kinds),
        )
        if stamp == self._tick_stamp:
            return
        run = Run(
            self.pack,
            _State(self._rows),
            as_of=self._now,
            calendar=self.calendar,
            interpretations=self.interpretations,
            out_of_force=self._out_of_force,
            as_of_day=self._day,
        )
        for rule in self.pack.rules:  # Run.run's dispatch, without its row accounting
            if rule.id not in self._tick_ids:
                continue
            run.run_rule(rule)
        run.exemption_leftovers()
        old = self._tick_findings
        self._tick_findings = tuple(run.findings)
        self._tick_skips = tuple(run.skips)
        self._tick_stamp = stamp
        self._compare(old, self._tick_findings)

    # -- results -----------------------------------------------------------------------
    def findings(self) -> tuple[Finding, ...]:
        """The current findings of the supported rules, as the reference engine gives
        them on the facts seen so far ``as_of`` the last tick (sorted)."""
        self._refresh()
        return sort_findings(
            [*(f for res in self._results.values() for f in res.findings), *self._tick_findings]
        )

    def skips(self) -> tuple[Skip, ...]:
        """Rule-level skips (other interpretation, documentation only) and the current
        skips of the supported rules (pending deadlines, not applicable, ...)."""
        self._refresh()
        return (
            tuple(self._rule_skips)
            + tuple(s for res in self._results.values() for s in res.skips)
            + self._tick_skips
        )

    def facts(self) -> FactSet:
        """The facts the accepted events have built so far (state facts included)."""
        return FactSet(**{k: tuple(v.values()) for k, v in self._rows.items()})

    def evaluation(self) -> Evaluation:
        """The current state as an :class:`~vbp_rules.findings.Evaluation`.

        Raises:
            ValueError: no tick has set the clock yet.
        """
        if self._now is None:
            msg = "the monitor has no time yet: call tick(now) first"
            raise ValueError(msg)
        return Evaluation(
            pack_id=self.pack.id,
            as_of=self._now,
            engine="stream",
            findings=self.findings(),
            skips=self.skips(),
            rejects=self.rejects,
            interpretations=tuple(sorted(self.interpretations.items())),
            input_rows=self._seq,
            metadata=self._metadata(),
            key_columns=subject_key_columns(self.pack),
        )

    def _metadata(self) -> tuple[tuple[str, object], ...]:
        return (
            ("issuer", self.pack.issuer),
            ("lineage", self.pack.lineage()),
            ("supported_rules", self.supported_rules),
            ("unsupported_rules", self.unsupported_rules),
            ("decided_at_ticks", self.tick_rules),
            ("ruleset", self.name),
            ("stats", tuple(sorted(self.stats.items()))),
        )

    # -- lifetime ----------------------------------------------------------------------
    def close(self) -> None:
        """Delete the monitor's durable-rules ruleset; later events are rejected."""
        self._driver.close()

    def __enter__(self) -> Monitor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"now={self._now.isoformat() if self._now else None}"
        return f"<Monitor {self.pack.id} {state} rules={len(self.supported_rules)}>"


# ----------------------------------------------------------------------------- replay


def _end_of_day(day: date, calendar: WorkCalendar) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=calendar.tz)


def replay_events(
    facts: FactSet, *, calendar: WorkCalendar | None = None
) -> list[tuple[datetime, dict[str, Any]]]:
    """The events that reproduce a fact set, in time order: ``[(instant, event), ...]``.

    Orders become ``order_sent`` (with every field known at sending), ``order_responded``
    and ``order_delivered``; complaints ``complaint_raised``, ``complaint_replied`` (with
    the committed resolution time) and ``complaint_resolved``; settlements
    ``settlement_accepted`` and ``settlement_paid``; period rows ``period_closed`` at
    24:00 of their last day. Events at the same instant keep the lifecycle order, then
    the fact set's order. Rows of other kinds produce no event.
    """
    cal = calendar or WorkCalendar.china()
    out: list[tuple[datetime, int, int, dict[str, Any]]] = []
    order = 0

    def add(at: datetime, name: str, event: dict[str, Any]) -> None:
        nonlocal order
        order += 1
        out.append((at, _STAGE_RANK[name], order, {"event": name, **event}))

    for row in facts.orders:
        data = row.model_dump(exclude_none=True)
        sent = {k: v for k, v in data.items() if k not in ("responded_at", "delivered_at")}
        if row.delivered_at is not None:
            for f in ("delivered_quantity", "receipt_confirmed_at"):
                sent.pop(f, None)
        add(row.sent_at, "order_sent", sent)
        if row.responded_at is not None:
            add(row.responded_at, "order_responded", {"id": row.id, "at": row.responded_at})
        if row.delivered_at is not None:
            extra: dict[str, Any] = {"delivered_quantity": row.delivered_quantity}
            if row.receipt_confirmed_at is not None:
                extra["receipt_confirmed_at"] = row.receipt_confirmed_at
            add(
                row.delivered_at, "order_delivered", {"id": row.id, "at": row.delivered_at, **extra}
            )
    for c in facts.complaints:
        data = c.model_dump(exclude_none=True)
        raised = {k: v for k, v in data.items() if k not in ("replied_at", "resolved_at")}
        if c.replied_at is not None:
            raised.pop("committed_resolution_at", None)
        add(c.raised_at, "complaint_raised", raised)
        if c.replied_at is not None:
            reply: dict[str, Any] = {"id": c.id, "at": c.replied_at}
            if c.committed_resolution_at is not None:
                reply["committed_resolution_at"] = c.committed_resolution_at
            add(c.replied_at, "complaint_replied", reply)
        if c.resolved_at is not None:
            add(c.resolved_at, "complaint_resolved", {"id": c.id, "at": c.resolved_at})
    for st in facts.settlements:
        data = st.model_dump(exclude_none=True)
        data.pop("paid_at", None)
        add(st.accepted_at, "settlement_accepted", data)
        if st.paid_at is not None:
            add(st.paid_at, "settlement_paid", {"id": st.id, "at": st.paid_at})
    for kind in _SPEC["period_closed"].kinds:
        for period_row in facts.rows(kind):
            data = period_row.model_dump(exclude_none=True)
            end = data["period_end"]
            add(_end_of_day(end, cal), "period_closed", {"of": kind, **data})
    out.sort(key=lambda e: (e[0], e[1], e[2]))
    return [(at, event) for at, _, _, event in out]


def state_events(facts: FactSet) -> list[dict[str, Any]]:
    """The ``fact_asserted`` events that assert a fact set's state facts (every kind in
    :data:`STATE_KINDS`: batches, agreements, listings, ...), in the fact set's order."""
    return [
        {"event": "fact_asserted", "of": kind, **row.model_dump(exclude_none=True)}
        for kind in STATE_KINDS
        for row in facts.rows(kind)
    ]


def replay(
    pack: Pack,
    facts: FactSet | Mapping[str, Iterable[Any]],
    *,
    as_of: datetime | date,
    interpretations: Mapping[str, str] | None = None,
    calendar: WorkCalendar | None = None,
    out_of_force: OutOfForcePolicy = "flag",
    on_finding: Notify | None = None,
    tick_every: timedelta | None = None,
) -> Evaluation:
    """Replay a fact set through a :class:`Monitor` and return its evaluation.

    The events of :func:`replay_events` are fed in time order; the clock ticks to
    ``as_of`` once every event up to it has been fed (and every ``tick_every`` before,
    if given); events dated after ``as_of`` are fed last, as the reference engine also
    reads every fact whatever its date. State facts (:func:`state_events`) are asserted
    first. The evaluation equals the reference engine's: findings, skips (with the row
    accounting) and rejects, in its order.

    Raises:
        StreamUnavailableError: durable-rules is not installed.
        NaiveDatetimeError: ``as_of`` is naive.
        PackValidationError: an unknown interpretation or option.
    """
    cal = calendar or WorkCalendar.china()
    when = resolve_as_of(as_of, cal)
    fs = facts if isinstance(facts, FactSet) else FactSet.from_records(facts)
    events = replay_events(fs, calendar=cal)
    state = state_events(fs)
    with Monitor(
        pack,
        calendar=cal,
        interpretations=interpretations,
        on_finding=on_finding,
        out_of_force=out_of_force,
    ) as monitor:
        for fact in state:
            monitor.post(fact)
        next_tick = events[0][0] + tick_every if (tick_every and events) else None
        ticked = False
        for at, event in events:
            while next_tick is not None and next_tick < at and next_tick < when:
                monitor.tick(next_tick)
                next_tick += cast("timedelta", tick_every)
            if not ticked and at > when:
                monitor.tick(as_of)
                ticked = True
            monitor.post(event)
        if not ticked:
            monitor.tick(as_of)
        findings = monitor.findings()
        skips = list(monitor.skips())
        stream_rejects = monitor.rejects
        metadata = monitor._metadata()
    seen = {r for f in findings for r in f.rows} | {r for s in skips for r in s.rows}
    pos = {(kind, row.id): i for kind in FACT_KINDS for i, row in enumerate(fs.rows(kind))}
    findings = tuple(attrs.evolve(f, rows=_fact_order(f.rows, pos)) for f in findings)
    skips = _skip_order(pack, [attrs.evolve(s, rows=_fact_order(s.rows, pos)) for s in skips], pos)
    skips.extend(accounting_skips(pack, fs, seen))
    return Evaluation(
        pack_id=pack.id,
        as_of=when,
        engine="stream",
        findings=findings,
        skips=tuple(skips),
        rejects=fs.rejects + stream_rejects,
        interpretations=tuple(sorted(resolve_interpretations(pack, interpretations).items())),
        input_rows=fs.total_rows(),
        metadata=(*metadata, ("events", len(events) + len(state))),
        key_columns=subject_key_columns(pack),
    )


def _fact_order(rows: tuple[RowRef, ...], pos: Mapping[RowRef, int]) -> tuple[RowRef, ...]:
    """A subject's rows in fact-set order, kind by kind (the stream has arrival order)."""
    if len(rows) < 2 or any(r not in pos for r in rows):
        return rows
    out = list(rows)
    for kind in {k for k, _ in rows}:
        slots = [i for i, r in enumerate(rows) if r[0] == kind]
        for i, r in zip(slots, sorted((rows[i] for i in slots), key=pos.__getitem__), strict=True):
            out[i] = r
    return tuple(out)


def _skip_order(pack: Pack, skips: list[Skip], pos: Mapping[RowRef, int]) -> list[Skip]:
    """Skips in the reference engine's order: rule by rule in pack order (a rule's
    subjects by their first row in the fact set), then exemption events no subject used."""
    rank = {r.id: i for i, r in enumerate(pack.rules)}
    exemptions = {r.id for r in pack.rules if isinstance(r, ExemptionRule)}

    def key(s: Skip) -> tuple[int, int, int]:
        late = 1 if s.rule_id in exemptions else 0
        first = min((pos.get(r, -1) for r in s.rows[:1]), default=-1)
        return (late, rank.get(s.rule_id or "", len(rank)), first)

    return sorted(skips, key=key)


def evaluate_stream(
    pack: Pack,
    facts: FactSet | Mapping[str, Iterable[Any]],
    *,
    as_of: datetime | date,
    interpretations: Mapping[str, str] | None = None,
    calendar: WorkCalendar | None = None,
    out_of_force: OutOfForcePolicy = "flag",
) -> Evaluation:
    """:func:`vbp_rules.evaluate` with the stream engine (what ``--engine stream`` runs).

    Same signature and result type as the reference engine's ``evaluate``; see
    :func:`replay`.
    """
    return replay(
        pack,
        facts,
        as_of=as_of,
        interpretations=interpretations,
        calendar=calendar,
        out_of_force=out_of_force,
    )
