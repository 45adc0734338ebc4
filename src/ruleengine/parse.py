"""Phase 3, parse: expression text -> AST (`nodes`), with positions.

The grammar lives in `grammar.lark` (LALR, built once). One Builder
method per grammar rule builds the frozen nodes; lark's trees and errors
never leave this module: syntax errors become positioned `RuleFileError`s.

Public entry: `parse_expression(source)`; `parse_type` reads type texts.
"""

from __future__ import annotations

import ast as python_ast
import re
from datetime import date
from decimal import Decimal
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, cast

from lark import Lark, Token, Tree
from lark.exceptions import (
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
)
from lark.lexer import PatternStr
from lark.tree import Meta

from .errors import Code, Diagnostic, RuleFileError
from .model import ExprSource
from .nodes import (
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
)
from .numbers import MAX_INT_DIGITS, NUMBER_TOKEN, number_fix, number_hint
from .stdlib import MACROS

# Expressions longer than this are refused: rule expressions are short, and
# the bound keeps every later phase's cost bounded too.
MAX_EXPRESSION_LENGTH = 20_000
MAX_NESTING = 64

KEYWORDS = frozenset({"and", "or", "not", "in", "if", "then", "else", "true", "false", "null"})

# How regex terminals are named in "expected ..." messages; literal terminals
# (keywords, punctuation, `??`) are shown as written, in backticks.
_TOKEN_NAMES = {
    "NAME": "a name",
    "INT": "a number",
    "DECIMAL": "a number",
    "STRING": "a string",
    "COMPARE": "a comparison",
    "ADD_OP": "`+` or `-`",
    "MUL_OP": "`*`, `/` or `%`",
    "$END": "the end of the expression",
}


@cache
def _parser() -> Lark:
    grammar = (Path(__file__).parent / "grammar.lark").read_text("utf-8")
    return Lark(
        grammar,
        parser="lalr",
        start=["expr", "type"],
        propagate_positions=True,
        maybe_placeholders=False,
    )


class _Problem(Exception):
    """A syntax problem found while building the AST, at an offset."""

    def __init__(
        self,
        message: str,
        start: int,
        end: int,
        hint: str | None = None,
        code: Code = Code.EXPR_SYNTAX,
    ):
        super().__init__(message)
        self.code = code
        self.message = message
        self.start = start
        self.end = end
        self.hint = hint


def _span(meta: Meta) -> Span:
    return Span(getattr(meta, "start_pos", 0), getattr(meta, "end_pos", 0))


def _tok_span(token: Token) -> Span:
    return Span(token.start_pos or 0, token.end_pos or 0)


def _string_value(token: Token) -> str:
    text = str(token)
    if "\\" not in text:
        return text[1:-1]  # no escapes: the text between the quotes
    try:
        value = python_ast.literal_eval(str(token))
    except (ValueError, SyntaxError) as exc:
        raise _Problem(
            f"invalid string literal: {exc}", token.start_pos or 0, token.end_pos or 0
        ) from None
    if not isinstance(value, str):  # pragma: no cover - the token regex only admits quotes
        raise _Problem("invalid string literal", token.start_pos or 0, token.end_pos or 0)
    return value


def _not_keyword(token: Token) -> None:
    # The contextual lexer reads a keyword as NAME where no keyword fits (`a + then`).
    if str(token) in KEYWORDS:
        raise _Problem(
            f"`{token}` is a keyword and cannot be used as a name",
            token.start_pos or 0,
            token.end_pos or 0,
        )


