"""The policy-pack schema: pydantic models, the only definition of the pack format.

A pack is YAML validated by these models; :func:`pack_json_schema` exports the JSON Schema
that editors use while a pack is written. Semantic checks that need the whole pack
(names, parameter types, tier contiguity) live in :mod:`vbp_rules.packs._checks`.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "AGGREGATE_FUNCTIONS",
    "ActionSpec",
    "BoundSpec",
    "Case",
    "ChangeBandRule",
    "Citation",
    "DeadlineRule",
    "DeterminationRule",
    "ExemptionRule",
    "InForce",
    "Interpretation",
    "Issuer",
    "Jurisdiction",
    "LintSettings",
    "MetricSpec",
    "NeedsReviewRule",
    "PackModel",
    "Parameter",
    "ParameterType",
    "PeriodSpec",
    "RelativeMetric",
    "RelativeRule",
    "Rule",
    "SourceInfo",
    "StreakRule",
    "Text",
    "ThresholdRule",
    "Tier",
    "TiersRule",
]

_ID = r"^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$"
_NAME = r"^[a-z][a-z0-9_]*$"

#: Aggregate functions usable at the top of an ``aggregate:`` entry.
AGGREGATE_FUNCTIONS = ("count", "count_if", "sum", "min_of", "max_of", "any", "all", "first")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Text(_Model):
    """A bilingual text."""

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


class Citation(_Model):
    """The clause a rule or parameter comes from, with the original sentence."""

    clause: str = Field(
        min_length=1, description="Clause number as the source writes it, e.g. 一（三）."
    )
    text: str = Field(min_length=1, description="The original sentence, quoted from the source.")
    document: str | None = Field(
        default=None, description="Document number, when not the pack's own."
    )


class Issuer(_Model):
    """An issuing body."""

    zh: str
    en: str


class Jurisdiction(_Model):
    """Where the notice applies."""

    zh: str
    en: str
    level: Literal["province", "city", "county", "national"] = "province"
    code: str | None = Field(default=None, description="Administrative division code (GB/T 2260).")


class InForce(_Model):
    """The window in which the notice is in force, both days included."""

    start: date = Field(alias="from")
    end: date | None = Field(default=None, alias="to")

    @model_validator(mode="after")
    def _ordered(self) -> InForce:
        if self.end is not None and self.end < self.start:
            msg = f"in_force.to ({self.end}) is before in_force.from ({self.start})"
            raise ValueError(msg)
        return self


class SourceInfo(_Model):
    """Where the source text is, and whether it is complete."""

    file: str
    complete: bool = True
    note: Text | None = None


ParameterType = Literal[
    "ratio",
    "count",
    "money",
    "number",
    "working_days",
    "calendar_days",
    "hours",
    "months",
    "end_of_next_month",
    "date",
]

DURATION_TYPES = frozenset(
    {"working_days", "calendar_days", "hours", "months", "end_of_next_month"}
)
ParamValue = int | Decimal | date | str


class Parameter(_Model):
    """A typed, cited value used by rules; possibly ``unspecified`` in the source."""

    type: ParameterType
    value: ParamValue | None = None
    unspecified: bool = Field(
        default=False,
        description="The source states no number (明显, 较多, 过高…): no default; a rule "
        "using it is reported as not configured until a caller sets it.",
    )
    cite: Citation
    description: Text | None = None
    per_batch: str | None = Field(
        default=None,
        description="A batch field that, when set for the subject's batch, replaces the value.",
    )

    @field_validator("value", mode="before")
    @classmethod
    def _not_boolean(cls, v: object) -> object:
        # pydantic would read ``value: true`` as the int 1 (bool is an int subclass)
        if isinstance(v, bool):
            msg = f"a parameter value must not be a boolean ({str(v).lower()}); write the number"
            raise ValueError(msg)
        return v

    @model_validator(mode="after")
    def _value_or_unspecified(self) -> Parameter:
        if self.unspecified and self.value is not None:
            msg = "an unspecified parameter has no value; drop 'value' or 'unspecified'"
            raise ValueError(msg)
        if not self.unspecified and self.value is None and self.type != "end_of_next_month":
            msg = "give a 'value', or mark the parameter 'unspecified: true'"
            raise ValueError(msg)
        return self


class BoundSpec(_Model):
    """A bound as the source writes it: a bound word (or operator) and a value.

    Exactly one of ``word`` / ``op``, and exactly one of ``parameter`` / ``value`` /
    ``expr``. ``margin`` (relative rules) names a parameter added to or taken from the
    population level.
    """

    word: str | None = None
    op: Literal[">=", ">", "<=", "<", "=="] | None = None
    parameter: str | None = None
    value: ParamValue | None = None
    expr: str | None = None
    margin: str | None = None

    @model_validator(mode="after")
    def _one_of(self) -> BoundSpec:
        if (self.word is None) == (self.op is None):
            msg = "give exactly one of 'word' (the source's bound word) or 'op'"
            raise ValueError(msg)
        given = [k for k in ("parameter", "value", "expr") if getattr(self, k) is not None]
        if len(given) > 1:
            msg = f"give one of 'parameter', 'value' or 'expr', not {' and '.join(given)}"
            raise ValueError(msg)
        if not given and self.margin is None:
            msg = "give one of 'parameter', 'value' or 'expr'"
            raise ValueError(msg)
        return self


class MetricSpec(_Model):
    """A named metric: a glossary name and the expression that computes it."""

    name: str = Field(pattern=_NAME)
    expr: str
    unit: Literal["ratio", "count", "money", "number", "working_days", "days"] | None = None


class RelativeMetric(_Model):
    """A ratio metric whose population level pools numerators and denominators."""

    name: str = Field(pattern=_NAME)
    numerator: str
    denominator: str


class PeriodSpec(_Model):
    """How rows fall into reporting periods."""

    unit: Literal["month", "quarter", "year"]
    field: str = Field(description="A date or instant field; instants use the calendar's zone.")


class Message(_Model):
    """Finding message templates; ``{name}`` is replaced by a recorded value."""

    zh: str
    en: str


class _RuleBase(_Model):
    id: str = Field(pattern=_ID)
    title: Text
    cite: Citation
    over: str | None = Field(default=None, description="The fact kind the rule reads.")
    where: str | None = Field(default=None, description="A row filter expression.")
    group_by: list[str | dict[str, str]] | None = Field(
        default=None, description="Fields (or {name: expression}) that identify a subject."
    )
    period: PeriodSpec | None = None
    aggregate: dict[str, str] | None = Field(
        default=None,
        description="Named aggregates per subject and period, e.g. orders: count().",
    )
    having: str | None = Field(
        default=None,
        description="A subject filter evaluated after grouping (e.g. complaints >= many); "
        "a subject for which it is false is not assessed by this rule.",
    )
    actions: list[str] = Field(default_factory=list)
    message: Message | None = None
    interpretation: dict[str, str] | None = Field(
        default=None,
        description="Evaluate this rule only when these interpretations are chosen.",
    )
    notes: str | None = None

    @field_validator("aggregate")
    @classmethod
    def _aggregates(cls, v: dict[str, str] | None) -> dict[str, str] | None:
        if v is None:
            return v
        for name, source in v.items():
            if not re.fullmatch(_NAME, name):
                msg = f"aggregate name {name!r} must be lower_snake_case"
                raise ValueError(msg)
            m = re.match(r"\s*([a-z_]+)\s*\(", source)
            if not m or m.group(1) not in AGGREGATE_FUNCTIONS:
                msg = (
                    f"aggregate {name!r} must call one of {', '.join(AGGREGATE_FUNCTIONS)}"
                    f" at its top, e.g. 'sum(ordered_quantity)'; got {source!r}"
                )
                raise ValueError(msg)
        return v

    @model_validator(mode="after")
    def _grouping(self) -> _RuleBase:
        if self.aggregate and not (self.group_by or self.period):
            msg = "'aggregate' needs 'group_by' or 'period' to say what is aggregated"
            raise ValueError(msg)
        return self


class ThresholdRule(_RuleBase):
    """A metric compared with a bound; or a boolean ``condition`` that is the breach."""

    kind: Literal["threshold"]
    metric: MetricSpec | None = None
    breach_if: BoundSpec | None = Field(default=None, description="The bound states the breach.")
    require: BoundSpec | None = Field(
        default=None, description="The bound states what is required; breach when it fails."
    )
    condition: str | None = Field(default=None, description="A boolean expression: the breach.")

    @model_validator(mode="after")
    def _shape(self) -> ThresholdRule:
        if self.condition is not None:
            if self.breach_if or self.require:
                msg = "a 'condition' threshold takes no 'breach_if'/'require'"
                raise ValueError(msg)
            return self
        if self.metric is None:
            msg = "give a 'metric' with 'breach_if' or 'require', or a boolean 'condition'"
            raise ValueError(msg)
        if (self.breach_if is None) == (self.require is None):
            msg = "give exactly one of 'breach_if' or 'require'"
            raise ValueError(msg)
        return self


class Tier(_Model):
    """One band of a tiers rule: ``lower`` and/or ``upper`` bound and its outcome."""

    id: str = Field(pattern=_ID)
    label: Text | None = None
    lower: BoundSpec | None = None
    upper: BoundSpec | None = None
    outcome: Literal["breach", "compliant"] = "breach"
    actions: list[str] = Field(default_factory=list)


class TiersRule(_RuleBase):
    """Ordered, contiguous bands of one metric; exactly one band fires."""

    kind: Literal["tiers"]
    metric: MetricSpec
    tiers: list[Tier] = Field(min_length=2)


class ChangeBandRule(_RuleBase):
    """A value against its baseline with a lower and/or upper relative bound."""

    kind: Literal["change_band"]
    value: str
    baseline: str
    decrease: BoundSpec | None = None
    increase: BoundSpec | None = None
    decrease_actions: list[str] | None = None
    increase_actions: list[str] | None = None

    @model_validator(mode="after")
    def _sides(self) -> ChangeBandRule:
        if self.decrease is None and self.increase is None:
            msg = "give 'decrease', 'increase' or both"
            raise ValueError(msg)
        return self


class DeadlineRule(_RuleBase):
    """A window after a start instant (or a due instant); breached when the end is late."""

    kind: Literal["deadline"]
    start: str | None = Field(default=None, description="Expression: the start instant or date.")
    window: str | None = Field(default=None, description="A duration parameter.")
    due: str | None = Field(default=None, description="Expression: the due instant itself.")
    end: str = Field(description="Expression: the instant that must come in time (or null).")

    @model_validator(mode="after")
    def _shape(self) -> DeadlineRule:
        if self.due is not None:
            if self.start is not None or self.window is not None:
                msg = "give either 'due', or 'start' with 'window'"
                raise ValueError(msg)
        elif self.start is None or self.window is None:
            msg = "give 'start' and 'window' (a duration parameter), or 'due'"
            raise ValueError(msg)
        return self


class StreakRule(_RuleBase):
    """A condition holding in N consecutive periods."""

    kind: Literal["streak"]
    metric: MetricSpec
    breach_if: BoundSpec
    length: int = Field(ge=2)

    @model_validator(mode="after")
    def _needs_period(self) -> StreakRule:
        if self.period is None:
            msg = "a streak needs 'period'"
            raise ValueError(msg)
        return self


class RelativeRule(_RuleBase):
    """A subject's ratio against the pooled level of all subjects in the facts."""

    kind: Literal["relative"]
    metric: RelativeMetric
    breach_if: BoundSpec
    population_by: list[str] = Field(
        default_factory=list,
        description="Subject keys the population is split by (e.g. generic_name); the level "
        "is also computed per period when the rule has one.",
    )


