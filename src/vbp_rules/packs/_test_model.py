"""The pack-test file format: pydantic models, unknown keys refused.

A pack test file (``policy_packs/<id>/tests/*.yaml``) is one case, or shared keys plus a
list of cases under ``cases:``. These models are its only schema; the exported JSON
Schema (``vbp-rules schema pack-test``) is committed under ``schemas/``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "ExpectModel",
    "ExpectedFinding",
    "ExpectedReject",
    "ExpectedSkip",
    "PackTestCaseModel",
    "pack_test_json_schema",
]

_STRICT = ConfigDict(extra="forbid", frozen=True)

#: A subject is written as its keys: ``{id: O-1}`` or ``{enterprise_id: E1, product_id: P1}``.
SubjectKeys = dict[str, str | int]


class ExpectedFinding(BaseModel):
    """One expected finding: matched by rule and subject (and period when given)."""

    model_config = _STRICT

    rule: str
    subject: SubjectKeys | None = Field(
        default=None,
        min_length=1,
        description="The finding's subject keys; required unless any_subject is true.",
    )
    any_subject: bool = Field(
        default=False,
        description="Match a finding of this rule whatever its subject (say so explicitly).",
    )
    period: str | None = None
    outcome: Literal["breach", "compliant", "determination", "needs_review"] | None = None
    tier: str | None = None
    actions: list[str] | None = None
    values: dict[str, Any] | None = None
    flags: list[str] | None = None

    @model_validator(mode="after")
    def _subject_or_any(self) -> ExpectedFinding:
        if self.subject is None and not self.any_subject:
            msg = (
                "an expected finding names its subject ({id: …}); write any_subject: true "
                "to match any subject of the rule"
            )
            raise ValueError(msg)
        if self.subject is not None and self.any_subject:
            msg = "give subject or any_subject: true, not both"
            raise ValueError(msg)
        return self


class ExpectedSkip(BaseModel):
    """One expected skip: rule and reason; ``subject`` when the skip is about one.

    Without ``subject`` (and without ``any_subject: true``) only a skip of the rule as a
    whole (one with no subject, such as ``other_interpretation``) matches.
    """

    model_config = _STRICT

    rule: str | None
    reason: Literal[
        "not_applicable",
        "exempted",
        "not_configured",
        "out_of_force",
        "missing_fact",
        "pending",
        "documentation_only",
        "no_applicable_rule",
        "reference_data",
        "other_interpretation",
    ]
    subject: SubjectKeys | None = Field(default=None, min_length=1)
    any_subject: bool = False
    rows: list[tuple[str, str | int]] | None = Field(
        default=None,
        description=(
            "Input rows the skip must account for, as [kind, id] pairs: how a row no rule "
            "reads (reason no_applicable_rule, which has no subject) is expected."
        ),
    )

    @model_validator(mode="after")
    def _not_both(self) -> ExpectedSkip:
        if self.subject is not None and self.any_subject:
            msg = "give subject or any_subject: true, not both"
            raise ValueError(msg)
        return self


class ExpectedReject(BaseModel):
    """One expected rejected input row: its fact kind and id (and the field to blame)."""

    model_config = _STRICT

    kind: str
    id: str | int | None = None
    field: str | None = None


class ExpectModel(BaseModel):
    """What a case expects.

    Every breach and needs_review finding of the case must be matched by an entry of
    ``findings``; ``exhaustive`` lists rules whose compliant findings must be matched
    too. ``rejects`` is the number of rejected input rows or the list of them; it
    defaults to none, so an unexpected reject fails the case.
    """

    model_config = _STRICT

    findings: list[ExpectedFinding] = Field(default_factory=list)
    exhaustive: list[str] = Field(default_factory=list)
    skips: list[ExpectedSkip] = Field(default_factory=list)
    rejects: int | list[ExpectedReject] = 0


class PackTestCaseModel(BaseModel):
    """One case: facts in, expectations out."""

    model_config = _STRICT

    name: str | None = None
    as_of: datetime | date | str
    interpretations: dict[str, str] | None = None
    parameters: dict[str, Any] | None = None
    facts: dict[str, list[dict[str, Any]]] | None = None
    expect: ExpectModel


#: Keys a case may carry; a file may share any of them (but ``name`` and ``expect``) with its
#: cases.
CASE_KEYS = tuple(PackTestCaseModel.model_fields)
SHARED_KEYS = tuple(k for k in CASE_KEYS if k not in ("name", "expect"))


def pack_test_json_schema() -> dict[str, Any]:
    """The JSON Schema of pack test files (``policy_packs/<id>/tests/*.yaml``)."""
    case = PackTestCaseModel.model_json_schema()
    defs = case.pop("$defs", {})
    defs["PackTestCase"] = case
    shared = {k: v for k, v in case["properties"].items() if k in SHARED_KEYS}
    schema: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "vbp_rules pack test file",
        "description": (
            "One case, or keys shared by its cases plus the cases under `cases:`; a case's "
            "own keys win."
        ),
        "$defs": defs,
        "anyOf": [
            {"$ref": "#/$defs/PackTestCase"},
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["cases"],
                "properties": {
                    **shared,
                    "cases": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "additionalProperties": False,
                            "properties": case["properties"],
                            "required": ["expect"],
                        },
                    },
                },
            },
        ],
    }
    return schema
