"""What the checking phases share: the diagnostics, the types found so far, the scope."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ..errors import Code, Diagnostic, Note, did_you_mean
from ..model import Location, ReasonDef, VersionModel
from ..typesys import RecordT, Type
from .program import CheckedTable, RecordSchema

Signature = tuple[tuple[tuple[str, Type], ...], Type]  # (parameters, result) of a callable


@dataclass
class CheckState:
    """One version being checked: every phase reads and adds to this."""

    model: VersionModel
    diagnostics: list[Diagnostic] = field(default_factory=list)
    types: dict[int, Type] = field(default_factory=dict)  # id(node) -> type
    record_types: dict[str, RecordT] = field(default_factory=dict)
    records: dict[str, RecordSchema] = field(default_factory=dict)
    tables: dict[str, CheckedTable] = field(default_factory=dict)
    callables: dict[str, Signature] = field(default_factory=dict)
    reasons: dict[str, ReasonDef] = field(default_factory=dict)
    # (namespace, name) of definitions that have a problem already reported: a use of
    # one is not reported again (no `unknown name` for a table that is malformed).
    broken: set[tuple[str, str]] = field(default_factory=set)

    def is_broken(self, namespace: str, name: str) -> bool:
        return (namespace, name) in self.broken

    def at(
        self,
        location: Location,
        code: Code,
        message: str,
        hint: str | None = None,
        notes: tuple[Note, ...] = (),
    ) -> None:
        self.diagnostics.append(
            Diagnostic(
                code, message, location.file, location.line, location.column, hint, notes=notes
            )
        )


@dataclass
class Scope:
    """Names visible to an expression: locals (innermost last), then globals."""

    names: dict[str, Type]
    kinds: dict[str, str]

    def child(self, name: str, t: Type, kind: str) -> Scope:
        return Scope({**self.names, name: t}, {**self.kinds, name: kind})


def hint(name: str, known: Iterable[str]) -> str | None:
    """`did you mean `x`?` when a known name is close to `name`."""
    suggestion = did_you_mean(name, list(known))
    return f"did you mean `{suggestion}`?" if suggestion else None


def note(message: str, location: Location | None) -> tuple[Note, ...]:
    """A secondary label at `location` (none if the place is not known)."""
    if location is None:
        return ()
    return (Note(message, location.file, location.line, location.column),)
