"""Run regression cases against an engine and say, field by field, what differs.

Values compare as the wire shows them: a decimal by its exact text, so
`"675.00"` is not `"675"` (nor `675`), a date as `YYYY-MM-DD`. Expected
mappings compare partially (fields not listed are not compared), recursively;
lists and scalars compare whole and strictly (`true` is not `1`).

Public entry: `run_case(engine, case)`; `compare` and `Outcome` are shared
with the decision-log replay.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Literal, TypedDict

from .. import (
    Case,
    Decision,
    Engine,
    InputError,
    NotFoundError,
    NoVersionInEffectError,
    ProbedProgram,
    Version,
    jsonio,
)

Status = Literal["passed", "failed", "skipped"]
_MISSING: Any = type("Missing", (), {"__repr__": lambda self: "<missing>"})()


@dataclass(frozen=True, slots=True)
class FieldDiff:
    """One field that differs: its path (`result.total`), the expected and the actual value."""

    path: str
    expected: Any
    actual: Any

    def render(self) -> str:
        return f"{self.path}: expected {_show(self.expected)}, got {_show(self.actual)}"

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "expected": plain(self.expected), "actual": plain(self.actual)}


class OutcomeIdentity(TypedDict):
    """The fields that name an `Outcome`, gathered once and passed as `**identity`."""

    name: str
    location: str
    group: str
    classname: str


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one case (or one replayed log line)."""

    name: str
    location: str  # file:line
    group: str  # the suite file (JUnit test suite)
    classname: str  # ruleset.decision
    status: Status
    headline: str = ""  # what went wrong, in one line
    diffs: tuple[FieldDiff, ...] = ()
    seconds: float = 0.0
    decision: Decision | None = field(default=None, repr=False)
    trace: list[Any] | None = field(default=None, repr=False)

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    def details(self) -> list[str]:
        lines = [self.headline] if self.headline else []
        lines.extend(d.render() for d in self.diffs)
        return lines


def _show(value: Any) -> str:
    if value is _MISSING:
        return "(missing)"
    return jsonio.dumps(plain(value))


def plain(value: Any) -> Any:
    """A value as JSON shows it: decimals as their exact text, dates as YYYY-MM-DD."""
    if value is _MISSING:
        return None
    return jsonio.to_plain(value)


def _same(expected: Any, actual: Any) -> bool:
    """Does an expected value (from YAML or a log) match an actual one?

    A decimal matches by its exact text (value and digits: "675.00" is not "675");
    a date matches its YYYY-MM-DD text; otherwise types must agree (true is not 1,
    "1" is not 1), mappings key by key, lists item by item in order.
    """
    if isinstance(actual, Decimal):
        return type(expected) in (Decimal, int, str) and str(expected) == str(actual)
    if type(actual) is date:
        return bool(expected == actual or expected == actual.isoformat())
    if isinstance(actual, dict):
        return (
            isinstance(expected, dict)
            and expected.keys() == actual.keys()
            and all(_same(v, actual[k]) for k, v in expected.items())
        )
    if isinstance(actual, (list, tuple)):
        return (
            isinstance(expected, list)
            and len(expected) == len(actual)
            and all(_same(e, a) for e, a in zip(expected, actual, strict=True))
        )
    if isinstance(expected, Decimal) and type(actual) is str:
        return str(expected) == actual
    return type(expected) is type(actual) and bool(expected == actual)


