"""The fixed standard library: every function with its typing rule and its code.

A function's `typer` gets the argument types and returns the result type or
an error message; `emit` gets the arguments' Python source and returns the
call's. `docs/language.md` documents each entry (a test keeps them in step).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .typesys import (
    DATE,
    DECIMAL,
    INT,
    NEVER,
    STRING,
    ListT,
    MapT,
    OptT,
    SetT,
    TableT,
    Type,
    is_numeric,
    is_optional,
    unify,
)

Typer = Callable[[Sequence[Type]], "Type | str"]
Emitter = Callable[[Sequence[str], Sequence[Type]], str]


@dataclass(frozen=True, slots=True)
class Builtin:
    name: str
    min_args: int
    max_args: int | None
    signature: str
    summary: str
    example: str
    typer: Typer
    emit: Emitter
    reads: frozenset[str] = frozenset()  # generated names its code reads (`_message`)


def _need(t: Type, want: Type, what: str) -> str | None:
    if t in (want, NEVER) or (want == DECIMAL and t == INT):
        return None
    if is_optional(t):
        return f"{what} may be null; handle null first (`x ?? default` or `if x != null ...`)"
    return f"{what} must be {want}, got {t}"


def _min_max(name: str) -> Typer:
    def typer(args: Sequence[Type]) -> Type | str:
        if len(args) == 1:
            (arg,) = args
            if isinstance(arg, ListT) and (is_numeric(arg.elem) or arg.elem in (DATE, STRING)):
                return OptT(arg.elem)
            return f"{name}(list) takes a list of numbers, dates or strings, got {arg}"
        result: Type | None = args[0]
        for arg in args:
            if is_optional(arg):
                return f"{name}() arguments may not be null; handle null first"
            result = unify(result, arg) if result is not None else None
        if result is None or not (is_numeric(result) or result in (DATE, STRING)):
            return f"{name}() compares numbers, dates or strings of one kind, got {', '.join(map(str, args))}"
        return result

    return typer


def _emit_min_max(name: str) -> Emitter:
    def emit(args: Sequence[str], types: Sequence[Type]) -> str:
        if len(args) == 1:
            return f"_{name}_of({args[0]})"
        return f"_{name}({', '.join(args)})"

    return emit


def _len(args: Sequence[Type]) -> Type | str:
    (arg,) = args
    if isinstance(arg, (ListT, SetT, MapT, TableT)) or arg == STRING:
        return INT
    return f"len() takes a list, set, map, table or string, got {arg}"


def _emit_len(args: Sequence[str], types: Sequence[Type]) -> str:
    if isinstance(types[0], TableT):
        return f"_len({args[0]}[1])"
    return f"_len({args[0]})"


def _sum(args: Sequence[Type]) -> Type | str:
    (arg,) = args
    if isinstance(arg, ListT) and arg.elem in (INT, DECIMAL, NEVER):
        return INT if arg.elem in (INT, NEVER) else DECIMAL
    return f"sum() takes a list of numbers, got {arg}"


def _emit_sum(args: Sequence[str], types: Sequence[Type]) -> str:
    elem = types[0].elem if isinstance(types[0], ListT) else INT
    return f"_sum_decimal({args[0]})" if elem == DECIMAL else f"_sum_int({args[0]})"


def _list_of_any(name: str) -> Typer:
    def typer(args: Sequence[Type]) -> Type | str:
        (arg,) = args
        if isinstance(arg, ListT):
            return arg
        return f"{name}() takes a list, got {arg}"

    return typer


def _flatten(args: Sequence[Type]) -> Type | str:
    (arg,) = args
    if isinstance(arg, ListT) and isinstance(arg.elem, ListT):
        return arg.elem
    if isinstance(arg, ListT) and arg.elem == NEVER:
        return arg
    return f"flatten() takes a list of lists, got {arg}"


def _fixed(params: Sequence[tuple[str, Type]], result: Type, fname: str) -> Typer:
    def typer(args: Sequence[Type]) -> Type | str:
        for (pname, want), got in zip(params, args, strict=True):
            problem = _need(got, want, f"argument `{pname}` of {fname}()")
            if problem:
                return problem
        return result

    return typer


def _abs(args: Sequence[Type]) -> Type | str:
    (arg,) = args
    if is_numeric(arg):
        return arg
    return f"abs() takes a number, got {arg}"


def _sorted(args: Sequence[Type]) -> Type | str:
    (arg,) = args
    if isinstance(arg, (ListT, SetT)) and (
        is_numeric(arg.elem) or arg.elem in (DATE, STRING, NEVER)
    ):
        return ListT(arg.elem)
    return f"sorted() takes a list or set of numbers, dates or strings, got {arg}"


def _keys(args: Sequence[Type]) -> Type | str:
    (arg,) = args
    if isinstance(arg, MapT):
        return ListT(arg.key)
    return f"keys() takes a map, got {arg}"


def _values(args: Sequence[Type]) -> Type | str:
    (arg,) = args
    if isinstance(arg, MapT):
        return ListT(arg.value)
    return f"values() takes a map, got {arg}"


def _string_fn(name: str) -> Typer:
    return _fixed([("text", STRING)], STRING, name)


def _call(py: str) -> Emitter:
    return lambda args, types: f"{py}({', '.join(args)})"


BUILTINS: dict[str, Builtin] = {
    b.name: b
    for b in [
        Builtin(
            "min",
            1,
            None,
            "min(a, b, ...) / min(list)",
            "Smallest of its arguments, or of a list (null for an empty list).",
            "min(days(as_of, renewal_date), period_days)",
            _min_max("min"),
            _emit_min_max("min"),
        ),
        Builtin(
            "max",
            1,
            None,
            "max(a, b, ...) / max(list)",
            "Largest of its arguments, or of a list (null for an empty list).",
            "max(map(s in subscriptions, s.renewal_date))",
            _min_max("max"),
            _emit_min_max("max"),
        ),
        Builtin(
            "len",
            1,
            1,
            "len(x) -> int",
            "Number of items of a list, set, map or table, or characters of a string.",
            "len(subscriptions) >= 2",
            _len,
            _emit_len,
        ),
        Builtin(
            "sum",
            1,
            1,
            "sum(list<int|decimal>) -> int|decimal",
            "Sum of a list of numbers (0 for an empty list).",
            "sum(map(l in lines, l.amount))",
            _sum,
            _emit_sum,
        ),
        Builtin(
            "distinct",
            1,
            1,
            "distinct(list<T>) -> list<T>",
            "The list without repeats, in order of first appearance.",
            "len(distinct(map(s in subscriptions, s.term))) > 1",
            _list_of_any("distinct"),
            _call("_distinct"),
        ),
        Builtin(
            "flatten",
            1,
            1,
            "flatten(list<list<T>>) -> list<T>",
            "Concatenate a list of lists.",
            "flatten(map(s in subscriptions, member_reasons(s)))",
            _flatten,
            _call("_flatten"),
        ),
        Builtin(
            "sorted",
            1,
            1,
            "sorted(list<T>|set<T>) -> list<T>",
            "Items in ascending order.",
            'sorted({"b", "a"}) == ["a", "b"]',
            _sorted,
            _call("_sorted"),
        ),
        Builtin(
            "days",
            2,
            2,
            "days(from: date, to: date) -> int",
            "Days from `from` to `to` (negative if `to` is earlier).",
            'days(date("2026-01-01"), date("2026-02-01")) == 31',
            _fixed([("from", DATE), ("to", DATE)], INT, "days"),
            _call("_days"),
        ),
        Builtin(
            "add_months",
            2,
            2,
            "add_months(d: date, n: int) -> date",
            "Add n calendar months, clamping to the month's last day (2024-01-31 + 1 = 2024-02-29).",
            "add_months(renewal_date, -12)",
            _fixed([("d", DATE), ("n", INT)], DATE, "add_months"),
            _call("_add_months"),
        ),
        Builtin(
            "add_days",
            2,
            2,
            "add_days(d: date, n: int) -> date",
            "Add n days (n may be negative).",
            "add_days(as_of, 30)",
            _fixed([("d", DATE), ("n", INT)], DATE, "add_days"),
            _call("_add_days"),
        ),
        Builtin(
            "round_money",
            2,
            2,
            "round_money(x: decimal, digits: int) -> decimal",
            "Round half up to `digits` fractional digits (the currency's minor units, from a table).",
            "round_money(unit * remaining_days / period_days, minor_units[currency] ?? 2)",
            _fixed([("x", DECIMAL), ("digits", INT)], DECIMAL, "round_money"),
            _call("_round_money"),
        ),
        Builtin(
            "abs",
            1,
            1,
            "abs(x) -> int|decimal",
            "Absolute value.",
            "abs(days(a, b))",
            _abs,
            _call("_abs"),
        ),
        Builtin(
            "keys",
            1,
            1,
            "keys(map<K, V>) -> list<K>",
            "The keys of a map, in insertion order.",
            "keys(minor_units)",
            _keys,
            lambda a, t: f"_list({a[0]})",
        ),
        Builtin(
            "values",
            1,
            1,
            "values(map<K, V>) -> list<V>",
            "The values of a map, in insertion order.",
            "values(subscription_reasons)",
            _values,
            lambda a, t: f"_list({a[0]}.values())",
        ),
        Builtin(
            "lower",
            1,
            1,
            "lower(string) -> string",
            "Lower-case text.",
            'lower(code) == "usd"',
            _string_fn("lower"),
            lambda a, t: f"{a[0]}.lower()",
        ),
        Builtin(
            "upper",
            1,
            1,
            "upper(string) -> string",
            "Upper-case text.",
            "upper(country) in countries",
            _string_fn("upper"),
            lambda a, t: f"{a[0]}.upper()",
        ),
        Builtin(
            "message",
            1,
            1,
            "message(code: string) -> string",
            "The message of a reason code in the decision's locale (the code itself if it has none).",
            "map(c in reasons, message(c))",
            _fixed([("code", STRING)], STRING, "message"),
            lambda a, t: f"_message({a[0]})",
            reads=frozenset({"_message"}),
        ),
        Builtin(
            "remedy",
            1,
            1,
            "remedy(code: string) -> string?",
            "The remedy declared for a reason code, or null.",
            'any(c in reasons, remedy(c) == "contact_reseller")',
            _fixed([("code", STRING)], OptT(STRING), "remedy"),
            lambda a, t: f"_remedies.get({a[0]})",
        ),
    ]
}

# Functions that bind a variable over a list: name -> (number of body expressions, description).
MACROS: dict[str, tuple[int, str, str]] = {
    "any": (1, "any(x in xs, cond) -> bool", "True if cond holds for some item."),
    "all": (
        1,
        "all(x in xs, cond) -> bool",
        "True if cond holds for every item (true for an empty list).",
    ),
    "map": (1, "map(x in xs, expr) -> list", "The list of expr for each item."),
    "filter": (1, "filter(x in xs, cond) -> list", "The items for which cond holds, in order."),
    "first": (1, "first(x in xs, cond) -> T?", "The first item for which cond holds, or null."),
    "count": (1, "count(x in xs, cond) -> int", "How many items satisfy cond."),
    "sum": (1, "sum(x in xs, expr) -> int|decimal", "Sum of expr over the items."),
    "to_map": (
        2,
        "to_map(x in xs, key, value) -> map",
        "A map from key to value; the first item wins on repeated keys.",
    ),
}

RESERVED_NAMES = frozenset({"as_of", "locale", "date", *BUILTINS, *MACROS})
