"""Helper functions and rule groups as Python functions (plain and traced).

A group becomes `g_<group>`: its rules as `if` statements in order, or, when an
index plan exists (see `indexing`), a dict lookup of candidate rule functions
`gr_<group>_<i>`, which plain code builds from shared shapes (`_shape<n>`).
Traced code (`_t` suffix) records a `GroupCall` per group and a rule event per
rule considered, with the variables its condition's fact paths start from (see `trace`).
"""

from __future__ import annotations

from ..checker import CheckedFunction, CheckedGroup, CheckedRule, fact_reads
from ..nodes import Expr, Member, Var, unparse
from ..trace import GroupCall, RuleSite
from .emit import Code, Origin, ident
from .expressions import ExprCompiler
from .indexing import IndexPlan
from .lowering import lowered
from .sites import path_of, traced_value, value_site
from .unit import CompileUnit, origin, rule_origin


class RuleWriter:
    """Writes functions and rule groups into a unit's module."""

    def __init__(self, m: CompileUnit):
        self.m = m
        self.checked = m.checked

    def function(self, fn: CheckedFunction, traced: bool) -> None:
        m = self.m
        ec = ExprCompiler(m, traced)
        m.mark(origin(f"function {fn.name}", fn.definition.location), 0)
        params = [*ec.hidden_of(fn.name), *(ident("v_", p) for p, _ in fn.params)]
        m.emit(f"def {ident('f_', fn.name, suffix(traced))}({', '.join(params)}):")
        if traced:
            self.traced_function_body(ec, fn)
        else:
            for local, node, _ in fn.lets:
                m.emit(f"{ident('v_', local)} = {lowered(ec, node, 1).text}", 1)
            m.emit(f"return {lowered(ec, fn.body, 1).text}", 1)
        m.emit("")
        m.mark(None, 0)

    def traced_function_body(self, ec: ExprCompiler, fn: CheckedFunction) -> None:
        """A helper's body that records its lets and its result, with its arguments."""
        m = self.m
        names = tuple(p for p, _ in fn.params)
        facts_from = {*names, "as_of"}
        lets = [local for local, _, _ in fn.lets]
        m.emit("_start = len(_trace)", 1)
        bindings = {b.name: b.expr for b in fn.definition.let}
        for local, node, _ in fn.lets:
            ec.source = bindings[local]
            site = value_site(m, "let", local, node, bindings[local], facts_from, lets)
            traced_value(m, site, ident("v_", local), lowered(ec, node, 1).text)
        ec.source = fn.definition.body
        site = value_site(
            m, "function", fn.name, fn.body, fn.definition.body, facts_from, lets, names
        )
        args = "".join(f", {ident('v_', p)}" for p in names)
        m.emit(f"_v = {lowered(ec, fn.body, 1).text}", 1)
        m.emit(f"_trace += ({m.constant(site)}, _start, _v{args})", 1)
        m.emit("return _v", 1)

    def group(self, group: CheckedGroup, traced: bool) -> None:
        index = self.m.plan_of(group)
        if index is not None:
            self.indexed_group(group, index, traced)
            return
        m = self.m
        ec = ExprCompiler(m, traced)
        here = group_origin(group)
        m.mark(here, 0)
        self.group_header(ec, group, traced)
        collect = group.hit == "collect"
        if collect:
            m.emit("_r = []", 1)
        for rule in group.rules:
            # Rules run in order, each `if` reached only when the ones before did not
            # return: a condition's statements go right before its `if`.
            m.mark(rule_origin(group, rule), 1)
            contribution = ec.contribution_code(group, rule).text  # only when it fires
            cond = lowered(ec, rule.when, 1)
            action = f"_r.append({contribution})" if collect else f"return {contribution}"
            if traced:
                self.trace_rule(ec, group, rule, cond)
                m.emit("if _w:", 1)
            else:
                m.emit(f"if {cond.text}:", 1)
            m.emit(action, 2)
        m.mark(here, 1, comment=False)
        if collect:
            m.emit("return _r", 1)
        else:
            default = (
                lowered(ec, group.default, 1, group.type).text
                if group.default is not None
                else "None"
            )
            m.emit(f"return {default}", 1)
        m.emit("")
        m.mark(None, 0)

    def group_header(self, ec: ExprCompiler, group: CheckedGroup, traced: bool) -> None:
        """`def g_<group>(...):`, and in traced code the record that it was entered."""
        self.m.emit(f"def {ident('g_', group.name, suffix(traced))}({group_params(ec, group)}):")
        if traced:
            self.m.emit(f"_trace.append({self.m.constant(GroupCall(group.name))})", 1)

    def trace_rule(
        self, ec: ExprCompiler, group: CheckedGroup, rule: CheckedRule, cond: Code
    ) -> None:
        """Evaluate a rule's condition into `_w` and record it with the variables its fact
        paths start from (the paths are read when the explanation is: see `trace`)."""
        captured: list[str] = []
        facts: list[tuple[str, int, tuple[str, ...]]] = []
        for read in fact_reads(rule.when, self.checked.tables):
            path = path_of(read)
            root = read
            while isinstance(root, Member):
                root = root.obj
            names: tuple[str, ...] = ()
            if path is None or not isinstance(root, Var):  # not a path: its value now
                text = f"_read(lambda: {ec.expr(read).text})"
            else:
                text, names = ec.expr(root).text, path[1:]
            if text not in captured:
                captured.append(text)
            facts.append((unparse(read), captured.index(text), names))
        where = rule.definition.location
        location = f"{where.file}:{where.line}"
        site = RuleSite(group.name, rule.definition.id, location, tuple(facts), len(captured))
        values = "".join(f", {text}" for text in captured)
        self.m.emit(f"_w = {cond.text}", 1)
        self.m.emit(f"_trace += ({self.m.constant(site)}, _w{values})", 1)

    def indexed_group(self, group: CheckedGroup, index: IndexPlan, traced: bool) -> None:
        """A group whose rules mostly test one fact against literals: look the fact up in a
        dict of candidate rules instead of testing every rule (cost flat in the rule count)."""
        m = self.m
        ec = ExprCompiler(m, traced)
        params = group_params(ec, group)
        rule_names = [
            ident("gr_", group.name, f"_{i}", suffix(traced)) for i in range(len(group.rules))
        ]
        for i, rule in enumerate(group.rules):
            cond_node = (
                index.rest.get(i, rule.when) if i in index.rest or i not in index.keys else None
            )
            if not traced:
                self.shared_rule(ec, group, rule, cond_node, params, rule_names[i])
                continue
            m.mark(rule_origin(group, rule), 0)
            contribution = ec.contribution_code(group, rule)
            m.emit(f"def {rule_names[i]}({params}):")
            cond = Code("True") if cond_node is None else ec.expr(cond_node)
            self.trace_rule(ec, group, rule, cond)
            m.emit(f"return {contribution.text} if _w else _NO", 1)
            m.emit("")
        table = ident("_IX_", group.name, suffix(traced))
        m.late_indexes[table] = (
            {key: tuple(rule_names[i] for i in rules) for key, rules in index.by_key.items()},
            tuple(rule_names[i] for i in index.always),
        )
        m.mark(group_origin(group), 0)
        self.group_header(ec, group, traced)
        key = ec.expr(index.path).text
        if group.hit == "collect":
            m.emit("_r = []", 1)
        m.emit(f"for _rule in {table}[0].get({key}, {table}[1]):", 1)
        m.emit(f"_v = _rule({params})", 2)
        m.emit("if _v is not _NO:", 2)
        if group.hit == "collect":
            m.emit("_r.append(_v)", 3)
            m.emit("return _r", 1)
        else:
            m.emit("return _v", 3)
            default = (
                ec.widened(group.default, group.type).text if group.default is not None else "None"
            )
            m.emit(f"return {default}", 1)
        m.emit("")
        m.mark(None, 0)

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
            cond = Code("True") if cond_node is None else ec.expr(cond_node)
        finally:
            literals, ec.literals = ec.literals, None
        slots = [f"{ident('_c', str(j))}=None" for j in range(len(literals))]
        signature = ", ".join(a for a in [params, *slots] if a)
        body = f"return {contribution.text} if {cond.text} else _NO"
        # Rules share a shape when their code is the same: the key is that code itself.
        shape = m.shapes.get((signature, body))
        if shape is None:
            shape = m.shapes[(signature, body)] = ident("_shape", str(len(m.shapes)))
            m.mark(
                origin(
                    f"rules of {group.name} shaped like {rule.definition.id}",
                    rule.definition.location,
                ),
                0,
            )
            m.emit(f"def {shape}({signature}):")
            m.emit(body, 1)
            m.emit("")
            m.mark(None, 0)
        m.instances[name] = (shape, tuple(literals))


def suffix(traced: bool) -> str:
    """The suffix of the traced copy's names."""
    return "_t" if traced else ""


def group_params(ec: ExprCompiler, group: CheckedGroup) -> str:
    return ", ".join([*ec.hidden_of(group.name), *(ident("v_", p) for p, _ in group.params)])


def group_origin(group: CheckedGroup) -> Origin:
    return origin(f"rule group {group.name}", group.definition.location)
