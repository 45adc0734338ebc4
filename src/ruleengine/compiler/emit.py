"""Writing generated source safely: `ident()`, `lit()`, `Code`, and `ModuleWriter`.

Every name the generator writes goes through `ident()`, which refuses anything but
a Python identifier; every literal through `lit()`, which writes the `repr` of
only the types whose `repr` is plain Python syntax (anything else becomes a
named module constant, see `ModuleWriter.constant`). So no rule-file text can
reach generated source except as a checked identifier or a quoted literal, even
if an earlier phase let something slip.

What the generator needs to know about a piece of generated code travels with it
as a `Code` value (the names it reads, what evaluating it costs), never by
reading its text back.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_SAFE_SCALARS = (type(None), bool, int, str)


class UnsafeSource(ValueError):
    """The generator was asked to write a name or literal it cannot write safely
    (a bug: the static phases should have refused the rule file)."""


def ident(*parts: str) -> str:
    """The identifier made of `parts` (`ident("v_", name)`); refuses anything else."""
    name = "".join(parts)
    if not _IDENTIFIER.match(name) or keyword.iskeyword(name):
        raise UnsafeSource(f"not a safe identifier: {name!r}")
    return name


def has_safe_repr(value: Any) -> bool:
    """Whether `repr(value)` is a plain Python literal that needs no name in scope."""
    if type(value) in _SAFE_SCALARS:
        return True
    if type(value) is tuple:
        return all(has_safe_repr(item) for item in value)
    return False


def lit(value: Any) -> str:
    """A Python literal for value: None, bool, int, str, or a tuple of those (exact types:
    a subclass could override `repr`). Anything else must be a named constant."""
    if not has_safe_repr(value):
        raise UnsafeSource(f"no safe literal for {type(value).__name__} value {value!r}")
    return repr(value)


# What evaluating a piece of code costs (Code.cost).
NAME = 0  # a name or a literal: free to evaluate again
PATH = 1  # field reads off a name (`v_x['a']['b']`): cheap and pure, fine to evaluate twice
EXPENSIVE = 2  # anything else: compute once


@dataclass(frozen=True, slots=True)
class Code:
    """Generated Python for an expression (or one statement line), and what the
    generator knows about it: the generated names it reads (`v_<name>`, `_message`...),
    its cost, and for an input record held in locals, the code of its fields."""

    text: str
    reads: frozenset[str] = frozenset()
    cost: int = EXPENSIVE
    fields: Mapping[str, Code] | None = None

    @property
    def cheap(self) -> bool:
        """Fine to evaluate twice (a name, a literal or a chain of field reads)."""
        return self.cost <= PATH

    @property
    def is_name(self) -> bool:
        """A name or a literal: binding it to a local would gain nothing."""
        return self.cost == NAME

    def __str__(self) -> str:
        return self.text


def name_code(name: str) -> Code:
    """Code reading the generated name `name`."""
    return Code(ident(name), frozenset({name}), NAME)


def reads_of(codes: Iterable[Code]) -> frozenset[str]:
    return frozenset().union(*(c.reads for c in codes))


@dataclass(frozen=True, slots=True)
class Origin:
    """Where generated lines come from: a YAML position and what stands there; `top` is
    the top-level definition whose function holds the lines (a rule inlined into a
    decision's function has the decision as its top)."""

    location: str  # file:line
    what: str  # `rule <group>/<rule id>`, `decision <name>`...
    top: str | None = None

    def comment(self) -> str:
        return f"# {self.location} {self.what}"


@dataclass(frozen=True, slots=True)
class Mark:
    """In a statement sink: the lines after this come from `origin` (with a comment
    naming it, unless `comment` is false: a return to the enclosing origin)."""

    origin: Origin | None
    comment: bool = True


class ModuleWriter:
    """Accumulates generated source, the constants it refers to, and its line map
    (which YAML definition each generated line comes from, as Jinja2's `debug_info`)."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.origins: list[Origin | None] = []  # per line of `lines`
        self.origin: Origin | None = None  # the origin of lines emitted now
        self.top: str | None = None  # the top-level definition being written
        self.constants: dict[str, Any] = {}
        self._constant_ids: dict[tuple[type, Any], str] = {}
        self.temps = 0

    def fresh(self, prefix: str) -> str:
        """A new local name for generated code (inlined values, loop variables)."""
        self.temps += 1
        return ident(prefix, str(self.temps))

    def constant(self, value: Any, prefix: str = "_k") -> str:
        """The name of a module constant holding value (one per distinct value)."""
        try:
            # Decimals by their text: 0.1 and 0.10 are equal but print differently.
            key = (type(value), str(value) if isinstance(value, Decimal) else value)
            hash(key)
        except TypeError:
            key = (type(value), id(value))
        name = self._constant_ids.get(key)
        if name is None:
            name = ident(prefix, str(len(self.constants)))
            self.constants[name] = value
            self._constant_ids[key] = name
        return name

    def literal(self, value: Any) -> str:
        """`lit(value)` when it has a safe repr, else a named constant."""
        return lit(value) if has_safe_repr(value) else self.constant(value)

    def emit(self, line: str, indent: int = 0) -> None:
        self.lines.append("    " * indent + line)
        self.origins.append(self.origin)

    def mark(self, origin: Origin | None, indent: int, comment: bool = True) -> None:
        """Lines from here on come from origin; a comment names it in the source. At
        indent 0, origin starts (or, None, ends) a top-level definition."""
        if indent == 0:
            self.top = None if origin is None else origin.what
        if origin is not None and origin.top != self.top:
            origin = Origin(origin.location, origin.what, self.top)
        self.origin = origin
        if origin is not None and comment:
            self.emit(origin.comment(), indent)

    def take_lines(self) -> tuple[list[str], list[Origin | None]]:
        """The lines written so far and their origins; the writer starts afresh."""
        taken = self.lines, self.origins
        self.lines, self.origins = [], []
        return taken

    def put_lines(self, lines: list[str], origins: list[Origin | None]) -> None:
        self.lines.extend(lines)
        self.origins.extend(origins)
