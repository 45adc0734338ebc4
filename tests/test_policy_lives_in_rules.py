"""The self-service policy lives in rules/, never in the engine's source.

Fails if any file under src/ names a reason code, product code, country code,
currency code or promotion code of rules/self-service. The vocabulary is read
from the rule files themselves (tables and reasons of every version), so a code
added to the policy is guarded at once.

How names are matched, to stay precise without false positives:

- Distinctive codes (reason codes such as `price_unavailable`, product codes such
  as `maya-lt` or `revit`, the promotion code) are matched as whole words
  anywhere: code, strings, comments and docstrings.
- Short codes (countries such as `NO` or `IT`, currencies such as `USD`) are
  everyday capitals in prose, so they are matched where code uses them: a
  string literal equal to the code (`"US"`), or the code quoted inside a
  non-docstring string literal (`'x in ["US"]'`); in non-Python files, the
  code in quotes. Comments and docstrings may explain, say, YAML's Norway
  problem.

The matcher is shown to work: it finds every code in the rule files and in a
sample of source that uses them.
"""

from __future__ import annotations

import ast
import io
import os
import re
import tokenize
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ruleengine.loader import load_document

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
# $RULEENGINE_TEST_RULES: another rules folder to test (tests/test_policy_as_data.py).
POLICY = Path(os.environ.get("RULEENGINE_TEST_RULES") or ROOT / "rules") / "self-service"
TEXT_SUFFIXES = {
    ".py",
    ".lark",
    ".json",
    ".yaml",
    ".yml",
    ".txt",
    ".md",
    ".toml",
    ".cfg",
    ".html",
    ".js",
}


# --- the policy's vocabulary, from the rule files -----------------------------------------


def _sections(name: str) -> Iterator[dict[str, Any]]:
    versions = [p for p in POLICY.iterdir() if (p / "manifest.yaml").exists()]
    assert len(versions) >= 2, versions
    for vdir in versions:
        for path in sorted(vdir.rglob("*.yaml")):
            data = load_document(path).data
            if isinstance(data, dict) and isinstance(data.get(name), dict):
                yield data[name]


def _words(value: Any) -> set[str]:
    """Every scalar in a table cell, set or map, as text: null is no word, a list gives
    each of its items (a promotion may name several products, or none for all of them)."""
    if value is None:
        return set()
    if isinstance(value, dict):
        return {w for k, v in value.items() for w in {*_words(k), *_words(v)}}
    if isinstance(value, (list, tuple, set)):
        return {w for item in value for w in _words(item)}
    return {str(value)}


def _column(table: Any, *columns: str) -> set[str]:
    """The words in the given columns of a table (rows as lists or mappings); a column the
    table does not have gives nothing."""
    if not isinstance(table, dict) or not isinstance(table.get("rows"), list):
        return set()
    names = list(table.get("columns") or {})
    found: set[str] = set()
    for row in table["rows"]:
        for column in columns:
            if isinstance(row, dict):
                found |= _words(row.get(column))
            elif isinstance(row, list) and column in names and names.index(column) < len(row):
                found |= _words(row[names.index(column)])
    return found


def _entries(tables: dict[str, Any], name: str, part: str) -> set[str]:
    table = tables.get(name)
    return _words(table.get(part)) if isinstance(table, dict) else set()


def vocabulary() -> dict[str, set[str]]:
    """Every code of the policy, by kind."""
    words: dict[str, set[str]] = {
        "reason": set(),
        "product": set(),
        "country": set(),
        "currency": set(),
        "promotion": set(),
    }
    for reasons in _sections("reasons"):
        words["reason"].update(map(str, reasons))
    for tables in _sections("tables"):
        words["country"] |= _entries(tables, "self_service_countries", "set")
        words["country"] |= _entries(tables, "add_seats_countries", "set")
        words["product"] |= _entries(tables, "retired_products", "set")
        words["product"] |= _entries(tables, "products_without_self_service", "set")
        words["product"] |= _column(tables.get("prices"), "product")
        words["product"] |= _column(tables.get("promotions"), "product", "products")
        words["promotion"] |= _column(tables.get("promotions"), "code")
        minor_units = tables.get("currencies")
        if isinstance(minor_units, dict):
            words["currency"] |= {str(k) for k in minor_units.get("map") or {}}
        words["currency"] |= _column(tables.get("prices"), "currency")
    return words


VOCABULARY = vocabulary()
SHORT = VOCABULARY["country"] | VOCABULARY["currency"]
DISTINCTIVE = VOCABULARY["reason"] | VOCABULARY["product"] | VOCABULARY["promotion"]
ALL_CODES = SHORT | DISTINCTIVE

_WORD = re.compile(
    r"(?<![A-Za-z0-9_-])("
    + "|".join(sorted(map(re.escape, DISTINCTIVE), key=len, reverse=True))
    + r")(?![A-Za-z0-9_-])"
)
_QUOTED = re.compile(
    r"""(["'])(""" + "|".join(sorted(map(re.escape, SHORT), key=len, reverse=True)) + r""")\1"""
)