def compare(
    expected: Any, actual: Any, path: str = "result", partial: bool = True
) -> list[FieldDiff]:
    """Field-by-field differences of plain data; `partial`: only expected keys of mappings count."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        diffs: list[FieldDiff] = []
        for key, want in expected.items():
            got = actual.get(key, _MISSING)
            sub = f"{path}.{key}"
            if got is _MISSING:
                diffs.append(FieldDiff(sub, want, _MISSING))
            else:
                diffs.extend(compare(want, got, sub, partial))
        if not partial:
            diffs.extend(
                FieldDiff(f"{path}.{k}", _MISSING, v)
                for k, v in actual.items()
                if k not in expected
            )
        return diffs
    if (
        not partial
        and isinstance(expected, list)
        and isinstance(actual, list)
        and len(expected) == len(actual)
        and any(isinstance(x, dict) for x in expected)
    ):
        found: list[FieldDiff] = []
        for i, (want, got) in enumerate(zip(expected, actual, strict=True)):
            found.extend(compare(want, got, f"{path}[{i}]", partial))
        return found
    return [] if _same(expected, actual) else [FieldDiff(path, expected, actual)]


def run_case(
    engine: Engine,
    case: Case,
    traced: bool = False,
    probed: Callable[[Version], ProbedProgram] | None = None,
) -> Outcome:
    """Decide one case and compare with its expectation.

    `traced`: also decide through the traced program (what coverage reads; with
    `probed`, its copy with branch probes) and fail the case if it disagrees with
    the production program.
    """
    base: OutcomeIdentity = {
        "name": case.name,
        "location": case.location,
        "group": case.file,
        "classname": f"{case.ruleset}.{case.decision}",
    }
    if case.skip is not None:
        return Outcome(**base, status="skipped", headline=case.skip)
    start = time.perf_counter()
    facts = case.facts()
    problems: list[tuple[str | None, str | None, str]] = []
    decision: Decision | None = None
    trace: list[Any] | None = None
    try:
        decision = engine.decide(case.ruleset, case.decision, facts, version=case.version)
        if traced:
            traced_decision, trace = engine.decide_traced(
                case.ruleset, case.decision, facts, version=case.version, probed=probed
            )
    except InputError as exc:
        problems = [(p.code, p.path, f"{p.path}: {p.code}: {p.message}") for p in exc.problems]
    except NotFoundError as exc:
        problems = [(exc.code, exc.path, str(exc))]
    except NoVersionInEffectError as exc:
        problems = [(exc.code, None, str(exc))]
    except Exception as exc:  # an engine bug: report it as this case's failure, keep going
        return Outcome(
            **base,
            status="failed",
            seconds=time.perf_counter() - start,
            headline=f"the engine crashed: {type(exc).__name__}: {exc}",
        )
    seconds = time.perf_counter() - start
    headline, diffs = _judge(case, decision, problems)
    if (
        decision is not None
        and trace is not None
        and not _same(plain(decision.result), traced_decision.result)
    ):
        headline = "the traced program (coverage) disagrees with the production program"
        diffs = compare(plain(decision.result), traced_decision.result, partial=False)
    return Outcome(
        **base,
        status="failed" if headline or diffs else "passed",
        headline=headline,
        diffs=tuple(diffs),
        seconds=seconds,
        decision=decision,
        trace=trace,
    )


def _judge(
    case: Case, decision: Decision | None, problems: list[tuple[str | None, str | None, str]]
) -> tuple[str, list[FieldDiff]]:
    if case.expect_errors:
        if decision is not None:
            wanted = "; ".join(e.describe() for e in case.expect_errors)
            return f"expected the request to be rejected ({wanted}), but it was decided", [
                FieldDiff("error", [_expected_error(e) for e in case.expect_errors], None),
                FieldDiff("result", None, decision.result),
            ]
        missing = [
            e
            for e in case.expect_errors
            if not any(
                (e.code in (None, code)) and (e.path in (None, path)) for code, path, _ in problems
            )
        ]
        if missing:
            return "the request was rejected, but not with the expected problems", [
                FieldDiff(
                    "error",
                    [_expected_error(e) for e in missing],
                    [
                        {"code": code, "path": path} if path else {"code": code}
                        for code, path, _ in problems
                    ],
                )
            ]
        return "", []
    if decision is None:
        return "the request was rejected: " + "; ".join(text for _, _, text in problems), []
    diffs = []
    if case.expect_version is not None and case.expect_version != decision.version:
        diffs.append(FieldDiff("version", case.expect_version, decision.version))
    diffs.extend(compare(case.expect_result or {}, decision.result))
    return "", diffs


def _expected_error(e: Any) -> dict[str, str]:
    return {k: v for k, v in (("code", e.code), ("path", e.path)) if v is not None}
