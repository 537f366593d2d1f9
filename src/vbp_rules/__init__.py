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

from vbp_rules._version import __version__

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

# evaluation
from vbp_rules.engine.reference import evaluate

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
    VbpRulesError,
    VbpRulesWarning,
)

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
