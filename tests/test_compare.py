"""Comparing packs side by side."""

from __future__ import annotations

import json

import pytest

from vbp_rules import PackValidationError, load_pack
from vbp_rules.cli import main
from vbp_rules.compare import compare_packs


def _row(rows: list, dimension: str, key: str):  # type: ignore[no-untyped-def]
    return next(r for r in rows if r.dimension == dimension and r.key == key)


def test_delivery_floors_line_up_across_provinces() -> None:
    rows = compare_packs([load_pack("shandong-2023"), load_pack("jiangxi-2024")])
    delivery = dict(_row(rows, "family", "delivery").cells)
    assert any("delivery_rate" in c and "80%" in c for c in delivery["shandong-2023"])
    assert any("timely_delivery_rate" in c and "90%" in c for c in delivery["jiangxi-2024"])
    # the same SLA in both notices: reply within 2 working days
    reply = dict(_row(rows, "sla", "complaints.replied_at").cells)
    assert all("2 working days" in c[0] for c in reply.values())
    # what each has alone is listed too
    alone = [r for r in rows if not r.shared]
    assert any(r.key == "publication_lead_working_days" for r in alone)
    assert rows[0].shared


def test_the_same_pack_twice_is_refused() -> None:
    pack = load_pack("jiangxi-2024")
    with pytest.raises(PackValidationError, match="more than once"):
        compare_packs([pack, pack])


@pytest.mark.parametrize("fmt", ["json", "csv", "table"])
def test_cli_compare(fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["compare", "shandong-2023", "jiangxi-2024", "--format", fmt, "--shared"])
    out = capsys.readouterr().out
    assert status == 0
    if fmt == "json":
        rows = json.loads(out)
        assert {"dimension", "key", "shared", "packs"} <= set(rows[0])
        assert all(r["shared"] for r in rows)
    elif fmt == "csv":
        assert out.splitlines()[0] == "dimension,key,shared,shandong-2023,jiangxi-2024"
    else:
        assert "pack comparison" in out
