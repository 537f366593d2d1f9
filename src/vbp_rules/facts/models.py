"""The fact kinds: what a procurement platform tells the rules, one pydantic model each.

Every model is frozen and forbids unknown fields. Field names come from the project
glossary; each field's description gives the English meaning and the Chinese term, so
the JSON Schema (:func:`facts_json_schema`) documents itself.

Conventions shared by every kind:

- ``id`` is a non-empty identifier, unique within its kind in one fact set.
- A ``None`` value (JSON ``null``, an empty CSV cell) means "not given": the field's
  default applies, or the row is rejected if the field is required. An unknown field
  is rejected when it holds a value.
- Quantities are non-negative ``int`` (:data:`Quantity`), money is a fen-exact
  :class:`~decimal.Decimal` (:data:`Money`), ratios are exact
  :class:`~fractions.Fraction` values in ``[0, 1]`` (:data:`Ratio`), instants are aware
  datetimes in Asia/Shanghai (:data:`Instant`), dates are :class:`datetime.date`.

>>> order = Order(
...     id="o-1", institution_id="h-1", enterprise_id="e-1", product_id="p-1",
...     sent_at="2024-03-01T09:00+08:00", ordered_quantity="10",
... )
>>> order.ordered_quantity, order.delivered_quantity, order.sent_at.tzname()
(10, 0, 'CST')
>>> FACT_KINDS["orders"] is Order
True
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Annotated, Any, ClassVar, Final, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.json_schema import models_json_schema
from pydantic_core import PydanticCustomError

from vbp_rules.facts._types import (
    Day,
    Flag,
    Id,
    Instant,
    Money,
    PositiveQuantity,
    Quantity,
    Ratio,
    Year,
)

__all__ = [
    "FACT_KINDS",
    "Agreement",
    "Batch",
    "Complaint",
    "DemandReport",
    "Enterprise",
    "EnterprisePeriodStat",
    "ExemptionEvent",
    "ExemptionKind",
    "FactModel",
    "Institution",
    "InstitutionLevel",
    "Listing",
    "Order",
    "Prepayment",
    "ProcurementGroup",
    "PurchaseSummary",
    "ReportingUnit",
    "Settlement",
    "facts_json_schema",
]

Text = Annotated[str, Field(min_length=1)]
"""Free text, stripped of surrounding whitespace; empty text is not a value (use null)."""

InstitutionLevel = Literal["primary", "secondary", "tertiary"]
"""Institution level: 基层 (primary), 二级 (secondary), 三级 (tertiary)."""

ReportingUnit = Literal["institution", "county_medical_community"]
"""Who reports demand: the institution itself, or its county medical community (医共体)."""

ExemptionKind = Literal[
    "key_monitoring_list",
    "public_health_event",
    "guideline_change",
    "verified_demand_surge",
    "force_majeure",
]
"""Why an exemption applies (Jiangxi 二（十四）, 三（十五）)."""

# Descriptions reused by several kinds.
_ID_BATCH: Final = "Batch id (集采批次), see `batches`."
_ID_INSTITUTION: Final = "Institution id (定点医药机构编码), see `institutions`."
_ID_ENTERPRISE: Final = "Selected or listed enterprise id (企业编码), see `enterprises`."
_ID_PRODUCT: Final = "Product id on the platform (产品编码/药品代码)."
_GENERIC_NAME: Final = "Generic name (通用名)."
_CYCLE_START: Final = "First day of the agreement cycle (协议期/采购周期开始日)."
_CYCLE_END: Final = "Last day of the agreement cycle (协议期/采购周期结束日), inclusive."
_PERIOD_START: Final = "First day of the reporting period (统计期开始日)."
_PERIOD_END: Final = "Last day of the reporting period (统计期结束日), inclusive."
_LEVEL: Final = "Institution level (机构级别): primary 基层, secondary 二级, tertiary 三级."


class FactModel(BaseModel):
    """Base of every fact kind: frozen, unknown fields forbidden, text stripped.

    Class attributes:
        fact_kind: the kind name (``"orders"``), the key in :data:`FACT_KINDS` and in
            fact documents. (Not ``kind``: exemption events have a ``kind`` field.)
        not_before: ``{later: earlier}`` instant or date fields; a row whose ``later``
            value is before its ``earlier`` value is rejected (when both are given).
        at_most: ``{part: whole}`` quantity fields; ``part`` may not exceed ``whole``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    fact_kind: ClassVar[str]
    not_before: ClassVar[Mapping[str, str]] = MappingProxyType({})
    at_most: ClassVar[Mapping[str, str]] = MappingProxyType({})

    id: Id = Field(description="Identifier of this fact, unique within its kind (编号).")

    @model_validator(mode="before")
    @classmethod
    def _drop_nulls(cls, data: Any) -> Any:
        # None means "not given": defaults apply, and a null under an unknown name says
        # nothing (a CSV column nobody filled in), so it is not an error either. A float
        # NaN (pandas' missing value in a numeric column) is a null too.
        if (
            isinstance(data, dict)
            and None not in data.values()
            and not any(map(_nan, data.values()))
        ):
            return data  # the common case, kept fast
        if isinstance(data, Mapping):
            return {k: v for k, v in data.items() if v is not None and not _nan(v)}
        return data

    @model_validator(mode="after")
    def _check_relations(self) -> Self:
        for later, earlier in self.not_before.items():
            late, early = getattr(self, later), getattr(self, earlier)
            if late is not None and early is not None and late < early:
                raise _relation_error(
                    later, f"{later} ({late.isoformat()}) is before {earlier} ({early.isoformat()})"
                )
        for part, whole in self.at_most.items():
            small, big = getattr(self, part), getattr(self, whole)
            if small is not None and big is not None and small > big:
                raise _relation_error(part, f"{part} ({small}) is greater than {whole} ({big})")
        return self


