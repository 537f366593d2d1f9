"""Specification of the fact kinds: field types, cross-field checks, schema, docs."""

from __future__ import annotations

import doctest
import re
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import attrs
import pytest
from pydantic import BaseModel, ValidationError

from vbp_rules.facts import (
    FACT_KINDS,
    SHANGHAI,
    Complaint,
    Day,
    DemandReport,
    EnterprisePeriodStat,
    ExemptionEvent,
    FactModel,
    FactSet,
    Flag,
    Id,
    Instant,
    Money,
    Order,
    Quantity,
    Ratio,
    facts_json_schema,
    load_facts,
)
from vbp_rules.facts._docs import BEGIN, END, render_fact_tables

DATA = Path(__file__).parent / "data" / "facts"
DOCS = Path(__file__).parent.parent / "docs" / "facts.md"
CJK = re.compile(r"[\u4e00-\u9fff]")


class _Box(BaseModel):
    """One field of each annotated type, to test the types on their own."""

    quantity: Quantity | None = None
    money: Money | None = None
    ratio: Ratio | None = None
    instant: Instant | None = None
    day: Day | None = None
    flag: Flag | None = None
    ident: Id | None = None


def _value(field: str, raw: object, context: dict[str, Any] | None = None) -> object:
    return getattr(_Box.model_validate({field: raw}, context=context), field)


def _error(field: str, raw: object) -> str:
    with pytest.raises(ValidationError) as info:
        _Box.model_validate({field: raw})
    return str(info.value.errors()[0]["msg"])


# --- the annotated types ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(0, 0), (12, 12), ("12", 12), (" 12 ", 12), ("+7", 7), (Decimal("12"), 12), (10**15, 10**15)],
)
def test_quantity_accepts_whole_numbers(raw: object, expected: int) -> None:
    value = _value("quantity", raw)
    assert value == expected
    assert type(value) is int


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (1.5, "got float 1.5"),
        (12.0, "got float 12.0"),
        (True, "not a boolean"),
        ("1.5", "whole number, got '1.5'"),
        ("1_000", "whole number"),
        ("", "whole number"),
        ("ten", "whole number, got 'ten'"),
        (Decimal("1.5"), "whole number, got 1.5"),
        (-1, "must not be negative, got -1"),
        ("-3", "must not be negative, got -3"),
        ([1], "got list"),
    ],
)
def test_quantity_rejects(raw: object, message: str) -> None:
    assert message in _error("quantity", raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12.5", "12.50"),
        (" 12.50 ", "12.50"),
        (12, "12.00"),
        (Decimal("0.1"), "0.10"),
        ("1.230", "1.23"),
        ("0", "0.00"),
        ("-0", "0.00"),
        ("1E+3", "1000.00"),
        ("92233720368547758.07", "92233720368547758.07"),  # the largest: 2**63 - 1 fen
    ],
)
def test_money_is_fen_exact_decimal(raw: object, expected: str) -> None:
    value = _value("money", raw)
    assert isinstance(value, Decimal)
    assert str(value) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (12.5, "must not be a binary float"),
        (0.1, "must not be a binary float"),
        ("1.234", "at most 2 decimal places"),
        (Decimal("0.125"), "at most 2 decimal places"),
        ("-1", "must not be negative"),
        ("NaN", "finite"),
        ("Infinity", "finite"),
        ("12,50", "must be a number"),
        ("¥12", "must be a number"),
        (True, "not a boolean"),
    ],
)
def test_money_rejects(raw: object, message: str) -> None:
    assert message in _error("money", raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("30%", Fraction(3, 10)),
        ("30 ％", Fraction(3, 10)),
        ("0.3", Fraction(3, 10)),
        ("3/10", Fraction(3, 10)),
        ("33.3%", Fraction(333, 1000)),
        (Fraction(1, 3), Fraction(1, 3)),
        (Decimal("0.80"), Fraction(4, 5)),
        (0, Fraction(0)),
        (1, Fraction(1)),
        ("100%", Fraction(1)),
    ],
)
def test_ratio_is_exact_fraction(raw: object, expected: Fraction) -> None:
    value = _value("ratio", raw)
    assert isinstance(value, Fraction)
    assert value == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("130%", "between 0 and 1"),
        ("-0.1", "between 0 and 1"),
        (2, "between 0 and 1"),
        (0.3, "must not be a binary float"),
        ("3/0", "must look like"),
        ("thirty", "must look like"),
        (Decimal("NaN"), "finite"),
        (False, "not a boolean"),
    ],
)
def test_ratio_rejects(raw: object, message: str) -> None:
    assert message in _error("ratio", raw)


