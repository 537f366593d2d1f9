"""Readers for fact files: JSON, JSON Lines, YAML, CSV and Parquet.

Each reader turns one file into :class:`RawRow` records (kind, raw mapping, position)
and raises :class:`~vbp_rules.errors.FactsError` only for problems that make the file
unreadable as a whole (syntax errors, unknown kinds, a list of rows of unknown kind).
Problems confined to one row travel with the row (``RawRow.problem``) and become
rejected inputs, so a bad row never stops the rest of the file.
"""

from __future__ import annotations

import csv
import difflib
import importlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, Final, NamedTuple, Protocol

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.scalarbool import ScalarBoolean

from vbp_rules._yaml import ExactConstructor, NoAliasComposer
from vbp_rules.errors import FactsError
from vbp_rules.facts.models import FACT_KINDS

__all__ = [
    "SUFFIXES",
    "RawRow",
    "check_columns",
    "check_kind",
    "did_you_mean",
    "files_in",
    "read_file",
]


class RawRow(NamedTuple):
    """One input row as read, before validation."""

    kind: str
    data: object
    row: int | None
    line: int | None = None
    field_lines: Mapping[str, int] | None = None
    problem: str | None = None
    problem_field: str | None = None


class Reader(Protocol):
    """Reads one file into raw rows; ``explicit`` says the kind came from ``kind=``."""

    def __call__(
        self, path: Path, source: str, kind: str | None, *, explicit: bool
    ) -> Iterator[RawRow]: ...


_SCHEMA_KEY: Final = "$schema"


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """Return ``"; did you mean 'x'?"`` for the closest choice, or ``""``."""
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def check_kind(name: object, where: str) -> str:
    """Return ``name`` if it is a fact kind, else raise FactsError naming ``where``."""
    if isinstance(name, str) and name in FACT_KINDS:
        return name
    hint = did_you_mean(name, FACT_KINDS) if isinstance(name, str) else ""
    raise FactsError(
        f"{where}: unknown fact kind {name!r}{hint} (known kinds: {', '.join(FACT_KINDS)})"
    )


def check_columns(names: Iterable[str], kind: str, where: str) -> None:
    """Refuse a table whose columns are not all fields of ``kind``, or repeat a name.

    A header-level problem is one error naming ``where`` (file and line) and every
    unknown column with a did-you-mean hint, not one rejected row per row.
    """
    names = list(names)
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise FactsError(f"{where}: column {twice[0]!r} appears twice")
    fields = FACT_KINDS[kind].model_fields
    unknown = [name for name in names if name not in fields]
    if unknown:
        close = {name: difflib.get_close_matches(name, list(fields), n=1) for name in unknown}
        shown = ", ".join(
            f"{name!r} (did you mean {close[name][0]!r}?)" if close[name] else repr(name)
            for name in unknown
        )
        label = "column" if len(unknown) == 1 else "columns"
        raise FactsError(f"{where}: unknown {label} for {kind}: {shown}")


def _list_kind(path: Path, kind: str | None) -> str | None:
    """The kind of a list of rows in ``path``: ``kind=`` or the file name's first part."""
    if kind is not None:
        return kind
    stem = path.name.split(".", 1)[0]
    return stem if stem in FACT_KINDS else None


def _need_kind(source: str, path: Path, kind: str | None) -> str:
    if kind is not None:
        return kind
    stem = path.name.split(".", 1)[0]
    raise FactsError(
        f"{source}: cannot tell the fact kind of its rows{did_you_mean(stem, FACT_KINDS)}; "
        "name the file after a kind (orders.csv, orders.2024-03.csv) or pass kind="
    )


def _read_text(path: Path, source: str) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FactsError(
            f"{source}: not UTF-8 text (byte {exc.start}); save the file as UTF-8"
        ) from None
    except OSError as exc:
        raise FactsError(f"{source}: cannot read: {exc.strerror or exc}") from None


# --- JSON -----------------------------------------------------------------------------


class _DuplicateKeys(dict[str, Any]):
    """A JSON object that repeated some keys (the first value of each is kept)."""

    duplicates: list[str]