class ExemptionRule(_RuleBase):
    """Events that take subjects out of other rules' assessment, applied before them."""

    kind: Literal["exemption"]
    exempts: list[str] = Field(min_length=1)
    match: dict[str, str] = Field(
        default_factory=dict,
        description="Event field -> assessed subject field; an empty event field matches all.",
    )
    overlap: dict[Literal["start", "end"], str] | None = Field(
        default=None,
        description="Expressions on the assessed subject giving the window the event "
        "must overlap (event starts_on/ends_on).",
    )


class Case(_Model):
    """One case of a determination."""

    when: str
    values: dict[str, str] = Field(default_factory=dict)
    label: Text | None = None
    actions: list[str] = Field(default_factory=list)


class DeterminationRule(_RuleBase):
    """A computed output (payment standard, cycle length, due date), not a breach."""

    kind: Literal["determination"]
    cases: list[Case] = Field(min_length=1)
    otherwise: Case | None = Field(
        default=None,
        description="Taken when no case holds; absent means 'not determined by the source' "
        "(reported as needs_review).",
    )


class NeedsReviewRule(_RuleBase):
    """A rule that needs human judgement: flagged for review, or documentation only."""

    kind: Literal["needs_review"]


Rule = Annotated[
    ThresholdRule
    | TiersRule
    | ChangeBandRule
    | DeadlineRule
    | StreakRule
    | RelativeRule
    | ExemptionRule
    | DeterminationRule
    | NeedsReviewRule,
    Field(discriminator="kind"),
]


