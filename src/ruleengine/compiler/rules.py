"""Helper functions and rule groups as Python functions (plain and traced).

A group becomes `g_<group>`: its rules as `if` statements in order, or, when an
index plan exists (see `indexing`), a dict lookup of candidate rule functions
`gr_<group>_<i>`, which plain code builds from shared shapes (`_shape<n>`).
Traced code (`_t` suffix) records a `GroupCall` per group and a `TraceEntry` per
rule considered, with the facts its condition read.
"""

from __future__ import annotations

from ..checker import CheckedGroup, CheckedRule, fact_reads
from ..nodes import Expr, unparse
from ..typesys import Type
from .expressions import ExprCompiler
from .indexing import IndexPlan
from .lowering import lowered
from .unit import CompileUnit


class RuleWriter:
    """Writes functions and rule groups into a unit's module."""

    def __init__(self, m: CompileUnit):
        self.m = m
        self.checked = m.checked

    def function(
        self,
        name: str,
        params: tuple[tuple[str, Type], ...],
        lets: tuple[tuple[str, Expr, Type], ...],
        body: Expr,
        traced: bool,
    ) -> None:
        ec = ExprCompiler(self.m, traced)
        args = ", ".join(a for a in [ec.hidden_of(name), *(f"v_{p}" for p, _ in params)] if a)
        suffix = "_t" if traced else ""
        self.m.emit(f"def f_{name}{suffix}({args}):")
        for local, node, _ in lets:
            self.m.emit(f"v_{local} = {lowered(ec, node, 1)}", 1)
        self.m.emit(f"return {lowered(ec, body, 1)}", 1)
        self.m.emit("")

    def group(self, group: CheckedGroup, traced: bool) -> None:
        index = self.m.plan_of(group)
        if index is not None:
            self.indexed_group(group, index, traced)
            return
        m = self.m
        ec = ExprCompiler(m, traced)
        args = ", ".join(
            a for a in [ec.hidden_of(group.name), *(f"v_{p}" for p, _ in group.params)] if a
        )
        suffix = "_t" if traced else ""
        m.emit(f"def g_{group.name}{suffix}({args}):")
        if traced:
            m.emit(f"_trace.append(_GroupCall({group.name!r}))", 1)
        collect = group.hit == "collect"
        if collect:
            m.emit("_r = []", 1)
        for rule in group.rules:
            # Rules run in order, each `if` reached only when the ones before did not
            # return: a condition's statements go right before its `if`.
            contribution = ec.contribution_code(group, rule)  # only when its rule fires
            cond = lowered(ec, rule.when, 1)
            action = f"_r.append({contribution})" if collect else f"return {contribution}"
            if traced:
                self.trace_rule(ec, group, rule, cond)
                m.emit("if _w:", 1)
            else:
                m.emit(f"if {cond}:", 1)
            m.emit(action, 2)
        if collect:
            m.emit("return _r", 1)
        else:
            default = (
                lowered(ec, group.default, 1, group.type) if group.default is not None else "None"
            )
            m.emit(f"return {default}", 1)
        m.emit("")

    def trace_rule(
        self, ec: ExprCompiler, group: CheckedGroup, rule: CheckedRule, cond: str
    ) -> None:
        """Evaluate a rule's condition into `_w` and record it, with the facts it read."""
        reads = fact_reads(rule.when, self.checked.tables)
        values = ", ".join(f"{unparse(r)!r}: _read(lambda: {ec.expr(r)})" for r in reads)
        loc = f"{rule.definition.location.file}:{rule.definition.location.line}"
        self.m.emit(f"_w = bool({cond})", 1)
        self.m.emit(
            f"_trace.append(_TraceEntry({group.name!r}, {rule.definition.id!r}, {loc!r}, _w, {{{values}}}))",
            1,
        )

    def indexed_group(self, group: CheckedGroup, index: IndexPlan, traced: bool) -> None:
        """A group whose rules mostly test one fact against literals: look the fact up in a
        dict of candidate rules instead of testing every rule (cost flat in the rule count)."""
        m = self.m
        ec = ExprCompiler(m, traced)
        params = ", ".join(
            a for a in [ec.hidden_of(group.name), *(f"v_{p}" for p, _ in group.params)] if a
        )
        suffix = "_t" if traced else ""
        for i, rule in enumerate(group.rules):
            cond_node = (
                index.rest.get(i, rule.when) if i in index.rest or i not in index.keys else None
            )
            if not traced:
                self.shared_rule(ec, group, rule, cond_node, params, f"gr_{group.name}_{i}")
                continue
            contribution = ec.contribution_code(group, rule)
            m.emit(f"def gr_{group.name}_{i}{suffix}({params}):")
            cond = "True" if cond_node is None else ec.expr(cond_node)
            self.trace_rule(ec, group, rule, cond)
            m.emit(f"return {contribution} if _w else _NO", 1)
            m.emit("")
        table = f"_IX_{group.name}{suffix}"
        m.late_indexes[table] = (
            {
                key: tuple(f"gr_{group.name}_{i}{suffix}" for i in rules)
                for key, rules in index.by_key.items()
            },
            tuple(f"gr_{group.name}_{i}{suffix}" for i in index.always),
        )
        m.emit(f"def g_{group.name}{suffix}({params}):")
        if traced:
            m.emit(f"_trace.append(_GroupCall({group.name!r}))", 1)
        key = ec.expr(index.path)
        call_args = params
        if group.hit == "collect":
            m.emit("_r = []", 1)
            m.emit(f"for _rule in {table}[0].get({key}, {table}[1]):", 1)
            m.emit(f"_v = _rule({call_args})", 2)
            m.emit("if _v is not _NO:", 2)
            m.emit("_r.append(_v)", 3)
            m.emit("return _r", 1)
        else:
            m.emit(f"for _rule in {table}[0].get({key}, {table}[1]):", 1)
            m.emit(f"_v = _rule({call_args})", 2)
            m.emit("if _v is not _NO:", 2)
            m.emit("return _v", 3)
            default = ec.widened(group.default, group.type) if group.default is not None else "None"
            m.emit(f"return {default}", 1)
        m.emit("")

    def shared_rule(
        self,
        ec: ExprCompiler,
        group: CheckedGroup,
        rule: CheckedRule,
        cond_node: Expr | None,
        params: str,
        name: str,
    ) -> None:
        """One indexed rule as an instance of a shape: a function whose literals are
        parameters with defaults. 10,000 rules written from two patterns compile two
        functions, not 10,000 (the rule functions are made from their code objects)."""
        m = self.m
        ec.literals = []
        try:
            contribution = ec.contribution_code(group, rule)
            cond = "True" if cond_node is None else ec.expr(cond_node)
        finally:
            literals, ec.literals = ec.literals, None
        slots = [f"_c{j}=None" for j in range(len(literals))]
        signature = ", ".join(a for a in [params, *slots] if a)
        body = f"return {contribution} if {cond} else _NO"
        shape = m.shapes.get((signature, body))
        if shape is None:
            shape = m.shapes[(signature, body)] = f"_shape{len(m.shapes)}"
            m.emit(f"def {shape}({signature}):")
            m.emit(body, 1)
            m.emit("")
        m.instances[name] = (shape, tuple(literals))
