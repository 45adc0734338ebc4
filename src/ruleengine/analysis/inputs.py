"""Symbolic decision input: a z3 constant per input field, the constraints the
input schema puts on it, and the way back from a z3 model to a JSON input.

Variables are named by their JSON path, so two versions with the same input
schema share them. Input lists are cut at `LIST_BOUND` items (documented in
docs/analysis.md): a result that depends on it says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

import z3

from ..typesys import BOOL, DATE, DECIMAL, INT, STRING, ListT, OptT, Prim, RecordT, Type
from .program import CheckedVersion, InputField
from .values import FALSE, TRUE, GList, Opt, Rec, Term, Unsupported, Val

LIST_BOUND = 3
DATE_MIN, DATE_MAX = date.min.toordinal(), date.max.toordinal()
# Witnesses are looked for among readable values first (2020-2035, short ASCII names).
NICE_DATES = (date(2020, 1, 1).toordinal(), date(2035, 12, 31).toordinal())
NICE_TEXT = z3.Plus(z3.Range("a", "z"))


@dataclass
class SymbolicInput:
    """The input of one decision as symbolic values, and how to read a model back."""

    values: dict[str, Val] = field(default_factory=dict)
    constraints: list[Term] = field(default_factory=list)
    nice: list[Term] = field(default_factory=list)  # preferences for readable witnesses
    readers: dict[str, Any] = field(default_factory=dict)
    bounded: bool = False  # the decision reads an input list (cut at list_bound items)
    list_bound: int = LIST_BOUND
    free_strings: set[str] = field(default_factory=set)  # strings with no enum or table

    def to_json(self, model: z3.ModelRef) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, reader in self.readers.items():
            value = reader(model)
            if value is not _ABSENT:
                out[name] = value
        return out


_ABSENT = object()


def pattern_regex(pattern: str) -> Any | None:
    """A z3 regex for the simple patterns rule files use ([A-Z]{2}, ab|cd, x+), or None."""
    tokens = re.findall(r"\[[^\]]*\]|\{\d+(?:,\d*)?\}|\\.|[+*?|()]|.", pattern)
    parts: list[Any] = []
    alternatives: list[Any] = []
    for tok in tokens:
        if tok.startswith("[") and not tok.startswith("[^"):
            ranges = re.findall(r"(.)-(.)|(.)", tok[1:-1])
            pieces = [z3.Range(a, b) if a else z3.Re(c) for a, b, c in ranges]
            parts.append(pieces[0] if len(pieces) == 1 else z3.Union(*pieces))
        elif tok.startswith("{") and parts:
            low, _, high = tok[1:-1].partition(",")
            top = int(high) if high else (int(low) if "," not in tok else None)
            if top is None:
                parts[-1] = z3.Concat(z3.Loop(parts[-1], int(low), int(low)), z3.Star(parts[-1]))
            else:
                parts[-1] = z3.Loop(parts[-1], int(low), top)
        elif tok in ("+", "*", "?") and parts:
            parts[-1] = {"+": z3.Plus, "*": z3.Star, "?": z3.Option}[tok](parts[-1])
        elif tok == "|":
            alternatives.append(_concat(parts))
            parts = []
        elif tok in ("(", ")", ".") or tok.startswith("[^") or tok in ("^", "$"):
            return None
        else:
            parts.append(z3.Re(tok[-1]))
    alternatives.append(_concat(parts))
    return alternatives[0] if len(alternatives) == 1 else z3.Union(*alternatives)


def _concat(parts: list[Any]) -> Any:
    if not parts:
        return z3.Re("")
    return parts[0] if len(parts) == 1 else z3.Concat(*parts)


class InputBuilder:
    def __init__(self, checked: CheckedVersion, into: SymbolicInput):
        self.checked = checked
        self.into = into

    def fields(
        self, fields: tuple[InputField, ...], path: str
    ) -> tuple[dict[str, Val], dict[str, Any]]:
        values: dict[str, Val] = {}
        readers: dict[str, Any] = {}
        for f in fields:
            name = f.spec.name
            if name in ("as_of", "locale"):
                continue
            sub = f"{path}.{name}" if path else name
            values[name], readers[name] = self.field(f, sub)
        return values, readers

    def field(self, f: InputField, path: str) -> tuple[Val, Any]:
        t = f.type
        if isinstance(t, OptT):
            flag = z3.Bool(f"{path}?")
            value, read = self.typed(t.inner, f, path)
            return Opt(
                flag, value
            ), lambda m: read(m) if z3.is_true(m.eval(flag, True)) else _ABSENT
        return self.typed(t, f, path)

    def typed(self, t: Type, f: InputField | None, path: str) -> tuple[Val, Any]:
        if isinstance(t, OptT):
            flag = z3.Bool(f"{path}?")
            value, read = self.typed(t.inner, f, path)
            return Opt(flag, value), lambda m: read(m) if z3.is_true(m.eval(flag, True)) else None
        if isinstance(t, RecordT):
            schema = self.checked.records.get(t.name or "")
            if schema is None:
                raise Unsupported(f"an input record of anonymous type at {path}")
            values, readers = self.fields(schema.fields, path)
            return Rec(values), lambda m: {
                k: r(m) for k, r in readers.items() if r(m) is not _ABSENT
            }
        if isinstance(t, ListT):
            return self.list_of(t, f, path)
        if isinstance(t, Prim):
            return self.scalar(t, f, path)
        raise Unsupported(f"an input of type {t} at {path}")

    def list_of(self, t: ListT, f: InputField | None, path: str) -> tuple[Val, Any]:
        n = z3.Int(f"{path}#len")
        self.into.bounded = True
        low = f.spec.min_length if f is not None and f.spec.min_length is not None else 0
        high = f.spec.max_length if f is not None and f.spec.max_length is not None else None
        self.into.constraints += [n >= low, n <= self.into.list_bound]
        if high is not None:
            self.into.constraints.append(n <= high)
        items = []
        readers = []
        for i in range(self.into.list_bound):
            value, read_item = self.typed(t.elem, None, f"{path}[{i}]")
            items.append((n > i, value))
            readers.append(read_item)

        def read_list(m: z3.ModelRef) -> list[Any]:
            count = m.eval(n, True).as_long()
            return [r(m) for r in readers[:count]]

        return GList(tuple(items), False, True), read_list

    def scalar(self, t: Prim, f: InputField | None, path: str) -> tuple[Val, Any]:
        c = self.into.constraints
        spec = f.spec if f is not None else None
        if t.name == INT.name or t.name == DECIMAL.name:
            v = z3.Int(path) if t == INT else z3.Real(path)
            if spec is not None and spec.minimum is not None:
                c.append(v >= _num(spec.minimum, t))
            if spec is not None and spec.maximum is not None:
                c.append(v <= _num(spec.maximum, t))
            if t == DECIMAL:
                self.into.nice.append(z3.IsInt(v * 100))
                return v, lambda m: _decimal(m.eval(v, True))
            self.into.nice += [v <= 1000, v >= -1000]
            return v, lambda m: m.eval(v, True).as_long()
        if t == BOOL:
            v = z3.Bool(path)
            return v, lambda m: z3.is_true(m.eval(v, True))
        if t == DATE:
            v = z3.Int(path)
            c += [v >= DATE_MIN, v <= DATE_MAX]
            self.into.nice += [v >= NICE_DATES[0], v <= NICE_DATES[1]]
            return v, lambda m: date.fromordinal(m.eval(v, True).as_long()).isoformat()
        if t.name == STRING.name:
            return self.string(t, f, path)
        raise Unsupported(f"an input of type {t} at {path}")

    def string(self, t: Prim, f: InputField | None, path: str) -> tuple[Val, Any]:
        v = z3.String(path)
        c = self.into.constraints
        spec = f.spec if f is not None else None
        if t.enum is not None:
            c.append(z3.Or(*(v == e for e in sorted(t.enum))))
        elif f is not None and f.allowed is not None:
            c.append(
                z3.Or(*(v == str(a) for a in sorted(f.allowed, key=str))) if f.allowed else FALSE
            )
        else:
            self.into.free_strings.add(path)
            regex = pattern_regex(spec.pattern) if spec is not None and spec.pattern else None
            if regex is not None:
                c.append(z3.InRe(v, regex))
            elif spec is not None and spec.pattern:
                self.into.nice.append(z3.InRe(v, NICE_TEXT))
            else:
                self.into.nice.append(z3.InRe(v, NICE_TEXT))
        if spec is not None and spec.min_length is not None:
            c.append(z3.Length(v) >= spec.min_length)
        if spec is not None and spec.max_length is not None:
            c.append(z3.Length(v) <= spec.max_length)
        self.into.nice.append(z3.Length(v) <= 12)
        return v, lambda m: m.eval(v, True).as_string()


def _num(value: Any, t: Prim) -> Term:
    return z3.IntVal(value) if t == INT else z3.RealVal(Fraction(value))


def _decimal(term: Term) -> Decimal:
    frac = Fraction(term.numerator_as_long(), term.denominator_as_long())
    if frac.denominator == 1:
        return Decimal(f"{frac.numerator}.0")  # reads back as a decimal, not an int
    return Decimal(frac.numerator) / Decimal(frac.denominator)


def symbolic_input(
    checked: CheckedVersion, fields: tuple[InputField, ...], into: SymbolicInput
) -> None:
    """Add the decision's inputs (and as_of, locale) to `into`."""
    builder = InputBuilder(checked, into)
    values, readers = builder.fields(fields, "")
    into.values.update(values)
    into.readers.update(readers)
    as_of = z3.Int("as_of")
    locale = z3.String("locale")
    locales = checked.model.manifest.locales
    into.values.update({"as_of": as_of, "locale": locale})
    into.constraints += [
        as_of >= DATE_MIN,
        as_of <= DATE_MAX,
        z3.Or(*(locale == x for x in locales)),
    ]
    into.nice += [as_of >= NICE_DATES[0], as_of <= NICE_DATES[1]]
    into.readers["as_of"] = lambda m: date.fromordinal(m.eval(as_of, True).as_long()).isoformat()
    into.readers["locale"] = lambda m: m.eval(locale, True).as_string()


__all__ = ["LIST_BOUND", "TRUE", "SymbolicInput", "symbolic_input"]
