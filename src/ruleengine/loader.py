"""Phase 1, load: YAML files -> plain data with the source position of every node.

Only safe YAML, and none of YAML 1.1's surprises: plain scalars are resolved
here (not by PyYAML) so that `NO` stays the string "NO", `755.00` becomes the
exact `Decimal("755.00")` read from the source text, and dates stay strings
until a schema says they are dates. Explicit tags are refused, duplicate keys
are errors, and alias expansion is bounded (a "billion laughs" file fails fast).

Public entry: `load_documents(paths)`.
"""

from __future__ import annotations

import bisect
import copy
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner

from .errors import Code, Diagnostic, Note, RuleFileError
from .numbers import MAX_INT_DIGITS, ONE_WAY, number_fix, number_hint

# A path into a document: mapping keys and sequence indexes.
DataPath = tuple[str | int, ...]

# Nodes reached a second time through aliases before the file is refused.
MAX_ALIAS_EXPANSION = 10_000
MAX_FILE_BYTES = 8 * 1024 * 1024

_PLAIN = "tag:ruleengine:plain"
_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"

_TAGS = frozenset({_PLAIN, _STR, _SEQ, _MAP})
_NULL = frozenset({"", "~", "null", "Null", "NULL"})
_TRUE = frozenset({"true", "True", "TRUE"})
_FALSE = frozenset({"false", "False", "FALSE"})
_NUMBER_START = frozenset("0123456789+-.")
_INT = re.compile(r"[-+]?[0-9]+\Z")
_DECIMAL = re.compile(r"[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+(?=[eE]))(?:[eE][-+]?[0-9]+)?\Z")


@dataclass(frozen=True, slots=True)
class ScalarSpan:
    """Where a string scalar's text sits in the file, to map offsets inside it."""

    start: int  # character index of the scalar (including any quote or block header)
    end: int
    style: str | None


@dataclass(frozen=True, slots=True)
class Document:
    """One YAML file as plain data, plus the positions of its nodes."""

    file: str
    text: str
    data: Any
    positions: Mapping[DataPath, tuple[int, int]]
    key_positions: Mapping[DataPath, tuple[int, int]]
    scalars: Mapping[DataPath, ScalarSpan]
    line_starts: tuple[int, ...] = field(repr=False, default=())
    # Problems that leave the data usable (a number not written the one way): reported
    # by `validate` with the others, so they stop nothing else from being checked.
    problems: tuple[Diagnostic, ...] = ()

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines()

    def pos(self, path: DataPath) -> tuple[int, int]:
        """Line and column (1-based) of the value at `path`, or of its nearest ancestor."""
        while path:
            found = self.positions.get(path)
            if found is not None:
                return found
            path = path[:-1]
        return self.positions.get((), (1, 1))

    def key_pos(self, path: DataPath) -> tuple[int, int]:
        """Position of the mapping key that names `path` (falls back to the value)."""
        return self.key_positions.get(path) or self.pos(path)

    def offset_pos(self, path: DataPath, offset: int) -> tuple[int, int]:
        """Line and column of character `offset` inside the string scalar at `path`."""
        span = self.scalars.get(path)
        if span is None:
            return self.pos(path)
        index = _align_offset(self.text, span, _value_at(self.data, path), offset)
        return self.index_pos(index)

    def index_pos(self, index: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.line_starts, index) - 1
        return line + 1, index - self.line_starts[line] + 1


def _value_at(data: Any, path: DataPath) -> str:
    for step in path:
        data = data[step]
    return data if isinstance(data, str) else str(data)


def _align_offset(text: str, span: ScalarSpan, value: str, offset: int) -> int:
    """Map an offset in a scalar's value to an index in the raw file text.

    Walks value and source together, skipping what YAML removed (quotes,
    indentation, folded line breaks) and reading each escape of a
    double-quoted scalar (`\\"`, `\\n`, `\\u00e9`, a `\\` line continuation)
    as the one character it stands for: a character written as an escape is
    found at its backslash.
    """
    j = span.start
    end = span.end
    if span.style in ("|", ">"):
        newline = text.find("\n", j, end)
        j = newline + 1 if newline >= 0 else j
    elif span.style in ("'", '"'):
        j += 1
    escapes = span.style == '"'
    offset = max(0, min(offset, len(value)))
    for k in range(offset + 1):
        if k == len(value):
            return min(j, max(end - 1, span.start))
        ch = value[k]
        while True:
            if j >= end:
                return min(j, max(end - 1, span.start))
            if escapes and text[j] == "\\":
                decoded, length = _escape_at(text, j)
                if decoded == ch:
                    if k == offset:
                        return j
                    j += length
                    break
                j += length  # a line continuation, or folding we do not follow
            elif text[j] == ch:
                if k == offset:
                    return j
                j += 1
                break
            else:
                j += 1  # indentation, a folded line break, a closing quote
    return j


