"""The public views of a loaded version: `Version.decisions`, `groups()`, `rules()`, `tables()`.

They are all that the server, QA and the command line see of a version (the compiled
program behind them is internal), so each field is checked against the rule files.
"""

from __future__ import annotations

import jsonschema
import pytest

import ruleengine

from .conftest import BuildEngine

DECISIONS = """\
decisions:
  grade:
    description: Grade a score.
    input:
      score: {type: int, minimum: 0}
      band: {type: string, in_table: bands}
    output:
      passed: score >= 50
      reasons: checks(score)
      level: level(score)
  bare:
    input:
      x: int
    output:
      y: x + 1
"""
RULES = """\
rules:
  checks:
    params: {score: int}
    rules:
      - id: low
        when: score < 10
        then: '"low"'
      - id: odd
        description: An odd score.
        when: score % 2 == 1
        then: '"odd"'
  level:
    params: {score: int}
    hit: first
    default: '"none"'
    rules:
      - id: high
        when: score > 90
        then: '"high"'
"""
TABLES = """\
tables:
  bands:
    set: [a, b, c]
  weights:
    map: {a: 1, b: 2}
  limits:
    key: [band, kind]
    columns: {band: string, kind: string, value: int}
    rows:
      - [a, min, 1]
      - [b, max, 2]
  pass_mark:
    value: 50
"""


@pytest.fixture(scope="module")
def version(build_engine: BuildEngine) -> ruleengine.Version:
    engine = build_engine(DECISIONS, rules=RULES, tables=TABLES)
    return engine.ruleset("t").versions[0]


def test_decisions_by_name_with_their_descriptions(version: ruleengine.Version) -> None:
    assert sorted(version.decisions) == ["bare", "grade"]
    grade = version.decisions["grade"]
    assert isinstance(grade, ruleengine.DecisionInfo)
    assert (grade.name, grade.description) == ("grade", "Grade a score.")
    assert version.decisions["bare"].description is None


def test_decision_schemas_describe_what_the_engine_accepts_and_answers(
    build_engine: BuildEngine, version: ruleengine.Version
) -> None:
    grade = version.decisions["grade"]
    input_schema, result_schema = grade.input_schema(), grade.result_schema()
    jsonschema.Draft202012Validator.check_schema(input_schema)
    jsonschema.Draft202012Validator.check_schema(result_schema)
    good = {"score": 95, "band": "a"}
    jsonschema.validate(good, input_schema)
    for bad in ({"score": -1, "band": "a"}, {"score": 5, "band": "z"}, {"score": 5}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, input_schema)
    engine = build_engine(DECISIONS, rules=RULES, tables=TABLES)
    answer = ruleengine.jsonio.to_plain(engine.decide("t", "grade", good).result)
    assert answer == {"passed": True, "reasons": ["odd"], "level": "high"}
    jsonschema.validate(answer, result_schema)
    assert set(result_schema["properties"]) == {"passed", "reasons", "level"}


def test_rule_groups_and_rules_in_source_order(version: ruleengine.Version) -> None:
    groups = version.groups()
    assert {name: (g.hit, [r.id for r in g.rules]) for name, g in groups.items()} == {
        "checks": ("collect", ["low", "odd"]),
        "level": ("first", ["high"]),
    }
    rules = version.rules()
    assert [(r.group, r.id) for r in rules] == [
        ("checks", "low"),
        ("checks", "odd"),
        ("level", "high"),
    ]
    odd = rules[1]
    assert odd.description == "An odd score."
    assert (odd.location.file.endswith("t/v1/rules.yaml"), odd.location.line) == (True, 8)


def test_tables_list_their_coverable_items_where_written(version: ruleengine.Version) -> None:
    tables = version.tables()
    assert {name: (t.kind, [i.key for i in t.items]) for name, t in tables.items()} == {
        "bands": ("set", ["a", "b", "c"]),
        "weights": ("map", ["a", "b"]),
        "limits": ("rows", [("a", "min"), ("b", "max")]),
        "pass_mark": ("value", []),
    }
    rows = tables["limits"].items
    assert [(i.location.line if i.location else None) for i in rows] == [10, 11]
    assert tables["bands"].location.line == 2
