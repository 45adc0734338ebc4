"""One exception family for everything a user can get wrong.

Rule-file problems are `Diagnostic`s (file, line, column, stable code, hint),
collected by the static phases and raised once as `RuleFileError`. Problems
with decision input are `InputProblem`s (a JSON path instead of a file
position), raised once as `InputError`. The CLI and the server render the same
objects.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Self

# Cap on diagnostics kept per phase (cel-go caps too): past that, the rest is noise.
MAX_DIAGNOSTICS = 200


class _Described(StrEnum):
    """A stable code (its value) with a one-line description (`summary`)."""

    summary: str

    def __new__(cls, value: str, summary: str) -> Self:
        member = str.__new__(cls, value)
        member._value_ = value
        member.summary = summary
        return member


class Code(_Described):
    """Every code a rule-file `Diagnostic` can carry; docs/rules.md's tables list them all.

    To add one: add a member here, report it with `Diagnostic(Code.NEW, ...)`, add a row
    to the "Error codes" table of docs/rules.md and a case to tests/ruleengine/broken/.
    """

    # reading files
    YAML_SYNTAX = "yaml_syntax", "the file is not valid YAML"
    DUPLICATE_KEY = "duplicate_key", "a key appears twice in one YAML mapping"
    YAML_ALIAS_LIMIT = "yaml_alias_limit", "YAML aliases expand to too many nodes"
    YAML_TAG = "yaml_tag", "a YAML tag is used; rule files hold plain data only"
    YAML_KEY = "yaml_key", "a mapping key is not a plain value"
    YAML_MERGE = "yaml_merge", "`<<` is given something other than a mapping"
    ENCODING = "encoding", "the file is not UTF-8"
    FILE_TOO_LARGE = "file_too_large", "the file is larger than the size limit"
    VERSION_TOO_LARGE = (
        "version_too_large",
        "a version holds more bytes, table rows or rules than the limit per version",
    )
    IO_ERROR = "io_error", "the file cannot be read"
    # the structure of each file
    SCHEMA = "schema", "the file does not have the documented structure"
    BAD_VERSION = "bad_version", "the manifest's version is not a valid label"
    BAD_DATE = "bad_date", "an invalid date"
    BAD_PATTERN = "bad_pattern", "a field's pattern is not a valid regular expression"
    UNSAFE_PATTERN = "unsafe_pattern", "a field's pattern could take too long to match"
    NUMBER_SYNTAX = "number_syntax", "a number not written the one way (`.5`, `1e2`, `1_000`)"
    NUMBER_TOO_LARGE = "number_too_large", "an int with more digits than ints may have"
    # expressions, names and types
    EXPR_SYNTAX = "expr_syntax", "an expression cannot be read"
    UNKNOWN_NAME = "unknown_name", "a name that is not declared"
    UNKNOWN_FUNCTION = "unknown_function", "a call to a function that does not exist"
    UNKNOWN_FIELD = "unknown_field", "a record has no field of that name"
    UNKNOWN_TYPE = "unknown_type", "a type name that is not declared"
    TYPE_MISMATCH = "type_mismatch", "a value of the wrong type"
    OPTIONAL_VALUE = "optional_value", "a value that may be null is used as if always there"
    DIVISION_BY_ZERO = "division_by_zero", "a divisor that may be zero"
    NOT_IN_ENUM = "not_in_enum", "a text compared with an enum field is not one of its values"
    LITERAL_NEVER_MATCHES = "literal_never_matches", "a literal a field's constraints never allow"
    ARITY = "arity", "the wrong number of arguments or keys"
    DUPLICATE_RULE_ID = "duplicate_rule_id", "two rules with one id"
    DUPLICATE_NAME = "duplicate_name", "a name defined twice, or hiding another name"
    BAD_TABLE = "bad_table", "a table's data does not fit its declaration"
    MISSING_MESSAGE = "missing_message", "a reason has no message in a declared locale"
    UNKNOWN_LOCALE = "unknown_locale", "a reason message in an undeclared locale"
    UNKNOWN_REASON = "unknown_reason", "a rule gives an undeclared reason code"
    RECURSION = "recursion", "definitions that depend on themselves"
    COST_LIMIT = "cost_limit", "a decision's worst-case cost is over the limit"
    BAD_TYPE = "bad_type", "a type or constraint that cannot be used"
    BAD_RULE_GROUP = "bad_rule_group", "a rule group's default without `hit: first`"
    # versions and rule sets
    DUPLICATE_VERSION = "duplicate_version", "two versions with one label or start date"
    NO_RULES = "no_rules", "the path does not exist or holds no manifest"
    BAD_BUNDLE = "bad_bundle", "a rule bundle is refused"
    LOAD_CRASHED = "load_crashed", "loading the rules failed unexpectedly (a bug, logged)"
    # publishing (versions.lock)
    PUBLISHED_VERSION_CHANGED = (
        "published_version_changed",
        "a published version's files differ from what was published",
    )
    PUBLISHED_VERSION_MISSING = (
        "published_version_missing",
        "a published version's folder is missing",
    )
    BAD_LOCK = "bad_lock", "a versions.lock cannot be read or does not fit its schema"
    BACKDATED_VERSION = (
        "backdated_version",
        "publish: a new version takes effect before the day it is published",
    )
    BREAKING_INPUT_CHANGE = (
        "breaking_input_change",
        "publish: a new version refuses input that the version it replaces accepts",
    )
    RULES_CHANGED = "rules_changed", "publish: rule files changed while it ran"
    # regression suites
    DUPLICATE_AS_OF = "duplicate_as_of", "a case puts as_of inside its input"
    UNKNOWN_RULESET = "unknown_ruleset", "a rule set that does not exist"
    UNKNOWN_DECISION = "unknown_decision", "a decision the rule set does not have"
    UNKNOWN_VERSION = "unknown_version", "a version the rule set does not have"


class InputCode(_Described):
    """Every code of an `InputProblem` (decision input); docs/rules.md lists them all."""

    REQUIRED = "required", "a required field is missing or null"
    TYPE = "type", "a value of the wrong kind"
    ENUM = "enum", "a text that is not one of the field's values"
    MINIMUM = "minimum", "a number below the field's minimum"
    MAXIMUM = "maximum", "a number above the field's maximum"
    MIN_LENGTH = "min_length", "a text shorter than the field allows"
    MAX_LENGTH = "max_length", "a text longer than the field allows"
    PATTERN = "pattern", "a text that does not match the field's pattern"
    NOT_IN_TABLE = "not_in_table", "a value that is not a key of the field's table"
    MIN_ITEMS = "min_items", "a list with fewer items than the field allows"
    MAX_ITEMS = "max_items", "a list with more items than the field allows"
    UNKNOWN_FIELD = "unknown_field", "a field that is not declared"
    DECISION_BUDGET_EXCEEDED = (
        "decision_budget_exceeded",
        "an input so large the decision would go over its step budget",
    )


@dataclass(frozen=True, slots=True)
class Note:
    """A second place that explains a diagnostic (`note: the table is declared here`)."""

    message: str
    file: str
    line: int = 0
    column: int = 0
    length: int = 1

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}:{self.column}" if self.line else self.file


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """A positioned problem in a rule file. Line and column are 1-based."""

    code: Code
    message: str
    file: str
    line: int = 0
    column: int = 0
    hint: str | None = None
    # How many characters the caret should underline (at least one).
    length: int = 1
    notes: tuple[Note, ...] = field(default=(), compare=False)

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.file, self.line, self.column, self.code)

    @property
    def location(self) -> str:
        if self.line:
            return f"{self.file}:{self.line}:{self.column}"
        return self.file

    def headline(self) -> str:
        return f"{self.location}: error[{self.code}]: {self.message}"

    def render(self, source_line: str | None = None, note_lines: Sequence[str | None] = ()) -> str:
        """`file:line:col: error[CODE]: message`, the source line and a caret, each note
        with its place and line, then the hint (rustc's layout)."""
        lines = [self.headline()]
        if source_line is not None and self.line:
            lines.extend(snippet(source_line, self.line, self.column, self.length))
        for i, note in enumerate(self.notes):
            lines.append(f"note: {note.message}")
            lines.append(f"  --> {note.location}")
            text = note_lines[i] if i < len(note_lines) else None
            if text is not None and note.line:
                lines.extend(snippet(text, note.line, note.column, note.length))
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
        if self.notes:
            out["notes"] = [
                {"message": n.message, "file": n.file, "line": n.line, "column": n.column}
                for n in self.notes
            ]
        return out


# A source line wider than this (in terminal cells) is shown as a window around the caret.
MAX_SHOWN_WIDTH = 100
_CONTEXT_BEFORE = 40


def snippet(source_line: str, line: int, column: int, length: int = 1) -> list[str]:
    """The gutter, the line and a caret under characters column..column+length-1.

    Widths are terminal cells (a CJK character or an emoji takes two), so the caret
    lands under the character; a long line is cut to a window around the caret.
    """
    text = source_line.rstrip("\n").expandtabs(1)
    start = max(column - 1, 0)
    end = max(start + 1, min(start + max(length, 1), len(text)))
    shown_from, shown_to = 0, len(text)
    if _cells(text) > MAX_SHOWN_WIDTH:
        shown_from = max(0, start - _CONTEXT_BEFORE)
        shown_to = shown_from
        while shown_to < len(text) and _cells(text[shown_from : shown_to + 1]) <= MAX_SHOWN_WIDTH:
            shown_to += 1
        end = min(end, max(shown_to, start + 1))
    before = "..." if shown_from > 0 else ""
    after = "..." if shown_to < len(text) else ""
    gutter = f"{line:>4} | "
    pad = _cells(before + text[shown_from:start])
    width = max(1, _cells(text[start:end]))
    return [
        gutter + before + text[shown_from:shown_to] + after,
        " " * (len(gutter) - 2) + "| " + " " * pad + "^" * width,
    ]


def _cells(text: str) -> int:
    """Terminal cells `text` takes (control characters count as one)."""
    from wcwidth import wcwidth

    return sum(max(wcwidth(ch), 1) if ch >= " " else 1 for ch in text) if text else 0


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
    cache: dict[str, Sequence[str] | None] = dict(sources or {})

    def line_of(file: str, line: int) -> str | None:
        if not line:
            return None
        if file not in cache:
            cache[file] = _read_lines(file)
        lines = cache[file]
        return lines[line - 1] if lines is not None and 0 < line <= len(lines) else None

    blocks = []
    for diag in diagnostics:
        blocks.append(
            diag.render(
                line_of(diag.file, diag.line), [line_of(n.file, n.line) for n in diag.notes]
            )
        )
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


class DraftNotServedError(NotFoundError):
    """A pinned version that is a draft (a version folder of a locked rule set, not in
    its versions.lock) this engine skipped, being loaded without drafts (`serve` without
    `--drafts`). Still `unknown_version`: it is not served here; the message says why."""

    def __init__(self, ruleset: str, name: str, known: Iterable[str] = ()):
        self.kind, self.name, self.known = "version", name, tuple(known)
        self.code = "unknown_version"
        RuleEngineError.__init__(
            self,
            f"version {name!r} of {ruleset!r} is a draft (not in its versions.lock), not "
            "served here: serve drafts with `ruleengine serve --drafts` (a draft decides "
            "only when pinned by name), or publish it with `ruleengine publish`",
        )


def unknown_version(
    ruleset: str, name: str, known: Iterable[str], drafts: Container[tuple[str, str]]
) -> NotFoundError:
    """The error for a pinned version an engine lacks: `DraftNotServedError` if it skipped
    a draft folder of that name (`drafts`: the (rule set, folder name) of each)."""
    if (ruleset, name) in drafts:
        return DraftNotServedError(ruleset, name, known)
    return NotFoundError("version", name, known)


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


class InternalError(RuntimeError):
    """A bug, not a user error (so not a `RuleEngineError`: the server answers 500): an
    unexpected exception inside a compiled decision, naming the rule file and line of
    the rule, function or decision whose generated code raised it."""

    code = "internal_error"

    def __init__(self, message: str, location: str | None = None, what: str | None = None):
        self.location = location  # file:line of the YAML definition, when known
        self.what = what  # `rule <group>/<rule id>`, `decision <name>`...
        super().__init__(message)


class DecisionBudgetError(InternalError):
    """A decision built a value over the runtime budget that backs `check`'s cost bound
    (an int of more than `MAX_INT_DIGITS` digits): the rules' doing, not the request's,
    so a 500-class error (the server answers it with the request id), never a hang."""

    code = "decision_budget_exceeded"


class ContentHashUnavailableError(RuleEngineError):
    """A request pins a content hash that no loaded version of the rule set has (or that
    the pinned version label does not have): this replica cannot decide with that content."""

    code = "content_hash_unavailable"

    def __init__(
        self, ruleset: str, wanted: str, have: Iterable[tuple[str, str]], label: str | None
    ):
        self.ruleset = ruleset
        self.wanted = wanted
        self.have = tuple(have)
        listed = ", ".join(f"{v} {h}" for v, h in self.have) or "none"
        owner = next((v for v, h in self.have if h == wanted), None)
        labelled = next((h for v, h in self.have if v == label), None)
        if label is not None and owner is not None:
            # Both pins are loaded here, but they name two different versions.
            message = (
                f"the pins disagree: version {label!r} of {ruleset!r} has content {labelled}, "
                f"and {wanted} is the content of version {owner!r}; pin the content hash "
                "alone, or a version with its own content hash"
            )
        elif label is not None:
            message = (
                f"version {label!r} of {ruleset!r} on this replica has content {labelled}, "
                f"not {wanted}, and no other version here has it (loaded here: {listed}); "
                "this replica does not have the content the request pins"
            )
        else:
            message = (
                f"no version of {ruleset!r} loaded on this replica has content {wanted} "
                f"(loaded here: {listed}); ask a replica that serves it (e.g. one that "
                "has fetched the newer bundle), or pin a content hash an answer reported"
            )
        super().__init__(message)


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """The closest candidate to a misspelt name, if one is close enough."""
    import difflib

    matches = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.75)
    return matches[0] if matches else None
