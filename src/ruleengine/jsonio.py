"""JSON in and out without binary floats.

Fractional numbers are read as `Decimal` from their text; NaN and Infinity
are refused. Results write Decimals as strings with their exact digits
(`"675.00"`, `"41580"`), dates as `"YYYY-MM-DD"`, sets as sorted lists;
`dumps_exact` writes Decimals as numbers instead (inputs written back as read).
"""

from __future__ import annotations

import json
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
        return str(value) if value.is_finite() else None
    if isinstance(value, date):
        return value.isoformat()
    to_json = getattr(value, "to_json", None)
    if to_json is not None:
        return to_plain(to_json())
    return str(value)


def dumps(value: Any, indent: int | None = None) -> str:
    return json.dumps(to_plain(value), indent=indent, ensure_ascii=False)


def dumps_exact(value: Any) -> str:
    """One-line JSON in which a Decimal is a number with its exact digits (`16.78`, not
    `"16.78"`), so data read by `loads` is written back as it came (a decision log keeps
    inputs as received). Dates are ISO strings, sets sorted lists, like `to_plain`."""
    parts: list[str] = []
    _write_exact(value, parts.append)
    return "".join(parts)


def _write_exact(value: Any, out: Any) -> None:
    if value is None or value is True or value is False:
        out("null" if value is None else "true" if value else "false")
    elif isinstance(value, str):
        out(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, int):
        out(str(int(value)))
    elif isinstance(value, Decimal):
        # 1E+2 and -0.50 are JSON numbers as they are; an integral text gets "E0" so
        # that it reads back as this Decimal (1e0 parses to Decimal("1")), not an int.
        text = str(value)
        if not value.is_finite():
            text = "null"
        elif text.lstrip("-").isdigit():
            text += "E0"
        out(text)
    elif isinstance(value, dict):
        out("{")
        for i, (key, item) in enumerate(value.items()):
            out(", " if i else "")
            out(json.dumps(str(key), ensure_ascii=False))
            out(": ")
            _write_exact(item, out)
        out("}")
    elif isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value) if isinstance(value, (set, frozenset)) else value
        out("[")
        for i, item in enumerate(items):
            out(", " if i else "")
            _write_exact(item, out)
        out("]")
    else:
        _write_exact(to_plain(value), out)  # dates, trace entries: as to_plain writes them


def decision_to_json(decision: Any) -> dict[str, Any]:
    """The wire form of an engine `Decision` (the HTTP envelope, minus decision_id)."""
    out: dict[str, Any] = {
        "result": to_plain(decision.result),
        "ruleset": decision.ruleset,
        "decision": decision.decision,
        "version": decision.version,
        "content_hash": decision.content_hash,
        "as_of": decision.as_of.isoformat(),
        "locale": decision.locale,
    }
    if decision.explanation is not None:
        out["explanation"] = [to_plain(entry) for entry in decision.explanation]
    return out
