"""The fast validators: straight-line checks, no error collection.

`vf_in_<decision>(x)` returns (input, locale) for plainly valid input, else `_FAIL`;
`decision_record` is also inlined into `p_<decision>` (see `decisions`). They are
conservative: when one returns `_FAIL`, the collecting validator (the authority)
runs and lists every problem. Both read the constraints from `FieldRule`s.

They also vouch for the runtime budget (runtime/budget.py): a decision whose cost
bound limits its input size gets a length check on every text, list and map the
schema does not already bound below the limit, so an input the fast check passes
never holds a value over the limit, and the engine measures sizes only on the slow
path (where an over-long value is refused as `decision_budget_exceeded` before the
collecting validator runs, as it always was).
"""

from __future__ import annotations

from dataclasses import replace

from ..checker import CheckedDecision
from ..constraints import FieldRule, field_rules
from ..runtime.budget import max_input_size
from ..runtime.inputs import (
    DATE_TEXT_LENGTH,
    DECIMAL_TEXT_LENGTH,
    MAX_DECIMAL_DIGITS,
    MAX_INT,
    MAX_INT_DECIMAL,
    PatternMemo,
)
from .emit import EXPENSIVE, NAME, Code, ident, lit
from .unit import CompileUnit, origin

RESERVED = ("as_of", "locale")  # inputs every decision takes, checked apart


