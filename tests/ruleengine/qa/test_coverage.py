"""`ruleengine test --coverage`: rule conditions seen true and false, unread table rows, exact minimum."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

from typer.testing import CliRunner

import ruleengine
from ruleengine.cli import app
from ruleengine.qa.coverage import Coverage, format_percent
from ruleengine.trace import TraceEntry

CUSTOMER = "{id: c-1, country: %s, tier: gold, email_verified: true, member_since: 2024-01-01}"
ORDER = "{currency: USD, items: [{sku: %s, quantity: 1, unit_price: 10.00}]}"


def case(name: str, country: str, sku: str, as_of: str = "2026-03-15") -> str:
    return f"""\
  - name: {name}
    decision: checkout
    as_of: {as_of}
    input: {{customer: {CUSTOMER % country}, order: {ORDER % sku}}}
    expect: {{result: {{}}}}
"""


def test_coverage_report(cli: CliRunner, suite: Callable[..., Path]) -> None:
    suite("cases:\n" + case("served", "US", "MUG-1") + case("not served", "JP", "KNIFE-9"))
    result = cli.invoke(app, ["test", "rules", "--coverage"])
    assert result.exit_code == 0, result.output
    out = result.output
    lines = out.splitlines()
    row = next(
        line
        for line in lines
        if "checkout_blockers.country_not_served" in line and "2026-01" in line
    )
    assert row.split()[:6] == [
        "ok",
        "checkout_blockers.country_not_served",
        "true",
        "1",
        "false",
        "1",
    ]
    row = next(
        line for line in lines if "checkout_blockers.email_unverified" in line and "2026-01" in line
    )
    assert row.startswith("    MISSING") and row.endswith("(never true)")
    # checkout never calls shipping_method: neither outcome was seen
    row = next(
        line for line in lines if "shipping_method.standard_available" in line and "2026-01" in line
    )
    assert row.endswith("(never true, never false)")
    never = out.split("Rules never fired:\n")[1].split("Table rows")[0]
    assert (
        "example 2026-01 checkout_blockers.email_unverified  rules/example/2026-01/rules.yaml:21"
        in never
    )
    assert "checkout_blockers.country_not_served  rules/example/2026-01" not in never
    assert "example 2026-07 checkout_blockers.country_not_served" in never  # no case ran 2026-07
    unread = out.split("Table rows and items never read:\n")[1]
    assert (
        "example 2026-01 shipping_countries (rules/example/2026-01/tables.yaml): [CA] :4, [GB] :4"
        in unread
    )
    assert (
        "example 2026-01 blocked_skus (rules/example/2026-01/tables.yaml): [FIREWORKS-1] :7\n"
        in unread
    )
    assert "[USD, express] :22" in unread
    # 2026-01: country_not_served and blocked_item both ways, email_unverified and
    # empty_order false only -> 6 of the 20 outcomes of both versions
    assert "Rule coverage: 6 of 20 condition outcomes seen (30.00%)" in out
    assert lines[-1] == "2 passed, 0 failed"


def test_coverage_min_is_exact(cli: CliRunner, suite: Callable[..., Path]) -> None:
    suite("cases:\n" + case("served", "US", "MUG-1") + case("not served", "JP", "KNIFE-9"))
    ok = cli.invoke(app, ["test", "rules", "--coverage-min", "30"])
    assert ok.exit_code == 0, ok.output
    low = cli.invoke(app, ["test", "rules", "--coverage-min", "30.0001"])
    assert low.exit_code == 1
    assert "FAILED coverage 30.00% is below --coverage-min 30.0001" in low.output
    assert low.output.splitlines()[-1] == "2 passed, 0 failed"
    bad = cli.invoke(app, ["test", "rules", "--coverage-min", "lots"])
    assert bad.exit_code == 2


def test_percent_is_never_rounded_up() -> None:
    assert format_percent(Fraction(100)) == "100%"
    assert format_percent(Fraction(99999, 1000)) == "99.99%"
    assert format_percent(Fraction(1999, 20)) == "99.95%"
    assert format_percent(Fraction(0)) == "0.00%"


def test_a_rule_an_index_skipped_counts_as_seen_false() -> None:
    engine = ruleengine.load(Path(__file__).resolve().parents[3] / "rules" / "example")
    facts = {
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
    decision, trace = engine.decide_traced("example", "checkout", facts)
    skipped = [e for e in trace if not (type(e) is TraceEntry and e.rule == "blocked_item")]
    coverage = Coverage(engine.ruleset("example").versions)
    coverage.record(decision, skipped)
    rules = {(r.version, r.rule): r for r in coverage.report().rules}
    assert (
        rules["2026-01", "blocked_item"].seen_true,
        rules["2026-01", "blocked_item"].seen_false,
    ) == (0, 1)
    assert (
        rules["2026-01", "country_not_served"].seen_true,
        rules["2026-01", "empty_order"].seen_true,
    ) == (1, 1)
    assert rules["2026-07", "blocked_item"].seen_false == 0


def test_after_the_first_hit_rules_are_not_reached() -> None:
    engine = ruleengine.load(Path(__file__).resolve().parents[3] / "rules" / "example")
    facts = {
        "as_of": "2026-03-15",
        "customer": {
            "id": "c",
            "country": "US",
            "tier": "gold",
            "email_verified": True,
            "member_since": "2024-01-01",
        },
        "order": {"currency": "USD", "items": [{"sku": "A", "quantity": 1, "unit_price": "1.00"}]},
    }
    decision, trace = engine.decide_traced("example", "quote", facts)
    coverage = Coverage(engine.ruleset("example").versions)
    coverage.record(decision, trace)
    rule = next(
        r
        for r in coverage.report().rules
        if r.version == "2026-01" and r.rule == "standard_available"
    )
    assert (rule.seen_true, rule.seen_false) == (1, 0)
