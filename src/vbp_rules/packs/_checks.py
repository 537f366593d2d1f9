"""Whole-pack semantic checks, run when a pack is loaded or overridden.

Everything a rule names (fact kinds, fields, parameters, actions, bound words,
interpretations, other rules) is checked before anything runs, with did-you-mean hints;
tiers are checked for gaps and overlaps. Problems are collected, located, then raised
together as one :class:`~vbp_rules.errors.PackValidationError`.
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Collection, Iterable, Mapping
from fractions import Fraction
from typing import Any

from vbp_rules._expr_parser import BinaryOp, Call, Name, Number, iter_nodes
from vbp_rules._yaml import format_location
from vbp_rules.engine._functions import split_aggregate
from vbp_rules.errors import ExpressionError, PackValidationError
from vbp_rules.facts import FACT_KINDS
from vbp_rules.packs.model import (
    DURATION_TYPES,
    BoundSpec,
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
from vbp_rules.vocab import BOUND_WORDS

__all__ = ["GLOBAL_NAMES", "bound_operator", "check_pack", "subject_names"]

#: Names every expression may use besides fields and parameters.
GLOBAL_NAMES = frozenset({"as_of"})
_NUMERIC_PARAMS = frozenset(
    {"ratio", "count", "money", "number", "working_days", "calendar_days", "hours"}
)


def _hint(name: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(options), n=3)
    return f"; did you mean {', '.join(close)}?" if close else ""


def bound_operator(b: BoundSpec) -> str:
    """The operator of a bound (its word mapped, or its explicit ``op``)."""
    if b.op is not None:
        return b.op
    assert b.word is not None  # noqa: S101 - guaranteed by the model validator
    return BOUND_WORDS[b.word].operator


def _fields(kind: str) -> frozenset[str]:
    return frozenset(FACT_KINDS[kind].model_fields)


def _infer(node: Any, types: Mapping[str, str]) -> str | None:
    """The value type of an expression node when it is plain from the names' types."""
    if isinstance(node, Number):
        return "number"
    if isinstance(node, Name):
        return types.get(node.id)
    if isinstance(node, BinaryOp):
        both = {_infer(node.left, types), _infer(node.right, types)}
        return "number" if both == {"number"} else None
    if isinstance(node, Call) and node.func in ("min", "max"):
        kinds = {_infer(arg, types) for arg in node.args}
        return kinds.pop() if len(kinds) == 1 else None
    return None


def _mixed_extremes(node: Any, types: Mapping[str, str]) -> str | None:
    """A ``min``/``max`` call whose arguments are known to be of different types."""
    for part in iter_nodes(node):
        if isinstance(part, Call) and part.func in ("min", "max"):
            kinds = {k for arg in part.args if (k := _infer(arg, types)) is not None}
            if len(kinds) > 1:
                return f"{part.func}() mixes {' and '.join(sorted(kinds))} values"
    return None


def _a(word: str) -> str:
    return f"an {word}" if word[0] in "aeiou" else f"a {word}"


def field_type(kind: str, field: str) -> str | None:
    """The value type of a fact field: number, instant, date, text or flag (None: unknown).

    >>> field_type("orders", "sent_at"), field_type("orders", "ordered_quantity")
    ('instant', 'number')
    """
    info = FACT_KINDS[kind].model_fields.get(field)
    if info is None:
        return None
    text = str(info.annotation)
    for needle, name in (("datetime", "instant"), ("date", "date"), ("bool", "flag")):
        if needle in text:
            return name
    if any(t in text for t in ("int", "Decimal", "Fraction")):
        return "number"
    return "text" if "str" in text else None


def subject_names(rule: Rule) -> tuple[frozenset[str], frozenset[str]]:
    """(row names, subject names) available to a rule's expressions.

    Row names are the fact kind's fields; subject names are the fields for row-level
    rules, or group keys, aggregates and period bounds for grouped rules.
    """
    if rule.over is None or rule.over not in FACT_KINDS:
        return frozenset(), frozenset()
    row = _fields(rule.over)
    if not (rule.group_by or rule.period):
        return row, row
    names: set[str] = set()
    for g in rule.group_by or []:
        names.update([g] if isinstance(g, str) else g.keys())
    names.update((rule.aggregate or {}).keys())
    if rule.period:
        names.update({"period_start", "period_end"})
    return row, frozenset(names)


