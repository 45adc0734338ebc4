"""JSON in and out without binary floats.

Fractional numbers are read as `Decimal` from their text; NaN and Infinity
are refused. Results write Decimals as strings with their exact digits
(`"675.00"`, `"41580"`), dates as `"YYYY-MM-DD"`, sets as sorted lists;
`dumps_exact` writes Decimals as numbers instead (inputs written back as read).
"""

from __future__ import annotations

import functools
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any


class JSONInputError(ValueError):
    """Text that is not acceptable JSON, with the line and column of the problem."""

    def __init__(self, message: str, line: int = 0, column: int = 0):
        super().__init__(message)
        self.line = line
        self.column = column


def _refuse_constant(name: str) -> Any:
    raise JSONInputError(f"{name} is not a number JSON allows")


def loads(text: str | bytes) -> Any:
    """Parse JSON; fractional numbers become exact Decimals."""
    try:
        return json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise JSONInputError(f"malformed JSON: {exc.msg}", exc.lineno, exc.colno) from None
    except UnicodeDecodeError as exc:
        raise JSONInputError(f"malformed JSON: not UTF-8 ({exc.reason})") from None
    except RecursionError:
        raise JSONInputError("malformed JSON: nested too deeply") from None
    except ValueError as exc:  # e.g. int too long to convert
        raise JSONInputError(f"malformed JSON: {exc}") from None


@dataclass(frozen=True, slots=True)
class TextProblem:
    """Valid JSON that no request may hold: a duplicate key, or text that is not Unicode
    (a lone surrogate escape, bytes that are not UTF-8). `path` leads to it from the root."""

    path: tuple[str | int, ...]
    code: str  # duplicate_key | invalid_text
    message: str


class _Duplicates(dict[str, Any]):
    """An object that repeated a key (the last value won); refused by `loads_request`."""

    __slots__ = ("repeated",)
    made = 0  # how many were ever built: `loads_envelope` compares before and after

    def __init__(self, pairs: list[tuple[str, Any]]) -> None:
        super().__init__(pairs)
        _Duplicates.made += 1
        counts: dict[str, int] = {}
        for key, _ in pairs:
            counts[key] = counts.get(key, 0) + 1
        self.repeated = sorted(key for key, n in counts.items() if n > 1)


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    return out if len(out) == len(pairs) else _Duplicates(pairs)


# A `\uD800`-`\uDFFF` escape: the only way valid UTF-8 JSON can carry a lone surrogate.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def loads_request(data: bytes) -> tuple[Any, tuple[TextProblem, ...]]:
    """Parse a request body like `loads`, and list what it must not hold: duplicate keys
    and text that is not Unicode, each with its path (the value is still returned, so a
    batch can refuse only the inputs that hold them). Raise `JSONInputError` for what
    is not JSON at all."""
    suspect = False
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:  # bad bytes become lone surrogates, found with their path
        text = data.decode("utf-8", "surrogateescape")
        suspect = True
    else:
        suspect = _SURROGATE_ESCAPE.search(data) is not None
    if text.startswith("\ufeff"):  # as `json.loads` says it
        raise JSONInputError("malformed JSON: Unexpected UTF-8 BOM (decode using utf-8-sig)", 1, 1)
    before = _Duplicates.made  # an object with a repeated key makes one (`_pairs`)
    try:
        value = _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        raise JSONInputError(f"malformed JSON: {exc.msg}", exc.lineno, exc.colno) from None
    except RecursionError:
        raise JSONInputError("malformed JSON: nested too deeply") from None
    except ValueError as exc:  # e.g. int too long to convert
        raise JSONInputError(f"malformed JSON: {exc}") from None
    # (another thread's duplicates can only cost a walk that finds nothing here)
    duplicates = _Duplicates.made != before
    if not (suspect or duplicates):
        return value, ()
    found: list[TextProblem] = []
    _find_problems(value, (), found)
    return value, tuple(found)


