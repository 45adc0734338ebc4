"""The fast validators: straight-line checks, no error collection.

`vf_in_<decision>(x)` returns (input, locale) for plainly valid input, else `_FAIL`;
`fast_record` is also inlined into `p_<decision>` (see `decisions`). They are
conservative: when one returns `_FAIL`, the collecting validator (the authority)
runs and lists every problem.
"""

from __future__ import annotations

from typing import Any

from ..checker import CheckedDecision, InputField
from ..runtime.inputs import MAX_DECIMAL_DIGITS, MAX_INT, MAX_INT_DECIMAL, PatternMemo
from ..typesys import (
    BOOL,
    DATE,
    DECIMAL,
    INT,
    STRING,
    ListT,
    MapT,
    OptT,
    Prim,
    RecordT,
    SetT,
    Type,
    strip,
)
from .unit import CompileUnit


class FastPath:
    """Writes fast checks into a unit's module; `record_values` maps the dict display of
    each record it checked to its fields' value code (read by the fused decision)."""

    def __init__(self, m: CompileUnit):
        self.m = m
        self.checked = m.checked
        self.record_values: dict[str, dict[str, str]] = {}

    def fast_scalar(self, t: Type, spec: Any, var: str) -> tuple[str, str] | None:
        """(condition, converted value) for a scalar `var`, or None if t is not a scalar."""
        m = self.m
        if t == INT:
            lo = spec.minimum if spec is not None and spec.minimum is not None else -MAX_INT
            hi = spec.maximum if spec is not None and spec.maximum is not None else MAX_INT
            bounds = [
                lo if type(lo) is int else m.constant(lo),
                hi if type(hi) is int else m.constant(hi),
            ]
            cond = f"type({var}) is int and {bounds[0]} <= {var} <= {bounds[1]}"
            allowed = getattr(spec, "_allowed", None)
            if allowed is not None:
                cond += f" and {var} in {m.constant(allowed)}"
            return cond, var
        if t == DECIMAL:
            # Decimals, ints, and decimal strings (the wire format of money) all stay fast.
            cond = (
                f"((type({var}) is _Decimal and {var}.is_finite() and {var}.adjusted() < {MAX_DECIMAL_DIGITS})"
                f" or (type({var}) is int and {-MAX_INT_DECIMAL} < {var} < {MAX_INT_DECIMAL})"
                f" or (type({var}) is str and ({var} := _to_decimal({var})) is not None))"
            )
            for op, bound in (
                (">=", spec.minimum if spec else None),
                ("<=", spec.maximum if spec else None),
            ):
                if bound is not None:
                    literal = bound if type(bound) is int else m.constant(bound)
                    cond += f" and {var} {op} {literal}"
            return cond, f"(_Decimal({var}) if type({var}) is int else {var})"
        if t == BOOL:
            return f"{var} is True or {var} is False", var
        if t == DATE:
            # A date text seen before is a dict lookup away; else to_date parses it.
            return (
                f"type({var}) is _date or (type({var}) is str"
                f" and ({var} := _DATES.get({var}) or _to_date({var})) is not None)",
                var,
            )
        if isinstance(t, Prim) and t.name == "string":
            parts = [f"type({var}) is str"]
            if t.enum:
                parts.append(f"{var} in {m.constant(frozenset(t.enum))}")
            if spec is not None:
                if spec.min_length == 1:
                    parts.append(var)  # non-empty: truthiness is cheaper than len()
                elif spec.min_length is not None:
                    parts.append(f"len({var}) >= {spec.min_length}")
                if spec.max_length is not None:
                    parts.append(f"len({var}) <= {spec.max_length}")
                if spec.pattern is not None:
                    memo = PatternMemo(spec.pattern)
                    seen, check = m.constant(memo.matched), m.constant(memo)
                    parts.append(f"({var} in {seen} or {check}.check({var}))")
            allowed = getattr(spec, "_allowed", None)
            if allowed is not None:
                parts.append(f"{var} in {m.constant(allowed)}")
            return " and ".join(parts), var
        return None

    def temp(self) -> str:
        return self.m.fresh("_t")

    def fast_value(self, t: Type, spec: Any, var: str, indent: int) -> str:
        """Emit statements that check `var` (returning _FAIL if it is not plainly valid);
        return the expression of its converted value."""
        m = self.m
        if isinstance(t, OptT):
            scalar = self.fast_scalar(t.inner, spec, var)
            if scalar is not None:
                cond, value = scalar
                m.emit(f"if not ({var} is None or ({cond})):", indent)
                m.emit("return _FAIL", indent + 1)
                return value
            result = self.temp()
            m.emit(f"if {var} is None:", indent)
            m.emit(f"{result} = None", indent + 1)
            m.emit("else:", indent)
            value = self.fast_value(t.inner, spec, var, indent + 1)
            m.emit(f"{result} = {value}", indent + 1)
            return result
        scalar = self.fast_scalar(t, spec, var)
        if scalar is not None:
            cond, value = scalar
            m.emit(f"if not ({cond}):", indent)
            m.emit("return _FAIL", indent + 1)
            return value
        if isinstance(t, RecordT) and t.name:
            return self.fast_record(self.checked.records[t.name].fields, var, indent)
        if isinstance(t, (ListT, SetT)):
            items = self.temp()
            item = self.temp()
            m.emit(f"if type({var}) is not list:", indent)
            m.emit("return _FAIL", indent + 1)
            if spec is not None and spec.min_length is not None:
                m.emit(f"if len({var}) < {spec.min_length}:", indent)
                m.emit("return _FAIL", indent + 1)
            if spec is not None and spec.max_length is not None:
                m.emit(f"if len({var}) > {spec.max_length}:", indent)
                m.emit("return _FAIL", indent + 1)
            m.emit(f"{items} = []", indent)
            m.emit(f"for {item} in {var}:", indent)
            value = self.fast_value(t.elem, None, item, indent + 1)
            m.emit(f"{items}.append({value})", indent + 1)
            return items if isinstance(t, ListT) else f"_frozenset({items})"
        if isinstance(t, MapT) and strip(t.key) == STRING:
            items, key, item = self.temp(), self.temp(), self.temp()
            m.emit(f"if type({var}) is not dict:", indent)
            m.emit("return _FAIL", indent + 1)
            m.emit(f"{items} = {{}}", indent)
            m.emit(f"for {key}, {item} in {var}.items():", indent)
            m.emit(f"if type({key}) is not str:", indent + 1)
            m.emit("return _FAIL", indent + 2)
            value = self.fast_value(t.value, None, item, indent + 1)
            m.emit(f"{items}[{key}] = {value}", indent + 1)
            return items
        m.emit("return _FAIL", indent)  # other maps: the collecting validator handles them
        return "None"

    def fast_record(
        self,
        fields: tuple[InputField, ...],
        var: str,
        indent: int,
        extra_known: tuple[str, ...] = (),
    ) -> str:
        """Emit checks of a record held in `var`; return the dict expression of the result."""
        m = self.m
        required = [f for f in fields if not isinstance(f.type, OptT)]
        optional_names = [f.spec.name for f in fields if isinstance(f.type, OptT)] + list(
            extra_known
        )
        m.emit(f"if type({var}) is not dict:", indent)
        m.emit("return _FAIL", indent + 1)
        names = {f.spec.name: self.temp() for f in fields}
        if required:
            m.emit("try:", indent)
            for f in required:
                m.emit(f"{names[f.spec.name]} = {var}[{f.spec.name!r}]", indent + 1)
            m.emit("except KeyError:", indent)
            m.emit("return _FAIL", indent + 1)
        # Every key is known: the required ones plus whichever optional ones are there.
        count = " + ".join([str(len(required)), *(f"({n!r} in {var})" for n in optional_names)])
        m.emit(f"if len({var}) != {count}:", indent)
        m.emit("return _FAIL", indent + 1)
        values = []
        fields_seen: dict[str, str] = {}
        for f in fields:
            local = names[f.spec.name]
            if isinstance(f.type, OptT):
                m.emit(f"{local} = {var}.get({f.spec.name!r})", indent)
            spec = f.spec if f.allowed is None else SpecWithAllowed(f.spec, f.allowed)
            value = self.fast_value(f.type, spec, local, indent)
            values.append(f"{f.spec.name!r}: {value}")
            fields_seen[f.spec.name] = value
        display = "{" + ", ".join(values) + "}"
        self.record_values[display] = fields_seen
        return display

    def input_fast(self, decision: CheckedDecision) -> None:
        m = self.m
        locales = self.checked.model.manifest.locales
        m.emit(f"def vf_in_{decision.name}(x):")
        fields = tuple(f for f in decision.inputs if f.spec.name not in ("as_of", "locale"))
        result = self.fast_record(fields, "x", 1, extra_known=("as_of", "locale"))
        m.emit("loc = x.get('locale')", 1)
        m.emit("if loc is None:", 1)
        m.emit(f"return {result}, {locales[0]!r}", 2)
        m.emit(f"if type(loc) is str and loc in {m.constant(frozenset(locales))}:", 1)
        m.emit(f"return {result}, loc", 2)
        m.emit("return _FAIL", 1)
        m.emit("")


class SpecWithAllowed:
    """A field spec plus the table keys its value must be one of (in_table)."""

    def __init__(self, spec: Any, allowed: frozenset[Any]):
        self._spec = spec
        self._allowed = allowed

    def __getattr__(self, name: str) -> Any:
        return getattr(self._spec, name)