def _object_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) == len(pairs):
        return result
    first: _DuplicateKeys = _DuplicateKeys()
    first.duplicates = []
    for key, value in pairs:
        if key in first:
            first.duplicates.append(key)
        else:
            first[key] = value
    return first


def _json_int(text: str) -> int | str:
    # Past 40 digits a JSON integer stays text: the quantity validators reject it as too
    # long, an id keeps it, and Python's 4,300-digit limit never fails the whole file.
    return int(text) if len(text) <= _MAX_JSON_INT_CHARS else text


_MAX_JSON_INT_CHARS: Final = 40


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not a JSON number")


_DUPLICATE_KEY: Final = "the key appears more than once in the row"


def _json_row(kind: str, value: object, row: int, line: int) -> RawRow:
    if isinstance(value, _DuplicateKeys):
        key = value.duplicates[0]
        return RawRow(kind, dict(value), row, line, None, _DUPLICATE_KEY, key)
    return RawRow(kind, value, row, line)


_WS: Final = re.compile(r"[ \t\n\r]*")
_TOO_DEEP: Final = "nested too deeply (a fact row is a flat mapping of fields)"


class _JsonScan:
    """Walks the top level of a JSON fact document, decoding one row at a time.

    The standard decoder gives no positions, so the top-level object and arrays are
    walked here and each row is decoded with ``raw_decode`` at a known offset; that
    gives every row its line number while the C decoder does the work.
    """

    def __init__(self, text: str, source: str) -> None:
        self.text = text
        self.source = source
        self.pos = 0
        self._line = 1
        self._counted = 0
        self._decoder = json.JSONDecoder(
            parse_float=Decimal,
            parse_int=_json_int,
            parse_constant=_no_constant,
            object_pairs_hook=_object_pairs,
        )

    def line(self, pos: int) -> int:
        if pos > self._counted:  # positions only move forward
            self._line += self.text.count("\n", self._counted, pos)
            self._counted = pos
        return self._line

    def fail(self, message: str, pos: int | None = None) -> FactsError:
        at = self.pos if pos is None else pos
        return FactsError(f"{self.source}:{self.line(at)}: invalid JSON fact file: {message}")

    def skip(self) -> str:
        match = _WS.match(self.text, self.pos)
        self.pos = match.end() if match else self.pos
        return self.text[self.pos : self.pos + 1]

    def expect(self, char: str) -> None:
        if self.skip() != char:
            found = self.text[self.pos : self.pos + 1] or "end of file"
            raise self.fail(f"expected {char!r}, found {found!r}")
        self.pos += 1

    def value(self) -> object:
        start = self.pos
        try:
            value, self.pos = self._decoder.raw_decode(self.text, self.pos)
        except json.JSONDecodeError as exc:
            raise self.fail(exc.msg, exc.pos) from None
        except ValueError as exc:
            raise self.fail(str(exc), start) from None
        except RecursionError:
            raise self.fail(_TOO_DEEP, start) from None
        return value

    def rows(self, kind: str) -> Iterator[RawRow]:
        self.expect("[")
        if self.skip() == "]":
            self.pos += 1
            return
        row = 0
        while True:
            self.skip()
            line = self.line(self.pos)
            row += 1
            yield _json_row(kind, self.value(), row, line)
            char = self.skip()
            self.pos += 1
            if char == "]":
                return
            if char != ",":
                raise self.fail(f"expected ',' or ']' after row {row}", self.pos - 1)

    def document(self, list_kind: str | None, *, explicit_kind: bool) -> Iterator[RawRow]:
        char = self.skip()
        if char == "[":
            path = Path(self.source)
            yield from self.rows(_need_kind(self.source, path, list_kind))
        elif char == "{":
            if explicit_kind:
                raise self.fail("kind= was given but the file holds a mapping of kinds")
            yield from self._kinds()
        else:
            raise self.fail("a fact file holds {kind: [rows]} or a list of rows")
        if self.skip():
            raise self.fail("extra data after the document")

    def _kinds(self) -> Iterator[RawRow]:
        self.pos += 1
        seen: set[str] = set()
        if self.skip() == "}":
            self.pos += 1
            return
        while True:
            if self.skip() != '"':
                raise self.fail("expected a fact kind in double quotes")
            key_pos = self.pos
            key = self.value()
            where = f"{self.source}:{self.line(key_pos)}"
            self.expect(":")
            self.skip()
            if key == _SCHEMA_KEY:
                self.value()
            else:
                kind = check_kind(key, where)
                if kind in seen:
                    raise FactsError(f"{where}: fact kind {kind!r} appears twice")
                seen.add(kind)
                if self.skip() == "[":
                    yield from self.rows(kind)
                elif self.value() is not None:
                    raise FactsError(f"{where}: {kind!r} must hold a list of rows")
            char = self.skip()
            self.pos += 1
            if char == "}":
                return
            if char != ",":
                raise self.fail("expected ',' or '}' between fact kinds", self.pos - 1)


