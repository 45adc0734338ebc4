"""Explanations derive every value: the derivation tree of `decide(..., explain=True)`
(cases in derivation_cases.yaml; the shape in schemas/explanation.schema.json)."""

from __future__ import annotations

import copy
import json
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

import ruleengine
from ruleengine import jsonio, trace

ROOT = Path(__file__).resolve().parents[2]
CASES = yaml.safe_load((Path(__file__).parent / "derivation_cases.yaml").read_text("utf-8"))
SCHEMA = json.loads((ROOT / "schemas" / "explanation.schema.json").read_text("utf-8"))
Node = dict[str, Any]


@pytest.fixture(scope="module")
def engine() -> ruleengine.Engine:
    return ruleengine.load(ROOT / "rules")


def derive(engine: ruleengine.Engine, case: dict[str, Any]) -> tuple[dict[str, Any], Node]:
    decision = engine.decide(case["ruleset"], case["decision"], case["input"], explain=True)
    out = jsonio.decision_to_json(decision)
    return out, out["derivation"]


def all_nodes(node: Node) -> Iterator[Node]:
    yield node
    for child in node.get("inputs", ()):
        yield from all_nodes(child)


def reachable(root: Node, by_id: dict[str, Node]) -> list[Node]:
    """Every node the root depends on, following refs to nodes shown elsewhere."""
    found: list[Node] = []
    seen: set[str] = set()

    def visit(node: Node) -> None:
        if "ref" in node:
            node = by_id[node["ref"]]
        if node.get("id") in seen:
            return
        seen.add(node.get("id", ""))
        found.append(node)
        for child in node.get("inputs", ()):
            visit(child)

    visit(root)
    return found


def source_line(node: Node) -> str:
    where = node["location"]
    return (ROOT / where["file"]).read_text("utf-8").splitlines()[where["line"] - 1]


def as_text(value: Any) -> str:
    return "null" if value is None else str(value)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_output_is_derived_from_rows_lets_and_calls(
    engine: ruleengine.Engine, case: dict[str, Any]
) -> None:
    out, derivation = derive(engine, case)
    by_id = {n["id"]: n for r in derivation["roots"] for n in all_nodes(r) if "id" in n}
    roots = {r["label"]: r for r in derivation["roots"]}
    assert set(roots) == set(out["result"])  # one root per output field
    root = roots[case["output"]]
    assert root["kind"] == "output" and root["value"] == out["result"][case["output"]]
    nodes = reachable(root, by_id)

    rows = {}
    for want in case["rows"]:
        found = [
            n
            for n in nodes
            if n["kind"] == "row" and n["table"] == want["table"] and n["key"] == want["key"]
        ]
        assert found, want
        for row in found:  # a row read twice is listed where each read happened
            # the location is the row in the rule file; the value is that row's
            written = yaml.safe_load(source_line(row).strip().removeprefix("- "))
            assert {as_text(v) for v in written} == {as_text(v) for v in row["value"].values()}
            assert row["location"]["file"].startswith(f"rules/{case['ruleset']}/")
        rows[want["table"]] = found[-1]

    percent = case["percent"]
    [helper] = [n for n in nodes if n["kind"] == "function" and n["label"] == percent["function"]]
    assert helper["value"] == rows[percent["table"]]["value"][percent["column"]]
    assert any(child.get("id") == rows[percent["table"]]["id"] for child in helper["inputs"])

    named = {n["label"]: n for n in nodes if n["kind"] in ("let", "output", "function")}
    for name in case["values"]:
        node = named[name]
        line = source_line(node)
        # file:line:col points at the expression as written
        assert line[node["location"]["col"] - 1 :].startswith(node["expr"].split()[0]), name
    for name, field in case["same_as_result"].items():
        assert named[name]["value"] == out["result"][field], name

    rounding = case["rounding"]
    calls = [n for n in nodes if n["kind"] == "call" and n["label"] == rounding["call"]]
    last = [c for c in calls if c["value"] == named[rounding["gives"]]["value"]]
    assert last, calls
    assert rounding["call"] in source_line(last[0])
    assert len(last[0]["args"]) == 2  # amount, digits


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_derivation_matches_its_schema(engine: ruleengine.Engine, case: dict[str, Any]) -> None:
    _, derivation = derive(engine, case)
    jsonschema.validate(derivation, SCHEMA)
    ids = [n["id"] for r in derivation["roots"] for n in all_nodes(r) if "id" in n]
    assert len(ids) == len(set(ids))


def depth(node: Node) -> int:
    return 1 + max((depth(c) for c in node.get("inputs", ())), default=0)


