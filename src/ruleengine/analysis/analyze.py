"""`ruleengine analyze`: logic problems of one version, proved with z3.

Rule groups are analysed on their own, each parameter ranging over every value
of its type (records over their schema's constraints): a rule that can never
fire for any such value can never fire from any call. `if` conditions and
table lookups are analysed inside each decision, with the decision's input
schema and the path conditions above them, and a finding is reported only if
it holds in every decision that evaluates them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import z3

from .. import jsonio
from ..nodes import Binary, Expr, Index, Member, walk
from .evaluator import Evaluator, Seen
from .findings import Analysis, Finding, NotAnalysed, node_location
from .inputs import InputBuilder, SymbolicInput, symbolic_input
from .program import CheckedGroup, CheckedRule, CheckedVersion
from .symbolic import outputs
from .values import NOT, OR, Term, Unsupported, equal, payload

UNKNOWN = "unknown"
TIMEOUT_MS = 5_000
LIST_BOUND = 2  # input lists analysed up to this many items (docs/analysis.md)


class Checker:
    """A solver holding one scope's input constraints, asked many small questions."""

    def __init__(self, inputs: SymbolicInput, timeout_ms: int = TIMEOUT_MS):
        self.inputs = inputs
        self.solver = z3.Solver()
        self.solver.set("timeout", timeout_ms)
        self._added = 0
        self.sync()

    def sync(self) -> None:
        """Add the constraints (and facts of functions met since) not yet given."""
        new = self.inputs.constraints[self._added :]
        if new:
            self.solver.add(*new)
            self._added += len(new)

    def example(self, *terms: Term) -> dict[str, Any] | None:
        """An input satisfying every term (readable if possible), None when none exists, {}
        when the solver cannot tell (reported without an example, never as "none")."""
        found = self.model(*terms)
        if found is None or found == UNKNOWN:
            return None if found is None else {}
        return self.inputs.to_json(found)

    def model(self, *terms: Term) -> Any:
        """A model of every term (readable if possible), None if there is none, or UNKNOWN."""
        self.sync()
        s = self.solver
        s.push()
        try:
            s.add(*terms)
            answer = s.check()
            if answer != z3.sat:
                return None if answer == z3.unsat else UNKNOWN
            s.push()
            s.add(*self.inputs.nice)
            model = s.model() if s.check() == z3.sat else None
            s.pop()
            if model is None:
                s.check()
                model = s.model()
            return model
        finally:
            s.pop()

    def impossible(self, *terms: Term) -> bool:
        """True only when proved: no valid input satisfies every term."""
        self.sync()
        s = self.solver
        s.push()
        try:
            s.add(*terms)
            return bool(s.check() == z3.unsat)
        finally:
            s.pop()


# --- rule groups ------------------------------------------------------------------


def _group_scope(
    checked: CheckedVersion, group: CheckedGroup, list_bound: int
) -> tuple[SymbolicInput, dict[str, Any]]:
    inputs = SymbolicInput(list_bound=list_bound)
    builder = InputBuilder(checked, inputs)
    env = {}
    for name, t in group.params:
        env[name], inputs.readers[name] = builder.typed(t, None, name)
    symbolic_input(checked, (), inputs)  # as_of and locale
    return inputs, env


def analyse_group(checked: CheckedVersion, group: CheckedGroup, out: Analysis) -> None:
    try:
        inputs, env = _group_scope(checked, group, out.list_bound)
    except Unsupported as exc:
        out.not_analysed.append(
            NotAnalysed(f"rule group {group.name}", group.definition.location, exc.what)
        )
        return
    ev = Evaluator(
        checked, inputs.values["as_of"], inputs.values["locale"], facts=inputs.constraints
    )
    check = Checker(inputs)
    conds: list[Term | None] = []
    values: list[object] = []
    for rule in group.rules:
        ev.bounded = False
        try:
            with ev.reading(rule.definition.when):
                conds.append(ev.truth(rule.when, env))
            values.append(_contribution(ev, rule, env, conds[-1]))
        except Unsupported as exc:
            conds.append(None)
            values.append(None)
            out.not_analysed.append(
                NotAnalysed(f"rule {rule.definition.id}", rule.definition.when.location, exc.what)
            )
            continue
        out.rules += 1
        _rule_findings(check, group, len(conds) - 1, conds, ev.bounded or inputs.bounded, out)
    if group.hit == "first":
        _first_hit_findings(check, group, conds, values, inputs.bounded, out)


def _contribution(ev: Evaluator, rule: CheckedRule, env: dict[str, Any], cond: Term) -> object:
    if rule.then is None:
        return z3.StringVal(rule.definition.reason or "")
    with ev.under(cond), ev.reading(rule.definition.then):
        return ev.expr(rule.then, env)


