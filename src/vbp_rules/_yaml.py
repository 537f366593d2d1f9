"""Safe YAML reading with line numbers.

Packs and pack tests are read by :func:`read_yaml`: libyaml (through PyYAML's C loader)
composes the node tree with positions in a few milliseconds, and the values are built
here with YAML 1.2 core meanings, exact decimals, no aliases, merge keys or duplicate
keys, and a path -> (line, column) map for located errors. Fact files use ruamel.yaml's
round-trip loader with :class:`NoAliasComposer` and :class:`ExactConstructor`, which
keep positions per row (see ``vbp_rules.facts``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml as _pyyaml
from ruamel.yaml.composer import Composer, ComposerError
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.events import AliasEvent

#: libyaml's C loader where the wheel ships it (it does on the usual platforms).
_SafeLoader: Any = getattr(_pyyaml, "CSafeLoader", _pyyaml.SafeLoader)

__all__ = [
    "MAX_YAML_BYTES",
    "MAX_YAML_ITEMS",
    "ExactConstructor",
    "Located",
    "NoAliasComposer",
    "YamlError",
    "format_location",
    "read_yaml",
]

MAX_YAML_BYTES = 4 * 1024 * 1024

#: Most lines plus commas in one YAML text: a bound on its node count that is checked
#: before parsing, so a 2-million-item flow list under the byte limit is refused at once
#: (composing it would take half a minute). The largest shipped pack uses about 6,000.
MAX_YAML_ITEMS = 100_000

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


_INT = re.compile(r"[-+]?[0-9][0-9_]*")
_HEX = re.compile(r"[-+]?0x[0-9a-fA-F_]+")
_OCT = re.compile(r"[-+]?0o[0-7_]+")
_DECIMAL = re.compile(r"[-+]?(?:[0-9][0-9_]*)?(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?")
_TIMESTAMPS = _pyyaml.constructor.SafeConstructor()
_MAX_DEPTH = 64
_QUOTED = frozenset({"'", '"', "|", ">"})


def _scalar(node: _pyyaml.ScalarNode) -> object:
    """A plain scalar read with YAML 1.2 core meanings, exactly.

    libyaml's resolver tags scalars by YAML 1.1 patterns; we keep only the 1.2 core
    readings: ``true``/``false`` (not yes/no/on/off), decimal and 0x/0o integers (not
    ``010`` as octal), floats as the exact :class:`~decimal.Decimal` of their text.
    """
    value = node.value
    tag = node.tag
    if node.style in _QUOTED or tag == "tag:yaml.org,2002:str":
        return value
    if tag == "tag:yaml.org,2002:null":
        return None
    if tag == "tag:yaml.org,2002:bool":
        return {"true": True, "false": False}.get(value.lower(), value)
    text = value.replace("_", "")
    if tag == "tag:yaml.org,2002:int":
        if _INT.fullmatch(value):
            return int(text, 10)
        if _HEX.fullmatch(value):
            return int(text, 16)
        if _OCT.fullmatch(value):
            return int(text.replace("0o", ""), 8)
        return value  # YAML 1.1 sexagesimal or binary forms stay text
    if tag == "tag:yaml.org,2002:float":
        if _DECIMAL.fullmatch(value):
            try:
                return Decimal(text)
            except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
                return value
        return value  # .inf / .nan stay text, so validation refuses them
    if tag == "tag:yaml.org,2002:timestamp":
        return _TIMESTAMPS.construct_yaml_timestamp(node)
    return value


def _located_scalar(node: _pyyaml.ScalarNode) -> object:
    """:func:`_scalar`, with a bad value (``2024-02-30``, ``!!int 0x_``) a located error."""
    try:
        return _scalar(node)
    except (ValueError, TypeError, AttributeError, OverflowError) as exc:
        tag = node.tag.rsplit(":", 1)[-1]
        shown = node.value if len(node.value) <= 40 else node.value[:37] + "..."
        reason = str(exc) if not isinstance(exc, AttributeError) else "not in the expected form"
        if "Exceeds the limit" in reason:
            reason = f"{len(node.value)} digits is too many"
        msg = f"YAML error: {shown!r} is not a valid {tag}: {reason}"
        raise YamlError(msg, line=node.start_mark.line + 1) from None


def _from_node(
    node: _pyyaml.Node,
    path: tuple[str | int, ...],
    where: Located,
    seen: set[int],
) -> Any:
    mark = node.start_mark
    where[path] = (mark.line + 1, mark.column + 1)
    if len(path) > _MAX_DEPTH:
        raise YamlError(f"YAML nested deeper than {_MAX_DEPTH} levels", line=mark.line + 1)
    if id(node) in seen:  # the composer shares the node an alias points to
        msg = (
            "YAML aliases (*name) are not allowed: write out the value anchored at line "
            f"{mark.line + 1}"
        )
        raise YamlError(msg, line=mark.line + 1)
    seen.add(id(node))
    if isinstance(node, _pyyaml.ScalarNode):
        return _located_scalar(node)
    if isinstance(node, _pyyaml.SequenceNode):
        return [_from_node(item, (*path, i), where, seen) for i, item in enumerate(node.value)]
    out: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, _pyyaml.ScalarNode):
            msg = "YAML mapping keys must be plain scalars"
            raise YamlError(msg, line=key_node.start_mark.line + 1)
        if key_node.value == "<<" and key_node.tag == "tag:yaml.org,2002:merge":
            msg = "YAML merge keys (<<) are not allowed: write the keys out"
            raise YamlError(msg, line=key_node.start_mark.line + 1)
        key = _located_scalar(key_node)
        key = key if isinstance(key, str | int) else str(key)
        if key in out:
            line = key_node.start_mark.line + 1
            raise YamlError(f"YAML error: found duplicate key {key!r}", line=line)
        out[key] = _from_node(value_node, (*path, key), where, seen)
        # a key's own position is the better place to point at for its value's errors
        kmark = key_node.start_mark
        where[(*path, key)] = (kmark.line + 1, kmark.column + 1)
    return out


def read_yaml(path: Path | str, *, text: str | None = None) -> tuple[Any, Located]:
    """Read one YAML document safely.

    Returns the document as plain Python (dict/list/str/int/Decimal/bool/date/None)
    and a map from each value's path to its (line, column). libyaml composes the node
    tree (fast, with positions); the values are built here, so aliases, merge keys and
    duplicate keys are refused and numbers are read exactly.

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
    items = text.count("\n") + text.count(",")
    if items > MAX_YAML_ITEMS:
        msg = (
            f"YAML text has {items} lines and commas; at most {MAX_YAML_ITEMS} are read "
            "(a bound on the number of values)"
        )
        raise YamlError(msg)
    try:
        root = _pyyaml.compose(text, Loader=_SafeLoader)
    except _pyyaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        raise YamlError(f"YAML error: {problem}", line=line) from exc
    except _pyyaml.YAMLError as exc:
        raise YamlError(f"YAML error: {str(exc).splitlines()[0]}") from exc
    where: Located = {}
    if root is None:
        return None, where
    return _from_node(root, (), where, set()), where


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
