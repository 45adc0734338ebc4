"""Lowering: calls inlined and quantifiers turned into loops, in plain generated code.

Calls of small helper functions and rule groups are inlined (their parameters bound
to the argument code, or to a local computed once), and quantifier loops become
`for` statements in the compiler's statement sink, or module-level functions when
they cannot be hoisted. Only sub-expressions that are evaluated unconditionally are
lowered into statements: expressions are pure and total, so evaluating them before
the statement that needs them changes nothing but the cost.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..checker import CheckedFunction, CheckedGroup
from ..nodes import Call, Expr, Literal, Macro, Var, children, walk
from ..typesys import DECIMAL, Type
from .emit import NAME, Code, Mark, ident, lit, name_code
from .indexing import is_path
from .unit import rule_origin

if TYPE_CHECKING:
    from .expressions import ExprCompiler


# A quantifier over a constant list of at most this many scalars is unrolled.
UNROLL_MAX_ITEMS = 4


def loop_statement(ec: ExprCompiler, node: Macro) -> Code:
    """A quantifier or fold as a `for` statement in the sink; its value in a local."""
    items = constant_items(ec, node.collection) if node.name in ("any", "all") else None
    if items is not None:
        return unrolled(ec, node, items)
    coll = ec.collection(node.collection, node)
    var, result = ec.m.fresh("_b"), ec.m.fresh("_i")
    saved = ec.env.get(node.var)
    ec.env[node.var] = Code(var, cost=NAME)
    try:
        body = ec.branch(node.body[0])
    finally:
        ec.restore(node.var, saved)
    decimal = ec.type_of(node) == DECIMAL
    lines = loop_lines(node.name, decimal, var, coll.text, body.text, result)
    ec.statement(lines[0])
    ec.statement(lines[1], coll.reads | body.reads)
    for line in lines[2:]:
        ec.statement(line)
    return name_code(result)


def constant_items(ec: ExprCompiler, node: Expr) -> tuple[object, ...] | None:
    """The items of a table that is a short list of scalars (str, int, bool), else None."""
    if not isinstance(node, Var) or node.name in ec.env:
        return None
    table = ec.m.checked.tables.get(node.name)
    if table is None or type(table.value) not in (list, tuple):
        return None
    value: list[object] | tuple[object, ...] = table.value
    if len(value) > UNROLL_MAX_ITEMS:
        return None
    if not all(type(item) in (str, int, bool) for item in value):
        return None
    return tuple(value)


def unrolled(ec: ExprCompiler, node: Macro, items: tuple[object, ...]) -> Code:
    """any/all over constant items as one `or`/`and` of the body, once per item (the
    loop variable a literal): no loop, no local, and it still stops at the first item
    that decides."""
    saved = ec.env.get(node.var)
    parts = []
    try:
        for item in items:
            ec.env[node.var] = Code(lit(item), cost=NAME)
            parts.append(ec.branch(node.body[0]))
    finally:
        ec.restore(node.var, saved)
    if not parts:
        return Code("False" if node.name == "any" else "True", cost=NAME)
    joined = (" or " if node.name == "any" else " and ").join(f"({p.text})" for p in parts)
    return Code(f"({joined})", frozenset().union(*(p.reads for p in parts)))


def lifted_loop(ec: ExprCompiler, node: Macro) -> Code:
    """A quantifier or fold as a module-level function with a plain loop that stops
    early: cheaper than a generator expression fed to any()/all()/sum()."""
    m = ec.m
    bound = {sub.var for sub in walk(node.body[0]) if isinstance(sub, Macro)} | {node.var}
    free = sorted(
        {
            sub.name
            for sub in walk(node.body[0])
            if isinstance(sub, Var)
            and sub.name not in bound
            and sub.name not in m.checked.tables
            and sub.name not in ("as_of", "locale")
        }
    )
    needs = ec.m.needs_of([node.body[0]])
    # The body is compiled as the lifted function's own: its parameters are the free
    # variables, under their plain names.
    inner = type(ec)(m, ec.traced)
    inner.source = ec.source
    inner.env = {n: name_code(ident("v_", n)) for n in [*free, node.var]}
    inner.depth = ec.depth
    body = inner.branch(node.body[0])
    var = ident("v_", node.var)
    params = ", ".join([*ec.hidden(needs), *(ident("v_", n) for n in free), "_items"])
    decimal = ec.type_of(node) == DECIMAL
    loop = loop_lines(node.name, decimal, var, "_items", body.text, "_n")
    lines = [*("    " + line for line in loop), "    return _n"]
    # Inlined helpers repeat the same loop: one function serves every copy. The key is
    # the function's code itself (its identity), which the node alone does not fix: a
    # loop's code depends on its types and scope.
    key = "\n".join([params, *lines])
    name = m.lifted_by_text.get(key)
    if name is None:
        m.loop_counter += 1
        name = ident("_loop", str(m.loop_counter), "_t" if ec.traced else "")
        m.lifted_by_text[key] = name
        m.lift([f"def {name}({params}):", *lines, ""])
    args = [*(ec.var(n) for n in free), ec.collection(node.collection, node)]
    return ec.call(name, args, ec.hidden(needs))


# Inlining limits: beyond them a call stays a call (code size, compile time).
INLINE_MAX_NODES = 80  # a helper's size
INLINE_MAX_RULES = 12  # a rule group's size
INLINE_MAX_DEPTH = 3  # calls inlined into inlined code
INLINE_BUDGET = 2000  # expression nodes inlined into one generated function


def inline(ec: ExprCompiler, node: Call, onto: Code | None = None) -> Code | None:
    """The code of a helper function or rule group call, inlined; None to keep the call.
    With `onto` (a list local), only a collect group is inlined, its list starting as a
    copy of onto's: the code of `onto + group(...)` without building a list twice."""
    if ec.traced or ec.depth >= INLINE_MAX_DEPTH:
        return None
    fn = ec.m.functions.get(node.name)
    if fn is not None:
        return inline_function(ec, node, fn) if onto is None else None
    group = ec.m.checked.groups.get(node.name)
    if onto is not None and (group is None or group.hit != "collect"):
        return None
    if group is None or not ec.can_hoist() or len(group.rules) > INLINE_MAX_RULES:
        return None
    if ec.m.plan_of(group) is not None:
        return None  # an indexed group is a dict lookup: it stays a function
    size = sum(
        1
        for rule in group.rules
        for part in (rule.when, rule.then)
        if part is not None
        for _ in walk(part)
    )
    if not spend(ec, size):
        return None
    return inline_group(ec, node, group, onto)


