"""Which rules a pack's YAML tests exercise."""

from __future__ import annotations

from vbp_rules.packs.pack import Pack
from vbp_rules.packs.testing import rule_coverage, run_pack_tests

__all__ = ["coverage_report"]


def coverage_report(pack: Pack) -> tuple[int, int, tuple[str, ...]]:
    """(exercised, total, missing rule ids) for the rules a pack's tests can reach.

    Runs the pack's tests; see :func:`vbp_rules.packs.testing.rule_coverage`.
    """
    reachable, missing = rule_coverage(pack, run_pack_tests(pack))
    return len(reachable) - len(missing), len(reachable), missing