def _read_json(path: Path, source: str, kind: str | None, *, explicit: bool) -> Iterator[RawRow]:
    yield from _JsonScan(_read_text(path, source), source).document(kind, explicit_kind=explicit)


def _read_jsonl(
    path: Path,
    source: str,
    kind: str | None,
    *,
    explicit: bool,  # noqa: ARG001 - one signature for all readers
) -> Iterator[RawRow]:
    kind = _need_kind(source, path, kind)
    decoder = json.JSONDecoder(
        parse_float=Decimal,
        parse_int=_json_int,
        parse_constant=_no_constant,
        object_pairs_hook=_object_pairs,
    )
    row = 0
    # Only "\n" ends a line (JSON Lines): str.splitlines() would also split at U+2028,
    # U+2029 and U+0085, which JSON allows unescaped inside strings.
    for number, line in enumerate(_read_text(path, source).split("\n"), start=1):
        if not line.strip(" \t\r"):
            continue
        row += 1
        try:
            value = decoder.decode(line.removesuffix("\r"))
        except ValueError as exc:
            reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
            yield RawRow(kind, None, row, number, problem=f"invalid JSON: {reason}")
            continue
        except RecursionError:
            yield RawRow(kind, None, row, number, problem=_TOO_DEEP)
            continue
        yield _json_row(kind, value, row, number)


# --- YAML -----------------------------------------------------------------------------


class _FactConstructor(ExactConstructor):
    """The exact constructor, also keeping timestamps as text and recording duplicates.

    Floats become :class:`~decimal.Decimal` from their text, timestamps stay text (the
    models parse them, zone included), and duplicate keys are recorded per mapping
    instead of failing the whole file.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.duplicates: dict[int, list[tuple[str, int]]] = {}

    def check_mapping_key(
        self, _node: Any, key_node: Any, mapping: Any, key: Any, _value: Any
    ) -> bool:
        if key in mapping:
            line = key_node.start_mark.line + 1
            self.duplicates.setdefault(id(mapping), []).append((str(key), line))
            return False
        return True

    def construct_timestamp_text(self, node: Any) -> object:
        return str(self.construct_scalar(node))

    def construct_int_text(self, node: Any) -> object:
        # Only a plain decimal integer is a number; ``00042``, ``0x1F``, ``0o17`` and
        # ``1_000`` stay the text that was written, so an id keeps its leading zeros
        # (as in CSV) and a quantity written that way is rejected, not reinterpreted.
        text = str(self.construct_scalar(node))
        if len(text) <= _MAX_YAML_INT_CHARS and _PLAIN_INT.fullmatch(text):
            return int(text)
        return text


_PLAIN_INT: Final = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_MAX_YAML_INT_CHARS: Final = 40

_FactConstructor.add_constructor(
    "tag:yaml.org,2002:timestamp", _FactConstructor.construct_timestamp_text
)
_FactConstructor.add_constructor("tag:yaml.org,2002:int", _FactConstructor.construct_int_text)


def _plain(value: Any) -> Any:
    """Turn ruamel's scalar and container subclasses into plain Python values."""
    if value is None or type(value) in (str, int, bool, Decimal):
        return value
    if isinstance(value, bool | ScalarBoolean):  # ScalarBoolean is an int subclass
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _yaml_line(node: Any, index: Any, *, key: bool = False) -> int | None:
    try:
        line, _ = node.lc.key(index) if key else node.lc.item(index)
    except (AttributeError, KeyError, IndexError, TypeError):
        return None
    return int(line) + 1


