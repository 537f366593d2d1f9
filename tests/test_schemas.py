"""The committed JSON Schemas (for editors) match the pydantic models."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from vbp_rules.facts import facts_json_schema
from vbp_rules.packs import pack_json_schema
from vbp_rules.packs.testing import pack_test_json_schema

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("pack", pack_json_schema),
        ("facts", facts_json_schema),
        ("pack-test", pack_test_json_schema),
    ],
)
def test_committed_schema_is_current(name: str, make: Callable[[], dict[str, Any]]) -> None:
    committed = (ROOT / "schemas" / f"{name}.schema.json").read_text(encoding="utf-8")
    current = json.dumps(make(), ensure_ascii=False, indent=2, sort_keys=True, default=str) + "\n"
    assert committed == current, (
        f"schemas/{name}.schema.json is stale: regenerate it with "
        f"`vbp-rules schema {name} > schemas/{name}.schema.json`"
    )
