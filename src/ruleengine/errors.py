"""One exception family for everything a user can get wrong.

Rule-file problems are `Diagnostic`s (file, line, column, stable code, hint),
collected by the static phases and raised once as `RuleFileError`. Problems
with decision input are `InputProblem`s (a JSON path instead of a file
position), raised once as `InputError`. The CLI and the server render the same
objects.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

# Cap on diagnostics kept per phase (cel-go caps too): past that, the rest is noise.
MAX_DIAGNOSTICS = 200


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """A positioned problem in a rule file. Line and column are 1-based."""

    code: str
    message: str
    file: str
    line: int = 0
    column: int = 0
    hint: str | None = None
    # How many characters the caret should underline (at least one).
    length: int = 1

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.file, self.line, self.column, self.code)

    @property
    def location(self) -> str:
        if self.line:
            return f"{self.file}:{self.line}:{self.column}"
        return self.file

    def headline(self) -> str:
        return f"{self.location}: error[{self.code}]: {self.message}"

    def render(self, source_line: str | None = None) -> str:
        """`file:line:col: error[CODE]: message`, the source line, a caret, the hint."""
        lines = [self.headline()]
        if source_line is not None and self.line:
            text = source_line.rstrip("\n").expandtabs(1)
            gutter = f"{self.line:>4} | "
            lines.append(gutter + text)
            caret_at = max(self.column - 1, 0)
            width = max(1, min(self.length, max(len(text) - caret_at, 1)))
            lines.append(" " * (len(gutter) - 2) + "| " + " " * caret_at + "^" * width)
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "code": self.code,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "column": self.column,
        }
        if self.hint:
            out["hint"] = self.hint
        return out


class RuleEngineError(Exception):
    """Root of every error a user of the engine can cause."""

    code = "error"


class RuleFileError(RuleEngineError):
    """One or more problems in rule files, sorted by position."""

    code = "rule_file_error"

    def __init__(self, diagnostics: Iterable[Diagnostic]):
        self.diagnostics: tuple[Diagnostic, ...] = tuple(
            sorted(set(diagnostics), key=Diagnostic.sort_key)
        )[:MAX_DIAGNOSTICS]
        first = self.diagnostics[0].headline() if self.diagnostics else "rule file error"
        more = len(self.diagnostics) - 1
        super().__init__(first + (f" (and {more} more)" if more > 0 else ""))

    def render(self, sources: dict[str, Sequence[str]] | None = None) -> str:
        return render_diagnostics(self.diagnostics, sources)


def render_diagnostics(
    diagnostics: Iterable[Diagnostic], sources: dict[str, Sequence[str]] | None = None
) -> str:
    """Render diagnostics the way the CLI prints them; `sources` maps file -> lines."""
    blocks = []
    for diag in diagnostics:
        source_line = None
        lines = (sources or {}).get(diag.file)
        if lines is None and diag.line:
            lines = _read_lines(diag.file)
        if lines is not None and 0 < diag.line <= len(lines):
            source_line = lines[diag.line - 1]
        blocks.append(diag.render(source_line))
    return "\n\n".join(blocks)


def _read_lines(path: str) -> Sequence[str] | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read().splitlines()
    except OSError:
        return None


@dataclass(frozen=True, slots=True)
class InputProblem:
    """One problem with decision input, at a JSON path such as `input.subscription.seats`."""

    code: str
    path: str
    message: str
    expected: str | None = None
    got: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "path": self.path, "message": self.message}
        if self.expected is not None:
            out["expected"] = self.expected
        if self.got is not None:
            out["got"] = self.got
        return out


class InputError(RuleEngineError):
    """Decision input that does not match the decision's input schema: every problem listed."""

    code = "invalid_input"

    def __init__(self, problems: Sequence[InputProblem]):
        self.problems = tuple(problems)
        super().__init__("; ".join(f"{p.path}: {p.message}" for p in self.problems))

    def to_json(self) -> list[dict[str, Any]]:
        return [p.to_json() for p in self.problems]


class NotFoundError(RuleEngineError):
    """An unknown rule set, decision or version."""

    def __init__(self, kind: str, name: str, known: Iterable[str] = ()):
        self.kind = kind
        self.name = name
        self.known = tuple(known)
        self.code = f"unknown_{kind}"
        message = f"unknown {kind} {name!r}"
        suggestion = did_you_mean(name, self.known)
        if suggestion:
            message += f"; did you mean {suggestion!r}?"
        elif self.known:
            message += f" (known: {', '.join(self.known)})"
        super().__init__(message)

    @property
    def path(self) -> str:
        """Where the unknown name was given in a request (ruleset, decision, version)."""
        return self.kind


class NoVersionInEffectError(RuleEngineError):
    """No version of the rule set is in effect on the requested `as_of` date."""

    code = "no_version_in_effect"

    def __init__(self, ruleset: str, as_of: object, earliest: object):
        self.ruleset = ruleset
        self.as_of = as_of
        self.earliest = earliest
        super().__init__(
            f"no version of {ruleset!r} is in effect on {as_of}; "
            f"the earliest takes effect on {earliest}"
        )


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """The closest candidate to a misspelt name, if one is close enough."""
    import difflib

    matches = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.75)
    return matches[0] if matches else None
