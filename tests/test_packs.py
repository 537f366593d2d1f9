"""Pack loading: validation with located errors, inheritance, overrides, discovery."""

from __future__ import annotations

import json
import os
import textwrap
from fractions import Fraction
from pathlib import Path

import pytest

import vbp_rules.packs.loader as pack_loader
from vbp_rules import PackNotFoundError, PackValidationError, load_pack
from vbp_rules.packs import PackDiscoveryWarning, list_packs, pack_json_schema

MINIMAL = """\
id: demo-2024
title: {zh: 演示, en: Demo}
jurisdiction: {zh: 演示省, en: Demo Province}
issuers: [{zh: 演示局, en: Demo Bureau}]
document_number: 演示〔2024〕1号
issued_on: 2024-01-01
status: in_force
source: {file: seeds/demo.txt}
parameters:
  floor: {type: ratio, value: 95%, cite: {clause: 一, text: 不低于95%}}
  low: {type: ratio, value: 60%, cite: {clause: 一, text: 低于60%}}
rules:
  - id: rate
    kind: threshold
    title: {zh: 响应率, en: Response rate}
    cite: {clause: 一, text: 订单响应率低于95%的}
    over: orders
    group_by: [enterprise_id]
    aggregate: {orders: count(), responded: count_if(is_set(responded_at))}
    metric: {name: order_response_rate, expr: responded / orders}
    breach_if: {word: 低于, parameter: floor}
    actions: [reminder]
"""


def write_pack(tmp_path: Path, text: str, name: str = "demo-2024") -> Path:
    folder = tmp_path / name
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "pack.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(PackValidationError) as info:
        load_pack(write_pack(tmp_path, text))
    return str(info.value)


