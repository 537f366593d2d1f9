"""The pack expression language: parse, check and evaluate small, safe expressions.

Packs write conditions and metrics as expressions (``delivered * 100 < ordered * 95``,
``is_set(replied_at) and not unresolvable``). Parsing never runs code: a hand-written
tokenizer and recursive-descent parser accept a closed grammar (no attribute access,
subscripts, imports or lambdas), and calls are limited to whitelisted functions.
Numbers are exact (``Fraction``; binary floats are refused), ``null`` propagates, and
``and``/``or``/``not`` follow three-valued (Kleene) logic. See ``docs/expressions.md``.

>>> rule = parse("delivered * 100 < ordered * 95")
>>> sorted(rule.names)
['delivered', 'ordered']
>>> rule.evaluate({"delivered": 94, "ordered": 100})
True
>>> parse("responded / orders").evaluate({"responded": 19, "orders": 20})
Fraction(19, 20)
"""

from __future__ import annotations

import difflib
import math
import numbers
import operator
import re
from collections.abc import Callable, Collection, Mapping
from datetime import date, datetime, timezone
from decimal import Decimal, localcontext
from fractions import Fraction
from types import MappingProxyType
from typing import Any, TypeAlias, cast
from zoneinfo import ZoneInfo

import attrs

from vbp_rules._expr_parser import (
    KEYWORDS,
    MAX_DEPTH,
    MAX_LENGTH,
    Arity,
    BinaryOp,
    Boolean,
    BoolOp,
    Call,
    Compare,
    Name,
    Node,
    Null,
    Number,
    String,
    UnaryOp,
    check_arity,
    decimal_text,
    iter_nodes,  # re-exported: the engines walk the AST with it
    parse_node,
    unparse,
)
from vbp_rules.errors import (
    ExpressionError,
    ExpressionSyntaxError,
    ExpressionTypeError,
    UnknownNameError,
)

__all__ = [
    "BUILTIN_FUNCTIONS",
    "KEYWORDS",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "BinaryOp",
    "BoolOp",
    "Boolean",
    "Call",
    "Compare",
    "Env",
    "Evaluator",
    "Expression",
    "FunctionSpec",
    "LazyArg",
    "Name",
    "Node",
    "NotApplicable",
    "Null",
    "Number",
    "String",
    "UnaryOp",
    "format_value",
    "iter_nodes",
    "parse",
    "to_fraction",
]

Env: TypeAlias = Mapping[str, object]
"""The variables an expression is evaluated against (fact fields, parameters)."""

Evaluator: TypeAlias = Callable[[Env], object]
"""A compiled expression: call it with an environment to get the value."""


class NotApplicable(Exception):  # noqa: N818  (a signal, not an error: "rule does not apply")
    """The expression has no value for this subject, so the rule does not apply to it.

    Raised for a zero denominator (``responded / orders`` with no orders); engine
    functions may raise it too. It is deliberately not an :class:`ExpressionError`.

    Attributes:
        reason: why, e.g. ``"division by zero in 'responded / orders'"``.
        source: the whole expression text, when known.
        offset: 0-based offset of the operation that gave up, when known.
    """

    def __init__(self, reason: str, *, source: str = "", offset: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.source = source
        self.offset = offset


# ----------------------------------------------------------------- function table


def _check_function_name(_: object, __: attrs.Attribute[str], name: str) -> None:
    if (
        not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name)
        or name.startswith("__")
        or name in KEYWORDS
    ):
        msg = f"invalid function name {name!r}"
        raise ValueError(msg)


def _check_max_args(
    instance: FunctionSpec, _: attrs.Attribute[int | None], value: int | None
) -> None:
    if value is not None and value < instance.min_args:
        msg = f"max_args ({value}) is less than min_args ({instance.min_args})"
        raise ValueError(msg)


@attrs.frozen(kw_only=True)
class FunctionSpec:
    """A function that expressions may call, by name.

    Attributes:
        name: the name used in expressions (ASCII identifier, not a keyword).
        min_args: fewest arguments accepted.
        max_args: most arguments accepted; None means any number (variadic).
        impl: the implementation. It receives evaluated argument values (numbers as
            ``int``/``Fraction``, never float), or, when ``lazy``, one :class:`LazyArg`
            per argument that it evaluates only if needed. It may raise
            :class:`ExpressionError` (located at the call automatically) or
            :class:`NotApplicable`.
        lazy: pass :class:`LazyArg` thunks instead of values.
        doc: one line for docs and error messages.

    >>> spec = FunctionSpec(name="double", min_args=1, max_args=1, impl=lambda x: x * 2)
    >>> parse("double(x) + 1", functions={"double": spec}).evaluate({"x": 4})
    9
    """

    name: str = attrs.field(validator=_check_function_name)
    min_args: int = attrs.field(validator=attrs.validators.ge(0))
    max_args: int | None = attrs.field(validator=_check_max_args)
    impl: Callable[..., object]
    lazy: bool = False
    doc: str = ""

    @property
    def arity(self) -> Arity:
        """``(min_args, max_args)``."""
        return (self.min_args, self.max_args)