def test_the_vocabulary_is_the_policy() -> None:
    # At least what the policy text names (a new version may add codes, never needs Python).
    assert len(VOCABULARY["reason"]) >= 22
    assert {"maya-lt", "autocad-lt", "autocad", "revit", "3ds-max", "fusion"} <= VOCABULARY[
        "product"
    ]
    assert {"softimage", "fusion-manage", "autocad-ws"} <= VOCABULARY["product"]
    assert {"US", "NO", "PL", "JP", "CZ"} <= VOCABULARY["country"]
    assert {"USD", "EUR", "GBP", "CHF", "JPY"} <= VOCABULARY["currency"]
    assert {"ADDSEATS15"} <= VOCABULARY["promotion"]


# --- the matcher ----------------------------------------------------------------------------


def _string_value(token: str) -> str:
    try:
        value = ast.literal_eval(token)
    except (ValueError, SyntaxError):  # f-strings and friends: look at the source text
        value = token
    return value if isinstance(value, str) else str(value)


def _docstring_tokens(source: str) -> set[tuple[int, int]]:
    """Start positions of module, class and function docstrings."""
    starts = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if (
                body
                and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                starts.add((body[0].lineno, body[0].col_offset))
    return starts


# Python 3.12+ splits f-strings into parts; their text parts count as strings.
_STRING_TOKENS = {tokenize.STRING, getattr(tokenize, "FSTRING_MIDDLE", tokenize.STRING)}


def python_hits(source: str) -> Iterator[tuple[int, str]]:
    """(line, code) for every policy code that Python source names."""
    docstrings = _docstring_tokens(source)
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        line = tok.start[0]
        if tok.type == tokenize.COMMENT:
            yield from ((line, m.group(1)) for m in _WORD.finditer(tok.string))
        elif tok.type in _STRING_TOKENS:
            value = _string_value(tok.string) if tok.type == tokenize.STRING else tok.string
            yield from ((line, m.group(1)) for m in _WORD.finditer(value))
            if tok.start in docstrings:
                continue
            if value in SHORT:
                yield line, value
            yield from ((line, m.group(2)) for m in _QUOTED.finditer(value))


def text_hits(text: str) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(text.splitlines(), 1):
        yield from ((number, m.group(1)) for m in _WORD.finditer(line))
        yield from ((number, m.group(2)) for m in _QUOTED.finditer(line))


def hits_in(path: Path) -> list[tuple[int, str]]:
    text = path.read_text("utf-8")
    return sorted(set(python_hits(text) if path.suffix == ".py" else text_hits(text)))


def _scalars(value: Any) -> Iterable[str]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from _scalars(v)
    elif isinstance(value, list):
        for v in value:
            yield from _scalars(v)
    elif value is not None:
        yield str(value)


def test_the_matcher_finds_every_code_in_the_rule_files() -> None:
    """Every code, as the rule files write it (a table cell, a key, inside an expression)."""
    found: set[str] = set()
    for path in POLICY.glob("*/*.yaml"):
        for scalar in _scalars(load_document(path).data):
            found |= {code for _, code in python_hits(f"value = {scalar!r}\n")}
    assert found == ALL_CODES, sorted(ALL_CODES - found)


def test_the_matcher_finds_codes_in_source() -> None:
    sample = '''
"""Docstrings may say `NO` stays "NO" in YAML."""
def f(account, sub, reasons):
    # falls back when price_unavailable
    if account["country"] in ("US", 'GB'):
        return "USD"
    rule = 'sub.currency in ["JPY"]'
    return sub.product == "maya-lt" or f"{sub.product}" == "3ds-max" or "ADDSEATS15"
'''
    found = {code for _, code in python_hits(sample)}
    assert found == {
        "price_unavailable",
        "US",
        "GB",
        "USD",
        "JPY",
        "maya-lt",
        "3ds-max",
        "ADDSEATS15",
    }
    assert {code for _, code in text_hits('{"example": "CHF", "x": "IT"} renewal_due')} == {
        "CHF",
        "IT",
        "renewal_due",
    }
    # Everyday words and capitals that are not codes of the policy stay quiet.
    quiet = 'x = "en"  # IT, NO and AT in capitals are prose here\ny = "fr"; z = "renewal"\n'
    assert list(python_hits(quiet)) == []


# --- the guard ---------------------------------------------------------------------------------


def test_src_names_no_code_of_the_policy() -> None:
    files = [
        p
        for p in sorted(SRC.rglob("*"))
        if p.is_file() and p.suffix in TEXT_SUFFIXES and "__pycache__" not in p.parts
    ]
    assert len([p for p in files if p.suffix == ".py"]) >= 10
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {code}" for path in files for line, code in hits_in(path)
    ]
    assert offenders == [], "the policy belongs in rules/, not src/:\n" + "\n".join(offenders)