def _yaml_rows(
    kind: str, seq: Any, duplicates: Mapping[int, list[tuple[str, int]]]
) -> Iterator[RawRow]:
    for index, item in enumerate(seq):
        line = _yaml_line(seq, index)
        if not isinstance(item, Mapping):
            yield RawRow(kind, _plain(item), index + 1, line)
            continue
        field_lines = {}
        for key in item:
            key_line = _yaml_line(item, key, key=True)
            if key_line is not None:
                field_lines[str(key)] = key_line
        dups = duplicates.get(id(item))
        if dups:
            key, key_line = dups[0]
            field_lines[key] = key_line
            yield RawRow(kind, _plain(item), index + 1, line, field_lines, _DUPLICATE_KEY, key)
        else:
            yield RawRow(kind, _plain(item), index + 1, line, field_lines)


def _read_yaml(path: Path, source: str, kind: str | None, *, explicit: bool) -> Iterator[RawRow]:
    text = _read_text(path, source)
    yaml = YAML(typ="rt")
    yaml.Composer = NoAliasComposer
    yaml.Constructor = _FactConstructor
    yaml.max_depth = 32
    try:
        doc = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = f":{mark.line + 1}" if mark is not None else ""
        problem = exc.problem or exc.context or "syntax error"
        raise FactsError(f"{source}{at}: invalid YAML: {problem}") from None
    except YAMLError as exc:
        raise FactsError(f"{source}: invalid YAML: {exc}") from None
    duplicates: dict[int, list[tuple[str, int]]] = yaml.constructor.duplicates
    if doc is None:
        return
    if isinstance(doc, list):
        yield from _yaml_rows(_need_kind(source, path, kind), doc, duplicates)
        return
    if not isinstance(doc, Mapping):
        raise FactsError(f"{source}: a fact file holds {{kind: [rows]}} or a list of rows")
    if explicit:
        raise FactsError(f"{source}: kind= was given but the file holds a mapping of kinds")
    if duplicates.get(id(doc)):
        name, dup_line = duplicates[id(doc)][0]
        raise FactsError(f"{source}:{dup_line}: fact kind {name!r} appears twice")
    for key, rows in doc.items():
        line = _yaml_line(doc, key, key=True)
        where = f"{source}:{line}" if line else source
        if key == _SCHEMA_KEY:
            continue
        name = check_kind(key, where)
        if rows is None:
            continue
        if not isinstance(rows, list):
            raise FactsError(f"{where}: {name!r} must hold a list of rows")
        yield from _yaml_rows(name, rows, duplicates)


# --- CSV ------------------------------------------------------------------------------


def _read_csv(
    path: Path,
    source: str,
    kind: str | None,
    *,
    explicit: bool,  # noqa: ARG001 - one signature for all readers
) -> Iterator[RawRow]:
    kind = _need_kind(source, path, kind)
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise FactsError(f"{source}: cannot read: {exc.strerror or exc}") from None
    with handle:
        reader = csv.reader(handle, strict=True)
        try:
            yield from _csv_rows(reader, source, kind)
        except csv.Error as exc:
            raise FactsError(f"{source}:{reader.line_num}: invalid CSV: {exc}") from None
        except UnicodeDecodeError as exc:
            raise FactsError(
                f"{source}: not UTF-8 text (near line {reader.line_num + 1}, byte "
                f"{exc.start} of a block); save the file as UTF-8"
            ) from None


