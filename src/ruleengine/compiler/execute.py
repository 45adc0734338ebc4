"""Running generated source: exec in the namespace, shared rule functions made from
their shapes, late rule indexes filled in, and the traced copy compiled lazily."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from types import FunctionType
from typing import Any

from .debug import register
from .emit import Origin
from .generate import Generator
from .unit import CompileUnit


def execute(
    source: str,
    filename: str,
    namespace: dict[str, Any],
    module: CompileUnit,
    origins: list[Origin | None],
) -> None:
    register(filename, source, origins, namespace)
    code = compile(source, filename, "exec")
    exec(code, namespace)  # our own generated source, built from checked nodes only
    for name, (shape, literals) in module.instances.items():
        if name not in namespace and shape in namespace:
            made = namespace[shape]
            namespace[name] = FunctionType(made.__code__, namespace, name, literals)
    for name, (by_key, always) in module.late_indexes.items():
        if name in namespace or not all(f in namespace for f in always):
            continue  # installed already, or belongs to the other module
        if not all(f in namespace for fns in by_key.values() for f in fns):
            continue
        namespace[name] = (
            {key: tuple(namespace[f] for f in fns) for key, fns in by_key.items()},
            tuple(namespace[f] for f in always),
        )


class TracedModule:
    """The traced copy of a version's code, compiled the first time an explanation is asked
    for: most processes never explain, and a large rule set compiles in half the time."""

    def __init__(self, generator: Generator, filename: str, namespace: dict[str, Any]):
        self._generator = generator
        self._filename = filename
        self._namespace = namespace
        self._lock = threading.Lock()
        self._built: tuple[str, list[Origin | None]] | None = None

    def build(self) -> tuple[str, list[Origin | None]]:
        """Generate and execute the traced copy (once); its source and line origins."""
        if self._built is None:
            with self._lock:
                if self._built is None:
                    module = self._generator.m
                    source, origins = self._generator.traced_source()
                    for key, value in module.constants.items():
                        self._namespace.setdefault(key, value)  # constants the traced code added
                    execute(source, self._filename, self._namespace, module, origins)
                    self._built = (source, origins)
        return self._built

    def function(self, name: str) -> Callable[..., Any]:
        if self._built is None:
            self.build()
        found: Callable[..., Any] = self._namespace[name]
        return found

    def runner(self, decision: str) -> Callable[..., dict[str, Any]]:
        name = f"d_{decision}_t"
        namespace = self._namespace

        def run_traced(
            data: dict[str, Any], as_of: date, locale: str, trace: list[Any]
        ) -> dict[str, Any]:
            if self._built is None:  # (set only once the whole copy has run)
                self.build()
            result: dict[str, Any] = namespace[name](data, as_of, locale, trace)
            return result

        return run_traced
