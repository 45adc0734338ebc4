"""Branch probes: a copy of a version's traced program that counts expression branches.

Coverage (`ruleengine test --coverage`) needs to know, besides rule conditions and
table reads (which the traced program records), which branch of every expression
ran: each `if ... then ... else`, each `??` (the value, or the default taken), each
quantifier or comprehension over an empty and a non-empty list, and whether
`any`/`all` held and `first` found something. The production program and the
traced program used by explanations know nothing of this: probes exist only in a
third copy, compiled by `compile_probed` when coverage asks for it, so deciding
costs exactly what it did when coverage is off.

A probe is a call around the value that picks the branch: `_probe_if(k, cond)`
counts `hits[k]` (then) or `hits[k + 1]` (else) and returns cond unchanged. Each
site has two outcomes at `hits[2 * site]` and `hits[2 * site + 1]`. The sites are
known at compile time, with the file:line:col of the expression and the
definition that holds it (its owner: `rule <group>/<id>`, `function <name>`,
`decision <name> let <x>`...), so a branch no case reached is still listed. `owners` gives each owner's text (to tell what a new version changed) and
`entries` each table row's value.

Public entry: `compile_probed(checked, ruleset, version)`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from ..model import ExprSource
from ..nodes import Binary, Expr, IfElse, ListLit, Macro, SetLit, Var, walk
from ..runtime.namespace import NAMESPACE
from .emit import Code, ident
from .execute import execute
from .generate import Generator

if TYPE_CHECKING:
    from ..checker import CheckedVersion

# The two outcomes of each kind of site, in the order of their counters.
OUTCOMES: Mapping[str, tuple[str, str]] = {
    "if": ("then", "else"),
    "??": ("value", "default"),
    "list": ("non-empty list", "empty list"),
    "any": ("true", "false"),
    "all": ("true", "false"),
    "first": ("found", "none found"),
}
_TEXT_WIDTH = 60  # a site's text is shortened to this many characters


@dataclass(frozen=True, slots=True)
class BranchSite:
    """One expression with two outcomes: what kind, where, and in which definition."""

    kind: str  # a key of OUTCOMES
    owner: str  # `rule <group>/<id>`, `function <name>`, `decision <d> let <x>`...
    file: str
    line: int
    column: int
    text: str  # the expression (or an if's condition), shortened

    @property
    def outcomes(self) -> tuple[str, str]:
        return OUTCOMES[self.kind]


@dataclass(frozen=True, slots=True)
class ProbedProgram:
    """A version's traced program with branch probes, and what they count."""

    sites: tuple[BranchSite, ...]
    hits: list[int] = field(repr=False)  # two counters per site
    owners: Mapping[str, str] = field(repr=False)  # owner -> its definition's text
    entries: Mapping[tuple[str, Any], Any] = field(repr=False)  # (table, key) -> row
    namespace: dict[str, Any] = field(repr=False)

    def counts(self, site: int) -> tuple[int, int]:
        """How often each outcome of a site was seen."""
        return self.hits[2 * site], self.hits[2 * site + 1]

    def runner(self, decision: str) -> Callable[[dict[str, Any], date, str, list[Any]], Any]:
        """The probed decision: `(data, as_of, locale, trace) -> result`, as `run_traced`."""
        found: Callable[[dict[str, Any], date, str, list[Any]], Any] = self.namespace[
            ident("d_", decision, "_t")
        ]
        return found


def _text(source: ExprSource, node: Expr) -> str:
    text = " ".join(source.text[node.span.start : node.span.end].split())
    return text if len(text) <= _TEXT_WIDTH else text[: _TEXT_WIDTH - 3] + "..."


def _norm(source: ExprSource | None) -> str:
    return "" if source is None else " ".join(source.text.split())


def _roots(checked: CheckedVersion) -> Iterator[tuple[str, Expr, ExprSource, str]]:
    """(owner, checked node, its source, the owner's part of the definition text)."""
    for fn in checked.functions:
        owner = f"function {fn.name}"
        params = ", ".join(f"{p.name}: {p.type_text}" for p in fn.definition.params)
        yield owner, fn.body, fn.definition.body, params
        bindings = {b.name: b.expr for b in fn.definition.let}
        for name, node, _ in fn.lets:
            yield owner, node, bindings[name], f"let {name}"
    for group in checked.groups.values():
        for rule in group.rules:
            owner = f"rule {group.name}/{rule.definition.id}"
            yield owner, rule.when, rule.definition.when, f"reason {rule.definition.reason}"
            if rule.then is not None and rule.definition.then is not None:
                yield owner, rule.then, rule.definition.then, "then"
        if group.default is not None and group.definition.default is not None:
            yield f"rule group {group.name} default", group.default, group.definition.default, ""
    for decision in checked.decisions.values():
        for kind, written, checked_bindings in (
            ("let", decision.definition.let, decision.lets),
            ("output", decision.definition.output, decision.outputs),
        ):
            sources = {b.name: b.expr for b in written}
            for name, node, _ in checked_bindings:
                yield f"decision {decision.name} {kind} {name}", node, sources[name], ""


