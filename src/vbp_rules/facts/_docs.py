"""Render the fact kinds' field tables for ``docs/facts.md`` from the models.

The docs hold the rendered text between two markers; a test checks it is current.
Regenerate with ``python -m vbp_rules.facts._docs docs/facts.md``.
"""

from __future__ import annotations

import sys
import types
import typing
from pathlib import Path
from typing import Any, Final

from pydantic import PlainValidator
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from vbp_rules.facts import _types
from vbp_rules.facts.models import FACT_KINDS, DemandReport, FactModel

__all__ = ["BEGIN", "END", "render_fact_tables", "update_doc"]

BEGIN: Final = (
    "<!-- BEGIN GENERATED: fact kinds (python -m vbp_rules.facts._docs docs/facts.md) -->"
)
END: Final = "<!-- END GENERATED: fact kinds -->"

_TYPE_NAMES: Final[dict[object, str]] = {
    _types._quantity: "quantity",
    _types._positive_quantity: "quantity > 0",
    _types._year: "year",
    _types._money: "money",
    _types.parse_ratio: "ratio",
    _types._instant: "instant",
    _types._day: "date",
    _types._id: "id",
    _types._flag: "bool",
}

# Checks written as model validators rather than declared in not_before / at_most.
_EXTRA_CHECKS: Final[dict[type[FactModel], list[str]]] = {
    DemandReport: [
        "`county_medical_community_id` missing when `reporting_unit` is `county_medical_community`"
    ],
}


def _name_of(annotation: Any, metadata: list[Any]) -> str | None:
    if typing.get_origin(annotation) is typing.Annotated:
        metadata = [*annotation.__metadata__, *metadata]
        annotation = typing.get_args(annotation)[0]
    for item in metadata:
        if isinstance(item, PlainValidator) and item.func in _TYPE_NAMES:
            return _TYPE_NAMES[item.func]
    if annotation is type(None):
        return None
    if typing.get_origin(annotation) is typing.Literal:
        return " \\| ".join(f"`{a}`" for a in typing.get_args(annotation))
    return "text"


def _type_name(info: FieldInfo) -> str:
    annotation = info.annotation
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        names = [_name_of(arg, list(info.metadata)) for arg in typing.get_args(annotation)]
        return " \\| ".join(name for name in names if name is not None)
    return _name_of(annotation, list(info.metadata)) or "null"


def _presence(info: FieldInfo) -> str:
    if info.is_required():
        return "required"
    default = info.default
    if default is None or default is PydanticUndefined:
        return "optional"
    if isinstance(default, bool):
        return f"default `{str(default).lower()}`"
    return f"default `{default}`"


def _table(model: type[FactModel]) -> list[str]:
    doc = (model.__doc__ or "").strip().splitlines()[0]
    lines = [
        f"### `{model.fact_kind}` ({model.__name__})",
        "",
        doc,
        "",
        "| field | type | presence | meaning |",
        "|---|---|---|---|",
    ]
    for name, info in model.model_fields.items():
        description = (info.description or "").replace("|", "\\|")
        lines.append(f"| `{name}` | {_type_name(info)} | {_presence(info)} | {description} |")
    checks = [f"`{late}` before `{early}`" for late, early in model.not_before.items()]
    checks += [f"`{part}` greater than `{whole}`" for part, whole in model.at_most.items()]
    checks += _EXTRA_CHECKS.get(model, [])
    if checks:
        lines += ["", "Rejected when: " + "; ".join(checks) + "."]
    return [*lines, ""]


def render_fact_tables() -> str:
    """The Markdown field tables of every fact kind, in registry order."""
    lines: list[str] = []
    for model in FACT_KINDS.values():
        lines += _table(model)
    return "\n".join(lines)


def update_doc(path: Path) -> bool:
    """Rewrite the generated block of ``path``; return True if it changed."""
    text = path.read_text(encoding="utf-8")
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    new = f"{head}{BEGIN}\n\n{render_fact_tables()}\n{END}{tail}"
    if new == text:
        return False
    path.write_text(new, encoding="utf-8")
    return True


if __name__ == "__main__":  # pragma: no cover
    changed = update_doc(Path(sys.argv[1]))
    sys.stdout.write("updated\n" if changed else "up to date\n")
