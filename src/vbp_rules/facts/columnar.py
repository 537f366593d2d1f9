"""Columnar facts: Parquet, CSV and DataFrames validated and encoded as whole columns.

:func:`scan_facts` and :func:`validate_frame` give the same accepted facts and the same
:class:`~vbp_rules.facts.RejectedInput` values as :func:`~vbp_rules.facts.load_facts`,
but hold the accepted rows as one Polars table per fact kind, in the exact integer
encodings of :func:`~vbp_rules.facts._columns.normalized_columns` (instants as epoch
microseconds, dates as day numbers, money as fen, ratios as numerator/denominator).

How it stays identical to the row-by-row path: a vectorised *screen*, derived from the
fact models, passes only rows the models certainly accept; every other row (a bad row,
or one the screen cannot judge) is read as the row-by-row loader reads it and validated
by the model itself, which gives its exact reject or accepts it. Duplicate ids are then
found over the accepted rows in input order, as the loader does. So only the few rows
that are not plainly valid ever become Python objects. Needs the ``frame`` extra
(Polars). See ``docs/facts.md`` ("Columnar loading").

>>> import polars as pl
>>> frame = pl.DataFrame({
...     "id": ["o-1", "o-2"], "institution_id": "h-1", "enterprise_id": "e-1",
...     "product_id": "p-1", "sent_at": ["2024-03-01T09:00+08:00", "2024-03-01 09:00"],
...     "ordered_quantity": [10, 5],
... })
>>> result = validate_frame("orders", frame)
>>> result.table.select("__row", "id", "sent_at", "ordered_quantity", "__src_row").rows()
[(0, 'o-1', 1709254800000000, 10, 1)]
>>> reject = result.rejects[0]
>>> reject.row, reject.field, reject.reason[:40]
(2, 'sent_at', "naive timestamp '2024-03-01 09:00' has n")
"""

from __future__ import annotations

import bisect
import csv
import importlib
import os
from collections.abc import Callable, Iterable, Mapping
from datetime import tzinfo
from fractions import Fraction
from pathlib import Path
from typing import Any, Final

import attrs

from vbp_rules.errors import FactsError
from vbp_rules.facts._columns import ROW, field_types, normalized_columns, python_columns, to_python
from vbp_rules.facts._frames import frame_cell
from vbp_rules.facts._readers import (
    RawRow,
    _list_kind,
    _need_kind,
    check_columns,
    check_kind,
    files_in,
    read_file,
)
from vbp_rules.facts._screen import OK, PY_SPACE, field_specs, screen
from vbp_rules.facts._types import CONTEXT_ASSUME_TZ
from vbp_rules.facts.loading import (
    PYTHON_SOURCE,
    FactSet,
    RejectedInput,
    _zone,
    check_raw,
    duplicate_reason,
    reject_of,
)
from vbp_rules.facts.models import FACT_KINDS, FactModel

__all__ = ["SRC_ROW", "ColumnarFacts", "ColumnarKind", "scan_facts", "validate_frame"]

SRC_ROW: Final = "__src_row"
"""Column of the 1-based row number of each accepted row in its source (as
:attr:`RejectedInput.row <vbp_rules.facts.RejectedInput.row>` counts rows)."""

_POS: Final = "__pos"
_INT64_MIN: Final = -(2**63)
_INT64_MAX: Final = 2**63 - 1
_UNIT: Final = "__unit"
_RAW: Final = "__raw_"
_UNIT_STRIDE: Final = 2**40  # unit * stride + position: one Int64 key per input row
_ENGINE: Final = "streaming"  # lower peak memory than "in-memory" for the screen

RawLookup = Callable[[list[int]], Mapping[int, RawRow]]
"""0-based positions in a source -> the raw rows at those positions, as the loader reads them."""


def _pl() -> Any:
    try:
        return importlib.import_module("polars")
    except ImportError:
        raise FactsError("columnar facts need Polars: pip install vbp-rules[frame]") from None