class LazyArg:
    """An unevaluated argument handed to a lazy function.

    Call it (``arg()``) to evaluate it in the current environment, or
    ``arg.evaluate(env)`` to evaluate it against another one (e.g. each row of a group).
    """

    __slots__ = ("_env", "_run", "node", "text")

    def __init__(self, node: Node, text: str, run: Evaluator, env: Env) -> None:
        self.node = node
        self.text = text
        self._run = run
        self._env = env

    def __call__(self) -> object:
        """Evaluate the argument in the caller's environment."""
        return self._run(self._env)

    def evaluate(self, env: Env) -> object:
        """Evaluate the argument in ``env``."""
        return self._run(env)

    def __repr__(self) -> str:
        return f"LazyArg({self.text!r})"


# ---------------------------------------------------------------- value handling

_NUMBER_TYPES = frozenset({int, Fraction})
_PLAIN_TYPES = frozenset({int, Fraction, str, bool, type(None), date})
_EQ_FAST_TYPES = frozenset({int, Fraction, str, bool, date, datetime})
#: Same-type operands these orderings apply to directly (what the fallback would do).
_ORDER_FAST_TYPES = frozenset({date, datetime})
#: Zones whose utcoffset() is never None: a datetime carrying one is aware.
_AWARE_ZONES = frozenset({timezone, ZoneInfo})


def _kind(value: object) -> str:
    """Name of the expression-level type of a (normalized) value, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | Fraction):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, datetime):
        return "datetime"
    if isinstance(value, date):
        return "date"
    return type(value).__name__


_FLOAT_MESSAGE = "binary floats are not allowed; pass int, Fraction or Decimal"


def _normalize(value: object) -> object:
    """Bring a value from outside (environment, function result) into the value domain.

    Raises a *bare* ExpressionTypeError (no source); callers locate it.
    """
    kind = type(value)
    if kind in _PLAIN_TYPES:
        return value
    if kind is datetime and type(value.tzinfo) in _AWARE_ZONES:  # type: ignore[attr-defined]
        return value
    if isinstance(value, float):
        raise ExpressionTypeError(f"{_FLOAT_MESSAGE} (got {value!r})")
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ExpressionTypeError(f"a Decimal must be finite, not {value}")
        return Fraction(value)
    if isinstance(value, datetime):
        if value.utcoffset() is None:
            raise ExpressionTypeError(
                f"naive datetime {value.isoformat()} is not allowed; pass an aware datetime"
            )
        return value
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Rational):
        return Fraction(int(value.numerator), int(value.denominator))
    if isinstance(value, numbers.Number):
        raise ExpressionTypeError(f"{_FLOAT_MESSAGE} (got {type(value).__name__} {value!r})")
    return value


def _bool_hint(*values: object) -> str:
    return " (booleans are not numbers)" if any(type(v) is bool for v in values) else ""


def to_fraction(value: object) -> Fraction:
    """Convert a pack parameter to an exact Fraction.

    Accepts ``int``, ``Fraction``, ``Decimal``, and strings such as ``"95%"``,
    ``"12.5%"``, ``"0.95"``, ``"-3"`` or ``"19/20"``. Rejects ``float`` and ``bool``.

    Raises:
        ExpressionTypeError: a float, bool or other non-number.
        ExpressionSyntaxError: a string that is not an exact number.

    >>> to_fraction("95%"), to_fraction("0.95"), to_fraction(Decimal("1.10"))
    (Fraction(19, 20), Fraction(19, 20), Fraction(11, 10))
    """
    if isinstance(value, bool):
        raise ExpressionTypeError(f"expected a number, got boolean {value!r}")
    if isinstance(value, str):
        return _fraction_from_text(value)
    normalized = _normalize(value)
    if type(normalized) in _NUMBER_TYPES:
        return Fraction(cast("int | Fraction", normalized))
    raise ExpressionTypeError(f"expected a number, got {_kind(value)} {value!r}")


_DECIMAL_RE = re.compile(r"\s*(-?)([0-9]+(?:\.[0-9]+)?)\s*([%％]?)\s*")
_RATIO_RE = re.compile(r"\s*(-?[0-9]+)\s*/\s*([0-9]+)\s*")


def _fraction_from_text(text: str) -> Fraction:
    if match := _DECIMAL_RE.fullmatch(text):
        sign, digits, percent = match.groups()
        result = Fraction(digits) / (100 if percent else 1)
        return -result if sign else result
    if (match := _RATIO_RE.fullmatch(text)) and int(match.group(2)) != 0:
        return Fraction(int(match.group(1)), int(match.group(2)))
    msg = f"not an exact number: {text!r}; write e.g. 95%, 0.95, 12 or 19/20"
    raise ExpressionSyntaxError(msg)


def format_value(value: object, *, as_percent: bool = False) -> str:
    """Render a value for traces and messages, exactly.

    Terminating fractions print as decimals, others as ``p/q`` with an approximation;
    ``as_percent`` renders numbers as percentages.

    >>> format_value(Fraction(19, 20)), format_value(Fraction(19, 20), as_percent=True)
    ('0.95', '95%')
    >>> format_value(Fraction(2, 3)), format_value(None), format_value(date(2024, 9, 30))
    ('2/3 (≈0.666667)', 'null', '2024-09-30')
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Fraction | Decimal):
        number = Fraction(value)
        if as_percent:
            return f"{_fraction_text(number * 100)}%"
        return _fraction_text(number)
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