_SIMPLE_ESCAPES = {
    "0": "\0", "a": "\a", "b": "\b", "t": "\t", "\t": "\t", "n": "\n", "v": "\v",
    "f": "\f", "r": "\r", "e": "\x1b", " ": " ", '"': '"', "/": "/", "\\": "\\",
    "N": "\x85", "_": "\xa0", "L": "\u2028", "P": "\u2029",
}  # fmt: skip
_HEX_ESCAPES = {"x": 2, "u": 4, "U": 8}


def _escape_at(text: str, j: int) -> tuple[str | None, int]:
    """The character a double-quoted escape at text[j] stands for (None for an escaped
    line break, which stands for nothing), and the escape's length in the source."""
    c = text[j + 1 : j + 2]
    if c in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[c], 2
    digits = _HEX_ESCAPES.get(c)
    if digits is not None:
        try:
            return chr(int(text[j + 2 : j + 2 + digits], 16)), 2 + digits
        except ValueError:
            return None, 2
    if c in ("\r", "\n"):
        k = j + 1
        while k < len(text) and text[k] in "\r\n":
            k += 1
        while k < len(text) and text[k] in " \t":
            k += 1  # the next line's indentation goes too
        return None, k - j
    return None, 1


class _Resolver(BaseResolver):
    """Nothing is resolved implicitly: plain scalars are left for `resolve_plain`."""

    def resolve(self, kind: type, value: Any, implicit: Any) -> str:
        if kind is ScalarNode:
            return _PLAIN if implicit[0] else _STR
        return _SEQ if kind is SequenceNode else _MAP


class _PyComposer(Reader, Scanner, Parser, Composer, _Resolver):
    def __init__(self, stream: str):
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        _Resolver.__init__(self)


try:
    from yaml._yaml import CParser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    _Composer: type = _PyComposer
else:

    class _CComposer(CParser, _Resolver):
        """libyaml's parser and composer (several times faster), same marks and nodes."""

        def __init__(self, stream: str):
            CParser.__init__(self, stream)
            _Resolver.__init__(self)

    _Composer = _CComposer