def _nan(value: object) -> bool:
    """A float NaN: pandas' (and NumPy's) missing value, read as null."""
    return isinstance(value, float) and value != value  # noqa: PLR0124 - NaN test


def _relation_error(field: str, reason: str) -> PydanticCustomError:
    # The loader reads ``field`` from the context to name the offending field.
    return PydanticCustomError("fact_relation", "{reason}", {"reason": reason, "field": field})


class Batch(FactModel):
    """A VBP tender batch (集采批次) as executed in one province."""

    fact_kind: ClassVar[str] = "batches"
    not_before: ClassVar[Mapping[str, str]] = MappingProxyType({"cycle_end": "cycle_start"})

    name: Text | None = Field(None, description="Batch name (批次名称).")
    execution_document_published_on: Day | None = Field(
        None, description="Date the province published the execution document (执行文件印发日期)."
    )
    landing_date: Day | None = Field(
        None, description="Date the batch's selected results take effect (落地执行日期)."
    )
    cycle_start: Day | None = Field(None, description=_CYCLE_START)
    cycle_end: Day | None = Field(None, description=_CYCLE_END)
    non_selected_share_limit: Ratio | None = Field(
        None,
        description=(
            "Limit on the non-selected share set by the batch's execution document "
            "(执行文件规定比例, 非中选产品采购占比); overrides a pack's default for this batch."
        ),
    )


class Institution(FactModel):
    """A designated medical institution (定点医药机构): hospital, clinic or pharmacy."""

    fact_kind: ClassVar[str] = "institutions"

    name: Text | None = Field(None, description="Institution name (机构名称).")
    level: InstitutionLevel | None = Field(None, description=_LEVEL)
    county_medical_community_id: Id | None = Field(
        None, description="County medical community it belongs to (所属县域医共体)."
    )
    city: Text | None = Field(None, description="City (地市).")
    public: Flag | None = Field(None, description="Public institution (公立医疗机构).")


class Enterprise(FactModel):
    """A pharmaceutical enterprise (企业): manufacturer or distributor."""

    fact_kind: ClassVar[str] = "enterprises"

    name: Text | None = Field(None, description="Enterprise name (企业名称).")