#: Past this many bits (about 300 digits) a numerator or denominator is not printed in
#: full: Python refuses to print ints over 4,300 digits, and nobody reads them.
_PRINTABLE_BITS = 1000


def _log10(n: int) -> float:
    """log10 of a positive int of any size (math.log10 would convert it to float)."""
    shift = max(n.bit_length() - 64, 0)
    return math.log10(n >> shift) + shift * math.log10(2)


def _huge_text(value: Fraction) -> str:
    """An approximate rendering of a number too large (or too fine) to print exactly."""
    if value == 0:  # pragma: no cover - zero is always small
        return "0"
    exponent = _log10(abs(value.numerator)) - _log10(value.denominator)
    whole = math.floor(exponent)
    mantissa = 10 ** (exponent - whole)
    sign = "-" if value < 0 else ""
    return f"≈{sign}{mantissa:.6f}e{whole:+d} (exact value too long to show)"


def _fraction_text(value: Fraction) -> str:
    if max(value.numerator.bit_length(), value.denominator.bit_length()) > _PRINTABLE_BITS:
        return _huge_text(value)
    text = decimal_text(value)
    if text is not None:
        return text
    with localcontext() as ctx:
        ctx.prec = 6
        approx = Decimal(value.numerator) / Decimal(value.denominator)
    return f"{value.numerator}/{value.denominator} (≈{approx})"


# -------------------------------------------------------------- built-in functions


def _extreme(name: str, pick: Callable[..., object], args: tuple[object, ...]) -> object:
    if any(arg is None for arg in args):
        return None
    kinds = {_kind(arg) for arg in args}
    if len(kinds) == 1 and kinds <= {"number", "date", "datetime"}:
        return pick(args)
    raise ExpressionTypeError(
        f"{name}() needs all numbers, all dates or all datetimes; got " + ", ".join(sorted(kinds))
    )


def _min(*args: object) -> object:
    return _extreme("min", min, args)


def _max(*args: object) -> object:
    return _extreme("max", max, args)


def _number_arg(name: str, value: object) -> Fraction | int | None:
    if value is None or type(value) in _NUMBER_TYPES:
        return value  # type: ignore[return-value]
    raise ExpressionTypeError(f"{name}() needs a number, got {_kind(value)}{_bool_hint(value)}")


def _abs(value: object) -> object:
    number = _number_arg("abs", value)
    return None if number is None else abs(number)


def _floor(value: object) -> object:
    number = _number_arg("floor", value)
    return None if number is None else math.floor(number)


def _ceil(value: object) -> object:
    number = _number_arg("ceil", value)
    return None if number is None else math.ceil(number)


