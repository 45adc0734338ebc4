"""The collecting validators: `vi_<decision>(x)` and `vr_<Record>(x, path, errs)`.

They run only when the fast check (`fastpath`) cannot vouch for an input, and are
the authority: they convert a valid input or raise `InputError` listing every
problem, each with its JSON path. Constraints come from `FieldRule`s; every
message and name is written with `lit()` and `ident()`.
"""

from __future__ import annotations

import re

from ..checker import CheckedDecision, RecordSchema
from ..constraints import FieldRule, field_rules
from ..errors import InputCode
from ..runtime.inputs import MAX_INT
from .emit import ident, lit
from .fastpath import RESERVED, decision_rules
from .unit import CompileUnit, origin

_DECIMAL_OK = "type({v}) is _Decimal and {v}.is_finite() and -_MAX_DEC < {v} < _MAX_DEC"


def problem(code: InputCode, path: str, message: str, expected: str | None, var: str | None) -> str:
    """Code appending an input problem to `errs` (`path` is code; the rest are texts)."""
    args = [lit(code.value), path, lit(message), lit(expected), *([var] if var is not None else [])]
    return f"errs.append(_problem({', '.join(args)}))"


class ValidatorWriter:
    """Writes the collecting validators into a unit's module."""

    def __init__(self, m: CompileUnit):
        self.m = m
        self.checked = m.checked

    def value_check(self, rule: FieldRule, var: str, path: str, out: str, indent: int) -> None:
        """Emit code that checks `var` against rule and assigns the converted value to `out`
        (a field's null is handled by `fields_check`; an optional item's here)."""
        m = self.m
        if rule.optional and rule.name is None:
            m.emit(f"if {var} is None:", indent)
            m.emit(f"{out} = None", indent + 1)
            m.emit("else:", indent)
            indent += 1
        if rule.kind in ("int", "decimal"):
            self.number_check(rule, var, path, out, indent)
        elif rule.kind == "string":
            self.string_check(rule, var, path, out, indent)
        elif rule.kind in ("list", "set", "map"):
            self.collection_check(rule, var, path, out, indent)
        elif rule.kind == "record":
            assert rule.record is not None
            m.emit(f"{out} = {ident('vr_', rule.record)}({var}, {path}, errs)", indent)
        elif rule.kind == "date":
            m.emit(f"_dt = {var} if type({var}) is _date else _to_date({var})", indent)
            m.emit("if _dt is not None:", indent)
            m.emit(f"{out} = _dt", indent + 1)
            m.emit("else:", indent)
            m.emit(
                problem(InputCode.TYPE, path, "expected a date (YYYY-MM-DD)", "date", var),
                indent + 1,
            )
        elif rule.kind == "bool":
            m.emit(f"if {var} is True or {var} is False:", indent)
            m.emit(f"{out} = {var}", indent + 1)
            m.emit("else:", indent)
            m.emit(self.bad_type(rule, var, path), indent + 1)
        else:  # pragma: no cover - the checker refuses other input types
            raise AssertionError(f"cannot validate {rule.kind}")

    def bad_type(self, rule: FieldRule, var: str, path: str) -> str:
        return problem(InputCode.TYPE, path, "expected " + rule.expected, rule.expected, var)

    def number_check(self, rule: FieldRule, var: str, path: str, out: str, indent: int) -> None:
        m = self.m
        # `num` is the value compared; a problem describes `var`, what the client sent
        # (the text "-1", not the number it converts to).
        num = var
        if rule.kind == "int":
            m.emit(f"if type({var}) is int and {-MAX_INT} <= {var} <= {MAX_INT}:", indent)
        else:
            # Fast path for the common case (a finite Decimal in range); else convert.
            num = "_d"
            m.emit(f"_d = {var} if {_DECIMAL_OK.format(v=var)} else _to_decimal({var})", indent)
            m.emit(f"if _d is not None and {_DECIMAL_OK.format(v=num)}:", indent)
        lo, hi = rule.minimum, rule.maximum
        if lo is not None:
            m.emit(f"if {num} < {m.constant(lo)}:", indent + 1)
            m.emit(
                problem(InputCode.MINIMUM, path, f"must be at least {lo}", f">= {lo}", var),
                indent + 2,
            )
        if hi is not None:
            m.emit(f"if {num} > {m.constant(hi)}:", indent + 1)
            m.emit(
                problem(InputCode.MAXIMUM, path, f"must be at most {hi}", f"<= {hi}", var),
                indent + 2,
            )
        if rule.in_table and rule.allowed is not None:
            listed = ", ".join(str(k) for k in sorted(rule.allowed))
            m.emit(f"if {num} not in {m.constant(rule.allowed)}:", indent + 1)
            message = f"is not in table {rule.table}"
            m.emit(
                problem(InputCode.NOT_IN_TABLE, path, message, f"one of: {listed}", var), indent + 2
            )
        m.emit(f"{out} = {num}", indent + 1)
        m.emit("else:", indent)
        if rule.kind == "int":
            message = f"'expected an integer' if type({var}) is not int else 'integer out of range'"
            m.emit(
                f"errs.append(_problem('type', {path}, {message}, 'integer', {var}))", indent + 1
            )
        else:
            message = "expected a decimal number (a JSON number or a decimal string; never a float)"
            m.emit(problem(InputCode.TYPE, path, message, "decimal", var), indent + 1)

    def string_check(self, rule: FieldRule, var: str, path: str, out: str, indent: int) -> None:
        m = self.m
        m.emit(f"if type({var}) is str:", indent)
        checks: list[
            tuple[str, InputCode, str, str]
        ] = []  # (failing test, code, message, expected)
        if rule.enum:
            expected = "one of: " + ", ".join(rule.enum)
            enum = m.constant(frozenset(rule.enum))
            checks.append((f"{var} not in {enum}", InputCode.ENUM, f"must be {expected}", expected))
        if rule.min_length is not None:
            n = rule.min_length
            message = "must not be empty" if n == 1 else f"must have at least {n} characters"
            checks.append(
                (
                    f"len({var}) < {lit(n)}",
                    InputCode.MIN_LENGTH,
                    message,
                    f"at least {n} characters",
                )
            )
        if rule.max_length is not None:
            n = rule.max_length
            message = f"must have at most {n} characters"
            checks.append(
                (f"len({var}) > {lit(n)}", InputCode.MAX_LENGTH, message, f"at most {n} characters")
            )
        if rule.pattern is not None:
            regex = m.constant(re.compile(rule.pattern))
            message, expected = f"must match {rule.pattern}", f"matching {rule.pattern}"
            checks.append(
                (f"{regex}.fullmatch({var}) is None", InputCode.PATTERN, message, expected)
            )
        if rule.in_table and rule.allowed is not None:
            listed = ", ".join(sorted(str(k) for k in rule.allowed))
            message, expected = f"is not in table {rule.table}", f"one of: {listed}"
            checks.append(
                (
                    f"{var} not in {m.constant(rule.allowed)}",
                    InputCode.NOT_IN_TABLE,
                    message,
                    expected,
                )
            )
        if checks:
            m.emit("_ok = True", indent + 1)
        for cond, code, message, expected in checks:
            m.emit(f"if _ok and {cond}:", indent + 1)
            m.emit(problem(code, path, message, expected, var), indent + 2)
            m.emit("_ok = False", indent + 2)
        m.emit(f"{out} = {var}", indent + 1)
        m.emit("else:", indent)
        m.emit(self.bad_type(rule, var, path), indent + 1)

    def collection_check(self, rule: FieldRule, var: str, path: str, out: str, indent: int) -> None:
        """Lists and sets (arrays, each item checked), maps (objects, each value checked)."""
        m = self.m
        assert rule.item is not None
        item = ident("_i", str(indent))
        if rule.kind == "map":
            key, acc = ident("_k", str(indent)), ident("_m", str(indent))
            m.emit(f"if type({var}) is dict:", indent)
            m.emit(f"{acc} = {{}}", indent + 1)
            m.emit(f"for {key}, {item} in {var}.items():", indent + 1)
            item_path, store, result = f"({path}) + '.' + _str({key})", f"{acc}[{key}]", acc
        else:
            idx, acc = ident("_n", str(indent)), ident("_l", str(indent))
            m.emit(f"if type({var}) is list:", indent)
            for n, op, code, most in (
                (rule.min_length, "<", InputCode.MIN_ITEMS, "least"),
                (rule.max_length, ">", InputCode.MAX_ITEMS, "most"),
            ):
                if n is not None:
                    m.emit(f"if len({var}) {op} {lit(n)}:", indent + 1)
                    message = f"must have at {most} {n} item(s)"
                    m.emit(problem(code, path, message, f"at {most} {n} item(s)", var), indent + 2)
            m.emit(f"{acc} = []", indent + 1)
            m.emit(f"for {idx}, {item} in enumerate({var}):", indent + 1)
            item_path, store = f"({path}) + '[' + _str({idx}) + ']'", None
            result = acc if rule.kind == "list" else f"_frozenset({acc})"
        m.emit("_v = None", indent + 2)
        self.value_check(rule.item, item, item_path, "_v", indent + 2)
        m.emit(f"{store} = _v" if store else f"{acc}.append(_v)", indent + 2)
        m.emit(f"{out} = {result}", indent + 1)
        m.emit("else:", indent)
        m.emit(self.bad_type(rule, var, path), indent + 1)

    def fields_check(
        self, fields: tuple[FieldRule, ...], indent: int, extra_known: tuple[str, ...] = ()
    ) -> None:
        m = self.m
        known = tuple(f.name for f in fields if f.name is not None) + extra_known
        m.emit("out = {}", indent)
        for f in fields:
            name = lit(f.name)
            path = f"path + {lit('.' + str(f.name))}"
            m.emit(f"v = x.get({name}, _MISSING)", indent)
            m.emit("if v is _MISSING or v is None:", indent)
            if f.optional:
                m.emit(f"out[{name}] = None", indent + 1)
            else:
                message = "'missing required field' if v is _MISSING else 'must not be null'"
                m.emit(
                    f"errs.append(_problem('required', {path}, {message}, {lit(f.expected)}))",
                    indent + 1,
                )
            m.emit("else:", indent)
            self.value_check(f, "v", path, f"out[{name}]", indent + 1)
        m.emit(f"if not {m.constant(frozenset(known))}.issuperset(x):", indent)
        m.emit(f"_unknown_fields(x, {lit(known)}, path, errs)", indent + 1)

    def record_validator(self, record: RecordSchema) -> None:
        m = self.m
        m.emit(f"def {ident('vr_', record.name)}(x, path, errs):")
        m.emit("if type(x) is not dict:", 1)
        m.emit(
            problem(InputCode.TYPE, "path", f"expected an object ({record.name})", "object", "x"), 2
        )
        m.emit("return None", 2)
        self.fields_check(field_rules(record.fields), 1)
        m.emit("return out", 1)
        m.emit("")

    def input_validator(self, decision: CheckedDecision) -> None:
        m = self.m
        locales = self.checked.model.manifest.locales
        m.mark(origin(f"decision {decision.name} input", decision.definition.location), 0)
        m.emit(f"def {ident('vi_', decision.name)}(x):")
        m.emit("errs = []", 1)
        m.emit("path = 'input'", 1)
        m.emit("if type(x) is not dict:", 1)
        m.emit("_raise_input([_problem('type', 'input', 'expected an object', 'object', x)])", 2)
        self.fields_check(decision_rules(decision), 1, extra_known=RESERVED)
        # The reserved inputs: as_of was checked by Engine.decide to pick the version.
        m.emit("v = x.get('locale')", 1)
        m.emit("if v is None:", 1)
        m.emit(f"_loc = {lit(locales[0])}", 2)
        m.emit(f"elif type(v) is str and v in {m.constant(frozenset(locales))}:", 1)
        m.emit("_loc = v", 2)
        m.emit("else:", 1)
        expected = "one of: " + ", ".join(locales)
        # Like a declared enum field: a string not listed is `enum`, anything else `type`.
        m.emit("if type(v) is str:", 2)
        m.emit(problem(InputCode.ENUM, "'input.locale'", "must be " + expected, expected, "v"), 3)
        m.emit("else:", 2)
        m.emit(problem(InputCode.TYPE, "'input.locale'", "expected " + expected, expected, "v"), 3)
        m.emit("_loc = None", 2)
        m.emit("if errs:", 1)
        m.emit("_raise_input(errs)", 2)
        m.emit("return out, _loc", 1)
        m.emit("")
        m.mark(None, 0)
