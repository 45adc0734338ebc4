"""GoRules zen-engine (Rust, Python binding `zen-engine`): the policy in ZEN / JDM.

Three encodings, all under bench/peers/, written by zen_write.py (how each is built,
and why it is the fastest form measured, is in its docstring):

- zen_options.zen: the whole decision as one ZEN expression, compiled once with
  `zen.compile_expression` and evaluated per call (no graph, no JDM: the cheapest
  way into ZEN). The gate reasons and the product's priced terms are computed once
  and bound with `map([value] as name, ...)[0]` (ZEN has no `let`); each option's
  reasons are `flatMap([gate, cond ? [[code, message]] : [], ...], #)`.
- zen_options.json: a JDM graph whose one expression node holds that expression
  (key `options`), evaluated with `ZenEngine(static loader).evaluate`.
- zen_options_table.json: an expression node for the price-list facts, one decision
  table with hit policy `collect` (one row per reason, in the policy's order,
  outputting code, option (`all` for the gate) and message), then an expression node
  that assembles the three options from the hits.

Graphs are evaluated with `ZenEngine(static loader).evaluate(key, facts)`, without
trace (the default): `ZenDecision.evaluate` (from `create_decision`) costs about
600 µs per call even on a one-node graph here, and a callback loader is called on
every evaluation. Facts go in as the dict (passing JSON text instead was slower:
json.dumps costs more than the binding's conversion).
"""

from __future__ import annotations

import json
from typing import Any

import zen

from . import HERE, SAMPLE


def _graph(filename: str, key: str | None = None) -> Any:
    content = json.loads((HERE / filename).read_text("utf-8"))
    engine = zen.ZenEngine({"loader": {"type": "static", "content": {"options": content}}})
    evaluate = engine.evaluate

    if key is None:

        def options(facts: dict[str, Any]) -> dict[str, Any]:
            return evaluate("options", facts)["result"]

    else:

        def options(facts: dict[str, Any]) -> dict[str, Any]:
            return evaluate("options", facts)["result"][key]

    options(SAMPLE)  # parse and compile the graph now, not on the first timed call
    return options


def load_expression() -> Any:
    return _graph("zen_options.json", "options")


def load_tables() -> Any:
    return _graph("zen_options_table.json")


def load_compiled() -> Any:
    expression = zen.compile_expression((HERE / "zen_options.zen").read_text("utf-8"))
    return expression.evaluate