class Agreement(FactModel):
    """A tripartite purchase agreement (三方购销协议) for one product at one institution."""

    fact_kind: ClassVar[str] = "agreements"
    not_before: ClassVar[Mapping[str, str]] = MappingProxyType({"cycle_end": "cycle_start"})

    batch_id: Id | None = Field(None, description=_ID_BATCH)
    institution_id: Id = Field(description=_ID_INSTITUTION)
    enterprise_id: Id = Field(description=_ID_ENTERPRISE)
    product_id: Id = Field(description=_ID_PRODUCT)
    generic_name: Text | None = Field(None, description=_GENERIC_NAME)
    agreed_quantity: Quantity = Field(
        description="Quantity the institution commits to buy in the cycle (约定采购量)."
    )
    signed_at: Instant | None = Field(
        None, description="When the agreement was signed (协议签订时间)."
    )
    cycle_start: Day = Field(description=_CYCLE_START)
    cycle_end: Day = Field(description=_CYCLE_END)
    annual_use_quantity: Quantity | None = Field(
        None,
        description=(
            "The institution's annual total use (年度总用量), base of Shanxi's 50%-80% "
            "agreed ratio (约定采购比例)."
        ),
    )
    agreed_amount: Money | None = Field(
        None, description="Agreed purchase amount in yuan (约定采购金额)."
    )
    first_purchase_at: Instant | None = Field(
        None,
        description="First purchase under the agreement (首次采购时间), for 进院 checks.",
    )
    signing_due_on: Day | None = Field(
        None,
        description=(
            "Last day allowed for signing, inclusive (规定的协议签订截止日期), as the "
            "platform sets it (Shandong 鲁医保发〔2023〕14号 二（二） '在规定时间内')."
        ),
    )


class DemandReport(FactModel):
    """Demand an institution (or its county medical community) reports before a tender (报量)."""

    fact_kind: ClassVar[str] = "demand_reports"

    batch_id: Id | None = Field(None, description=_ID_BATCH)
    institution_id: Id = Field(description=_ID_INSTITUTION)
    generic_name: Text = Field(description=_GENERIC_NAME)
    product_id: Id | None = Field(None, description=_ID_PRODUCT)
    reported_quantity: Quantity = Field(description="Reported demand (报送需求量/报量).")
    last_year_actual_quantity: Quantity | None = Field(
        None, description="Last year's actual purchases (上一年度实际采购量), the baseline."
    )
    reporting_unit: ReportingUnit = Field(
        "institution",
        description=(
            "Who reported (报量主体): the institution itself, or its county medical "
            "community (县域医共体) as one unit."
        ),
    )
    county_medical_community_id: Id | None = Field(
        None,
        description=(
            "Reporting county medical community (县域医共体); required when "
            "reporting_unit is county_medical_community."
        ),
    )
    explanation_submitted: Flag | None = Field(
        None, description="A written explanation was submitted (已作出书面说明)."
    )

    @model_validator(mode="after")
    def _community_named(self) -> Self:
        if (
            self.reporting_unit == "county_medical_community"
            and self.county_medical_community_id is None
        ):
            raise _relation_error(
                "county_medical_community_id",
                "county_medical_community_id is required when reporting_unit is "
                "county_medical_community",
            )
        return self


class Order(FactModel):
    """A purchase order (订单) an institution sends to an enterprise on the platform."""

    fact_kind: ClassVar[str] = "orders"
    not_before: ClassVar[Mapping[str, str]] = MappingProxyType(
        {"responded_at": "sent_at", "delivered_at": "sent_at"}
    )
    at_most: ClassVar[Mapping[str, str]] = MappingProxyType(
        {"delivered_quantity": "ordered_quantity"}
    )

    batch_id: Id | None = Field(None, description=_ID_BATCH)
    institution_id: Id = Field(description=_ID_INSTITUTION)
    enterprise_id: Id = Field(description=_ID_ENTERPRISE)
    distributor_id: Id | None = Field(None, description="Distribution enterprise (配送企业).")
    product_id: Id = Field(description=_ID_PRODUCT)
    generic_name: Text | None = Field(None, description=_GENERIC_NAME)
    sent_at: Instant = Field(description="When the institution sent the order (订单发送时间).")
    responded_at: Instant | None = Field(
        None, description="When the enterprise responded (订单响应时间)."
    )
    ordered_quantity: PositiveQuantity = Field(description="Ordered quantity (采购数量), > 0.")
    delivered_quantity: Quantity = Field(
        0, description="Delivered quantity (配送数量), at most the ordered quantity."
    )
    delivered_at: Instant | None = Field(None, description="When it was delivered (配送时间).")
    delivery_due_at: Instant | None = Field(
        None, description="Delivery deadline (要求配送到货时间)."
    )
    receipt_confirmed_at: Instant | None = Field(
        None, description="When the institution confirmed receipt (入库/收货确认时间)."
    )
    offline: Flag = Field(
        default=False, description="Purchased offline, outside the platform (线下采购)."
    )
    amount: Money | None = Field(None, description="Order amount in yuan (订单金额).")
    institution_level: InstitutionLevel | None = Field(
        None,
        description=_LEVEL + " Of the ordering institution, for supply balance across levels.",
    )