class _Checker:
    def __init__(self, pack: Pack) -> None:
        self.pack = pack
        self.model = pack.model
        self.problems: list[tuple[tuple[Any, ...], str]] = []
        self.params = self.model.parameters

    def add(self, loc: tuple[Any, ...], msg: str) -> None:
        self.problems.append((loc, msg))

    # -- helpers ---------------------------------------------------------------------
    def expr(self, loc: tuple[Any, ...], source: str, names: Collection[str]) -> None:
        try:
            e = self.pack.expr(source)
        except ExpressionError as exc:
            self.add(loc, str(exc).replace("\n", " "))
            return
        allowed = set(names) | set(self.params) | GLOBAL_NAMES
        for n in sorted(e.names - allowed):
            self.add(loc, f"unknown name {n!r} in {source!r}{_hint(n, allowed)}")

    def param(self, loc: tuple[Any, ...], name: str, types: Collection[str], what: str) -> None:
        p = self.params.get(name)
        if p is None:
            self.add(loc, f"unknown parameter {name!r}{_hint(name, self.params)}")
        elif p.type not in types:
            self.add(
                loc, f"parameter {name!r} is a {p.type}; {what} needs {' or '.join(sorted(types))}"
            )

    def infer(self, loc: tuple[Any, ...], source: str, types: Mapping[str, str]) -> str | None:
        """The expression's type where plain; a min/max of mixed types is a problem."""
        try:
            node = self.pack.expr(source).node
        except ExpressionError:
            return None  # reported by expr()
        mixed = _mixed_extremes(node, types)
        if mixed is not None:
            self.add(loc, f"{mixed} in {source!r}; compare numbers with numbers")
        return _infer(node, types)

    def actions(self, loc: tuple[Any, ...], codes: Iterable[str]) -> None:
        known = self.pack.actions
        for i, code in enumerate(codes):
            if code not in known:
                self.add(
                    (*loc, i),
                    f"unknown action {code!r}{_hint(code, known)}; known codes: "
                    f"{', '.join(sorted(known))} (a pack declares its own under 'actions:')",
                )

    def bound(
        self, loc: tuple[Any, ...], b: BoundSpec, names: Collection[str], *, relative: bool = False
    ) -> None:
        if b.word is not None and b.word not in BOUND_WORDS:
            self.add((*loc, "word"), f"unknown bound word {b.word!r}{_hint(b.word, BOUND_WORDS)}")
        if b.parameter is not None:
            self.param((*loc, "parameter"), b.parameter, _NUMERIC_PARAMS, "a bound")
        if b.expr is not None:
            self.expr((*loc, "expr"), b.expr, names)
        if b.value is not None:
            from vbp_rules.packs._params import convert_parameter  # noqa: PLC0415

            try:
                convert_parameter("number", b.value)
            except (ValueError, TypeError) as exc:
                self.add((*loc, "value"), str(exc))
        if b.margin is not None:
            if not relative:
                self.add((*loc, "margin"), "'margin' is only for relative rules")
            self.param((*loc, "margin"), b.margin, {"ratio", "number"}, "a margin")

    # -- the pack --------------------------------------------------------------------
    def run(self) -> None:
        for name, p in self.params.items():
            if p.per_batch is not None and p.per_batch not in _fields("batches"):
                self.add(
                    ("parameters", name, "per_batch"),
                    f"batches have no field {p.per_batch!r}"
                    + _hint(p.per_batch, _fields("batches")),
                )
        ids: dict[str, int] = {}
        for i, rule in enumerate(self.model.rules):
            if rule.id in ids:
                self.add(
                    ("rules", i, "id"),
                    f"duplicate rule id {rule.id!r} (also rules[{ids[rule.id]}])",
                )
            ids.setdefault(rule.id, i)
        for i, rule in enumerate(self.model.rules):
            self.rule(("rules", i), rule, ids)

    def rule(self, loc: tuple[Any, ...], rule: Rule, ids: Mapping[str, int]) -> None:  # noqa: PLR0915
        if rule.over is not None and rule.over not in FACT_KINDS:
            self.add(
                (*loc, "over"), f"unknown fact kind {rule.over!r}{_hint(rule.over, FACT_KINDS)}"
            )
            return
        row, subj = subject_names(rule)
        if rule.over is None and rule.kind not in ("needs_review",):
            self.add((*loc, "over"), f"a {rule.kind} rule needs 'over' (the fact kind it reads)")
            return
        if rule.where:
            self.expr((*loc, "where"), rule.where, row)
        for j, g in enumerate(rule.group_by or []):
            if isinstance(g, str):
                if g not in row:
                    self.add((*loc, "group_by", j), f"unknown field {g!r}{_hint(g, row)}")
            else:
                for name, source in g.items():
                    self.expr((*loc, "group_by", j, name), source, row)
        if rule.period and rule.period.field not in row:
            self.add(
                (*loc, "period", "field"),
                f"unknown field {rule.period.field!r}{_hint(rule.period.field, row)}",
            )
        types: dict[str, str] = {}  # known value types of aggregates and row fields
        if not (rule.group_by or rule.period):
            types = {f: t for f in row if (t := field_type(rule.over or "", f)) is not None}
        for name, source in (rule.aggregate or {}).items():
            try:
                fn, inner = split_aggregate(source)
            except ExpressionError as exc:
                self.add((*loc, "aggregate", name), str(exc))
                continue
            if inner is None:
                types[name] = "number"
                continue
            text = source.partition("(")[2][:-1]
            self.expr((*loc, "aggregate", name), text, row)
            field = text.strip()
            of = field_type(rule.over or "", field) if field in row else None
            if fn in ("count_if", "sum"):
                types[name] = "number"
            elif fn in ("min_of", "max_of", "first") and of is not None:
                types[name] = of
            if fn == "sum" and of not in (None, "number"):
                self.add((*loc, "aggregate", name), f"sum() needs numbers; {field} is {_a(of)}")
        if rule.having:
            self.expr((*loc, "having"), rule.having, subj)
        self.actions((*loc, "actions"), rule.actions)
        if rule.interpretation:
            for name, option in rule.interpretation.items():
                interp = self.model.interpretations.get(name)
                if interp is None:
                    self.add(
                        (*loc, "interpretation", name),
                        f"unknown interpretation {name!r}{_hint(name, self.model.interpretations)}",
                    )
                elif option not in interp.options:
                    self.add(
                        (*loc, "interpretation", name),
                        f"{option!r} is not an option of {name!r}: {sorted(interp.options)}",
                    )
        if isinstance(rule, ThresholdRule):
            if rule.metric:
                self.expr((*loc, "metric", "expr"), rule.metric.expr, subj)
                of = self.infer((*loc, "metric", "expr"), rule.metric.expr, types)
                if of not in (None, "number"):
                    self.add(
                        (*loc, "metric", "expr"),
                        f"the metric {rule.metric.expr.strip()} is {_a(of)}; a threshold "
                        "compares a number",
                    )
            if rule.condition:
                self.expr((*loc, "condition"), rule.condition, subj)
                of = types.get(rule.condition.strip())
                if of not in (None, "flag"):
                    self.add(
                        (*loc, "condition"),
                        f"the condition {rule.condition.strip()} is {_a(of)}; "
                        "a condition must be true or false",
                    )
            for side in ("breach_if", "require"):
                b = getattr(rule, side)
                if b is not None:
                    self.bound((*loc, side), b, subj)
        elif isinstance(rule, TiersRule):
            self.expr((*loc, "metric", "expr"), rule.metric.expr, subj)
            self.infer((*loc, "metric", "expr"), rule.metric.expr, types)
            self.tiers(loc, rule, subj)
        elif isinstance(rule, ChangeBandRule):
            self.expr((*loc, "value"), rule.value, subj)
            self.expr((*loc, "baseline"), rule.baseline, subj)
            for side in ("decrease", "increase"):
                b = getattr(rule, side)
                if b is not None:
                    self.bound((*loc, side), b, subj)
                    if bound_operator(b) not in (">", ">="):
                        self.add(
                            (*loc, side, "word"),
                            f"a {side} bound reads 'more than' (超过/以上); got {b.word or b.op!r}",
                        )
                acts = getattr(rule, f"{side}_actions")
                if acts:
                    self.actions((*loc, f"{side}_actions"), acts)
        elif isinstance(rule, DeadlineRule):
            for part in ("start", "due", "end"):
                src = getattr(rule, part)
                if src is not None:
                    self.expr((*loc, part), src, subj)
            if rule.window is not None:
                self.param((*loc, "window"), rule.window, DURATION_TYPES, "a deadline window")
        elif isinstance(rule, StreakRule):
            self.expr((*loc, "metric", "expr"), rule.metric.expr, subj)
            self.bound((*loc, "breach_if"), rule.breach_if, subj)
        elif isinstance(rule, RelativeRule):
            self.expr((*loc, "metric", "numerator"), rule.metric.numerator, subj)
            self.expr((*loc, "metric", "denominator"), rule.metric.denominator, subj)
            self.bound((*loc, "breach_if"), rule.breach_if, subj, relative=True)
            for j, key in enumerate(rule.population_by):
                if key not in subj:
                    self.add(
                        (*loc, "population_by", j),
                        f"unknown subject key {key!r}{_hint(key, subj)}",
                    )
        elif isinstance(rule, ExemptionRule):
            for j, target in enumerate(rule.exempts):
                if target not in ids:
                    self.add((*loc, "exempts", j), f"unknown rule {target!r}{_hint(target, ids)}")
                    continue
                trule = self.model.rules[ids[target]]
                if isinstance(trule, ExemptionRule):
                    self.add((*loc, "exempts", j), "an exemption cannot exempt another exemption")
                    continue
                _, tsubj = subject_names(trule)
                for ef, tf in rule.match.items():
                    if ef not in row:
                        self.add(
                            (*loc, "match", ef), f"{rule.over} have no field {ef!r}{_hint(ef, row)}"
                        )
                    if tf not in tsubj:
                        self.add(
                            (*loc, "match", ef),
                            f"rule {target!r} subjects have no field {tf!r}{_hint(tf, tsubj)}",
                        )
                for k, src in (rule.overlap or {}).items():
                    self.expr((*loc, "overlap", k), src, tsubj)
        elif isinstance(rule, DeterminationRule):
            cases = list(enumerate(rule.cases))
            for j, case in cases:
                self.case((*loc, "cases", j), case, subj)
            if rule.otherwise is not None:
                self.case((*loc, "otherwise"), rule.otherwise, subj)

    def case(self, loc: tuple[Any, ...], case: Any, subj: Collection[str]) -> None:
        self.expr((*loc, "when"), case.when, subj)
        for name, src in case.values.items():
            self.expr((*loc, "values", name), src, subj)
        self.actions((*loc, "actions"), case.actions)

    def tiers(self, loc: tuple[Any, ...], rule: TiersRule, subj: Collection[str]) -> None:
        bands: list[tuple[int, tuple[str, Fraction] | None, tuple[str, Fraction] | None]] = []
        configured = True
        for j, t in enumerate(rule.tiers):
            tl = (*loc, "tiers", j)
            self.actions((*tl, "actions"), t.actions)
            if t.outcome == "breach" and not t.actions:
                self.add((*tl, "actions"), "a breach tier needs at least one action")
            ends: list[tuple[str, Fraction] | None] = []
            for side, want in (("lower", (">", ">=")), ("upper", ("<", "<="))):
                b = getattr(t, side)
                if b is None:
                    ends.append(None)
                    continue
                self.bound((*tl, side), b, subj)
                if b.word is not None and b.word not in BOUND_WORDS:
                    configured = False
                    ends.append(None)
                    continue
                op = bound_operator(b)
                if op not in want:
                    self.add(
                        (*tl, side),
                        f"{'an' if side == 'upper' else 'a'} {side} bound must read "
                        f"{' or '.join(want)}; {b.word or op!r} reads {op}",
                    )
                val = self.bound_value(b)
                if val is None:
                    configured = False
                ends.append((op, val) if val is not None else None)
            bands.append((j, ends[0], ends[1]))
        if not configured:
            return  # unspecified tier bounds: checked again once a caller configures them
        self.contiguous(loc, rule, bands)

    def bound_value(self, b: BoundSpec) -> Fraction | None:
        from vbp_rules.expr import to_fraction  # noqa: PLC0415

        if b.parameter is not None:
            v = self.pack.values.get(b.parameter)
            if v is None:
                return None
            try:
                return to_fraction(getattr(v, "n", v))
            except (ValueError, TypeError):  # a date parameter: reported by bound()
                return None
        if b.value is not None:
            try:
                return to_fraction(b.value)
            except (ValueError, TypeError):
                return None
        return None  # an expression bound cannot be checked statically

    def contiguous(
        self,
        loc: tuple[Any, ...],
        rule: TiersRule,
        bands: list[tuple[int, tuple[str, Fraction] | None, tuple[str, Fraction] | None]],
    ) -> None:
        def low_key(b: tuple[int, Any, Any]) -> tuple[int, Fraction, int]:
            lo = b[1]
            if lo is None:
                return (0, Fraction(0), 0)
            return (1, lo[1], 0 if lo[0] == ">=" else 1)

        ordered = sorted(bands, key=low_key)
        first, last = ordered[0], ordered[-1]
        if first[1] is not None:
            self.add(
                (*loc, "tiers", first[0], "lower"),
                (
                    "tiers leave a gap: the lowest tier needs no lower bound (values below it "
                    "match no tier)"
                ),
            )
        if last[2] is not None:
            self.add(
                (*loc, "tiers", last[0], "upper"),
                (
                    "tiers leave a gap: the highest tier needs no upper bound (values above it "
                    "match no tier)"
                ),
            )
        for a, b in itertools.pairwise(ordered):
            up, lo = a[2], b[1]
            where = (*loc, "tiers", b[0])
            if up is None or lo is None:
                self.add(
                    where,
                    (
                        f"tiers {rule.tiers[a[0]].id!r} and {rule.tiers[b[0]].id!r} overlap (an "
                        "open bound between them)"
                    ),
                )
                continue
            if up[1] < lo[1]:
                self.add(
                    where,
                    (
                        f"gap between tiers {rule.tiers[a[0]].id!r} (up to {up[1]}) and "
                        f"{rule.tiers[b[0]].id!r} (from {lo[1]})"
                    ),
                )
            elif up[1] > lo[1]:
                self.add(
                    where,
                    (
                        f"tiers {rule.tiers[a[0]].id!r} and {rule.tiers[b[0]].id!r} overlap "
                        f"between {lo[1]} and {up[1]}"
                    ),
                )
            elif (up[0] == "<=") == (lo[0] == ">="):
                what = "overlap at" if up[0] == "<=" else "leave a gap at"
                self.add(
                    where,
                    (
                        f"tiers {rule.tiers[a[0]].id!r} and {rule.tiers[b[0]].id!r} {what} "
                        f"{lo[1]}: one side of a shared bound must include it, the other exclude "
                        "it"
                    ),
                )


def check_pack(
    pack: Pack, *, where: Mapping[tuple[Any, ...], tuple[int, int]], file: str | None
) -> None:
    """Run every semantic check; raise one located error listing all problems.

    Raises:
        PackValidationError: at least one problem.
    """
    checker = _Checker(pack)
    checker.run()
    if checker.problems:
        raise PackValidationError(
            [(format_location(file, where, loc), msg) for loc, msg in checker.problems],
            pack_id=pack.id,
            path=file,
        )