def _schema(kind: str) -> dict[str, Any]:
    pl = _pl()
    types = {"Int64": pl.Int64, "Boolean": pl.Boolean, "String": pl.String}
    schema = {c.name: types[c.dtype] for c in normalized_columns(kind)}
    schema[SRC_ROW] = pl.Int64
    return schema


@attrs.frozen(kw_only=True)
class ColumnarKind:
    """One fact kind validated as columns: the accepted rows and the rejects.

    Attributes:
        kind: the fact kind (``"orders"``).
        table: a Polars DataFrame of the accepted rows, encoded as
            ``normalized_columns(kind)`` says (``__row`` is the 0-based position among
            the accepted rows), plus ``__src_row`` (the row number in the source).
        rejects: the rejected rows, as :func:`~vbp_rules.facts.load_facts` gives them.
    """

    kind: str
    table: Any = attrs.field(eq=False)
    rejects: tuple[RejectedInput, ...]


@attrs.frozen(kw_only=True)
class ColumnarFacts:
    """Facts of every kind as encoded Polars tables, with the rejected inputs.

    Attributes:
        tables: kind -> Polars DataFrame of accepted rows (see :class:`ColumnarKind`),
            for every kind in :data:`~vbp_rules.facts.FACT_KINDS` (empty when absent).
        rejects: every rejected input, in the order :func:`load_facts` reports them.
        sources: the files read (``"python"`` for frames and rows), in order.
    """

    tables: Mapping[str, Any] = attrs.field(eq=False)
    rejects: tuple[RejectedInput, ...]
    sources: tuple[str, ...] = ()
    # kind -> __row -> the model that validated a row the screen did not pass.
    _models: Mapping[str, Mapping[int, FactModel]] = attrs.field(
        factory=dict, eq=False, repr=False, alias="models"
    )
    # kind -> (source, number of accepted rows) runs, in table order.
    _spans: Mapping[str, tuple[tuple[str, int], ...]] = attrs.field(
        factory=dict, eq=False, repr=False, alias="spans"
    )

    def counts(self) -> dict[str, int]:
        """Number of accepted rows per kind, for every kind (zeros included)."""
        return {kind: int(self.tables[kind].height) for kind in FACT_KINDS}

    def total_rows(self) -> int:
        """Accepted rows plus rejected inputs: every input row read, counted once."""
        return sum(self.counts().values()) + len(self.rejects)

    def rows_of(self, kind: str) -> list[FactModel]:
        """The accepted rows of one kind as fact models (one Python object per row)."""
        return _decode(kind, self.tables[kind], self._models.get(kind, {}))

    def rejects_table(self) -> Any:
        """The rejects as a Polars DataFrame: one row per reject, in order.

        Columns ``source``, ``kind``, ``row``, ``line``, ``row_id``, ``field`` and
        ``reason``, as in :class:`~vbp_rules.facts.RejectedInput` (``raw`` is left out).
        """
        pl = _pl()
        names = ("source", "kind", "row", "line", "row_id", "field", "reason")
        schema = {name: pl.Int64 if name in ("row", "line") else pl.String for name in names}
        rows = [tuple(getattr(r, name) for name in names) for r in self.rejects]
        return pl.DataFrame(rows, schema=schema, orient="row")

    def to_fact_set(self) -> FactSet:
        """Decode into a :class:`~vbp_rules.facts.FactSet` of fact models.

        Equal to :func:`~vbp_rules.facts.load_facts` on the same input; one Python
        object per row, so meant for small inputs and for the reference engine.
        """
        facts: dict[str, list[FactModel]] = {}
        origins: dict[str, dict[str, tuple[str, int | None]]] = {}
        for kind in FACT_KINDS:
            table = self.tables[kind]
            facts[kind] = _decode(kind, table, self._models.get(kind, {}))
            sources = [s for s, n in self._spans.get(kind, ()) for _ in range(n)]
            ids = table.get_column("id").to_list()
            rows = table.get_column(SRC_ROW).to_list()
            origins[kind] = {i: (s, r) for i, s, r in zip(ids, sources, rows, strict=True)}
        fact_set = FactSet(**facts, rejects=self.rejects, sources=self.sources)
        object.__setattr__(fact_set, "_origins", origins)
        return fact_set


