"""Sensitive input fields, as the decision log writes them: a keyed hash, never the value.

A rule set marks a field `sensitive: true` in its types (docs/rules.md); the exported
input schema carries it as `"x-sensitive": true`. For each (version, decision) the
`Redactor` turns that schema once into a plan (which paths to hash) and applies it to
the input as received: a sensitive value (whatever its type) is logged as
`"hmac-sha256:<hex>"` of its JSON text, keyed with the configured key, so equal values
still match across lines but cannot be read back. Without a key they are logged as
`"redacted"`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
from typing import Any

import ruleengine
from ruleengine import jsonio

log = logging.getLogger("server.decision_log")

# A plan: True (hash this value), or {("p", name) | ("i",) | ("m",): plan} for the
# properties, list items and map values that hold something sensitive.
Plan = Any
REDACTED = "redacted"


def _plan(schema: Any) -> Plan:
    if not isinstance(schema, dict):
        return None
    if schema.get("x-sensitive") is True:
        return True
    plan: dict[tuple[str, ...], Plan] = {}
    for alternative in schema.get("anyOf", ()):
        sub = _plan(alternative)
        if sub is True:
            return True
        if sub:
            plan.update(sub)
    for name, sub_schema in (schema.get("properties") or {}).items():
        sub = _plan(sub_schema)
        if sub:
            plan[("p", name)] = sub
    for key, step in (("items", ("i",)), ("additionalProperties", ("m",))):
        sub = _plan(schema.get(key))
        if sub:
            plan[step] = sub
    return plan or None


class Redactor:
    """Applies the `sensitive` markings of each decision's input schema."""

    def __init__(self, key: bytes | None) -> None:
        self._key = key
        self._plans: dict[tuple[str, str, str], Plan] = {}
        self._lock = threading.Lock()
        self._warned = False

    def plan(self, engine: ruleengine.Engine, decision: ruleengine.Decision) -> Plan:
        """What to hash in inputs of this decision (None: nothing), built once per version."""
        cache_key = (decision.ruleset, decision.content_hash, decision.decision)
        try:
            return self._plans[cache_key]
        except KeyError:
            pass
        version = engine.ruleset(decision.ruleset).get(decision.version)
        plan = _plan(version.decisions[decision.decision].input_schema()) if version else None
        with self._lock:
            self._plans[cache_key] = plan
        if plan and self._key is None and not self._warned:
            self._warned = True
            log.warning(
                "sensitive input fields are logged as 'redacted': no decision-log key is "
                "configured (RULEENGINE_DECISION_LOG_KEY_FILE)",
                extra={"ruleset": decision.ruleset, "version": decision.version},
            )
        return plan

    def apply(self, plan: Plan, value: Any) -> Any:
        if plan is None:
            return value
        if plan is True:
            return self._hash(value)
        if isinstance(value, dict):
            out = dict(value)
            each = plan.get(("m",))
            for key, item in value.items():
                sub = plan.get(("p", key), each)
                if sub is not None and isinstance(key, str):
                    out[key] = self.apply(sub, item)
            return out
        if isinstance(value, list) and ("i",) in plan:
            return [self.apply(plan[("i",)], item) for item in value]
        return value

    def _hash(self, value: Any) -> str:
        if self._key is None:
            return REDACTED
        text = jsonio.dumps_exact(value).encode("utf-8", "surrogatepass")
        return "hmac-sha256:" + hmac.new(self._key, text, hashlib.sha256).hexdigest()
