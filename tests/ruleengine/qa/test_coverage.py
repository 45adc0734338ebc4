"""`ruleengine test --coverage`: conditions, expression branches and table rows, the report
(scenarios in coverage_cases.yaml), the exact minimum, and the JSON and Cobertura outputs."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

import ruleengine
from ruleengine.cli import app
from ruleengine.qa.coverage import Coverage, format_percent
from ruleengine.trace import TraceEntry

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
CASES = yaml.safe_load((HERE / "coverage_cases.yaml").read_text("utf-8"))
SCHEMA = json.loads((ROOT / "schemas" / "coverage.schema.json").read_text("utf-8"))


def _printed_in_order(wanted: list[str], printed: list[str]) -> str | None:
    """None if every wanted line is printed, in order; else the first one missing."""
    at = 0
    for line in wanted:
        while at < len(printed) and printed[at] != line:
            at += 1
        if at == len(printed):
            return line
        at += 1
    return None


@pytest.mark.parametrize("scenario", CASES["scenarios"], ids=lambda s: s["name"])
def test_coverage_report(
    cli: CliRunner, suite: Callable[..., Path], rules: Path, scenario: dict[str, Any]
) -> None:
    suite(yaml.safe_dump(scenario["suite"]))
    for file, old, new in scenario.get("edits", []):
        path = rules / "example" / file
        text = path.read_text("utf-8")
        assert old in text, f"{file} has no {old!r}"
        path.write_text(text.replace(old, new), "utf-8")
    result = cli.invoke(app, ["test", "rules", *scenario["args"]])
    assert result.exit_code == scenario["exit"], result.output
    missing = _printed_in_order(scenario["lines"], result.output.splitlines())
    assert missing is None, f"not printed: {missing!r}\n{result.output}"
    for text in scenario.get("absent", []):
        assert text not in result.output


def test_nothing_is_listed_twice(cli: CliRunner, suite: Callable[..., Path]) -> None:
    suite(yaml.safe_dump(CASES["suites"]["two_checkouts"]))
    out = cli.invoke(app, ["test", "rules", "--coverage"]).output
    details = out.split("Missing:\n")[1].split("Coverage total:")[0].splitlines()
    places = [line.split()[0] for line in details if line.startswith("    rules/")]
    assert places and len(places) == len(set(places))


def test_json_report_fits_its_schema_and_the_text(
    cli: CliRunner, suite: Callable[..., Path], rules: Path
) -> None:
    suite(yaml.safe_dump(CASES["suites"]["two_checkouts"]))
    out = rules.parent / "coverage.json"
    result = cli.invoke(app, ["test", "rules", "--coverage-json", str(out), "--coverage-min", "12"])
    assert result.exit_code == 1
    document = json.loads(out.read_text("utf-8"))
    jsonschema.validate(document, SCHEMA)
    assert document["passed"] is False and document["minimum"] == 12
    # 2026-01 reaches 12% on every measure; 2026-07, which no case decided, does not
    assert [v["passed"] for v in document["versions"]] == [True, False]
    assert document["totals"]["branches"] == {"covered": 7, "total": 60, "percent": 11.66}
    first, second = document["versions"]
    assert (first["version"], first["replaces"], first["decided"]) == ("2026-01", None, 2)
    assert (second["version"], second["replaces"], second["decided"]) == ("2026-07", "2026-01", 0)
    rule = next(r for r in first["rules"] if r["rule"] == "country_not_served")
    assert (rule["seen_true"], rule["seen_false"], rule["line"]) == (1, 1, 18)
    row = next(
        r for r in first["rows"] if r["table"] == "shipping_rates" and r["key"][1] == "express"
    )
    assert row == {
        "table": "shipping_rates",
        "key": ["USD", "express"],
        "file": "rules/example/2026-01/tables.yaml",
        "line": 22,
        "reads": 0,
    }
    site = next(b for b in first["branch_sites"] if b["text"] == "if len(reasons) == 0")
    assert (site["kind"], site["owner"], site["line"], site["column"]) == (
        "if",
        "decision checkout output remedy",
        13,
        9,
    )
    assert site["outcomes"] == [{"outcome": "then", "count": 1}, {"outcome": "else", "count": 1}]
    # every missing entry of the text report is in the JSON one
    texts = {m["text"] for m in first["missing"]}
    assert "rule checkout_blockers/email_unverified: never true" in texts


def test_cobertura_shows_the_rule_files(
    cli: CliRunner, suite: Callable[..., Path], rules: Path
) -> None:
    suite(yaml.safe_dump(CASES["suites"]["two_checkouts"]))
    out = rules.parent / "coverage.xml"
    result = cli.invoke(app, ["test", "rules", "--coverage-cobertura", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text("utf-8")
    assert "cobertura.sourceforge.net/xml/coverage-04.dtd" in text
    root = ET.fromstring(text)  # well-formed
    assert root.tag == "coverage"
    assert [s.text for s in root.iter("source")] == [str(rules.parent)]
    packages = {p.get("name"): p for p in root.iter("package")}
    assert list(packages) == ["example@2026-01", "example@2026-07"]
    classes = {c.get("filename"): c for c in packages["example@2026-01"].iter("class")}
    assert set(classes) == {
        f"rules/example/2026-01/{name}.yaml" for name in ("decisions", "rules", "tables")
    }
    assert all((rules.parent / name).is_file() for name in classes)
    lines = {
        int(x.get("number")): x for x in classes["rules/example/2026-01/rules.yaml"].iter("line")
    }
    # country_not_served (line 18) seen both ways; email_unverified (21) only false
    assert lines[18].attrib == {
        "number": "18",
        "hits": "2",
        "branch": "true",
        "condition-coverage": "100% (2/2)",
    }
    assert lines[21].get("condition-coverage") == "50% (1/2)"
    assert lines[37].get("hits") == "0"  # standard_available: never evaluated
    tables = {
        int(x.get("number")): x for x in classes["rules/example/2026-01/tables.yaml"].iter("line")
    }
    # the set's items share line 4: it is covered only if all of them were read
    assert tables[4].get("hits") == "0" and tables[4].get("branch") == "false"
    # the totals agree with the text report: 6 + 7 outcomes of 10 + 30 in 2026-01
    assert packages["example@2026-01"].get("branch-rate") == f"{13 / 40:.4f}".rstrip("0")
    assert root.get("branches-valid") == str(20 + 60)
    assert root.get("branches-covered") == str(6 + 7)


def test_coverage_options_are_checked(cli: CliRunner, suite: Callable[..., Path]) -> None:
    suite(yaml.safe_dump(CASES["suites"]["two_checkouts"]))
    bad = cli.invoke(app, ["test", "rules", "--coverage-min", "lots"])
    assert bad.exit_code == 2
    assert "--coverage-min 'lots' is not a percentage" in bad.output
    over = cli.invoke(app, ["test", "rules", "--coverage-min", "101"])
    assert over.exit_code == 2


def test_percent_is_never_rounded_up() -> None:
    assert format_percent(Fraction(100)) == "100%"
    assert format_percent(Fraction(99999, 1000)) == "99.99%"
    assert format_percent(Fraction(1999, 20)) == "99.95%"
    assert format_percent(Fraction(0)) == "0.00%"
    assert format_percent(None) == "-"


FACTS = {
    "as_of": "2026-03-15",
    "customer": {
        "id": "c",
        "country": "JP",
        "tier": "gold",
        "email_verified": True,
        "member_since": "2024-01-01",
    },
    "order": {"currency": "USD", "items": []},
}


def _rules_of(coverage: Coverage, version: str) -> dict[str, Any]:
    (found,) = [v for v in coverage.report().versions if v.version == version]
    return {r.rule: r for r in found.rules}


def test_a_rule_an_index_skipped_counts_as_seen_false() -> None:
    engine = ruleengine.load(ROOT / "rules" / "example")
    decision, trace = engine.decide_traced("example", "checkout", FACTS)
    skipped = [e for e in trace if not (type(e) is TraceEntry and e.rule == "blocked_item")]
    coverage = Coverage(engine.ruleset("example").versions)
    coverage.record(decision, skipped)
    rules = _rules_of(coverage, "2026-01")
    assert (rules["blocked_item"].seen_true, rules["blocked_item"].seen_false) == (0, 1)
    assert (rules["country_not_served"].seen_true, rules["empty_order"].seen_true) == (1, 1)
    assert _rules_of(coverage, "2026-07")["blocked_item"].seen_false == 0


def test_after_the_first_hit_rules_are_not_reached() -> None:
    engine = ruleengine.load(ROOT / "rules" / "example")
    facts = {
        **FACTS,
        "customer": {**FACTS["customer"], "country": "US"},
        "order": {"currency": "USD", "items": [{"sku": "A", "quantity": 1, "unit_price": "1.00"}]},
    }
    decision, trace = engine.decide_traced("example", "quote", facts)
    coverage = Coverage(engine.ruleset("example").versions)
    coverage.record(decision, trace)
    rule = _rules_of(coverage, "2026-01")["standard_available"]
    assert (rule.seen_true, rule.seen_false) == (1, 0)


def test_json_with_coverage_changed_lists_only_the_changes(
    cli: CliRunner, suite: Callable[..., Path], rules: Path
) -> None:
    suite(yaml.safe_dump(CASES["suites"]["july"]))
    out = rules.parent / "coverage.json"
    args = ["test", "rules", "--coverage-changed", "--coverage-json", str(out)]
    result = cli.invoke(app, [*args, "--coverage-min", "50"])
    assert result.exit_code == 1  # 2026-01, counted whole, was decided by no case
    document = json.loads(out.read_text("utf-8"))
    jsonschema.validate(document, SCHEMA)
    assert document["changed_only"] is True
    first, july = document["versions"]
    assert (first["passed"], july["passed"]) == (False, True)
    # July changed two rows of 2026-01's tables and nothing else
    assert july["rules"] == [] and july["branch_sites"] == []
    assert [(r["table"], r["key"], r["reads"]) for r in july["rows"]] == [
        ("shipping_countries", ["ES"], 1),
        ("tier_discounts", ["platinum"], 0),
    ]
    assert july["table_rows"] == {"covered": 1, "total": 2, "percent": 50.0}
    assert len(first["rules"]) == 5 and first["decided"] == 0
