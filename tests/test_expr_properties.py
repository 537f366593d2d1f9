"""Properties of the pack expression language, checked with hypothesis."""

from __future__ import annotations

import keyword
import operator
from collections.abc import Callable, Collection, Mapping
from datetime import date
from fractions import Fraction

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from vbp_rules._expr_parser import decimal_text, iter_nodes, unparse
from vbp_rules.errors import ExpressionError
from vbp_rules.expr import (
    KEYWORDS,
    MAX_DEPTH,
    BinaryOp,
    Boolean,
    BoolOp,
    Call,
    Compare,
    Expression,
    FunctionSpec,
    Name,
    Node,
    NotApplicable,
    Null,
    Number,
    String,
    UnaryOp,
    parse,
)

COMPARISONS: dict[str, Callable[[Fraction, Fraction], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
ARITHMETIC: dict[str, Callable[[Fraction, Fraction], Fraction]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
}
CALLABLE_NAMES = ("f", "g")


def _first_or_null(*args: object) -> object:
    return args[0] if args else None


TEST_FUNCTIONS = {
    name: FunctionSpec(name=name, min_args=0, max_args=None, impl=_first_or_null)
    for name in CALLABLE_NAMES
}

# ------------------------------------------------------------------ strategies

names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,7}", fullmatch=True).filter(
    lambda s: s not in KEYWORDS and not keyword.iskeyword(s) and not s.startswith("__")
)
terminating = st.builds(
    lambda n, k: Fraction(n, 10**k),
    st.integers(min_value=0, max_value=10**12),
    st.integers(min_value=0, max_value=6),
)
number_nodes = st.builds(
    lambda value, percent: Number(value=value / 100 if percent else value, percent=percent),
    terminating,
    st.booleans(),
)
string_nodes = st.builds(
    String,
    value=st.text(st.characters(blacklist_characters="\\"), max_size=8).filter(
        lambda s: not ("'" in s and '"' in s)
    ),
)
leaves: st.SearchStrategy[Node] = st.one_of(
    number_nodes,
    string_nodes,
    st.builds(Boolean, value=st.booleans()),
    st.just(Null()),
    st.builds(Name, id=names),
)


def _extend(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    return st.one_of(
        st.builds(UnaryOp, op=st.sampled_from(["-", "not"]), operand=children),
        st.builds(BinaryOp, op=st.sampled_from("+-*/"), left=children, right=children),
        st.builds(Compare, op=st.sampled_from(sorted(COMPARISONS)), left=children, right=children),
        st.builds(BoolOp, op=st.sampled_from(["and", "or"]), left=children, right=children),
        st.builds(
            Call,
            func=st.sampled_from(CALLABLE_NAMES),
            args=st.lists(children, max_size=3).map(tuple),
        ),
    )


ast_nodes = st.recursive(leaves, _extend, max_leaves=24)

values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-5, max_value=5),
    st.fractions(max_denominator=7),
    st.sampled_from(["a", "b"]),
    st.dates(min_value=date(2024, 1, 1), max_value=date(2024, 1, 3)),
)

# Text that is close to the grammar, so that random inputs get deep into the parser.
_PIECES = [*"ab_x19.%％( )'\"+-*/<>=!,\n", "and ", "or ", "not ", "null", "f("]
near_grammar = st.lists(st.sampled_from(_PIECES), max_size=30).map("".join)


def _parse_or_error(
    text: str, *, functions: Collection[str] | Mapping[str, FunctionSpec] | None = None
) -> Expression | ExpressionError:
    try:
        return parse(text, functions=functions)
    except ExpressionError as exc:
        return exc


def _depth(node: Node) -> int:
    depth = {id(node): 1}
    for current in iter_nodes(node):
        for child in _children(current):
            depth[id(child)] = depth[id(current)] + 1
    return max(depth.values())


def _children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, UnaryOp):
        return (node.operand,)
    if isinstance(node, BinaryOp | Compare | BoolOp):
        return (node.left, node.right)
    if isinstance(node, Call):
        return node.args
    return ()


# ------------------------------------------------------------------- exactness


@given(st.fractions(), st.fractions(), st.sampled_from(sorted(COMPARISONS)))
def test_comparisons_agree_with_exact_fractions(a: Fraction, b: Fraction, op: str) -> None:
    result = parse(f"a {op} b").evaluate({"a": a, "b": b})
    assert result is COMPARISONS[op](a, b)


