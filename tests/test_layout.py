"""The layout rule of docs/architecture.md: no module in src/ over 600 lines, no function
over 80 lines (from its `def` to its last line, docstring included).

A long function is split by concern, a long module into a package of modules with one
reason to change each. `ALLOWED` names the offenders left from before the rule, with
their length when it came in: they may shrink, never grow, and an entry that is no
longer needed fails the test until it is removed.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80

# "path" for a module, "path::Qualified.name" for a function (paths relative to src/),
# with the most lines it may have.
ALLOWED: dict[str, int] = {}


def _functions(
    body: list[ast.stmt], prefix: str = ""
) -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield prefix + node.name, node
            yield from _functions(node.body, f"{prefix}{node.name}.")
        elif isinstance(node, ast.ClassDef):
            yield from _functions(node.body, f"{prefix}{node.name}.")
        elif isinstance(node, ast.If | ast.Try | ast.With):
            yield from _functions(node.body, prefix)


def offenders() -> dict[str, int]:
    """Every module and function over its limit, with its length in lines."""
    found: dict[str, int] = {}
    for path in sorted(SRC.rglob("*.py")):
        name = path.relative_to(SRC).as_posix()
        text = path.read_text("utf-8")
        lines = len(text.splitlines())
        if lines > MAX_MODULE_LINES:
            found[name] = lines
        for qualified, node in _functions(ast.parse(text).body):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > MAX_FUNCTION_LINES:
                found[f"{name}::{qualified}"] = length
    return found


def test_no_module_or_function_over_its_limit() -> None:
    over = {name: n for name, n in offenders().items() if n > ALLOWED.get(name, 0)}
    assert not over, (
        f"over the limit ({MAX_MODULE_LINES} lines a module, {MAX_FUNCTION_LINES} a function): "
        + ", ".join(f"{name} ({n} lines)" for name, n in sorted(over.items()))
        + ". Split it by concern (docs/architecture.md, 'Layout rules'); an entry of ALLOWED"
        " in tests/test_layout.py may shrink, never grow."
    )


def test_allowlist_only_shrinks() -> None:
    stale = sorted(ALLOWED.keys() - offenders().keys())
    assert not stale, (
        f"no longer over the limit (or gone): {', '.join(stale)}; "
        "remove these entries from ALLOWED in tests/test_layout.py"
    )


def test_the_measure_sees_methods_and_nested_functions() -> None:
    body = "".join(f"            x{i} = {i}\n" for i in range(79))
    source = f"class C:\n    def m(self):\n        def inner():\n{body}        return inner\n"
    lengths = {
        q: (node.end_lineno or 0) - node.lineno + 1
        for q, node in _functions(ast.parse(source).body)
    }
    assert lengths == {"C.m": 82, "C.m.inner": 80}
