"""Phase 4, check: types of expressions against a decision's input and the tables."""

from __future__ import annotations

import json

import pytest

from ruleengine.checker import CheckedVersion, check_version
from ruleengine.errors import RuleFileError
from ruleengine.loader import parse_document
from ruleengine.validate import validate_version

MANIFEST = 'ruleset: t\nversion: "1"\neffective_from: 2026-01-01\n'
# Every expression under test is the one output of decision `d`, on line 28, column 13.
RULES = """types:
  Item:
    fields:
      sku: string
      qty: int
      price: decimal
      note: string?
tables:
  rates: {map: {a: 0.5, b: 1.5}}
  skus: {set: [A, B]}
  prices:
    key: sku
    columns: {sku: string, price: decimal}
    rows: [[A, 1.00]]
decisions:
  d:
    input:
      n: int
      m: int?
      x: decimal
      s: string
      o: string?
      day: date
      plan: {enum: [basic, pro]}
      items: list<Item>
      item: Item?
    output:
      out: %s
"""


def _check(manifest: str = MANIFEST, **files: str) -> CheckedVersion:
    docs = [parse_document(text, f"{name}.yaml") for name, text in files.items()]
    model = validate_version(parse_document(manifest, "manifest.yaml"), docs, ".")
    return check_version(model)


def type_of(expr: str) -> str:
    checked = _check(r=RULES % json.dumps(expr))
    [(_name, _node, t)] = checked.decisions["d"].outputs
    return str(t)


def problems(expr: str) -> list[tuple[str, int, int, str, str | None]]:
    with pytest.raises(RuleFileError) as caught:
        type_of(expr)
    return [(d.code, d.line, d.column, d.message, d.hint) for d in caught.value.diagnostics]


def problem(expr: str) -> tuple[str, int, str, str | None]:
    """The single problem of an expression: code, column, message, hint."""
    [(code, line, column, message, hint)] = problems(expr)
    assert line == 28
    return code, column, message, hint


