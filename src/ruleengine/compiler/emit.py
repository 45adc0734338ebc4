"""`ModuleWriter`: the lines of one generated module and the constants they name."""

from __future__ import annotations

from decimal import Decimal
from typing import Any


class ModuleWriter:
    """Accumulates generated source and the constants it refers to."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.constants: dict[str, Any] = {}
        self._constant_ids: dict[tuple[type, Any], str] = {}
        self.temps = 0

    def fresh(self, prefix: str) -> str:
        """A new local name for generated code (inlined values, loop variables)."""
        self.temps += 1
        return f"{prefix}{self.temps}"

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
            name = f"{prefix}{len(self.constants)}"
            self.constants[name] = value
            self._constant_ids[key] = name
        return name

    def emit(self, line: str, indent: int = 0) -> None:
        self.lines.append("    " * indent + line)
