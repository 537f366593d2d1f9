"""Which rules a pack's YAML tests exercise."""

from __future__ import annotations

from vbp_rules.packs.pack import Pack
from vbp_rules.packs.testing import run_pack_tests

__all__ = ["coverage_report"]


def coverage_report(pack: Pack) -> tuple[int, int, tuple[str, ...]]:
    """(exercised, total, missing rule ids) for the rules a pack's tests can reach.

    A rule counts when a test case produced a finding or a skip for it (not merely
    "another interpretation" or "documentation only"); an exemption counts when a case
    exempted something with it. Rules with no ``over`` (documentation only) are left out.
    """
    results = run_pack_tests(pack)
    seen: set[str] = set()
    for r in results:
        seen |= r.rules_seen
        if r.evaluation is not None:
            seen |= {s.exemption for s in r.evaluation.skips if s.exemption}
    ids = [r.id for r in pack.rules if r.over is not None]
    missing = tuple(rid for rid in ids if rid not in seen)
    return len(ids) - len(missing), len(ids), missing