def _entries(checked: CheckedVersion) -> dict[tuple[str, Any], Any]:
    """Every set item, map entry and keyed row of the version's tables, by (table, key)."""
    found: dict[tuple[str, Any], Any] = {}
    for name, table in checked.tables.items():
        value = table.value
        if isinstance(value, frozenset):
            found.update(((name, item), True) for item in value)
        elif isinstance(value, dict):
            found.update(((name, key), item) for key, item in value.items())
        elif isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], dict):
            found.update(((name, key), row) for key, row in value[0].items())
    return found


class Probes:
    """The sites of one version, registered as the compiler meets them, and the code of
    each probe. The hooks in `expressions` call these only when a unit has probes."""

    def __init__(self, checked: CheckedVersion):
        self.sites: list[BranchSite] = []
        self._index: dict[int, int] = {}  # id(node) -> site
        self._where: dict[int, tuple[ExprSource, str]] = {}
        # Conditions whose outcome another site or the rule already counts: an any/all/first
        # that is a whole rule condition or an if's condition gets no result probe.
        self._conditions: set[int] = {id(r.when) for g in checked.groups.values() for r in g.rules}
        owners: dict[str, list[str]] = {}
        for owner, node, source, extra in _roots(checked):
            owners.setdefault(owner, []).extend([extra, _norm(source)])
            for sub in walk(node):
                self._where.setdefault(id(sub), (source, owner))
                if isinstance(sub, IfElse):
                    self._conditions.add(id(sub.cond))
        self.owners = {owner: "\n".join(parts) for owner, parts in owners.items()}
        self._tables = frozenset(checked.tables)

    def site(self, node: Expr, kind: str, text_of: Expr | None = None) -> int | None:
        """The first counter of node's site (registered on first sight), or None for a
        node the compiler made itself (it has no place in a rule file)."""
        key = id(node)
        if key in self._index:
            return 2 * self._index[key]
        where = self._where.get(key)
        if where is None:
            return None
        source, owner = where
        line, column = source.locate_offset(node.span.start)
        shown = _text(source, text_of or node)
        if kind == "if":
            shown = f"if {shown}"
        self.sites.append(BranchSite(kind, owner, source.location.file, line, column, shown))
        self._index[key] = len(self.sites) - 1
        return 2 * (len(self.sites) - 1)

    def if_else(self, node: IfElse, cond: Code) -> Code:
        k = self.site(node, "if", node.cond)
        return cond if k is None else Code(f"_probe_if({k}, {cond.text})", cond.reads)

    def coalesce(self, node: Binary, first: Code, default: Code) -> Code | None:
        """`a ?? b`, counting whether the default was taken (None: no probe here)."""
        k = self.site(node, "??")
        if k is None:
            return None
        text = f"_probe_coalesce({k}, {first.text}, lambda: {default.text})"
        return Code(text, first.reads | default.reads)

    def collection(self, node: Macro, items: Code) -> Code:
        """The list a quantifier or comprehension runs over, counting whether it was empty
        (not for a table or a list written out: whether those are empty never changes)."""
        coll = node.collection
        if isinstance(coll, (ListLit, SetLit)) or (
            isinstance(coll, Var) and coll.name in self._tables
        ):
            return items
        k = self.site(coll, "list", node)
        return items if k is None else Code(f"_probe_list({k}, {items.text})", items.reads)

    def result(self, node: Macro, value: Code) -> Code:
        """Whether `any`/`all` held and whether `first` found an item (unless the macro is
        a rule's or an if's whole condition: that outcome is counted there)."""
        if node.name not in ("any", "all", "first") or id(node) in self._conditions:
            return value
        k = self.site(node, node.name)
        if k is None:
            return value
        helper = "_probe_found" if node.name == "first" else "_probe_if"
        return Code(f"{helper}({k}, {value.text})", value.reads)


def probe_helpers(hits: list[int]) -> dict[str, Callable[..., Any]]:
    """The runtime side of the probes, counting into hits."""

    def probe_if(k: int, cond: Any) -> Any:
        hits[k if cond else k + 1] += 1
        return cond

    def probe_coalesce(k: int, value: Any, default: Callable[[], Any]) -> Any:
        if value is None:
            hits[k + 1] += 1
            return default()
        hits[k] += 1
        return value

    def probe_list(k: int, items: Any) -> Any:
        hits[k if items else k + 1] += 1
        return items

    def probe_found(k: int, value: Any) -> Any:
        hits[k if value is not None else k + 1] += 1
        return value

    return {
        "_probe_if": probe_if,
        "_probe_coalesce": probe_coalesce,
        "_probe_list": probe_list,
        "_probe_found": probe_found,
    }


def compile_probed(checked: CheckedVersion, ruleset: str, version: str) -> ProbedProgram:
    """Compile a version's program again, its traced copy with branch probes."""
    generator = Generator(checked)
    module = generator.generate()
    plain = "\n".join(module.lines) + "\n"
    probes = Probes(checked)
    module.probes = probes
    source, origins = generator.traced_source()
    hits = [0] * (2 * len(probes.sites))
    namespace: dict[str, Any] = {**NAMESPACE, **module.constants, **probe_helpers(hits)}
    execute(plain, f"<rules {ruleset}@{version} probed plain>", namespace, module, module.origins)
    execute(source, f"<rules {ruleset}@{version} probed>", namespace, module, origins)
    return ProbedProgram(tuple(probes.sites), hits, probes.owners, _entries(checked), namespace)
