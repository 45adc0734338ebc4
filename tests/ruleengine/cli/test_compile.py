"""`ruleengine compile`: the generated module of a version, as Python that compiles."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from typer.testing import CliRunner

from ruleengine.cli import app

ROOT = Path(__file__).resolve().parents[3]
RULES = ROOT / "rules"


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["compile", str(RULES), *args])
    return result.exit_code, result.stdout, result.stderr


def test_prints_the_module_with_each_rule_located() -> None:
    code, out, _ = _run("--ruleset", "example", "--version", "2026-01")
    assert code == 0
    ast.parse(out)  # plain Python
    names = set(re.findall(r"^def (\w+)\(", out, re.M))
    assert {"p_checkout", "d_checkout", "vi_checkout", "vf_in_checkout"} <= names
    located = re.findall(r"^\s*# (\S+\.yaml):(\d+) rule (\S+)$", out, re.M)
    assert (
        "rules/example/2026-01/rules.yaml",
        "18",
        "checkout_blockers/country_not_served",
    ) in located


def test_one_decision_and_the_traced_copy() -> None:
    code, out, _ = _run("--ruleset", "example", "--decision", "checkout", "--traced")
    assert code == 0
    ast.parse(out)
    defs = re.findall(r"^def (\w+)\(", out, re.M)
    # the decision's traced function, and loops lifted out of its expressions
    assert defs[0] == "d_checkout_t" and all(re.fullmatch(r"_loop\d+_t", d) for d in defs[1:])
    assert "def d_checkout_t(_inp, _as_of, _locale, _trace):" in out


def test_unknown_names_are_errors() -> None:
    code, out, err = _run("--ruleset", "exampel")
    assert code == 1 and out == ""
    assert "unknown ruleset 'exampel'; did you mean 'example'?" in err
    code, _, err = _run("--ruleset", "example", "--version", "1999")
    assert code == 1 and "unknown version '1999'" in err
    code, _, err = _run("--ruleset", "example", "--decision", "nope")
    assert code == 1 and "unknown decision 'nope'" in err