def _decode(kind: str, table: Any, models: Mapping[int, FactModel]) -> list[FactModel]:
    model = FACT_KINDS[kind]
    types = field_types(kind)
    columns: dict[str, list[Any]] = {}
    for name, t in types.items():
        if t == "ratio":
            nums = table.get_column(f"{name}__n").to_list()
            dens = table.get_column(f"{name}__d").to_list()
            columns[name] = [
                None if n is None else Fraction(n, d) for n, d in zip(nums, dens, strict=True)
            ]
        else:
            columns[name] = [to_python(kind, name, v) for v in table.get_column(name).to_list()]
    out: list[FactModel] = []
    names = list(types)
    for index, values in enumerate(zip(*(columns[n] for n in names), strict=True)):
        found = models.get(index)
        if found is not None:
            out.append(found)
        else:
            out.append(model.model_construct(**dict(zip(names, values, strict=True))))
    return out


@attrs.define
class _Part:
    """The rows of one kind from one source, after the screen and the model."""

    unit: int
    source: str
    kind: str
    table: Any  # LazyFrame of accepted rows: encoded columns + __src_row + __pos
    models: dict[int, FactModel]
    rejects: list[tuple[int, RejectedInput]]
    raw_at: RawLookup
    too_big: set[int]  # positions of accepted rows with an integer past Int64
    dup_raw_at: RawLookup | None = None  # a cheaper lookup for duplicates (raw only shown)


