"""Phase 3, parse: expression text -> AST (frozen nodes whose spans equality ignores)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ruleengine.errors import RuleFileError
from ruleengine.model import ExprSource
from ruleengine.nodes import (
    Binary,
    Call,
    Expr,
    IfElse,
    Index,
    ListLit,
    Literal,
    Macro,
    MapLit,
    Member,
    RecordLit,
    SetLit,
    Span,
    Unary,
    Var,
    unparse,
    walk,
)
from ruleengine.parse import parse_expression, parse_type

from ..conftest import examples


def p(text: str) -> Expr:
    return parse_expression(ExprSource.from_text(text))


def err(text: str) -> tuple[str, int, int, str, str | None]:
    with pytest.raises(RuleFileError) as caught:
        p(text)
    [d] = caught.value.diagnostics
    return d.code, d.line, d.column, d.message, d.hint


def V(name: str) -> Var:
    return Var(name)


def L(value: object) -> Literal:
    return Literal(value)  # type: ignore[arg-type]


def B(op: str, left: Expr, right: Expr) -> Binary:
    return Binary(op, left, right)


# --- shapes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("42", L(42)),
        ("-7", L(-7)),
        ("755.00", L(Decimal("755.00"))),
        ('"a \\"b\\""', L('a "b"')),
        ("'single'", L("single")),
        ("true", L(True)),
        ("false", L(False)),
        ("null", L(None)),
        ('date("2026-02-28")', L(date(2026, 2, 28))),
        ("seats", V("seats")),
        ("-seats", Unary("-", V("seats"))),
        ("not ok", Unary("not", V("ok"))),
        ("a.b.c", Member(Member(V("a"), "b"), "c")),
        ("a?.b", Member(V("a"), "b", safe=True)),
        ("a?.b.c", Member(Member(V("a"), "b", safe=True), "c")),
        ("t[k]", Index(V("t"), (V("k"),))),
        ('rates[c, "std"]?.fee', Member(Index(V("rates"), (V("c"), L("std"))), "fee", safe=True)),
        ("f()", Call("f", ())),
        ("min(a, 1)", Call("min", (V("a"), L(1)))),
        ("x in xs", B("in", V("x"), V("xs"))),
        ("x not in xs", B("not in", V("x"), V("xs"))),
        ("a ?? 0", B("??", V("a"), L(0))),
        ("if a then 1 else 2", IfElse(V("a"), L(1), L(2))),
        ("[]", ListLit(())),
        ("[1, 2,]", ListLit((L(1), L(2)))),
        ("{1, 2}", SetLit((L(1), L(2)))),
        ("{}", RecordLit(())),
        ('{a: 1, "b c": x}', RecordLit((("a", L(1)), ("b c", V("x"))))),
        ('{[k]: 1, ["x"]: 2}', MapLit(((V("k"), L(1)), (L("x"), L(2))))),
    ],
)
def test_shapes(text: str, tree: Expr) -> None:
    assert p(text) == tree


@pytest.mark.parametrize("name", ["any", "all", "map", "filter", "first", "count", "sum"])
def test_macros_bind_a_variable(name: str) -> None:
    assert p(f"{name}(s in subs, s.seats > 1)") == Macro(
        name, "s", V("subs"), (B(">", Member(V("s"), "seats"), L(1)),)
    )


def test_to_map_has_two_bodies_and_sum_of_a_list_is_a_call() -> None:
    assert p("to_map(i in items, i.sku, i.qty)") == Macro(
        "to_map", "i", V("items"), (Member(V("i"), "sku"), Member(V("i"), "qty"))
    )
    assert p("sum(xs)") == Call("sum", (V("xs"),))
    # One argument: no variable bound; the checker reports the arity.
    assert p("any(x in xs)") == Call("any", (B("in", V("x"), V("xs")),))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a or b and c", "(a or (b and c))"),
        ("not a and b", "(not a and b)"),
        ("not a == b", "not (a == b)"),
        ("a == b or c != d", "((a == b) or (c != d))"),
        ("a + b * c", "(a + (b * c))"),
        ("a - b - c", "((a - b) - c)"),
        ("a / b % c", "((a / b) % c)"),
        ("-a * b", "(-a * b)"),
        ("a ?? b + c", "(a ?? (b + c))"),
        ("a + b ?? c", "((a + b) ?? c)"),
        ("a ?? b == c", "((a ?? b) == c)"),
        ("a ?? b ?? c", "((a ?? b) ?? c)"),
        ("x in a + b", "(x in (a + b))"),
        ("x not in xs and y", "((x not in xs) and y)"),
        ("if a then b else c or d", "(if a then b else (c or d))"),
        ("if a then b else if c then d else e", "(if a then b else (if c then d else e))"),
        ("(a + b) * c", "((a + b) * c)"),
        ("-a.b[0]", "-a.b[0]"),
        ("a < b and b <= c", "((a < b) and (b <= c))"),
    ],
)
def test_precedence(text: str, expected: str) -> None:
    assert unparse(p(text)) == expected


def test_unparse_round_trips() -> None:
    for text in [
        'if a?.b != null then {x: [1, 2.50], y: date("2026-01-01")} else {}',
        '{[k]: -1, ["s"]: 2}',
        'any(s in subs, s.plan in {"a", "b"} and not s.trial)',
        "t[a, b]?.fee ?? -x",
    ]:
        tree = p(text)
        assert p(unparse(tree)) == tree


# --- positions ---------------------------------------------------------------------


def test_spans_cover_each_node() -> None:
    text = "a.b + f(x, 2) * -c"
    tree = p(text)
    assert isinstance(tree, Binary)
    assert tree.span == Span(0, len(text))
    spans = {unparse(n): text[n.span.start : n.span.end] for n in walk(tree)}
    assert spans["a.b"] == "a.b"
    assert spans["a"] == "a"
    assert spans["f(x, 2)"] == "f(x, 2)"
    assert spans["(f(x, 2) * -c)"] == "f(x, 2) * -c"
    assert spans["-c"] == "-c"


def test_equality_ignores_spans() -> None:
    assert p("a+1") == p("  a  +  1 ")
    assert p("a+1").span != p("  a  +  1 ").span  # type: ignore[union-attr]


def test_error_positions_map_into_the_file() -> None:
    source = ExprSource.from_text("a and\n  b = c", "r.yaml", line=10, column=9)
    with pytest.raises(RuleFileError) as caught:
        parse_expression(source)
    [d] = caught.value.diagnostics
    assert (d.file, d.line, d.column, d.code, d.hint) == (
        "r.yaml",
        11,
        5,
        "expr_syntax",
        "compare with `==`",
    )


# --- syntax errors -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a = b", ("expr_syntax", 1, 3, "unexpected character '='", "compare with `==`")),
        ("a && b", ("expr_syntax", 1, 3, "unexpected character '&'", "write `and` / `or`")),
        (
            "a ! b",
            (
                "expr_syntax",
                1,
                3,
                "unexpected character '!'",
                "write `not` for negation, `!=` for inequality",
            ),
        ),
        (
            '"open',
            (
                "expr_syntax",
                1,
                1,
                "unexpected character '\"'",
                "strings end on the same line with a matching quote",
            ),
        ),
        (
            "0 < x < 10",
            (
                "expr_syntax",
                1,
                7,
                "unexpected '<'; expected `)`, `,`, `??`, `]`, `and`, `else`, ...",
                "comparisons do not chain; combine them with `and`",
            ),
        ),
        (
            "a == b == c",
            (
                "expr_syntax",
                1,
                8,
                "unexpected '=='; expected `)`, `,`, `??`, `]`, `and`, `else`, ...",
                "comparisons do not chain; combine them with `and`",
            ),
        ),
        (
            "a in b in c",
            (
                "expr_syntax",
                1,
                8,
                "unexpected 'in'; expected `)`, `,`, `??`, `]`, `and`, `else`, ...",
                "comparisons do not chain; combine them with `and`",
            ),
        ),
        ("(a", ("expr_syntax", 1, 3, "unexpected end of expression; expected `)`", None)),
        (
            "if a then b",
            ("expr_syntax", 1, 12, "unexpected end of expression; expected `else`", None),
        ),
        (
            "a + then",
            ("expr_syntax", 1, 5, "`then` is a keyword and cannot be used as a name", None),
        ),
        (
            "f(a, else)",
            ("expr_syntax", 1, 6, "`else` is a keyword and cannot be used as a name", None),
        ),
        ("", ("expr_syntax", 1, 1, "empty expression", None)),
        ("   ", ("expr_syntax", 1, 1, "empty expression", None)),
        (
            'date("2026-02-30")',
            (
                "bad_date",
                1,
                6,
                "invalid date '2026-02-30'",
                'write dates as date("YYYY-MM-DD"), e.g. date("2026-12-01")',
            ),
        ),
        (
            'date("2026-1-1")',
            (
                "bad_date",
                1,
                6,
                "invalid date '2026-1-1'",
                'write dates as date("YYYY-MM-DD"), e.g. date("2026-12-01")',
            ),
        ),
        (
            "date(day)",
            (
                "expr_syntax",
                1,
                1,
                'date() takes one literal string such as "2026-12-01"',
                "to work with a date fact, use it directly: it is already a date",
            ),
        ),
        (
            "any(s, s > 1)",
            (
                "expr_syntax",
                1,
                5,
                "any() starts with `name in list`, then the expression over each item",
                "for example any(s in subscriptions, s.seats > 1)",
            ),
        ),
        (
            "{a: 1, [b]: 2}",
            (
                "expr_syntax",
                1,
                1,
                "a literal mixes record fields (name: value) and map entries ([key]: value)",
                None,
            ),
        ),
        ("{a: 1, a: 2}", ("expr_syntax", 1, 8, "field 'a' appears twice in this record", None)),
    ],
)
def test_syntax_errors(text: str, expected: tuple[object, ...]) -> None:
    assert err(text) == expected


def test_unexpected_token_lists_what_fits() -> None:
    code, _line, column, message, _hint = err("a b")
    assert (code, column) == ("expr_syntax", 3)
    assert message.startswith("unexpected 'b'; expected ")
    # Lark's internal terminal names never reach the user.
    for text in ("a b", "0 < x < 1", "a +", "f(,)", "{a: }", "x ?? ", "[1 2]"):
        message = err(text)[3]
        assert "__" not in message and "ANON" not in message, message


def test_limits_on_size_and_nesting() -> None:
    assert err("(" * 65 + "1" + ")" * 65)[3] == "expression nested deeper than 64 brackets"
    assert p("(" * 64 + "1" + ")" * 64) == L(1)
    assert err("1" + " + 1" * 6000)[3] == "expression longer than 20000 characters"


def test_types() -> None:
    def t(text: str) -> object:
        return parse_type(ExprSource.from_text(text))

    assert t("int") == ("int", (), False)
    assert t("decimal?") == ("decimal", (), True)
    assert t("list<Item>") == ("list", (("Item", (), False),), False)
    assert t("map<string, list<int?>>?") == (
        "map",
        (("string", (), False), ("list", (("int", (), True),), False)),
        True,
    )
    with pytest.raises(RuleFileError) as caught:
        t("list<int")
    [d] = caught.value.diagnostics
    assert (d.code, d.column) == ("bad_type", 9)
    assert d.message.startswith("invalid type: unexpected end of expression")


# --- property: any text gives an AST or a positioned error --------------------------

TOKENS = [
    *"()[]{},.:?+-*/%<>=!\"'",
    "?.", "??", "==", "!=", "<=", ">=", " ", "\n", "\t",
    "and", "or", "not", "in", "if", "then", "else", "true", "false", "null",
    "a", "b", "x1", "_y", "date", "any", "map", "to_map", "sum",
    "0", "7", "42", "1.5", "0.10", '"s"', "'t'", '"2026-01-01"', '"bad',
]  # fmt: skip


def _parse_or_positioned_error(text: str) -> None:
    try:
        tree = p(text)
    except RuleFileError as exc:
        assert exc.diagnostics
        for d in exc.diagnostics:
            assert d.line >= 1 and d.column >= 1, d
            assert d.code in ("expr_syntax", "bad_date", "number_syntax")
        return
    for node in walk(tree):
        assert 0 <= node.span.start <= node.span.end <= len(text)


@settings(max_examples=examples(500), deadline=None)
@given(st.text(max_size=60))
def test_any_text_parses_or_fails_with_a_position(text: str) -> None:
    _parse_or_positioned_error(text)


@settings(max_examples=examples(700), deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=25).map(" ".join))
def test_token_soup_parses_or_fails_with_a_position(text: str) -> None:
    _parse_or_positioned_error(text)


@settings(max_examples=examples(300), deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=25).map("".join))
def test_glued_tokens_parse_or_fail_with_a_position(text: str) -> None:
    _parse_or_positioned_error(text)