def _round_half_up(value: object, digits: object = 0) -> object:
    number = _number_arg("round_half_up", value)
    places = _number_arg("round_half_up", digits)
    if places is None or Fraction(places).denominator != 1 or not -20 <= places <= 20:
        raise ExpressionTypeError(
            f"round_half_up() needs a whole number of digits from -20 to 20, got "
            f"{format_value(places)}"
        )
    if number is None:
        return None
    scale = Fraction(10) ** int(places)
    scaled = abs(Fraction(number)) * scale
    rounded = math.floor(scaled + Fraction(1, 2))
    return Fraction(rounded if number >= 0 else -rounded) / scale


def _is_null(value: object) -> bool:
    return value is None


def _is_set(value: object) -> bool:
    return value is not None


def _coalesce(*args: LazyArg) -> object:
    for arg in args:
        value = arg()
        if value is not None:
            return value
    return None


def _if(condition: LazyArg, then: LazyArg, otherwise: LazyArg) -> object:
    chosen = condition()
    if chosen is None:
        return None
    if chosen is True:
        return then()
    if chosen is False:
        return otherwise()
    raise ExpressionTypeError(f"if() needs a true/false/null condition, got {_kind(chosen)}")


def _builtin(
    name: str,
    arity: Arity,
    impl: Callable[..., object],
    doc: str,
    *,
    lazy: bool = False,
) -> tuple[str, FunctionSpec]:
    spec = FunctionSpec(
        name=name, min_args=arity[0], max_args=arity[1], impl=impl, lazy=lazy, doc=doc
    )
    return name, spec


BUILTIN_FUNCTIONS: Mapping[str, FunctionSpec] = MappingProxyType(
    dict(
        [
            _builtin("min", (1, None), _min, "smallest argument; null if any is null"),
            _builtin("max", (1, None), _max, "largest argument; null if any is null"),
            _builtin("abs", (1, 1), _abs, "absolute value"),
            _builtin("floor", (1, 1), _floor, "largest integer <= x"),
            _builtin("ceil", (1, 1), _ceil, "smallest integer >= x"),
            _builtin(
                "round_half_up",
                (1, 2),
                _round_half_up,
                "round to `digits` decimal places (default 0), halves away from zero",
            ),
            _builtin("is_null", (1, 1), _is_null, "true if x is null"),
            _builtin("is_set", (1, 1), _is_set, "true if x is not null"),
            _builtin("coalesce", (1, None), _coalesce, "first non-null argument", lazy=True),
            _builtin(
                "if",
                (3, 3),
                _if,
                "if(cond, a, b): a when cond is true, b when false, null when null",
                lazy=True,
            ),
        ]
    )
)
"""The functions every expression may call (read-only; the engine adds more per call)."""


# --------------------------------------------------------------------- compiler

