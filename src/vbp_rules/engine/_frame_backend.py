"""Backends for the frame engine: encoded tables as narwhals lazy frames."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any, Final

import narwhals as nw

from vbp_rules.engine._frame_ingest import ROW, day_number, normalized_columns

__all__ = ["BACKENDS", "detect_backend", "lazy_table", "period_table", "read_native"]

BACKENDS: Final = ("polars", "duckdb", "pandas", "pyarrow", "sqlframe", "pyspark")


def detect_backend(native: object) -> str | None:
    """The backend name of a native frame, or None for paths and Python rows."""
    module = type(native).__module__.split(".")[0]
    if module == "polars":
        return "polars"
    if module in {"duckdb", "_duckdb"}:
        return "duckdb"
    if module == "pandas":
        return "pandas"
    if module == "pyarrow":
        return "pyarrow"
    if module == "sqlframe":
        return "sqlframe"
    if module == "pyspark":
        return "pyspark"
    return None


def read_native(source: str | os.PathLike[str]) -> Any:
    """A Parquet or CSV file as a lazy Polars frame (strings kept as text)."""
    import polars as pl  # noqa: PLC0415 - optional extra

    path = Path(source)
    if path.suffix == ".parquet":
        return pl.scan_parquet(path)
    if path.suffix == ".csv":
        return pl.scan_csv(path, infer_schema=False)
    msg = f"{source}: the frame engine reads .parquet and .csv files"
    raise ValueError(msg)


def _polars_schema(kind: str) -> dict[str, Any]:
    import polars as pl  # noqa: PLC0415 - optional extra

    types = {"Int64": pl.Int64, "Boolean": pl.Boolean, "String": pl.String}
    return {c.name: types[c.dtype] for c in normalized_columns(kind)}


def lazy_table(
    columns: Mapping[str, list[Any]], kind: str, backend: str, session: object = None
) -> nw.LazyFrame[Any]:
    """Encoded columns of one kind on ``backend``, as a narwhals LazyFrame."""
    import polars as pl  # noqa: PLC0415 - optional extra

    df = pl.DataFrame(dict(columns), schema=_polars_schema(kind))
    return to_backend(df, backend, session)


def to_backend(df: Any, backend: str, session: object = None) -> nw.LazyFrame[Any]:
    """A Polars DataFrame moved to ``backend`` (Polars stays zero-copy)."""
    out: nw.LazyFrame[Any]
    if backend == "polars":
        out = nw.from_native(df.lazy())
        return out
    if backend == "duckdb":
        import duckdb  # noqa: PLC0415 - optional extra

        con = session if session is not None else duckdb.default_connection()
        out = nw.from_native(con.from_arrow(df.to_arrow()))  # type: ignore[attr-defined]
        return out
    if backend == "pandas":
        out = nw.from_native(df.to_pandas(), eager_only=True).lazy()
        return out
    if backend == "pyarrow":
        out = nw.from_native(df.to_arrow(), eager_only=True).lazy()
        return out
    if backend in ("sqlframe", "pyspark"):
        if session is None:
            msg = f"backend {backend!r} needs session= (a SparkSession or SQLFrame session)"
            raise ValueError(msg)
        # plain rows with an explicit schema: pandas would turn null integers into NaN
        sdf = session.createDataFrame(df.rows(), schema=_spark_schema(df))  # type: ignore[attr-defined]
        out = nw.from_native(sdf)
        return out
    msg = f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}"
    raise ValueError(msg)


def _spark_schema(df: Any) -> str:
    names = {"Int64": "bigint", "Boolean": "boolean", "String": "string"}
    return ", ".join(f"`{c}` {names[str(t)]}" for c, t in df.schema.items())


_PERIODS: dict[tuple[int, int], Any] = {}


def period_table(first: int = day_number(date(2000, 1, 1)), last: int = 0) -> Any:
    """A Polars table ``__pday -> __month, __quarter, __year`` and their ``_end`` days."""
    import polars as pl  # noqa: PLC0415 - optional extra

    last = last or day_number(date(2040, 12, 31))
    key = (first, last)
    if key not in _PERIODS:
        day = pl.int_range(first, last + 1, eager=True).alias("__pday")
        d = pl.DataFrame(day).with_columns(__date=pl.col("__pday").cast(pl.Date))
        epoch = pl.date(1970, 1, 1)
        d = d.select(
            "__pday",
            __month=(pl.col("__date").dt.truncate("1mo") - epoch).dt.total_days(),
            __quarter=(pl.col("__date").dt.truncate("1q") - epoch).dt.total_days(),
            __year=(pl.col("__date").dt.truncate("1y") - epoch).dt.total_days(),
            __month_end=(pl.col("__date").dt.month_end() - epoch).dt.total_days(),
            __quarter_end=(
                pl.col("__date").dt.truncate("1q").dt.offset_by("2mo").dt.month_end() - epoch
            ).dt.total_days(),
            __year_end=(
                pl.col("__date").dt.truncate("1y").dt.offset_by("11mo").dt.month_end() - epoch
            ).dt.total_days(),
        ).with_columns(pl.exclude("__pday").cast(pl.Int64))
        _PERIODS[key] = d
    return _PERIODS[key]


__all__ += ["ROW", "to_backend"]
