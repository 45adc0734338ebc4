"""Decisions that never block the event loop, and a deadline for every request (issue 12).

`check` bounds each decision's cost by a polynomial in n, the size of the input's
largest list or text (`DecisionInfo.cost_bound()`; checker/cost.py), and the engine
refuses an input whose n would take it over the step budget (runtime/budget.py). So
before deciding, the server knows how much work a request can be at most:

- **cheap** (`steps_bound <= inline_steps`, the usual case): decided inline on the event
  loop, without a thread hop. n is bounded by the length of the input's JSON text, so
  this costs one polynomial evaluation, no walk over the input.
- **costly**: decided in a thread of its own while the event loop goes on serving
  (`/healthz` included). The request awaits it until its deadline (`serve
  --request-timeout`); past it, the request is answered 504 `deadline_exceeded` (with
  its request id) and the decision is stopped: `DecisionCancelled` is raised in its
  thread at its next bytecode, so it holds the worker no longer than its deadline (a
  single C-level operation, bounded in size by the budget, finishes first). At most
  `max_threads` such decisions run at once per worker; more are answered 503 `busy`.
"""

from __future__ import annotations

import asyncio
import ctypes
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import ruleengine
from ruleengine import cost_at, largest_size

T = TypeVar("T")

Poly = tuple[int, ...]


class DecisionCancelled(BaseException):
    """Raised in a decision's thread when its request's deadline has passed (a
    BaseException, so the engine's own error handling lets it through)."""


class Busy(Exception):
    """Every thread for costly decisions is taken."""


class DeadlineExceeded(Exception):
    """The request's deadline passed before its decision ended."""


class Offloader:
    """Runs costly decisions in threads of their own, each under its request's deadline."""

    def __init__(self, inline_steps: int, max_threads: int) -> None:
        self.inline_steps = inline_steps
        self._slots = threading.BoundedSemaphore(max_threads)
        # (engine, ruleset, decision) -> the largest cost bound over the rule set's versions
        self._bounds: dict[tuple[int, str, str], tuple[ruleengine.Engine, Poly]] = {}

    def bound(self, engine: ruleengine.Engine, ruleset: str, decision: str) -> Poly:
        """The decision's cost bound, whichever version decides (the largest coefficient
        of each degree over the rule set's versions); () for names the engine lacks."""
        key = (id(engine), ruleset, decision)
        cached = self._bounds.get(key)
        if cached is not None and cached[0] is engine:
            return cached[1]
        known = engine.rulesets.get(ruleset)
        polys = [
            v.decisions[decision].cost_bound()
            for v in (known.versions if known is not None else ())
            if decision in v.decisions
        ]
        width = max((len(p) for p in polys), default=0)
        poly = tuple(max(p[i] if i < len(p) else 0 for p in polys) for i in range(width))
        if len(self._bounds) >= 1024:  # reloads bring new engines: keep it bounded
            self._bounds.clear()
        self._bounds[key] = (engine, poly)
        return poly

    def is_cheap(self, poly: Poly, text_size: int, inputs: list[Any], weight: int = 1) -> bool:
        """Whether deciding `inputs` (`weight` times the work: explanations cost more) is
        cheap enough for the event loop. No list or text of an input is longer than its
        JSON text, and the inputs' texts are `text_size` characters in all, so the bound
        at `text_size` (each input's constant part counted once per input) usually
        settles it; only when that is too loose are the inputs walked for their sizes."""
        limit = self.inline_steps // weight
        constant = poly[0] if poly else 0
        if (len(inputs) - 1) * constant + cost_at(poly, text_size) <= limit:
            return True
        return sum(cost_at(poly, largest_size(value)) for value in inputs) <= limit

    async def run(self, work: Callable[[], T], seconds: float) -> T:
        """`work()` in a thread of its own, awaited for at most `seconds`; raises `Busy`
        when every thread is taken and `DeadlineExceeded` (after stopping it) when it
        takes longer."""
        if not self._slots.acquire(blocking=False):
            raise Busy
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        job = _Job(work, loop, future, self._slots)
        job.thread.start()
        try:
            return await asyncio.wait_for(asyncio.shield(future), max(seconds, 0.0))
        except (TimeoutError, asyncio.CancelledError) as exc:
            job.cancel()
            if isinstance(exc, TimeoutError):
                raise DeadlineExceeded from None
            raise


class _Job:
    """One costly decision in its own (daemon) thread."""

    def __init__(
        self,
        work: Callable[[], Any],
        loop: asyncio.AbstractEventLoop,
        future: asyncio.Future[Any],
        slots: threading.BoundedSemaphore,
    ) -> None:
        self.work = work
        self.loop = loop
        self.future = future
        self.slots = slots
        self.lock = threading.Lock()
        self.state = "running"  # -> finished | cancelled
        self.thread = threading.Thread(target=self._run, name="costly-decision", daemon=True)

    def _run(self) -> None:
        try:
            outcome: tuple[bool, Any]
            try:
                outcome = (True, self.work())
            except Exception as exc:
                outcome = (False, exc)
            with self.lock:
                if self.state != "running":
                    return
                self.state = "finished"
            self.loop.call_soon_threadsafe(_settle, self.future, outcome)
        except DecisionCancelled:
            pass  # stopped past its deadline: nobody waits for it
        finally:
            self.slots.release()

    def cancel(self) -> None:
        """Stop the decision: raise `DecisionCancelled` in its thread, unless it is done."""
        with self.lock:
            if self.state != "running":
                return
            self.state = "cancelled"
            ident = self.thread.ident
            if ident is not None:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(
                    ctypes.c_ulong(ident), ctypes.py_object(DecisionCancelled)
                )


def _settle(future: asyncio.Future[Any], outcome: tuple[bool, Any]) -> None:
    if future.done():
        return
    ok, value = outcome
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)