class _Scanner:
    """Reads sources into parts, then resolves duplicate ids across them."""

    def __init__(self, assume_tz: str | tzinfo | None) -> None:
        self.zone = _zone(assume_tz)
        self.context = {CONTEXT_ASSUME_TZ: self.zone} if self.zone is not None else None
        self.parts: list[_Part] = []
        self.sources: dict[str, None] = {}
        self.units: list[str] = []

    def _unit(self, source: str) -> int:
        self.sources[source] = None
        self.units.append(source)
        return len(self.units) - 1

    # -- sources ------------------------------------------------------------------------
    def add_path(self, path: Path, source: str, kind: str | None) -> None:
        suffix = path.suffix.lower()
        if suffix in (".parquet", ".csv"):
            the_kind = _need_kind(source, path, _list_kind(path, kind))
            if suffix == ".parquet":
                self._add_parquet(path, source, the_kind)
                return
            if self._add_csv(path, source, the_kind):
                return
        unit = self._unit(source)
        self._add_raw(unit, source, read_file(path, source, kind))

    def add_rows(self, kind: str, rows: Iterable[Any], source: str) -> None:
        unit = self._unit(source)
        raws = (RawRow(kind, row, index) for index, row in enumerate(rows, start=1))
        self._add_raw(unit, source, raws)

    def add_frame(self, kind: str, frame: Any, source: str) -> None:
        df, rows = _to_polars(frame)
        if rows is None:
            df = _whole_floats(df)
        columns = df.columns if rows is None else list(rows[0]) if rows else []
        check_columns([str(c) for c in columns], kind, f"{source} ({kind} frame)")
        if rows is not None:  # a frame Polars cannot hold goes row by row, as frames are read
            self.add_rows(kind, [{k: frame_cell(v) for k, v in r.items()} for r in rows], source)
            return
        unit = self._unit(source)

        def raw_at(positions: list[int]) -> dict[int, RawRow]:
            rows = df[positions].to_dicts() if positions else []
            # as the row loader reads frames: NaN is null, a whole float its integer
            rows = [{k: frame_cell(v) for k, v in r.items()} for r in rows]
            return {p: RawRow(kind, r, p + 1) for p, r in zip(positions, rows, strict=True)}

        self._screen(unit, source, kind, df.lazy(), raw_at)

    def _add_parquet(self, path: Path, source: str, kind: str) -> None:
        pl = _pl()
        try:
            parquet: Any = importlib.import_module("pyarrow.parquet")
        except ImportError:
            raise FactsError(
                f"{source}: install vbp-rules[frame] to read Parquet (pyarrow is missing)"
            ) from None
        try:
            file = parquet.ParquetFile(path)
        except (OSError, ValueError) as exc:  # pyarrow's errors derive from these
            raise FactsError(f"{source}: cannot read Parquet: {exc}") from None
        check_columns(file.schema_arrow.names, kind, source)
        unit = self._unit(source)
        counts = [file.metadata.row_group(g).num_rows for g in range(file.num_row_groups)]
        starts = [sum(counts[:g]) for g in range(len(counts))]

        def raw_at(positions: list[int]) -> dict[int, RawRow]:
            by_group: dict[int, list[int]] = {}
            for p in positions:
                by_group.setdefault(bisect.bisect_right(starts, p) - 1, []).append(p)
            out = {}
            for group, wanted in by_group.items():
                table = file.read_row_group(group).take([p - starts[group] for p in wanted])
                for p, record in zip(wanted, table.to_pylist(), strict=True):
                    out[p] = RawRow(kind, record, p + 1)
            return out

        def polars_raw_at(positions: list[int]) -> dict[int, RawRow]:
            found = pl.scan_parquet(path).with_row_index(_POS)
            out = {}
            for record in found.filter(pl.col(_POS).is_in(positions)).collect().to_dicts():
                pos = int(record.pop(_POS))
                out[pos] = RawRow(kind, record, pos + 1)
            return out

        try:
            self._screen(unit, source, kind, pl.scan_parquet(path), raw_at, capture=True)
        except pl.exceptions.PolarsError as exc:
            raise FactsError(f"{source}: cannot read Parquet: {exc}") from None
        self.parts[-1].dup_raw_at = polars_raw_at

    def _add_csv(self, path: Path, source: str, kind: str) -> bool:
        """Scan a CSV file with Polars; False if only the row-by-row reader can read it."""
        pl = _pl()
        header = _csv_header(path)
        if header is None:
            return False
        line, names = header
        check_columns([n for n in names if n], kind, f"{source}:{line}")
        if not all(names):
            return False  # cells under a nameless column are the row reader's business
        try:
            lf = pl.scan_csv(
                path,
                has_header=True,
                new_columns=names,
                infer_schema=False,
                skip_lines=line - 1,
                raise_if_empty=False,
            )
            cells = [pl.col(n).str.strip_chars(PY_SPACE) for n in names]
            cells = [
                pl.when(c.str.len_bytes() > 0).then(c).alias(n)
                for c, n in zip(cells, names, strict=True)
            ]
            df = lf.select(cells).filter(pl.any_horizontal(pl.all().is_not_null())).collect()
        except (pl.exceptions.PolarsError, OSError):
            return False
        unit = self._unit(source)

        lines: list[list[int] | None] = []  # computed once, when first needed

        def raw_at(positions: list[int]) -> dict[int, RawRow]:
            if not positions:
                return {}
            if not lines:
                lines.append(_csv_lines(path))
            starts = lines[0]
            if starts is None or len(starts) != df.height:  # the readers disagree
                return _walk_csv(path, source, kind, positions)
            # The cells as the row reader gives them (stripped, empty = null), and its lines.
            rows = df[positions].to_dicts()
            return {
                p: RawRow(kind, r, p + 1, starts[p]) for p, r in zip(positions, rows, strict=True)
            }

        self._screen(unit, source, kind, df.lazy(), raw_at)
        return True

    # -- validation ---------------------------------------------------------------------
    def _screen(
        self,
        unit: int,
        source: str,
        kind: str,
        lf: Any,
        raw_at: RawLookup,
        *,
        capture: bool = False,
    ) -> None:
        """Screen ``lf``; the model judges the rows the screen does not pass.

        With ``capture``, the raw cells of those rows are taken in the same pass over
        the input (when Polars gives the same Python values as the row reader), instead
        of being read again with ``raw_at``.
        """
        pl = _pl()
        schema = dict(lf.collect_schema())
        ratio_values = {}
        for name, spec in field_specs(kind).items():
            if spec.check == "ratio" and name in schema:
                distinct = lf.select(pl.col(name).drop_nulls().unique()).collect()
                ratio_values[name] = distinct.to_series().to_list()
        prepare, encode, judge = screen(kind, schema, self.zone, ratio_values)
        raw_names = list(schema) if capture and all(map(_same_values, schema.values())) else []
        raw_cols = [pl.col(n).alias(f"{_RAW}{n}") for n in raw_names]
        out = lf.with_row_index(_POS).with_columns(*prepare)
        out = out.select(pl.col(_POS).cast(pl.Int64), *encode, *raw_cols)
        out = out.select(*judge).collect(engine=_ENGINE)
        rejected = out.filter(~pl.col(OK))
        suspects = rejected.get_column(_POS).to_list()
        if raw_names:
            out = out.drop([f"{_RAW}{n}" for n in raw_names])
            cells = rejected.select([f"{_RAW}{n}" for n in raw_names]).rows()
            raws: Mapping[int, RawRow] = {
                p: RawRow(kind, dict(zip(raw_names, row, strict=True)), p + 1)
                for p, row in zip(suspects, cells, strict=True)
            }
        else:
            raws = raw_at(suspects)
        del rejected
        good = out.lazy().filter(pl.col(OK)).with_columns((pl.col(_POS) + 1).alias(SRC_ROW))
        self._finish(
            unit,
            source,
            kind,
            good=good,
            raws=[raws[p] for p in suspects],
            positions=suspects,
            raw_at=raw_at,
        )

    def _add_raw(self, unit: int, source: str, raws: Iterable[RawRow]) -> None:
        by_kind: dict[str, tuple[list[RawRow], list[int]]] = {}
        kept: dict[int, RawRow] = {}
        for pos, raw in enumerate(raws):
            rows, positions = by_kind.setdefault(raw.kind, ([], []))
            rows.append(raw)
            positions.append(pos)
            kept[pos] = raw

        def raw_at(positions: list[int]) -> dict[int, RawRow]:
            return {p: kept[p] for p in positions}

        for kind, (rows, positions) in by_kind.items():
            empty = _pl().LazyFrame(schema={**_schema(kind), _POS: _pl().Int64}).drop(ROW)
            self._finish(
                unit, source, kind, good=empty, raws=rows, positions=positions, raw_at=raw_at
            )

    def _finish(
        self,
        unit: int,
        source: str,
        kind: str,
        *,
        good: Any,
        raws: list[RawRow],
        positions: list[int],
        raw_at: RawLookup,
    ) -> None:
        """Validate ``raws`` (at ``positions``) with the model; add the part."""
        pl = _pl()
        models: dict[int, FactModel] = {}
        src_rows: list[int | None] = []
        rejects: list[tuple[int, RejectedInput]] = []
        for pos, raw in zip(positions, raws, strict=True):
            checked = check_raw(raw, self.context)
            if isinstance(checked, FactModel):
                models[pos] = checked
                src_rows.append(raw.row)
            else:
                rejects.append((pos, reject_of(raw, source, *checked)))
        order = [c for c in _schema(kind) if c != ROW] + [_POS]
        table = good.select(order)
        too_big: set[int] = set()
        if models:
            columns = python_columns(models.values(), kind)
            del columns[ROW]
            positions_kept = list(models)
            for values in columns.values():
                for index, value in enumerate(values):
                    if isinstance(value, int) and not _INT64_MIN <= value <= _INT64_MAX:
                        values[index] = None  # never wrapped; refused if it is kept
                        too_big.add(positions_kept[index])
            columns[SRC_ROW] = src_rows
            columns[_POS] = positions_kept
            schema = {**_schema(kind), _POS: pl.Int64}
            del schema[ROW]
            extra = pl.DataFrame(columns, schema=schema).select(order)
            table = table.merge_sorted(extra.lazy(), key=_POS)
        part = _Part(unit, source, kind, table, models, rejects, raw_at, too_big)
        self.parts.append(part)

    # -- duplicates and the result --------------------------------------------------------
    def build(self) -> ColumnarFacts:
        pl = _pl()
        tables: dict[str, Any] = {}
        models: dict[str, dict[int, FactModel]] = {}
        spans: dict[str, tuple[tuple[str, int], ...]] = {}
        rejects = [(part.unit, pos, r) for part in self.parts for pos, r in part.rejects]
        for kind in FACT_KINDS:
            parts = [p for p in self.parts if p.kind == kind]
            columns = list(_schema(kind))
            if not parts:
                tables[kind] = pl.DataFrame(schema=_schema(kind))
                continue
            joined = pl.concat(
                [p.table.with_columns(pl.lit(p.unit, pl.Int64).alias(_UNIT)) for p in parts]
            )
            for part in parts:
                part.table = None  # the plan holds the only reference: freed with it
            ids = joined.select("id", _UNIT, _POS, SRC_ROW).collect(engine=_ENGINE)
            twice = _repeats(ids)
            if twice.height:
                drop = (pl.col(_UNIT) * _UNIT_STRIDE + pl.col(_POS)).is_in(
                    (twice.get_column(_UNIT) * _UNIT_STRIDE + twice.get_column(_POS)).implode()
                )
                joined = joined.filter(~drop)
            kept = joined.with_row_index(ROW).with_columns(pl.col(ROW).cast(pl.Int64))
            del joined
            kept = kept.collect(engine=_ENGINE)
            if twice.height:
                rejects += self._duplicates(parts, ids, twice)
            models[kind] = _kept_models(parts, kept)
            _refuse_too_big(kind, parts, kept)
            runs = kept.get_column(_UNIT).rle().struct.unnest().select("value", "len").rows()
            spans[kind] = tuple((self.units[u], n) for u, n in runs)
            tables[kind] = kept.select(columns)
        rejects.sort(key=lambda item: (item[0], item[1]))
        return ColumnarFacts(
            tables=tables,
            rejects=tuple(r for _, _, r in rejects),
            sources=tuple(self.sources),
            models=models,
            spans=spans,
        )

    def _duplicates(
        self, parts: list[_Part], ids: Any, twice: Any
    ) -> list[tuple[int, int, RejectedInput]]:
        pl = _pl()
        firsts = ids.filter(pl.col("id").is_in(twice.get_column("id").implode()))
        firsts = firsts.filter(pl.col("id").is_first_distinct()).select(
            "id", pl.col(_UNIT).alias("__first_unit"), pl.col(SRC_ROW).alias("__first_row")
        )
        dups = twice.join(firsts, on="id", how="left", maintain_order="left")
        by_unit = {p.unit: p for p in parts}
        wanted: dict[int, list[int]] = {}
        for unit, pos in dups.select(_UNIT, _POS).rows():
            wanted.setdefault(unit, []).append(pos)
        raws = {u: (by_unit[u].dup_raw_at or by_unit[u].raw_at)(ps) for u, ps in wanted.items()}
        out = []
        for fact_id, unit, pos, first_unit, first_row in dups.rows():
            source = by_unit[unit].source
            reason = duplicate_reason(fact_id, (self.units[first_unit], first_row), source)
            out.append((unit, pos, reject_of(raws[unit][pos], source, "id", reason)))
        return out


