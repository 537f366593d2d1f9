"""Facts from a procurement platform: the fact kinds and loading them.

The fact kinds are pydantic models (:mod:`vbp_rules.facts.models`); :func:`load_facts`
reads them from JSON, YAML, CSV, JSON Lines and Parquet files, directories and Python
mappings into a :class:`FactSet`, turning every bad row into a :class:`RejectedInput`;
:func:`scan_facts` does the same by whole columns into encoded Polars tables
(:mod:`vbp_rules.facts.columnar`).
See ``docs/facts.md``.
"""

from __future__ import annotations

from vbp_rules.facts._types import (
    SHANGHAI,
    Day,
    Flag,
    Id,
    Instant,
    Money,
    PositiveQuantity,
    Quantity,
    Ratio,
    Year,
    parse_ratio,
)
from vbp_rules.facts.columnar import ColumnarFacts, ColumnarKind, scan_facts, validate_frame
from vbp_rules.facts.loading import FactSet, RejectedInput, SkippedSource, load_facts
from vbp_rules.facts.models import (
    FACT_KINDS,
    Agreement,
    Batch,
    Complaint,
    DemandReport,
    Enterprise,
    EnterprisePeriodStat,
    ExemptionEvent,
    ExemptionKind,
    FactModel,
    Institution,
    InstitutionLevel,
    Listing,
    Order,
    Prepayment,
    ProcurementGroup,
    PurchaseSummary,
    ReportingUnit,
    Settlement,
    facts_json_schema,
)

__all__ = [
    "FACT_KINDS",
    "SHANGHAI",
    "Agreement",
    "Batch",
    "ColumnarFacts",
    "ColumnarKind",
    "Complaint",
    "Day",
    "DemandReport",
    "Enterprise",
    "EnterprisePeriodStat",
    "ExemptionEvent",
    "ExemptionKind",
    "FactModel",
    "FactSet",
    "Flag",
    "Id",
    "Instant",
    "Institution",
    "InstitutionLevel",
    "Listing",
    "Money",
    "Order",
    "PositiveQuantity",
    "Prepayment",
    "ProcurementGroup",
    "PurchaseSummary",
    "Quantity",
    "Ratio",
    "RejectedInput",
    "ReportingUnit",
    "Settlement",
    "SkippedSource",
    "Year",
    "facts_json_schema",
    "load_facts",
    "parse_ratio",
    "scan_facts",
    "validate_frame",
]