@given(st.fractions(), st.fractions(), st.sampled_from(sorted(ARITHMETIC)))
def test_arithmetic_agrees_with_exact_fractions(a: Fraction, b: Fraction, op: str) -> None:
    expression = parse(f"a {op} b")
    if op == "/" and b == 0:
        with pytest.raises(NotApplicable, match="division by zero"):
            expression.evaluate({"a": a, "b": b})
        return
    result = expression.evaluate({"a": a, "b": b})
    assert result == ARITHMETIC[op](a, b)
    assert type(result) in (int, Fraction)


@given(terminating, st.booleans())
def test_decimal_and_percent_literals_are_exact(value: Fraction, percent: bool) -> None:
    text = decimal_text(value)
    assert text is not None
    source = f"{text}%" if percent else text
    assert parse(source).evaluate({}) == (value / 100 if percent else value)


# ----------------------------------------------------------------- round trip


@given(ast_nodes)
def test_unparse_then_parse_gives_an_equal_ast(node: Node) -> None:
    assume(_depth(node) <= MAX_DEPTH)

    source = unparse(node)
    reparsed = parse(source, functions=CALLABLE_NAMES)
    assert reparsed.node == node
    assert reparsed.unparse() == source


@settings(deadline=None)
@given(near_grammar)
def test_parsed_text_round_trips(text: str) -> None:
    parsed = _parse_or_error(text, functions=CALLABLE_NAMES)
    if isinstance(parsed, ExpressionError):
        return
    assert parse(parsed.unparse(), functions=CALLABLE_NAMES).node == parsed.node


# ------------------------------------------------------------------ robustness


@given(st.text())
def test_arbitrary_text_only_raises_expression_error(text: str) -> None:
    result = _parse_or_error(text)
    if isinstance(result, ExpressionError):
        assert result.offset is not None
        assert 0 <= result.offset <= len(text)
        assert result.source == text
    else:  # what parses keeps its text and prints back to an equal tree
        assert result.source == text
        assert parse(result.unparse()).node == result.node


@settings(deadline=None)
@given(near_grammar, st.dictionaries(st.sampled_from(["a", "b", "x", "ab"]), values))
def test_near_grammar_text_parses_or_fails_cleanly(text: str, env: dict[str, object]) -> None:
    parsed = _parse_or_error(text, functions=TEST_FUNCTIONS)
    if isinstance(parsed, ExpressionError):
        assert parsed.offset is not None
        return
    assert parse(parsed.unparse(), functions=TEST_FUNCTIONS).node == parsed.node
    try:
        value = parsed.evaluate(env)
    except (ExpressionError, NotApplicable):
        return
    assert not isinstance(value, float)  # exact values only
    assert parsed.evaluate_traced(env)[0] == value


@settings(deadline=None)
@given(ast_nodes, st.data())
def test_evaluation_only_raises_expression_error_or_not_applicable(
    node: Node, data: st.DataObject
) -> None:
    assume(_depth(node) <= MAX_DEPTH)

    parsed = parse(unparse(node), functions=TEST_FUNCTIONS)
    env = {name: data.draw(values, label=name) for name in sorted(parsed.names)}
    try:
        value = parsed.evaluate(env)
    except (ExpressionError, NotApplicable):
        return
    assert not isinstance(value, float)
    traced_value, trace = parsed.evaluate_traced(env)
    assert traced_value == value
    if not isinstance(parsed.node, Number | String | Boolean | Null):
        assert trace[-1] == (parsed.source, value)


# ---------------------------------------------------------------- Kleene logic

truth = st.sampled_from([True, False, None])
_RANK = {False: 0, None: 1, True: 2}
_BY_RANK = {rank: value for value, rank in _RANK.items()}


def _reference(node: Node, env: dict[str, bool | None]) -> bool | None:
    """Kleene logic as min/max/reversal over false < null < true."""
    if isinstance(node, Name):
        return env[node.id]
    if isinstance(node, UnaryOp):
        return _BY_RANK[2 - _RANK[_reference(node.operand, env)]]
    assert isinstance(node, BoolOp)
    left, right = _RANK[_reference(node.left, env)], _RANK[_reference(node.right, env)]
    return _BY_RANK[min(left, right) if node.op == "and" else max(left, right)]


logic_trees = st.recursive(
    st.builds(Name, id=st.sampled_from(["p", "q", "r"])),
    lambda children: st.one_of(
        st.builds(UnaryOp, op=st.just("not"), operand=children),
        st.builds(BoolOp, op=st.sampled_from(["and", "or"]), left=children, right=children),
    ),
    max_leaves=12,
)


@given(logic_trees, truth, truth, truth)
def test_kleene_logic_agrees_with_reference(
    node: Node, p: bool | None, q: bool | None, r: bool | None
) -> None:
    assume(_depth(node) <= MAX_DEPTH)

    env = {"p": p, "q": q, "r": r}
    assert parse(unparse(node)).evaluate(env) is _reference(node, env)
