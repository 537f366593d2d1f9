"""Tokenizer, AST and parser of the pack expression language (private; see ``expr``).

The parser is a hand-written recursive-descent parser over a hand-written tokenizer.
It never calls ``eval``/``exec``/``compile`` and does not use Python's ``ast`` module:
the accepted language is exactly the grammar in ``docs/expressions.md``.
"""

from __future__ import annotations

import difflib
import keyword
from collections.abc import Callable, Iterator, Mapping
from fractions import Fraction
from typing import Literal, TypeAlias, cast

import attrs

from vbp_rules._format import decimal_text
from vbp_rules.errors import ExpressionSyntaxError, UnknownNameError

__all__ = [
    "KEYWORDS",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "Arity",
    "BinaryOp",
    "BoolOp",
    "Boolean",
    "Call",
    "Compare",
    "Name",
    "Node",
    "Null",
    "Number",
    "String",
    "UnaryOp",
    "decimal_text",
    "iter_nodes",
    "parse_node",
    "unparse",
]

MAX_LENGTH = 2000
"""Longest accepted expression source, in characters."""

MAX_DEPTH = 50
"""Deepest accepted nesting of operators, parentheses and calls."""

KEYWORDS = frozenset({"and", "or", "not", "true", "false", "null"})
"""Words with a meaning in the grammar; they cannot name variables or functions."""

# Words that are not part of the language but would make a confusing variable name (the
# Python keywords); each maps to the hint shown when it is used.
_RESERVED: Mapping[str, str] = {
    **{
        word: "it is a Python keyword, not part of the expression language"
        for word in keyword.kwlist
        if word not in KEYWORDS and word != "if"
    },
    "True": "write 'true'",
    "False": "write 'false'",
    "None": "write 'null'",
    "lambda": "expressions cannot define functions",
    "import": "expressions cannot import anything",
    "else": "write if(condition, then, otherwise)",
    "elif": "write if(condition, then, otherwise)",
    "is": "write '==', or is_null(x) / is_set(x)",
    "in": "compare with '==' and combine with 'or'",
}

_DIGITS = frozenset("0123456789")
_NAME_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_NAME_CHARS = _NAME_START | _DIGITS
_PERCENT_SIGNS = frozenset("%％")
_TWO_CHAR_OPS = frozenset({"==", "!=", "<=", ">="})
_ONE_CHAR_OPS = frozenset("+-*/<>(),")
_CHAR_HINTS: Mapping[str, str] = {
    "=": "'=' is not an operator; write '==' to compare",
    "!": "'!' is not an operator; write 'not' (or '!=' to compare)",
    "&": "'&' is not an operator; write 'and'",
    "|": "'|' is not an operator; write 'or'",
    "[": "subscripts ('[...]') are not allowed",
    "]": "subscripts ('[...]') are not allowed",
    "%": "'%' may only follow a number (95%); there is no modulo operator",
    "\\": "backslashes are not allowed",
}

ComparisonOp: TypeAlias = Literal["==", "!=", "<", "<=", ">", ">="]
ArithmeticOp: TypeAlias = Literal["+", "-", "*", "/"]
Arity: TypeAlias = tuple[int, int | None]
"""``(min_args, max_args)`` of a function; ``max_args`` None means variadic."""

_COMPARISON_OPS = frozenset({"==", "!=", "<", "<=", ">", ">="})


# --------------------------------------------------------------------------- AST


class _Unparsed:
    """Mixin: ``str(node)`` is the node written back as source."""

    __slots__ = ()

    def __str__(self) -> str:
        return unparse(cast("Node", self))


def _span() -> int:
    return attrs.field(default=-1, eq=False, repr=False)


def _check_number(_: object, __: attrs.Attribute[Fraction], value: Fraction) -> None:
    if type(value) is not Fraction or value < 0 or decimal_text(value) is None:
        msg = f"a Number literal must be a non-negative terminating decimal, not {value!r}"
        raise ValueError(msg)


