"""Safe YAML reading with line numbers, for packs, pack tests and fact files.

ruamel.yaml's round-trip loader keeps each node's line and column and rejects duplicate
keys; we convert its tree to plain Python while recording where every value came from,
refuse aliases (no billion-laughs), and read YAML floats back as exact decimals.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import AliasEvent

__all__ = ["MAX_YAML_BYTES", "Located", "YamlError", "format_location", "read_yaml"]

MAX_YAML_BYTES = 4 * 1024 * 1024

#: Path inside a document (keys and list indexes) -> (line, column), both 1-based.
Located = dict[tuple[str | int, ...], tuple[int, int]]


class YamlError(Exception):
    """A YAML document that cannot be read; carries ``line`` when known."""

    def __init__(self, message: str, *, line: int | None = None) -> None:
        self.line = line
        super().__init__(message)


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
    if isinstance(node, float):
        # YAML floats are read back exactly as the decimal the author wrote
        # (the shortest repr round-trips the literal); never as binary floats.
        text = repr(float(node))
        if text in ("inf", "-inf", "nan"):
            msg = f"non-finite number {text} is not allowed"
            raise YamlError(msg)
        return Decimal(text)
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
    try:
        for event in yaml.parse(text):
            if isinstance(event, AliasEvent):
                line = event.start_mark.line + 1 if event.start_mark else None
                msg = "YAML aliases (*name) are not allowed: write the value out"
                raise YamlError(msg, line=line)
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