class _Builder:
    """Builds the AST from a tree of the expression's *template* (see `_template`), one
    method per grammar rule, called with the rule's meta and its built children;
    literal values are read from the original text, at the same offsets."""

    def __init__(self, text: str):
        self.text = text

    def _literal(self, token: Token) -> Token:
        start, end = token.start_pos or 0, token.end_pos or 0
        return Token(token.type, self.text[start:end], start_pos=start, end_pos=end)

    def int_lit(self, meta: Meta, token: Token) -> Literal:
        text = self._literal(token)
        if len(text.lstrip("-")) > MAX_INT_DIGITS:
            raise _Problem(
                f"an int of {len(text.lstrip('-')):,} digits (ints have at most "
                f"{MAX_INT_DIGITS:,})",
                token.start_pos or 0,
                token.end_pos or 0,
                code=Code.NUMBER_TOO_LARGE,
            )
        return Literal(int(text), span=_span(meta))

    def dec_lit(self, meta: Meta, token: Token) -> Literal:
        return Literal(Decimal(str(self._literal(token))), span=_span(meta))

    def str_lit(self, meta: Meta, token: Token) -> Literal:
        return Literal(_string_value(self._literal(token)), span=_span(meta))

    def true_lit(self, meta: Meta) -> Literal:
        return Literal(True, span=_span(meta))

    def false_lit(self, meta: Meta) -> Literal:
        return Literal(False, span=_span(meta))

    def null_lit(self, meta: Meta) -> Literal:
        return Literal(None, span=_span(meta))

    def var(self, meta: Meta, token: Token) -> Var:
        _not_keyword(token)
        return Var(str(token), span=_span(meta))

    def member(self, meta: Meta, obj: Expr, name: Token) -> Member:
        return Member(obj, str(name), span=_span(meta))

    def safe_member(self, meta: Meta, obj: Expr, name: Token) -> Member:
        return Member(obj, str(name), safe=True, span=_span(meta))

    def index(self, meta: Meta, obj: Expr, *keys: Expr) -> Index:
        return Index(obj, keys, span=_span(meta))

    def call(self, meta: Meta, name: Token, *args: Expr) -> Expr:
        _not_keyword(name)
        span = _span(meta)
        if str(name) == "date":
            # date("YYYY-MM-DD") is a literal: validated here, once.
            if len(args) == 1 and isinstance(args[0], Literal) and isinstance(args[0].value, str):
                text = args[0].value
                try:
                    if len(text) != 10:
                        raise ValueError
                    value = date.fromisoformat(text)
                except ValueError:
                    raise _Problem(
                        f"invalid date {text!r}",
                        args[0].span.start,
                        args[0].span.end,
                        'write dates as date("YYYY-MM-DD"), e.g. date("2026-12-01")',
                        code=Code.BAD_DATE,
                    ) from None
                return Literal(value, span=span)
            raise _Problem(
                'date() takes one literal string such as "2026-12-01"',
                span.start,
                span.end,
                "to work with a date fact, use it directly: it is already a date",
            )
        if str(name) in MACROS and len(args) >= 2:
            # any(x in xs, cond): the first argument binds a variable over a list.
            binding = args[0]
            if not (
                isinstance(binding, Binary) and binding.op == "in" and isinstance(binding.left, Var)
            ):
                raise _Problem(
                    f"{name}() starts with `name in list`, then the expression over each item",
                    binding.span.start,
                    binding.span.end,
                    f"for example {name}(s in subscriptions, s.seats > 1)",
                )
            return Macro(str(name), binding.left.name, binding.right, tuple(args[1:]), span=span)
        return Call(str(name), tuple(args), span=span)

    def neg(self, meta: Meta, operand: Expr) -> Expr:
        if isinstance(operand, Literal) and isinstance(operand.value, Decimal):
            # copy_negate is exact: `-` would round a decimal in the ambient context.
            return Literal(operand.value.copy_negate(), span=_span(meta))
        if isinstance(operand, Literal) and type(operand.value) is int:
            return Literal(-operand.value, span=_span(meta))
        return Unary("-", operand, span=_span(meta))

    def not_(self, meta: Meta, operand: Expr) -> Unary:
        return Unary("not", operand, span=_span(meta))

    def _binary(self, meta: Meta, op: str, left: Expr, right: Expr) -> Binary:
        return Binary(op, left, right, span=_span(meta))

    def arith(self, meta: Meta, left: Expr, op: Token, right: Expr) -> Binary:
        return self._binary(meta, str(op), left, right)

    def compare(self, meta: Meta, left: Expr, op: Token, right: Expr) -> Binary:
        return self._binary(meta, str(op), left, right)

    def in_(self, meta: Meta, left: Expr, right: Expr) -> Binary:
        return self._binary(meta, "in", left, right)

    def not_in(self, meta: Meta, left: Expr, right: Expr) -> Binary:
        return self._binary(meta, "not in", left, right)

    def and_(self, meta: Meta, left: Expr, right: Expr) -> Binary:
        return self._binary(meta, "and", left, right)

    def or_(self, meta: Meta, left: Expr, right: Expr) -> Binary:
        return self._binary(meta, "or", left, right)

    def coalesce(self, meta: Meta, left: Expr, right: Expr) -> Binary:
        return self._binary(meta, "??", left, right)

    def ifelse(self, meta: Meta, cond: Expr, then: Expr, otherwise: Expr) -> IfElse:
        return IfElse(cond, then, otherwise, span=_span(meta))

    def list_lit(self, meta: Meta, *items: Expr) -> ListLit:
        return ListLit(tuple(i for i in items if i is not None), span=_span(meta))

    def set_lit(self, meta: Meta, *items: Expr) -> SetLit:
        return SetLit(tuple(i for i in items if i is not None), span=_span(meta))

    def named_entry(self, meta: Meta, name: Token, value: Expr) -> tuple[str, str, Expr, Span]:
        return ("field", str(name), value, _tok_span(name))

    def quoted_entry(self, meta: Meta, name: Token, value: Expr) -> tuple[str, str, Expr, Span]:
        return ("field", _string_value(self._literal(name)), value, _tok_span(name))

    def computed_entry(self, meta: Meta, key: Expr, value: Expr) -> tuple[str, Expr, Expr, Span]:
        return ("entry", key, value, _span(meta))

    def record_lit(self, meta: Meta, *entries: Any) -> Expr:
        entries = tuple(e for e in entries if e is not None)
        kinds = {e[0] for e in entries}
        if kinds == {"field", "entry"}:
            raise _Problem(
                "a literal mixes record fields (name: value) and map entries ([key]: value)",
                _span(meta).start,
                _span(meta).end,
            )
        if kinds == {"entry"}:
            return MapLit(tuple((e[1], e[2]) for e in entries), span=_span(meta))
        seen: set[str] = set()
        for _, name, _value, span in entries:
            if name in seen:
                raise _Problem(f"field {name!r} appears twice in this record", span.start, span.end)
            seen.add(name)
        return RecordLit(tuple((e[1], e[2]) for e in entries), span=_span(meta))


