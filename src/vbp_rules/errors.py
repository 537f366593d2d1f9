"""Typed errors and warnings raised by vbp_rules.

Every error derives from :class:`VbpRulesError` *and* from the built-in exception it
is (``ValueError``, ``LookupError``), so callers can catch either.
"""

from __future__ import annotations

__all__ = [
    "CalendarError",
    "ExpressionError",
    "ExpressionSyntaxError",
    "ExpressionTypeError",
    "FactsError",
    "NaiveDatetimeError",
    "OutOfForceError",
    "PackNotFoundError",
    "PackValidationError",
    "ProvisionalYearError",
    "UnknownNameError",
    "UnknownRuleError",
    "VbpRulesError",
    "VbpRulesWarning",
]


class VbpRulesError(Exception):
    """Root of every error raised by vbp_rules."""


class VbpRulesWarning(UserWarning):
    """Root of every warning issued by vbp_rules."""


class CalendarError(VbpRulesError, ValueError):
    """A calendar query that cannot be answered (bad argument, unsupported year)."""


class NaiveDatetimeError(VbpRulesError, ValueError):
    """A timestamp without a time zone was given where an instant is required.

    Pass an aware ``datetime`` (e.g. ``2024-09-27T15:30+08:00``) or name the zone
    explicitly.
    """


class ProvisionalYearError(CalendarError):
    """Strict mode refused a result that depends on a provisional (unofficial) year."""


class ExpressionError(VbpRulesError, ValueError):
    """A pack expression that does not parse, names something unknown, or misbehaves.

    Attributes:
        source: the expression text.
        offset: 0-based character offset of the problem, when known.
    """

    def __init__(self, message: str, *, source: str = "", offset: int | None = None) -> None:
        self.source = source
        self.offset = offset
        if source and offset is not None:
            message = f"{message}\n  {source}\n  {' ' * offset}^"
        super().__init__(message)


class ExpressionSyntaxError(ExpressionError):
    """Expression text outside the grammar, or over a size/nesting limit."""


class ExpressionTypeError(ExpressionError, TypeError):
    """An expression applied an operator or function to values of the wrong type.

    Examples: a date plus a number, a string compared with a number, a binary float.
    """


class UnknownNameError(ExpressionError, LookupError):
    """An expression names a variable or function that is not known.

    Attributes:
        name: the unknown name.
        suggestions: close known names (did-you-mean), best first.
    """

    def __init__(
        self,
        message: str,
        *,
        name: str,
        suggestions: tuple[str, ...] = (),
        source: str = "",
        offset: int | None = None,
    ) -> None:
        self.name = name
        self.suggestions = suggestions
        super().__init__(message, source=source, offset=offset)


class PackValidationError(VbpRulesError, ValueError):
    """A policy pack that fails validation.

    Attributes:
        pack_id: the pack's id, when known.
        path: the file the pack came from, when known.
        problems: one ``(location, message)`` pair per problem; a location names the
            file, line and field (``pack.yaml:12:5 rules[3].bound.word``).
    """

    def __init__(
        self,
        problems: list[tuple[str, str]],
        *,
        pack_id: str | None = None,
        path: str | None = None,
    ) -> None:
        self.pack_id = pack_id
        self.path = path
        self.problems = problems
        lines = [f"{loc}: {msg}" if loc else msg for loc, msg in problems]
        head = f"invalid policy pack {pack_id or path or ''}".rstrip()
        super().__init__(head + ":\n  " + "\n  ".join(lines))


class PackNotFoundError(VbpRulesError, LookupError):
    """No pack with the requested id is installed."""


class FactsError(VbpRulesError, ValueError):
    """Facts that cannot be read at all (unreadable file, unknown format or fact kind).

    Row-level problems do not raise: they become rejected inputs.
    """


class OutOfForceError(VbpRulesError, ValueError):
    """Strict evaluation refused facts dated outside the pack's in-force window."""


class UnknownRuleError(VbpRulesError, LookupError):
    """A rule id the pack does not have (``evaluate(..., rules=[...])``).

    Attributes:
        pack_id: the pack asked.
        rule_id: the unknown id.
    """

    def __init__(self, message: str, *, pack_id: str, rule_id: str) -> None:
        self.pack_id = pack_id
        self.rule_id = rule_id
        super().__init__(message)