@pytest.mark.parametrize(
    ("raw", "expected_utc"),
    [
        ("2024-03-01T09:00+08:00", datetime(2024, 3, 1, 1, 0, tzinfo=UTC)),
        ("2024-03-01 09:00:00+08:00", datetime(2024, 3, 1, 1, 0, tzinfo=UTC)),
        ("2024-03-01T01:00:00Z", datetime(2024, 3, 1, 1, 0, tzinfo=UTC)),
        (" 2024-03-01T01:00:00.250+00:00 ", datetime(2024, 3, 1, 1, 0, 0, 250000, tzinfo=UTC)),
        (datetime(2024, 3, 1, 1, 0, tzinfo=UTC), datetime(2024, 3, 1, 1, 0, tzinfo=UTC)),
        (
            datetime(2024, 3, 1, 9, 0, tzinfo=timezone(timedelta(hours=8))),
            datetime(2024, 3, 1, 1, 0, tzinfo=UTC),
        ),
    ],
)
def test_instant_is_converted_to_shanghai(raw: object, expected_utc: datetime) -> None:
    value = _value("instant", raw)
    assert isinstance(value, datetime)
    assert value == expected_utc
    assert value.tzinfo is SHANGHAI


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            "2024-03-01 09:00",
            "naive timestamp '2024-03-01 09:00' has no time zone; add +08:00 or pass assume_tz",
        ),
        (datetime(2024, 3, 1, 9, 0), "naive timestamp '2024-03-01 09:00:00'"),
        ("2024-03-01", "needs a date and a time of day"),
        (date(2024, 3, 1), "needs a time of day"),
        ("yesterday 9am", "not an ISO 8601 timestamp"),
        ("9am", "needs a date and a time of day"),
        ("2024-13-01T09:00+08:00", "not an ISO 8601 timestamp"),
        (1709254800, "got int"),
    ],
)
def test_instant_rejects(raw: object, message: str) -> None:
    assert message in _error("instant", raw)


def test_naive_instant_is_localized_with_assume_tz() -> None:
    from zoneinfo import ZoneInfo

    value = _value("instant", "2024-03-01 09:00", {"assume_tz": ZoneInfo("UTC")})
    assert value == datetime(2024, 3, 1, 17, 0, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-03-01", date(2024, 3, 1)),
        (" 2024-03-01 ", date(2024, 3, 1)),
        (date(2024, 3, 1), date(2024, 3, 1)),
        (datetime(2024, 3, 1), date(2024, 3, 1)),
    ],
)
def test_day(raw: object, expected: date) -> None:
    assert _value("day", raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("2024-02-30", "not an ISO 8601 date"),
        (datetime(2024, 3, 1, 9, 30), "must not carry a time"),
        (datetime(2024, 3, 1, tzinfo=UTC), "must not carry a time of day or zone"),
        (20240301, "got int"),
    ],
)
def test_day_rejects(raw: object, message: str) -> None:
    assert message in _error("day", raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (True, True),
        ("true", True),
        ("Yes", True),
        ("1", True),
        ("是", True),
        (1, True),
        (False, False),
        ("false", False),
        ("N", False),
        ("否", False),
        (0, False),
    ],
)
def test_flag(raw: object, expected: bool) -> None:
    assert _value("flag", raw) is expected


@pytest.mark.parametrize("raw", ["maybe", 2, 1.0, ""])
def test_flag_rejects(raw: object) -> None:
    assert "yes/no value" in _error("flag", raw)


