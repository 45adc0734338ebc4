"""Decisions as Python functions: `d_<decision>` (plain), `d_<decision>_t` (traced)
and `p_<decision>`, the fused hot path (fast input check, then the decision)."""

from __future__ import annotations

from collections.abc import Mapping

from ..checker import CheckedDecision
from ..nodes import Call, Expr, Var, children
from ..typesys import ListT, OptT, Prim, SetT, Type, strip
from .emit import NAME, Code, Origin, ident, lit
from .expressions import ExprCompiler
from .fastpath import RESERVED, FastPath, decision_rules
from .lowering import lowered
from .sites import traced_value, value_site
from .unit import CompileUnit, origin


class DecisionWriter:
    """Writes decisions into a unit's module."""

    def __init__(self, m: CompileUnit, fast: FastPath):
        self.m = m
        self.checked = m.checked
        self.fast = fast

    def decision(self, decision: CheckedDecision, traced: bool) -> None:
        m = self.m
        ec = ExprCompiler(m, traced)
        m.mark(decision_origin(decision), 0)
        name = ident("d_", decision.name, "_t" if traced else "")
        m.emit(f"def {name}(_inp, _as_of, _locale{', _trace' if traced else ''}):")
        m.emit("_message = _MESSAGE[_locale]", 1)
        for f in decision.inputs:
            if f.spec.name not in RESERVED:
                m.emit(f"{ident('v_', f.spec.name)} = _inp[{lit(f.spec.name)}]", 1)
        self.decision_body(decision, ec)
        m.emit("")
        m.mark(None, 0)

    def decision_body(
        self, decision: CheckedDecision, ec: ExprCompiler, tail: str = ""
    ) -> frozenset[str]:
        """The lets and the result of a decision, its inputs bound to v_<name>; return the
        names the body reads."""
        m = self.m
        here = m.origin
        places = {
            b.name: b.location for b in (*decision.definition.let, *decision.definition.output)
        }
        reads: set[str] = set()
        sources = {b.name: b.expr for b in decision.definition.let}
        out_sources = {b.name: b.expr for b in decision.definition.output}
        facts_from = {*(f.spec.name for f in decision.inputs), "as_of"}
        let_names = [name for name, _, _ in decision.lets]
        for name, node, _ in decision.lets:
            m.mark(origin(f"decision {decision.name} let {name}", places[name]), 1, comment=False)
            ec.source = sources[name]
            code = lowered(ec, node, 1)
            reads |= code.reads
            if ec.traced:
                site = value_site(m, "let", name, node, sources[name], facts_from, let_names)
                traced_value(m, site, ident("v_", name), code.text)
            else:
                m.emit(f"{ident('v_', name)} = {code.text}", 1)
        # A result must never share a list or record with the version's tables (a
        # caller mutating it would change them): outputs that may hold table data are
        # copied on the way out. Everything else is built fresh by each decision.
        lets = {name: node for name, node, _ in decision.lets}
        outputs: list[str] = []
        for name, node, t in decision.outputs:
            where = f"decision {decision.name} output {name}"
            m.mark(origin(where, places[name]), 1, comment=False)
            ec.source = out_sources[name]
            code = lowered(ec, node, 1)
            reads |= code.reads
            value = copied_output(code.text, t) if self.may_share(node, lets) else code.text
            if ec.traced:  # each output computed and recorded in turn, into a local
                source = out_sources[name]
                site = value_site(m, "output", name, node, source, facts_from, let_names)
                local = ident("_o", str(len(outputs)))
                traced_value(m, site, local, value)
                value = local
            outputs.append(f"{lit(name)}: {value}")
        m.mark(here, 1, comment=False)
        m.emit(f"return {{{', '.join(outputs)}}}{tail}", 1)
        return frozenset(reads)

    def fused_decision(self, decision: CheckedDecision) -> None:
        """`p_<name>(x, as_of)`: the fast input check and the decision in one function,
        returning (result, locale), or _FAIL for input the fast check cannot vouch for.
        Fields of input records are read from the check's locals; a record's dict is
        built only if the decision uses the record as a whole."""
        m = self.m
        locales = self.checked.model.manifest.locales
        m.mark(decision_origin(decision), 0)
        m.emit(f"def {ident('p_', decision.name)}(x, _as_of):")
        rules = decision_rules(decision)
        values = self.fast.decision_record(decision, "x", 1).fields
        assert values is not None
        m.emit("_locale = x.get('locale')", 1)
        m.emit("if _locale is None:", 1)
        m.emit(f"_locale = {lit(locales[0])}", 2)
        known = m.constant(frozenset(locales))
        m.emit(f"elif type(_locale) is not str or _locale not in {known}:", 1)
        m.emit("return _FAIL", 2)
        ec = ExprCompiler(m, traced=False)
        binds: list[tuple[str, str]] = []
        for rule in rules:
            assert rule.name is not None
            value = values[rule.name]
            if value.fields is not None and not rule.optional:
                ec.fields[rule.name] = self.field_locals(value.fields)
                pairs = (f"{lit(k)}: {v.text}" for k, v in ec.fields[rule.name].items())
                value = Code("{" + ", ".join(pairs) + "}")
            binds.append((ident("v_", rule.name), value.text))
        here = m.origin
        saved = m.take_lines()
        try:
            reads = self.decision_body(decision, ec, tail=", _locale")
        finally:
            body = m.take_lines()
            m.put_lines(*saved)
        m.origin = here
        # Only what the body reads is bound: the messages, and each input (a record's
        # dict is built only when the record is used whole, not just its fields).
        if "_message" in reads:
            m.emit("_message = _MESSAGE[_locale]", 1)
        for name, value_text in binds:
            if name in reads:
                m.emit(f"{name} = {value_text}", 1)
        m.put_lines(*body)
        m.emit("")
        m.mark(None, 0)

    def field_locals(self, fields: Mapping[str, Code]) -> dict[str, Code]:
        """Each field's value in a local (computed here, once)."""
        locals_ = {}
        for name, code in fields.items():
            if not code.is_name:
                local = self.m.fresh("_t")
                self.m.emit(f"{local} = {code.text}", 1)
                code = Code(local, cost=NAME)
            locals_[name] = Code(code.text, frozenset({code.text}), NAME)
        return locals_

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


def decision_origin(decision: CheckedDecision) -> Origin:
    return origin(f"decision {decision.name}", decision.definition.location)