class _Converter:
    def __init__(self, file: str):
        self.file = file
        self.positions: dict[DataPath, tuple[int, int]] = {}
        self.key_positions: dict[DataPath, tuple[int, int]] = {}
        self.scalars: dict[DataPath, ScalarSpan] = {}
        self.diagnostics: list[Diagnostic] = []
        self.soft: list[Diagnostic] = []
        self.seen: set[int] = set()
        self.expanded = 0

    def number_not_written_one_way(self, node: ScalarNode) -> None:
        fix = number_fix(node.value)
        if fix is None:
            return
        mark = node.start_mark
        self.soft.append(
            Diagnostic(
                Code.NUMBER_SYNTAX,
                f"{node.value!r} is not written the way numbers are written here",
                self.file,
                mark.line + 1,
                mark.column + 1,
                number_hint(node.value, fix) + ', or quote it if it is text: "..."',
                len(node.value),
            )
        )

    def error(self, node: Node, code: Code, message: str, hint: str | None = None) -> None:
        mark = node.start_mark
        self.diagnostics.append(
            Diagnostic(code, message, self.file, mark.line + 1, mark.column + 1, hint)
        )

    def number_too_large(self, node: ScalarNode) -> bool:
        """Report a plain int past MAX_INT_DIGITS digits (`number_too_large`), if it is one."""
        digits = len(node.value.lstrip("+-"))
        if node.tag != _PLAIN or digits <= MAX_INT_DIGITS or not _INT.match(node.value):
            return False
        message = f"an int of {digits:,} digits (ints have at most {MAX_INT_DIGITS:,})"
        self.error(node, Code.NUMBER_TOO_LARGE, message, "quote it if it is text")
        return True

    def convert(self, node: Node, path: DataPath) -> Any:
        # Every node reached again through an alias counts, scalars included:
        # a bomb of aliased lists of scalars is refused after a bounded amount of work.
        if id(node) in self.seen:
            self.expanded += 1
            if self.expanded > MAX_ALIAS_EXPANSION:
                raise _AliasBomb(node)
        else:
            self.seen.add(id(node))
        mark = node.start_mark
        self.positions[path] = (mark.line + 1, mark.column + 1)
        if node.tag not in _TAGS:
            self.error(
                node,
                Code.YAML_TAG,
                f"YAML tag {node.tag!r} is not allowed in rule files",
                "remove the tag; rule files hold plain data only",
            )
            return None
        if isinstance(node, ScalarNode):
            if len(node.value) > MAX_INT_DIGITS and self.number_too_large(node):
                return None
            value = resolve_plain(node.value) if node.tag == _PLAIN else node.value
            if type(value) in (int, Decimal) and not ONE_WAY.match(node.value):
                self.number_not_written_one_way(node)
            if type(value) is str:
                self.scalars[path] = ScalarSpan(mark.index, node.end_mark.index, node.style or None)
            return value
        if isinstance(node, SequenceNode):
            return [self.convert(item, (*path, i)) for i, item in enumerate(node.value)]
        if isinstance(node, MappingNode):
            return self.convert_mapping(node, path)
        # Scalar, sequence and mapping are PyYAML's only concrete node kinds.
        raise TypeError(f"unexpected YAML node: {node!r}")

    def convert_mapping(self, node: MappingNode, path: DataPath) -> dict[str, Any]:
        result: dict[str, Any] = {}
        first_seen: dict[str, Node | _MergedKey] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                self.error(key_node, Code.YAML_KEY, "mapping keys must be plain scalars")
                continue
            key = key_node.value
            if key == "<<" and key_node.tag == _PLAIN:
                self.merge(value_node, path, result, first_seen)
                continue
            if key in first_seen and not getattr(first_seen[key], "merged", False):
                prev = first_seen[key].start_mark
                self.error(
                    key_node,
                    Code.DUPLICATE_KEY,
                    f"duplicate key {key!r} (first defined at line {prev.line + 1})",
                    "each key may appear once in a mapping; remove or rename one",
                )
                continue
            first_seen[key] = key_node
            child = (*path, key)
            self.key_positions[child] = (
                key_node.start_mark.line + 1,
                key_node.start_mark.column + 1,
            )
            result[key] = self.convert(value_node, child)
        return result

    def merge(
        self,
        value_node: Node,
        path: DataPath,
        result: dict[str, Any],
        seen: dict[str, Node | _MergedKey],
    ) -> None:
        sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
        for source in sources:
            if not isinstance(source, MappingNode):
                self.error(source, Code.YAML_MERGE, "`<<` merges mappings only")
                continue
            # Convert into scratch position tables (sharing the alias budget and the
            # diagnostics), then keep the positions of the keys actually merged only:
            # a key already set explicitly keeps its own position.
            scratch = copy.copy(self)
            scratch.positions, scratch.key_positions, scratch.scalars = {}, {}, {}
            merged = scratch.convert_mapping(source, path)
            self.expanded = scratch.expanded
            taken = {key for key in merged if key not in result}
            for key in taken:
                result[key] = merged[key]
                seen.setdefault(key, _MergedKey(source))
            # Each pair holds two tables of the same type; `Any` lets one loop copy all three.
            tables: tuple[tuple[dict[DataPath, Any], dict[DataPath, Any]], ...] = (
                (self.positions, scratch.positions),
                (self.key_positions, scratch.key_positions),
                (self.scalars, scratch.scalars),
            )
            for mine, theirs in tables:
                for sub, where in theirs.items():
                    if len(sub) > len(path) and sub[len(path)] in taken:
                        mine[sub] = where


class _MergedKey:
    """Marks a key that came from `<<`, which a later explicit key may override."""

    merged = True

    def __init__(self, node: Node):
        self.start_mark = node.start_mark


class _AliasBomb(Exception):
    def __init__(self, node: Node):
        self.node = node


def resolve_plain(text: str) -> Any:
    """Resolve a plain (unquoted) scalar: null, bool, int, exact decimal, else string."""
    if text in _NULL:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    if text and text[0] not in _NUMBER_START:
        return text  # most scalars are words: skip the number patterns
    if _INT.match(text):
        return int(text)
    if _DECIMAL.match(text):
        return Decimal(text)
    return text


