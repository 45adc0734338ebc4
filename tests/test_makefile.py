"""`make serve` binds where HOST= and PORT= say, 127.0.0.1:8000 by default, as the
README's first line promises."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def serve_command(*overrides: str) -> str:
    """The `ruleengine serve` line `make serve` would run (make -n: nothing runs)."""
    result = subprocess.run(
        ["make", "-n", "serve", *overrides], cwd=ROOT, capture_output=True, text=True, check=True
    )
    [line] = [x for x in result.stdout.splitlines() if "ruleengine serve" in x]
    return line


def test_make_serve_defaults_to_localhost_8000() -> None:
    assert serve_command().endswith("serve --rules rules --host 127.0.0.1 --port 8000")
    first = (ROOT / "README.md").read_text("utf-8").split("```\n", 2)[1].splitlines()[0]
    assert first == "make serve   # creates .venv, installs, serves rules/ on 127.0.0.1:8000"


def test_make_serve_takes_host_and_port() -> None:
    line = serve_command("HOST=0.0.0.0", "PORT=9123")
    assert line.endswith("serve --rules rules --host 0.0.0.0 --port 9123")


def test_make_serve_ignores_host_and_port_in_the_environment() -> None:
    result = subprocess.run(
        [str(shutil.which("make")), "-n", "serve"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "HOST": "my-laptop", "PORT": "1"},
    )
    assert "--host 127.0.0.1 --port 8000" in result.stdout
