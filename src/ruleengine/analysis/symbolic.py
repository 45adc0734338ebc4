"""A decision of one version as symbolic values: its inputs, lets and outputs."""

from __future__ import annotations

from dataclasses import dataclass

from .evaluator import Evaluator, Hook
from .inputs import SymbolicInput
from .program import CheckedDecision, CheckedVersion
from .values import Unsupported, Val


@dataclass(frozen=True, slots=True)
class Poison:
    """A let that could not be translated: reading it makes the reader untranslatable too."""

    problem: Unsupported


class Env(dict[str, Val]):
    def __getitem__(self, name: str) -> Val:
        value = super().__getitem__(name)
        if isinstance(value, Poison):
            raise value.problem
        return value


def outputs(
    checked: CheckedVersion,
    decision: CheckedDecision,
    inputs: SymbolicInput,
    hook: Hook | None = None,
) -> dict[str, Val | Unsupported]:
    """Each output field's symbolic value, or the `Unsupported` that stopped its translation."""
    ev = Evaluator(
        checked, inputs.values["as_of"], inputs.values["locale"], hook, inputs.constraints
    )
    env = Env({k: v for k, v in inputs.values.items() if k not in ("as_of", "locale")})
    bindings = {b.name: b for b in decision.definition.let}
    for name, node, _ in decision.lets:
        with ev.reading(bindings[name].expr if name in bindings else None):
            try:
                env[name] = ev.expr(node, env)
            except Unsupported as exc:
                env[name] = Poison(exc)
    result: dict[str, Val | Unsupported] = {}
    outs = {b.name: b for b in decision.definition.output}
    for name, node, _ in decision.outputs:
        with ev.reading(outs[name].expr if name in outs else None):
            try:
                result[name] = ev.expr(node, env)
            except Unsupported as exc:
                result[name] = exc
    return result
