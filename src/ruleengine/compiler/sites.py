"""Sites: what the traced program records with each value it derives (see `trace`):
the expression's text and file:line:col, the input paths and lets it reads."""

from __future__ import annotations

from collections.abc import Collection

from ..checker import fact_reads
from ..model import ExprSource
from ..nodes import Call, Expr, Member, Var, unparse, walk
from ..trace import Site
from .emit import ident
from .unit import CompileUnit


def path_of(node: Expr) -> tuple[str, ...] | None:
    names: list[str] = []
    while isinstance(node, Member):
        names.append(node.name)
        node = node.obj
    if not isinstance(node, Var):
        return None
    return (node.name, *reversed(names))


def value_site(
    m: CompileUnit,
    kind: str,
    name: str,
    node: Expr,
    source: ExprSource,
    facts_from: Collection[str],
    lets: Collection[str],
    params: tuple[str, ...] = (),
) -> Site:
    """The site of a let, output or helper result: `facts_from` are the names whose paths
    count as facts read (inputs, parameters, as_of), `lets` the lets of the scope."""
    facts: list[tuple[str, ...]] = []
    for read in fact_reads(node, m.checked.tables):
        path = path_of(read)
        if path is not None and path[0] in facts_from:
            facts.append(path)
    used = sorted(
        {sub.name for sub in walk(node) if isinstance(sub, Var) and sub.name in lets},
        key=list(lets).index,
    )
    line, col = source.locate_offset(len(source.text) - len(source.text.lstrip()))
    return Site(
        kind,
        name,
        " ".join(source.text.split()),
        source.location.file,
        line,
        col,
        tuple(facts),
        tuple(used),
        params,
        len(params) if kind == "function" else -1,
    )


def call_site(name: str, node: Expr, source: ExprSource | None) -> Site:
    """The site of a builtin call (round_money...) at its place in the expression."""
    arity = len(node.args) if isinstance(node, Call) else 0
    if source is None:
        return Site("call", name, unparse(node), "", 0, 0, arity=arity)
    line, col = source.locate_offset(node.span.start)
    text = source.text[node.span.start : node.span.end] or unparse(node)
    where = source.location.file
    return Site("call", name, " ".join(text.split()), where, line, col, arity=arity)


def traced_value(m: CompileUnit, site: Site, local: str, text: str, indent: int = 1) -> None:
    """Statements computing `text` into `local` and recording it at `site`, with the index
    of the trace where computing it started (traced code only)."""
    m.emit("_s = len(_trace)", indent)
    m.emit(f"{local} = {text}", indent)
    m.emit(f"_trace += ({m.constant(site)}, _s, {local})", indent)


def traced_call(m: CompileUnit, params: list[str], body: str) -> str:
    """The name of a function of the traced module computing a builtin call (`body` over
    `params`), which `_called` calls and records: written once per distinct call, not a
    lambda made at every evaluation."""
    key = f"call({', '.join(params)}): {body}"
    name = m.lifted_by_text.get(key)
    if name is None:
        m.loop_counter += 1
        name = ident("_call", str(m.loop_counter), "_t")
        m.lifted_by_text[key] = name
        m.lift([f"def {name}({', '.join(params)}):", f"    return {body}", ""])
    return name