def spend(ec: ExprCompiler, size: int) -> bool:
    """Take size from the function's inlining budget; False (nothing taken) if short."""
    if ec.inlined + size > INLINE_BUDGET:
        return False
    ec.inlined += size
    return True


def inline_function(ec: ExprCompiler, node: Call, fn: CheckedFunction) -> Code | None:
    bodies = [fn.body, *(n for _, n, _ in fn.lets)]
    size = sum(1 for b in bodies for _ in walk(b))
    if size > INLINE_MAX_NODES:
        return None
    hoist = ec.can_hoist()
    if fn.lets and not hoist:
        return None
    uses = reads_per_name(bodies)
    simple = [is_path(a) or isinstance(a, Literal) for a in node.args]
    # A complex argument read more than once is computed once, into a local.
    if not hoist and any(
        not ok and uses.get(p, 0) > 1 for ok, (p, _) in zip(simple, fn.params, strict=True)
    ):
        return None
    if not spend(ec, size):
        return None
    env: dict[str, Code] = {}
    for arg, ok, (param, want) in zip(node.args, simple, fn.params, strict=True):
        code = ec.widened(arg, want)
        env[param] = code if ok or uses.get(param, 0) <= 1 else ec.bind(code)
    return in_scope(ec, env, fn.lets, fn.body)


def in_scope(
    ec: ExprCompiler, env: dict[str, Code], lets: tuple[tuple[str, Expr, Type], ...], body: Expr
) -> Code:
    """Compile body (after its lets, into locals) with only env's names in scope."""
    saved = ec.env, ec.depth
    ec.env, ec.depth = env, ec.depth + 1
    try:
        for local, node, _ in lets:
            env[local] = ec.bind(ec.expr(node))
        return ec.expr(body)
    finally:
        ec.env, ec.depth = saved


