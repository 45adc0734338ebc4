"""The one way numbers are written, in data (YAML) and in expressions alike.

An integer is digits (`1000`, `-3`); a decimal is digits, a point and digits
(`0.02`, `-1.50`). No leading zeros (`010`: YAML 1.1 read it as octal 8), no
`_` between digits, no exponent (`1e2`), no bare point (`.5`, `5.`), no `+`,
no hexadecimal. Anything else that looks like a number gets a `number_syntax`
error with the way to write it.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

# Ints have at most this many digits: in rule files (`number_too_large`) and at run time
# (`*` past it is `decision_budget_exceeded`). Python writes at most 4,300 digits of an
# int as text; the headroom is for the few bits each `+` may add.
MAX_INT_DIGITS = 4000

ONE_WAY = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?\Z")
# Number-like text that is not written the one way (tried on a whole token).
_LOOKS_NUMERIC = re.compile(
    r"[-+]?(?:0[xXoObB][0-9a-fA-F_]+|[0-9][0-9_]*\.?[0-9_]*(?:[eE][-+]?[0-9]+)?"
    r"|\.[0-9][0-9_]*(?:[eE][-+]?[0-9]+)?)\Z"
)
# Where such a token starts in an expression (not inside a name or after a point).
NUMBER_TOKEN = re.compile(
    r"(?<![\w.])(?:0[xXoObB][0-9a-fA-F_]+|[0-9][0-9_]*\.?[0-9_]*(?:[eE][-+]?[0-9]+)?"
    r"|\.[0-9][0-9_]*(?:[eE][-+]?[0-9]+)?)(?![\w.])"
)


def number_fix(text: str) -> str | None:
    """How to write `text` the one way, if it is a number written another way; else None."""
    if ONE_WAY.match(text) or not _LOOKS_NUMERIC.match(text):
        return None
    body = text.lstrip("+")
    sign = "-" if body.startswith("-") else ""
    body = body.lstrip("-").replace("_", "")
    try:
        if body[:2].lower() in ("0x", "0o", "0b"):
            return sign + str(int(body, {"x": 16, "o": 8, "b": 2}[body[1].lower()]))
        if body.endswith("."):
            body += "0"
        if body.startswith("."):
            body = "0" + body
        value = Decimal(body)
    except (ValueError, InvalidOperation):
        return None
    if "e" in body.lower():
        written = format(value, "f")
    elif "." in body:
        whole, _, fraction = body.partition(".")
        written = f"{int(whole)}.{fraction}"
    else:
        written = str(int(body))
    return sign + written if written != text else None


def number_hint(text: str, fix: str) -> str:
    """The hint for `text` written as `fix`, with why where a habit explains it."""
    plain = text.lstrip("+-")
    if len(plain) > 1 and plain[0] == "0" and plain[1].isdigit():
        return f"write {fix} (a leading 0 is not octal here, as it was in YAML 1.1)"
    if plain[:2].lower() in ("0x", "0o", "0b"):
        return f"write {fix} (numbers are written in decimal)"
    return f"write {fix}"
