"""The runtime budget backing the static cost bound (checker/cost.py; issue 12).

`check` bounds each decision's steps by a polynomial in `n`, the size of the largest
list or text of its input. Before a decision runs, the engine measures the request's
`n` and refuses, as input error `decision_budget_exceeded` (a 422 naming the path of the
largest value), an input whose size would take the decision over the step budget.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from ..errors import InputCode, InputError, InputProblem

if TYPE_CHECKING:
    from ..checker import CheckedVersion

Poly = tuple[int, ...]
MAX_STEPS = 100_000_000  # the same budget `check` allows (CostLimits.max_steps)
# Sizes no request can reach (the server's body limit is far below): not measured, so a
# decision linear in its input pays nothing on the hot path.
UNREACHABLE = 10_000_000


def cost_at(poly: Poly, n: int) -> int:
    """The cost polynomial's value at input size `n` (coefficients lowest degree first)."""
    total = 0
    for coefficient in reversed(poly):
        total = total * n + coefficient
    return total


@functools.lru_cache(maxsize=1024)
def max_input_size(cost: Poly, max_steps: int = MAX_STEPS) -> int | None:
    """The largest input size the decision may be given, or None when any size is fine."""
    if len(cost) <= 1:
        return None
    low, high = 0, 1
    while cost_at(cost, high) <= max_steps:
        low, high = high, high * 2
    while high - low > 1:  # the largest n with cost(n) <= max_steps lies in [low, high)
        mid = (low + high) // 2
        low, high = (mid, high) if cost_at(cost, mid) <= max_steps else (low, mid)
    return None if low >= UNREACHABLE else low


def largest_size(value: Any) -> int:
    """The length of the longest list, map or text in `value` (the n of a cost bound);
    `largest` also finds its path, for the error."""
    kind = type(value)
    if kind is not dict and kind is not list:
        return len(value) if kind is str else 0
    best = 0
    stack = [value]
    push = stack.append
    while stack:
        current = stack.pop()
        size = len(current)  # only dicts and lists are stacked
        if size > best:
            best = size
        for item in current.values() if type(current) is dict else current:
            kind = type(item)
            if kind is str:
                if len(item) > best:
                    best = len(item)
            elif kind is dict or kind is list:
                push(item)
    return best


def largest(value: Any, path: str = "input") -> tuple[int, str]:
    """The size of the longest list or text in `value`, and its JSON path."""
    best, where = 0, path
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        current, at = stack.pop()
        if isinstance(current, str | list | dict) and len(current) > best:
            best, where = len(current), at
        if isinstance(current, dict):
            stack.extend((v, f"{at}.{k}") for k, v in current.items())
        elif isinstance(current, list):
            stack.extend((v, f"{at}[{i}]") for i, v in enumerate(current))
    return best, where


def exceeds(value: Any, limit: int) -> bool:
    """Whether `value` holds a list, map or text longer than `limit` (on the hot path of
    every polynomial decision: no paths built, stops at the first one found)."""
    stack = [value]
    while stack:
        current = stack.pop()
        kind = type(current)
        if kind is dict:
            if len(current) > limit:
                return True
            stack.extend(current.values())
        elif kind is list:
            if len(current) > limit:
                return True
            stack.extend(current)
        elif kind is str and len(current) > limit:
            return True
    return False


def check_budget(value: Any, limit: int, max_steps: int = MAX_STEPS) -> None:
    """Raise `decision_budget_exceeded` when `value` holds a list or text over `limit`."""
    if not exceeds(value, limit):
        return
    size, where = largest(value)
    if size > limit:
        raise InputError(
            [
                InputProblem(
                    InputCode.DECISION_BUDGET_EXCEEDED,
                    where,
                    f"this value has {size:,} items or characters; this decision's cost "
                    f"bound allows at most {limit:,} (the step budget is {max_steps:,})",
                )
            ]
        )


def check_input_size(checked: CheckedVersion, decision: str, value: Any) -> None:
    """Refuse `value` when a list or text in it takes `decision` over the step budget
    the version was checked with (`check --cost-limit`, `RULEENGINE_COST_LIMIT`)."""
    max_steps = checked.limits.max_steps
    limit = max_input_size(checked.costs.get(decision, ()), max_steps)
    if limit is not None:
        check_budget(value, limit, max_steps)
