"""vbp_rules: Chinese volume-based procurement (集中带量采购) notices as policy packs.

Load a pack, hand it facts, get exact, cited findings:

>>> from datetime import date
>>> from vbp_rules import evaluate, load_pack
>>> pack = load_pack("jiangxi-2024")
>>> ev = evaluate(pack, {"demand_reports": [{"id": "d1", "institution_id": "h1",
...     "generic_name": "阿托伐他汀", "reported_quantity": 79,
...     "last_year_actual_quantity": 100}]}, as_of=date(2024, 12, 31))
>>> [(f.rule_id, f.outcome, f.tier) for f in ev.breaches()]
[('report-change', 'breach', 'decrease')]

The public API is re-exported here; everything else is private.
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

from vbp_rules._version import __version__

if TYPE_CHECKING:
    # calendar
    from vbp_rules.calendar import (
        CalendarDay,
        CalendarDays,
        Deadline,
        Duration,
        EndOfNextMonth,
        Hours,
        Months,
        WorkCalendar,
        WorkingDays,
    )

    # errors
    from vbp_rules.errors import (
        CalendarError,
        ExpressionError,
        FactsError,
        NaiveDatetimeError,
        OutOfForceError,
        PackNotFoundError,
        PackValidationError,
        ProvisionalYearError,
        UnknownRuleError,
        VbpRulesError,
        VbpRulesWarning,
    )

    # evaluation
    from vbp_rules.evaluation import evaluate

    # facts
    from vbp_rules.facts import (
        FACT_KINDS,
        FactModel,
        FactSet,
        RejectedInput,
        SkippedSource,
        load_facts,
    )

    # findings
    from vbp_rules.findings import Citation, Evaluation, Finding, Period, Skip, Subject

    # packs
    from vbp_rules.packs import Pack, PackInfo, list_packs, load_pack, pack_json_schema
    from vbp_rules.packs.testing import run_pack_tests

# The library's logger; like every library, it leaves handlers to the application.
logging.getLogger("vbp_rules").addHandler(logging.NullHandler())

# Public names are imported on first use (PEP 562): ``import vbp_rules`` stays cheap, and
# a program that only needs the calendar never builds the pack and facts models.
_LAZY: dict[str, str] = {
    "CalendarDay": "vbp_rules.calendar",
    "CalendarDays": "vbp_rules.calendar",
    "Deadline": "vbp_rules.calendar",
    "Duration": "vbp_rules.calendar",
    "EndOfNextMonth": "vbp_rules.calendar",
    "Hours": "vbp_rules.calendar",
    "Months": "vbp_rules.calendar",
    "WorkCalendar": "vbp_rules.calendar",
    "WorkingDays": "vbp_rules.calendar",
    "evaluate": "vbp_rules.evaluation",
    "CalendarError": "vbp_rules.errors",
    "ExpressionError": "vbp_rules.errors",
    "FactsError": "vbp_rules.errors",
    "NaiveDatetimeError": "vbp_rules.errors",
    "OutOfForceError": "vbp_rules.errors",
    "PackNotFoundError": "vbp_rules.errors",
    "PackValidationError": "vbp_rules.errors",
    "ProvisionalYearError": "vbp_rules.errors",
    "UnknownRuleError": "vbp_rules.errors",
    "VbpRulesError": "vbp_rules.errors",
    "VbpRulesWarning": "vbp_rules.errors",
    "FACT_KINDS": "vbp_rules.facts",
    "FactModel": "vbp_rules.facts",
    "FactSet": "vbp_rules.facts",
    "RejectedInput": "vbp_rules.facts",
    "SkippedSource": "vbp_rules.facts",
    "load_facts": "vbp_rules.facts",
    "Citation": "vbp_rules.findings",
    "Evaluation": "vbp_rules.findings",
    "Finding": "vbp_rules.findings",
    "Period": "vbp_rules.findings",
    "Skip": "vbp_rules.findings",
    "Subject": "vbp_rules.findings",
    "Pack": "vbp_rules.packs",
    "PackInfo": "vbp_rules.packs",
    "list_packs": "vbp_rules.packs",
    "load_pack": "vbp_rules.packs",
    "pack_json_schema": "vbp_rules.packs",
    "run_pack_tests": "vbp_rules.packs.testing",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        msg = f"module 'vbp_rules' has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = [
    "FACT_KINDS",
    "CalendarDay",
    "CalendarDays",
    "CalendarError",
    "Citation",
    "Deadline",
    "Duration",
    "EndOfNextMonth",
    "Evaluation",
    "ExpressionError",
    "FactModel",
    "FactSet",
    "FactsError",
    "Finding",
    "Hours",
    "Months",
    "NaiveDatetimeError",
    "OutOfForceError",
    "Pack",
    "PackInfo",
    "PackNotFoundError",
    "PackValidationError",
    "Period",
    "ProvisionalYearError",
    "RejectedInput",
    "Skip",
    "SkippedSource",
    "Subject",
    "UnknownRuleError",
    "VbpRulesError",
    "VbpRulesWarning",
    "WorkCalendar",
    "WorkingDays",
    "__version__",
    "evaluate",
    "list_packs",
    "load_facts",
    "load_pack",
    "pack_json_schema",
    "run_pack_tests",
]
