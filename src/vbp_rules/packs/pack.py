"""The runtime policy pack: a validated :class:`PackModel` with resolved parameter values."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import attrs

from vbp_rules.errors import ExpressionError, PackValidationError
from vbp_rules.expr import Expression
from vbp_rules.packs._params import convert_parameter
from vbp_rules.packs.model import PackModel, Parameter, Rule
from vbp_rules.vocab import ACTIONS, Action

__all__ = ["Pack", "PackStatus"]

PackStatus = Literal["in_force", "draft", "expired", "not_yet_in_force"]


@attrs.frozen(kw_only=True, slots=True, eq=False)
class Pack:
    """A loaded, validated policy pack.

    Build one with :func:`vbp_rules.load_pack`; derive what-if variants with
    :meth:`with_overrides` (a new, re-validated pack).
    """

    model: PackModel
    path: Path | None = None
    parent: Pack | None = None
    overrides: Mapping[str, object] = attrs.field(factory=dict)
    values: Mapping[str, object | None] = attrs.field(factory=dict)
    _exprs: dict[str, Expression] = attrs.field(factory=dict, repr=False)
    _aggregates: dict[str, tuple[str, Expression | None]] = attrs.field(factory=dict, repr=False)

    # --- metadata -------------------------------------------------------------------
    @property
    def id(self) -> str:
        """The pack id, e.g. ``jiangxi-2024``."""
        return self.model.id

    @property
    def title(self) -> str:
        """The English title."""
        return self.model.title.en

    @property
    def rules(self) -> tuple[Rule, ...]:
        """The rules, in pack order (inherited rules first)."""
        return tuple(self.model.rules)

    @property
    def parameters(self) -> Mapping[str, Parameter]:
        """Parameter declarations by name."""
        return MappingProxyType(self.model.parameters)

    @property
    def actions(self) -> Mapping[str, Action]:
        """Every action code the pack may use: the shared vocabulary and its own."""
        own = {
            code: Action(code=code, zh=a.zh, en=a.en, severity=a.severity, effect=a.effect)
            for code, a in self.model.actions.items()
        }
        return MappingProxyType({**ACTIONS, **own})

    @property
    def issuer(self) -> str:
        """The issuing bodies, Chinese names joined."""
        return "、".join(i.zh for i in self.model.issuers)

    def rule(self, rule_id: str) -> Rule:
        """The rule with this id.

        Raises:
            KeyError: no such rule (the message lists close matches).
        """
        for r in self.model.rules:
            if r.id == rule_id:
                return r
        import difflib  # noqa: PLC0415

        close = difflib.get_close_matches(rule_id, [r.id for r in self.model.rules])
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise KeyError(f"pack {self.id} has no rule {rule_id!r}{hint}")

    def status_on(self, day: date) -> PackStatus:
        """The pack's status on a day: draft, in force, expired or not yet in force."""
        if self.model.status == "draft":
            return "draft"
        window = self.model.in_force
        if window is None:
            return "in_force"
        if day < window.start:
            return "not_yet_in_force"
        if window.end is not None and day > window.end:
            return "expired"
        return "in_force"

    def in_force_on(self, day: date) -> bool:
        """True when ``day`` lies inside the in-force window (drafts: never)."""
        return self.status_on(day) == "in_force"

    def lineage(self) -> tuple[str, ...]:
        """This pack's id and the ids of the packs it extends, nearest first."""
        out = [self.id]
        p = self.parent
        while p is not None:
            out.append(p.id)
            p = p.parent
        return tuple(out)

    # --- parameters -----------------------------------------------------------------
    def value(self, name: str) -> object | None:
        """A parameter's exact value (None when unspecified and not configured)."""
        if name not in self.model.parameters:
            raise KeyError(f"pack {self.id} has no parameter {name!r}")
        return self.values.get(name)

    def unspecified(self) -> tuple[str, ...]:
        """Parameters the source leaves unspecified and no caller has configured."""
        return tuple(n for n, v in self.values.items() if v is None)

    def with_overrides(self, overrides: Mapping[str, object]) -> Pack:
        """A new pack with some parameter values replaced, validated like a pack file.

        Values are written as in a pack (``"85%"``, ``2``, ``"12.50"``).

        Raises:
            PackValidationError: unknown parameter or a value of the wrong type, or a
                tiers rule whose bands stop being contiguous.
        """
        from vbp_rules.packs._checks import check_pack  # noqa: PLC0415

        merged = dict(self.overrides)
        merged.update(overrides)
        pack = Pack.build(self.model, path=self.path, parent=self.parent, overrides=merged)
        check_pack(pack, where={}, file=str(self.path) if self.path else None)
        return pack

    # --- expressions ----------------------------------------------------------------
    def expr(self, source: str) -> Expression:
        """The parsed (cached) expression for a source text used in this pack."""
        found = self._exprs.get(source)
        if found is None:
            from vbp_rules.engine._functions import parse_expression  # noqa: PLC0415

            found = parse_expression(source)
            self._exprs[source] = found
        return found

    def aggregate(self, source: str) -> tuple[str, Expression | None]:
        """The (cached) aggregate function name and row expression of ``sum(x)`` etc."""
        found = self._aggregates.get(source)
        if found is None:
            from vbp_rules.engine._functions import split_aggregate  # noqa: PLC0415

            found = split_aggregate(source)
            self._aggregates[source] = found
        return found

    def expression_names(self, sources: Iterable[str | None]) -> set[str]:
        """Every name the given expressions (or aggregates like ``sum(x)``) read.

        Texts that do not parse are passed over (the loader has reported them).
        """
        from vbp_rules.engine._functions import split_aggregate  # noqa: PLC0415

        out: set[str] = set()
        for source in sources:
            if not source:
                continue
            try:
                _, inner = split_aggregate(source)
            except ExpressionError:
                inner = None
            try:
                out |= set(inner.names if inner is not None else self.expr(source).names)
            except ExpressionError:
                continue
        return out

    # --- construction ---------------------------------------------------------------
    @classmethod
    def build(
        cls,
        model: PackModel,
        *,
        path: Path | None = None,
        parent: Pack | None = None,
        overrides: Mapping[str, object] | None = None,
    ) -> Pack:
        """Resolve parameter values (with overrides) into a runtime pack.

        Raises:
            PackValidationError: a value or override that does not fit its type.
        """
        applied = dict(overrides or {})
        pending = dict(applied)
        problems: list[tuple[str, str]] = []
        values: dict[str, object | None] = {}
        for name, p in model.parameters.items():
            raw: Any = pending.pop(name, p.value)
            if raw is None:
                # 次月底 needs no number: stated, it is a value of its own; unspecified, none
                stated = p.type == "end_of_next_month" and not p.unspecified
                values[name] = convert_parameter(p.type, None) if stated else None
                continue
            try:
                values[name] = convert_parameter(p.type, raw)
            except (ValueError, TypeError) as exc:
                problems.append((f"parameters.{name}.value", str(exc)))
        if pending:
            import difflib  # noqa: PLC0415

            for name in pending:
                close = difflib.get_close_matches(name, list(model.parameters))
                hint = f"; did you mean {', '.join(close)}?" if close else ""
                problems.append((f"overrides.{name}", f"unknown parameter {name!r}{hint}"))
        if problems:
            raise PackValidationError(problems, pack_id=model.id, path=str(path) if path else None)
        return cls(
            model=model,
            path=path,
            parent=parent,
            overrides=MappingProxyType(applied),
            values=MappingProxyType(values),
        )