@dataclass(frozen=True, slots=True)
class Envelope:
    """A request body parsed by `loads_envelope`: its value, what it must not hold, and
    where the values of its top-level fields (and the items of its list field) are in
    `text` (character offsets; None when the body was not a plain object)."""

    value: Any
    problems: tuple[TextProblem, ...]
    text: str
    fields: dict[str, tuple[int, int]] | None = None
    items: tuple[tuple[int, int], ...] | None = None

    def source(self, span: tuple[int, int]) -> str:
        """The JSON text of one value as the client sent it, on one line (JSON text can
        hold a line break only between tokens, never inside a string)."""
        text = self.text[span[0] : span[1]]
        if "\n" in text or "\r" in text:
            text = text.replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
        return text


class _Fallback(Exception):
    """Not a plain object body: `loads_envelope` parses it the general way."""


_DECODER = json.JSONDecoder(
    parse_float=Decimal, parse_constant=_refuse_constant, object_pairs_hook=_pairs
)
# The C scanner behind `_DECODER` (one value from an index: (value, end)) and the
# string scanner, neither of which the type stubs name.
_SCAN: Callable[[str, int], tuple[Any, int]] = getattr(_DECODER, "scan_once")  # noqa: B009
_SCANSTRING: Callable[[str, int, bool], tuple[str, int]] = getattr(json.decoder, "scanstring")  # noqa: B009
_SPACE = " \t\n\r"


def _skip(text: str, at: int) -> int:
    """The index of the first character at or after `at` that is not JSON whitespace."""
    end = len(text)
    while at < end and text[at] in _SPACE:
        at += 1
    return at


def loads_envelope(data: bytes, list_field: str = "", spans: bool = True) -> Envelope:
    """`loads_request`, in one pass, also telling where each top-level field's value is
    in the text (and each item of `list_field`, an array), so what a client sent can be
    written back as sent (the decision log) without encoding it again. Without `spans`
    (nothing will be written back) it is `loads_request`: the C parser end to end."""
    if not spans:
        value, problems = loads_request(data)
        return Envelope(value, problems, "")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        value, problems = loads_request(data)
        return Envelope(value, problems, "")
    before = _Duplicates.made
    try:
        value, fields, items = _scan_envelope(text, list_field)
    except (_Fallback, StopIteration, ValueError, RecursionError, IndexError):
        value, problems = loads_request(data)  # the general parser, and its messages
        return Envelope(value, problems, text)
    if _Duplicates.made == before and _SURROGATE_ESCAPE.search(data) is None:
        return Envelope(value, (), text, fields, items)
    found: list[TextProblem] = []
    _find_problems(value, (), found)
    return Envelope(value, tuple(found), text, fields, items)


def _scan_envelope(
    text: str, list_field: str
) -> tuple[dict[str, Any], dict[str, tuple[int, int]], tuple[tuple[int, int], ...] | None]:
    """A body that is one JSON object, parsed with the C scanner value by value."""
    scan = _SCAN
    at = _skip(text, 0)
    if text[at] != "{":
        raise _Fallback
    at = _skip(text, at + 1)
    out: dict[str, Any] = {}
    fields: dict[str, tuple[int, int]] = {}
    items: tuple[tuple[int, int], ...] | None = None
    if text[at] == "}":
        at += 1
    else:
        while True:
            if text[at] != '"':
                raise _Fallback
            key, at = _SCANSTRING(text, at + 1, True)
            at = _skip(text, at)
            if text[at] != ":" or key in out:
                raise _Fallback  # a duplicate key: the general parser names it
            at = _skip(text, at + 1)
            start = at
            if key == list_field and text[at] == "[":
                value, at, items = _scan_array(text, at)
            else:
                value, at = scan(text, at)
            out[key] = value
            fields[key] = (start, at)
            at = _skip(text, at)
            if text[at] == "}":
                at += 1
                break
            if text[at] != ",":
                raise _Fallback
            at = _skip(text, at + 1)
    if _skip(text, at) != len(text):
        raise _Fallback
    return out, fields, items


def _scan_array(text: str, at: int) -> tuple[list[Any], int, tuple[tuple[int, int], ...]]:
    scan = _SCAN
    at = _skip(text, at + 1)
    values: list[Any] = []
    spans: list[tuple[int, int]] = []
    if text[at] == "]":
        return values, at + 1, ()
    while True:
        start = at
        value, at = scan(text, at)
        values.append(value)
        spans.append((start, at))
        at = _skip(text, at)
        if text[at] == "]":
            return values, at + 1, tuple(spans)
        if text[at] != ",":
            raise _Fallback
        at = _skip(text, at + 1)