def _rule_findings(
    check: Checker, group: CheckedGroup, i: int, conds: list[Any], bounded: bool, out: Analysis
) -> None:
    rule = group.rules[i].definition
    cond = conds[i]
    where = rule.when.location
    length = len(rule.when.text.split("\n", 1)[0].rstrip()) or 1
    if check.impossible(cond):
        out.findings.append(
            Finding(
                "rule_never_fires",
                f"rule {rule.id!r} of {group.name!r} can never fire: its condition is false "
                "for every valid input",
                where,
                length,
                bounded=bounded,
            )
        )
        return
    if check.impossible(NOT(cond)):
        out.findings.append(
            Finding(
                "rule_always_fires",
                f"rule {rule.id!r} of {group.name!r} fires for every valid input",
                where,
                length,
                bounded=bounded,
            )
        )
    if group.hit != "first" or i == 0:
        return
    earlier = [c for c in conds[:i] if c is not None]
    if earlier and check.impossible(cond, NOT(OR(*earlier))):
        by = [
            group.rules[j].definition
            for j, c in enumerate(conds[:i])
            if c is not None and check.impossible(cond, NOT(c))
        ]
        culprits = by[:1] or [group.rules[j].definition for j in range(i) if conds[j] is not None]
        out.findings.append(
            Finding(
                "rule_shadowed",
                f"rule {rule.id!r} of {group.name!r} never decides: "
                + (
                    f"rule {by[0].id!r} before it matches every input it matches"
                    if by
                    else "the rules before it together match every input it matches"
                ),
                where,
                length,
                notes=tuple((f"rule {r.id!r} is here", r.location) for r in culprits),
                bounded=bounded,
            )
        )


def _first_hit_findings(
    check: Checker,
    group: CheckedGroup,
    conds: list[Any],
    values: list[Any],
    bounded: bool,
    out: Analysis,
) -> None:
    known = [c for c in conds if c is not None]
    if group.default is None and len(known) == len(conds):
        example = check.example(NOT(OR(*known)))
        if example is not None:
            out.findings.append(
                Finding(
                    "group_gap",
                    f"no rule of {group.name!r} matches some inputs, and it has no default: "
                    "it answers null",
                    group.definition.location,
                    example=example or None,
                    bounded=bounded,
                )
            )
    shadowed = {f.location for f in out.findings if f.code in ("rule_shadowed", "rule_never_fires")}
    for j in range(len(conds)):
        if conds[j] is None or group.rules[j].definition.when.location in shadowed:
            continue
        for i in range(j):
            _overlap(check, group, conds, values, i, j, bounded, out)


def _overlap(
    check: Checker,
    group: CheckedGroup,
    conds: list[Any],
    values: list[Any],
    i: int,
    j: int,
    bounded: bool,
    out: Analysis,
) -> None:
    """Rule i decides an input rule j also matches (no earlier rule does), differently."""
    a, b = conds[i], conds[j]
    if a is None or any(c is None for c in conds[:i]):
        return
    try:
        differ = NOT(equal(values[i], values[j]))
    except Unsupported:
        return
    example = check.example(a, b, differ, *(NOT(c) for c in conds[:i]))
    if example is None:
        return
    first, second = group.rules[i].definition, group.rules[j].definition
    out.findings.append(
        Finding(
            "rules_overlap",
            f"rules {first.id!r} and {second.id!r} of {group.name!r} both match some "
            f"inputs and give different values; {first.id!r} wins (hit: first)",
            second.when.location,
            example=example or None,
            notes=((f"rule {first.id!r} is here", first.location),),
            bounded=bounded,
        )
    )


# --- decisions: if conditions and lookups -------------------------------------------


@dataclass
class _NodeFacts:
    """What one `if` condition or lookup was in every context that evaluated it."""

    node: Expr
    seen: Seen
    always_true: bool = True
    always_false: bool = True
    evaluated: bool = False
    gap: dict[str, Any] | None = None
    missing: str | None = None  # the key values of the gap's example
    bounded: bool = False
    contexts: list[str] = field(default_factory=list)


def _defaulted_lookups(checked: CheckedVersion) -> set[int]:
    """Lookups whose miss a `??` replaces by a default (t[k] ?? d, t[k]?.f ?? d)."""
    found: set[int] = set()
    for node in _all_expressions(checked):
        for sub in walk(node):
            if isinstance(sub, Binary) and sub.op == "??":
                left = sub.left
                while isinstance(left, Member):
                    left = left.obj
                if isinstance(left, Index):
                    found.add(id(left))
    return found


def _all_expressions(checked: CheckedVersion) -> Iterable[Expr]:
    for f in checked.functions:
        yield f.body
        yield from (n for _, n, _ in f.lets)
    for g in checked.groups.values():
        for r in g.rules:
            yield r.when
            if r.then is not None:
                yield r.then
        if g.default is not None:
            yield g.default
    for d in checked.decisions.values():
        yield from (n for _, n, _ in d.lets)
        yield from (n for _, n, _ in d.outputs)


