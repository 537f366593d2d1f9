"""Library functions the commands call, imported when first called.

``vbp-rules --help`` (and every command) registers all commands at start-up; importing
the pack and facts models there would cost most of a second that ``--help`` never needs.
Type checkers see the real functions; at run time each name is a thin forwarder that
imports its module on first call.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

__all__ = [
    "facts_json_schema",
    "lint_pack",
    "list_packs",
    "load_facts",
    "load_pack",
    "pack_json_schema",
    "pack_test_json_schema",
    "render_parameter",
    "rule_coverage",
    "run_pack_tests",
    "scaffold_pack",
]


def _forward(module: str, name: str) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(importlib.import_module(module), name)(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    call.__doc__ = f"``{module}.{name}``, imported on first call."
    return call


if TYPE_CHECKING:
    from vbp_rules.facts import facts_json_schema, load_facts
    from vbp_rules.packs import list_packs, load_pack, pack_json_schema
    from vbp_rules.packs._params import render_parameter
    from vbp_rules.packs.testing import pack_test_json_schema, rule_coverage, run_pack_tests
    from vbp_rules.testing.authoring import lint_pack, scaffold_pack
else:
    facts_json_schema = _forward("vbp_rules.facts", "facts_json_schema")
    load_facts = _forward("vbp_rules.facts", "load_facts")
    list_packs = _forward("vbp_rules.packs", "list_packs")
    load_pack = _forward("vbp_rules.packs", "load_pack")
    pack_json_schema = _forward("vbp_rules.packs", "pack_json_schema")
    render_parameter = _forward("vbp_rules.packs._params", "render_parameter")
    pack_test_json_schema = _forward("vbp_rules.packs.testing", "pack_test_json_schema")
    rule_coverage = _forward("vbp_rules.packs.testing", "rule_coverage")
    run_pack_tests = _forward("vbp_rules.packs.testing", "run_pack_tests")
    lint_pack = _forward("vbp_rules.testing.authoring", "lint_pack")
    scaffold_pack = _forward("vbp_rules.testing.authoring", "scaffold_pack")
