"""Prometheus metrics (prometheus-client), one registry per app.

Labels only ever carry names the store knows (an unknown rule set or decision
is counted under ""), so clients cannot grow the label space. With
`PROMETHEUS_MULTIPROC_DIR` set (`ruleengine serve --workers N` sets it), every
worker writes its samples there and `/metrics` adds them all up.
"""

from __future__ import annotations

import os
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)

from .store import ReloadAttempt

# No `<name>_created` series: they double every counter's and histogram's output and
# no dashboard reads them (same as PROMETHEUS_DISABLE_CREATED_SERIES=true).
disable_created_metrics()  # type: ignore[no-untyped-call]

LATENCY_BUCKETS = (
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
)


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.decisions = Counter(
            "ruleengine_decisions",
            "Decisions answered, by rule set, decision, version and outcome.",
            ["ruleset", "decision", "version", "outcome"],
            registry=self.registry,
        )
        self.decision_seconds = Histogram(
            "ruleengine_decision_seconds",
            "Time to decide one input (validation and evaluation), by rule set and decision.",
            ["ruleset", "decision"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "ruleengine_http_request_seconds",
            "Time to answer an HTTP request, by route, method and status.",
            ["route", "method", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.reloads = Counter(
            "ruleengine_reloads",
            "Rule reloads, by trigger and result (ok or failed).",
            ["trigger", "result"],
            registry=self.registry,
        )
        self.decision_log_dropped = Counter(
            "ruleengine_decision_log_dropped",
            "Decision-log lines not written (the log file could not be written).",
            registry=self.registry,
        )

        # Label children by their values: `labels()` takes a lock and checks the values on
        # every call; these are looked up once (label values are bounded, see above).
        self._children: dict[tuple[str, ...], Any] = {}

    def count_decision(
        self, ruleset: str, decision: str, version: str, outcome: str, amount: int = 1
    ) -> None:
        key = ("d", ruleset, decision, version, outcome)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = self.decisions.labels(*key[1:])
        child.inc(amount)

    def observe_decision(self, ruleset: str, decision: str, seconds: float) -> None:
        key = ("ds", ruleset, decision)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = self.decision_seconds.labels(*key[1:])
        child.observe(seconds)

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        key = ("r", route, method, str(status))
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = self.request_seconds.labels(*key[1:])
        child.observe(seconds)

    def reloaded(self, attempt: ReloadAttempt) -> None:
        self.reloads.labels(attempt.trigger, "ok" if attempt.ok else "failed").inc()

    def render(self) -> bytes:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            return generate_latest(registry)
        return generate_latest(self.registry)