def test_minimal_pack_loads(tmp_path: Path) -> None:
    pack = load_pack(write_pack(tmp_path, MINIMAL))
    assert pack.id == "demo-2024"
    assert pack.value("floor") == Fraction(19, 20)
    assert pack.status_on(pack.model.issued_on) == "in_force"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        # unknown key, located with line and a did-you-mean
        (
            "    actions: [reminder]\n",
            "    actons: [reminder]\n",
            "pack.yaml:22:5 rules[0].actons: unknown key 'actons'; did you mean 'actions'?",
        ),
        # unknown bound word
        ("word: 低于", "word: 低低于", "unknown bound word '低低于'; did you mean 低于"),
        # unknown action
        (
            "actions: [reminder]",
            "actions: [remind]",
            "unknown action 'remind'; did you mean reminder",
        ),
        # unknown parameter
        ("parameter: floor}", "parameter: flor}", "unknown parameter 'flor'; did you mean floor"),
        # forbidden expression constructs
        ("expr: responded / orders", "expr: __import__('os')", "rules[0].metric.expr"),
        ("expr: responded / orders", "expr: responded.real", "rules[0].metric.expr"),
        # unknown field names in expressions
        ("expr: responded / orders", "expr: respondd / orders", "unknown name 'respondd'"),
        # unknown fact kind
        ("over: orders", "over: order", "unknown fact kind 'order'; did you mean orders"),
        # float-free parameter values
        ("value: 95%", "value: 95 percent", "parameters.floor.value"),
        # rule kind
        ("kind: threshold", "kind: thresold", "rules[0]"),
    ],
)
def test_bad_packs_fail_with_located_messages(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    assert old in MINIMAL
    message = problems_of(tmp_path, MINIMAL.replace(old, new))
    assert expected in message


def test_yaml_alias_bombs_are_refused(tmp_path: Path) -> None:
    bomb = MINIMAL + textwrap.dedent(
        """\
        notes: &a [x, x, x, x, x, x, x, x, x]
        summary: *a
        """
    )
    assert "aliases" in problems_of(tmp_path, bomb)


def test_duplicate_keys_are_refused(tmp_path: Path) -> None:
    text = MINIMAL.replace("status: in_force\n", "status: in_force\nstatus: draft\n")
    assert "duplicate key" in problems_of(tmp_path, text)


TIERS = MINIMAL + textwrap.indent(
    textwrap.dedent(
        """\
      - id: rate-tiers
        kind: tiers
        title: {zh: 分档, en: Tiers}
        cite: {clause: 二, text: 低于80%、60%}
        over: orders
        group_by: [enterprise_id]
        aggregate: {orders: count(), responded: count_if(is_set(responded_at))}
        metric: {name: order_response_rate, expr: responded / orders}
        tiers:
          - {id: severe, upper: {word: 低于, parameter: low}, actions: [interview]}
          - id: mild
            lower: {word: 不低于, parameter: low}
            upper: {word: 低于, parameter: floor}
            actions: [reminder]
          - {id: ok, lower: {word: 不低于, parameter: floor}, outcome: compliant}
    """
    ),
    "  ",
)


def test_contiguous_tiers_load(tmp_path: Path) -> None:
    assert load_pack(write_pack(tmp_path, TIERS)).rule("rate-tiers").kind == "tiers"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "upper: {word: 低于, parameter: low}, actions: [interview]",
            "upper: {word: 以下, parameter: low}, actions: [interview]",
            "overlap at 3/5",
        ),
        (
            "lower: {word: 不低于, parameter: low}\n",
            "lower: {word: 超过, parameter: low}\n",
            "leave a gap at 3/5",
        ),
        (
            "lower: {word: 不低于, parameter: low}\n",
            "lower: {word: 不低于, value: 70%}\n",
            "gap between tiers 'severe'",
        ),
        (
            "- {id: ok, lower: {word: 不低于, parameter: floor}, outcome: compliant}",
            "- {id: ok, lower: {word: 不低于, parameter: floor}, upper: {word: 低于, value: 1}, "
            "outcome: compliant}",
            "highest tier needs no upper bound",
        ),
        (
            "upper: {word: 低于, parameter: low}, actions: [interview]",
            "upper: {word: 超过, parameter: low}, actions: [interview]",
            "an upper bound must read",
        ),
    ],
)
def test_tier_gaps_and_overlaps_are_rejected(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    assert old in TIERS
    assert expected in problems_of(tmp_path, TIERS.replace(old, new))


def test_overrides_make_a_new_validated_pack(tmp_path: Path) -> None:
    pack = load_pack(write_pack(tmp_path, TIERS))
    other = pack.with_overrides({"floor": "85%"})
    assert other.value("floor") == Fraction(17, 20)
    assert pack.value("floor") == Fraction(19, 20)
    with pytest.raises(PackValidationError, match="unknown parameter 'flor'"):
        pack.with_overrides({"flor": "85%"})
    with pytest.raises(PackValidationError, match="overlap"):
        pack.with_overrides({"low": "99%"})
    with pytest.raises(PackValidationError, match="not exact"):
        pack.with_overrides({"floor": 0.85})


def test_extends_inherits_rules_and_overrides_parameters(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_pack(tmp_path, MINIMAL)
    child = textwrap.dedent(
        """\
        id: demo-city
        extends: demo-2024
        jurisdiction: {zh: 演示市, en: Demo City, level: city}
        issuers: [{zh: 演示市局, en: Demo City Bureau}]
        parameters:
          floor: {value: 90%}
        """
    )
    write_pack(tmp_path, child, name="demo-city")
    monkeypatch.setattr(pack_loader, "builtin_packs_dir", lambda: tmp_path)
    pack = load_pack("demo-city")
    assert pack.parent is not None
    assert pack.lineage() == ("demo-city", "demo-2024")
    assert [r.id for r in pack.rules] == ["rate"]
    assert pack.value("floor") == Fraction(9, 10)
    assert pack.issuer == "演示市局"


def test_unknown_pack_id_suggests() -> None:
    with pytest.raises(PackNotFoundError, match="did you mean jiangxi-2024"):
        load_pack("jiangxi-2042")


def test_builtin_packs_are_listed_and_valid() -> None:
    ids = [info.id for info in list_packs()]
    assert "jiangxi-2024" in ids
    for info in list_packs():
        load_pack(info.path)


def test_json_schema_is_exported() -> None:
    schema = pack_json_schema()
    assert schema["title"] == "vbp_rules policy pack"
    json.dumps(schema, default=str)
    assert "rules" in schema["properties"]


def test_packs_published_through_entry_points_are_discovered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A province can publish its pack as a pip package (entry-point group vbp_rules.packs)."""
    import importlib.metadata

    write_pack(tmp_path / "province_pkg", MINIMAL)

    def packs_folder() -> Path:
        return tmp_path / "province_pkg"

    class FakeEntryPoint:
        name = "demo-province"

        def load(self) -> object:
            return packs_folder

    def entry_points(*, group: str) -> list[FakeEntryPoint]:
        return [FakeEntryPoint()] if group == "vbp_rules.packs" else []

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
    found = {info.id: info for info in list_packs()}
    assert found["demo-2024"].origin == "entry point demo-province"
    assert "jiangxi-2024" in found  # the built-in packs are still there
    assert load_pack("demo-2024").id == "demo-2024"


# ------------------------------------------------------------------ extends, search path

CITY = """\
id: demo-city
extends: {base}
jurisdiction: {{zh: 演示市, en: Demo City, level: city}}
issuers: [{{zh: 演示市局, en: Demo City Bureau}}]
parameters:
  floor: {{value: 90%}}
"""


@pytest.mark.parametrize("base", ["../demo-2024", "../demo-2024/pack.yaml", "demo-2024"])
def test_a_local_pack_extends_its_neighbour_by_path_or_by_id(tmp_path: Path, base: str) -> None:
    write_pack(tmp_path / "mine", MINIMAL)
    child = write_pack(tmp_path / "mine", CITY.format(base=base), name="demo-city")
    pack = load_pack(child)
    assert pack.lineage() == ("demo-city", "demo-2024")
    assert pack.value("floor") == Fraction(9, 10)


def test_extends_by_a_path_that_does_not_exist_says_where_it_looked(tmp_path: Path) -> None:
    child = write_pack(tmp_path, CITY.format(base="../nowhere"), name="demo-city")
    with pytest.raises(PackValidationError, match=r"extends: no pack at '../nowhere'"):
        load_pack(child)


def test_extends_by_an_absolute_path_is_refused(tmp_path: Path) -> None:
    parent = write_pack(tmp_path, MINIMAL)
    child = write_pack(tmp_path, CITY.format(base=json.dumps(str(parent))), name="demo-city")
    with pytest.raises(PackValidationError, match="is absolute"):
        load_pack(child)


def test_pack_ids_are_found_on_the_search_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from vbp_rules.cli import main

    write_pack(tmp_path / "base", MINIMAL)
    write_pack(tmp_path / "cities", CITY.format(base="demo-2024"), name="demo-city")
    with pytest.raises(PackNotFoundError):
        load_pack("demo-city")
    # a call's packs_dirs: the child by id, and its parent by id in another folder
    pack = load_pack("demo-city", packs_dirs=[tmp_path / "cities", tmp_path / "base"])
    assert pack.lineage() == ("demo-city", "demo-2024")
    # the environment variable
    monkeypatch.setenv("VBP_RULES_PACKS", f"{tmp_path / 'cities'}{os.pathsep}{tmp_path / 'base'}")
    assert load_pack("demo-city").parent is not None
    assert "demo-city" in {i.id for i in list_packs()}
    monkeypatch.delenv("VBP_RULES_PACKS")
    # the CLI's --packs-dir, for this run only
    args = ["--packs-dir", str(tmp_path / "cities"), "--packs-dir", str(tmp_path / "base")]
    assert main([*args, "lint", "demo-city"]) == 0
    capsys.readouterr()
    assert main(["lint", "demo-city"]) == 2
    assert "no pack 'demo-city'" in capsys.readouterr().err


def _pack_named(pack_id: str, base: str) -> str:
    return MINIMAL.replace("id: demo-2024\n", f"id: {pack_id}\nextends: {base}\n")


@pytest.mark.parametrize("back", ["a", "../a"])
def test_an_extends_cycle_is_reported_with_the_names_used(tmp_path: Path, back: str) -> None:
    # folders a and b; their ids differ from the folder names (issue 13: this recursed)
    write_pack(tmp_path, _pack_named("alpha-2024", "b"), name="a")
    write_pack(tmp_path, _pack_named("beta-2024", back), name="b")
    with pytest.raises(PackValidationError, match=rf"extends cycle: .*a/pack.yaml -> b -> {back}"):
        load_pack(tmp_path / "a")


def test_a_pack_that_extends_itself_is_a_cycle(tmp_path: Path) -> None:
    write_pack(tmp_path, _pack_named("alpha-2024", "."), name="a")
    with pytest.raises(PackValidationError, match=r"extends cycle"):
        load_pack(tmp_path / "a")


def test_an_entry_point_that_fails_to_load_is_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.metadata

    class BrokenEntryPoint:
        name = "broken-province"
        value = "broken_province:packs"

        def load(self) -> object:
            msg = "No module named 'broken_province'"
            raise ModuleNotFoundError(msg)

    def entry_points(*, group: str) -> list[BrokenEntryPoint]:
        return [BrokenEntryPoint()] if group == "vbp_rules.packs" else []

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
    with pytest.warns(PackDiscoveryWarning, match="broken-province.*skipped"):
        assert "jiangxi-2024" in {i.id for i in list_packs()}
    with pytest.warns(PackDiscoveryWarning):
        assert load_pack("jiangxi-2024").id == "jiangxi-2024"
