"""Fixtures for the back-end tests: tiny generated rule sets, built through the real pipeline."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

import ruleengine

BuildEngine = Callable[..., ruleengine.Engine]


@pytest.fixture(scope="session")
def build_engine(tmp_path_factory: pytest.TempPathFactory) -> BuildEngine:
    """Write a one-version rule set `t` (manifest + the given files) and load it.

    `build_engine(decisions_yaml, **other_files)`: each keyword becomes `<name>.yaml`.
    """
    counter = itertools.count()

    def build(decisions: str, clock: date = date(2026, 3, 15), **files: str) -> ruleengine.Engine:
        root = tmp_path_factory.mktemp(f"rules{next(counter)}")
        vdir = root / "t" / "v1"
        vdir.mkdir(parents=True)
        (vdir / "manifest.yaml").write_text(
            'ruleset: t\nversion: "v1"\neffective_from: 2000-01-01\nlocales: [en]\n', "utf-8"
        )
        (vdir / "decisions.yaml").write_text(decisions, "utf-8")
        for name, text in files.items():
            (vdir / f"{name}.yaml").write_text(text, "utf-8")
        return ruleengine.load(root, clock=lambda: clock)

    return build


@pytest.fixture
def yaml_nodes_converted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A counter of the YAML nodes the loader converts (alias expansions included):
    work bounds that do not depend on the machine, unlike timings."""
    from ruleengine import loader as load_module

    calls = [0]
    original = load_module._Converter.convert

    def counting(self: Any, node: Any, path: Any) -> Any:
        calls[0] += 1
        return original(self, node, path)

    monkeypatch.setattr(load_module._Converter, "convert", counting)
    return calls