@attrs.frozen(kw_only=True, str=False)
class Number(_Unparsed):
    """A number literal: ``12``, ``0.95`` (stored as ``Fraction(19, 20)``), ``95%``.

    ``percent`` only records how the literal was written; ``value`` is the ratio.
    """

    value: Fraction = attrs.field(validator=_check_number)
    percent: bool = False
    start: int = _span()
    end: int = _span()


@attrs.frozen(kw_only=True, str=False)
class String(_Unparsed):
    """A string literal in single or double quotes (no escapes)."""

    value: str
    start: int = _span()
    end: int = _span()


@attrs.frozen(kw_only=True, str=False)
class Boolean(_Unparsed):
    """``true`` or ``false``."""

    value: bool
    start: int = _span()
    end: int = _span()


@attrs.frozen(kw_only=True, str=False)
class Null(_Unparsed):
    """``null``: a missing or unknown value."""

    start: int = _span()
    end: int = _span()


@attrs.frozen(kw_only=True, str=False)
class Name(_Unparsed):
    """A free variable, looked up in the evaluation environment."""

    id: str
    start: int = _span()
    end: int = _span()


@attrs.frozen(kw_only=True, str=False)
class UnaryOp(_Unparsed):
    """``-x`` or ``not x``."""

    op: Literal["-", "not"]
    operand: Node
    start: int = _span()
    end: int = _span()


@attrs.frozen(kw_only=True, str=False)
class BinaryOp(_Unparsed):
    """Arithmetic: ``+ - * /``."""

    op: ArithmeticOp
    left: Node
    right: Node
    start: int = _span()
    end: int = _span()
    op_start: int = _span()


@attrs.frozen(kw_only=True, str=False)
class Compare(_Unparsed):
    """One (non-chained) comparison: ``== != < <= > >=``."""

    op: ComparisonOp
    left: Node
    right: Node
    start: int = _span()
    end: int = _span()
    op_start: int = _span()


@attrs.frozen(kw_only=True, str=False)
class BoolOp(_Unparsed):
    """``and`` / ``or`` under three-valued (Kleene) logic."""

    op: Literal["and", "or"]
    left: Node
    right: Node
    start: int = _span()
    end: int = _span()
    op_start: int = _span()


@attrs.frozen(kw_only=True, str=False)
class Call(_Unparsed):
    """A call of a whitelisted function by its bare name."""

    func: str
    args: tuple[Node, ...]
    start: int = _span()
    end: int = _span()


Node: TypeAlias = (
    Number | String | Boolean | Null | Name | UnaryOp | BinaryOp | Compare | BoolOp | Call
)
"""Any expression AST node."""


def iter_nodes(node: Node) -> Iterator[Node]:
    """Yield ``node`` and all its descendants, parents first (iteratively, no recursion)."""
    stack: list[Node] = [node]
    while stack:
        current = stack.pop()
        yield current
        if isinstance(current, UnaryOp):
            stack.append(current.operand)
        elif isinstance(current, BinaryOp | Compare | BoolOp):
            stack.extend((current.right, current.left))
        elif isinstance(current, Call):
            stack.extend(reversed(current.args))


# ------------------------------------------------------------------------ unparse

_PREC_OR, _PREC_AND, _PREC_NOT, _PREC_CMP, _PREC_SUM, _PREC_PRODUCT, _PREC_NEG, _PREC_ATOM = range(
    1, 9
)
_BINARY_PREC: Mapping[str, int] = {
    "+": _PREC_SUM,
    "-": _PREC_SUM,
    "*": _PREC_PRODUCT,
    "/": _PREC_PRODUCT,
    "and": _PREC_AND,
    "or": _PREC_OR,
}


def _precedence(node: Node) -> int:
    if isinstance(node, BinaryOp | BoolOp):
        return _BINARY_PREC[node.op]
    if isinstance(node, Compare):
        return _PREC_CMP
    if isinstance(node, UnaryOp):
        return _PREC_NOT if node.op == "not" else _PREC_NEG
    return _PREC_ATOM


