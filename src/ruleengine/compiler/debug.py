"""Generated code you can debug (like Jinja2's `debug.py`).

Each generated module is registered with `linecache` under its filename (such as
`<rules self-service@2026-12 decisions>`), so tracebacks and debuggers show its
source, and keeps a line map (Python line -> the YAML definition it came from) in
its own namespace. `as_internal(exc)` turns an unexpected exception raised inside
generated code into an `InternalError` naming the rule file and line of the
innermost rule, function or decision that was running.
"""

from __future__ import annotations

import linecache
from types import TracebackType

from ..errors import DecisionBudgetError, InternalError
from .emit import Origin

LINE_MAP = "__rules_line_map__"  # in a generated module's globals: {filename: origins}


def module_filename(ruleset: str, version: str, traced: bool = False) -> str:
    return f"<rules {ruleset}@{version} decisions{' traced' if traced else ''}>"


def register(
    filename: str, source: str, origins: list[Origin | None], namespace: dict[str, object]
) -> None:
    """Make source visible to tracebacks and keep its line map with the module."""
    lines = source.splitlines(keepends=True)
    # mtime None: linecache.checkcache never drops an entry it cannot stat.
    linecache.cache[filename] = (len(source), None, lines, filename)
    maps = namespace.setdefault(LINE_MAP, {})
    assert isinstance(maps, dict)
    maps[filename] = origins


def origin_at(filename: str, line: int, maps: object) -> Origin | None:
    """The origin of a generated line (1-based), or None."""
    if not isinstance(maps, dict):
        return None
    origins = maps.get(filename)
    if origins is None or not 0 < line <= len(origins):
        return None
    found: Origin | None = origins[line - 1]
    return found


def as_internal(exc: BaseException) -> InternalError:
    """An InternalError for an unexpected exception, naming where in the rule files the
    generated code that raised it comes from (its innermost frame with a known origin)."""
    where: tuple[Origin, str, int] | None = None
    tb: TracebackType | None = exc.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        filename = frame.f_code.co_filename
        found = origin_at(filename, tb.tb_lineno, frame.f_globals.get(LINE_MAP))
        if found is not None:
            where = (found, filename, tb.tb_lineno)
        tb = tb.tb_next
    if isinstance(exc, DecisionBudgetError):  # over the runtime budget: not a bug
        if where is None:
            return DecisionBudgetError(f"decision_budget_exceeded: {exc}")
        origin = where[0]
        return DecisionBudgetError(
            f"{origin.location}: decision_budget_exceeded in {origin.what}: {exc}",
            origin.location,
            origin.what,
        )
    problem = f"{type(exc).__name__}: {exc}"
    if where is None:
        return InternalError(f"internal error: {problem}")
    origin, filename, line = where
    return InternalError(
        f"{origin.location}: internal error in {origin.what}: {problem}"
        f" (generated code {filename} line {line})",
        location=origin.location,
        what=origin.what,
    )