class ActionSpec(_Model):
    """An action code a pack declares, beside the shared vocabulary (不良记录 → bad_record)."""

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    severity: int = Field(
        ge=0, le=100, description="0-100, as the shared codes: 10 reminder … 95 bar."
    )
    effect: Literal["penalty", "incentive", "neutral"] = Field(
        description="A penalty, an incentive, or neither: monotonicity checks need it."
    )
    cite: Citation | None = None


class Interpretation(_Model):
    """A question the source leaves open, its named readings and the default."""

    question: Text
    options: dict[str, Text] = Field(min_length=2)
    default: str
    cite: Citation | None = None

    @model_validator(mode="after")
    def _default_known(self) -> Interpretation:
        if self.default not in self.options:
            msg = f"default {self.default!r} is not one of the options {sorted(self.options)}"
            raise ValueError(msg)
        return self


class LintSettings(_Model):
    """What ``vbp-rules lint`` accepts in this pack, each with the reason."""

    allow: dict[str, str] = Field(
        default_factory=dict,
        description="Issue location (rules.my-rule, parameters.x, a clause label such as "
        "四（三）) -> why the pack leaves it so; such issues are reported as notes.",
    )

    @field_validator("allow")
    @classmethod
    def _reasons(cls, v: dict[str, str]) -> dict[str, str]:
        for where, reason in v.items():
            if not reason.strip():
                msg = f"lint.allow[{where!r}] needs a reason"
                raise ValueError(msg)
        return v


