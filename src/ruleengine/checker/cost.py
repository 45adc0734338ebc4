"""The static cost bound: each decision's worst-case cost as a polynomial in input size.

Like CEL's cost estimator: every expression gets a cost (steps) and a size (the length
of the string or list it builds, the digits of an int), both polynomials in `n`, the
size of the largest input list or text (a field's `max_length` bounds it instead).
A quantifier costs its collection's size times its body; a helper or rule group costs
its body with its parameters sized by the arguments (so `f(x) + f(x)` costs twice `f`,
and 40 helpers each calling the previous twice cost 2^40); `a + b` on texts or lists
builds `size(a) + size(b)`; `a * b` on ints builds `digits(a) + digits(b)` digits.
Recursion is refused before this runs, so every cost is a polynomial; what is refused is
a cost over `CostLimits.max_steps` at `n = CostLimits.nominal_size`, reported as
`cost_limit` at the smallest expression over the limit (the one that drives it).

Public entry: `cost_diagnostics(version, limits)`; `Poly.at(n)` evaluates a decision's
bound (the runtime budget uses it with the request's actual sizes).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ..errors import Code, Diagnostic
from ..model import ExprSource, Limits
from ..nodes import (
    Binary,
    Call,
    Expr,
    IfElse,
    Index,
    ListLit,
    Literal,
    Macro,
    MapLit,
    Member,
    RecordLit,
    SetLit,
    Unary,
    Var,
    children,
)
from ..typesys import INT, STRING, ListT, MapT, OptT, RecordT, SetT, Type
from .program import CheckedDecision, CheckedVersion

Poly = tuple[int, ...]  # coefficients, lowest degree first: (3, 0, 2) is 3 + 2n^2
ONE: Poly = (1,)
N: Poly = (0, 1)


# What `check` allows: at most `max_steps` for inputs of `nominal_size` items (the cost
# fields of the version limits, model.Limits).
CostLimits = Limits


def add(*polys: Poly) -> Poly:
    width = max(len(p) for p in polys)
    return tuple(sum(p[i] for p in polys if i < len(p)) for i in range(width))


def biggest(*polys: Poly) -> Poly:
    width = max(len(p) for p in polys)
    return tuple(max((p[i] for p in polys if i < len(p)), default=0) for i in range(width))


def times(a: Poly, b: Poly) -> Poly:
    out = [0] * (len(a) + len(b) - 1)
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            out[i + j] += x * y
    return tuple(out)


def at(poly: Poly, n: int) -> int:
    """The polynomial's value for inputs of size `n`."""
    return sum(c * n**i for i, c in enumerate(poly))


@dataclass(frozen=True, slots=True)
class Cost:
    steps: Poly
    size: Poly
    over: bool = False  # this or a part of it is already reported over the limit


Env = dict[str, "Cost"]  # a name's size (and whether computing it was over the limit)


def _sized(t: Type) -> bool:
    t = t.inner if isinstance(t, OptT) else t
    return t == STRING or isinstance(t, ListT | SetT | MapT | RecordT)