class PurchaseSummary(FactModel):
    """A period aggregate per institution x generic name computed by the platform (月度采购汇总)."""

    fact_kind: ClassVar[str] = "purchase_summaries"
    not_before: ClassVar[Mapping[str, str]] = MappingProxyType(
        {"period_end": "period_start", "cycle_end": "cycle_start"}
    )

    batch_id: Id | None = Field(None, description=_ID_BATCH)
    institution_id: Id = Field(description=_ID_INSTITUTION)
    generic_name: Text = Field(description=_GENERIC_NAME)
    product_id: Id | None = Field(None, description=_ID_PRODUCT)
    period_start: Day = Field(description=_PERIOD_START)
    period_end: Day = Field(description=_PERIOD_END)
    agreed_quantity: Quantity | None = Field(
        None, description="Agreed quantity for the cycle (约定采购量)."
    )
    cycle_start: Day | None = Field(None, description=_CYCLE_START)
    cycle_end: Day | None = Field(None, description=_CYCLE_END)
    selected_quantity: Quantity = Field(
        0, description="Selected products bought in this period (中选产品采购量)."
    )
    cumulative_selected_quantity: Quantity | None = Field(
        None,
        description=(
            "Selected products bought since the cycle start through period_end (累计采购量)."
        ),
    )
    non_selected_quantity: Quantity = Field(
        0, description="Non-selected products of the same generic name bought (非中选产品采购量)."
    )
    substitutable_quantity: Quantity = Field(
        0, description="Substitutable drugs bought (可替代品种采购量)."
    )
    last_year_substitutable_quantity: Quantity | None = Field(
        None, description="Substitutable drugs bought in last year's period (上年可替代品种采购量)."
    )
    backup_enterprise_quantity: Quantity = Field(
        0, description="Bought from backup enterprises (备供企业采购量); not assessed."
    )
    cheaper_equivalent_quantity: Quantity = Field(
        0,
        description=(
            "Non-selected or substitutable drugs cheaper than the selected drug with equal "
            "quality (价格低于中选产品且质量相同); not assessed."
        ),
    )
    emergency_backup_quantity: Quantity = Field(
        0,
        description=(
            "Bought from backup enterprises during a verified demand surge (需求激增应急采购); "
            "counts as selected."
        ),
    )
    surge_non_selected_quantity: Quantity = Field(
        0,
        description=(
            "Non-selected products bought during a verified demand surge (需求激增期间非中选"
            "产品采购量); left out of the assessment."
        ),
    )
    reported_demand: Flag | None = Field(
        None, description="The institution reported demand for this generic name (是否报量)."
    )
    offline_quantity: Quantity = Field(0, description="Bought offline (线下采购量).")
    abnormal_order_count: Quantity = Field(0, description="Abnormal orders (异常订单数).")
    late_receipt_confirmation_count: Quantity = Field(
        0, description="Receipts confirmed late (未及时入库确认数)."
    )
    institution_level: InstitutionLevel | None = Field(None, description=_LEVEL)


class Complaint(FactModel):
    """A supply complaint ticket (供应投诉) an institution raises against an enterprise."""

    fact_kind: ClassVar[str] = "complaints"
    not_before: ClassVar[Mapping[str, str]] = MappingProxyType(
        {
            "replied_at": "raised_at",
            "committed_resolution_at": "raised_at",
            "resolved_at": "raised_at",
        }
    )

    institution_id: Id = Field(description=_ID_INSTITUTION)
    enterprise_id: Id = Field(description=_ID_ENTERPRISE)
    product_id: Id | None = Field(None, description=_ID_PRODUCT)
    raised_at: Instant = Field(description="When the complaint was raised (投诉时间).")
    replied_at: Instant | None = Field(
        None, description="When the enterprise replied (企业答复时间)."
    )
    committed_resolution_at: Instant | None = Field(
        None, description="Resolution time the enterprise committed to (承诺解决时限)."
    )
    resolved_at: Instant | None = Field(None, description="When it was resolved (解决时间).")
    unresolvable: Flag = Field(
        default=False, description="The enterprise cannot resolve it (确实无法解决), to escalate."
    )


