"""DataFrames as fact rows: any narwhals backend, read row by row into plain dicts.

A missing value is null whatever the backend spells it (``None``, pandas ``NaN`` or
``NaT``, NumPy ``nan``), so it never becomes a reject. A whole number stored as a float
(pandas turns an integer column with gaps into ``float64``) is read as the integer it
exactly is; any other float is passed on, and the fact models reject it as inexact.
narwhals is imported only when a frame is given (it comes with the ``frame`` extra).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

__all__ = ["frame_cell", "frame_rows", "is_frame"]

#: Top-level modules whose objects are DataFrames (or lazy frames / relations).
_FRAME_MODULES = frozenset(
    {
        "pandas",
        "polars",
        "pyarrow",
        "duckdb",
        "_duckdb",
        "modin",
        "cudf",
        "dask",
        "pyspark",
        "sqlframe",
        "ibis",
    }
)


def is_frame(value: object) -> bool:
    """True for a DataFrame-like object of a library narwhals reads."""
    return type(value).__module__.split(".")[0] in _FRAME_MODULES


def frame_cell(value: object) -> object:
    """One cell of a frame as a fact row reads it: NaN/NaT null, a whole float its int."""
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value.is_integer():  # pandas keeps whole numbers with gaps as float64
            return int(value)
        return value  # a fraction in a binary float: the models reject it, with reason
    if type(value).__name__ == "NaTType":
        return None
    return value


def frame_rows(value: Any) -> list[dict[str, object]]:
    """A frame's rows as dicts, missing values as ``None``.

    >>> import polars as pl
    >>> frame_rows(pl.DataFrame({"id": ["a", "b"], "q": [float("nan"), 3.0]}))
    [{'id': 'a', 'q': None}, {'id': 'b', 'q': 3}]
    """
    import narwhals as nw  # noqa: PLC0415 - optional extra

    with warnings.catch_warnings():
        # narwhals warns about backend details (index, dtypes) that do not change rows
        warnings.simplefilter("ignore", UserWarning)
        frame = nw.from_native(value)
        if isinstance(frame, nw.LazyFrame):
            frame = frame.collect()
        rows: list[dict[str, object]] = frame.rows(named=True)
    return [{k: frame_cell(v) for k, v in row.items()} for row in rows]
