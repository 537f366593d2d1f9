"""The reference engine: row by row, in plain Python, exact. The specification.

Every other engine must return the same findings, skips and rejects on the same facts.
It reads each rule's rows one by one into subjects and decides them with the shared
meaning of :mod:`vbp_rules.engine.semantics`; it favours clarity over speed. See
``docs/engines.md`` for each rule kind's meaning.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from vbp_rules.calendar import WorkCalendar
from vbp_rules.engine.semantics import (
    OutOfForcePolicy,
    Run,
    accounting_skips,
    evaluation_settings,
    resolve_as_of,
    resolve_interpretations,
)
from vbp_rules.facts import FactSet
from vbp_rules.findings import Evaluation
from vbp_rules.packs.pack import Pack

__all__ = [
    "OutOfForcePolicy",
    "accounting_skips",
    "evaluate",
    "evaluation_settings",
    "resolve_as_of",
    "resolve_interpretations",
]


def evaluate(
    pack: Pack,
    facts: FactSet | Mapping[str, Iterable[Any]],
    *,
    as_of: datetime | date,
    interpretations: Mapping[str, str] | None = None,
    calendar: WorkCalendar | None = None,
    out_of_force: OutOfForcePolicy = "flag",
    rules: Iterable[str] | None = None,
) -> Evaluation:
    """Evaluate a pack against facts with the reference engine.

    Args:
        pack: a loaded pack (:func:`vbp_rules.load_pack`).
        facts: a :class:`~vbp_rules.facts.FactSet`, or a mapping ``{kind: [rows]}``.
        as_of: the instant the evaluation is made at (a date means 24:00 of that day);
            deadlines with no end event are breached only once due before ``as_of``.
        interpretations: named readings of ambiguous clauses (defaults from the pack).
        calendar: the working-day calendar (default :meth:`WorkCalendar.china`).
        out_of_force: for subjects dated outside the pack's in-force window: ``flag``
            every finding (default), ``skip`` them, or raise (``error``).
        rules: evaluate only these rule ids (unchecked here; :func:`vbp_rules.evaluate`
            checks them); every row is still accounted for.

    Returns:
        The findings (compliant ones included), skips and rejected inputs; every input
        row is accounted for.

    Raises:
        NaiveDatetimeError: ``as_of`` is a naive datetime.
        PackValidationError: an unknown interpretation or option.
        OutOfForceError: ``out_of_force="error"`` and a subject is out of force.
    """
    fs = facts if isinstance(facts, FactSet) else FactSet.from_records(facts)
    run = Run(
        pack,
        fs,
        **evaluation_settings(
            pack, as_of=as_of, interpretations=interpretations, calendar=calendar
        ),
        out_of_force=out_of_force,
        only_rules=frozenset(rules) if rules is not None else None,
    )
    run.run()
    return run.result("reference")
