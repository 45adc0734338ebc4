"""Phase 2, validate: documents -> the model of one version, against schemas/*.json."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ruleengine.errors import RuleFileError
from ruleengine.loader import Document, parse_document
from ruleengine.model import VersionModel
from ruleengine.validate import content_hash, parse_date, schema_diagnostics, validate_version

MANIFEST = 'ruleset: shop\nversion: "1"\neffective_from: 2026-01-01\nlocales: [en, fr]\n'


def _docs(**files: str) -> list[Document]:
    return [parse_document(text, f"v/{name}.yaml") for name, text in files.items()]


def _validate(manifest: str = MANIFEST, **files: str) -> VersionModel:
    return validate_version(parse_document(manifest, "v/manifest.yaml"), _docs(**files), "v")


def _problems(
    manifest: str = MANIFEST, **files: str
) -> list[tuple[str, str, int, int, str, str | None]]:
    # Problems travel in the model (check_version raises them with its own).
    found = RuleFileError(_validate(manifest, **files).problems).diagnostics
    assert found, "expected problems"
    return [(d.code, d.file, d.line, d.column, d.message, d.hint) for d in found]


def _schema(text: str) -> list[tuple[int, int, str, str | None]]:
    doc = parse_document(text, "f.yaml")
    return [(d.line, d.column, d.message, d.hint) for d in schema_diagnostics(doc, "rulefile")]


def test_valid_version_builds_the_model() -> None:
    model = _validate(
        types="types:\n  Order:\n    fields:\n      total: decimal\n      coupon: string?\n"
        "      plan: {enum: [basic, pro], optional: true}\n",
        tables="tables:\n  rate: {value: 0.10}\n  fees:\n    key: c\n    columns: {c: string, fee: decimal}\n"
        "    rows:\n      - [NO, 4.99]\n      - {c: US, fee: 5}\n",
        rules="rules:\n  g:\n    params: {order: Order}\n    hit: first\n    default: 0\n    rules:\n"
        "      - id: r1\n        when: order.total > 10\n        then: 1\n",
    )
    assert model.manifest.ruleset == "shop"
    assert model.manifest.effective_from == date(2026, 1, 1)
    assert model.manifest.locales == ("en", "fr")
    [order] = model.types
    assert [(f.name, f.type_text, f.optional) for f in order.fields] == [
        ("total", "decimal", False),
        ("coupon", "string", True),
        ("plan", "string", True),
    ]
    assert order.fields[2].enum == ("basic", "pro")
    rate, fees = model.tables
    assert rate.value == Decimal("0.10")
    assert fees.rows[0][0] == {"c": "NO", "fee": Decimal("4.99")}
    assert fees.rows[1][0] == {"c": "US", "fee": 5}
    [group] = model.groups
    assert group.hit == "first"
    assert group.default is not None and group.default.text == "0"
    [rule] = group.rules
    assert (rule.id, rule.when.text) == ("r1", "order.total > 10")
    assert (rule.location.file, rule.location.line, rule.location.column) == ("v/rules.yaml", 7, 9)
    # Expression offsets map back to the file.
    assert rule.when.locate_offset(6) == (8, 21)
    assert model.files == ("v/manifest.yaml", "v/rules.yaml", "v/tables.yaml", "v/types.yaml")


def test_unknown_key_with_did_you_mean() -> None:
    assert _schema(
        "rules:\n  g:\n    rules:\n      - id: a\n        wehn: x\n        reason: r\n"
    ) == [
        (5, 9, "unknown key 'wehn'", "did you mean 'when'?"),
    ]  # one mistake, one error: not also "missing required key 'when'"
    assert _schema("rules:\n  g:\n    rules:\n      - id: a\n        reason: r\n") == [
        (4, 9, "missing required key 'when'", None),
    ]


def test_unknown_key_without_close_match_lists_allowed_keys() -> None:
    assert _schema("reasons:\n  r:\n    messages: {en: x}\n    zzz: 1\n") == [
        (4, 5, "unknown key 'zzz'", "allowed keys: messages, remedy"),
    ]


def test_unknown_top_level_section() -> None:
    assert _schema("tabels: {}\n") == [(1, 1, "unknown key 'tabels'", "did you mean 'tables'?")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tables:\n  t:\n    set: US\n", (3, 10, "expected a list, got a string", None)),
        ("tables:\n  t:\n    map: [1]\n", (3, 10, "expected a mapping, got a list", None)),
        (
            "tables:\n  t:\n    key: a\n    columns: {a: int}\n",
            (3, 5, "missing required key 'rows'", None),
        ),
        ("tables:\n  t:\n    vale: 3\n", (3, 5, "unknown key 'vale'", "did you mean 'value'?")),
        ("tables:\n  t: 3\n", (2, 6, "expected a mapping, got an integer", None)),
        (
            "types:\n  T:\n    fields:\n      a: {tpye: int}\n",
            (4, 11, "unknown key 'tpye'", "did you mean 'type'?"),
        ),
        (
            "types:\n  T:\n    fields:\n      a: 3\n",
            (4, 10, "expected a string, got an integer", "quote the value to make it a string"),
        ),
        (
            "types:\n  T:\n    fields:\n      a: {description: x}\n",
            (4, 10, "missing required key: one of 'type' or 'enum'", None),
        ),
        (
            "rules:\n  g:\n    rules:\n      - id: a\n        when: x\n",
            (4, 9, "missing required key: one of 'reason' or 'then'", None),
        ),
        (
            "rules:\n  g:\n    rules:\n      - {id: a, when: x, reason: r, then: y}\n",
            (4, 9, "only one of 'reason' or 'then' may be given", None),
        ),
        (
            "rules:\n  g:\n    hit: frist\n    rules: []\n",
            (3, 10, "'frist' is not one of 'collect', 'first'", "did you mean 'first'?"),
        ),
        (
            "decisions:\n  Check:\n    input: {}\n    output: {a: 1}\n",
            (2, 3, "invalid name 'Check'", "names are lower_snake_case (type names: CamelCase)"),
        ),
        (
            "decisions:\n  d:\n    input: {}\n    output: {}\n",
            (4, 13, "{} should be non-empty", None),
        ),
    ],
)
def test_schema_violations_say_what_is_wrong(text: str, expected: tuple[object, ...]) -> None:
    assert _schema(text) == [expected]


def test_manifest_problems() -> None:
    assert _problems("ruleset: shop\nversion: 1\neffective_from: 2026-01-01\n") == [
        (
            "schema",
            "v/manifest.yaml",
            2,
            10,
            "expected a string, got an integer",
            "quote the value to make it a string",
        )
    ]
    assert _problems('ruleset: shop\nversion: "1"\neffective_from: 2026-13-01\n') == [
        (
            "bad_date",
            "v/manifest.yaml",
            3,
            17,
            "effective_from '2026-13-01' is not a valid date",
            "write dates as YYYY-MM-DD, e.g. 2026-11-01",
        )
    ]
    [(code, *_rest, hint)] = _problems(
        'ruleset: shop\nversion: "a b"\neffective_from: 2026-01-01\n'
    )
    assert (code, hint) == ("bad_version", 'versions are labels such as "2026-11" or "v2"')


def test_problems_of_every_file_are_collected() -> None:
    problems = _problems(
        'ruleset: shop\nversion: "1"\n',
        a="tables:\n  t: {sett: [1]}\n",
        b="reasons:\n  r: {messages: {}}\n",
    )
    assert [(code, file, line, column) for code, file, line, column, *_ in problems] == [
        ("schema", "v/a.yaml", 2, 7),
        ("schema", "v/b.yaml", 2, 17),
        ("schema", "v/manifest.yaml", 1, 1),
    ]
    assert [m for *_, m, _h in problems] == [
        "unknown key 'sett'",
        "{} should be non-empty",
        "missing required key 'effective_from'",
    ]


def test_duplicate_names_across_files() -> None:
    assert _problems(
        a="tables:\n  limit: {value: 3}\n",
        b="functions:\n  limit: {expr: '1'}\nreasons:\n  r: {messages: {en: x, fr: y}}\n",
        c="reasons:\n  r: {messages: {en: x, fr: y}}\n",
    ) == [
        (
            "duplicate_name",
            "v/b.yaml",
            2,
            3,
            "function 'limit' is already defined at v/a.yaml:2:3",
            "names of tables, functions and rule groups share one namespace",
        ),
        (
            "duplicate_name",
            "v/c.yaml",
            2,
            3,
            "reason 'r' is already defined at v/b.yaml:4:3",
            "rename one of them",
        ),
    ]


def test_same_name_in_different_namespaces_is_fine() -> None:
    model = _validate(
        a="types:\n  Limit: {fields: {n: int}}\ntables:\n  limit: {value: 3}\n"
        "reasons:\n  limit: {messages: {en: x, fr: y}}\n"
    )
    assert [t.name for t in model.tables] == ["limit"]
    assert [r.code for r in model.reasons] == ["limit"]


def test_bad_tables_found_while_validating() -> None:
    problems = _problems(
        t="tables:\n  fees:\n    key: [c, d]\n    columns: {c: string, fee: decimal}\n"
        "    rows:\n      - [NO, 1, 2]\n      - {c: US, feee: 5}\n"
    )
    assert [
        (code, line, column, message, hint) for code, _f, line, column, message, hint in problems
    ] == [
        ("bad_table", 3, 10, "key column 'd' of table 'fees' is not among its columns", None),
        (
            "bad_table",
            6,
            9,
            "row 1 of table 'fees' has 3 values; the table has 2 columns (c, fee)",
            None,
        ),
        ("bad_table", 7, 17, "table 'fees' has no column 'feee'", "did you mean 'fee'?"),
    ]


def test_bad_pattern_is_reported() -> None:
    [(code, _f, line, column, message, _h)] = _problems(
        t="types:\n  T:\n    fields:\n      code: {type: string, pattern: '[a-'}\n"
    )
    assert (code, line, column) == ("bad_pattern", 4, 37)
    assert message.startswith("invalid regular expression:")


def test_content_hash_is_stable_and_changes_with_any_file() -> None:
    files = {"a": "tables:\n  t: {value: 1}\n", "b": "tables:\n  u: {value: 2}\n"}
    first = _validate(**files).content_hash
    assert first.startswith("sha256:") and len(first) == len("sha256:") + 64
    assert _validate(**files).content_hash == first
    # File order does not matter; content, file names and the manifest do.
    assert _validate(b=files["b"], a=files["a"]).content_hash == first
    assert _validate(a=files["a"], b="tables:\n  u: {value: 3}\n").content_hash != first
    assert _validate(a=files["a"], c=files["b"]).content_hash != first
    assert _validate(MANIFEST + "description: x\n", **files).content_hash != first
    # The hash covers paths relative to the version root, not where the root sits.
    docs = _docs(**files)
    moved = [parse_document(d.text, d.file.replace("v/", "elsewhere/")) for d in docs]
    assert content_hash(docs, "v") == content_hash(moved, "elsewhere")


def test_parse_date_is_strict() -> None:
    assert parse_date("2026-02-28") == date(2026, 2, 28)
    assert parse_date(date(2026, 1, 1)) == date(2026, 1, 1)
    for bad in ("2026-02-30", "2026-2-1", "20260101", 20260101, None, "2026-01-01T00:00"):
        assert parse_date(bad) is None