NULL_HINT = "handle null first: `x ?? default` or `if x != null then ... else ...`"


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("n + 1", "int"),
        ("n * 2 - 1", "int"),
        ("n % 2", "int"),
        ("n + x", "decimal"),
        ("n / 2", "decimal"),
        ("1.5 * n", "decimal"),
        ("s + s", "string"),
        ("[1, 2.5]", "list<decimal>"),
        ("[]", "list<never>"),
        ("{1, 2}", "set<int>"),
        ("{a: 1, b: s}", "{a: int, b: string}"),
        ("{[s]: 1}", "map<string, int>"),
        ("null", "null"),
        ("as_of", "date"),
        ("locale", "string"),
        ('date("2026-01-01") < day', "bool"),
        ("days(day, as_of)", "int"),
        ("add_months(day, n)", "date"),
        ("round_money(x, 2)", "decimal"),
        ("min(n, x)", "decimal"),
        ("len(items)", "int"),
        ("s in skus", "bool"),
        ("s not in skus", "bool"),
        ("rates[s]", "decimal?"),
        ("prices[s]", "{sku: string, price: decimal}?"),
        ("items[0]", "Item?"),
        ("if n > 1 then 1 else 2.5", "decimal"),
        ("if n > 1 then n else null", "int?"),
        ("any(i in items, i.qty > 1)", "bool"),
        ("all(i in items, i.note != null)", "bool"),
        ("map(i in items, i.price)", "list<decimal>"),
        ("filter(i in items, i.qty > 1)", "list<Item>"),
        ("first(i in items, i.qty > 1)", "Item?"),
        ("count(i in items, i.qty > 1)", "int"),
        ("sum(i in items, i.qty)", "int"),
        ("sum(i in items, i.price * i.qty)", "decimal"),
        ("to_map(i in items, i.sku, i.qty)", "map<string, int>"),
        ("map(i in prices, i.sku)", "list<string>"),
    ],
)
def test_types_of_expressions(expr: str, expected: str) -> None:
    assert type_of(expr) == expected


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        # Optional values: `??`, `?.` and narrowing through `!= null`, `and`, `or`, `if`.
        ("m ?? 0", "int"),
        ("(m ?? 0) > 0", "bool"),
        ("if m != null then m + 1 else 0", "int"),
        ("if m == null then 0 else m + 1", "int"),
        ("if not (m == null) then m else 0", "int"),
        ("m != null and m > 1", "bool"),
        ("m == null or m + 1 > 2", "bool"),
        ("item?.sku", "string?"),
        ("item?.note", "string?"),
        ('item?.sku ?? ""', "string"),
        ('item != null and item.sku == "A"', "bool"),
        ("if item != null then item.qty else 0", "int"),
        ("prices[s]?.price ?? 0", "decimal"),
        ("prices[s] != null and prices[s].price > 1", "bool"),
        ("m == null", "bool"),
        # Division: a non-zero literal, or a divisor narrowed by `!= 0` / `> 0`.
        ("x / 2", "decimal"),
        ("if n != 0 then x / n else 0", "decimal"),
        ("if n > 0 then x / n else 0", "decimal"),
        ("n != 0 and x / n > 1", "bool"),
        ("n == 0 or x / n > 1", "bool"),
        ("if m != null and m >= 1 then x / m else 0", "decimal"),
        # Enum values are checked only against literals that can never match.
        ('plan == "pro"', "bool"),
        ('plan in ["basic", "pro"]', "bool"),
    ],
)
def test_optional_and_division_narrowing(expr: str, expected: str) -> None:
    assert type_of(expr) == expected


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("m + 1", ("optional_value", 13, "`m` may be null; it cannot be used in `+`", NULL_HINT)),
        ("m > 1", ("optional_value", 13, "`m` may be null; it cannot be ordered", NULL_HINT)),
        (
            "if m > 0 then x / m else 0",
            ("optional_value", 16, "`m` may be null; it cannot be ordered", NULL_HINT),
        ),
        ("len(o)", ("optional_value", 17, "argument `o` of len() may be null", NULL_HINT)),
        ("upper(o)", ("optional_value", 19, "argument `o` of upper() may be null", NULL_HINT)),
        (
            "item.sku",
            (
                "optional_value",
                13,
                "`item` may be null; check it before reading `.sku`",
                "write `item?.sku` (null when it is null), or check `item != null` first",
            ),
        ),
        (
            "prices[s].price",
            (
                "optional_value",
                13,
                "`prices[s]` may be null; check it before reading `.price`",
                "write `prices[s]?.price` (null when it is null), or check `prices[s] != null` first",
            ),
        ),
        ("s?.x", ("type_mismatch", 13, "`s` is never null; write `.x`, not `?.x`", None)),
        (
            "x / n",
            (
                "division_by_zero",
                17,
                "`n` may be zero",
                "guard the division: `if n != 0 then ... else ...`",
            ),
        ),
        (
            "m != null and x / m > 1",
            (
                "division_by_zero",
                31,
                "`m` may be zero",
                "guard the division: `if m != 0 then ... else ...`",
            ),
        ),
        ("1 / 0", ("division_by_zero", 17, "division by zero", None)),
        ("x / 0.0", ("division_by_zero", 17, "division by zero", None)),
        ("n % 0", ("division_by_zero", 17, "division by zero", None)),
        ("x % 2", ("type_mismatch", 13, "`%` needs ints, got decimal and int", None)),
        (
            'n == "three"',
            (
                "type_mismatch",
                13,
                "cannot compare int with string: they are never equal",
                "numbers are written without quotes",
            ),
        ),
        ('x > "a"', ("type_mismatch", 13, "cannot order decimal and string with `>`", None)),
        ("day + 1", ("type_mismatch", 13, "`+` needs numbers, got date and int", None)),
        # The expression is written double-quoted (json.dumps): a string literal starts at
        # the backslash of its escaped quote.
        ('[1, "a"]', ("type_mismatch", 17, "list items must share one type: int and string", None)),
        ("not n", ("type_mismatch", 13, "`not` needs a bool, got int", None)),
        ("-s", ("type_mismatch", 13, "`-` needs a number, got string", None)),
        (
            "if n then 1 else 2",
            ("type_mismatch", 16, "the condition of `if` must be a bool, got int", None),
        ),
        (
            'if true then 1 else "a"',
            (
                "type_mismatch",
                13,
                "the branches of `if` have different types: int and string",
                None,
            ),
        ),
        (
            "o ?? 1",
            ("type_mismatch", 13, "`??` needs a default of the same type: string and int", None),
        ),
        (
            "all(i in items, i.qty)",
            ("type_mismatch", 29, "the condition of all() must be a bool, got int", None),
        ),
        ("len", ("type_mismatch", 13, "'len' is a function; call it: len(...)", None)),
        (
            'plan == "prp"',
            ("not_in_enum", 21, "'prp' is never a value of `plan` (one of: basic, pro)", None),
        ),
        (
            'plan in ["basic", "bsic"]',
            (
                "not_in_enum",
                33,
                "'bsic' is never a value of `plan` (one of: basic, pro)",
                "did you mean `basic`?",
            ),
        ),
        (
            "round_money(x)",
            (
                "arity",
                13,
                "round_money() takes 2 argument(s), got 1",
                "round_money(x: decimal, digits: int) -> decimal",
            ),
        ),
        (
            "any(i in items)",
            ("arity", 13, "any() binds a variable: any(x in xs, cond) -> bool", None),
        ),
        (
            'prices[s, "x"]',
            ("arity", 13, "table 'prices' is keyed by 1 column(s), got 2 key(s)", None),
        ),
        (
            "any(n in items, true)",
            ("duplicate_name", 13, "'n' is already a name here; pick another variable name", None),
        ),
        ("plann", ("unknown_name", 13, "unknown name 'plann'", "did you mean `plan`?")),
        ("pricez[s]", ("unknown_name", 13, "unknown name 'pricez'", "did you mean `prices`?")),
        ("lenn(items)", ("unknown_function", 13, "unknown function 'lenn'", "did you mean `len`?")),
        (
            "map(i in items, i.prise)",
            ("unknown_field", 29, "Item has no field 'prise'", "did you mean `price`?"),
        ),
        (
            "map(i in items, i.zzz)",
            ("unknown_field", 29, "Item has no field 'zzz'", "its fields: sku, qty, price, note"),
        ),
    ],
)
def test_type_errors(expr: str, expected: tuple[object, ...]) -> None:
    assert problem(expr) == expected


