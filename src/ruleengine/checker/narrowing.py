"""Narrowing: what a condition being true (or false) tells about expressions.

`x != null` makes `x` non-null in the `then` branch; `d > 0` makes `d`
non-zero (and non-null). Facts are keyed by the unparsed expression, so
`a.b` narrowed in a condition is narrowed wherever `a.b` is read again.
"""

from __future__ import annotations

from decimal import Decimal

from ..nodes import Binary, Expr, Literal, Unary, unparse

Narrowing = frozenset[tuple[str, str]]  # (unparsed expression, "nonnull" | "nonzero")
NO_NARROWING: Narrowing = frozenset()


def narrow(cond: Expr, truth: bool) -> Narrowing:
    """What a condition being `truth` tells about expressions (not null, not zero)."""
    match cond:
        case Unary(op="not", operand=operand):
            return narrow(operand, not truth)
        case Binary(op="and", left=left, right=right) if truth:
            return narrow(left, True) | narrow(right, True)
        case Binary(op="or", left=left, right=right) if not truth:
            return narrow(left, False) | narrow(right, False)
        case Binary(op=op, left=left, right=right) if op in ("==", "!=", "<", "<=", ">", ">="):
            facts: set[tuple[str, str]] = set()
            for side, other, flipped in ((left, right, False), (right, left, True)):
                if not isinstance(other, Literal) or isinstance(side, Literal):
                    continue
                value = other.value
                effective = _flip(op) if flipped else op
                if value is None:
                    if (effective == "!=" and truth) or (effective == "==" and not truth):
                        facts.add((unparse(side), "nonnull"))
                elif isinstance(value, (int, Decimal)) and not isinstance(value, bool):
                    if _excludes_zero(effective, value, truth):
                        facts.add((unparse(side), "nonzero"))
                        facts.add((unparse(side), "nonnull"))
                    elif effective not in ("==", "!=") or truth == (effective == "=="):
                        facts.add((unparse(side), "nonnull"))
            if op in ("<", "<=", ">", ">="):
                facts.add((unparse(left), "nonnull"))
                facts.add((unparse(right), "nonnull"))
            return frozenset(facts)
    return NO_NARROWING


def _flip(op: str) -> str:
    return {"<": ">", ">": "<", "<=": ">=", ">=": "<="}.get(op, op)


def _excludes_zero(op: str, value: int | Decimal, truth: bool) -> bool:
    """Whether `x op value` being `truth` rules out x == 0."""
    if not truth:
        op = {"==": "!=", "!=": "==", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}[op]
    return {
        "==": value != 0,
        "!=": value == 0,
        ">": value >= 0,
        ">=": value > 0,
        "<": value <= 0,
        "<=": value < 0,
    }[op]
