"""Input field patterns, restricted to a subset Python's `re` runs in bounded time.

`re` backtracks: `(a+)+` against 25 `a`s and a `b` takes seconds, and doubles with each
two more characters. Rather than a second regex engine, `check` accepts only patterns
whose matching cannot blow up (issue 12):

- at most `MAX_PATTERN_LENGTH` characters, groups nested at most `MAX_NESTING` deep
  (deeper ones crash `re`'s recursive parser);
- repetition counts (`{m,n}`) at most `MAX_REPEAT`;
- no quantifier over something that itself repeats or branches (`(a+)+`, `(a*)*`,
  `(a|aa)+`): the nested choices are what makes backtracking exponential;
- no back-references (`\\1`, `(?P=x)`): matching them is NP-hard in general.

`pattern_problem(text)` returns why a pattern is refused, or None.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from re import _constants as _c  # the parser is private; its tree is stable in 3.11+
from re import _parser as _p
from typing import Any

from ruleengine.errors import Code

MAX_PATTERN_LENGTH = 1000
MAX_NESTING = 20
MAX_REPEAT = 1000

_REPEATS = {_c.MAX_REPEAT, _c.MIN_REPEAT, getattr(_c, "POSSESSIVE_REPEAT", None)}
_BRANCHING = {_c.BRANCH}
_BACKREFS = {_c.GROUPREF, _c.GROUPREF_EXISTS}


@dataclass(frozen=True, slots=True)
class PatternProblem:
    """Why a pattern is refused: `bad_pattern` (not a regex) or `unsafe_pattern`."""

    code: Code
    message: str


def _depth(text: str) -> int:
    depth = deepest = 0
    escaped = in_class = False
    for ch in text:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif ch == ")":
            depth -= 1
    return deepest


def _children(op: Any, av: Any) -> list[Any]:
    """The sub-patterns of one parsed node."""
    if op in _REPEATS:
        return [av[2]]
    if op == _c.SUBPATTERN:
        return [av[-1]]
    if op == _c.BRANCH:
        return list(av[1])
    if op in (_c.ASSERT, _c.ASSERT_NOT):
        return [av[1]]
    if op == getattr(_c, "ATOMIC_GROUP", None):
        return [av]
    if op == _c.GROUPREF_EXISTS:
        return [x for x in av[1:] if x is not None]
    return []


def _varies(tree: Any) -> bool:
    """Whether a sub-pattern can match in more than one way (repeats or branches)."""
    for op, av in tree:
        if op in _REPEATS and av[1] != av[0]:
            return True
        if op in _BRANCHING:
            return True
        if any(_varies(child) for child in _children(op, av)):
            return True
    return False


def _unsafe(tree: Any) -> str | None:
    for op, av in tree:
        if op in _BACKREFS:
            return "a back-reference (matching them can take exponential time)"
        if op in _REPEATS:
            low, high, body = av
            bound = low if high == _c.MAXREPEAT else high
            if bound > MAX_REPEAT:
                return f"a repetition count of {bound} (at most {MAX_REPEAT})"
            if high != low and high > 1 and _varies(body):
                return (
                    "a quantifier over a group that itself repeats or branches "
                    "(like (a+)+: matching can take exponential time)"
                )
        for child in _children(op, av):
            found = _unsafe(child)
            if found:
                return found
    return None


def pattern_problem(text: str) -> PatternProblem | None:
    """Why `text` cannot be an input field's pattern, or None when it can."""
    depth = _depth(text)
    if depth > MAX_NESTING:
        return PatternProblem(
            Code.UNSAFE_PATTERN, f"groups nested {depth} deep (at most {MAX_NESTING})"
        )
    if len(text) > MAX_PATTERN_LENGTH:
        return PatternProblem(
            Code.UNSAFE_PATTERN,
            f"the pattern has {len(text)} characters (at most {MAX_PATTERN_LENGTH})",
        )
    try:
        tree = _p.parse(text)
        re.compile(text)
    except re.error as exc:
        return PatternProblem(Code.BAD_PATTERN, f"invalid regular expression: {exc}")
    except (OverflowError, RecursionError) as exc:
        return PatternProblem(Code.UNSAFE_PATTERN, f"the pattern cannot be compiled: {exc}")
    reason = _unsafe(tree)
    if reason:
        return PatternProblem(Code.UNSAFE_PATTERN, f"unsafe pattern: {reason}")
    return None
