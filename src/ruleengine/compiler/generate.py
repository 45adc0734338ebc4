"""`Generator`: the order in which a version's module is written.

The plain module: helper functions and rule groups (callees first), decisions,
record validators, then per decision its fast check, collecting validator and
fused hot path, then the loop functions lifted out of expressions. The traced
copy (`traced_source`) is written on first use, into its own module.
"""

from __future__ import annotations

from ..checker import CheckedVersion
from ..runtime.namespace import Messages
from .decisions import DecisionWriter
from .emit import Origin, ident
from .fastpath import FastPath
from .rules import RuleWriter
from .unit import CompileUnit
from .validators import ValidatorWriter


class Generator:
    def __init__(self, checked: CheckedVersion):
        self.checked = checked
        self.m = CompileUnit(checked)
        self.rules = RuleWriter(self.m)
        self.fast = FastPath(self.m)
        self.validators = ValidatorWriter(self.m)
        self.decisions = DecisionWriter(self.m, self.fast)

    def generate(self) -> CompileUnit:
        m = self.m
        for name, table in self.checked.tables.items():
            m.constants[ident("t_", name)] = table.value
        m.constants["_remedies"] = {code: r.remedy for code, r in self.checked.reasons.items()}
        # Per locale, `message(code)` as one bound C lookup (a code without a message
        # reads as itself), so `map(c in reasons, message(c))` is a `map` call.
        m.constants["_MESSAGE"] = {
            locale: Messages(
                (code, dict(r.messages).get(locale, code))
                for code, r in self.checked.reasons.items()
            ).__getitem__
            for locale in self.checked.model.manifest.locales
        }
        self.callables(traced=False)
        for record in self.checked.records.values():
            self.validators.record_validator(record)
        for decision in self.checked.decisions.values():
            self.fast.input_fast(decision)
            self.validators.input_validator(decision)
            self.decisions.fused_decision(decision)
        m.flush_lifted()
        return m

    def callables(self, traced: bool) -> None:
        """Functions, rule groups (callees first) and decisions, plain or traced."""
        m = self.m
        for name in self.checked.call_order:
            fn = m.functions.get(name)
            if fn is not None:
                self.rules.function(fn, traced)
            elif name in self.checked.groups:
                self.rules.group(self.checked.groups[name], traced)
        for decision in self.checked.decisions.values():
            self.decisions.decision(decision, traced=traced)
        m.flush_lifted()

    def traced_source(self) -> tuple[str, list[Origin | None]]:
        """The traced copy, as a module of its own (generated and compiled on first use):
        its source and the origin of each line."""
        m = self.m
        saved = m.take_lines()
        try:
            self.callables(traced=True)
            lines, origins = m.take_lines()
            return "\n".join(lines) + "\n", origins
        finally:
            m.put_lines(*saved)