def _quote(value: str) -> str:
    if '"' not in value:
        return f'"{value}"'
    if "'" not in value:
        return f"'{value}'"
    msg = f"a string containing both quote characters cannot be written: {value!r}"
    raise ValueError(msg)


def unparse(node: Node) -> str:
    """Write ``node`` back as source, with only the parentheses the grammar needs.

    >>> unparse(parse_node("(a + (b)) * -c < 95%  and not (x)", {}))
    '(a + b) * -c < 95% and not x'
    """
    if isinstance(node, Number):
        text = decimal_text(node.value * 100 if node.percent else node.value)
        return f"{text}%" if node.percent else str(text)
    if isinstance(node, String):
        return _quote(node.value)
    if isinstance(node, Boolean):
        return "true" if node.value else "false"
    if isinstance(node, Null):
        return "null"
    if isinstance(node, Name):
        return node.id
    if isinstance(node, Call):
        return f"{node.func}({', '.join(unparse(arg) for arg in node.args)})"
    if isinstance(node, UnaryOp):
        prec = _precedence(node)
        inner = _wrap(node.operand, strictly_below=prec)
        return f"not {inner}" if node.op == "not" else f"-{inner}"
    prec = _precedence(node)
    # Left-associative chains: the left child may sit at the same level, the right may
    # not; comparisons do not chain, so neither side may be a comparison.
    left_limit = prec + 1 if isinstance(node, Compare) else prec
    left = _wrap(node.left, strictly_below=left_limit)
    right = _wrap(node.right, strictly_below=prec + 1)
    return f"{left} {node.op} {right}"


def _wrap(node: Node, *, strictly_below: int) -> str:
    text = unparse(node)
    return f"({text})" if _precedence(node) < strictly_below else text


# ---------------------------------------------------------------------- tokenizer


@attrs.frozen(kw_only=True)
class _Token:
    kind: Literal["number", "string", "name", "keyword", "op", "error", "end"]
    text: str
    start: int
    end: int
    value: object = None


def _describe(token: _Token) -> str:
    if token.kind == "end":
        return "end of expression"
    if token.kind == "number":
        return f"number {token.text}"
    if token.kind == "string":
        return f"string {token.text}"
    if token.kind == "name":
        return f"name '{token.text}'"
    return f"'{token.text}'"