def _same_values(dtype: Any) -> bool:
    """Whether Polars turns values of ``dtype`` into the Python values pyarrow gives."""
    pl = _pl()
    if isinstance(dtype, pl.Datetime):
        return bool(dtype.time_unit != "ns")  # pyarrow gives pandas Timestamps for ns
    simple = (pl.String, pl.Boolean, pl.Date, pl.Null, pl.Categorical)
    return bool(dtype.is_integer() or dtype.is_float() or dtype in simple) or isinstance(
        dtype, pl.Decimal
    )


def _repeats(ids: Any) -> Any:
    """The rows (``id``, ``__unit``, ``__pos``) whose id an earlier row already has.

    ``ids`` is in input order. Only rows whose id hash occurs more than once (found by
    sorting 64-bit hashes, much cheaper than hashing every id into a set of strings)
    are compared as text.
    """
    pl = _pl()
    index = "__i"
    hashes = ids.select(pl.col("id").hash(0).alias("__h"), pl.int_range(pl.len()).alias(index))
    hashes = hashes.sort("__h")
    same = pl.col("__h")
    shared = hashes.filter((same == same.shift(1)) | (same == same.shift(-1))).get_column(index)
    if not shared.len():
        return pl.DataFrame(schema={"id": pl.String, _UNIT: pl.Int64, _POS: pl.Int64})
    rows = ids.with_row_index(index).filter(pl.col(index).is_in(shared.implode()))
    return rows.filter(~pl.col("id").is_first_distinct()).select("id", _UNIT, _POS)