def test_one_mistake_is_reported_once() -> None:
    # The unknown name poisons the expression; no follow-on errors at each use.
    assert [p[0] for p in problems("(itemz + 1) * 2 > len(itemz)")] == [
        "unknown_name",
        "unknown_name",
    ]


GROUPS = """types:
  Order: {fields: {n: int}}
functions:
  f:
    params: {o: Order}
    expr: g(o) + 1
  g:
    params: {o: Order}
    expr: f(o)
  ok:
    params: {o: Order}
    expr: o.n * 2
rules:
  loop:
    params: {o: Order}
    rules:
      - {id: r1, when: len(loop(o)) > 0, then: '1'}
decisions:
  d:
    input: {o: Order}
    output:
      a: f(o)
      b: ok(o)
      c: ok()
"""


def test_recursion_between_functions_and_in_rule_groups_is_refused() -> None:
    with pytest.raises(RuleFileError) as caught:
        _check(r=GROUPS)
    assert [(d.code, d.line, d.column, d.message) for d in caught.value.diagnostics] == [
        ("recursion", 4, 3, "f -> g -> f: functions and rule groups may not call themselves"),
        ("recursion", 14, 3, "loop -> loop: functions and rule groups may not call themselves"),
        ("arity", 24, 10, "ok() takes 1 argument(s), got 0"),
    ]


