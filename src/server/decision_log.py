"""The decision log: one JSON line per decision, appended off the request path.

Requests put entries on a bounded queue; one daemon thread serializes and
appends them (flushing whenever the queue runs dry), so a slow disk never slows
an answer. If the writer falls a whole queue behind, entries are dropped and
counted (`ruleengine_decision_log_dropped_total`) rather than blocking requests.
Lines follow `DESIGN.md`: `{"decision_id", "time", "ruleset", "decision",
"version", "content_hash", "as_of", "locale", "input", "result"}`, which
`ruleengine test --log` and `ruleengine diff` read back.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ruleengine import Decision, jsonio

log = logging.getLogger("server.decision_log")

_STOP = object()


class DecisionLog:
    def __init__(
        self,
        path: Path,
        on_drop: Callable[[], None] = lambda: None,
        capacity: int = 100_000,
    ) -> None:
        self.path = path
        self._on_drop = on_drop
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=capacity)
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._thread = threading.Thread(target=self._run, name="decision-log", daemon=True)
            self._thread.start()

    def record(self, decision_id: str, decision: Decision, input: Any) -> None:
        """Queue one line; never blocks. `result` is serialized by the writer thread."""
        try:
            self._queue.put_nowait((decision_id, datetime.now(UTC), decision, input))
        except queue.Full:
            self._on_drop()

    def close(self, timeout: float = 10.0) -> None:
        """Write everything queued, then stop the writer."""
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        with self.path.open("a", encoding="utf-8") as out:
            while True:
                item = self._queue.get()
                if item is _STOP:
                    out.flush()
                    return
                try:
                    out.write(self._line(*item))
                except Exception:  # one unwritable entry must not stop the log
                    log.exception("decision-log entry not written")
                if self._queue.empty():
                    out.flush()

    @staticmethod
    def _line(decision_id: str, when: datetime, decision: Decision, input: Any) -> str:
        entry = {
            "decision_id": decision_id,
            "time": when.isoformat(timespec="microseconds").replace("+00:00", "Z"),
            "ruleset": decision.ruleset,
            "decision": decision.decision,
            "version": decision.version,
            "content_hash": decision.content_hash,
            "as_of": decision.as_of.isoformat(),
            "locale": decision.locale,
            "input": input,  # as received: numbers stay numbers, with their digits
            "result": jsonio.to_plain(decision.result),  # the wire form of the answer
        }
        return jsonio.dumps_exact(entry) + "\n"