def load_document(path: Path, display: str | None = None) -> Document:
    """Load one YAML file; raise `RuleFileError` with every problem found."""
    file = display or str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise RuleFileError(
            [Diagnostic(Code.IO_ERROR, f"cannot read file: {exc.strerror}", file)]
        ) from None
    if len(raw) > MAX_FILE_BYTES:
        raise RuleFileError(
            [Diagnostic(Code.FILE_TOO_LARGE, f"file is larger than {MAX_FILE_BYTES} bytes", file)]
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RuleFileError(
            [Diagnostic(Code.ENCODING, f"file is not UTF-8 (byte {exc.start})", file, 1, 1)]
        ) from None
    return parse_document(text, file)


def over_bytes(paths: Sequence[tuple[Path, str]], limit: int) -> Diagnostic | None:
    """`version_too_large` at the place where the files of one version, in order, run
    over `limit` bytes (their sizes asked of the file system: nothing parsed)."""
    sizes = []
    for path, _display in paths:
        try:
            sizes.append(path.stat().st_size)
        except OSError:
            sizes.append(0)  # reported when it is read
    total = sum(sizes)
    if total <= limit:
        return None
    before = 0
    for (path, display), size in zip(paths, sizes, strict=True):
        if before + size > limit:
            with path.open("rb") as f:
                head = f.read(limit - before)  # the bytes within the limit
            text = head.decode("utf-8", errors="ignore")
            line = text.count("\n") + 1
            column = len(text) - (text.rfind("\n") + 1) + 1
            return Diagnostic(
                Code.VERSION_TOO_LARGE,
                f"this version's files hold {total:,} bytes; a version may hold at most "
                f"{limit:,} (the limit is crossed here)",
                display,
                line,
                column,
                "move data to another rule set, or raise the limit "
                "(`--max-version-bytes`, RULEENGINE_MAX_VERSION_BYTES)",
            )
        before += size
    return None  # pragma: no cover - the sizes add up to more than the limit


def _unclosed_quote(exc: yaml.MarkedYAMLError, text: str, file: str) -> Diagnostic:
    """A quoted string the parser could not end: reported at its opening quote."""
    start = exc.context_mark
    assert start is not None
    quote = text[start.index] if start.index < len(text) else '"'
    end = exc.problem_mark
    gave_up = (
        (Note("the parser read on to here looking for it", file, end.line + 1, end.column + 1),)
        if end is not None
        else ()
    )
    return Diagnostic(
        Code.YAML_SYNTAX,
        f"this string has no closing {quote}",
        file,
        start.line + 1,
        start.column + 1,
        f"end the text with {quote} on the same line; a quoted value may run over several "
        "lines, so the parser reads on until it finds one",
        notes=gave_up,
    )


def parse_document(text: str, file: str) -> Document:
    """Parse YAML text (one document) into a `Document`."""
    # A byte-order mark is not part of the text: the parser skips it, so would columns.
    text = text.removeprefix("\ufeff")
    composer = _Composer(text)
    try:
        node = composer.get_single_node()
    except yaml.MarkedYAMLError as exc:
        if exc.context == "while scanning a quoted scalar" and exc.context_mark is not None:
            raise RuleFileError([_unclosed_quote(exc, text, file)]) from None
        mark = exc.problem_mark or exc.context_mark
        message = exc.problem or "invalid YAML"
        if exc.context:
            context = exc.context
            start = exc.context_mark
            if (
                context.startswith("while")
                and start is not None
                and mark is not None
                and start.line != mark.line
            ):
                context += f" that starts at line {start.line + 1}, column {start.column + 1}"
            message = f"{message} ({context})"
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        hint = "check indentation, colons and quotes near this spot"
        if "mapping values are not allowed" in message:
            hint = (
                "an expression containing `: ` must be quoted, or written as a block: "
                "`>-` after the key, the expression on the following lines, indented"
            )
        raise RuleFileError(
            [
                Diagnostic(
                    Code.YAML_SYNTAX,
                    message,
                    file,
                    line,
                    column,
                    hint,
                )
            ]
        ) from None
    except yaml.YAMLError as exc:
        raise RuleFileError([Diagnostic(Code.YAML_SYNTAX, str(exc), file, 1, 1)]) from None
    finally:
        composer.dispose()
    converter = _Converter(file)
    data: Any = None
    if node is not None:
        try:
            data = converter.convert(node, ())
        except _AliasBomb as bomb:
            mark = bomb.node.start_mark
            raise RuleFileError(
                [
                    Diagnostic(
                        Code.YAML_ALIAS_LIMIT,
                        f"YAML aliases expand to more than {MAX_ALIAS_EXPANSION} nodes",
                        file,
                        mark.line + 1,
                        mark.column + 1,
                        "a file whose aliases multiply (a 'billion laughs') is refused; "
                        "write the data out or use fewer nested aliases",
                    )
                ]
            ) from None
    if converter.diagnostics:
        raise RuleFileError(converter.diagnostics)
    starts = [0]
    starts.extend(m.end() for m in re.finditer("\n", text))
    return Document(
        file=file,
        text=text,
        data=data,
        positions=converter.positions,
        key_positions=converter.key_positions,
        scalars=converter.scalars,
        line_starts=tuple(starts),
        problems=tuple(converter.soft),
    )


def load_documents(paths: Iterable[tuple[Path, str]]) -> list[Document]:
    """Load several files, collecting every file's problems before raising."""
    documents: list[Document] = []
    problems: list[Diagnostic] = []
    for path, display in paths:
        try:
            documents.append(load_document(path, display))
        except RuleFileError as exc:
            problems.extend(exc.diagnostics)
    if problems:
        raise RuleFileError(problems)
    return documents
