"""Evaluation engines: one meaning, several implementations.

``reference`` (plain Python, the specification), ``frame`` (narwhals over Polars, DuckDB,
pandas, PyArrow or PySpark; extra ``frame``) and ``stream`` (durable-rules with
caller-driven time; extra ``stream``) return identical findings on the same facts, as the
differential tests show. ``auto`` picks the fastest correct one for the input.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, Literal

from vbp_rules.errors import VbpRulesError
from vbp_rules.facts import FactSet
from vbp_rules.findings import Evaluation

__all__ = [
    "AUTO_FRAME_ROWS",
    "ENGINES",
    "EngineName",
    "EngineUnavailableError",
    "get_engine",
    "pick_engine",
]

EngineName = Literal["auto", "reference", "frame", "stream"]

#: Engine name -> (module, function, extra that provides it).
ENGINES: dict[str, tuple[str, str, str | None]] = {
    "reference": ("vbp_rules.engine.reference", "evaluate", None),
    "frame": ("vbp_rules.engine.frame", "evaluate_frame", "frame"),
    "stream": ("vbp_rules.engine.stream", "evaluate_stream", "stream"),
}

#: From this many input rows ``auto`` uses the frame engine (when installed): below it the
#: reference engine is faster (no frame set-up); above it the frame engine is (see
#: docs/benchmarks.md).
AUTO_FRAME_ROWS = 5_000


class EngineUnavailableError(VbpRulesError, ImportError):
    """The engine's optional dependencies are not installed."""


def get_engine(name: str) -> Callable[..., Evaluation]:
    """The evaluate function of an engine (same signature as :func:`vbp_rules.evaluate`).

    >>> get_engine("reference").__name__
    'evaluate'

    Raises:
        EngineUnavailableError: the engine needs an extra that is not installed.
        ValueError: no such engine.
    """
    if name not in ENGINES:
        msg = f"unknown engine {name!r}; choose one of {', '.join(['auto', *ENGINES])}"
        raise ValueError(msg)
    module, function, extra = ENGINES[name]
    try:
        loaded = importlib.import_module(module)
    except ImportError as exc:
        msg = f"the {name} engine needs its extra: pip install 'vbp-rules[{extra}]' ({exc})"
        raise EngineUnavailableError(msg) from exc
    fn: Callable[..., Evaluation] = getattr(loaded, function)
    return fn


def pick_engine(name: str, facts: FactSet | Any) -> str:
    """The engine ``name`` stands for: ``auto`` is frame for large inputs, else reference."""
    if name != "auto":
        return name
    rows = facts.total_rows() if isinstance(facts, FactSet) else 0
    if rows >= AUTO_FRAME_ROWS:
        try:
            get_engine("frame")
        except EngineUnavailableError:
            return "reference"
        return "frame"
    return "reference"
