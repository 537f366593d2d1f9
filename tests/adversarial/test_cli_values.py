"""Issue 13 reproducers through the CLI: hostile --set values are refused, not tracebacks."""

from __future__ import annotations

from pathlib import Path

import pytest

from vbp_rules.cli import main

EXAMPLE = str(Path(__file__).resolve().parents[2] / "examples" / "jiangxi-2024")


@pytest.mark.parametrize(
    ("setting", "words"),
    [
        ("order_response_window=100000000000000", "at most 878400"),
        ("order_response_rate_floor=1e-1000000000", "order_response_rate_floor"),
    ],
)
def test_hostile_set_values_are_one_clear_error(
    capsys: pytest.CaptureFixture[str], setting: str, words: str
) -> None:
    argv = ["evaluate", "jiangxi-2024", EXAMPLE, "--as-of", "2025-06-30", "--set", setting]
    status = main(argv)
    _, err = capsys.readouterr()
    assert status != 0
    assert words in err
    assert "Traceback" not in err