@pytest.mark.parametrize(("raw", "expected"), [("h-1", "h-1"), (" h-1 ", "h-1"), (1001, "1001")])
def test_id(raw: object, expected: str) -> None:
    assert _value("ident", raw) == expected


@pytest.mark.parametrize(("raw", "message"), [("", "empty"), ("  ", "empty"), (1.0, "float")])
def test_id_rejects(raw: object, message: str) -> None:
    assert message in _error("ident", raw)


# --- the fact kinds -----------------------------------------------------------------------

GOOD = load_facts(DATA / "all_kinds.yaml")


def test_sample_has_every_kind_and_no_rejects() -> None:
    assert GOOD.rejects == ()
    assert all(count >= 1 for count in GOOD.counts().values())


@pytest.mark.parametrize("kind", list(FACT_KINDS))
def test_each_kind_validates_a_good_row(kind: str) -> None:
    model = FACT_KINDS[kind]
    fact = GOOD.rows(kind)[0]
    assert type(fact) is model
    assert model.fact_kind == kind
    # A JSON dump validates back to the same fact (exact money, ratios and instants).
    again = model.model_validate_json(fact.model_dump_json())
    assert again == fact
    assert model.model_validate(fact.model_dump()) == fact


@pytest.mark.parametrize("kind", list(FACT_KINDS))
def test_each_kind_is_frozen_and_forbids_unknown_fields(kind: str) -> None:
    model = FACT_KINDS[kind]
    fact = GOOD.rows(kind)[0]
    with pytest.raises(ValidationError):
        fact.id = "changed"  # type: ignore[misc]
    data = fact.model_dump()
    data["no_such_field"] = 1
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        model.model_validate(data)
    assert hash(fact) == hash(model.model_validate(fact.model_dump()))


@pytest.mark.parametrize("kind", list(FACT_KINDS))
def test_each_kind_requires_an_id(kind: str) -> None:
    data = GOOD.rows(kind)[0].model_dump()
    del data["id"]
    with pytest.raises(ValidationError, match="id"):
        FACT_KINDS[kind].model_validate(data)


def test_sample_values_are_exact() -> None:
    order = GOOD.orders[0]
    assert order.amount == Decimal("150.00")
    assert order.sent_at == datetime(2024, 3, 1, 9, tzinfo=SHANGHAI)
    assert GOOD.batches[0].non_selected_share_limit == Fraction(3, 10)
    assert GOOD.listings[0].listing_price == Decimal("0.45")
    assert GOOD.listings[0].self_pay_ratio == Fraction(1, 10)
    assert GOOD.institutions[1].public is True


def test_null_means_not_given() -> None:
    order = Order.model_validate(
        {
            "id": "o-1",
            "institution_id": "h-1",
            "enterprise_id": "e-1",
            "product_id": "p-1",
            "sent_at": "2024-03-01T09:00+08:00",
            "ordered_quantity": 3,
            "delivered_quantity": None,
            "offline": None,
        }
    )
    assert order.delivered_quantity == 0
    assert order.offline is False


def _order(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": "o-1",
        "institution_id": "h-1",
        "enterprise_id": "e-1",
        "product_id": "p-1",
        "sent_at": "2024-03-01T09:00+08:00",
        "ordered_quantity": 10,
    }
    return base | changes


def _relation(model: type[FactModel], data: dict[str, object]) -> tuple[str, str]:
    with pytest.raises(ValidationError) as info:
        model.model_validate(data)
    (error,) = info.value.errors()
    assert error["type"] == "fact_relation"
    return error["ctx"]["field"], error["msg"]