def _both_languages() -> list[Literal["zh", "en"]]:
    return ["zh", "en"]


class PackModel(_Model):
    """A policy pack as written in ``pack.yaml``."""

    format: Literal[1] = Field(default=1, description="Pack format version.")
    id: str = Field(pattern=_ID)
    extends: str | None = None
    title: Text
    jurisdiction: Jurisdiction
    issuers: list[Issuer] = Field(min_length=1)
    document_number: str
    issued_on: date
    in_force: InForce | None = None
    status: Literal["in_force", "draft"]
    source: SourceInfo
    languages: list[Literal["zh", "en"]] = Field(default_factory=_both_languages)
    summary: Text | None = None
    notes: list[str] = Field(default_factory=list)
    adoption: Text | None = Field(
        default=None, description="For packs that adopt another: how and when it was adopted."
    )
    actions: dict[str, ActionSpec] = Field(
        default_factory=dict,
        description="Action codes of this pack, beside the shared vocabulary.",
    )
    parameters: dict[str, Parameter] = Field(default_factory=dict)
    interpretations: dict[str, Interpretation] = Field(default_factory=dict)
    rules: list[Rule] = Field(default_factory=list)
    lint: LintSettings = Field(default_factory=LintSettings)

    @field_validator("parameters", "interpretations", "actions")
    @classmethod
    def _snake_names(cls, v: dict[str, Any]) -> dict[str, Any]:
        for name in v:
            if not re.fullmatch(_NAME, name):
                msg = f"name {name!r} must be lower_snake_case ASCII"
                raise ValueError(msg)
        return v


def pack_json_schema() -> dict[str, Any]:
    """The JSON Schema of ``pack.yaml`` files."""
    schema = PackModel.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "vbp_rules policy pack"
    return schema