def test_let_bindings_are_ordered_and_cycles_refused() -> None:
    ordered = _check(
        r="decisions:\n  d:\n    input: {n: int}\n    let:\n      b: a + 1\n      a: n * 2\n"
        "    output:\n      out: b\n"
    )
    assert [name for name, _n, _t in ordered.decisions["d"].lets] == ["a", "b"]
    with pytest.raises(RuleFileError) as caught:
        _check(
            r="decisions:\n  d:\n    input: {n: int}\n    let:\n      a: b\n      b: a\n"
            "    output:\n      out: a\n"
        )
    [d] = caught.value.diagnostics
    assert (d.code, d.line, d.message) == (
        "recursion",
        5,
        "let bindings depend on each other: a -> b -> a",
    )


def test_reasons_need_a_message_in_every_locale() -> None:
    with pytest.raises(RuleFileError) as caught:
        _check(
            MANIFEST + "locales: [en, fr]\n",
            r="reasons:\n  a: {messages: {en: A}}\n  b: {messages: {en: B, de: B}}\n",
        )
    assert [(d.code, d.line, d.message) for d in caught.value.diagnostics] == [
        ("missing_message", 2, "reason 'a' has no 'fr' message"),
        ("missing_message", 3, "reason 'b' has no 'fr' message"),
        (
            "unknown_locale",
            3,
            "reason 'b' has a message in 'de', which is not among the version's locales (en, fr)",
        ),
    ]


def test_rule_groups_and_reasons() -> None:
    checked = _check(
        r="reasons:\n  r: {messages: {en: R}}\nrules:\n  g:\n    params: {n: int}\n    rules:\n"
        "      - {id: a, when: n > 1, reason: r}\n"
        "  h:\n    params: {n: int}\n    hit: first\n    default: '0'\n    rules:\n"
        "      - {id: b, when: n > 1, then: n}\n"
        "decisions:\n  d:\n    input: {n: int}\n    output:\n      g: g(n)\n      h: h(n)\n"
    )
    assert [str(t) for _n, _e, t in checked.decisions["d"].outputs] == ["list<string>", "int"]
    with pytest.raises(RuleFileError) as caught:
        _check(
            r="rules:\n  g:\n    rules:\n      - {id: a, when: '1', reason: nope}\n"
            "      - {id: a, when: 'true', then: '1'}\n"
        )
    assert [(d.code, d.line, d.column, d.message) for d in caught.value.diagnostics] == [
        ("type_mismatch", 4, 24, "`when` must be a bool, got int"),
        ("unknown_reason", 4, 36, "unknown reason code 'nope'"),
        ("duplicate_rule_id", 5, 9, "rule id 'a' is already used at r.yaml:4:9"),
        ("type_mismatch", 5, 38, "rule 'a' gives int, but earlier rules of 'g' give string"),
    ]
    # At the rule's `then`, with the rule that set the type as a note.
    [note] = caught.value.diagnostics[-1].notes
    assert (note.message, note.line, note.column) == ("earlier rules give string here", 4, 36)


def test_example_rules_check_clean() -> None:
    from pathlib import Path

    from ruleengine.loader import load_documents

    root = Path(__file__).resolve().parents[2] / "rules" / "example" / "2026-01"
    files = sorted(root.glob("*.yaml"))
    docs = load_documents((f, f.name) for f in files)
    manifest = next(d for d in docs if d.file == "manifest.yaml")
    checked = check_version(validate_version(manifest, [d for d in docs if d is not manifest], "."))
    assert set(checked.decisions) == {"checkout", "quote"}
    outputs = {name: str(t) for name, _n, t in checked.decisions["quote"].outputs}
    assert outputs["total"] == "decimal"
    assert outputs["average_item_price"] == "decimal?"