@pytest.mark.parametrize(
    ("model", "data", "field", "message"),
    [
        (Order, _order(delivered_quantity=11), "delivered_quantity", "greater than"),
        (
            Order,
            _order(responded_at="2024-03-01T08:59+08:00"),
            "responded_at",
            "is before sent_at",
        ),
        (Order, _order(delivered_at="2024-03-01T00:59Z"), "delivered_at", "is before sent_at"),
        (
            Complaint,
            {
                "id": "c",
                "institution_id": "h",
                "enterprise_id": "e",
                "raised_at": "2024-09-27T15:30+08:00",
                "resolved_at": "2024-09-27T15:29+08:00",
            },
            "resolved_at",
            "is before raised_at",
        ),
        (
            DemandReport,
            {
                "id": "d",
                "institution_id": "h",
                "generic_name": "g",
                "reported_quantity": 1,
                "reporting_unit": "county_medical_community",
            },
            "county_medical_community_id",
            "is required when reporting_unit",
        ),
        (
            ExemptionEvent,
            {
                "id": "x",
                "kind": "force_majeure",
                "starts_on": "2024-02-01",
                "ends_on": "2024-01-31",
            },
            "ends_on",
            "is before starts_on",
        ),
        (
            EnterprisePeriodStat,
            {
                "id": "q",
                "enterprise_id": "e",
                "period_start": "2024-01-01",
                "period_end": "2024-03-31",
                "orders": 10,
                "responded_orders": 11,
                "timely_delivered_orders": 5,
            },
            "responded_orders",
            "greater than orders",
        ),
        (
            EnterprisePeriodStat,
            {
                "id": "q",
                "enterprise_id": "e",
                "period_start": "2024-01-01",
                "period_end": "2024-03-31",
                "orders": 10,
                "responded_orders": 10,
                "timely_delivered_orders": 5,
                "complaints": 1,
                "timely_resolved_complaints": 2,
            },
            "timely_resolved_complaints",
            "greater than complaints",
        ),
    ],
)
def test_cross_field_checks_name_their_field(
    model: type[FactModel], data: dict[str, object], field: str, message: str
) -> None:
    found_field, found_message = _relation(model, data)
    assert found_field == field
    assert message in found_message


def test_boundaries_of_cross_field_checks_are_inclusive() -> None:
    order = Order.model_validate(
        _order(delivered_quantity=10, responded_at="2024-03-01T09:00+08:00")
    )
    assert order.delivered_quantity == order.ordered_quantity


def test_ordered_quantity_must_be_positive() -> None:
    with pytest.raises(ValidationError, match="greater than 0"):
        Order.model_validate(_order(ordered_quantity=0))


# --- registry, schema and docs ------------------------------------------------------------


def test_registry_matches_fact_set_attributes() -> None:
    names = [f.name for f in attrs.fields(FactSet) if f.init]
    assert names[: len(FACT_KINDS)] == list(FACT_KINDS)
    for kind, model in FACT_KINDS.items():
        assert issubclass(model, FactModel)
        assert model.fact_kind == kind


def test_json_schema_describes_every_kind_and_field() -> None:
    schema = facts_json_schema()
    assert schema["additionalProperties"] is False
    assert set(schema["properties"]) == {"$schema", *FACT_KINDS}
    for model in FACT_KINDS.values():
        definition = schema["$defs"][model.__name__]
        assert definition["additionalProperties"] is False
        assert CJK.search(definition["description"]), model.__name__
        for name, prop in definition["properties"].items():
            assert CJK.search(prop["description"]), f"{model.__name__}.{name}"


def test_json_schema_is_valid_and_accepts_a_sample() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = facts_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    document = {kind: [f.model_dump(mode="json") for f in GOOD.rows(kind)] for kind in FACT_KINDS}
    jsonschema.Draft202012Validator(schema).validate(document)


def test_docs_field_tables_are_current() -> None:
    text = DOCS.read_text(encoding="utf-8")
    assert BEGIN in text
    assert END in text
    block = text.split(BEGIN, 1)[1].split(END, 1)[0].strip()
    assert block == render_fact_tables().strip(), (
        "docs/facts.md is stale: run `python -m vbp_rules.facts._docs docs/facts.md`"
    )


def test_docs_examples_run() -> None:
    result = doctest.testfile(
        str(DOCS),
        module_relative=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
    )
    assert result.failed == 0
    assert result.attempted > 0
