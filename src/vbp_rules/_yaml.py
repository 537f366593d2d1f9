"""Safe YAML reading with line numbers, for packs, pack tests and fact files.

ruamel.yaml's round-trip loader keeps each node's line and column and rejects duplicate
keys; we convert its tree to plain Python while recording where every value came from,
refuse aliases (no billion-laughs), and read YAML floats back as exact decimals.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.composer import Composer, ComposerError
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import AliasEvent

__all__ = [
    "MAX_YAML_BYTES",
    "ExactConstructor",
    "Located",
    "NoAliasComposer",
    "YamlError",
    "format_location",
    "read_yaml",
]

MAX_YAML_BYTES = 4 * 1024 * 1024

#: Path inside a document (keys and list indexes) -> (line, column), both 1-based.
Located = dict[tuple[str | int, ...], tuple[int, int]]


class YamlError(Exception):
    """A YAML document that cannot be read; carries ``line`` when known."""

    def __init__(self, message: str, *, line: int | None = None) -> None:
        self.line = line
        super().__init__(message)


class NoAliasComposer(Composer):
    """Refuses aliases (``*name``, also in ``<<: *name``) as they are met: no alias bombs."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.parser.check_event(AliasEvent):
            event = self.parser.peek_event()
            raise ComposerError(
                None,
                None,
                f"YAML aliases (*{event.anchor}) are not allowed: write the value out",
                event.start_mark,
            )
        return super().compose_node(parent, index)


class ExactConstructor(RoundTripConstructor):
    """Round-trip constructor (keeps line numbers) that reads floats exactly.

    A YAML float becomes the :class:`~decimal.Decimal` of its text (``0.95`` is exactly
    0.95), never a binary float; ``.inf``/``.nan`` stay text so validation refuses them.
    """

    def construct_exact_float(self, node: Any) -> object:
        text = str(self.construct_scalar(node))
        try:
            return Decimal(text.replace("_", ""))
        except InvalidOperation:
            return text


ExactConstructor.add_constructor("tag:yaml.org,2002:float", ExactConstructor.construct_exact_float)


def _plain(node: Any, path: tuple[str | int, ...], where: Located) -> Any:
    if isinstance(node, CommentedMap):
        out: dict[Any, Any] = {}
        for key, value in node.items():
            k = key if isinstance(key, str | int) else str(key)
            try:
                line, col = node.lc.value(key)
            except (KeyError, TypeError, AttributeError):  # pragma: no cover - defensive
                line, col = node.lc.line, node.lc.col
            try:
                kline, kcol = node.lc.key(key)
            except (KeyError, TypeError, AttributeError):  # pragma: no cover - defensive
                kline, kcol = line, col
            where[(*path, k)] = (kline + 1, kcol + 1)
            out[k] = _plain(value, (*path, k), where)
        return out
    if isinstance(node, CommentedSeq):
        items = []
        for i, value in enumerate(node):
            try:
                line, col = node.lc.item(i)
            except (KeyError, TypeError, AttributeError, IndexError):  # pragma: no cover
                line, col = node.lc.line, node.lc.col
            where[(*path, i)] = (line + 1, col + 1)
            items.append(_plain(value, (*path, i), where))
        return items
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, float):  # pragma: no cover - ExactConstructor makes no floats
        msg = f"binary float {node!r} in YAML; numbers are read exactly"
        raise YamlError(msg)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, str):
        return str(node)
    if isinstance(node, _dt.datetime | _dt.date):
        return node
    return node  # pragma: no cover - other scalar types


def read_yaml(path: Path | str, *, text: str | None = None) -> tuple[Any, Located]:
    """Read one YAML document safely.

    Returns the document as plain Python (dict/list/str/int/Decimal/bool/date/None)
    and a map from each value's path to its (line, column).

    Raises:
        YamlError: unreadable file, syntax error, duplicate key, alias, or too large.
    """
    p = Path(path)
    if text is None:
        try:
            size = p.stat().st_size
        except OSError as exc:
            raise YamlError(f"cannot read {p}: {exc.strerror or exc}") from exc
        if size > MAX_YAML_BYTES:
            msg = f"{p} is {size} bytes; YAML files are limited to {MAX_YAML_BYTES} bytes"
            raise YamlError(msg)
        try:
            text = p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise YamlError(f"cannot read {p}: {exc}") from exc
    elif len(text.encode("utf-8")) > MAX_YAML_BYTES:
        raise YamlError(f"YAML text is limited to {MAX_YAML_BYTES} bytes")
    yaml = YAML(typ="rt", pure=True)
    yaml.allow_duplicate_keys = False
    yaml.Composer = NoAliasComposer
    yaml.Constructor = ExactConstructor
    yaml.max_depth = 64
    try:
        doc = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        raise YamlError(f"YAML error: {problem}", line=line) from exc
    except YAMLError as exc:
        raise YamlError(f"YAML error: {str(exc).splitlines()[0]}") from exc
    where: Located = {}
    return _plain(doc, (), where), where


def format_location(
    file: str | None, where: Mapping[tuple[str | int, ...], tuple[int, int]], loc: tuple[Any, ...]
) -> str:
    """``file:line:col field.path`` for a pydantic-style location tuple."""
    field = ""
    for part in loc:
        if isinstance(part, int):
            field += f"[{part}]"
        else:
            field += ("." if field else "") + str(part)
    line_col = None
    probe = tuple(loc)
    while probe:
        if probe in where:
            line_col = where[probe]
            break
        probe = probe[:-1]
    prefix = file or "<pack>"
    if line_col:
        prefix += f":{line_col[0]}:{line_col[1]}"
    return f"{prefix} {field}".rstrip()