_ARITHMETIC: Mapping[str, Callable[[Any, Any], object]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
}
_COMPARISON: Mapping[str, Callable[[Any, Any], object]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_ORDERED_KINDS = frozenset({"number", "date", "datetime"})


class _Compiler:
    """Turns an AST into a tree of closures (no ``eval``); one per compilation."""

    def __init__(
        self,
        source: str,
        functions: Mapping[str, FunctionSpec],
        trace: list[tuple[str, object]] | None,
    ) -> None:
        self.source = source
        self.functions = functions
        self.trace = trace

    # -- helpers

    def text(self, node: Node) -> str:
        if 0 <= node.start <= node.end <= len(self.source):
            return self.source[node.start : node.end]
        return unparse(node)

    def type_error(self, message: str, node: Node, offset: int) -> ExpressionTypeError:
        offset = max(offset, 0)
        return ExpressionTypeError(
            f"{message} in '{self.text(node)}' at column {offset + 1}",
            source=self.source,
            offset=offset,
        )

    def locate(self, exc: ExpressionError, node: Node, offset: int) -> ExpressionError:
        """Give a bare error raised by a helper or function the expression's location."""
        offset = max(offset, 0)
        message = f"{exc} in '{self.text(node)}' at column {offset + 1}"
        if type(exc) is ExpressionTypeError:
            return ExpressionTypeError(message, source=self.source, offset=offset)
        return ExpressionError(message, source=self.source, offset=offset)

    # -- dispatch

    def compile(self, node: Node) -> Evaluator:
        run = self.compile_node(node)
        sink = self.trace
        if sink is None or isinstance(node, Number | String | Boolean | Null):
            return run
        text = self.text(node)

        def traced(env: Env) -> object:
            value = run(env)
            sink.append((text, value))
            return value

        return traced

    def compile_node(self, node: Node) -> Evaluator:
        if isinstance(node, Number | String | Boolean | Null):
            return self.constant(node)
        if isinstance(node, Name):
            return self.name(node)
        if isinstance(node, UnaryOp):
            return self.negate(node) if node.op == "-" else self.logical_not(node)
        if isinstance(node, BinaryOp):
            return self.divide(node) if node.op == "/" else self.arithmetic(node)
        if isinstance(node, Compare):
            return self.comparison(node)
        if isinstance(node, BoolOp):
            return self.conjunction(node) if node.op == "and" else self.disjunction(node)
        return self.call(node)

    def constant(self, node: Number | String | Boolean | Null) -> Evaluator:
        value: object = None
        if isinstance(node, Number):
            # Integral literals become ints: exact, and int arithmetic is much faster.
            value = node.value.numerator if node.value.denominator == 1 else node.value
        elif not isinstance(node, Null):
            value = node.value

        def constant(_: Env) -> object:
            return value

        return constant

    def name(self, node: Name) -> Evaluator:
        key = node.id
        compiler = self

        def load(env: Env) -> object:
            try:
                value = env[key]
            except KeyError:
                raise compiler.unknown_name(node, env) from None
            kind = type(value)
            if kind in _PLAIN_TYPES:
                return value
            if kind is datetime and type(value.tzinfo) in _AWARE_ZONES:  # type: ignore[attr-defined]
                return value
            try:
                return _normalize(value)
            except ExpressionTypeError as exc:
                raise compiler.type_error(f"variable '{key}': {exc}", node, node.start) from None

        return load

    def unknown_name(self, node: Name, env: Env) -> UnknownNameError:
        known = sorted(key for key in env if isinstance(key, str))
        return _unknown_name_error(node, known, self.source, "the environment")

    # -- operators

    def negate(self, node: UnaryOp) -> Evaluator:
        operand = self.compile(node.operand)
        compiler = self

        def negate(env: Env) -> object:
            value = operand(env)
            if type(value) in _NUMBER_TYPES:
                return -value  # type: ignore[operator]
            if value is None:
                return None
            raise compiler.type_error(
                f"cannot negate a {_kind(value)}{_bool_hint(value)}", node, node.start
            )

        return negate

    def logical_not(self, node: UnaryOp) -> Evaluator:
        operand = self.compile(node.operand)
        compiler = self

        def logical_not(env: Env) -> object:
            value = operand(env)
            if value is None:
                return None
            if type(value) is bool:
                return not value
            raise compiler.type_error(
                f"'not' needs true, false or null, not a {_kind(value)}", node, node.start
            )

        return logical_not

    def arithmetic(self, node: BinaryOp) -> Evaluator:
        left, right = self.compile(node.left), self.compile(node.right)
        apply = _ARITHMETIC[node.op]
        slow = self.arithmetic_fallback(node)

        def arithmetic(env: Env) -> object:
            a = left(env)
            b = right(env)
            if type(a) in _NUMBER_TYPES and type(b) in _NUMBER_TYPES:
                return apply(a, b)
            return slow(a, b)

        return arithmetic

    def divide(self, node: BinaryOp) -> Evaluator:
        left, right = self.compile(node.left), self.compile(node.right)
        slow = self.arithmetic_fallback(node)
        reason = f"division by zero in '{self.text(node)}'"
        source = self.source

        def divide(env: Env) -> object:
            a = left(env)
            b = right(env)
            if type(a) in _NUMBER_TYPES and type(b) in _NUMBER_TYPES:
                if b == 0:
                    raise NotApplicable(reason, source=source, offset=node.op_start)
                return Fraction(cast("int | Fraction", a), cast("int | Fraction", b))
            return slow(a, b)

        return divide

    def arithmetic_fallback(self, node: BinaryOp) -> Callable[[object, object], object]:
        """Arithmetic on anything but two numbers: null propagates, the rest is an error."""
        compiler = self

        def fallback(a: object, b: object) -> object:
            if {_kind(a), _kind(b)} <= {"number", "null"}:
                return None
            raise compiler.type_error(
                f"cannot apply '{node.op}' to a {_kind(a)} and a {_kind(b)}{_bool_hint(a, b)}",
                node,
                node.op_start,
            )

        return fallback

    def comparison(self, node: Compare) -> Evaluator:
        left, right = self.compile(node.left), self.compile(node.right)
        apply = _COMPARISON[node.op]
        slow = self.comparison_fallback(node, apply)
        if node.op in ("==", "!="):

            def equality(env: Env) -> object:
                a = left(env)
                b = right(env)
                type_a, type_b = type(a), type(b)
                if (type_a is type_b and type_a in _EQ_FAST_TYPES) or (
                    type_a in _NUMBER_TYPES and type_b in _NUMBER_TYPES
                ):
                    return apply(a, b)
                return slow(a, b)

            return equality

        def ordering(env: Env) -> object:
            a = left(env)
            b = right(env)
            type_a, type_b = type(a), type(b)
            if (type_a in _NUMBER_TYPES and type_b in _NUMBER_TYPES) or (
                type_a is type_b and type_a in _ORDER_FAST_TYPES
            ):
                return apply(a, b)
            return slow(a, b)

        return ordering

    def comparison_fallback(
        self, node: Compare, apply: Callable[[object, object], object]
    ) -> Callable[[object, object], object]:
        compiler = self
        equality = node.op in ("==", "!=")

        def fail(message: str) -> ExpressionTypeError:
            return compiler.type_error(message, node, node.op_start)

        def fallback(a: object, b: object) -> object:
            if a is None or b is None:
                return None
            kind_a, kind_b = _kind(a), _kind(b)
            if kind_a != kind_b or (type(a) is not type(b) and kind_a not in _BUILTIN_KINDS):
                hint = ""
                if {kind_a, kind_b} == {"date", "datetime"}:
                    hint = " (convert the datetime with local_date() first)"
                raise fail(f"cannot compare a {kind_a} with a {kind_b}{hint}")
            if kind_a in _ORDERED_KINDS or (equality and kind_a in _BUILTIN_KINDS):
                return apply(a, b)
            if kind_a in _BUILTIN_KINDS:
                raise fail(f"cannot order {kind_a}s with '{node.op}'; only == and != apply")
            try:
                result = apply(a, b)
            except TypeError:
                result = NotImplemented
            if type(result) is not bool:
                raise fail(f"values of type {kind_a} cannot be compared with '{node.op}'")
            return result

        return fallback

    def conjunction(self, node: BoolOp) -> Evaluator:
        left, right = self.compile(node.left), self.compile(node.right)
        check = self.logic_operand_check(node)

        def conjunction(env: Env) -> object:
            a = left(env)
            if a is False:
                return False
            check(a, node.left)
            b = right(env)
            if b is False:
                return False
            check(b, node.right)
            return None if a is None or b is None else True

        return conjunction

    def disjunction(self, node: BoolOp) -> Evaluator:
        left, right = self.compile(node.left), self.compile(node.right)
        check = self.logic_operand_check(node)

        def disjunction(env: Env) -> object:
            a = left(env)
            if a is True:
                return True
            check(a, node.left)
            b = right(env)
            if b is True:
                return True
            check(b, node.right)
            return None if a is None or b is None else False

        return disjunction

    def logic_operand_check(self, node: BoolOp) -> Callable[[object, Node], None]:
        compiler = self

        def check(value: object, operand: Node) -> None:
            if value is not None and type(value) is not bool:
                raise compiler.type_error(
                    f"'{node.op}' needs true, false or null, not a {_kind(value)}",
                    operand,
                    operand.start,
                )

        return check

    # -- calls

    def call(self, node: Call) -> Evaluator:
        spec = self.functions.get(node.func)
        if spec is None:
            known = sorted(self.functions)
            suggestions = tuple(difflib.get_close_matches(node.func, known, n=3))
            raise UnknownNameError(
                f"function '{node.func}' has no implementation at column {node.start + 1}; "
                "pass a FunctionSpec for it in functions=",
                name=node.func,
                suggestions=suggestions,
                source=self.source,
                offset=node.start,
            )
        check_arity(node.func, spec.arity, len(node.args), self.source, node.start)
        args = tuple(self.compile(arg) for arg in node.args)
        impl = spec.impl
        compiler = self

        def finish(thunk: Callable[[], object]) -> object:
            try:
                return _normalize(thunk())
            except ExpressionError as exc:
                if exc.source:
                    raise
                raise compiler.locate(exc, node, node.start) from exc

        if spec.lazy:
            texts = tuple(self.text(arg) for arg in node.args)
            pairs = tuple(zip(node.args, texts, args, strict=True))

            def call_lazy(env: Env) -> object:
                lazy = [LazyArg(arg, text, run, env) for arg, text, run in pairs]
                return finish(lambda: impl(*lazy))

            return call_lazy

        def call_eager(env: Env) -> object:
            values = [run(env) for run in args]
            try:
                return _normalize(impl(*values))
            except ExpressionError as exc:
                if exc.source:
                    raise
                raise compiler.locate(exc, node, node.start) from exc

        return call_eager


_BUILTIN_KINDS = frozenset({"number", "string", "boolean", "date", "datetime"})


def _unknown_name_error(
    node: Name, known: Collection[str], source: str, where: str, *, others: Collection[str] = ()
) -> UnknownNameError:
    suggestions = tuple(difflib.get_close_matches(node.id, list(known), n=3))
    hint = f"; did you mean {' or '.join(repr(s) for s in suggestions)}?" if suggestions else ""
    also = f" (also unknown: {', '.join(others)})" if others else ""
    return UnknownNameError(
        f"unknown name '{node.id}' at column {node.start + 1}: not in {where}{hint}{also}",
        name=node.id,
        suggestions=suggestions,
        source=source,
        offset=max(node.start, 0),
    )


# -------------------------------------------------------------------- expression


@attrs.frozen(kw_only=True)
class Expression:
    """A parsed expression: its source, AST, the names it reads and functions it calls.

    Build it with :func:`parse`. Equality compares source and AST.

    Attributes:
        source: the expression text as written in the pack.
        node: the root AST node.
        names: free variable names.
        calls: names of the functions called.
        functions: the function specs known when parsing (built-ins plus any given).
    """

    source: str
    node: Node
    names: frozenset[str]
    calls: frozenset[str]
    functions: Mapping[str, FunctionSpec] = attrs.field(eq=False, repr=False)
    _compiled: Evaluator | None = attrs.field(default=None, init=False, eq=False, repr=False)
    # The last compilation with extra functions, keyed by the specs of the called names.
    _compiled_with: tuple[tuple[FunctionSpec | None, ...], Evaluator] | None = attrs.field(
        default=None, init=False, eq=False, repr=False
    )

    def compile(self, *, functions: Mapping[str, FunctionSpec] | None = None) -> Evaluator:
        """Compile to a tree of closures, for evaluating many rows fast.

        Args:
            functions: extra function specs (added to, and overriding, those known at
                parse time). The compiled form is cached: without ``functions``, and for
                the last ``functions`` given (while the specs of the called names stay
                the same objects), so ``evaluate(row, functions=table)`` per row is fast.

        Raises:
            UnknownNameError: a called function has no spec.
            ExpressionSyntaxError: a call does not fit its function's arity.

        >>> run = parse("a * 100 < b * 95").compile()
        >>> [run({"a": a, "b": 100}) for a in (94, 95)]
        [True, False]
        """
        if functions is None:
            compiled = self._compiled
            if compiled is None:
                compiled = _Compiler(self.source, self.functions, None).compile(self.node)
                object.__setattr__(self, "_compiled", compiled)
            return compiled
        key = tuple(functions.get(name) for name in self.calls)
        cached = self._compiled_with
        if cached is not None and all(a is b for a, b in zip(cached[0], key, strict=True)):
            return cached[1]
        table = {**self.functions, **_spec_table(functions)}
        compiled = _Compiler(self.source, table, None).compile(self.node)
        object.__setattr__(self, "_compiled_with", (key, compiled))
        return compiled

    def evaluate(self, env: Env, *, functions: Mapping[str, FunctionSpec] | None = None) -> object:
        """Evaluate against ``env`` (variable name → value).

        Returns:
            ``int``/``Fraction`` for numbers, ``bool``, ``str``, ``date``, aware
            ``datetime``, ``None`` for null, or an engine-supplied opaque value.

        Raises:
            UnknownNameError: a variable is missing from ``env`` (with did-you-mean).
            ExpressionTypeError: an operator or function got values of the wrong type,
                or ``env`` holds a float.
            NotApplicable: a zero denominator; the rule does not apply.

        >>> parse("is_set(replied_at) and not unresolvable").evaluate(
        ...     {"replied_at": None, "unresolvable": True})
        False
        """
        return self.compile(functions=functions)(env)

    def evaluate_traced(
        self, env: Env, *, functions: Mapping[str, FunctionSpec] | None = None
    ) -> tuple[object, list[tuple[str, object]]]:
        """Evaluate and also list each evaluated sub-expression's text and value.

        Literals are left out; the order is evaluation order (operands first), and
        sub-expressions skipped by short-circuit or lazy functions do not appear.

        >>> value, steps = parse("responded / orders < 95%").evaluate_traced(
        ...     {"responded": 18, "orders": 20})
        >>> value, [(text, format_value(v)) for text, v in steps]
        (True, [('responded', '18'), ('orders', '20'), ('responded / orders', '0.9'), \
('responded / orders < 95%', 'true')])
        """
        table = dict(self.functions)
        if functions is not None:
            table.update(_spec_table(functions))
        trace: list[tuple[str, object]] = []
        value = _Compiler(self.source, table, trace).compile(self.node)(env)
        return value, trace

    def check_names(self, allowed: Collection[str]) -> None:
        """Check every variable name is in ``allowed``, before anything runs.

        Raises:
            UnknownNameError: for the first unknown name, with did-you-mean suggestions.

        >>> parse("deliverd / ordered").check_names({"delivered", "ordered"})
        Traceback (most recent call last):
        ...
        vbp_rules.errors.UnknownNameError: unknown name 'deliverd' at column 1: not in the \
allowed names; did you mean 'delivered'?
          deliverd / ordered
          ^
        """
        unknown = sorted(
            (node for node in iter_nodes(self.node) if isinstance(node, Name)),
            key=lambda node: node.start,
        )
        unknown = [node for node in unknown if node.id not in allowed]
        if unknown:
            others = sorted({node.id for node in unknown} - {unknown[0].id})
            raise _unknown_name_error(
                unknown[0], allowed, self.source, "the allowed names", others=others
            )

    def unparse(self) -> str:
        """The expression in canonical form (reparses to an equal AST).

        >>> parse("((a)+(b))*c").unparse()
        '(a + b) * c'
        """
        return unparse(self.node)

    def __str__(self) -> str:
        return self.source


def _spec_table(functions: Mapping[str, FunctionSpec]) -> dict[str, FunctionSpec]:
    table: dict[str, FunctionSpec] = {}
    for key, spec in functions.items():
        if not isinstance(spec, FunctionSpec):
            msg = f"functions[{key!r}] must be a FunctionSpec, not {type(spec).__name__}"
            raise TypeError(msg)
        if key != spec.name:
            msg = f"functions[{key!r}] holds the spec of {spec.name!r}"
            raise ValueError(msg)
        table[key] = spec
    return table


def parse(
    source: str,
    *,
    functions: Collection[str] | Mapping[str, FunctionSpec] | None = None,
) -> Expression:
    """Parse an expression, checking its syntax and the functions it calls.

    Args:
        source: the expression text (at most ``MAX_LENGTH`` characters, nesting at
            most ``MAX_DEPTH`` levels).
        functions: functions callable besides the built-ins: specs (arity is checked
            now, and evaluation can use them), or just names (arity is checked when
            compiling with specs). Entries override built-ins of the same name.

    Raises:
        ExpressionSyntaxError: not in the grammar, or over a limit; the message shows
            the column and a caret.
        UnknownNameError: a call of an unknown function (with did-you-mean).
        ExpressionTypeError: ``source`` is not a string.

    >>> sorted(parse("if(selected, listing_price, min(listing_price, group_price))").calls)
    ['if', 'min']
    >>> parse("eval(x)")
    Traceback (most recent call last):
    ...
    vbp_rules.errors.UnknownNameError: unknown function 'eval' at column 1; known \
functions: abs, ceil, coalesce, floor, if, is_null, is_set, max, min, round_half_up
      eval(x)
      ^
    """
    if not isinstance(source, str):
        raise ExpressionTypeError(f"an expression must be a string, not {type(source).__name__}")
    specs: dict[str, FunctionSpec] = dict(BUILTIN_FUNCTIONS)
    arities: dict[str, Arity | None] = {name: spec.arity for name, spec in specs.items()}
    if isinstance(functions, Mapping):
        extra = _spec_table(functions)
        specs.update(extra)
        arities.update((name, spec.arity) for name, spec in extra.items())
    elif functions is not None:
        if isinstance(functions, str):
            msg = "functions must be a collection of names, not a single string"
            raise TypeError(msg)
        for name in functions:
            if name not in arities:
                arities[name] = None
    node = parse_node(source, arities)
    nodes = list(iter_nodes(node))
    return Expression(
        source=source,
        node=node,
        names=frozenset(n.id for n in nodes if isinstance(n, Name)),
        calls=frozenset(n.func for n in nodes if isinstance(n, Call)),
        functions=MappingProxyType(specs),
    )