class Settlement(FactModel):
    """A payment for delivered goods (结算/回款) after delivery acceptance (交货验收)."""

    fact_kind: ClassVar[str] = "settlements"
    not_before: ClassVar[Mapping[str, str]] = MappingProxyType({"paid_at": "accepted_at"})

    institution_id: Id = Field(description=_ID_INSTITUTION)
    enterprise_id: Id | None = Field(None, description=_ID_ENTERPRISE)
    product_id: Id | None = Field(None, description=_ID_PRODUCT)
    accepted_at: Instant = Field(description="When the delivery was accepted (交货验收合格时间).")
    paid_at: Instant | None = Field(None, description="When it was paid (回款/支付时间).")
    amount: Money = Field(description="Amount in yuan (结算金额).")


class Listing(FactModel):
    """A product listed on the platform (挂网) with its prices."""

    fact_kind: ClassVar[str] = "listings"

    product_id: Id = Field(description=_ID_PRODUCT)
    generic_name: Text = Field(description=_GENERIC_NAME)
    enterprise_id: Id | None = Field(None, description=_ID_ENTERPRISE)
    selected: Flag = Field(description="Selected in the tender (中选产品).")
    listing_price: Money = Field(description="Listing price in yuan (挂网价).")
    max_listing_price: Money | None = Field(
        None, description="Maximum listing price allowed (最高挂网价/挂网限价)."
    )
    group_selected_price: Money | None = Field(
        None, description="Selected price of its evaluation group (同一评价组中选价)."
    )
    in_insurance_list: Flag | None = Field(
        None, description="In the medical insurance drug list (医保目录内)."
    )
    consistency_evaluated: Flag | None = Field(
        None, description="Passed the consistency evaluation (通过一致性评价)."
    )
    originator: Flag = Field(default=False, description="Originator drug (原研药).")
    reference_drug: Flag = Field(default=False, description="Reference drug (参比制剂).")
    payment_standard: Money | None = Field(
        None, description="Insurance payment standard in force (医保支付标准)."
    )
    evaluated_payment_standard: Money | None = Field(
        None,
        description=(
            "Payment standard of the consistency-evaluated products of the same generic "
            "name (过评药品支付标准), the ceiling for non-evaluated ones."
        ),
    )
    self_pay_ratio: Ratio | None = Field(
        None, description="Personal first self-pay ratio (个人首先自付比例)."
    )


class ExemptionEvent(FactModel):
    """A circumstance that exempts subjects or quantities from an assessment (特殊情形)."""

    fact_kind: ClassVar[str] = "exemption_events"
    not_before: ClassVar[Mapping[str, str]] = MappingProxyType({"ends_on": "starts_on"})

    kind: ExemptionKind = Field(
        description=(
            "What happened: key_monitoring_list (列入重点监控合理用药药品目录), "
            "public_health_event (突发公共卫生事件), guideline_change (临床指南推荐级别变化), "
            "verified_demand_surge (经核实的需求激增: it moves no quantity; send the surge's "
            "emergency backup purchases as purchase_summaries.emergency_backup_quantity), "
            "force_majeure (不可抗力)."
        )
    )
    institution_id: Id | None = Field(
        None, description="Institution concerned; null means all institutions (适用机构)."
    )
    enterprise_id: Id | None = Field(None, description=_ID_ENTERPRISE)
    generic_name: Text | None = Field(None, description=_GENERIC_NAME)
    product_id: Id | None = Field(None, description=_ID_PRODUCT)
    starts_on: Day = Field(description="First day it applies (开始日期).")
    ends_on: Day | None = Field(
        None, description="Last day it applies, inclusive (结束日期); null if open."
    )
    changed_clinical_demand: Flag = Field(
        default=True,
        description="It changed clinical demand (影响临床需求), a condition of the exemption.",
    )
    verified: Flag | None = Field(None, description="Verified by the authority (经核实).")
    note: Text | None = Field(None, description="Free-text note (备注).")