@cache
def _literal_terminals() -> dict[str, str]:
    """Terminal name -> its literal text, for terminals that are plain strings (`IF`, `__ANON_0`)."""
    return {
        t.name: t.pattern.value for t in _parser().terminals if isinstance(t.pattern, PatternStr)
    }


def _token_name(terminal: str) -> str:
    if terminal in _TOKEN_NAMES:
        return _TOKEN_NAMES[terminal]
    literal = _literal_terminals().get(terminal)
    return f"`{literal}`" if literal is not None else terminal.lower()


def _build(builder: _Builder, node: Any) -> Any:
    """Apply the Builder bottom-up: one method per grammar rule, called with the rule's
    meta and built children (what lark's Transformer does, without its per-call
    wrapper objects, which cost more than the building on large rule sets)."""
    if isinstance(node, Tree):
        return getattr(builder, node.data)(node.meta, *[_build(builder, c) for c in node.children])
    return node


def _expected(tokens: set[str]) -> str:
    names = sorted({_token_name(t) for t in tokens})
    if len(names) > 6:
        names = [*names[:6], "..."]
    return ", ".join(names)


def _syntax_message(exc: UnexpectedInput, text: str) -> tuple[str, int, int, str | None]:
    if isinstance(exc, UnexpectedCharacters):
        # Optional on the base class, but lark's lexer always sets it to the lexer position here.
        pos = cast(int, exc.pos_in_stream)
        ch = text[pos] if pos < len(text) else ""
        hint = None
        if ch == "=":
            hint = "compare with `==`"
        elif ch == "&" or ch == "|":
            hint = "write `and` / `or`"
        elif ch == "!":
            hint = "write `not` for negation, `!=` for inequality"
        elif ch == '"' or ch == "'":
            hint = "strings end on the same line with a matching quote"
        return f"unexpected character {ch!r}", pos, pos + 1, hint
    if isinstance(exc, UnexpectedToken):
        token = exc.token
        start = token.start_pos if token.start_pos is not None else len(text)
        if token.type == "$END":
            return (
                f"unexpected end of expression; expected {_expected(exc.expected)}",
                len(text.rstrip()),
                len(text.rstrip()) + 1,
                None,
            )
        hint = None
        if token.type in ("COMPARE", "IN", "NOT") and "AND" in exc.expected:
            # A comparison follows a complete comparison: `0 < x < 10`, `a in b in c`.
            hint = "comparisons do not chain; combine them with `and`"
        elif str(token) in KEYWORDS and "NAME" in exc.expected:
            hint = f"`{token}` is a keyword and cannot be used as a name"
        return (
            f"unexpected {str(token)!r}; expected {_expected(exc.expected)}",
            start,
            (token.end_pos or start + 1),
            hint,
        )
    if isinstance(exc, UnexpectedEOF):  # pragma: no cover - LALR reports $END as a token
        return "unexpected end of expression", len(text), len(text) + 1, None
    return str(exc), 0, 1, None  # pragma: no cover


def _depth(text: str) -> int:
    depth = best = 0
    for ch in text:
        if ch in "([{":
            depth += 1
            best = max(best, depth)
        elif ch in ")]}":
            depth -= 1
    return best