class FastPath:
    """Writes fast checks into a unit's module."""

    def __init__(self, m: CompileUnit):
        self.m = m
        self.checked = m.checked
        # The input size limit of the decision being written (None: any size will do).
        self.limit: int | None = None

    def capped(self, var: str, bound: int | None) -> str:
        """`len(var) <= limit and ` when a value of at most `bound` items or characters
        (None: unbounded) may be over the decision's size limit, else nothing."""
        if self.limit is None or (bound is not None and bound <= self.limit):
            return ""
        return f"len({var}) <= {self.limit} and "

    def fail_over(self, var: str, bound: int | None, indent: int) -> None:
        """Return _FAIL when `var` (a list or dict of at most `bound` items) is over the limit."""
        if self.capped(var, bound):
            self.fail_unless(f"len({var}) > {self.limit}", indent)

    def bound(self, value: object) -> str:
        """An int bound as a literal, any other (a Decimal) as a constant."""
        return lit(value) if type(value) is int else self.m.constant(value)

    def fast_scalar(self, rule: FieldRule, var: str) -> tuple[str, str] | None:
        """(condition, converted value) for a scalar `var`, or None if it is not a scalar."""
        m = self.m
        if rule.kind == "int":
            lo = -MAX_INT if rule.minimum is None else rule.minimum
            hi = MAX_INT if rule.maximum is None else rule.maximum
            cond = f"type({var}) is int and {self.bound(lo)} <= {var} <= {self.bound(hi)}"
            if rule.in_table:
                cond += f" and {var} in {m.constant(rule.allowed)}"
            return cond, var
        if rule.kind == "decimal":
            # Decimals, ints, and decimal strings (the wire format of money) all stay fast.
            cond = (
                f"((type({var}) is _Decimal and {var}.is_finite() and {var}.adjusted() < {MAX_DECIMAL_DIGITS})"
                f" or (type({var}) is int and {-MAX_INT_DECIMAL} < {var} < {MAX_INT_DECIMAL})"
                f" or (type({var}) is str and {self.capped(var, DECIMAL_TEXT_LENGTH)}"
                f"({var} := _to_decimal({var})) is not None))"
            )
            for op, limit in ((">=", rule.minimum), ("<=", rule.maximum)):
                if limit is not None:
                    cond += f" and {var} {op} {self.bound(limit)}"
            if rule.in_table:
                cond += f" and {var} in {m.constant(rule.allowed)}"
            return cond, f"(_Decimal({var}) if type({var}) is int else {var})"
        if rule.kind == "bool":
            return f"{var} is True or {var} is False", var
        if rule.kind == "date":
            # A date text seen before is a dict lookup away; else to_date parses it. Text
            # first: it is what JSON sends (a text that is no date leaves None, no date).
            return (
                f"(type({var}) is str and {self.capped(var, DATE_TEXT_LENGTH)}"
                f"({var} := _DATES.get({var}) or _to_date({var})) is not None)"
                f" or type({var}) is _date",
                var,
            )
        if rule.kind == "string":
            return self.fast_string(rule, var), var
        return None

    def fast_string(self, rule: FieldRule, var: str) -> str:
        m = self.m
        parts = [f"type({var}) is str"]
        if rule.enum:
            parts.append(f"{var} in {m.constant(frozenset(rule.enum))}")
        # The length bounds (the schema's, and the decision's size limit when the schema
        # allows more) as one chained test, before the pattern: no regex on a huge text.
        highs = [rule.max_length] if rule.max_length is not None else []
        if self.limit is not None and self.capped(var, string_bound(rule)):
            highs.append(self.limit)
        low = rule.min_length or 0
        if highs:
            below = "0 < " if low == 1 else f"{lit(low)} <= " if low else ""
            parts.append(f"{below}len({var}) <= {lit(min(highs))}")
        elif low == 1:
            parts.append(var)  # non-empty: truthiness is cheaper than len()
        elif low:
            parts.append(f"len({var}) >= {lit(low)}")
        if rule.pattern is not None:
            memo = PatternMemo(rule.pattern)
            seen, check = m.constant(memo.matched), m.constant(memo)
            parts.append(f"({var} in {seen} or {check}.check({var}))")
        if rule.in_table:
            parts.append(f"{var} in {m.constant(rule.allowed)}")
        return " and ".join(parts)

    def fail_unless_all(self, tests: list[str], indent: int) -> None:
        """Return _FAIL unless every test holds; empties `tests`."""
        if tests:
            joined = " and ".join(tests) if len(tests) > 1 else tests[0]
            self.fail_unless(f"not ({joined})", indent)
            tests.clear()

    def fail_unless(self, cond: str, indent: int) -> None:
        self.m.emit(f"if {cond}:", indent)
        self.m.emit("return _FAIL", indent + 1)

    def scalar_test(self, rule: FieldRule, var: str) -> tuple[str, Code] | None:
        """(the test a plainly valid scalar passes, the code of its converted value), or
        None if `var` is not a scalar."""
        scalar = self.fast_scalar(rule, var)
        if scalar is None:
            return None
        cond, converted = scalar
        test = f"{var} is None or ({cond})" if rule.optional else cond
        return test, Code(converted, cost=NAME if converted == var else EXPENSIVE)

    def fast_value(self, rule: FieldRule, var: str, indent: int) -> Code:
        """Emit statements that check `var` (returning _FAIL if it is not plainly valid);
        return the code of its converted value (for a record, with its fields' code)."""
        m = self.m
        scalar = self.scalar_test(rule, var)
        if scalar is not None:
            test, value = scalar
            self.fail_unless(f"not ({test})", indent)
            return value
        if rule.optional:
            result = m.fresh("_t")
            m.emit(f"if {var} is None:", indent)
            m.emit(f"{result} = None", indent + 1)
            m.emit("else:", indent)
            value = self.fast_value(_required(rule), var, indent + 1)
            m.emit(f"{result} = {value.text}", indent + 1)
            return Code(result, cost=NAME)
        if rule.kind == "record" and rule.record is not None:
            fields = field_rules(self.checked.records[rule.record].fields)
            return self.fast_record(fields, var, indent)
        if rule.kind in ("list", "set") and rule.item is not None:
            items, item = m.fresh("_t"), m.fresh("_t")
            self.fail_unless(f"type({var}) is not list", indent)
            if rule.min_length is not None:
                self.fail_unless(f"len({var}) < {lit(rule.min_length)}", indent)
            if rule.max_length is not None:
                self.fail_unless(f"len({var}) > {lit(rule.max_length)}", indent)
            self.fail_over(var, rule.max_length, indent)
            m.emit(f"{items} = []", indent)
            m.emit(f"for {item} in {var}:", indent)
            value = self.fast_value(rule.item, item, indent + 1)
            m.emit(f"{items}.append({value.text})", indent + 1)
            return Code(items, cost=NAME) if rule.kind == "list" else Code(f"_frozenset({items})")
        if rule.kind == "map" and rule.string_keys and rule.item is not None:
            items, key, item = m.fresh("_t"), m.fresh("_t"), m.fresh("_t")
            self.fail_unless(f"type({var}) is not dict", indent)
            self.fail_over(var, None, indent)
            m.emit(f"{items} = {{}}", indent)
            m.emit(f"for {key}, {item} in {var}.items():", indent)
            self.fail_unless(f"type({key}) is not str", indent + 1)
            value = self.fast_value(rule.item, item, indent + 1)
            m.emit(f"{items}[{key}] = {value.text}", indent + 1)
            return Code(items, cost=NAME)
        m.emit("return _FAIL", indent)  # other maps: the collecting validator handles them
        return Code("None", cost=NAME)

    def fast_record(
        self,
        fields: tuple[FieldRule, ...],
        var: str,
        indent: int,
        extra_known: tuple[str, ...] = (),
    ) -> Code:
        """Emit checks of a record held in `var`; return the code of its dict, with the
        code of each field's value (`Code.fields`)."""
        m = self.m
        required = [f for f in fields if not f.optional]
        optional_names = [f.name for f in fields if f.optional] + list(extra_known)
        self.fail_unless(f"type({var}) is not dict", indent)
        names = {f.name: m.fresh("_t") for f in fields}
        if required:
            m.emit("try:", indent)
            for f in required:
                m.emit(f"{names[f.name]} = {var}[{lit(f.name)}]", indent + 1)
            m.emit("except KeyError:", indent)
            m.emit("return _FAIL", indent + 1)
        # Every key is known: the required ones plus whichever optional ones are there.
        count = " + ".join([str(len(required)), *(f"({lit(n)} in {var})" for n in optional_names)])
        self.fail_unless(f"len({var}) != {count}", indent)
        self.fail_over(var, len(fields) + len(extra_known), indent)
        values: dict[str, Code] = {}
        # Scalar fields in a row are tested by one `if` (and-ed in field order).
        tests: list[str] = []
        for f in fields:
            assert f.name is not None
            local = names[f.name]
            if f.optional:
                m.emit(f"{local} = {var}.get({lit(f.name)})", indent)
            scalar = self.scalar_test(f, local)
            if scalar is not None:
                tests.append(f"({scalar[0]})")
                values[f.name] = scalar[1]
                continue
            self.fail_unless_all(tests, indent)
            values[f.name] = self.fast_value(f, local, indent)
        self.fail_unless_all(tests, indent)
        display = "{" + ", ".join(f"{lit(k)}: {v.text}" for k, v in values.items()) + "}"
        return Code(display, fields=values)

    def decision_record(self, decision: CheckedDecision, var: str, indent: int) -> Code:
        """Emit checks of a decision's whole input held in `var` (see `fast_record`), with
        the decision's input size limit."""
        self.limit = max_input_size(
            self.checked.costs.get(decision.name, ()), self.checked.limits.max_steps
        )
        try:
            code = self.fast_record(decision_rules(decision), var, indent, extra_known=RESERVED)
            # The reserved inputs are checked apart (as_of by the engine, the locale
            # after this); here only their length, when the limit is that small.
            longest_locale = max(map(len, self.checked.model.manifest.locales))
            for name, bound in (("as_of", DATE_TEXT_LENGTH), ("locale", longest_locale)):
                if self.capped("_r", bound):
                    self.m.emit(f"_r = {var}.get({lit(name)})", indent)
                    self.fail_unless(f"type(_r) is str and len(_r) > {self.limit}", indent)
            return code
        finally:
            self.limit = None

    def input_fast(self, decision: CheckedDecision) -> None:
        m = self.m
        locales = self.checked.model.manifest.locales
        m.mark(origin(f"decision {decision.name} input", decision.definition.location), 0)
        m.emit(f"def {ident('vf_in_', decision.name)}(x):")
        result = self.decision_record(decision, "x", 1).text
        m.emit("loc = x.get('locale')", 1)
        m.emit("if loc is None:", 1)
        m.emit(f"return {result}, {lit(locales[0])}", 2)
        m.emit(f"if type(loc) is str and loc in {m.constant(frozenset(locales))}:", 1)
        m.emit(f"return {result}, loc", 2)
        m.emit("return _FAIL", 1)
        m.emit("")
        m.mark(None, 0)


def decision_rules(decision: CheckedDecision) -> tuple[FieldRule, ...]:
    """The rules of a decision's declared inputs (the reserved ones apart)."""
    return field_rules(tuple(f for f in decision.inputs if f.spec.name not in RESERVED))


def string_bound(rule: FieldRule) -> int | None:
    """The most characters a text the rule accepts can have (None: no bound known)."""
    bounds = []
    if rule.max_length is not None:
        bounds.append(rule.max_length)
    if rule.enum:
        bounds.append(max(len(v) for v in rule.enum))
    if rule.in_table and rule.allowed is not None and all(type(v) is str for v in rule.allowed):
        bounds.append(max((len(v) for v in rule.allowed), default=0))
    return min(bounds, default=None)


def _required(rule: FieldRule) -> FieldRule:
    return replace(rule, optional=False)
