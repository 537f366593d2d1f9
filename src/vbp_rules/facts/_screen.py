"""The vectorised screen of the columnar path: which rows are certainly valid.

For every field of a fact kind, the screen derives from the model (its validator
function, ``Literal`` choices, text constraints) a Polars expression that is true only
for values the model certainly accepts, and an expression giving the value's encoding
(:mod:`vbp_rules.facts._columns`). The model's cross-field validators become row
expressions the same way. A row the screen does not pass is not rejected here: the
caller sends it through the model, which gives the exact reject (or accepts it). So the
screen may be conservative, but must never pass a row the model would refuse.

Anything the screen does not recognise (a new validator, an unexpected constraint, an
unusual column type) sends the affected rows to the model; :func:`opaque_fields` and
:func:`unknown_model_checks` list such cases so a test can catch them.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Mapping
from datetime import date, timedelta, timezone, tzinfo
from types import NoneType, UnionType
from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo

import attrs
from annotated_types import MinLen
from pydantic import PlainValidator
from pydantic_core import PydanticUndefined

from vbp_rules.facts import _types
from vbp_rules.facts._columns import US_PER_DAY, day_number, epoch_us, fen, field_types
from vbp_rules.facts.models import FACT_KINDS, FactModel

if TYPE_CHECKING:
    import polars as pl

__all__ = [
    "OK",
    "PY_SPACE",
    "FieldSpec",
    "field_specs",
    "opaque_fields",
    "screen",
    "unknown_model_checks",
]

OK: Final = "__ok"

PY_SPACE: Final = "".join(c for c in map(chr, range(0x110000)) if c.isspace())
"""Every character Python's ``str.strip()`` removes (what the readers and ids strip)."""

RUST_SPACE: Final = "".join(
    chr(c)
    for c in (
        *range(0x09, 0x0E),
        0x20,
        0x85,
        0xA0,
        0x1680,
        *range(0x2000, 0x200B),
        0x2028,
        0x2029,
        0x202F,
        0x205F,
        0x3000,
    )
)
"""Unicode White_Space: what pydantic's ``str_strip_whitespace`` (Rust ``trim``) removes."""

_INT64_MAX: Final = 2**63 - 1
_MAX_YUAN: Final = (_INT64_MAX - 99) // 100  # whole yuan whose fen always fit Int64
# Instants and dates far from today go to the model (Python's datetime range and
# zone arithmetic at its edges are the model's business).
_FIRST_DAY: Final = day_number(date(1000, 1, 1))
_LAST_DAY: Final = day_number(date(9000, 1, 1))
_FIRST_US: Final = _FIRST_DAY * US_PER_DAY
_LAST_US: Final = _LAST_DAY * US_PER_DAY

_MICROSECOND: Final = timedelta(microseconds=1)
_PARTS: Final = "__parts_"
_INT_TEXT: Final = r"^[+-]?[0-9]+$"
_MONEY_TEXT: Final = r"^\+?([0-9]+)(?:\.([0-9]{1,2})0*)?$"
_DAY_TEXT: Final = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_INSTANT_TEXT: Final = (
    r"^(?<d>[0-9]{4}-[0-9]{2}-[0-9]{2})[T ](?<h>[0-9]{2}):(?<m>[0-9]{2})"
    r"(?::(?<s>[0-9]{2})(?:\.(?<f>[0-9]{1,6}))?)?"
    r"(?<z>Z|(?<zs>[+-])(?<zh>[0-9]{2})(?::?(?<zm>[0-9]{2}))?)?$"
)
_TRUE: Final = ("true", "t", "yes", "y", "1", "是", "真")
_FALSE: Final = ("false", "f", "no", "n", "0", "否", "假")

_INT_BOUNDS: Final[Mapping[Callable[..., Any], tuple[int, int]]] = {
    _types._quantity: (0, _INT64_MAX),
    _types._positive_quantity: (1, _INT64_MAX),
    _types._year: (1900, 2200),
}
_VALIDATORS: Final[Mapping[Callable[..., Any], str]] = {
    _types._id: "id",
    _types._money: "money",
    _types.parse_ratio: "ratio",
    _types._instant: "instant",
    _types._day: "day",
    _types._flag: "bool",
    **dict.fromkeys(_INT_BOUNDS, "int"),
}
_IGNORED_METADATA: Final = ("WithJsonSchema", "PlainSerializer")
_KNOWN_MODEL_CHECKS: Final = frozenset({"_drop_nulls", "_check_relations", "_community_named"})


