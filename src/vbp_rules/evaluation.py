"""The one entry point: :func:`evaluate` a pack against facts with any engine.

It accepts what callers hold — a pack or its id or path; facts as a ``FactSet``, a
``{kind: rows | DataFrame}`` mapping, or a file or folder path; ``as_of`` as a date, an
aware datetime or ISO text — and hands the chosen engine what it reads.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from vbp_rules.errors import NaiveDatetimeError, UnknownRuleError
from vbp_rules.facts import FactSet, load_facts
from vbp_rules.facts._readers import did_you_mean
from vbp_rules.packs import load_pack
from vbp_rules.packs.pack import Pack
from vbp_rules.results import subject_key_columns

if TYPE_CHECKING:
    from vbp_rules.calendar import WorkCalendar
    from vbp_rules.engine.reference import OutOfForcePolicy
    from vbp_rules.findings import Evaluation

__all__ = ["coerce_as_of", "coerce_facts", "coerce_pack", "evaluate"]

_FACTS_ACCEPTED = (
    "a FactSet, a mapping {kind: rows or DataFrame}, or a path to a facts file or folder"
)


def coerce_pack(pack: object) -> Pack:
    """A loaded pack from a ``Pack``, a pack id or a path.

    Raises:
        TypeError: anything else (the message names what was given).
        PackNotFoundError: no pack with this id.
    """
    if isinstance(pack, Pack):
        return pack
    if isinstance(pack, str | os.PathLike):
        return load_pack(os.fspath(pack) if isinstance(pack, os.PathLike) else pack)
    msg = (
        f"pack must be a Pack, a pack id (e.g. 'jiangxi-2024') or a path to a pack, "
        f"not {type(pack).__name__}"
    )
    raise TypeError(msg)


def coerce_facts(facts: object, *, native: bool = False) -> Any:
    """Facts as an engine reads them: a FactSet (or, with ``native``, frames kept).

    Paths (files or folders) are read with :func:`~vbp_rules.facts.load_facts`; a
    mapping is validated with :meth:`FactSet.from_records` (DataFrames of any narwhals
    backend included; NaN is null), or passed on as is when ``native``.

    Raises:
        TypeError: anything else (the message names what was given).
    """
    if isinstance(facts, FactSet):
        return facts
    if isinstance(facts, str | os.PathLike):
        return load_facts(Path(facts))
    if isinstance(facts, Mapping):
        return facts if native else FactSet.from_records(facts)
    if isinstance(facts, list | tuple) and all(isinstance(f, str | os.PathLike) for f in facts):
        return load_facts(*[Path(f) for f in facts])
    msg = f"facts must be {_FACTS_ACCEPTED}, not {type(facts).__name__}"
    raise TypeError(msg)


def coerce_as_of(as_of: object) -> datetime | date:
    """``as_of`` as a date or an aware datetime; ISO text is parsed.

    ``"2025-06-30"`` is that day (its end, 24:00); ``"2025-06-30T18:00+08:00"`` the
    instant. A datetime must carry its offset.

    >>> coerce_as_of("2025-06-30")
    datetime.date(2025, 6, 30)

    Raises:
        TypeError: not a date, datetime or string.
        ValueError: a string that is not an ISO date or instant.
        NaiveDatetimeError: an instant without an offset.
    """
    if isinstance(as_of, date):  # datetime included
        return as_of
    if isinstance(as_of, str):
        text = as_of.strip()
        try:
            if len(text) == 10:
                return date.fromisoformat(text)
            when = datetime.fromisoformat(text)
        except ValueError:
            msg = (
                f"as_of {as_of!r} is not an ISO date (2025-06-30) or instant "
                "(2025-06-30T18:00+08:00)"
            )
            raise ValueError(msg) from None
        if when.tzinfo is None:
            msg = f"as_of {as_of!r} has no offset; write it as {text}+08:00 (or pass a date)"
            raise NaiveDatetimeError(msg)
        return when
    msg = (
        "as_of must be a date, an aware datetime or ISO text ('2025-06-30'), "
        f"not {type(as_of).__name__}"
    )
    raise TypeError(msg)


def _check_rules(pack: Pack, rules: Iterable[str]) -> frozenset[str]:
    if isinstance(rules, str):
        rules = [r.strip() for r in rules.split(",") if r.strip()]
    ids = [r.id for r in pack.rules]
    chosen = frozenset(rules)
    for rule_id in sorted(chosen):
        if rule_id not in ids:
            msg = f"pack {pack.id} has no rule {rule_id!r}{did_you_mean(rule_id, ids)}"
            raise UnknownRuleError(msg, pack_id=pack.id, rule_id=rule_id)
    return chosen


def evaluate(
    pack: Pack | str | os.PathLike[str],
    facts: Any,
    *,
    as_of: datetime | date | str,
    engine: str = "reference",
    rules: Iterable[str] | None = None,
    interpretations: Mapping[str, str] | None = None,
    calendar: WorkCalendar | None = None,
    out_of_force: OutOfForcePolicy = "flag",
    **engine_options: Any,
) -> Evaluation:
    """Evaluate a pack against facts: the one public entry point, for every engine.

    Args:
        pack: a :class:`Pack`, a pack id (``"jiangxi-2024"``) or a path to a pack.
        facts: a :class:`FactSet`; a mapping ``{kind: rows}`` whose rows are dicts,
            fact models or a DataFrame of any narwhals backend (pandas, Polars, PyArrow,
            DuckDB…; NaN is null); or a path to a facts file or folder.
        as_of: the evaluation instant: a date (its end, 24:00), an aware datetime, or
            the same as ISO text.
        engine: ``reference`` (default, the specification), ``frame``, ``stream`` or
            ``auto`` (see :func:`vbp_rules.engine.pick_engine`).
        rules: evaluate only these rule ids (a list, or ``"a,b"``); every input row is
            still accounted for (rows no selected rule reads are skipped with reason
            ``no_applicable_rule``).
        interpretations: named readings of ambiguous clauses (defaults from the pack).
        calendar: the working-day calendar (default ``WorkCalendar.china()``).
        out_of_force: ``flag`` (default), ``skip`` or ``error`` for subjects dated outside
            the pack's in-force window.
        engine_options: passed to the engine (the frame engine's ``backend``,
            ``session``).

    Returns:
        An :class:`~vbp_rules.findings.Evaluation` with the pack's ``key_columns``.

    Raises:
        TypeError: a pack, facts or ``as_of`` of a kind not accepted.
        UnknownRuleError: a rule id the pack does not have.
        EngineUnavailableError: the engine's extra is not installed.
        ValueError: an unknown engine, or ``rules`` with the stream engine.

    >>> ev = evaluate("jiangxi-2024", {"demand_reports": [{"id": "d1",
    ...     "institution_id": "h1", "generic_name": "阿托伐他汀", "reported_quantity": 79,
    ...     "last_year_actual_quantity": 100}]}, as_of="2024-12-31", rules=["report-change"])
    >>> [(f.rule_id, f.outcome, f.tier) for f in ev.breaches()]
    [('report-change', 'breach', 'decrease')]
    """
    from vbp_rules.engine import get_engine, pick_engine  # noqa: PLC0415 - import cycle

    p = coerce_pack(pack)
    when = coerce_as_of(as_of)
    chosen = _check_rules(p, rules) if rules is not None else None
    name = engine
    if name == "auto":
        facts = coerce_facts(facts)
        name = pick_engine(name, facts)
    run = get_engine(name)
    settings: dict[str, Any] = {
        "as_of": when,
        "interpretations": interpretations,
        "calendar": calendar,
        "out_of_force": out_of_force,
        **engine_options,
    }
    if name == "frame":
        ev = _frame(run, p, coerce_facts(facts, native=True), chosen, settings)
    else:
        if chosen is not None and name != "reference":
            msg = (
                f"the {name} engine cannot evaluate a subset of rules; drop rules= or use reference"
            )
            raise ValueError(msg)
        if chosen is not None:
            settings["rules"] = chosen
        ev = run(p, coerce_facts(facts), **settings)
    if not ev.key_columns:
        ev = attrs.evolve(ev, key_columns=subject_key_columns(p))
    return ev


def _frame(
    run: Any, pack: Pack, facts: Any, chosen: frozenset[str] | None, settings: dict[str, Any]
) -> Evaluation:
    """The frame engine, with its rule subset completed by the row accounting."""
    if chosen is None:
        ev: Evaluation = run(pack, facts, **settings)
        return ev
    from vbp_rules.engine.frame import prepare  # noqa: PLC0415 - optional extra
    from vbp_rules.engine.reference import accounting_skips  # noqa: PLC0415

    options = {k: settings.pop(k) for k in ("backend", "session") if k in settings}
    prepared = prepare(facts, **options)
    ev = run(pack, prepared, only_rules=chosen, **settings)
    extra = accounting_skips(pack, prepared.facts, ev.accounted_rows())
    return attrs.evolve(ev, skips=(*ev.skips, *extra))