def inline_group(
    ec: ExprCompiler, node: Call, group: CheckedGroup, onto: Code | None = None
) -> Code:
    """A rule group's rules as `if` statements in the sink; its result in a local (a
    collect group's list starting as a copy of `onto`'s items, if given)."""
    env = {
        param: ec.bind(ec.widened(arg, want))
        for arg, (param, want) in zip(node.args, group.params, strict=True)
    }
    saved = ec.env, ec.depth
    ec.env, ec.depth = env, ec.depth + 1
    result = ec.m.fresh("_i")
    outer = ec.m.origin
    try:
        if onto is not None:
            ec.statement(f"{result} = {onto.text}[:]", onto.reads)
        elif group.hit == "collect":
            ec.statement(f"{result} = []")
        for i, rule in enumerate(group.rules):
            ec.mark(rule_origin(group, rule))
            # In order, a first-hit rule's condition is evaluated only if the ones before
            # failed: only the first (or any in a collect group) may hoist statements.
            hoist = group.hit == "collect" or i == 0
            cond = ec.expr(rule.when) if hoist else ec.branch(rule.when)
            contribution = ec.contribution_code(group, rule)
            if group.hit == "collect":
                ec.statement(f"if {cond.text}:", cond.reads)
                ec.statement(f"    {result}.append({contribution.text})", contribution.reads)
            else:
                ec.statement(f"{'if' if i == 0 else 'elif'} {cond.text}:", cond.reads)
                ec.statement(f"    {result} = {contribution.text}", contribution.reads)
        if group.hit != "collect":
            ec.mark(outer, comment=False)
            default = (
                ec.branch(group.default, group.type)
                if group.default is not None
                else Code("None", cost=NAME)
            )
            if group.rules:
                ec.statement("else:")
            ec.statement(f"{'    ' if group.rules else ''}{result} = {default.text}", default.reads)
    finally:
        ec.env, ec.depth = saved
        ec.mark(outer, comment=False)
    return name_code(result)


def loop_lines(kind: str, decimal: bool, var: str, coll: str, body: str, result: str) -> list[str]:
    """A quantifier or fold as statements leaving its value in `result`; any, all and
    first stop at the first item that decides."""
    start = {"any": "False", "all": "True", "first": "None"}.get(kind)
    if start is None:  # count, sum
        start = "_Decimal(0)" if decimal and kind == "sum" else "0"
    lines = [f"{result} = {start}", f"for {var} in {coll}:"]
    if kind == "any":
        lines += [f"    if {body}:", f"        {result} = True", "        break"]
    elif kind == "all":
        lines += [f"    if not ({body}):", f"        {result} = False", "        break"]
    elif kind == "first":
        lines += [f"    if {body}:", f"        {result} = {var}", "        break"]
    elif kind == "count":
        lines += [f"    if {body}:", f"        {result} += 1"]
    elif decimal:
        lines += [f"    {result} = _ctx.add({result}, {body})"]
    else:
        lines += [f"    {result} += {body}"]
    return lines


def reads_per_name(nodes: Iterable[Expr]) -> dict[str, int]:
    """How often each name is read; a read inside a macro body (a loop) counts twice, so
    an inlined argument read there is computed once, not on every iteration."""
    counts: dict[str, int] = {}

    def visit(node: Expr, weight: int) -> None:
        if isinstance(node, Var):
            counts[node.name] = counts.get(node.name, 0) + weight
        elif isinstance(node, Macro):
            visit(node.collection, weight)
            for body in node.body:
                visit(body, 2)
        else:
            for child in children(node):
                visit(child, weight)

    for node in nodes:
        visit(node, 1)
    return counts


def lowered(ec: ExprCompiler, node: Expr, indent: int, want: Type | None = None) -> Code:
    """Code for node as part of one statement: the statements it was lowered to (plain
    code only) are emitted first, at `indent`. The result reads what they read too."""
    if ec.traced:
        return ec.expr(node) if want is None else ec.widened(node, want)
    ec.sink = []
    try:
        code = ec.expr(node) if want is None else ec.widened(node, want)
    finally:
        lines, ec.sink = ec.sink, None
    reads = set(code.reads)
    for line in lines:
        if isinstance(line, Mark):
            ec.m.mark(line.origin, indent, line.comment)
        else:
            ec.m.emit(line.text, indent)
            reads |= line.reads
    return Code(code.text, frozenset(reads), code.cost, code.fields)