class _Tokenizer:
    def __init__(self, source: str) -> None:
        self.source = source
        self.pos = 0
        self.tokens: list[_Token] = []

    def error(self, message: str, offset: int) -> ExpressionSyntaxError:
        return ExpressionSyntaxError(
            f"{message} at column {offset + 1}", source=self.source, offset=offset
        )

    def run(self) -> list[_Token]:
        """Tokenize; a lexical error becomes a final "error" token, so that the parser
        reports problems in source order (a parse error before it wins)."""
        n = len(self.source)
        try:
            self.scan()
        except ExpressionSyntaxError as exc:
            offset = exc.offset or 0
            self.tokens.append(_Token(kind="error", text="", start=offset, end=n, value=exc))
        self.tokens.append(_Token(kind="end", text="", start=n, end=n))
        return self.tokens

    def scan(self) -> None:
        src = self.source
        n = len(src)
        while self.pos < n:
            char = src[self.pos]
            if char.isspace():
                self.pos += 1
            elif char in _DIGITS:
                self.number()
            elif char in _NAME_START:
                self.name()
            elif char in "\"'":
                self.string()
            elif src.startswith(tuple(_TWO_CHAR_OPS), self.pos):
                self.add("op", src[self.pos : self.pos + 2])
            elif src.startswith("<>", self.pos):
                raise self.error("'<>' is not an operator; write '!='", self.pos)
            elif src.startswith("**", self.pos):
                raise self.error("'**' is not an operator; there are no powers", self.pos)
            elif char in _ONE_CHAR_OPS:
                self.add("op", char)
            elif char == ".":
                self.dot()
            else:
                raise self.error(self.bad_char_message(char), self.pos)

    def add(self, kind: Literal["op"], text: str) -> None:
        start = self.pos
        self.pos += len(text)
        self.tokens.append(_Token(kind=kind, text=text, start=start, end=self.pos))

    @staticmethod
    def bad_char_message(char: str) -> str:
        if char in _CHAR_HINTS:
            return _CHAR_HINTS[char]
        if char in _PERCENT_SIGNS:
            return _CHAR_HINTS["%"]
        if char.isalpha():
            return f"unexpected character {char!r}: names must be ASCII ([A-Za-z_][A-Za-z0-9_]*)"
        if ord(char) > 127:
            return f"unexpected character {char!r} (U+{ord(char):04X}); use ASCII operators"
        return f"unexpected character {char!r}"

    def dot(self) -> None:
        src, pos = self.source, self.pos
        if pos + 1 < len(src) and src[pos + 1] in _DIGITS:
            raise self.error("a number needs a digit before '.' (write 0.5, not .5)", pos)
        raise self.error("attribute access ('.') is not allowed", pos)

    def number(self) -> None:
        src, start = self.source, self.pos
        end = start
        while end < len(src) and src[end] in _DIGITS:
            end += 1
        if end < len(src) and src[end] == ".":
            if end + 1 < len(src) and src[end + 1] in _DIGITS:
                end += 1
                while end < len(src) and src[end] in _DIGITS:
                    end += 1
            else:
                raise self.error("a number needs digits after '.' (write 1.0, not 1.)", end)
        value = Fraction(src[start:end])
        percent = end < len(src) and src[end] in _PERCENT_SIGNS
        if percent:
            end += 1
            value /= 100
        if end < len(src) and (src[end] in _NAME_CHARS or src[end] == "."):
            raise self.error(
                "invalid number: write digits with an optional decimal part and '%'", end
            )
        self.tokens.append(
            _Token(kind="number", text=src[start:end], start=start, end=end, value=(value, percent))
        )
        self.pos = end

    def name(self) -> None:
        src, start = self.source, self.pos
        end = start
        while end < len(src) and src[end] in _NAME_CHARS:
            end += 1
        text = src[start:end]
        if end < len(src) and src[end].isalpha():
            raise self.error(
                f"unexpected character {src[end]!r}: names must be ASCII ([A-Za-z_][A-Za-z0-9_]*)",
                end,
            )
        if text.startswith("__"):
            raise self.error(f"names with double underscores are forbidden: '{text}'", start)
        if text in _RESERVED:
            raise self.error(f"'{text}' is not allowed ({_RESERVED[text]})", start)
        kind: Literal["keyword", "name"] = "keyword" if text in KEYWORDS else "name"
        self.tokens.append(_Token(kind=kind, text=text, start=start, end=end))
        self.pos = end

    def string(self) -> None:
        src, start = self.source, self.pos
        quote = src[start]
        end = start + 1
        while end < len(src) and src[end] != quote:
            if src[end] == "\\":
                raise self.error("backslash escapes are not supported in strings", end)
            end += 1
        if end >= len(src):
            raise self.error(f"unterminated string (missing closing {quote})", start)
        end += 1
        self.tokens.append(
            _Token(
                kind="string",
                text=src[start:end],
                start=start,
                end=end,
                value=src[start + 1 : end - 1],
            )
        )
        self.pos = end


# ------------------------------------------------------------------------- parser


_Rule: TypeAlias = Callable[[], "Node"]


