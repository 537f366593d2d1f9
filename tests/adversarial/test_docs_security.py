"""docs/security.md: its examples run and its nav entry exists."""

from __future__ import annotations

import doctest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "security.md"


def test_security_page_examples_run() -> None:
    result = doctest.testfile(
        str(PAGE), module_relative=False, optionflags=doctest.NORMALIZE_WHITESPACE
    )
    assert result.failed == 0
    assert result.attempted > 0


def test_security_page_is_in_the_nav() -> None:
    assert "security.md" in (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
