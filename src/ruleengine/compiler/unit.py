"""`CompileUnit`: what the generator knows about a whole version while it writes.

The module being written (a `ModuleWriter`), plus program-wide facts worked out
once: the hidden context each callable takes, each group's index plan, the loop
functions lifted out of expressions, the shared rule shapes and the late-bound
rule indexes. It also holds the compiler's own type overlay: nodes the compiler
builds (index plans split conditions) get their types here, never in the
checker's result.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..checker import CheckedFunction, CheckedGroup, CheckedRule, CheckedVersion
from ..model import Location
from ..nodes import Call, Expr, Var, walk
from ..stdlib import BUILTINS
from ..typesys import Type
from .emit import ModuleWriter, Origin
from .indexing import IndexPlan, plan_index

if TYPE_CHECKING:
    from .probes import Probes

HIDDEN = ("_as_of", "_locale", "_message")  # the context a decision passes down


class CompileUnit(ModuleWriter):
    def __init__(self, checked: CheckedVersion):
        super().__init__()
        self.checked = checked
        # Types of checked nodes, and of nodes the compiler makes (in the first map).
        self.types: ChainMap[int, Type] = ChainMap({}, checked.types)
        # Rule indexes, filled with the rule functions once the module has run:
        # name -> ({key: (function names...)}, (function names for any other key)).
        self.late_indexes: dict[str, tuple[dict[Any, tuple[str, ...]], tuple[str, ...]]] = {}
        # loop functions lifted out of expressions: their lines, and where each comes from
        self.lifted: list[tuple[str, Origin | None]] = []
        self.lifted_by_text: dict[str, str] = {}  # a loop's code (unnamed) -> its function
        self.functions: dict[str, CheckedFunction] = {f.name: f for f in checked.functions}
        self.plans: dict[str, IndexPlan | None] = {}
        # Rules of an indexed group that differ only in literals share one code object:
        # (parameters, body) -> shape function; and rule function -> (shape, its literals).
        self.shapes: dict[tuple[str, str], str] = {}
        self.instances: dict[str, tuple[str, tuple[Any, ...]]] = {}
        # The hidden context each function and rule group takes (see needs_of).
        self.needs: dict[str, tuple[str, ...]] = {}
        for name in checked.call_order:
            fn = self.functions.get(name)
            if fn is not None:
                self.needs[name] = self.needs_of([fn.body, *(n for _, n, _ in fn.lets)])
            elif name in checked.groups:
                group = checked.groups[name]
                nodes = [r.when for r in group.rules] + [
                    r.then for r in group.rules if r.then is not None
                ]
                nodes += [group.default] if group.default is not None else []
                self.needs[name] = self.needs_of(nodes)
        self.loop_counter = 0
        # Branch probes (coverage only, see `probes`): None in every program but that copy.
        self.probes: Probes | None = None

    def plan_of(self, group: CheckedGroup) -> IndexPlan | None:
        """The group's rule index (planned once), or None if its rules are tested in turn."""
        if group.name not in self.plans:
            self.plans[group.name] = plan_index(group, self.types)
        return self.plans[group.name]

    def needs_of(self, nodes: Iterable[Expr]) -> tuple[str, ...]:
        """Which of as_of, locale and the messages some expressions use, directly or by calls."""
        found: set[str] = set()
        for node in nodes:
            for sub in walk(node):
                if isinstance(sub, Var) and sub.name in ("as_of", "locale"):
                    found.add("_" + sub.name)
                elif isinstance(sub, Call):
                    builtin = BUILTINS.get(sub.name)
                    if builtin is not None:
                        found.update(builtin.reads)
                    found.update(self.needs.get(sub.name, ()))
        return tuple(h for h in HIDDEN if h in found)

    def lift(self, lines: list[str]) -> None:
        """Lines of a function written out of line (see `flush_lifted`)."""
        self.lifted.extend((line, self.origin) for line in lines)

    def flush_lifted(self) -> None:
        """Write the lifted functions at this point of the module."""
        saved = self.origin, self.top
        for line, origin in self.lifted:
            self.origin = origin  # stamped with the top-level definition it was lifted from
            self.emit(line)
        self.origin, self.top = saved
        self.lifted.clear()

    def checked_params(self, name: str) -> tuple[tuple[str, Type], ...]:
        group = self.checked.groups.get(name)
        if group is not None:
            return group.params
        return self.functions[name].params


def origin(what: str, location: Location) -> Origin:
    return Origin(f"{location.file}:{location.line}", what)


def rule_origin(group: CheckedGroup, rule: CheckedRule) -> Origin:
    return origin(f"rule {group.name}/{rule.definition.id}", rule.definition.location)
