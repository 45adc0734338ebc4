"""GoRules zen-engine (Rust, Python binding `zen-engine`): the policy in ZEN / JDM.

Three encodings, all under bench/peers/:

- zen_options.json: a JDM graph with one expression node holding three
  expressions, one per option. Each builds the option's candidate reasons as
  `[code, condition, English message]` triples in the policy's order,
  `filter`s on the condition, then derives available/reasons/remedy/messages
  (ZEN has no `let` and no list concatenation: `map([xs], {...})[0]` binds the
  filtered list, and order comes from the ordered triples).
- zen_options_table.json: an expression node for the two price-list facts,
  one decision table with hit policy `collect` (one row per reason, in the
  policy's order, outputting code, option (`all` for the gate) and message),
  then an expression node that assembles the three options from the hits.
- zen_options.zen: the same expression as zen_options.json as one ZEN
  expression returning the whole result, compiled once with
  `zen.compile_expression` (no graph, no JDM: the cheapest way into ZEN).

The version in effect is picked inside the policy (`d(as_of) >= d("2026-12-01")`
selects the add_seats country list). Graphs are evaluated with
`ZenEngine(static loader).evaluate(key, facts)`: `ZenDecision.evaluate` (from
`create_decision`) costs about 600 µs per call even on a one-node graph here.
"""

from __future__ import annotations

import json
from typing import Any

import zen

from . import HERE, SAMPLE


def _graph(filename: str) -> Any:
    content = json.loads((HERE / filename).read_text("utf-8"))
    engine = zen.ZenEngine({"loader": {"type": "static", "content": {"options": content}}})
    evaluate = engine.evaluate

    def options(facts: dict[str, Any]) -> dict[str, Any]:
        return evaluate("options", facts)["result"]

    options(SAMPLE)  # parse and compile the graph now, not on the first timed call
    return options


def load_expression() -> Any:
    return _graph("zen_options.json")


def load_tables() -> Any:
    return _graph("zen_options_table.json")


def load_compiled() -> Any:
    expression = zen.compile_expression((HERE / "zen_options.zen").read_text("utf-8"))
    return expression.evaluate
