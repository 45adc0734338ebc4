"""Would a new version's input schema reject what callers of the old one send?

Compares two JSON Schemas as `schema_export.input_schema` writes them (objects
with `properties`/`required`/`additionalProperties: false`, `type`, `enum`,
`pattern`, bounds, `items`, `anyOf` for optional and decimal values) and lists
every place where the new one accepts less: a new required field, a removed
field, a narrowed type, enum, pattern or bound. Conservative: a pattern that
differs at all counts as narrowed (regular-expression containment is not
decided). Public entry: `narrowings(old, new)`.
"""

from __future__ import annotations

from typing import Any

_LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems")
_UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems")


def narrowings(old: dict[str, Any], new: dict[str, Any], path: str = "input") -> list[str]:
    """Each way `new` rejects a value `old` accepts, as `path: what`, in path order."""
    out: list[str] = []
    _compare(old, new, path, out)
    return out


def _branches(schema: dict[str, Any]) -> list[dict[str, Any]]:
    if "anyOf" in schema:
        return [b for branch in schema["anyOf"] for b in _branches(branch)]
    return [schema]


def _kind(schema: dict[str, Any]) -> str:
    return str(schema.get("type", "any"))


def _compare(old: dict[str, Any], new: dict[str, Any], path: str, out: list[str]) -> None:
    new_branches = _branches(new)
    for branch in _branches(old):
        kind = _kind(branch)
        matches = [b for b in new_branches if _kind(b) in (kind, "any")]
        if not matches:
            out.append(f"{path}: {kind} values are no longer accepted")
            continue
        # The closest branch of the same kind decides (e.g. the string branch of a decimal).
        best = min(matches, key=lambda b: len(_narrow_here(branch, b, path)))
        out.extend(_narrow_here(branch, best, path))
        if kind == "object":
            _compare_objects(branch, best, path, out)
        elif kind == "array" and "items" in branch:
            _compare(branch["items"], best.get("items", {}), f"{path}[]", out)


def _narrow_here(old: dict[str, Any], new: dict[str, Any], path: str) -> list[str]:
    out = []
    if "enum" in new:
        dropped = sorted(set(map(str, old.get("enum", []))) - set(map(str, new["enum"])))
        if "enum" not in old:
            out.append(f"{path}: now limited to {sorted(map(str, new['enum']))}")
        elif dropped:
            out.append(f"{path}: no longer accepts {dropped}")
    if "pattern" in new and new["pattern"] != old.get("pattern"):
        out.append(f"{path}: the pattern changed to {new['pattern']!r}")
    for key in _LOWER_BOUNDS:
        if key in new and (key not in old or new[key] > old[key]):
            out.append(f"{path}: {key} raised to {new[key]}")
    for key in _UPPER_BOUNDS:
        if key in new and (key not in old or new[key] < old[key]):
            out.append(f"{path}: {key} lowered to {new[key]}")
    if new.get("uniqueItems") and not old.get("uniqueItems"):
        out.append(f"{path}: items must now be unique")
    return out


def _compare_objects(old: dict[str, Any], new: dict[str, Any], path: str, out: list[str]) -> None:
    old_props: dict[str, Any] = old.get("properties", {})
    new_props: dict[str, Any] = new.get("properties", {})
    old_required = set(old.get("required", []))
    for name in new.get("required", []):
        if name not in old_required:
            out.append(f"{path}.{name}: a new required field")
    closed = new.get("additionalProperties") is False
    for name, spec in old_props.items():
        if name not in new_props:
            if closed:
                out.append(f"{path}.{name}: the field was removed (callers sending it are refused)")
            continue
        _compare(spec, new_props[name], f"{path}.{name}", out)
    extra_old, extra_new = old.get("additionalProperties"), new.get("additionalProperties")
    if isinstance(extra_old, dict) and isinstance(extra_new, dict):
        _compare(extra_old, extra_new, f"{path}.*", out)
    elif isinstance(extra_old, dict) and extra_new is False and not old_props:
        out.append(f"{path}: map entries are no longer accepted")
