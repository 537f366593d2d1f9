"""Shared helpers for the hostile-input tests: a minimal pack written to a temp folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from vbp_rules import Pack, PackValidationError, load_pack

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


@pytest.fixture
def minimal() -> str:
    """The text of a small valid pack (one threshold rule over orders)."""
    return MINIMAL


@pytest.fixture
def pack_from(tmp_path: Path) -> Callable[[str], Pack]:
    """Write pack text to ``<tmp>/demo-2024/pack.yaml`` and load it."""

    def load(text: str) -> Pack:
        folder = tmp_path / "demo-2024"
        folder.mkdir(exist_ok=True)
        (folder / "pack.yaml").write_text(text, encoding="utf-8")
        return load_pack(folder / "pack.yaml")

    return load


@pytest.fixture
def problems_of(pack_from: Callable[[str], Pack]) -> Callable[[str], str]:
    """The message of the PackValidationError that loading the text raises."""

    def problems(text: str) -> str:
        with pytest.raises(PackValidationError) as info:
            pack_from(text)
        return str(info.value)

    return problems