# String and number literals; digits inside names (p1) are not numbers.
_LITERALS = re.compile(
    r""""(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|(?<![\w.])[0-9]+(?:\.[0-9]+)?(?![\w])"""
)
_DIGIT = re.compile(r"[0-9]")


def _mask(match: re.Match[str]) -> str:
    literal = match.group()
    if literal[0] in "\"'":
        return literal[0] + "_" * (len(literal) - 2) + literal[-1]
    return _DIGIT.sub("0", literal)


def _template(text: str) -> str:
    """The text with every literal masked, keeping its kind and length: rules that differ
    only in their literals (10,000 rules keyed on product codes) share one parse, and
    every offset in the template's tree is an offset in the text."""
    return _LITERALS.sub(_mask, text)


@lru_cache(maxsize=65_536)
def _parse_tree(template: str) -> Any:
    """lark's tree for a template. Cached: large rule sets repeat shapes, versions and
    reloads repeat texts; the Builder makes fresh nodes from a tree it never changes."""
    return _parser().parse(template, start="expr")


_STRING_OR_NUMBER = re.compile(r"\"(?:[^\"\\]|\\.)*\"?|'(?:[^'\\]|\\.)*'?|" + NUMBER_TOKEN.pattern)


def _numbers_not_written_one_way(source: ExprSource) -> list[Diagnostic]:
    """`number_syntax` for `.02`, `1_000`, `1e2`... (outside text literals), with the fix."""
    found = []
    for match in _STRING_OR_NUMBER.finditer(source.text):
        token = match.group()
        if token[0] in "\"'":
            continue
        fix = number_fix(token)
        if fix is not None:
            found.append(
                source.diagnostic(
                    Code.NUMBER_SYNTAX,
                    f"{token!r} is not written the way numbers are written here",
                    match.start(),
                    match.end(),
                    number_hint(token, fix),
                )
            )
    return found


def parse_expression(source: ExprSource) -> Expr:
    """Parse one expression; raise `RuleFileError` with a positioned `expr_syntax` error."""
    text = source.text
    if not text.strip():
        raise RuleFileError([source.diagnostic(Code.EXPR_SYNTAX, "empty expression", 0, 1)])
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise RuleFileError(
            [
                source.diagnostic(
                    Code.EXPR_SYNTAX,
                    f"expression longer than {MAX_EXPRESSION_LENGTH} characters",
                    0,
                )
            ]
        )
    badly_written = _numbers_not_written_one_way(source)
    if badly_written:
        raise RuleFileError(badly_written)
    if _depth(text) > MAX_NESTING:
        raise RuleFileError(
            [
                source.diagnostic(
                    Code.EXPR_SYNTAX,
                    f"expression nested deeper than {MAX_NESTING} brackets",
                    0,
                    hint="split it into helper bindings under `let`",
                )
            ]
        )
    try:
        try:
            tree = _parse_tree(_template(text))
        except UnexpectedInput:
            tree = _parser().parse(text, start="expr")  # the error, worded on the real text
        built: Expr = _build(_Builder(text), tree)
        return built
    except _Problem as problem:
        raise RuleFileError(
            [
                source.diagnostic(
                    problem.code, problem.message, problem.start, problem.end, problem.hint
                )
            ]
        ) from None
    except UnexpectedInput as exc:
        message, start, end, hint = _syntax_message(exc, text)
        raise RuleFileError(
            [source.diagnostic(Code.EXPR_SYNTAX, message, start, end, hint)]
        ) from None
    except RecursionError:
        raise RuleFileError(
            [source.diagnostic(Code.EXPR_SYNTAX, "expression nested too deeply", 0)]
        ) from None


# --- types -----------------------------------------------------------------

TypeSyntax = tuple[str, tuple["TypeSyntax", ...], bool]  # (name, arguments, optional)


def parse_type(source: ExprSource) -> TypeSyntax:
    """Parse a type text (`list<Subscription>?`) into (name, args, optional)."""
    try:
        tree = _parser().parse(source.text, start="type")
    except UnexpectedInput as exc:
        message, start, end, hint = _syntax_message(exc, source.text)
        raise RuleFileError(
            [
                source.diagnostic(
                    Code.BAD_TYPE,
                    f"invalid type: {message}",
                    start,
                    end,
                    hint or "types look like int, decimal?, list<Subscription>, map<string, int>",
                )
            ]
        ) from None

    def build(node: Any) -> TypeSyntax:
        kind = node.data
        name = str(node.children[0])
        args = tuple(build(c) for c in node.children[1:])
        return (name, args, kind.startswith("optional"))

    return build(tree)