def _refuse_too_big(kind: str, parts: list[_Part], joined: Any) -> None:
    """Refuse an accepted row holding an integer past Int64 (never wrapped)."""
    pl = _pl()
    for part in parts:
        if not part.too_big:
            continue
        kept = joined.filter(
            (pl.col(_UNIT) == part.unit) & pl.col(_POS).is_in(sorted(part.too_big))
        )
        if kept.height:
            row = kept.get_column(SRC_ROW)[0]
            raise FactsError(
                f"{part.source}: {kind} row {row} holds a value the model accepts that does "
                "not fit a 64-bit integer column (quantities up to 2**63-1, money up to "
                "2**63-1 fen)"
            )


def _kept_models(parts: list[_Part], joined: Any) -> dict[int, FactModel]:
    """__row -> model, for the accepted rows the model (not the screen) validated."""
    pl = _pl()
    keys = [(p.unit, pos, model) for p in parts for pos, model in p.models.items()]
    if not keys:
        return {}
    wanted = pl.DataFrame(
        {_UNIT: [k[0] for k in keys], _POS: [k[1] for k in keys], "__k": range(len(keys))},
        schema={_UNIT: pl.Int64, _POS: pl.Int64, "__k": pl.Int64},
    )
    found = joined.select(ROW, _UNIT, _POS).join(wanted, on=[_UNIT, _POS], how="inner")
    return {row: keys[k][2] for row, k in found.select(ROW, "__k").rows()}


