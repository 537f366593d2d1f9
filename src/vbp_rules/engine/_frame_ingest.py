"""Ingestion for the frame engine: facts become integer-typed frames.

The encodings live in :mod:`vbp_rules.facts._columns` (derived from the fact models);
this module re-exports them for the engine and adds what needs a :class:`FactSet`.
"""

from __future__ import annotations

from collections.abc import Mapping

from vbp_rules.facts import FACT_KINDS, FactModel, FactSet
from vbp_rules.facts._columns import (
    EPOCH_DAY,
    ROW,
    US_PER_DAY,
    Column,
    FieldType,
    day_number,
    epoch_us,
    fen,
    field_types,
    from_day,
    from_fen,
    from_us,
    normalized_columns,
    python_columns,
    to_python,
)

__all__ = [
    "EPOCH_DAY",
    "ROW",
    "US_PER_DAY",
    "Column",
    "FieldType",
    "day_number",
    "epoch_us",
    "facts_by_kind",
    "fen",
    "field_types",
    "from_day",
    "from_fen",
    "from_us",
    "normalized_columns",
    "python_columns",
    "to_python",
]


def facts_by_kind(facts: FactSet) -> Mapping[str, tuple[FactModel, ...]]:
    """Accepted facts of every kind."""
    return {kind: facts.rows(kind) for kind in FACT_KINDS}
