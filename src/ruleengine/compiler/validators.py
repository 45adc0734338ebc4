"""The collecting validators: `vi_<decision>(x)` and `vr_<Record>(x, path, errs)`.

They run only when the fast check (`fastpath`) cannot vouch for an input, and are
the authority: they convert a valid input or raise `InputError` listing every
problem, each with its JSON path.
"""

from __future__ import annotations

import re
from typing import Any

from ..checker import CheckedDecision, InputField, RecordSchema
from ..runtime.inputs import MAX_INT
from ..typesys import BOOL, DATE, DECIMAL, INT, ListT, MapT, OptT, Prim, RecordT, SetT, Type, strip
from .unit import CompileUnit


class ValidatorWriter:
    """Writes the collecting validators into a unit's module."""

    def __init__(self, m: CompileUnit):
        self.m = m
        self.checked = m.checked

    def value_check(
        self, t: Type, f: InputField | None, var: str, path: str, out: str, indent: int
    ) -> None:
        """Emit code that checks `var` against t and assigns the converted value to `out`."""
        m = self.m
        spec = f.spec if f else None
        t = strip(t)
        desc = type_desc(t, spec)
        bad = f"errs.append(_problem('type', {path}, {('expected ' + desc)!r}, {desc!r}, {var}))"
        if t in (INT, DECIMAL):
            lo = spec.minimum if spec and spec.minimum is not None else None
            hi = spec.maximum if spec and spec.maximum is not None else None
            if t == INT:
                m.emit(f"if type({var}) is int and {-MAX_INT} <= {var} <= {MAX_INT}:", indent)
            else:
                # Fast path for the common case (a finite Decimal in range); else convert.
                m.emit(
                    f"if not (type({var}) is _Decimal and {var}.is_finite() and -_MAX_DEC < {var} < _MAX_DEC):",
                    indent,
                )
                m.emit(f"_d = _to_decimal({var})", indent + 1)
                m.emit(f"{var} = {var} if _d is None else _d", indent + 1)
                m.emit(
                    f"if type({var}) is _Decimal and {var}.is_finite() and -_MAX_DEC < {var} < _MAX_DEC:",
                    indent,
                )
            if lo is not None:
                m.emit(f"if {var} < {m.constant(lo)}:", indent + 1)
                m.emit(
                    f"errs.append(_problem('minimum', {path}, {f'must be at least {lo}'!r}, {f'>= {lo}'!r}, {var}))",
                    indent + 2,
                )
            if hi is not None:
                m.emit(f"if {var} > {m.constant(hi)}:", indent + 1)
                m.emit(
                    f"errs.append(_problem('maximum', {path}, {f'must be at most {hi}'!r}, {f'<= {hi}'!r}, {var}))",
                    indent + 2,
                )
            if f is not None and f.allowed is not None and spec is not None and spec.in_table:
                listed = ", ".join(str(k) for k in sorted(f.allowed))
                m.emit(f"if {var} not in {m.constant(f.allowed)}:", indent + 1)
                m.emit(
                    f"errs.append(_problem('not_in_table', {path}, {f'is not in table {spec.in_table}'!r}, {f'one of: {listed}'!r}, {var}))",
                    indent + 2,
                )
            m.emit(f"{out} = {var}", indent + 1)
            m.emit("else:", indent)
            if t == INT:
                m.emit(
                    f"errs.append(_problem('type', {path}, 'expected an integer' if type({var}) is not int else 'integer out of range', 'integer', {var}))",
                    indent + 1,
                )
            else:
                m.emit(
                    f"errs.append(_problem('type', {path}, 'expected a decimal number (a JSON number or a decimal string; never a float)', 'decimal', {var}))",
                    indent + 1,
                )
            return
        if t == BOOL:
            m.emit(f"if {var} is True or {var} is False:", indent)
            m.emit(f"{out} = {var}", indent + 1)
            m.emit("else:", indent)
            m.emit(bad, indent + 1)
            return
        if t == DATE:
            m.emit(f"_dt = {var} if type({var}) is _date else _to_date({var})", indent)
            m.emit("if _dt is not None:", indent)
            m.emit(f"{out} = _dt", indent + 1)
            m.emit("else:", indent)
            m.emit(
                f"errs.append(_problem('type', {path}, 'expected a date (YYYY-MM-DD)', 'date', {var}))",
                indent + 1,
            )
            return
        if isinstance(t, Prim) and t.name == "string":
            m.emit(f"if type({var}) is str:", indent)
            checks = []
            if t.enum:
                ordered = tuple(spec.enum) if spec and spec.enum else tuple(sorted(t.enum))
                enum_const = m.constant(frozenset(ordered))
                expected = "one of: " + ", ".join(ordered)
                checks.append(
                    (f"{var} not in {enum_const}", "enum", f"must be {expected}", expected)
                )
            if spec and spec.min_length is not None:
                checks.append(
                    (
                        f"len({var}) < {spec.min_length}",
                        "min_length",
                        "must not be empty"
                        if spec.min_length == 1
                        else f"must have at least {spec.min_length} characters",
                        f"at least {spec.min_length} characters",
                    )
                )
            if spec and spec.max_length is not None:
                checks.append(
                    (
                        f"len({var}) > {spec.max_length}",
                        "max_length",
                        f"must have at most {spec.max_length} characters",
                        f"at most {spec.max_length} characters",
                    )
                )
            if spec and spec.pattern is not None:
                pattern = m.constant(re.compile(spec.pattern))
                checks.append(
                    (
                        f"{pattern}.fullmatch({var}) is None",
                        "pattern",
                        f"must match {spec.pattern}",
                        f"matching {spec.pattern}",
                    )
                )
            if f and f.allowed is not None and spec and spec.in_table:
                keys = m.constant(f.allowed)
                listed = ", ".join(sorted(str(k) for k in f.allowed))
                checks.append(
                    (
                        f"{var} not in {keys}",
                        "not_in_table",
                        f"is not in table {spec.in_table}",
                        f"one of: {listed}",
                    )
                )
            if checks:
                m.emit("_ok = True", indent + 1)
            for cond, code, message, expected in checks:
                m.emit(f"if _ok and {cond}:", indent + 1)
                m.emit(
                    f"errs.append(_problem({code!r}, {path}, {message!r}, {expected!r}, {var}))",
                    indent + 2,
                )
                m.emit("_ok = False", indent + 2)
            m.emit(f"{out} = {var}", indent + 1)
            m.emit("else:", indent)
            m.emit(bad, indent + 1)
            return
        if isinstance(t, RecordT):
            assert t.name is not None
            m.emit(f"{out} = vr_{t.name}({var}, {path}, errs)", indent)
            return
        if isinstance(t, (ListT, SetT)):
            item = f"_i{indent}"
            idx = f"_n{indent}"
            acc = f"_l{indent}"
            m.emit(f"if type({var}) is list:", indent)
            if f and f.spec.min_length is not None:
                m.emit(f"if len({var}) < {f.spec.min_length}:", indent + 1)
                m.emit(
                    f"errs.append(_problem('min_items', {path}, 'must have at least {f.spec.min_length} item(s)', 'at least {f.spec.min_length} item(s)', {var}))",
                    indent + 2,
                )
            if f and f.spec.max_length is not None:
                m.emit(f"if len({var}) > {f.spec.max_length}:", indent + 1)
                m.emit(
                    f"errs.append(_problem('max_items', {path}, 'must have at most {f.spec.max_length} item(s)', 'at most {f.spec.max_length} item(s)', {var}))",
                    indent + 2,
                )
            m.emit(f"{acc} = []", indent + 1)
            m.emit(f"for {idx}, {item} in enumerate({var}):", indent + 1)
            m.emit("_v = None", indent + 2)
            self.value_check(
                t.elem, None, item, f"({path}) + '[' + _str({idx}) + ']'", "_v", indent + 2
            )
            m.emit(f"{acc}.append(_v)", indent + 2)
            m.emit(
                f"{out} = {acc}" if isinstance(t, ListT) else f"{out} = _frozenset({acc})",
                indent + 1,
            )
            m.emit("else:", indent)
            m.emit(bad, indent + 1)
            return
        if isinstance(t, MapT):
            item = f"_i{indent}"
            key = f"_k{indent}"
            acc = f"_m{indent}"
            m.emit(f"if type({var}) is dict:", indent)
            m.emit(f"{acc} = {{}}", indent + 1)
            m.emit(f"for {key}, {item} in {var}.items():", indent + 1)
            m.emit("_v = None", indent + 2)
            self.value_check(t.value, None, item, f"({path}) + '.' + _str({key})", "_v", indent + 2)
            m.emit(f"{acc}[{key}] = _v", indent + 2)
            m.emit(f"{out} = {acc}", indent + 1)
            m.emit("else:", indent)
            m.emit(bad, indent + 1)
            return
        raise AssertionError(f"cannot validate {t}")  # pragma: no cover

    def fields_check(
        self, fields: tuple[InputField, ...], indent: int, extra_known: tuple[str, ...] = ()
    ) -> None:
        m = self.m
        known = tuple(f.spec.name for f in fields) + extra_known
        m.emit("out = {}", indent)
        for f in fields:
            name = f.spec.name
            path = f"path + {'.' + name!r}"
            m.emit(f"v = x.get({name!r}, _MISSING)", indent)
            m.emit("if v is _MISSING or v is None:", indent)
            if isinstance(f.type, OptT):
                m.emit(f"out[{name!r}] = None", indent + 1)
            else:
                desc = type_desc(strip(f.type), f.spec)
                m.emit(
                    f"errs.append(_problem('required', {path}, 'missing required field' if v is _MISSING else 'must not be null', {desc!r}))",
                    indent + 1,
                )
            m.emit("else:", indent)
            self.value_check(f.type, f, "v", path, f"out[{name!r}]", indent + 1)
        m.emit(f"if not {m.constant(frozenset(known))}.issuperset(x):", indent)
        m.emit(f"_unknown_fields(x, {known!r}, path, errs)", indent + 1)

    def record_validator(self, record: RecordSchema) -> None:
        m = self.m
        m.emit(f"def vr_{record.name}(x, path, errs):")
        m.emit("if type(x) is not dict:", 1)
        m.emit(
            f"errs.append(_problem('type', path, 'expected an object ({record.name})', 'object', x))",
            2,
        )
        m.emit("return None", 2)
        self.fields_check(record.fields, 1)
        m.emit("return out", 1)
        m.emit("")

    def input_validator(self, decision: CheckedDecision) -> None:
        m = self.m
        locales = self.checked.model.manifest.locales
        m.emit(f"def vi_{decision.name}(x):")
        m.emit("errs = []", 1)
        m.emit("path = 'input'", 1)
        m.emit("if type(x) is not dict:", 1)
        m.emit("_raise_input([_problem('type', 'input', 'expected an object', 'object', x)])", 2)
        fields = tuple(f for f in decision.inputs if f.spec.name not in ("as_of", "locale"))
        self.fields_check(fields, 1, extra_known=("as_of", "locale"))
        # The reserved inputs: as_of was checked by Engine.decide to pick the version.
        m.emit("v = x.get('locale')", 1)
        m.emit("if v is None:", 1)
        m.emit(f"_loc = {locales[0]!r}", 2)
        m.emit(f"elif type(v) is str and v in {m.constant(frozenset(locales))}:", 1)
        m.emit("_loc = v", 2)
        m.emit("else:", 1)
        expected = "one of: " + ", ".join(locales)
        # Like a declared enum field: a string not listed is `enum`, anything else `type`.
        m.emit("if type(v) is str:", 2)
        m.emit(
            f"errs.append(_problem('enum', 'input.locale', {('must be ' + expected)!r}, {expected!r}, v))",
            3,
        )
        m.emit("else:", 2)
        m.emit(
            f"errs.append(_problem('type', 'input.locale', {('expected ' + expected)!r}, {expected!r}, v))",
            3,
        )
        m.emit("_loc = None", 2)
        m.emit("if errs:", 1)
        m.emit("_raise_input(errs)", 2)
        m.emit("return out, _loc", 1)
        m.emit("")


def type_desc(t: Type, spec: Any = None) -> str:
    t = strip(t)
    if isinstance(t, Prim):
        if t.name == "string" and spec is not None and spec.enum:
            return "one of: " + ", ".join(spec.enum)
        return {
            "int": "integer",
            "decimal": "decimal",
            "string": "string",
            "bool": "boolean",
            "date": "date (YYYY-MM-DD)",
        }.get(t.name, t.name)
    if isinstance(t, RecordT):
        return f"object ({t.name})" if t.name else "object"
    if isinstance(t, ListT):
        return f"array of {type_desc(t.elem)}"
    if isinstance(t, SetT):
        return f"array of distinct {type_desc(t.elem)}"
    if isinstance(t, MapT):
        return f"object of {type_desc(t.value)}"
    return str(t)