def _csv_header(path: Path) -> tuple[int, list[str]] | None:
    """The header line and stripped names as the row reader reads them, if readable."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle, strict=True)
            previous = 0
            for cells in reader:
                start, previous = previous + 1, reader.line_num
                if any(cell.strip() for cell in cells):
                    return start, [cell.strip() for cell in cells]
    except (OSError, UnicodeDecodeError, csv.Error):
        return None
    return None


def _whole_floats(df: Any) -> Any:
    """Float columns as a frame's rows read them: NaN is null; all whole: integers.

    pandas keeps an integer column with gaps as float64. A column whose values are all
    whole numbers becomes Int64; one with a fraction stays float, so its rows go to the
    models, which read each cell as the row loader does (:func:`frame_cell`).
    """
    pl = _pl()
    out = []
    for name, dtype in df.schema.items():
        if not dtype.is_float():
            continue
        col = pl.col(name).fill_nan(None)
        values = df.get_column(name).fill_nan(None).drop_nulls()
        exact = len(values) == 0 or (
            bool(values.is_finite().all())
            and bool((values == values.floor()).all())
            and values.abs().max() < 2**53  # every whole float below 2**53 is exact
        )
        out.append(col.cast(pl.Int64) if exact else col)
    return df.with_columns(out) if out else df


def _csv_lines(path: Path) -> list[int] | None:
    """The first line of every data row, counted as the row reader counts them."""
    lines: list[int] = []
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle, strict=True)
            previous, header = 0, False
            for cells in reader:
                start, previous = previous + 1, reader.line_num
                if not any(cell.strip() for cell in cells):
                    continue
                if header:
                    lines.append(start)
                header = True
    except (OSError, UnicodeDecodeError, csv.Error):
        return None
    return lines


def _walk_csv(path: Path, source: str, kind: str, positions: list[int]) -> dict[int, RawRow]:
    """The raw rows at ``positions``, from the row reader itself."""
    wanted = {p + 1 for p in positions}
    out: dict[int, RawRow] = {}
    for raw in read_file(path, source, kind):
        if raw.row in wanted:
            out[raw.row - 1] = raw
            if len(out) == len(wanted):
                break
    return out


def _to_polars(frame: Any) -> tuple[Any, list[dict[str, Any]] | None]:
    """The frame as a Polars DataFrame, or (if Polars cannot hold it) its rows."""
    pl = _pl()
    if isinstance(frame, pl.DataFrame):
        return frame, None
    if isinstance(frame, pl.LazyFrame):
        return frame.collect(), None
    import narwhals as nw  # noqa: PLC0415 - optional extra

    try:
        native = nw.from_native(frame)
    except TypeError:
        raise FactsError(f"not a frame, a path or a list of rows: {type(frame).__name__}") from None
    if isinstance(native, nw.LazyFrame):
        return native.collect(backend="polars").to_native(), None
    try:
        return native.to_polars(), None
    except (pl.exceptions.PolarsError, TypeError, ValueError):  # e.g. mixed object columns
        return None, native.rows(named=True)


def validate_frame(
    kind: str,
    frame: Any,
    *,
    source: str = PYTHON_SOURCE,
    assume_tz: str | tzinfo | None = None,
) -> ColumnarKind:
    """Validate and encode one frame of facts of ``kind``.

    Args:
        kind: the fact kind of every row (``"orders"``).
        frame: a Polars DataFrame or LazyFrame, or any frame narwhals reads (pandas,
            PyArrow, DuckDB relation, ...). Float NaN is read as null.
        source: the name rejects give as their source.
        assume_tz: zone given to naive timestamps (e.g. ``"Asia/Shanghai"``).

    Returns:
        The accepted rows, encoded, and the rejects, equal to those
        :meth:`FactSet.from_records <vbp_rules.facts.FactSet.from_records>` gives for
        the frame's rows.

    Raises:
        FactsError: an unknown kind or zone, a column that is not a field of ``kind``
            (all such columns are named, with did-you-mean hints), Polars missing.
    """
    check_kind(kind, "validate_frame")
    scanner = _Scanner(assume_tz)
    scanner.add_frame(kind, frame, source)
    result = scanner.build()
    return ColumnarKind(kind=kind, table=result.tables[kind], rejects=result.rejects)


def scan_facts(
    facts: Mapping[str, Any] | str | os.PathLike[str],
    *,
    assume_tz: str | tzinfo | None = None,
) -> ColumnarFacts:
    """Validate and encode facts from files, folders, frames and rows, by columns.

    Args:
        facts: a path to a file or folder (as :func:`~vbp_rules.facts.load_facts`
            reads them: the file name names the kind), or a mapping from kind to a path,
            a frame (see :func:`validate_frame`) or a list of rows. Parquet and CSV are
            scanned with Polars; JSON, JSON Lines and YAML go through the row readers.
        assume_tz: zone given to naive timestamps (e.g. ``"Asia/Shanghai"``).

    Returns:
        A :class:`ColumnarFacts` whose rejects, and whose :meth:`~ColumnarFacts.to_fact_set`,
        equal what ``load_facts`` gives for the same input.

    Raises:
        FactsError: as ``load_facts``; also an unknown column of a frame.
    """
    scanner = _Scanner(assume_tz)
    if isinstance(facts, Mapping):
        for name, value in facts.items():
            kind = check_kind(name, "scan_facts")
            if value is None:
                continue
            if isinstance(value, str | os.PathLike):
                path = Path(value)
                if not path.is_file():
                    raise FactsError(f"{os.fspath(value)}: no such file")
                scanner.add_path(path, os.fspath(value), kind)
            elif isinstance(value, list | tuple):
                scanner.add_rows(kind, value, PYTHON_SOURCE)
            else:
                scanner.add_frame(kind, value, PYTHON_SOURCE)
        return scanner.build()
    name = os.fspath(facts)
    path = Path(name)
    if path.is_dir():
        for file in files_in(path):
            scanner.add_path(file, str(file), None)
    elif path.is_file():
        scanner.add_path(path, name, None)
    else:
        raise FactsError(f"{name}: no such file or directory")
    return scanner.build()
