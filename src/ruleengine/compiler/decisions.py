"""Decisions as Python functions: `d_<decision>` (plain), `d_<decision>_t` (traced)
and `p_<decision>`, the fused hot path (fast input check, then the decision)."""

from __future__ import annotations

import re

from ..checker import CheckedDecision
from ..nodes import Call, Expr, Var, children
from ..typesys import ListT, OptT, Prim, SetT, Type, strip
from .expressions import ExprCompiler
from .fastpath import FastPath
from .lowering import lowered
from .unit import CompileUnit


class DecisionWriter:
    """Writes decisions into a unit's module."""

    def __init__(self, m: CompileUnit, fast: FastPath):
        self.m = m
        self.checked = m.checked
        self.fast = fast

    def decision(self, decision: CheckedDecision, traced: bool) -> None:
        m = self.m
        ec = ExprCompiler(m, traced)
        suffix = "_t" if traced else ""
        extra = ", _trace" if traced else ""
        m.emit(f"def d_{decision.name}{suffix}(_inp, _as_of, _locale{extra}):")
        m.emit("_messages = _MESSAGES[_locale]", 1)
        for f in decision.inputs:
            if f.spec.name not in ("as_of", "locale"):
                m.emit(f"v_{f.spec.name} = _inp[{f.spec.name!r}]", 1)
        self.decision_body(decision, ec)
        m.emit("")

    def decision_body(self, decision: CheckedDecision, ec: ExprCompiler, tail: str = "") -> None:
        """The lets and the result of a decision, its inputs bound to v_<name>."""
        m = self.m
        for name, node, _ in decision.lets:
            m.emit(f"v_{name} = {lowered(ec, node, 1)}", 1)
        # A result must never share a list or record with the version's tables (a
        # caller mutating it would change them): outputs that may hold table data are
        # copied on the way out. Everything else is built fresh by each decision.
        lets = {name: node for name, node, _ in decision.lets}
        outputs = []
        for name, node, t in decision.outputs:
            code = lowered(ec, node, 1)
            outputs.append(
                f"{name!r}: {copied_output(code, t) if self.may_share(node, lets) else code}"
            )
        m.emit(f"return {{{', '.join(outputs)}}}{tail}", 1)

    def fused_decision(self, decision: CheckedDecision) -> None:
        """`p_<name>(x, as_of)`: the fast input check and the decision in one function,
        returning (result, locale), or _FAIL for input the fast check cannot vouch for.
        Fields of input records are read from the check's locals; a record's dict is
        built only if the decision uses the record as a whole."""
        m = self.m
        locales = self.checked.model.manifest.locales
        m.emit(f"def p_{decision.name}(x, _as_of):")
        inputs = tuple(f for f in decision.inputs if f.spec.name not in ("as_of", "locale"))
        self.fast.record_values = {}
        display = self.fast.fast_record(inputs, "x", 1, extra_known=("as_of", "locale"))
        values = self.fast.record_values[display]
        m.emit("_locale = x.get('locale')", 1)
        m.emit("if _locale is None:", 1)
        m.emit(f"_locale = {locales[0]!r}", 2)
        m.emit(
            f"elif type(_locale) is not str or _locale not in {m.constant(frozenset(locales))}:", 1
        )
        m.emit("return _FAIL", 2)
        ec = ExprCompiler(m, traced=False)
        binds: list[tuple[str, str]] = []
        for f in inputs:
            value = values[f.spec.name]
            fields = self.fast.record_values.get(value)
            if fields is not None and not isinstance(f.type, OptT):
                locals_ = {}
                for name, code in fields.items():
                    if not code.isidentifier():
                        local = self.m.fresh("_t")
                        m.emit(f"{local} = {code}", 1)
                        code = local
                    locals_[name] = code
                ec.fields[f"v_{f.spec.name}"] = locals_
                value = "{" + ", ".join(f"{k!r}: {v}" for k, v in locals_.items()) + "}"
            binds.append((f"v_{f.spec.name}", value))
        saved, m.lines = m.lines, []
        try:
            self.decision_body(decision, ec, tail=", _locale")
        finally:
            body, m.lines = m.lines, saved
        text = "\n".join(body)
        if "_messages" in text:
            m.emit("_messages = _MESSAGES[_locale]", 1)
        for name, value in binds:
            if re.search(rf"\b{name}\b", text):
                m.emit(f"{name} = {value}", 1)
        m.lines.extend(body)
        m.emit("")

    def may_share(self, node: Expr, lets: dict[str, Expr], seen: set[str] | None = None) -> bool:
        """Whether a value may contain a mutable container from a table (lists, maps, rows)."""
        seen = set() if seen is None else seen
        checked = self.checked
        stack = [node]
        while stack:
            sub = stack.pop()
            t = self.m.types.get(id(sub))
            if t is not None and isinstance(strip(t), (Prim, SetT)):
                continue  # a scalar or a frozenset: no table container can come through it
            stack.extend(children(sub))
            if isinstance(sub, Var):
                table = checked.tables.get(sub.name)
                if table is not None and not isinstance(table.type, (Prim, SetT)):
                    return True
                if sub.name in lets and sub.name not in seen:
                    seen.add(sub.name)
                    if self.may_share(lets[sub.name], lets, seen):
                        return True
            elif isinstance(sub, Call) and f"call:{sub.name}" not in seen:
                seen.add(f"call:{sub.name}")
                bodies: list[Expr] = []
                fn = self.m.functions.get(sub.name)
                if fn is not None:
                    bodies = [fn.body, *(n for _, n, _ in fn.lets)]
                elif sub.name in checked.groups:
                    group = checked.groups[sub.name]
                    bodies = [r.then for r in group.rules if r.then is not None]
                    bodies += [group.default] if group.default is not None else []
                if any(self.may_share(body, {}, seen) for body in bodies):
                    return True
        return False


def copied_output(code: str, t: Type) -> str:
    if (
        isinstance(t, Prim)
        or (isinstance(t, OptT) and isinstance(t.inner, Prim))
        or isinstance(t, SetT)
    ):
        return code
    if isinstance(t, ListT) and isinstance(strip(t.elem), Prim):
        return f"_list({code})"
    return f"_copy_plain({code})"