def analyse_decisions(checked: CheckedVersion, out: Analysis) -> dict[int, _NodeFacts]:
    facts: dict[int, _NodeFacts] = {}
    for decision in checked.decisions.values():
        seen: list[Seen] = []
        inputs = SymbolicInput(list_bound=out.list_bound)
        try:
            symbolic_input(checked, decision.inputs, inputs)
        except Unsupported as exc:
            out.not_analysed.append(
                NotAnalysed(f"decision {decision.name}", decision.definition.location, exc.what)
            )
            continue
        results = outputs(checked, decision, inputs, seen.append)
        for name, value in results.items():
            if isinstance(value, Unsupported):
                where = next(b.location for b in decision.definition.output if b.name == name)
                out.not_analysed.append(
                    NotAnalysed(f"output {name} of decision {decision.name}", where, value.what)
                )
        out.decisions += 1
        check = Checker(inputs)
        for entry in seen:
            _learn(
                check,
                entry,
                facts.setdefault(id(entry.node), _NodeFacts(entry.node, entry)),
                inputs,
            )
    return facts


def _learn(check: Checker, entry: Seen, fact: _NodeFacts, inputs: SymbolicInput) -> None:
    fact.bounded = fact.bounded or inputs.bounded
    is_condition = entry.table is None and entry.keys == ()
    if is_condition and not (fact.always_true or fact.always_false):
        return  # already known to go both ways
    if not is_condition and fact.gap is not None:
        return  # a gap is already known
    if not is_condition:
        fact.gap, fact.missing = _lookup_gap(check, entry)
        fact.evaluated = fact.evaluated or fact.gap is not None or not check.impossible(entry.guard)
        return
    can_be_false = not check.impossible(entry.guard, NOT(entry.term))
    can_be_true = not check.impossible(entry.guard, entry.term)
    if can_be_false or can_be_true:  # else not reachable here: says nothing
        fact.evaluated = True
        fact.always_true = fact.always_true and not can_be_false
        fact.always_false = fact.always_false and not can_be_true


def _lookup_gap(check: Checker, entry: Seen) -> tuple[dict[str, Any] | None, str | None]:
    """An input for which the lookup misses; a key made from a free string (no enum, no
    table) ranges over the table's own keys, so that the gap names a missing combination."""
    restrict = []
    for i, key in enumerate(entry.keys):
        key = payload(key)
        if z3.is_expr(key) and _reads_free_string(key, check.inputs.free_strings):
            own = entry.own_keys[i] if i < len(entry.own_keys) else ()
            restrict.append(OR(*(equal(key, v) for v in own)))
    model = check.model(entry.guard, NOT(entry.term), *restrict)
    if model is None:
        return None, None
    if model == UNKNOWN:
        return {}, None
    keys = [model.eval(payload(k), True) for k in entry.keys]
    shown = ", ".join(jsonio.dumps(_python(k)) for k in keys)
    return check.inputs.to_json(model), f"[{shown}]"


def _python(term: Term) -> object:
    if z3.is_string_value(term):
        return term.as_string()
    if z3.is_int_value(term):
        return term.as_long()
    if z3.is_true(term) or z3.is_false(term):
        return z3.is_true(term)
    return str(term)


def _reads_free_string(term: Term, free: set[str]) -> bool:
    stack, seen = [term], set()
    while stack:
        t = stack.pop()
        if t.get_id() in seen:
            continue
        seen.add(t.get_id())
        if z3.is_const(t) and t.decl().kind() == z3.Z3_OP_UNINTERPRETED and str(t) in free:
            return True
        stack.extend(t.children())
    return False


def report_decision_facts(
    checked: CheckedVersion, facts: dict[int, _NodeFacts], out: Analysis
) -> None:
    defaulted = _defaulted_lookups(checked)
    fallback = checked.model.manifest.location
    for fact in facts.values():
        if not fact.evaluated:
            continue
        entry = fact.seen
        if entry.table is None and entry.keys == ():
            out.conditions += 1
            cond = getattr(entry.node, "cond", entry.node)
            where, length = node_location(entry.source, cond, fallback)
            for flag, code, word in (
                (fact.always_true, "condition_always_true", "true"),
                (fact.always_false, "condition_always_false", "false"),
            ):
                if flag:
                    out.findings.append(
                        Finding(
                            code,
                            f"this condition is always {word} where it is evaluated",
                            where,
                            length,
                            bounded=fact.bounded,
                        )
                    )
            continue
        out.lookups += 1
        if fact.gap is not None:
            where, length = node_location(entry.source, entry.node, fallback)
            code = "table_gap_default" if id(entry.node) in defaulted else "table_gap"
            name = entry.table or "the map"
            tail = "; the default after `??` is used" if code == "table_gap_default" else ""
            which = f"{name}{fact.missing}" if fact.missing else f"{name}[...]"
            out.findings.append(
                Finding(
                    code,
                    f"no entry for {which}, which valid inputs can ask for{tail}",
                    where,
                    length,
                    example=fact.gap or None,
                    bounded=fact.bounded,
                )
            )


def analyse_version(checked: CheckedVersion, list_bound: int = LIST_BOUND) -> Analysis:
    """Every finding of one checked version, and what was not analysed."""
    manifest = checked.model.manifest
    out = Analysis(manifest.ruleset, manifest.version, list_bound=list_bound)
    for group in checked.groups.values():
        analyse_group(checked, group, out)
    facts = analyse_decisions(checked, out)
    report_decision_facts(checked, facts, out)
    out.findings.sort(key=Finding.sort_key)
    return out