@dataclass
class _Estimator:
    version: CheckedVersion
    limits: CostLimits
    diagnostics: list[Diagnostic] = field(default_factory=list)
    memo: dict[tuple[str, tuple[Poly, ...]], Cost] = field(default_factory=dict)
    table_sizes: dict[str, Poly] = field(default_factory=dict)

    def too_big(self, steps: Poly) -> bool:
        return at(steps, self.limits.nominal_size) > self.limits.max_steps

    def report(self, node: Expr, src: ExprSource, steps: Poly) -> None:
        n = self.limits.nominal_size
        message = (
            f"this expression may take about {at(steps, n):.2e} steps for inputs of "
            f"{n:,} items (the limit is {self.limits.max_steps:,}); its cost grows like "
            f"{_describe(steps)}"
        )
        hint = (
            "bound the inputs (`max_length`), avoid calling a helper twice on the same "
            "value, and avoid nesting quantifiers over the same list"
        )
        found = src.diagnostic(Code.COST_LIMIT, message, node.span.start, node.span.end, hint)
        if all(
            (d.file, d.line, d.column) != (found.file, found.line, found.column)
            for d in self.diagnostics
        ):
            self.diagnostics.append(found)

    def done(
        self, node: Expr, src: ExprSource, steps: Poly, size: Poly, parts: Iterable[Cost]
    ) -> Cost:
        over = any(p.over for p in parts)
        if not over and self.too_big(steps):
            self.report(node, src, steps)
            over = True
        return Cost(steps, size, over)

    def type_of(self, node: Expr) -> Type | None:
        return self.version.types.get(id(node))

    def expr(self, node: Expr, env: Env, src: ExprSource) -> Cost:
        match node:
            case Literal(value=value):
                return Cost(ONE, (len(value),) if isinstance(value, str) else ONE)
            case Var(name=name):
                known = env.get(name)
                return known or Cost(ONE, self.table_size(name))
            case Macro():
                return self.macro(node, env, src)
            case Call(name=name, args=args):
                return self.call(node, name, args, env, src)
            case Binary(op=op, left=left, right=right):
                return self.binary(node, op, left, right, env, src)
            case IfElse(cond=cond, then=then, otherwise=other):
                c, t, o = (self.expr(x, env, src) for x in (cond, then, other))
                steps = add(c.steps, biggest(t.steps, o.steps))
                return self.done(node, src, steps, biggest(t.size, o.size), (c, t, o))
            case Member() | Index() | Unary():
                parts = [self.expr(x, env, src) for x in children(node)]
                steps = add(ONE, *(p.steps for p in parts))
                return self.done(node, src, steps, parts[0].size, parts)
            case ListLit() | SetLit() | RecordLit() | MapLit():
                parts = [self.expr(x, env, src) for x in children(node)]
                steps = add(ONE, *(p.steps for p in parts))
                return self.done(node, src, steps, add(ONE, *(p.size for p in parts)), parts)
        return Cost(ONE, ONE)  # pragma: no cover - every node kind is matched above

    def table_size(self, name: str) -> Poly:
        """A table's size: its longest list, map or text (rows included), a constant."""
        if name not in self.table_sizes:
            table = self.version.tables.get(name)
            self.table_sizes[name] = (_longest(table.value),) if table else ONE
        return self.table_sizes[name]

    def message_size(self) -> Poly:
        """The longest text `message(code)` or `remedy(code)` may return (or the code)."""
        texts = [
            text
            for reason in self.version.reasons.values()
            for text in (reason.remedy or "", *(t for _locale, t in reason.messages))
        ]
        return (max((len(t) for t in texts), default=1),)

    def macro(self, node: Macro, env: Env, src: ExprSource) -> Cost:
        coll = self.expr(node.collection, env, src)
        coll_type = self.type_of(node.collection)
        elem = coll_type.elem if isinstance(coll_type, ListT | SetT) else None
        item = coll.size if elem is None or _sized(elem) else ONE
        inner = {**env, node.var: Cost(ONE, item)}
        body = [self.expr(b, inner, src) for b in node.body]
        per_item = add(ONE, *(b.steps for b in body))
        steps = add(coll.steps, times(coll.size, per_item))
        if node.name in ("map", "to_map"):  # as long as the list, items as large as built
            size = biggest(coll.size, *(b.size for b in body))
        elif node.name in ("filter", "first"):
            size = coll.size
        else:
            size = ONE
        return self.done(node, src, steps, size, (coll, *body))

    def binary(
        self, node: Binary, op: str, left: Expr, right: Expr, env: Env, src: ExprSource
    ) -> Cost:
        a, b = self.expr(left, env, src), self.expr(right, env, src)
        steps, size = add(ONE, a.steps, b.steps), ONE
        t = self.type_of(node)
        if op == "+" and t is not None and _sized(t):
            size = add(a.size, b.size)
            steps = add(steps, size)
        elif t is not None and _sized(t):  # `??`, set difference...: one side or less
            size = biggest(a.size, b.size)
        elif op == "*" and t == INT:
            size = add(a.size, b.size)
            steps = add(steps, times(a.size, b.size))
        elif op in ("in", "not in", "==", "!=", "<", "<=", ">", ">="):
            steps = add(steps, biggest(a.size, b.size))
        return self.done(node, src, steps, size, (a, b))

    def call(
        self, node: Call, name: str, args: tuple[Expr, ...], env: Env, src: ExprSource
    ) -> Cost:
        parts = [self.expr(a, env, src) for a in args]
        sizes = tuple(p.size for p in parts)
        callee = self.callable(name, sizes)
        if callee is None:  # a builtin: linear in its arguments, builds at most their size
            size = add(ONE, *sizes)
            if name == "flatten":  # as many items as the lists hold: outer x inner length
                size = add(ONE, times(sizes[0], sizes[0]))
            elif name in ("message", "remedy"):
                size = add(size, self.message_size())
            steps = add(ONE, size, *(p.steps for p in parts))
            return self.done(node, src, steps, size, parts)
        steps = add(ONE, callee.steps, *(p.steps for p in parts))
        return self.done(node, src, steps, callee.size, (*parts, callee))

    def callable(self, name: str, sizes: tuple[Poly, ...]) -> Cost | None:
        key = (name, sizes)
        if key in self.memo:
            return self.memo[key]
        function = next((f for f in self.version.functions if f.name == name), None)
        group = self.version.groups.get(name)
        if function is not None:
            env: Env = {p: Cost(ONE, s) for (p, _t), s in zip(function.params, sizes, strict=False)}
            sources = {b.name: b.expr for b in function.definition.let}
            lets = [(name_, sources[name_], e) for name_, e, _t in function.lets]
            found = self.body(env, lets, [(function.definition.body, function.body)])
        elif group is not None:
            env = {p: Cost(ONE, s) for (p, _t), s in zip(group.params, sizes, strict=False)}
            exprs = []
            for rule in group.rules:
                exprs.append((rule.definition.when, rule.when))
                if rule.then is not None and rule.definition.then is not None:
                    exprs.append((rule.definition.then, rule.then))
            if group.default is not None and group.definition.default is not None:
                exprs.append((group.definition.default, group.default))
            found = self.body(env, [], exprs)
            # A group that collects holds one item per rule.
            found = Cost(found.steps, biggest(found.size, (len(group.rules) + 1,)), found.over)
        else:
            return None
        self.memo[key] = found
        return found

    def body(
        self,
        env: Env,
        lets: list[tuple[str, ExprSource, Expr]],
        exprs: list[tuple[ExprSource, Expr]],
    ) -> Cost:
        steps: Poly = ONE
        over = False
        for name, src, e in lets:
            found = self.expr(e, env, src)
            env = {**env, name: Cost(ONE, found.size, found.over)}
            steps, over = add(steps, found.steps), over or found.over
        results = [self.expr(e, env, src) for src, e in exprs]
        steps = add(steps, *(r.steps for r in results))
        size = biggest(ONE, *(r.size for r in results))
        return Cost(steps, size, over or any(r.over for r in results))

    def decision(self, decision: CheckedDecision) -> Cost:
        env: Env = {}
        for field_ in decision.inputs:
            bound = field_.spec.max_length
            size = (bound,) if bound else (N if _sized(field_.type) else ONE)
            env[field_.spec.name] = Cost(ONE, size)
        sources = {b.name: b.expr for b in (*decision.definition.let, *decision.definition.output)}
        lets = [(name, sources[name], e) for name, e, _t in decision.lets]
        outputs = [(sources[name], e) for name, e, _t in decision.outputs]
        return self.body(env, lets, outputs)


def _longest(value: object) -> int:
    """The length of the longest text, list, set or map in `value` (at least 1)."""
    best, stack = 1, [value]
    while stack:
        current = stack.pop()
        if isinstance(current, str):
            best = max(best, len(current))
        elif isinstance(current, dict):
            best = max(best, len(current))
            stack.extend(current.keys())
            stack.extend(current.values())
        elif isinstance(current, list | tuple | set | frozenset):
            best = max(best, len(current))
            stack.extend(current)
    return best


def _describe(poly: Poly) -> str:
    degree = max((i for i, c in enumerate(poly) if c), default=0)
    lead = poly[degree]
    power = {0: "", 1: " x n"}.get(degree, f" x n^{degree}")
    factor = f"2^{lead.bit_length() - 1}" if lead >= 1 << 20 else f"{lead:,}"
    return f"{factor}{power}"


def decision_costs(
    version: CheckedVersion, limits: CostLimits | None = None
) -> tuple[dict[str, Poly], list[Diagnostic]]:
    """Each decision's cost bound (steps as a polynomial in n) and the `cost_limit` errors."""
    estimator = _Estimator(version, limits or CostLimits())
    costs = {name: estimator.decision(d).steps for name, d in version.decisions.items()}
    return costs, estimator.diagnostics