@attrs.frozen(kw_only=True)
class FieldSpec:
    """What the screen knows of one field: how it is checked, and its default."""

    name: str
    check: str  # id | text | choice | int | money | ratio | instant | day | bool | opaque
    required: bool
    default: object = None
    bounds: tuple[int, int] = (0, _INT64_MAX)
    choices: tuple[str, ...] = ()


def _parts(annotation: Any) -> tuple[Any, list[Any]]:
    """The base type and the Annotated metadata of an (optional) annotation."""
    metadata: list[Any] = []
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            args = typing.get_args(annotation)
            metadata += list(args[1:])
            annotation = args[0]
        elif origin in (typing.Union, UnionType):
            members = [a for a in typing.get_args(annotation) if a is not NoneType]
            if len(members) != 1:
                return None, metadata
            annotation = members[0]
        else:
            return annotation, metadata


def _spec(name: str, info: Any) -> FieldSpec:
    base, metadata = _parts(info.annotation)
    metadata += list(info.metadata)
    for item in list(metadata):
        # A Field() inside Annotated carries its constraints in its own metadata.
        if type(item).__name__ == "FieldInfo":
            metadata.remove(item)
            metadata += list(item.metadata)
    metadata = [m for m in metadata if type(m).__name__ not in _IGNORED_METADATA]
    required = info.is_required()
    default = None if info.default is PydanticUndefined else info.default
    common = {"name": name, "required": required, "default": default}
    validators = [m for m in metadata if isinstance(m, PlainValidator)]
    if len(validators) == 1 and len(metadata) == 1:
        func = validators[0].func
        check = _VALIDATORS.get(func)
        if check is not None:
            bounds = _INT_BOUNDS.get(func, (0, _INT64_MAX))
            return FieldSpec(check=check, bounds=bounds, **common)
    elif base is str and len(metadata) == 1 and isinstance(metadata[0], MinLen):
        if metadata[0].min_length == 1:
            return FieldSpec(check="text", **common)
    elif typing.get_origin(base) is typing.Literal and not metadata:
        choices = typing.get_args(base)
        if all(isinstance(c, str) for c in choices):
            return FieldSpec(check="choice", choices=choices, **common)
    return FieldSpec(check="opaque", **common)


_SPECS: dict[str, dict[str, FieldSpec]] = {}


def field_specs(kind: str) -> dict[str, FieldSpec]:
    """Field name -> what the screen checks, for one fact kind (model order)."""
    found = _SPECS.get(kind)
    if found is None:
        fields = FACT_KINDS[kind].model_fields
        found = _SPECS[kind] = {name: _spec(name, info) for name, info in fields.items()}
    return found


def opaque_fields() -> dict[str, list[str]]:
    """Fields the screen does not understand (their non-null values go to the model)."""
    out = {}
    for kind in FACT_KINDS:
        names = [s.name for s in field_specs(kind).values() if s.check == "opaque"]
        if names:
            out[kind] = names
    return out


def unknown_model_checks(model: type[FactModel]) -> list[str]:
    """Model validators the screen does not mirror (every row then goes to the model)."""
    decorators = model.__pydantic_decorators__
    names = [*decorators.model_validators, *decorators.field_validators]
    names += list(decorators.validators) + list(decorators.root_validators)
    return [name for name in names if name not in _KNOWN_MODEL_CHECKS]


# --- the screen ------------------------------------------------------------------------


def _pl() -> Any:
    import polars as pl  # noqa: PLC0415 - optional extra

    return pl


def _is_int(dtype: Any) -> bool:
    return bool(dtype.is_integer())


def _text(col: pl.Expr) -> pl.Expr:
    """Text as Python's ``str.strip()`` leaves it."""
    return col.str.strip_chars(PY_SPACE)


def _id(col: pl.Expr, dtype: Any) -> tuple[pl.Expr, pl.Expr]:
    pl = _pl()
    if dtype == pl.String:
        text = _text(col)
        return text.str.len_bytes() > 0, text
    if _is_int(dtype):
        return pl.lit(value=True), col.cast(pl.String)
    return pl.lit(value=False), pl.lit(None, pl.String)


def _free_text(col: pl.Expr, dtype: Any) -> tuple[pl.Expr, pl.Expr]:
    pl = _pl()
    if dtype == pl.String:
        text = col.str.strip_chars(RUST_SPACE)
        return text.str.len_bytes() > 0, text
    return pl.lit(value=False), pl.lit(None, pl.String)


def _choice(col: pl.Expr, dtype: Any, choices: tuple[str, ...]) -> tuple[pl.Expr, pl.Expr]:
    pl = _pl()
    if dtype == pl.String:
        return col.is_in(list(choices)), col
    return pl.lit(value=False), pl.lit(None, pl.String)


