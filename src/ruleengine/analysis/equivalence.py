"""`diff --symbolic`: can two versions answer differently, per decision and output field?

For each output field: first the two values are compared by their shared
structure (`congruence`); then z3 is asked for an input valid for both
versions' input schemas on which the field's values differ, under an
abstraction of non-linear arithmetic and then exactly. No such input:
"equivalent (proved)" (for input lists up to the documented bound where the
decision reads lists). One found: the engine decides it under both versions,
and it is reported as a witness only when the answers really differ; else other
inputs are tried, and if none is confirmed the field is "not proved". A second
witness is looked for on which the other fields that changed with the first do
not change: a field that changes for two reasons shows both. What cannot be
translated is "not proved", never equivalent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import z3

from ..errors import RuleEngineError
from .abstraction import abstract
from .congruence import Congruence
from .inputs import LIST_BOUND, SymbolicInput, symbolic_input
from .program import CheckedVersion
from .symbolic import outputs
from .values import AND, Unsupported, Val, equal

Decide = Callable[[str, dict[str, Any]], dict[str, Any]]
TIMEOUT_MS = 10_000
ATTEMPTS = 6

EQUIVALENT, DIFFERS, NOT_PROVED = "equivalent", "differs", "not proved"


@dataclass(frozen=True, slots=True)
class Witness:
    """An input both versions accept and answer differently, and their answers."""

    input: dict[str, Any]
    old: Any
    new: Any
    also: tuple[str, ...] = ()  # the other output fields that differ on it


@dataclass(frozen=True, slots=True)
class FieldVerdict:
    field: str
    status: str  # equivalent | differs | not proved
    reason: str | None = None  # why not proved
    witnesses: tuple[Witness, ...] = ()


@dataclass(frozen=True, slots=True)
class DecisionVerdict:
    name: str
    fields: tuple[FieldVerdict, ...]
    bounded: bool = False  # proofs hold for input lists up to LIST_BOUND items
    only_in: str | None = None  # "old" or "new" when the other version lacks it

    @property
    def status(self) -> str:
        if self.only_in or any(f.status == DIFFERS for f in self.fields):
            return DIFFERS
        if all(f.status == EQUIVALENT for f in self.fields):
            return EQUIVALENT
        return NOT_PROVED


@dataclass(frozen=True, slots=True)
class SymbolicDiff:
    ruleset: str
    old: str
    new: str
    decisions: tuple[DecisionVerdict, ...] = field(default=())
    list_bound: int = LIST_BOUND


class _Decision:
    """The comparison of one decision: symbolic outputs of both versions, solvers."""

    def __init__(
        self,
        name: str,
        inputs: SymbolicInput,
        outs: tuple[dict[str, Any], dict[str, Any]],
        sides: tuple[Decide, Decide],
        timeout_ms: int,
    ):
        self.name, self.inputs, self.outs, self.sides = name, inputs, outs, sides
        self.solver = z3.Solver()
        self.solver.set("timeout", timeout_ms)
        self.solver.add(*inputs.constraints)
        self.congruence = Congruence(inputs.constraints)
        self.found: list[Witness] = []

    def decide(self, candidate: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]] | None:
        try:
            old, new = (decide(self.name, candidate) for decide in self.sides)
        except RuleEngineError:
            return None
        return old, new

    def witness_for(self, field_name: str, candidate: dict[str, Any]) -> Witness | None:
        answers = self.decide(candidate)
        if answers is None:
            return None
        old, new = answers
        if old.get(field_name) == new.get(field_name):
            return None
        also = tuple(k for k in new if k != field_name and old.get(k) != new.get(k))
        return Witness(candidate, old.get(field_name), new.get(field_name), also)

    def search(
        self, differ: z3.BoolRef, field_name: str, unlike: Witness | None = None
    ) -> tuple[str, Witness | None]:
        """(answer, witness): unsat, a confirmed witness, or why neither. With `unlike`,
        only a witness on which none of the fields that changed with it changes."""
        reason = "no input the engine decides differently was found"
        # Exactly first (its models are real but for add_months); under the abstraction of
        # non-linear arithmetic when the exact question is too hard.
        for term in (differ, abstract(differ)):
            self.solver.push()
            try:
                self.solver.add(term)
                answer = self.solver.check()
                if answer == z3.unsat:
                    return "unsat", None
                if answer == z3.sat:
                    found = self.models(field_name, unlike)
                    if found is not None:
                        return "sat", found
                else:
                    reason = f"solver: {self.solver.reason_unknown()}"
            finally:
                self.solver.pop()
        return reason, None

    def models(self, field_name: str, unlike: Witness | None) -> Witness | None:
        """Models of the solver decided by the engine until one really differs."""
        s = self.solver
        for _ in range(ATTEMPTS):
            s.push()
            s.add(*self.inputs.nice)
            model = s.model() if s.check() == z3.sat else None
            s.pop()
            if model is None:
                if s.check() != z3.sat:
                    return None
                model = s.model()
            found = self.witness_for(field_name, self.inputs.to_json(model))
            if found is not None and (unlike is None or set(found.also) != set(unlike.also)):
                return found
            consts = [d for d in model.decls() if d.arity() == 0]
            if not consts:
                return None
            s.add(z3.Or(*(d() != model[d] for d in consts)))
        return None

    def field(self, field_name: str) -> FieldVerdict:
        a, b = self.outs[0].get(field_name), self.outs[1].get(field_name)
        if a is None or b is None:
            side = "new" if a is None else "old"
            return FieldVerdict(field_name, DIFFERS, f"only in the {side} version")
        for value in (a, b):
            if isinstance(value, Unsupported):
                return FieldVerdict(field_name, NOT_PROVED, f"not translated: {value.what}")
        if self.congruence.values(a, b):
            return FieldVerdict(field_name, EQUIVALENT)
        try:
            differ = z3.Not(equal(a, b))
        except Unsupported as exc:
            return FieldVerdict(field_name, NOT_PROVED, f"not translated: {exc.what}")
        first = next(
            (w for w in (self.witness_for(field_name, f.input) for f in self.found) if w), None
        )
        if first is None:
            answer, first = self.search(differ, field_name)
            if first is None:
                if answer == "unsat":
                    return FieldVerdict(field_name, EQUIVALENT)
                return FieldVerdict(field_name, NOT_PROVED, answer)
            self.found.append(first)
        witnesses = [first]
        second = self.second(differ, field_name, first)
        if second is not None:
            witnesses.append(second)
        return FieldVerdict(field_name, DIFFERS, None, tuple(witnesses))

    def second(self, differ: z3.BoolRef, field_name: str, first: Witness) -> Witness | None:
        """A witness for another reason: on which the fields that changed with the first
        witness do not change, or failing that, on which the first of them does not."""
        for known in self.found:  # a witness found for another field may serve
            if known.input is first.input or not first.also:
                continue
            again = self.witness_for(field_name, known.input)
            if again is not None and first.also[0] not in again.also:
                return again
        same = []
        for other in first.also:
            a, b = self.outs[0].get(other), self.outs[1].get(other)
            if a is None or b is None or isinstance(a, Unsupported) or isinstance(b, Unsupported):
                continue
            try:
                same.append(equal(a, b))
            except Unsupported:
                continue
        for keep in ([same, same[:1]] if len(same) > 1 else [same]) if same else []:
            _, found = self.search(AND(differ, *keep), field_name, first)
            if found is not None:
                self.found.append(found)
                return found
        return None


def compare_decision(
    name: str,
    old: CheckedVersion,
    new: CheckedVersion,
    sides: tuple[Decide, Decide],
    timeout_ms: int = TIMEOUT_MS,
    list_bound: int = LIST_BOUND,
) -> DecisionVerdict:
    old_d, new_d = old.decisions.get(name), new.decisions.get(name)
    if old_d is None or new_d is None:
        return DecisionVerdict(name, (), False, "new" if old_d is None else "old")
    inputs = SymbolicInput(list_bound=list_bound)
    try:
        symbolic_input(old, old_d.inputs, inputs)
        symbolic_input(new, new_d.inputs, inputs)
    except Unsupported as exc:
        reason = f"input not translated: {exc.what}"
        fields = tuple(FieldVerdict(f, NOT_PROVED, reason) for f, _, _ in new_d.outputs)
        return DecisionVerdict(name, fields)
    outs: tuple[dict[str, Val | Unsupported], ...] = (
        outputs(old, old_d, inputs),
        outputs(new, new_d, inputs),
    )
    work = _Decision(name, inputs, (outs[0], outs[1]), sides, timeout_ms)
    names = [f for f, _, _ in new_d.outputs] + [f for f in outs[0] if f not in outs[1]]
    return DecisionVerdict(name, tuple(work.field(f) for f in names), inputs.bounded)


def symbolic_diff(
    ruleset: str,
    old_label: str,
    new_label: str,
    old: CheckedVersion,
    new: CheckedVersion,
    decide_old: Decide,
    decide_new: Decide,
    decisions: list[str] | None = None,
    timeout_ms: int = TIMEOUT_MS,
    list_bound: int = LIST_BOUND,
) -> SymbolicDiff:
    """Compare every decision (or those named) of two checked versions."""
    order = [*new.decisions, *(d for d in old.decisions if d not in new.decisions)]
    names = decisions or order
    verdicts = tuple(
        compare_decision(n, old, new, (decide_old, decide_new), timeout_ms, list_bound)
        for n in names
    )
    return SymbolicDiff(ruleset, old_label, new_label, verdicts, list_bound)