def _csv_rows(reader: Any, source: str, kind: str) -> Iterator[RawRow]:
    header: list[str] | None = None
    row = 0
    previous = 0
    for cells in reader:
        start, previous = previous + 1, reader.line_num
        if not any(cell.strip() for cell in cells):
            continue  # blank line: not a row
        if header is None:
            header = [cell.strip() for cell in cells]
            check_columns([name for name in header if name], kind, f"{source}:{start}")
            continue
        row += 1
        data: dict[str, object] = {}
        problem = None
        for index, cell in enumerate(cells):
            value = cell.strip() or None
            name = header[index] if index < len(header) else ""
            if name:
                data[name] = value
            elif value is not None and problem is None:
                problem = (
                    f"row has {len(cells)} cells but the header has {len(header)} columns"
                    if index >= len(header)
                    else f"value {value!r} in column {index + 1}, which has no header"
                )
        yield RawRow(kind, data, row, start, problem=problem)


# --- Parquet --------------------------------------------------------------------------


def _read_parquet(
    path: Path,
    source: str,
    kind: str | None,
    *,
    explicit: bool,  # noqa: ARG001 - one signature for all readers
) -> Iterator[RawRow]:
    kind = _need_kind(source, path, kind)
    try:
        parquet: Any = importlib.import_module("pyarrow.parquet")
    except ImportError:
        raise FactsError(
            f"{source}: install vbp-rules[frame] to read Parquet (pyarrow is missing)"
        ) from None
    try:
        file = parquet.ParquetFile(path)
        names = list(file.schema_arrow.names)
    except (OSError, ValueError) as exc:  # pyarrow's errors derive from these
        raise FactsError(f"{source}: cannot read Parquet: {exc}") from None
    if len(set(names)) != len(names):  # to_pylist would keep the last one silently
        twice = sorted({n for n in names if names.count(n) > 1})
        raise FactsError(f"{source}: column {twice[0]!r} appears twice")
    check_columns(names, kind, source)
    try:
        row = 0
        for batch in file.iter_batches(batch_size=8192):
            for record in _parquet_records(batch, names):
                row += 1
                yield record._replace(kind=kind, row=row)
    except (OSError, ValueError) as exc:  # pyarrow's errors derive from these
        raise FactsError(f"{source}: cannot read Parquet: {exc}") from None


def _parquet_records(batch: Any, names: list[str]) -> Iterator[RawRow]:
    """The rows of one record batch; a cell Python cannot hold costs only its row.

    ``to_pylist`` raises for a whole batch when one timestamp or date lies beyond what
    :mod:`datetime` holds (year 9999); the batch is then converted cell by cell.
    """
    try:
        records = batch.to_pylist()
    except (OverflowError, ValueError):
        records = None
    if records is not None:
        for record in records:
            yield RawRow("", record, None)
        return
    columns = [batch.column(i) for i in range(batch.num_columns)]
    for index in range(batch.num_rows):
        data: dict[str, object] = {}
        bad: str | None = None
        for name, column in zip(names, columns, strict=True):
            try:
                data[name] = column[index].as_py()
            except (OverflowError, ValueError):
                raw = getattr(column[index], "value", None)  # the stored integer
                data[name] = f"{column.type} {raw}"
                bad = bad or name
        if bad is None:
            yield RawRow("", data, None)
        else:
            reason = "value out of range (dates and timestamps must lie in years 1-9999)"
            yield RawRow("", data, None, problem=reason, problem_field=bad)


READERS: Final[Mapping[str, Reader]] = {
    ".json": _read_json,
    ".jsonl": _read_jsonl,
    ".ndjson": _read_jsonl,
    ".yaml": _read_yaml,
    ".yml": _read_yaml,
    ".csv": _read_csv,
    ".parquet": _read_parquet,
}
SUFFIXES: Final = tuple(READERS)


def files_in(directory: Path) -> list[Path]:
    """Supported, non-hidden files directly inside ``directory``, sorted by name."""
    return sorted(
        p
        for p in directory.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in READERS
    )


def read_file(path: Path, source: str, kind: str | None) -> Iterator[RawRow]:
    """Read one fact file; ``kind`` (from ``kind=``) overrides the file name's kind."""
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise FactsError(
            f"{source}: unsupported file type {path.suffix or '(none)'!r}; "
            f"use one of {', '.join(SUFFIXES)}"
        )
    return reader(path, source, _list_kind(path, kind), explicit=kind is not None)