def _int(col: pl.Expr, dtype: Any, bounds: tuple[int, int]) -> tuple[pl.Expr, pl.Expr]:
    pl = _pl()
    low, high = bounds
    if _is_int(dtype):
        wide = col.cast(pl.Int128) if dtype in (pl.UInt64, pl.UInt128, pl.Int128) else col
        return (wide >= low) & (wide <= high), col.cast(pl.Int64, strict=False)
    if dtype == pl.String:
        text = _text(col)
        number = text.cast(pl.Int64, strict=False)
        ok = text.str.contains(_INT_TEXT) & (number >= low) & (number <= high)
        return ok, number
    return pl.lit(value=False), pl.lit(None, pl.Int64)


def _money(col: pl.Expr, dtype: Any) -> tuple[pl.Expr, pl.Expr]:
    pl = _pl()
    if _is_int(dtype):
        wide = col.cast(pl.Int128) if dtype in (pl.UInt64, pl.UInt128, pl.Int128) else col
        ok = (wide >= 0) & (wide <= _MAX_YUAN)
        return ok, col.cast(pl.Int64, strict=False) * 100
    if isinstance(dtype, pl.Decimal) and (dtype.scale or 0) <= 2:
        in_range = (col >= 0) & (col <= _MAX_YUAN)
        safe = pl.when(in_range).then(col.cast(pl.Decimal(38, 2), strict=False))
        cents = (safe * 100).cast(pl.Int64, strict=False)
        return in_range & cents.is_not_null(), cents
    if dtype == pl.String or isinstance(dtype, pl.Decimal):
        text = _text(col.cast(pl.String))
        yuan = text.str.extract(_MONEY_TEXT, 1).cast(pl.Int64, strict=False)
        cents = text.str.extract(_MONEY_TEXT, 2).str.pad_end(2, "0").cast(pl.Int64, strict=False)
        ok = text.str.contains(_MONEY_TEXT) & (yuan <= _MAX_YUAN)
        return ok, yuan * 100 + cents.fill_null(0)
    return pl.lit(value=False), pl.lit(None, pl.Int64)


def _ratio(
    col: pl.Expr, dtype: Any, values: list[object] | None
) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """Ratios: the few distinct values go through the model's own parser."""
    pl = _pl()
    none = pl.lit(None, pl.Int64)
    if values is None or not (dtype == pl.String or _is_int(dtype)):
        return pl.lit(value=False), none, none
    known: list[object] = []
    nums: list[int] = []
    dens: list[int] = []
    for value in values:
        try:
            ratio = _types.parse_ratio(value)
        except ValueError:  # PydanticCustomError is a ValueError
            continue
        known.append(value)
        nums.append(ratio.numerator)
        dens.append(ratio.denominator)
    num = col.replace_strict(known, nums, default=None, return_dtype=pl.Int64)
    den = col.replace_strict(known, dens, default=None, return_dtype=pl.Int64)
    return num.is_not_null(), num, den


