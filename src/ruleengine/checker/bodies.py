"""The bodies of definitions: reasons, functions, rule groups and decisions.

Each walk checks one kind of definition with the expression checker and
builds its `Checked*` value; `check_version` calls them in order.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import Code
from ..model import (
    Binding,
    DecisionDef,
    ExprSource,
    FunctionDef,
    Location,
    ParamSpec,
    RuleDef,
    RuleGroupDef,
)
from ..nodes import Expr
from ..stdlib import RESERVED_NAMES
from ..typesys import (
    BOOL,
    DATE,
    ERROR,
    NEVER,
    STRING,
    ListT,
    RecordT,
    TableT,
    Type,
    is_optional,
    optional,
    unify,
)
from .decls import Declarations
from .exprs import ExprChecker
from .narrowing import NO_NARROWING, Narrowing, narrow
from .order import references, topological, variables
from .program import CheckedDecision, CheckedFunction, CheckedGroup, CheckedRule, InputField
from .state import CheckState, Scope, hint, note

Params = tuple[tuple[str, Type], ...]
Lets = list[tuple[str, Expr, Type]]


class Bodies:
    """Checks the definitions of one version; `call_order` before `check_callables`."""

    def __init__(self, state: CheckState, decls: Declarations, exprs: ExprChecker):
        self.state = state
        self.decls = decls
        self.exprs = exprs
        self.at = state.at
        model = state.model
        self.defs: dict[str, FunctionDef | RuleGroupDef] = {f.name: f for f in model.functions}
        self.defs.update({g.name: g for g in model.groups})
        self.parsed: dict[int, Expr | None] = {}
        self.in_cycle: set[str] = set()
        self.rule_ids: dict[str, Location] = {}
        self.first_giver: Location | None = None

    def base_scope(self) -> Scope:
        """The names every expression sees: the reserved inputs."""
        return Scope({"as_of": DATE, "locale": STRING}, {"as_of": "reserved", "locale": "reserved"})

    def parsed_expr(self, source: ExprSource) -> Expr | None:
        """Parse an expression once (the order and the bodies both need it)."""
        key = id(source)
        if key not in self.parsed:
            self.parsed[key] = self.exprs.parse(source)
        return self.parsed[key]

    def typed(
        self, source: ExprSource, node: Expr, scope: Scope, facts: Narrowing = NO_NARROWING
    ) -> Type:
        self.exprs.source = source
        return self.exprs.check(node, scope, facts)

    # -- reasons

    def check_reasons(self) -> None:
        """Every reason has a message in every declared locale, and in no other."""
        locales = self.state.model.manifest.locales
        if self.state.is_broken("manifest", "locales"):
            return  # reported in the manifest
        for reason in self.state.model.reasons:
            have = dict(reason.messages)
            for locale in locales:
                if locale not in have:
                    self.at(
                        reason.location,
                        Code.MISSING_MESSAGE,
                        f"reason {reason.code!r} has no {locale!r} message",
                        f"add messages.{locale} (the version declares locales: {', '.join(locales)})",
                    )
            for locale in have:
                if locale not in locales:
                    self.at(
                        reason.location,
                        Code.UNKNOWN_LOCALE,
                        f"reason {reason.code!r} has a message in {locale!r}, "
                        f"which is not among the version's locales ({', '.join(locales)})",
                        "add it to `locales` in manifest.yaml or remove the message",
                    )

    # -- scopes

    def param_scope(self, params: Sequence[ParamSpec], owner: str) -> tuple[Scope, Params]:
        base = self.base_scope()
        names, kinds = dict(base.names), dict(base.kinds)
        typed = []
        for p in params:
            t = self.decls.resolve_type(p.type_text, p.type_location)
            if p.name in RESERVED_NAMES or p.name in self.state.tables:
                self.at(
                    p.type_location,
                    Code.DUPLICATE_NAME,
                    f"parameter {p.name!r} of {owner} hides a "
                    f"{'reserved name' if p.name in RESERVED_NAMES else 'table'}; rename it",
                )
            names[p.name] = t
            kinds[p.name] = "param"
            typed.append((p.name, t))
        return Scope(names, kinds), tuple(typed)

    def check_lets(
        self, bindings: Sequence[Binding], scope: Scope, local_kind: str
    ) -> tuple[Lets, Scope]:
        """Check `let` bindings in dependency order; return them and the scope they make."""
        self._let_clashes(bindings, scope, local_kind)
        sources = {b.name: b for b in bindings}
        let_deps = {}
        for b in bindings:
            node = self.parsed_expr(b.expr)
            let_deps[b.name] = (variables(node) & set(sources)) if node is not None else set()
        order, let_cycles = topological([b.name for b in bindings], let_deps)
        in_let_cycle: set[str] = set()
        for cycle in let_cycles:
            in_let_cycle.update(cycle)
            self.at(
                sources[cycle[0]].location,
                Code.RECURSION,
                f"let bindings depend on each other: {' -> '.join(cycle)}",
            )
        for name in sorted(in_let_cycle):  # known but untyped: no follow-on errors
            scope = scope.child(name, ERROR, "let")
        checked = []
        for name in order:
            b = sources[name]
            node = self.parsed_expr(b.expr)
            if name in in_let_cycle:
                continue
            if node is None:
                scope = scope.child(name, ERROR, "let")
                continue
            t = self.typed(b.expr, node, scope)
            if isinstance(t, TableT):
                t = self.exprs.err(
                    node,
                    Code.TYPE_MISMATCH,
                    "a table cannot be bound to a name; look rows up where needed",
                )
            scope = scope.child(name, t, "let")
            checked.append((name, node, t))
        return checked, scope

    def _let_clashes(self, bindings: Sequence[Binding], scope: Scope, local_kind: str) -> None:
        for b in bindings:
            clash = (
                local_kind
                if b.name in scope.names
                else "a table"
                if b.name in self.state.tables
                else "a function"
                if b.name in self.state.callables or b.name in self.defs or b.name in RESERVED_NAMES
                else None
            )
            if clash:
                self.at(b.location, Code.DUPLICATE_NAME, f"let {b.name!r} has the name of {clash}")

    # -- functions and rule groups

    def check_definition_names(self) -> None:
        for name, d in self.defs.items():
            if name in RESERVED_NAMES:
                self.at(
                    d.location,
                    Code.DUPLICATE_NAME,
                    f"{name!r} is a reserved name (a built-in function or input)",
                )
            elif name in self.state.tables:
                self.at(d.location, Code.DUPLICATE_NAME, f"{name!r} is already a table")

    def call_order(self) -> list[str]:
        """Functions and rule groups, callees first; recursion is reported.

        Members of a cycle are known, with their parameters, before any body is checked:
        a call to one is checked against its parameters and has no type (no follow-on errors).
        """
        deps: dict[str, set[str]] = {}
        for name, d in self.defs.items():
            sources = (
                [d.body, *(b.expr for b in d.let)]
                if isinstance(d, FunctionDef)
                else [
                    *(r.when for r in d.rules),
                    *(r.then for r in d.rules if r.then),
                    *([d.default] if d.default else []),
                ]
            )
            refs: set[str] = set()
            for source in sources:
                node = self.parsed_expr(source)
                if node is not None:
                    refs |= references(node)
            deps[name] = refs & set(self.defs)
        order, cycles = topological(list(self.defs), deps)
        for cycle in cycles:
            self.in_cycle.update(cycle)
            self.at(
                self.defs[cycle[0]].location,
                Code.RECURSION,
                f"{' -> '.join(cycle)}: functions and rule groups may not call themselves",
                "expressions must terminate; unroll the recursion into separate helpers",
            )
        for name in sorted(self.in_cycle):
            _, cycle_params = self.param_scope(self.defs[name].params, name)
            self.state.callables[name] = (cycle_params, ERROR)
        return order

    def check_callables(
        self, order: Sequence[str]
    ) -> tuple[list[CheckedFunction], dict[str, CheckedGroup]]:
        functions: list[CheckedFunction] = []
        groups: dict[str, CheckedGroup] = {}
        for name in order:
            d = self.defs[name]
            if isinstance(d, FunctionDef):
                function = self.check_function(d)
                if function is not None:
                    functions.append(function)
            else:
                groups[name] = self.check_group(d)
        return functions, groups

    def check_function(self, d: FunctionDef) -> CheckedFunction | None:
        scope, params = self.param_scope(d.params, f"function {d.name!r}")
        if d.name in self.in_cycle:
            self.state.callables[d.name] = (params, ERROR)
            return None
        lets, scope = self.check_lets(d.let, scope, "a parameter")
        node = self.parsed_expr(d.body)
        if node is None:
            self.state.callables[d.name] = (params, ERROR)
            return None
        t = self.typed(d.body, node, scope)
        self.state.callables[d.name] = (params, t)
        return CheckedFunction(d.name, params, node, t, d, tuple(lets))

    def check_group(self, d: RuleGroupDef) -> CheckedGroup:
        scope, params = self.param_scope(d.params, f"rule group {d.name!r}")
        checked_rules = []
        item_type: Type = NEVER
        self.first_giver = None  # the rule whose contribution set the type
        for rule in d.rules:
            checked = self.check_rule(rule, scope)
            if checked is None:
                continue
            contributed = checked[1]
            if contributed != ERROR and item_type != ERROR:
                joined = unify(item_type, contributed)
                if joined is None:
                    self.mismatch(
                        rule.then,
                        checked[0].then,
                        _gives(rule),
                        f"rule {rule.id!r} gives {contributed}, "
                        f"but earlier rules of {d.name!r} give {item_type}",
                        f"earlier rules give {item_type} here",
                    )
                    item_type = ERROR
                else:
                    if item_type == NEVER:
                        self.first_giver = _gives(rule)
                    item_type = joined
            else:
                item_type = ERROR
            checked_rules.append(checked[0])
        default, result = self.group_result(d, scope, item_type)
        if self.state.is_broken("value", d.name):
            result = ERROR  # partly read: its type is not known
        if d.name not in self.in_cycle:
            self.state.callables[d.name] = (params, result)
        return CheckedGroup(
            d.name, params, tuple(checked_rules), d.hit, default, result, item_type, d
        )

    def check_rule(self, rule: RuleDef, scope: Scope) -> tuple[CheckedRule, Type] | None:
        """The checked rule and the type it contributes; None if it does not parse."""
        if rule.id in self.rule_ids:
            self.at(
                rule.location,
                Code.DUPLICATE_RULE_ID,
                f"rule id {rule.id!r} is already used at {self.rule_ids[rule.id]}",
                "rule ids name rules in explanations and coverage; make them unique",
            )
        else:
            self.rule_ids[rule.id] = rule.location
        when = self.parsed_expr(rule.when)
        then = self.parsed_expr(rule.then) if rule.then else None
        if when is None or (rule.then and then is None):
            return None
        wt = self.typed(rule.when, when, scope)
        if wt not in (BOOL, ERROR):
            self.exprs.err(
                when,
                Code.TYPE_MISMATCH,
                f"`when` must be a bool, got {wt}",
                "compare it: `x != null`" if is_optional(wt) else None,
            )
        if rule.reason is not None:
            if rule.reason not in self.state.reasons and not self.state.is_broken(
                "reason", rule.reason
            ):
                self.at(
                    rule.reason_location or rule.location,
                    Code.UNKNOWN_REASON,
                    f"unknown reason code {rule.reason!r}",
                    hint(rule.reason, list(self.state.reasons))
                    or "declare it under `reasons:` with its messages",
                )
            return CheckedRule(rule, when, then), STRING
        assert rule.then is not None and then is not None
        return CheckedRule(rule, when, then), self.typed(rule.then, then, scope, narrow(when, True))

    def group_result(
        self, d: RuleGroupDef, scope: Scope, item_type: Type
    ) -> tuple[Expr | None, Type]:
        """The group's default (parsed) and its result type, from its hit policy."""
        default = self.parsed_expr(d.default) if d.default else None
        if d.hit == "collect":
            if d.default is not None:
                self.at(
                    d.location,
                    Code.BAD_RULE_GROUP,
                    f"rule group {d.name!r} collects every fired rule; "
                    "`default` only goes with `hit: first`",
                )
            return default, ListT(item_type) if item_type != ERROR else ERROR
        result = optional(item_type) if item_type not in (ERROR, NEVER) else item_type
        if default is not None and d.default is not None:
            dt = self.typed(d.default, default, scope)
            joined = unify(item_type, dt) if ERROR not in (dt, item_type) else ERROR
            if joined is None:
                self.mismatch(
                    d.default,
                    default,
                    d.default.location,
                    f"the default of {d.name!r} ({dt}) does not fit its rules ({item_type})",
                    f"the rules give {item_type} here",
                )
                joined = ERROR
            result = joined
        return default, result

    def mismatch(
        self,
        source: ExprSource | None,
        node: Expr | None,
        where: Location,
        message: str,
        because: str,
    ) -> None:
        """A result of another type than the group's: under the whole expression if there
        is one (else at `where`), with the rule that set the type as a note."""
        notes = note(because, self.first_giver)
        if source is not None and node is not None:
            self.exprs.source = source
            self.exprs.err(node, Code.TYPE_MISMATCH, message, notes=notes)
        else:
            self.at(where, Code.TYPE_MISMATCH, message, notes=notes)

    # -- decisions

    def check_decisions(self) -> dict[str, CheckedDecision]:
        return {d.name: self.check_decision(d) for d in self.state.model.decisions}

    def check_decision(self, decision: DecisionDef) -> CheckedDecision:
        inputs = self.decls.input_fields(decision.input)
        scope = self.input_scope(decision, inputs)
        lets, scope = self.check_lets(decision.let, scope, "an input")
        outputs = []
        for b in decision.output:
            node = self.parsed_expr(b.expr)
            if node is None:
                continue
            t = self.typed(b.expr, node, scope)
            if isinstance(t, TableT):
                t = self.exprs.err(
                    node,
                    Code.TYPE_MISMATCH,
                    "a table cannot be an output; output values read from it",
                )
            outputs.append((b.name, node, t))
        result_type = RecordT(tuple((n, t) for n, _, t in outputs), f"{decision.name}_result")
        return CheckedDecision(
            decision.name, inputs, tuple(lets), tuple(outputs), result_type, decision
        )

    def input_scope(self, decision: DecisionDef, inputs: Sequence[InputField]) -> Scope:
        base = self.base_scope()
        names, kinds = dict(base.names), dict(base.kinds)
        for f in inputs:
            where = f.spec.location or decision.location
            if f.spec.name in ("as_of", "locale"):
                self.at(
                    where,
                    Code.DUPLICATE_NAME,
                    f"{f.spec.name!r} is a reserved input of every decision; do not declare it",
                )
                continue
            if f.spec.name in self.state.tables:
                self.at(
                    where,
                    Code.DUPLICATE_NAME,
                    f"input {f.spec.name!r} has the name of a table",
                    "rename the input field or the table",
                )
            names[f.spec.name] = f.type
            kinds[f.spec.name] = "input"
        return Scope(names, kinds)


def _gives(rule: RuleDef) -> Location:
    """Where a rule says what it contributes: its `then`, or its `reason`."""
    if rule.then is not None:
        return rule.then.location
    return rule.reason_location or rule.location
