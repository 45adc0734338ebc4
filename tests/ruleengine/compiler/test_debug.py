"""Generated modules can be read and debugged: registered with linecache, each rule's
code under a comment naming its YAML line, and an unexpected exception inside
generated code reported as an InternalError naming the rule's file and line."""

from __future__ import annotations

import linecache
import re
import traceback
from typing import Any

import pytest

from ruleengine.errors import InternalError, RuleEngineError

from ..conftest import BuildEngine

RULES = """\
rules:
  checks:
    params: {start: date, end: date}
    rules:
      - id: too_short
        when: days(start, end) < 30
        then: '"short"'
      - id: too_long
        when: days(start, end) > 400
        then: '"long"'
"""

DECISIONS = """\
decisions:
  d:
    input:
      start: date
      end: date
    output:
      problems: checks(start, end)
"""

INPUT = {"start": "2026-01-01", "end": "2026-01-10"}


def _boom(*args: Any) -> Any:
    raise ZeroDivisionError("a bug in the runtime")


@pytest.mark.parametrize("explain", [False, True])
def test_exception_in_generated_code_names_the_rule(
    build_engine: BuildEngine, explain: bool
) -> None:
    engine = build_engine(DECISIONS, rules=RULES)
    compiled = engine.rulesets["t"].versions[0].compiled
    assert engine.decide("t", "d", INPUT).result == {"problems": ["short"]}
    # Every generated function shares one namespace: break a runtime helper in it.
    namespace = compiled.decisions["d"].run.__globals__
    namespace["_days"] = _boom
    with pytest.raises(InternalError) as caught:
        engine.decide("t", "d", INPUT, explain=explain)
    error = caught.value
    assert not isinstance(error, RuleEngineError)  # a bug, not the user's: the server says 500
    assert error.what == "rule checks/too_short"
    assert error.location is not None and re.fullmatch(r".*rules\.yaml:5", error.location)
    assert str(error).startswith(f"{error.location}: internal error in rule checks/too_short")
    assert "ZeroDivisionError: a bug in the runtime" in str(error)
    assert isinstance(error.__cause__, ZeroDivisionError)


def test_tracebacks_show_generated_source(build_engine: BuildEngine) -> None:
    engine = build_engine(DECISIONS, rules=RULES)
    compiled = engine.rulesets["t"].versions[0].compiled
    compiled.decisions["d"].run.__globals__["_days"] = _boom
    with pytest.raises(InternalError) as caught:
        engine.decide("t", "d", INPUT)
    frames = traceback.extract_tb(caught.value.__cause__.__traceback__)  # type: ignore[union-attr]
    generated = [f for f in frames if f.filename == "<rules t@v1 decisions>"]
    assert generated, [f.filename for f in frames]
    assert all(f.line for f in generated)  # linecache has the source
    assert "_days(" in generated[-1].line  # type: ignore[operator]


def test_each_rule_is_preceded_by_its_yaml_line(build_engine: BuildEngine) -> None:
    engine = build_engine(DECISIONS, rules=RULES)
    compiled = engine.rulesets["t"].versions[0].compiled
    lines = compiled.source.splitlines()
    for rule, line in (("too_short", 5), ("too_long", 8)):
        comments = [
            s for s in lines if re.fullmatch(rf"\s*# \S*rules\.yaml:{line} rule checks/{rule}", s)
        ]
        assert comments, rule
    assert (
        lines == linecache.getlines("<rules t@v1 decisions>")
        or [s.rstrip("\n") for s in linecache.getlines("<rules t@v1 decisions>")] == lines
    )


def test_listing_of_one_decision(build_engine: BuildEngine) -> None:
    engine = build_engine(DECISIONS, rules=RULES)
    compiled = engine.rulesets["t"].versions[0].compiled
    listing = compiled.listing(decision="d")
    defs = re.findall(r"^def (\w+)\(", listing, re.M)
    assert sorted(defs) == ["d_d", "p_d", "vf_in_d", "vi_d"]
    # the rule group is inlined into p_d: its rules come along, under their YAML lines
    hot = listing[listing.index("def p_d(") :]
    assert re.search(r"# \S*rules\.yaml:5 rule checks/too_short\n\s+if .*_days\(", hot)
    traced = compiled.listing(traced=True, decision="d")
    assert re.findall(r"^def (\w+)\(", traced, re.M) == ["d_d_t"]
    assert "def g_checks_t(" in compiled.listing(traced=True)
