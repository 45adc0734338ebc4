"""The layer contract beyond imports (the imports themselves are checked by `lint-imports`,
contracts in pyproject.toml): clients of the engine use its public API only.

The server, QA and the command line must not reach through a `Version` into the compiled
or checked program (`version.compiled.checked...`): those are the compiler's and the
checker's internal shapes. They read `Version.decisions`, `groups()`, `rules()` and
`tables()` instead.
"""

from __future__ import annotations

import ast
from pathlib import Path

import ruleengine

SRC = Path(__file__).resolve().parent.parent / "src"
CLIENTS = [SRC / "server", SRC / "ruleengine" / "qa", SRC / "ruleengine" / "cli"]
INTERNAL_ATTRIBUTES = frozenset({"compiled", "checked"})


def reach_ins(source: str) -> list[tuple[int, str]]:
    """(line, attribute) of every `x.compiled` or `x.checked` in the source."""
    return [
        (node.lineno, node.attr)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Attribute) and node.attr in INTERNAL_ATTRIBUTES
    ]


def test_clients_do_not_reach_into_compiled_versions() -> None:
    found = [
        f"{path.relative_to(SRC)}:{line}: .{attribute}"
        for folder in CLIENTS
        for path in sorted(folder.rglob("*.py"))
        for line, attribute in reach_ins(path.read_text("utf-8"))
    ]
    assert found == [], "use the public views (Version.decisions, rules(), tables()): " + str(found)


def test_the_check_sees_a_reach_in() -> None:
    source = "def f(v):\n    return v.compiled.checked.decisions\n"
    assert sorted(reach_ins(source)) == [(2, "checked"), (2, "compiled")]


def test_every_public_name_is_there() -> None:
    missing = [name for name in ruleengine.__all__ if not hasattr(ruleengine, name)]
    assert missing == []
    assert sorted(ruleengine.__all__) == sorted(set(ruleengine.__all__))
