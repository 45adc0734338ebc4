"""Phase 1, load: YAML text -> plain data with the position of every node."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from ruleengine.errors import Diagnostic, RuleFileError
from ruleengine.loader import Document, load_document, load_documents, parse_document


def _errors(text: str) -> list[tuple[str, int, int, str]]:
    with pytest.raises(RuleFileError) as caught:
        parse_document(text, "f.yaml")
    return [(d.code, d.line, d.column, d.message) for d in caught.value.diagnostics]


def _spot(doc: Document, path: tuple[str | int, ...], needle: str, nth: int = 0) -> str:
    """The file text at the position offset_pos gives for the nth `needle` in the value."""
    value = doc.data
    for step in path:
        value = value[step]
    offset = -1
    for _ in range(nth + 1):
        offset = value.index(needle, offset + 1)
    line, column = doc.offset_pos(path, offset)
    return doc.text.splitlines()[line - 1][column - 1 : column - 1 + len(needle)]


# --- scalars: no YAML 1.1 surprises --------------------------------------------


def test_plain_scalars_resolve_without_yaml11_surprises() -> None:
    doc = parse_document(
        "country: NO\nyes_: yes\non_: on\noff_: Off\nprice: 755.00\nrate: 0.10\n"
        "seats: 3\nneg: -3\nnothing: null\ntilde: ~\nempty:\nflag: true\nno_flag: false\n"
        "quoted: '3'\ndquoted: \"true\"\nday: 2026-01-01\nhex: 0x10\nsep: 1_000\n"
        "octal: 010\nsci: 1e3\ninf: .inf\n",
        "f.yaml",
    )
    data = doc.data
    assert data["country"] == "NO"
    assert (data["yes_"], data["on_"], data["off_"]) == ("yes", "on", "Off")
    assert data["price"] == Decimal("755.00") and str(data["price"]) == "755.00"
    assert type(data["rate"]) is Decimal and str(data["rate"]) == "0.10"
    assert data["seats"] == 3 and type(data["seats"]) is int
    assert data["neg"] == -3
    assert data["nothing"] is None and data["tilde"] is None and data["empty"] is None
    assert data["flag"] is True and data["no_flag"] is False
    assert data["quoted"] == "3" and data["dquoted"] == "true"
    # Dates stay text until a schema says they are dates.
    assert data["day"] == "2026-01-01"
    assert (data["hex"], data["sep"], data["inf"]) == ("0x10", "1_000", ".inf")
    assert data["octal"] == 10
    assert data["sci"] == Decimal("1e3")
    # No binary float anywhere.
    assert not any(isinstance(v, float) for v in data.values())


def test_explicit_str_tag_keeps_text() -> None:
    assert parse_document("a: !!str 3\nb: !!str NO\n", "f.yaml").data == {"a": "3", "b": "NO"}


@pytest.mark.parametrize(
    "text",
    [
        "a: !!python/object:os.system x\n",
        "a: !!python/object/apply:os.system ['true']\n",
        "a: !!python/name:os.system ''\n",
        "a: !!binary aGVsbG8=\n",
        "a: !!float 1.5\n",
        "a: !custom x\n",
    ],
)
def test_tags_are_refused(text: str) -> None:
    [(code, line, column, message)] = _errors(text)
    assert (code, line, column) == ("yaml_tag", 1, 4)
    assert message.startswith("YAML tag '") and message.endswith("' is not allowed in rule files")


def test_python_tag_message_names_the_tag() -> None:
    assert _errors("x:\n  y: !!python/object/apply:os.system ['true']\n") == [
        (
            "yaml_tag",
            2,
            6,
            "YAML tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed in rule files",
        )
    ]


# --- positions -------------------------------------------------------------------


def test_positions_of_values_and_keys() -> None:
    doc = parse_document(
        "tables:\n  fees:\n    rows:\n      - [US, 4.99]\n      - {country: CA,  fee: 5}\n",
        "f.yaml",
    )
    assert doc.pos(()) == (1, 1)
    assert doc.pos(("tables",)) == (2, 3)
    assert doc.key_pos(("tables",)) == (1, 1)
    assert doc.key_pos(("tables", "fees")) == (2, 3)
    assert doc.pos(("tables", "fees", "rows", 0)) == (4, 9)
    assert doc.pos(("tables", "fees", "rows", 0, 1)) == (4, 14)
    assert doc.pos(("tables", "fees", "rows", 1, "fee")) == (5, 29)
    assert doc.key_pos(("tables", "fees", "rows", 1, "fee")) == (5, 24)
    # An unknown path falls back to its nearest known ancestor.
    assert doc.pos(("tables", "fees", "rows", 1, "missing", 3)) == (5, 9)
    assert doc.key_pos(("tables", "nope")) == (2, 3)


def test_offsets_in_plain_and_quoted_scalars() -> None:
    doc = parse_document(
        "a:\n  plain: x + yy\n  single: 'x + ''q'' + yy'\n  double: \"x + \\\"q\\\" + yy\"\n"
        "  multi: x and\n    yy or\n    zz\n  flow: [x + y, 'p + q']\n",
        "f.yaml",
    )
    assert doc.offset_pos(("a", "plain"), 4) == (2, 14)
    assert _spot(doc, ("a", "plain"), "yy") == "yy"
    assert _spot(doc, ("a", "single"), "yy") == "yy"
    assert doc.offset_pos(("a", "single"), doc.data["a"]["single"].index("yy")) == (3, 24)
    assert _spot(doc, ("a", "double"), "yy") == "yy"
    assert doc.offset_pos(("a", "multi"), doc.data["a"]["multi"].index("zz")) == (7, 5)
    assert doc.offset_pos(("a", "flow", 1), 4) == (8, 22)
    # Offset 0 is the first character of the value, past the quote.
    assert doc.offset_pos(("a", "single"), 0) == (3, 12)


def test_offsets_after_escapes_in_double_quoted_scalars() -> None:
    source = (
        "e:\n"
        '  quote: "a == \\"x\\" and yy"\n'
        '  unicode: "\\u00e9\\t\\x41 == zz"\n'
        '  newline: "a\\nb + yy"\n'
        '  continued: "a and \\\n    yy or\n    zz"\n'
        '  backslash: "\\\\ + yy"\n'
    )
    doc = parse_document(source, "f.yaml")
    assert doc.data["e"]["unicode"] == "é\tA == zz"
    assert doc.data["e"]["continued"] == "a and yy or zz"
    for key, needle in [
        ("quote", "yy"),
        ("unicode", "zz"),
        ("newline", "yy"),
        ("continued", "yy"),
        ("continued", "zz"),
        ("backslash", "yy"),
    ]:
        assert _spot(doc, ("e", key), needle) == needle, key
    # A character written as an escape is found at its backslash.
    assert doc.offset_pos(("e", "unicode"), 0) == (3, 13)
    assert doc.offset_pos(("e", "unicode"), 2) == (3, 21)
    assert doc.offset_pos(("e", "quote"), doc.data["e"]["quote"].index('"')) == (2, 16)


def test_offsets_in_folded_and_literal_blocks() -> None:
    doc = parse_document(
        "r:\n  folded: >-\n    a == 1 and a\n    == 2\n\n    and zz\n"
        "  literal: |\n    x and\n      y or\n    zz\n",
        "f.yaml",
    )
    folded = doc.data["r"]["folded"]
    assert folded == "a == 1 and a == 2\nand zz"
    assert doc.offset_pos(("r", "folded"), 0) == (3, 5)
    assert doc.offset_pos(("r", "folded"), folded.index("a ==", 1)) == (3, 16)
    assert doc.offset_pos(("r", "folded"), folded.index("2")) == (4, 8)
    assert doc.offset_pos(("r", "folded"), folded.index("zz")) == (6, 9)
    literal = doc.data["r"]["literal"]
    assert literal == "x and\n  y or\nzz\n"
    assert doc.offset_pos(("r", "literal"), literal.index("y")) == (9, 7)
    assert doc.offset_pos(("r", "literal"), literal.index("zz")) == (10, 5)


def test_offsets_after_wide_characters_byte_order_mark_and_crlf() -> None:
    doc = parse_document('d: "é 😀"\nw: ["😀😀", x + yy]\n', "f.yaml")
    assert doc.pos(("w", 1)) == (2, 11)
    assert doc.offset_pos(("w", 1), 4) == (2, 15)
    bom = parse_document("\ufeffw: x + yy\n", "f.yaml")
    assert bom.pos(("w",)) == (1, 4)
    assert bom.offset_pos(("w",), 4) == (1, 8)
    crlf = parse_document("w: x\r\nv: a + bb\r\n", "f.yaml")
    assert crlf.offset_pos(("v",), 4) == (2, 8)


def test_offset_in_a_non_string_falls_back_to_its_position() -> None:
    doc = parse_document("a:\n  n: 42\n", "f.yaml")
    assert doc.offset_pos(("a", "n"), 1) == (2, 6)


# --- duplicate keys, merges, aliases ----------------------------------------------


def test_duplicate_keys_are_all_reported() -> None:
    assert _errors("a: 1\nb:\n  c: 1\n  c: 2\na: 3\n") == [
        ("duplicate_key", 4, 3, "duplicate key 'c' (first defined at line 3)"),
        ("duplicate_key", 5, 1, "duplicate key 'a' (first defined at line 1)"),
    ]


def test_merge_keys_explicit_keys_win_and_keep_their_positions() -> None:
    doc = parse_document(
        "base: &b\n  x: 1\n  y: 2\nc:\n  y: 3\n  <<: *b\nd:\n  <<: *b\n  x: 9\n", "f.yaml"
    )
    assert doc.data["c"] == {"y": 3, "x": 1}
    assert doc.data["d"] == {"x": 9, "y": 2}
    assert doc.pos(("c", "y")) == (5, 6)
    assert doc.key_pos(("c", "y")) == (5, 3)
    assert doc.pos(("c", "x")) == (2, 6)
    assert doc.pos(("d", "x")) == (9, 6)


def test_merge_of_a_list_first_wins_and_non_mappings_are_refused() -> None:
    doc = parse_document("c:\n  <<: [{x: 1}, {x: 2, y: 2}]\n", "f.yaml")
    assert doc.data == {"c": {"x": 1, "y": 2}}
    assert _errors("c:\n  <<: [1]\n") == [("yaml_merge", 2, 8, "`<<` merges mappings only")]


def test_explicit_key_twice_after_a_merge_is_a_duplicate() -> None:
    assert _errors("b: &b {x: 1}\nc:\n  <<: *b\n  x: 2\n  x: 3\n") == [
        ("duplicate_key", 5, 3, "duplicate key 'x' (first defined at line 4)")
    ]


def test_small_aliases_are_fine() -> None:
    doc = parse_document("a: &a [1, 2]\nb: *a\nc: &s text\nd: *s\n", "f.yaml")
    assert doc.data == {"a": [1, 2], "b": [1, 2], "c": "text", "d": "text"}


def _billion_laughs(depth: int = 9) -> str:
    lines = ['l0: &l0 "lol"']
    for i in range(1, depth + 1):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_billion_laughs_is_refused_after_bounded_work(yaml_nodes_converted: list[int]) -> None:
    # Bounded work, not wall time (machines vary): the file's aliases expand to 10**9
    # nodes, and conversion stops after the limit plus the nodes written in the file.
    errors = _errors(_billion_laughs())
    assert errors == [("yaml_alias_limit", 1, 5, "YAML aliases expand to more than 10000 nodes")]
    assert 10_000 < yaml_nodes_converted[0] <= 10_000 + 200


def test_alias_bomb_of_mappings_is_refused() -> None:
    lines = ["a: &a {k: v}"]
    for i in range(1, 8):
        ref = "a" if i == 1 else f"b{i - 1}"
        lines.append(f"b{i}: &b{i} {{" + ", ".join(f"k{j}: *{ref}" for j in range(10)) + "}")
    [(code, *_)] = _errors("\n".join(lines) + "\n")
    assert code == "yaml_alias_limit"


# --- syntax errors and files ------------------------------------------------------


def test_yaml_syntax_errors_are_positioned_with_hints() -> None:
    with pytest.raises(RuleFileError) as caught:
        parse_document("rules:\n  when: a: b\n", "f.yaml")
    [diag] = caught.value.diagnostics
    assert (diag.code, diag.line, diag.column) == ("yaml_syntax", 2, 10)
    assert diag.hint is not None and "must be quoted" in diag.hint
    [(code, line, _column, message)] = _errors("a: [1, 2\nb: 3\n")
    assert (code, line) == ("yaml_syntax", 2)
    assert "flow sequence that starts at line 1, column 4" in message


def test_other_syntax_problems() -> None:
    assert [e[:3] for e in _errors("a: 1\n---\nb: 2\n")] == [("yaml_syntax", 2, 1)]
    assert [e[:3] for e in _errors("a: &x 1\nb: *y\n")] == [("yaml_syntax", 2, 4)]
    assert _errors("? [a]\n: 1\n") == [("yaml_key", 1, 3, "mapping keys must be plain scalars")]


def test_empty_document_is_none() -> None:
    assert parse_document("", "f.yaml").data is None
    assert parse_document("# only a comment\n", "f.yaml").data is None


def test_load_document_reads_files_and_refuses_non_utf8(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("a: NO\n", "utf-8")
    assert load_document(good, "shown.yaml").file == "shown.yaml"
    assert load_document(good).data == {"a": "NO"}
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"a: \xff\n")
    with pytest.raises(RuleFileError) as caught:
        load_document(bad, "bad.yaml")
    assert caught.value.diagnostics == (
        Diagnostic("encoding", "file is not UTF-8 (byte 3)", "bad.yaml", 1, 1),
    )
    with pytest.raises(RuleFileError) as caught:
        load_document(tmp_path / "absent.yaml", "absent.yaml")
    assert [d.code for d in caught.value.diagnostics] == ["io_error"]


def test_load_documents_collects_every_files_problems(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("x: 1\nx: 2\n", "utf-8")
    (tmp_path / "b.yaml").write_text("y: [1\n", "utf-8")
    (tmp_path / "c.yaml").write_text("z: 1\n", "utf-8")
    with pytest.raises(RuleFileError) as caught:
        load_documents((tmp_path / n, n) for n in ("c.yaml", "b.yaml", "a.yaml"))
    assert [(d.file, d.code) for d in caught.value.diagnostics] == [
        ("a.yaml", "duplicate_key"),
        ("b.yaml", "yaml_syntax"),
    ]