class _Parser:
    def __init__(self, source: str, tokens: list[_Token], functions: Mapping[str, Arity | None]):
        self.source = source
        self.tokens = tokens
        self.index = 0
        self.functions = functions
        self.depth = 0

    # -- helpers

    @property
    def token(self) -> _Token:
        token = self.tokens[self.index]
        if token.kind == "error":
            raise cast("ExpressionSyntaxError", token.value)
        return token

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def at(self, kind: str, *texts: str) -> bool:
        token = self.token
        return token.kind == kind and (not texts or token.text in texts)

    def error(self, message: str, offset: int, *, hint: str = "") -> ExpressionSyntaxError:
        return ExpressionSyntaxError(
            f"{message} at column {offset + 1}" + (f"; {hint}" if hint else ""),
            source=self.source,
            offset=offset,
        )

    def unexpected(self, expected: str) -> ExpressionSyntaxError:
        token = self.token
        return ExpressionSyntaxError(
            f"unexpected {_describe(token)} at column {token.start + 1}; expected {expected}",
            source=self.source,
            offset=token.start,
        )

    def enter(self, offset: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(f"expression is nested too deeply (limit {MAX_DEPTH})", offset)

    # -- grammar

    def parse(self) -> Node:
        if self.at("end"):
            raise self.error("empty expression", 0)
        node = self.expression()
        token = self.token
        if token.kind != "end":
            raise self.trailing(token)
        return node

    def trailing(self, token: _Token) -> ExpressionSyntaxError:
        if token.kind == "name" and token.text == "if":
            return self.error(
                "Python conditional expressions are not supported",
                token.start,
                hint="write if(condition, then, otherwise)",
            )
        if token.kind == "op" and token.text == "(":
            return self.error(
                "unexpected '('", token.start, hint="only function names can be called"
            )
        return self.unexpected("an operator or the end of the expression")

    def expression(self) -> Node:
        self.enter(self.token.start)
        node = self.binary_bool("or", self.and_expr)
        self.depth -= 1
        return node

    def and_expr(self) -> Node:
        return self.binary_bool("and", self.not_expr)

    def binary_bool(self, op: Literal["and", "or"], operand: _Rule) -> Node:
        node = operand()
        while self.at("keyword", op):
            op_token = self.advance()
            right = operand()
            node = BoolOp(
                op=op, left=node, right=right, start=node.start, end=right.end,
                op_start=op_token.start,
            )  # fmt: skip
        return node

    def not_expr(self) -> Node:
        if self.at("keyword", "not"):
            token = self.advance()
            self.enter(token.start)
            operand = self.not_expr()
            self.depth -= 1
            return UnaryOp(op="not", operand=operand, start=token.start, end=operand.end)
        return self.comparison()

    def comparison(self) -> Node:
        left = self.sum()
        if not (self.at("op") and self.token.text in _COMPARISON_OPS):
            return left
        op_token = self.advance()
        right = self.sum()
        if self.at("op") and self.token.text in _COMPARISON_OPS:
            raise self.error(
                "comparisons cannot be chained",
                self.token.start,
                hint="write 'a < b and b < c'",
            )
        op: ComparisonOp = op_token.text  # type: ignore[assignment]
        return Compare(
            op=op, left=left, right=right, start=left.start, end=right.end,
            op_start=op_token.start,
        )  # fmt: skip

    def sum(self) -> Node:
        return self.binary_arith(("+", "-"), self.product)

    def product(self) -> Node:
        return self.binary_arith(("*", "/"), self.unary)

    def binary_arith(self, ops: tuple[str, str], operand: _Rule) -> Node:
        node = operand()
        while self.at("op", *ops):
            op_token = self.advance()
            right = operand()
            op: ArithmeticOp = op_token.text  # type: ignore[assignment]
            node = BinaryOp(
                op=op, left=node, right=right, start=node.start, end=right.end,
                op_start=op_token.start,
            )  # fmt: skip
        return node

    def unary(self) -> Node:
        if self.at("op", "-"):
            token = self.advance()
            self.enter(token.start)
            operand = self.unary()
            self.depth -= 1
            return UnaryOp(op="-", operand=operand, start=token.start, end=operand.end)
        return self.primary()

    def primary(self) -> Node:
        token = self.token
        if token.kind == "number":
            self.advance()
            value, percent = cast("tuple[Fraction, bool]", token.value)
            return Number(value=value, percent=percent, start=token.start, end=token.end)
        if token.kind == "string":
            self.advance()
            return String(value=str(token.value), start=token.start, end=token.end)
        if token.kind == "keyword" and token.text in ("true", "false"):
            self.advance()
            return Boolean(value=token.text == "true", start=token.start, end=token.end)
        if token.kind == "keyword" and token.text == "null":
            self.advance()
            return Null(start=token.start, end=token.end)
        if token.kind == "name":
            self.advance()
            if self.at("op", "("):
                return self.call(token)
            if token.text == "if":
                raise self.error(
                    "'if' is a function", token.start, hint="write if(condition, then, otherwise)"
                )
            return Name(id=token.text, start=token.start, end=token.end)
        if self.at("op", "("):
            self.advance()
            node = self.expression()
            if not self.at("op", ")"):
                raise self.unexpected("')'")
            close = self.advance()
            # The span covers the parentheses, so traces and messages quote them.
            return attrs.evolve(node, start=token.start, end=close.end)
        if token.kind == "keyword" and token.text == "not":
            raise self.error("unexpected 'not'", token.start, hint="put 'not ...' in parentheses")
        raise self.unexpected("a value, a name or '('")

    def call(self, name: _Token) -> Node:
        func = name.text
        if func not in self.functions:
            raise _unknown_function(func, self.functions, self.source, name.start)
        self.advance()
        args: list[Node] = []
        if not self.at("op", ")"):
            args.append(self.expression())
            while self.at("op", ","):
                self.advance()
                args.append(self.expression())
            if not self.at("op", ")"):
                raise self.unexpected("',' or ')'")
        close = self.advance()
        arity = self.functions[func]
        if arity is not None:
            check_arity(func, arity, len(args), self.source, name.start)
        return Call(func=func, args=tuple(args), start=name.start, end=close.end)


def _unknown_function(
    func: str, functions: Mapping[str, object], source: str, offset: int
) -> UnknownNameError:
    known = sorted(functions)
    suggestions = tuple(difflib.get_close_matches(func, known, n=3))
    hint = f" (did you mean {' or '.join(repr(s) for s in suggestions)}?)" if suggestions else ""
    return UnknownNameError(
        f"unknown function '{func}' at column {offset + 1}{hint}; known functions: "
        + ", ".join(known),
        name=func,
        suggestions=suggestions,
        source=source,
        offset=offset,
    )


def check_arity(func: str, arity: Arity, count: int, source: str, offset: int) -> None:
    """Raise ExpressionSyntaxError when ``count`` arguments do not fit ``arity``."""
    low, high = arity
    if low <= count and (high is None or count <= high):
        return
    if high is None:
        wanted = f"at least {low}"
    elif low == high:
        wanted = f"exactly {low}"
    else:
        wanted = f"{low} to {high}"
    noun = "argument" if low == 1 and high in (1, None) else "arguments"
    raise ExpressionSyntaxError(
        f"{func}() takes {wanted} {noun}, got {count} at column {offset + 1}",
        source=source,
        offset=offset,
    )


def parse_node(source: str, functions: Mapping[str, Arity | None]) -> Node:
    """Parse ``source`` into an AST, checking calls against ``functions``.

    Args:
        source: the expression text (at most ``MAX_LENGTH`` characters).
        functions: the callable names, each with its arity or None when unknown.

    Raises:
        ExpressionSyntaxError: the text is not in the grammar or exceeds a limit.
        UnknownNameError: a call names a function not in ``functions``.
    """
    if len(source) > MAX_LENGTH:
        raise ExpressionSyntaxError(
            f"expression is too long ({len(source)} characters; the limit is {MAX_LENGTH})",
            source=source,
            offset=MAX_LENGTH,
        )
    tokens = _Tokenizer(source).run()
    node = _Parser(source, tokens, functions).parse()
    _check_depth(node, source)
    return node


def _check_depth(root: Node, source: str) -> None:
    stack: list[tuple[Node, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ExpressionSyntaxError(
                f"expression is nested too deeply (limit {MAX_DEPTH} levels of operators, "
                f"parentheses and calls) at column {node.start + 1}",
                source=source,
                offset=node.start,
            )
        if isinstance(node, UnaryOp):
            stack.append((node.operand, depth + 1))
        elif isinstance(node, BinaryOp | Compare | BoolOp):
            stack.extend(((node.left, depth + 1), (node.right, depth + 1)))
        elif isinstance(node, Call):
            stack.extend((arg, depth + 1) for arg in node.args)
