"""Phase 5, compile: a checked version -> Python callables, generated as source.

Like Jinja2's code generator, this emits one Python module per version:
input validators (straight-line code per decision, no schema walking at
request time), one function per helper, rule group and decision, and a
second, traced copy of the rule groups and decisions for explanations, so
that with explain off no tracing code runs at all. The module is executed
with `runtime.namespace.NAMESPACE` as its only globals: no builtins, imports
or attribute access beyond what the generator writes.

The hot path of a decision is one function, `p_<decision>`: the fast input
check, then the decision with small helpers and unindexed rule groups
inlined, quantifiers lowered to `for` statements, and input record fields
read from the check's locals. The plain `d_<decision>` (after the collecting
validator) and the traced copy keep calls as written.

Modules, one concern each: `emit` (writing lines, names, literals), `unit`
(what is known about the whole version), `expressions`, `lowering` (inlining,
loops), `indexing` (rule index plans), `rules` (functions and rule groups),
`decisions`, `fastpath` and `validators` (input checks), `generate` (the order
of it all), `execute` (exec, late binding, the lazy traced copy).

Generated names (every one is written by the generator; expressions cannot name
anything in the module):

| prefix            | what                                                        |
|-------------------|-------------------------------------------------------------|
| `p_<d>`           | decision d's hot path: fast check + decision, (result, locale) or `_FAIL` |
| `d_<d>`           | decision d, plain (after the collecting validator)          |
| `vf_in_<d>`       | decision d's fast input check                               |
| `vi_<d>`          | decision d's collecting input validator                     |
| `vr_<Record>`     | collecting validator of an input record type                |
| `f_<fn>`          | helper function fn                                          |
| `g_<group>`       | rule group                                                  |
| `gr_<group>_<i>`  | rule i of an indexed group                                  |
| `_IX_<group>`     | an indexed group's index (filled in after exec)             |
| `_shape<n>`       | code shared by indexed rules that differ only in literals   |
| `_loop<n>`        | a quantifier lifted out of an expression                    |
| `..._t`           | the traced copy of any of the callables above               |
| `v_<name>`        | a variable: input field, parameter, `let`, loop variable    |
| `t_<table>`       | a table's value                                             |
| `_k<n>`           | a constant (decimal, date, set, regex...)                   |
| `_c<n>`           | a literal as a parameter of a shared shape                  |
| `_i<n>` `_b<n>` `_t<n>` | locals: lowered values, loop variables, fast-check temps |
| `_<name>`         | runtime support (`runtime.namespace.NAMESPACE`)             |

Public entry: `compile_version(checked)`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ..checker import CheckedDecision, CheckedVersion
from ..runtime.namespace import NAMESPACE
from .debug import as_internal, module_filename
from .emit import Origin
from .execute import TracedModule, execute
from .generate import Generator

__all__ = ["CompiledDecision", "CompiledVersion", "as_internal", "compile_version"]


@dataclass(frozen=True, slots=True)
class CompiledDecision:
    """A decision's compiled code. `check_fast` returns (input, locale) for plainly valid
    input, else FAIL; `validate` is the authority: it returns the same or raises
    `InputError` listing every problem."""

    name: str
    decide_fast: Callable[[Any, date], Any]  # (input, as_of) -> (result, locale) or FAIL
    check_fast: Callable[[Any], Any]
    validate: Callable[[Any], tuple[dict[str, Any], str]]
    run: Callable[[dict[str, Any], date, str], dict[str, Any]]
    run_traced: Callable[[dict[str, Any], date, str, list[Any]], dict[str, Any]]
    checked: CheckedDecision


@dataclass(frozen=True, slots=True)
class CompiledVersion:
    checked: CheckedVersion
    decisions: dict[str, CompiledDecision]
    source: str = field(repr=False)  # the plain module
    origins: tuple[Origin | None, ...] = field(repr=False, default=())  # per line of source
    traced: TracedModule | None = field(repr=False, default=None, compare=False)

    def listing(self, traced: bool = False, decision: str | None = None) -> str:
        """The generated module (plain, or the traced copy), as `ruleengine compile` prints
        it; with `decision`, only that decision's functions (found by the line map)."""
        source, origins = self.source, list(self.origins)
        if traced and self.traced is not None:
            source, origins = self.traced.build()
        if decision is None:
            return source
        lines = source.splitlines()
        tops = (f"decision {decision}", f"decision {decision} input")
        kept = [
            line
            for line, where in zip(lines, origins, strict=True)
            if where is not None and where.top in tops
        ]
        return "\n".join(kept) + "\n"


def compile_version(checked: CheckedVersion) -> CompiledVersion:
    """Generate, compile and execute the module of a checked version."""
    generator = Generator(checked)
    module = generator.generate()
    source = "\n".join(module.lines) + "\n"
    namespace: dict[str, Any] = {**NAMESPACE, **module.constants}
    manifest = checked.model.manifest
    filename = module_filename(manifest.ruleset, manifest.version)
    execute(source, filename, namespace, module, module.origins)
    traced_name = module_filename(manifest.ruleset, manifest.version, traced=True)
    traced = TracedModule(generator, traced_name, namespace)
    decisions = {
        name: CompiledDecision(
            name=name,
            decide_fast=namespace[f"p_{name}"],
            check_fast=namespace[f"vf_in_{name}"],
            validate=namespace[f"vi_{name}"],
            run=namespace[f"d_{name}"],
            run_traced=traced.runner(name),
            checked=decision,
        )
        for name, decision in checked.decisions.items()
    }
    return CompiledVersion(checked, decisions, source, tuple(module.origins), traced)