def _not_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _find_problems(value: Any, path: tuple[str | int, ...], out: list[TextProblem]) -> None:
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(value, path)]
    while stack:
        value, path = stack.pop()
        if isinstance(value, str):
            if _not_unicode(value):
                out.append(
                    TextProblem(
                        path,
                        "invalid_text",
                        "text that is not valid Unicode (a lone surrogate "
                        "or bytes that are not UTF-8)",
                    )
                )
        elif isinstance(value, dict):
            if type(value) is _Duplicates:
                for key in value.repeated:
                    out.append(
                        TextProblem(
                            (*path, key), "duplicate_key", f"the key {key!r} appears more than once"
                        )
                    )
            for key, item in value.items():
                if _not_unicode(key):
                    out.append(
                        TextProblem(
                            (*path, key),
                            "invalid_text",
                            "a key that is not valid Unicode (a lone surrogate or bytes that "
                            "are not UTF-8)",
                        )
                    )
                else:
                    stack.append((item, (*path, key)))
        elif isinstance(value, list):
            stack.extend((item, (*path, i)) for i, item in enumerate(value))
    out.sort(key=lambda p: [str(part) for part in p.path])


def path_text(path: tuple[str | int, ...]) -> str:
    """`("input", "items", 0, "sku")` -> `input.items[0].sku`; a key that is not a plain
    name is quoted as a JSON string with escapes (`input["\\udfff"]`), so any path can
    be sent back."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN_KEY.fullmatch(part):
            out += f".{part}" if out else part
        else:
            out += f"[{json.dumps(part)}]"  # ASCII with escapes: any key can be sent back
    return out


_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def to_plain(value: Any) -> Any:
    """Convert a result to JSON-ready data: Decimal -> str, date -> ISO string."""
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return [to_plain(v) for v in sorted(value)]
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, Decimal):
        if not value.is_finite():
            return None
        text = str(value)
        return text[1:] if text[0] == "-" and value.is_zero() else text  # -0.00 is 0.00
    if isinstance(value, date):
        return value.isoformat()
    to_json = getattr(value, "to_json", None)
    if to_json is not None:
        return to_plain(to_json())
    return str(value)


def _plain_default(value: Any) -> Any:
    """What `to_plain` makes of a value the C encoder cannot write itself."""
    if type(value) is Decimal:
        text = str(value)
        if text[0] not in "-NIs":  # a finite, non-negative number (not NaN, Infinity, sNaN)
            return text
        if value.is_finite():
            return text[1:] if value.is_zero() else text  # -0.00 is 0.00
    if isinstance(value, (set, frozenset)):
        return [to_plain(v) for v in sorted(value)]
    return to_plain(value)


_PLAIN_ENCODER = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=_plain_default
)


def plain_json(value: Any) -> str:
    """Compact JSON of `to_plain(value)` (as an answer writes it), in one pass: the C
    encoder writes what it knows, and asks `to_plain` for Decimals, dates and sets.

    Floats (which results never hold: money is Decimal) are the one difference: this
    writes them as numbers where `to_plain` makes strings."""
    return _PLAIN_ENCODER.encode(value)


@functools.lru_cache(maxsize=4096)
def names_json(
    ruleset: str, decision: str, version: str, content_hash: str, spaced: bool = False
) -> str:
    """`"ruleset":…,"decision":…,"version":…,"content_hash":…` (with `spaced`, as
    `json.dumps` separates them: `"ruleset": …, "decision": …`), which every answer and
    decision-log line of a version's decision repeats: made once per version and decision."""
    comma, colon = (", ", ": ") if spaced else (",", ":")
    return comma.join(
        f'"{name}"{colon}{json.dumps(value, ensure_ascii=False)}'
        for name, value in (
            ("ruleset", ruleset),
            ("decision", decision),
            ("version", version),
            ("content_hash", content_hash),
        )
    )


@functools.lru_cache(maxsize=1024)
def string_json(value: str) -> str:
    """`value` as JSON text (not ASCII-escaped), remembered: for the few names (rule
    sets, versions, locales) that every answer and log line repeats."""
    return json.dumps(value, ensure_ascii=False)


def dumps(value: Any, indent: int | None = None) -> str:
    return json.dumps(to_plain(value), indent=indent, ensure_ascii=False)