def test_the_tree_is_cut_at_max_depth_with_a_marker(
    engine: ruleengine.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    full = derive(engine, CASES[0])[1]
    assert full["max_depth"] == trace.MAX_DEPTH
    assert max(depth(r) for r in full["roots"]) > 3
    monkeypatch.setattr(trace, "MAX_DEPTH", 2)
    _, cut = derive(engine, CASES[0])
    assert cut["max_depth"] == 2
    assert max(depth(r) for r in cut["roots"]) <= 3  # root + 2 levels
    marked = [n for r in cut["roots"] for n in all_nodes(r) if "cut" in n]
    assert marked and all("depth 2" in n["cut"] for n in marked)
    jsonschema.validate(cut, SCHEMA)


def test_plain_decisions_carry_no_derivation(engine: ruleengine.Engine) -> None:
    case = CASES[0]
    plain = engine.decide(case["ruleset"], case["decision"], case["input"])
    explained = engine.decide(case["ruleset"], case["decision"], case["input"], explain=True)
    assert plain.derivation is None and "derivation" not in jsonio.decision_to_json(plain)
    assert plain.result == explained.result
    assert explained.explanation  # the rules considered are still listed


def test_the_explanation_is_worked_out_when_first_read(
    engine: ruleengine.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = CASES[0]
    built: list[int] = []
    real = trace.derivation

    def counting(*args: Any) -> dict[str, Any]:
        built.append(1)
        return real(*args)

    monkeypatch.setattr(trace, "derivation", counting)
    decision = engine.decide(case["ruleset"], case["decision"], case["input"], explain=True)
    assert built == []  # deciding records events; the tree is built when read
    first = decision.derivation
    assert built == [1] and decision.derivation is first  # once, then kept
    again = engine.decide(case["ruleset"], case["decision"], case["input"], explain=True)
    assert again == decision  # equal answers, explanations read from their own traces
    assert decision._asdict()["derivation"] == first
    assert decision._asdict()["explanation"] == decision.explanation


def test_changing_the_input_after_deciding_changes_no_explanation(
    engine: ruleengine.Engine,
) -> None:
    case = CASES[0]
    kept = json.loads(json.dumps(case["input"]))
    changed = json.loads(json.dumps(case["input"]))
    decision = engine.decide(case["ruleset"], case["decision"], changed, explain=True)
    changed["account"]["country"] = "XX"  # after deciding, before reading
    changed["subscription"]["seats"] = 999
    changed["subscription"].clear()
    read = jsonio.decision_to_json(decision)
    fresh = engine.decide(case["ruleset"], case["decision"], kept, explain=True)
    assert read == jsonio.decision_to_json(fresh)
    facts = [
        n for r in read["derivation"]["roots"] for n in all_nodes(r) if n.get("kind") == "fact"
    ]
    assert {"label": "subscription.seats", "value": 2} in [
        {"label": n["label"], "value": n["value"]} for n in facts
    ]
    values = [e["values"] for e in read["explanation"] if "account.country" in e["values"]]
    assert values and all(v["account.country"] == "US" for v in values)


def test_coverage_gets_the_events_as_objects(engine: ruleengine.Engine) -> None:
    case = CASES[0]
    decision, events = engine.decide_traced(case["ruleset"], case["decision"], case["input"])
    kinds = {type(e) for e in events}
    assert kinds <= {trace.TableRead, trace.GroupCall, trace.TraceEntry, trace.Derived}
    assert [e for e in events if type(e) is trace.TraceEntry] == list(decision.explanation or ())
    derived = [(i, e) for i, e in enumerate(events) if type(e) is trace.Derived]
    assert derived and all(0 <= e.start <= i for i, e in derived)
    # a helper's result owns the events recorded while computing it: its row reads
    [(at, percent)] = [(i, e) for i, e in derived if e.site.name == "promotion_percent"]
    owned = events[percent.start : at]
    assert trace.TableRead("promotions", "ADDSEATS15") in owned


def test_an_explained_decision_copies_and_pickles_with_its_explanation(
    engine: ruleengine.Engine,
) -> None:
    case = CASES[0]
    decision = engine.decide(case["ruleset"], case["decision"], case["input"], explain=True)
    for copied in (pickle.loads(pickle.dumps(decision)), copy.deepcopy(decision)):
        assert copied == decision
        assert copied.derivation == decision.derivation
        assert copied.explanation == decision.explanation
        assert jsonio.decision_to_json(copied) == jsonio.decision_to_json(decision)


def test_an_object_a_hook_puts_in_the_trace_is_an_event_of_its_own(
    engine: ruleengine.Engine,
) -> None:
    case = CASES[0]
    decision = engine.decide(case["ruleset"], case["decision"], case["input"], explain=True)
    events = list(decision[8]._trace)  # the recorded events (trace.Explained)
    marker = object()  # as a hook would append it, after the events before it
    mixed = [*events, marker]
    objects = trace.as_objects(mixed)
    assert objects.count(marker) == 1 and objects[-1] is marker
    kinds = [type(o) for o in objects if o is not marker]
    assert kinds == [type(o) for o in trace.as_objects(events)]
    assert trace.rule_entries(mixed) == decision.explanation