def _localize(local_us: pl.Expr, zone: tzinfo | None) -> tuple[pl.Expr, pl.Expr]:
    """Epoch µs of naive wall-clock µs in ``zone`` (as ``replace(tzinfo=zone)`` does)."""
    pl = _pl()
    if isinstance(zone, timezone):
        offset = zone.utcoffset(None)
        return pl.lit(value=True), local_us - (offset // _MICROSECOND)
    if isinstance(zone, ZoneInfo) and zone.key:
        naive = pl.from_epoch(local_us, "us")
        aware = naive.dt.replace_time_zone(zone.key, ambiguous="null", non_existent="null")
        return aware.is_not_null(), aware.dt.epoch("us")
    return pl.lit(value=False), pl.lit(None, pl.Int64)


def _instant(
    col: pl.Expr, dtype: Any, zone: tzinfo | None, parts: pl.Expr | None = None
) -> tuple[pl.Expr, pl.Expr]:
    """Instants; ``parts`` is the column :func:`instant_parts` prepared for text."""
    pl = _pl()
    false = pl.lit(value=False), pl.lit(None, pl.Int64)
    if isinstance(dtype, pl.Datetime):
        us = col.dt.epoch("us")
        exact = (col.dt.epoch("ns") % 1000 == 0) if dtype.time_unit == "ns" else pl.lit(value=True)
        if dtype.time_zone is not None:
            ok, value = exact, us
        elif zone is None:
            return false
        else:
            localized, value = _localize(us, zone)
            ok = exact & localized
        return ok & (value >= _FIRST_US) & (value < _LAST_US), value
    if dtype != pl.String or parts is None:
        return false
    day = parts.struct.field("d").str.to_date("%Y-%m-%d", strict=False).cast(pl.Int64)
    hour = parts.struct.field("h").cast(pl.Int64)
    minute = parts.struct.field("m").cast(pl.Int64)
    second = parts.struct.field("s").cast(pl.Int64).fill_null(0)
    micro = parts.struct.field("f").str.pad_end(6, "0").cast(pl.Int64).fill_null(0)
    local = day * US_PER_DAY + ((hour * 60 + minute) * 60 + second) * 1_000_000 + micro
    ok = (
        day.is_not_null()
        & (day >= _FIRST_DAY)
        & (day < _LAST_DAY)
        & (hour <= 23)
        & (minute <= 59)
        & (second <= 59)
    )
    zone_text = parts.struct.field("z")
    off_h = parts.struct.field("zh").cast(pl.Int64)
    off_m = parts.struct.field("zm").cast(pl.Int64).fill_null(0)  # "+08" has no minutes
    sign = pl.when(parts.struct.field("zs") == "-").then(-1).otherwise(1)
    offset = (sign * (off_h * 60 + off_m) * 60_000_000).fill_null(0)
    aware_ok = (off_h.fill_null(0) <= 23) & (off_m.fill_null(0) <= 59)
    naive_ok, naive_value = _localize(local, zone)
    value = pl.when(zone_text.is_not_null()).then(local - offset).otherwise(naive_value)
    ok &= pl.when(zone_text.is_not_null()).then(aware_ok).otherwise(naive_ok)
    return ok & (value >= _FIRST_US) & (value < _LAST_US), value


def instant_parts(col: pl.Expr) -> pl.Expr:
    """The pieces of ISO 8601 instant text, extracted once (a struct of strings)."""
    return _text(col).str.extract_groups(_INSTANT_TEXT)


def _day(col: pl.Expr, dtype: Any) -> tuple[pl.Expr, pl.Expr]:
    pl = _pl()
    if dtype == pl.Date:
        days = col.cast(pl.Int64)
    elif isinstance(dtype, pl.Datetime) and dtype.time_zone is None:
        per_day = {"ns": 86_400 * 10**9, "us": US_PER_DAY, "ms": 86_400_000}[dtype.time_unit]
        raw = col.dt.epoch(dtype.time_unit)
        days = raw // per_day
        ok = (raw % per_day == 0) & (days >= _FIRST_DAY) & (days < _LAST_DAY)
        return ok, days
    elif dtype == pl.String:
        text = _text(col)
        days = text.str.to_date("%Y-%m-%d", strict=False).cast(pl.Int64)
        ok = text.str.contains(_DAY_TEXT) & (days >= _FIRST_DAY) & (days < _LAST_DAY)
        return ok, days
    else:
        return pl.lit(value=False), pl.lit(None, pl.Int64)
    return (days >= _FIRST_DAY) & (days < _LAST_DAY), days


def _flag(col: pl.Expr, dtype: Any) -> tuple[pl.Expr, pl.Expr]:
    pl = _pl()
    if dtype == pl.Boolean:
        return pl.lit(value=True), col
    if _is_int(dtype):
        return col.is_in([0, 1]), col == 1
    if dtype == pl.String:
        word = _text(col).str.to_lowercase()
        return word.is_in([*_TRUE, *_FALSE]), word.is_in(list(_TRUE))
    return pl.lit(value=False), pl.lit(None, pl.Boolean)


def _default(spec: FieldSpec, encoded_type: str) -> object:
    value = spec.default
    if value is None:
        return None
    encoders: dict[str, Callable[[Any], object]] = {
        "instant": epoch_us,
        "day": day_number,
        "money": fen,
    }
    encode = encoders.get(encoded_type)
    return encode(value) if encode is not None else value


def _checks(
    spec: FieldSpec,
    encoded: str,
    col: pl.Expr,
    dtype: Any,
    *,
    zone: tzinfo | None,
    ratio_values: Mapping[str, list[object]],
    parts: pl.Expr | None,
) -> tuple[pl.Expr, ...]:
    """``(value is certainly valid, encoded value[, denominator])`` for one field."""
    pl = _pl()
    if dtype == pl.Null:
        nothing = (pl.lit(value=True), pl.lit(None))
        return (*nothing, pl.lit(None)) if encoded == "ratio" else nothing
    simple: dict[str, Callable[[Any, Any], tuple[Any, ...]]] = {
        "id": _id,
        "text": _free_text,
        "money": _money,
        "day": _day,
        "bool": _flag,
    }
    if spec.check in simple:
        return simple[spec.check](col, dtype)
    if spec.check == "choice":
        return _choice(col, dtype, spec.choices)
    if spec.check == "int":
        return _int(col, dtype, spec.bounds)
    if spec.check == "ratio":
        return _ratio(col, dtype, ratio_values.get(spec.name))
    if spec.check == "instant":
        return _instant(col, dtype, zone, parts)
    return pl.lit(value=False), pl.lit(None), pl.lit(None)


def screen(
    kind: str,
    schema: Mapping[str, Any],
    zone: tzinfo | None,
    ratio_values: Mapping[str, list[object]],
) -> tuple[list[Any], list[Any], list[Any]]:
    """Expressions over a frame with ``schema``: the encoded columns, then ``__ok``.

    Args:
        kind: the fact kind.
        schema: the input frame's column names and Polars dtypes (every column is a
            field of ``kind``; absent fields are null).
        zone: the ``assume_tz`` zone for naive timestamps, if any.
        ratio_values: the distinct non-null values of each ratio column present.

    Returns:
        Three stages of expressions, to run one after the other (``with_columns`` the
        first on the input: pieces parsed once, such as those of instant text; then
        ``select`` the second, then the third): the second gives one column per encoded
        field, named as :func:`~vbp_rules.facts._columns.normalized_columns` says
        (without ``__row``), and one ``__ok_<field>`` flag per field; the second gives
        ``__ok`` (the row is certainly valid: every field and every cross-field check)
        and drops the flags. Encoded values are meaningful only where ``__ok`` is true.
    """
    pl = _pl()
    model = FACT_KINDS[kind]
    types = field_types(kind)
    dtypes = {"instant": pl.Int64, "day": pl.Int64, "int": pl.Int64, "money": pl.Int64}
    dtypes |= {"bool": pl.Boolean, "str": pl.String, "ratio": pl.Int64}
    prepare: list[Any] = []
    first: list[Any] = []
    flags: list[str] = []
    for name, spec in field_specs(kind).items():
        dtype = schema.get(name, pl.Null)
        col = pl.col(name) if name in schema else pl.lit(None)
        if isinstance(dtype, pl.Categorical | pl.Enum):
            col, dtype = col.cast(pl.String), pl.String
        if dtype.is_float():
            col = col.fill_nan(None)
        present = col.is_not_null()
        encoded = types[name]
        default = _default(spec, encoded)
        parts = None
        if spec.check == "instant" and dtype == pl.String:
            prepare.append(instant_parts(col).alias(f"{_PARTS}{name}"))
            parts = pl.col(f"{_PARTS}{name}")
        checks = _checks(
            spec, encoded, col, dtype, zone=zone, ratio_values=ratio_values, parts=parts
        )
        value_ok, *values = checks
        field_ok = pl.when(present).then(value_ok).otherwise(pl.lit(value=not spec.required))
        flags.append(f"{OK}_{name}")
        first.append(field_ok.fill_null(value=False).alias(flags[-1]))
        names: tuple[str, ...] = (name,)
        dflt: tuple[object, ...] = (default,)
        if encoded == "ratio":
            names = (f"{name}__n", f"{name}__d")
            dflt = (None, None) if default is None else (default.numerator, default.denominator)  # type: ignore[attr-defined]
        for column, expr, fill in zip(names, values, dflt, strict=True):
            value = pl.when(present).then(expr).otherwise(pl.lit(fill))
            first.append(value.cast(dtypes[encoded], strict=False).alias(column))
    ok = pl.all_horizontal(flags) if unknown_model_checks(model) == [] else pl.lit(value=False)
    ok &= ~_relations_broken(model).fill_null(value=False)
    return prepare, first, [pl.exclude(flags), ok.alias(OK)]


def _relations_broken(model: type[FactModel]) -> Any:
    """True where a cross-field check of the model fails (null values never fail)."""
    pl = _pl()
    cols = {name: pl.col(name) for name in model.model_fields}
    broken = pl.lit(value=False)
    for later, earlier in model.not_before.items():
        broken |= cols[later] < cols[earlier]
    for part, whole in model.at_most.items():
        broken |= cols[part] > cols[whole]
    if "_community_named" in model.__pydantic_decorators__.model_validators:
        broken |= (cols["reporting_unit"] == "county_medical_community") & cols[
            "county_medical_community_id"
        ].is_null()
    return broken