class EnterprisePeriodStat(FactModel):
    """A period aggregate of an enterprise's supply performance (企业供应情况统计)."""

    fact_kind: ClassVar[str] = "enterprise_period_stats"
    not_before: ClassVar[Mapping[str, str]] = MappingProxyType({"period_end": "period_start"})
    at_most: ClassVar[Mapping[str, str]] = MappingProxyType(
        {
            "responded_orders": "orders",
            "timely_delivered_orders": "orders",
            "delivered_quantity": "ordered_quantity",
            "timely_resolved_complaints": "complaints",
        }
    )

    enterprise_id: Id = Field(description=_ID_ENTERPRISE)
    product_id: Id | None = Field(None, description=_ID_PRODUCT)
    period_start: Day = Field(description=_PERIOD_START)
    period_end: Day = Field(description=_PERIOD_END)
    orders: Quantity = Field(description="Orders received (订单数).")
    responded_orders: Quantity = Field(description="Orders responded to (响应订单数).")
    timely_delivered_orders: Quantity = Field(
        description="Orders delivered in time (及时配送订单数)."
    )
    ordered_quantity: Quantity | None = Field(None, description="Quantity ordered (采购数量).")
    delivered_quantity: Quantity | None = Field(None, description="Quantity delivered (配送数量).")
    complaints: Quantity = Field(0, description="Supply complaints received (投诉数).")
    timely_resolved_complaints: Quantity = Field(
        0, description="Complaints resolved in time (及时解决投诉数)."
    )


class ProcurementGroup(FactModel):
    """Shanxi's tender grouping of one generic name (分组竞价)."""

    fact_kind: ClassVar[str] = "procurement_groups"

    generic_name: Text = Field(description=_GENERIC_NAME)
    group_count: Quantity = Field(description="Number of quality groups (质量分组数).")
    consistency_evaluated_listed_count: Quantity = Field(
        description="Consistency-evaluated generics listed (已挂网过评仿制药数量)."
    )
    non_evaluated_selected: Flag = Field(
        default=False, description="A non-evaluated product was selected (未过评产品中选)."
    )
    selected_enterprise_count: Quantity = Field(
        description="Number of selected enterprises (中选企业数)."
    )
    extended: Flag = Field(
        default=False, description="The agreement cycle was extended by one year (协议期延长)."
    )
    cycle_years: Quantity | None = Field(
        None,
        description=(
            "The procurement cycle set for the variety, in years, extension included "
            "(采购周期/协议周期，年)."
        ),
    )


class Prepayment(FactModel):
    """Insurance fund paid to an institution in advance (医保基金预付)."""

    fact_kind: ClassVar[str] = "prepayments"

    institution_id: Id = Field(description=_ID_INSTITUTION)
    year: Year = Field(description="Year (年度).")
    annual_agreed_amount: Money = Field(
        description="Annual agreed purchase amount in yuan (年度约定采购金额)."
    )
    prepaid_amount: Money = Field(description="Amount prepaid in yuan (预付金额).")


FACT_KINDS: Final[Mapping[str, type[FactModel]]] = MappingProxyType(
    {
        model.fact_kind: model
        for model in (
            Batch,
            Institution,
            Enterprise,
            Agreement,
            DemandReport,
            Order,
            PurchaseSummary,
            Complaint,
            Settlement,
            Listing,
            ExemptionEvent,
            EnterprisePeriodStat,
            ProcurementGroup,
            Prepayment,
        )
    }
)
"""Every fact kind: kind name (as in fact documents and file names) -> model."""


def facts_json_schema() -> dict[str, Any]:
    """Return a JSON Schema (draft 2020-12) for a whole fact document ``{kind: [rows]}``.

    An optional ``$schema`` key lets editors find the schema; any other key must be a
    fact kind.

    >>> schema = facts_json_schema()
    >>> schema["properties"]["orders"]["items"]
    {'$ref': '#/$defs/Order'}
    """
    _, definitions = models_json_schema(
        [(model, "validation") for model in FACT_KINDS.values()],
        ref_template="#/$defs/{model}",
    )
    properties: dict[str, Any] = {
        "$schema": {"type": "string", "description": "URI of this schema, for editors."}
    }
    for kind, model in FACT_KINDS.items():
        properties[kind] = {
            "type": ["array", "null"],
            "items": {"$ref": f"#/$defs/{model.__name__}"},
            "description": (model.__doc__ or "").strip().splitlines()[0],
        }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "vbp_rules fact document",
        "description": (
            "Facts from a procurement platform, as lists of rows by fact kind. See docs/facts.md."
        ),
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
        "$defs": definitions.get("$defs", {}),
    }
