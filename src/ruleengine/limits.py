"""The size limits of one version (issue 12.6): table rows and rules, counted over
all its files, reported at the row or rule that crosses the limit.

The bytes of YAML are counted before any file is read or parsed (`loader.over_bytes`);
rows and rules here, once the version's model is built and before it is checked and
compiled (`version_limit_problems`). The limits themselves are `model.Limits`.
"""

from __future__ import annotations

from collections.abc import Iterator

from .errors import Code, Diagnostic
from .model import Limits, Location, TableDef, VersionModel

_HINTS = {
    "table rows": "move data to another rule set, or raise the limit "
    "(`--max-version-rows`, RULEENGINE_MAX_VERSION_ROWS)",
    "rules": "split the rules into another rule set, or raise the limit "
    "(`--max-version-rules`, RULEENGINE_MAX_VERSION_RULES)",
}


def _table_rows(table: TableDef) -> Iterator[Location]:
    """Where each entry of a table sits: rows, set and map items, items of a list value."""
    if table.kind == "rows":
        yield from (where for _row, where in table.rows)
    elif table.kind in ("set", "map"):
        yield from table.item_locations
    elif isinstance(table.value, list | dict):
        for i, key in enumerate(table.value):
            yield table.where("value", key if isinstance(table.value, dict) else i)


def _rules(model: VersionModel) -> Iterator[Location]:
    for group in model.groups:
        yield from (rule.location for rule in group.rules)


def _crossing(what: str, places: Iterator[Location], limit: int) -> Diagnostic | None:
    """`version_too_large` at the first place past `limit`, with the whole count."""
    total, first_over = 0, None
    for where in places:
        total += 1
        if total == limit + 1:
            first_over = where
    if first_over is None:
        return None
    return Diagnostic(
        Code.VERSION_TOO_LARGE,
        f"this version holds {total:,} {what}; a version may hold at most {limit:,} "
        "(the first past the limit is here)",
        first_over.file,
        first_over.line,
        first_over.column,
        _HINTS[what],
    )


def version_limit_problems(model: VersionModel, limits: Limits) -> list[Diagnostic]:
    """`version_too_large` for a version with more table rows or rules than `limits`."""
    rows = (where for table in model.tables for where in _table_rows(table))
    found = [
        _crossing("table rows", rows, limits.max_version_rows),
        _crossing("rules", _rules(model), limits.max_version_rules),
    ]
    return [d for d in found if d is not None]
