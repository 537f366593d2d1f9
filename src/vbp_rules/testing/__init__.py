"""The pack-authoring kit: boundary facts, property checks and a pytest plugin.

- :mod:`vbp_rules.testing.checks`: property checks any pack can run
  (:func:`~vbp_rules.testing.checks.run_checks`).
- :mod:`vbp_rules.testing.strategies`: hypothesis strategies derived from a pack
  (imports hypothesis; install the ``test`` extra).
- :mod:`vbp_rules.testing.plugin`: the pytest plugin that collects
  ``policy_packs/*/tests/*.yaml``.

The boundary-case builders below need no hypothesis: each case is a small fact set with
the outcome the pack's bound words call for, and can be written out as a YAML pack test.
"""

from vbp_rules.testing._boundaries import (
    BoundaryCase,
    boundary_cases,
    example_configuration,
    exemption_cases,
    sla_cases,
    uncovered_rules,
)
from vbp_rules.testing._coverage import coverage_report
from vbp_rules.testing.checks import ALL_CHECKS, CheckReport, Problem, run_checks

__all__ = [
    "ALL_CHECKS",
    "BoundaryCase",
    "CheckReport",
    "Problem",
    "boundary_cases",
    "coverage_report",
    "example_configuration",
    "exemption_cases",
    "run_checks",
    "sla_cases",
    "uncovered_rules",
]
