"""Writing one benchmark's section of ``docs/benchmarks.md`` without touching the others.

Each benchmark script owns the text between ``<!-- NAME:start -->`` and
``<!-- NAME:end -->``; a missing section is appended. The page header stays as written.
"""

from __future__ import annotations

from pathlib import Path

HEADER = """# Benchmarks

Each section below is written by one script in `bench/` (do not edit them by hand; rerun
the script). Targets are checked here, never in unit tests: the machines are shared and
noisy, so figures are medians and minimums of repeated runs, and ratios against the
alternatives measured in the same run.
"""


def write_section(path: Path, name: str, section: str) -> None:
    """Replace (or append) the ``name`` section of the page at ``path``."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    body = f"{start}\n{section.strip()}\n{end}"
    text = path.read_text(encoding="utf-8") if path.exists() else HEADER
    if start in text and end in text:
        head, rest = text.split(start, 1)
        tail = rest.split(end, 1)[1]
        text = head + body + tail
    else:
        text = text.rstrip("\n") + "\n\n" + body + "\n"
    path.write_text(text, encoding="utf-8")
