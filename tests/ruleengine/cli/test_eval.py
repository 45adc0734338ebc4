"""`ruleengine eval`: one decision as JSON, exit codes 0 / 1 (rule files) / 2 (request)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from ruleengine.cli import app

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "rules" / "example"
FACTS: dict[str, Any] = {
    "customer": {
        "id": "c-1",
        "country": "US",
        "tier": "gold",
        "email_verified": True,
        "member_since": "2020-01-01",
    },
    "order": {"currency": "USD", "items": [{"sku": "A", "quantity": 3, "unit_price": 16.78}]},
}
# The JSON text keeps 16.78 exact: jsonio parses fractional numbers as Decimal.
FACTS_TEXT = json.dumps(FACTS)


def run(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(app, ["eval", *args], input=stdin)


def eval_json(*args: str, stdin: str | None = None) -> dict[str, Any]:
    result = run(*args, stdin=stdin)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture
def input_file(tmp_path: Path) -> Path:
    path = tmp_path / "order.json"
    path.write_text(FACTS_TEXT, "utf-8")
    return path


def test_eval_from_a_file(input_file: Path) -> None:
    out = eval_json(
        "example",
        "quote",
        "--input",
        str(input_file),
        "--as-of",
        "2026-03-15",
        "--rules",
        str(EXAMPLE),
    )
    assert out["result"] == {
        "currency": "USD",
        "lines": [{"sku": "A", "quantity": 3, "amount": "50.34"}],
        "subtotal": "50.34",
        "discount": "3.52",
        "shipping_method": "standard",
        "shipping_fee": "0.00",
        "total": "46.82",
        "average_item_price": "15.61",
    }
    assert out["ruleset"] == "example"
    assert out["decision"] == "quote"
    assert out["version"] == "2026-01"
    assert out["as_of"] == "2026-03-15"
    assert out["locale"] == "en"
    assert out["content_hash"].startswith("sha256:")
    assert "explanation" not in out


def test_eval_from_stdin_and_as_of_picks_the_version() -> None:
    out = eval_json(
        "example",
        "quote",
        "--input",
        "-",
        "--as-of",
        "2026-07-01",
        "--rules",
        str(EXAMPLE),
        stdin=FACTS_TEXT,
    )
    assert out["version"] == "2026-07"
    assert out["as_of"] == "2026-07-01"
    assert out["result"]["discount"] == "3.52"  # gold is unchanged in July


def test_eval_as_of_in_the_input() -> None:
    text = json.dumps(
        {**FACTS, "as_of": "2026-07-01", "customer": {**FACTS["customer"], "tier": "platinum"}}
    )
    out = eval_json("example", "quote", "--rules", str(EXAMPLE), stdin=text)
    assert (out["version"], out["result"]["discount"]) == ("2026-07", "7.05")  # 50.34 * 0.14


def test_eval_pinned_version() -> None:
    text = json.dumps({**FACTS, "customer": {**FACTS["customer"], "tier": "platinum"}})
    out = eval_json(
        "example",
        "quote",
        "--version",
        "2026-07",
        "--as-of",
        "2026-01-01",
        "--rules",
        str(EXAMPLE),
        stdin=text,
    )
    assert (out["version"], out["as_of"]) == ("2026-07", "2026-01-01")
    assert out["result"]["discount"] == "7.05"


def test_eval_explain() -> None:
    out = eval_json(
        "example",
        "checkout",
        "--explain",
        "--as-of",
        "2026-03-15",
        "--rules",
        str(EXAMPLE),
        stdin=FACTS_TEXT,
    )
    assert out["result"] == {"allowed": True, "reasons": [], "remedy": None, "messages": []}
    rules = [(e["group"], e["rule"], e["fired"]) for e in out["explanation"]]
    assert rules == [
        ("checkout_blockers", r, False)
        for r in ["country_not_served", "email_unverified", "blocked_item", "empty_order"]
    ]
    assert all(
        e["location"].split(":")[0].endswith("2026-01/rules.yaml") for e in out["explanation"]
    )


def test_eval_locale_and_dates_as_iso() -> None:
    text = json.dumps({**FACTS, "customer": {**FACTS["customer"], "email_verified": False}})
    out = eval_json(
        "example",
        "checkout",
        "--locale",
        "fr",
        "--as-of",
        "2026-03-15",
        "--rules",
        str(EXAMPLE),
        stdin=text,
    )
    assert out["locale"] == "fr"
    assert out["result"]["messages"] == ["Veuillez d'abord vérifier votre adresse e-mail."]


def test_eval_whole_rules_folder(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLE, tmp_path / "example")
    out = eval_json(
        "example", "quote", "--as-of", "2026-03-15", "--rules", str(tmp_path), stdin=FACTS_TEXT
    )
    assert out["result"]["total"] == "46.82"


def test_invalid_input_exits_2_and_prints_every_problem() -> None:
    bad = json.dumps(
        {
            "customer": {**FACTS["customer"], "tier": "diamond"},
            "order": {
                "currency": "USD",
                "items": [{"sku": "A", "quantity": 1.5, "unit_price": "1"}],
            },
            "extra": 1,
        }
    )
    result = run("example", "quote", "--as-of", "2026-03-15", "--rules", str(EXAMPLE), stdin=bad)
    assert result.exit_code == 2
    assert result.stdout == ""
    for path in ("input.customer.tier", "input.order.items[0].quantity", "input.extra"):
        assert path in result.stderr
    assert "error[enum]" in result.stderr
    assert "error[unknown_field]" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["example", "qoute"], "did you mean 'quote'?"),
        (["exampel", "quote"], "did you mean 'example'?"),
        (["example", "quote", "--version", "2027-01"], "unknown version '2027-01'"),
    ],
)
def test_unknown_names_exit_2(args: list[str], message: str) -> None:
    result = run(*args, "--as-of", "2026-03-15", "--rules", str(EXAMPLE), stdin=FACTS_TEXT)
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""


def test_no_version_in_effect_exits_2() -> None:
    result = run(
        "example", "quote", "--as-of", "2025-12-31", "--rules", str(EXAMPLE), stdin=FACTS_TEXT
    )
    assert result.exit_code == 2
    assert "no version of 'example' is in effect on 2025-12-31" in result.stderr


@pytest.mark.parametrize(
    ("stdin", "as_of", "message"),
    [
        ("{not json", "2026-03-15", "malformed JSON"),
        ('{"a": NaN}', "2026-03-15", "NaN"),
        (FACTS_TEXT, "2026-02-30", "--as-of '2026-02-30' is not a date"),
        ("[1, 2]", "2026-03-15", "input must be a JSON object"),
    ],
)
def test_bad_requests_exit_2(stdin: str, as_of: str, message: str) -> None:
    result = run("example", "quote", "--as-of", as_of, "--rules", str(EXAMPLE), stdin=stdin)
    assert result.exit_code == 2
    assert message in result.stderr


def test_missing_input_file_exits_2(tmp_path: Path) -> None:
    result = run(
        "example", "quote", "--input", str(tmp_path / "none.json"), "--rules", str(EXAMPLE)
    )
    assert result.exit_code == 2
    assert "cannot read" in result.stderr


def test_rule_file_errors_exit_1(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLE, tmp_path / "example")
    rules = tmp_path / "example" / "2026-01" / "rules.yaml"
    rules.write_text(
        rules.read_text("utf-8").replace(
            "not customer.email_verified", "not customer.email_verifed"
        ),
        "utf-8",
    )
    result = run(
        "example", "quote", "--as-of", "2026-03-15", "--rules", str(tmp_path), stdin=FACTS_TEXT
    )
    assert result.exit_code == 1
    assert "rules.yaml:22:" in result.stderr
    assert "email_verifed" in result.stderr
    assert result.stdout == ""


def derivation_nodes(node: dict[str, Any]) -> list[dict[str, Any]]:
    return [node, *(n for child in node.get("inputs", ()) for n in derivation_nodes(child))]


def test_eval_explain_json_and_tree() -> None:
    args = ["example", "quote", "--explain", "--as-of", "2026-03-15", "--rules", str(EXAMPLE)]
    out = eval_json(*args, "--format", "json", stdin=FACTS_TEXT)
    roots = out["derivation"]["roots"]
    assert [r["label"] for r in roots] == list(out["result"])
    text = run(*args, "--format", "text", stdin=FACTS_TEXT)
    assert text.exit_code == 0, text.output
    assert "derivation" in text.stdout and "rules considered" in text.stdout
    # every node of the JSON is a line of the tree: its label, and where it is written
    shown = [n for r in roots for n in derivation_nodes(r)]
    assert any(n.get("kind") == "row" for n in shown)
    for node in shown:
        assert node["label"] in text.stdout
        if "location" in node:
            where = node["location"]
            assert f"{Path(where['file']).name}:{where['line']}:{where['col']}" in text.stdout


def test_eval_rejects_an_unknown_format() -> None:
    result = run("example", "quote", "--format", "xml", "--rules", str(EXAMPLE), stdin=FACTS_TEXT)
    assert result.exit_code == 2
    assert "--format 'xml'" in result.output
