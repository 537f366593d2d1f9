"""Issue 13 reproducers for pack values: located errors at load, never hangs or tracebacks."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from vbp_rules import Pack, PackValidationError

from .conftest import MINIMAL


def _with_parameter(line: str) -> str:
    return MINIMAL.replace("parameters:\n", f"parameters:\n  extra: {line}\n", 1)


@pytest.mark.parametrize(
    ("declaration", "words"),
    [
        ("{type: working_days, value: true, cite: {clause: 一, text: x}}", "boolean"),
        ("{type: ratio, value: true, cite: {clause: 一, text: x}}", "boolean"),
        ("{type: money, value: 1e1000000000, cite: {clause: 一, text: x}}", "1e1000000000"),
        ("{type: ratio, value: 1e-1000000000, cite: {clause: 一, text: x}}", "1e-1000000000"),
        ("{type: number, value: 1e1000000000, cite: {clause: 一, text: x}}", "1e1000000000"),
        ("{type: money, value: 92233720368547758.08, cite: {clause: 一, text: x}}", "at most"),
        ("{type: hours, value: 1000000000000, cite: {clause: 一, text: x}}", "at most"),
        ("{type: working_days, value: 100000000000000, cite: {clause: 一, text: x}}", "at most"),
        ("{type: months, value: 1201, cite: {clause: 一, text: x}}", "at most"),
        ("{type: count, value: 9223372036854775808, cite: {clause: 一, text: x}}", "at most"),
    ],
)
def test_bad_parameter_values_are_located_load_errors(
    problems_of: Callable[[str], str], declaration: str, words: str
) -> None:
    message = problems_of(_with_parameter(declaration))
    assert "extra" in message
    assert words in message


def test_the_longest_durations_load(pack_from: Callable[[str], Pack]) -> None:
    text = _with_parameter("{type: hours, value: 878400, cite: {clause: 一, text: x}}")
    assert str(pack_from(text).value("extra")) == "878400 hours"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("floor", "1e1000000000"),
        ("floor", True),
        ("floor", "9" * 5000),
    ],
)
def test_overrides_with_hostile_values_are_refused_at_once(
    pack_from: Callable[[str], Pack], name: str, value: object
) -> None:
    pack = pack_from(MINIMAL)
    with pytest.raises(PackValidationError, match=name):
        pack.with_overrides({name: value})


def test_duration_overrides_are_bounded(pack_from: Callable[[str], Pack]) -> None:
    text = _with_parameter("{type: hours, value: 24, cite: {clause: 一, text: x}}")
    pack = pack_from(text)
    with pytest.raises(PackValidationError, match="at most 878400"):
        pack.with_overrides({"extra": 100_000_000_000_000})


@pytest.mark.parametrize(
    ("old", "new", "line", "words"),
    [
        ("issued_on: 2024-01-01", "issued_on: 2024-02-30", 6, "day is out of range"),
        ("issued_on: 2024-01-01", "issued_on: 2024-13-01", 6, "month must be in 1..12"),
        ("issued_on: 2024-01-01", "issued_on: 2024-01-01 25:00:00", 6, "hour must be"),
        ("issued_on: 2024-01-01", "issued_on: 0000-01-01", 6, "year 0 is out of range"),
        ("issued_on: 2024-01-01", "issued_on: !!timestamp nonsense", 6, "not a valid timestamp"),
        ("status: in_force", "status: in_force\nformat: " + "9" * 5000, 8, "5000 digits"),
        ("status: in_force", "status: in_force\nformat: !!int 0x_", 8, "not a valid int"),
    ],
)
def test_bad_yaml_scalars_are_located_pack_errors(
    problems_of: Callable[[str], str], old: str, new: str, line: int, words: str
) -> None:
    message = problems_of(MINIMAL.replace(old, new))
    assert f"pack.yaml:{line}: YAML error:" in message
    assert words in message


def test_a_huge_flow_list_is_refused_before_parsing(problems_of: Callable[[str], str]) -> None:
    items = ",".join(["1"] * 2_000_000)
    text = MINIMAL.replace("status: in_force", f"status: in_force\nlanguages: [{items}]")
    assert "at most 100000 are read" in problems_of(text)


_RULE = (
    "  - id: r\n    kind: {kind}\n    title: {{zh: 测试, en: Test}}\n"
    "    cite: {{clause: 一, text: x}}\n    over: orders\n    group_by: [enterprise_id]\n"
)
_HEAD = MINIMAL.split("rules:\n")[0].replace(
    "parameters:\n",
    "parameters:\n  day: {type: date, value: 2024-01-01, cite: {clause: 一, text: x}}\n",
)


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        (
            _RULE.format(kind="tiers")
            + "    aggregate: {n: count()}\n    metric: {name: n, expr: n}\n    tiers:\n"
            "      - id: a\n        upper: {word: 低于, parameter: day}\n"
            "        actions: [reminder]\n"
            "      - id: b\n        lower: {word: 不低于, parameter: day}\n"
            "        outcome: compliant\n",
            "tiers[0].upper.parameter: parameter 'day' is a date",
        ),
        (
            _RULE.format(kind="threshold")
            + "    aggregate: {s: first(sent_at)}\n    metric: {name: s, expr: s}\n"
            "    breach_if: {word: 低于, parameter: floor}\n    actions: [reminder]\n",
            "rules[0].metric.expr: the metric s is an instant",
        ),
        (
            _RULE.format(kind="threshold")
            + "    aggregate: {s: sum(sent_at)}\n    metric: {name: s, expr: s}\n"
            "    breach_if: {word: 低于, parameter: floor}\n    actions: [reminder]\n",
            "rules[0].aggregate.s: sum() needs numbers; sent_at is an instant",
        ),
    ],
)
def test_type_errors_knowable_at_load_are_located_pack_errors(
    problems_of: Callable[[str], str], rule: str, words: str
) -> None:
    assert words in problems_of(_HEAD + "rules:\n" + rule)


def test_a_type_error_only_met_at_evaluation_is_an_expression_type_error(
    pack_from: Callable[[str], Pack],
) -> None:
    from datetime import date

    from vbp_rules import evaluate
    from vbp_rules.errors import ExpressionTypeError

    rule = (
        _RULE.format(kind="threshold")
        + "    aggregate: {s: min_of(sent_at)}\n    metric: {name: s, expr: 'if(true, s, s)'}\n"
        "    breach_if: {word: 低于, parameter: floor}\n    actions: [reminder]\n"
    )
    pack = pack_from(_HEAD + "rules:\n" + rule)
    order = {
        "id": "o1",
        "institution_id": "h",
        "enterprise_id": "e",
        "product_id": "p",
        "sent_at": "2024-03-01T09:00+08:00",
        "ordered_quantity": 10,
    }
    with pytest.raises(ExpressionTypeError, match="rule r: "):
        evaluate(pack, {"orders": [order]}, as_of=date(2024, 6, 30))


def test_min_of_mixed_types_is_a_located_load_error(problems_of: Callable[[str], str]) -> None:
    rule = (
        _RULE.format(kind="threshold") + "    aggregate: {s: min_of(amount), t: min_of(sent_at)}\n"
        "    metric: {name: s, expr: 'min(s, t)'}\n"
        "    breach_if: {word: 低于, parameter: floor}\n    actions: [reminder]\n"
    )
    message = problems_of(_HEAD + "rules:\n" + rule)
    assert "rules[0].metric.expr: min() mixes instant and number values" in message


def test_a_container_override_is_refused_without_recursion(
    pack_from: Callable[[str], Pack],
) -> None:
    nested: list[object] = []
    for _ in range(100_000):
        nested = [nested]
    pack = pack_from(MINIMAL)
    with pytest.raises(PackValidationError, match="not a list"):
        pack.with_overrides({"floor": nested})