def dumps_exact(value: Any, ascii: bool = False) -> str:
    """One-line JSON in which a Decimal is a number with its exact digits (`16.78`, not
    `"16.78"`), so data read by `loads` is written back as it came (a decision log keeps
    inputs as received). Dates are ISO strings, sets sorted lists, like `to_plain`."""
    # The C encoder writes everything but Decimals, which stand in as marker strings
    # (NUL, a per-process nonce, an index: no text a client sends can forge one) and are
    # spliced back as numbers. Keys the encoder cannot write take the slow path.
    decimals: list[Decimal] = []

    def default(value: Any) -> Any:
        if isinstance(value, Decimal):
            decimals.append(value)
            return f"\0{_NONCE}{len(decimals) - 1}\0"
        if isinstance(value, (set, frozenset)):
            return sorted(value)
        return to_plain(value)  # dates, trace entries: as to_plain writes them

    try:
        text = json.dumps(value, ensure_ascii=ascii, default=default)
    except TypeError:
        parts: list[str] = []
        _write_exact(value, parts.append, ascii)
        return "".join(parts)
    if decimals:
        text = _MARKER.sub(lambda m: _decimal_text(decimals[int(m.group(1))]), text)
    return text


_NONCE = secrets.token_hex(8)
_MARKER = re.compile(r'"\\u0000' + _NONCE + r'([0-9]+)\\u0000"')


def _decimal_text(value: Decimal) -> str:
    # 1E+2 and -0.50 are JSON numbers as they are; an integral text gets "E0" so
    # that it reads back as this Decimal (1e0 parses to Decimal("1")), not an int.
    text = str(value)
    if not value.is_finite():
        return "null"
    return text + "E0" if text.lstrip("-").isdigit() else text


def _write_exact(value: Any, out: Any, ascii: bool = False) -> None:
    if value is None or value is True or value is False:
        out("null" if value is None else "true" if value else "false")
    elif isinstance(value, str):
        out(json.dumps(value, ensure_ascii=ascii))
    elif isinstance(value, int):
        out(str(int(value)))
    elif isinstance(value, Decimal):
        out(_decimal_text(value))
    elif isinstance(value, dict):
        out("{")
        for i, (key, item) in enumerate(value.items()):
            out(", " if i else "")
            out(json.dumps(str(key), ensure_ascii=ascii))
            out(": ")
            _write_exact(item, out, ascii)
        out("}")
    elif isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value) if isinstance(value, (set, frozenset)) else value
        out("[")
        for i, item in enumerate(items):
            out(", " if i else "")
            _write_exact(item, out, ascii)
        out("]")
    else:
        _write_exact(to_plain(value), out, ascii)  # dates, trace entries: as to_plain writes them


def _wire_fields(decision: Any) -> dict[str, Any]:
    """The fields of a decision's wire form, its values as the engine made them."""
    out: dict[str, Any] = {
        "result": decision.result,
        "ruleset": decision.ruleset,
        "decision": decision.decision,
        "version": decision.version,
        "content_hash": decision.content_hash,
        "as_of": decision.as_of.isoformat(),
        "locale": decision.locale,
    }
    if decision.explanation is not None:
        out["explanation"] = list(decision.explanation)
    derivation = getattr(decision, "derivation", None)
    if derivation is not None:
        out["derivation"] = derivation
    return out


def decision_to_json(decision: Any) -> dict[str, Any]:
    """The wire form of an engine `Decision` (the HTTP envelope, minus decision_id)."""
    out = _wire_fields(decision)
    out["result"] = to_plain(out["result"])
    if "explanation" in out:
        out["explanation"] = [to_plain(entry) for entry in out["explanation"]]
    if "derivation" in out:
        out["derivation"] = to_plain(out["derivation"])
    return out


def decision_json(decision: Any, **extra: str) -> str:
    """Compact JSON text of `decision_to_json(decision)` with the `extra` fields after
    it: what `json.dumps({**decision_to_json(decision), **extra}, separators=(",", ":"),
    ensure_ascii=False)` writes, in one pass of the C encoder (`plain_json`) instead of
    a Python copy of the whole explanation and derivation first (an explained answer
    spent most of its time in that copy)."""
    return plain_json({**_wire_fields(decision), **extra})
