"""`ruleengine test`: running suites, failure output, -k, -x, exit codes, JUnit XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

from typer.testing import CliRunner

from ruleengine.cli import app

US_GOLD = "{id: c-1, country: US, tier: gold, email_verified: true, member_since: 2024-01-01}"
MUGS = "{currency: USD, items: [{sku: MUG-1, quantity: 2, unit_price: 19.99}, {sku: TEE-4, quantity: 1, unit_price: 5.00}]}"

PASSING = f"""\
cases:
  - name: gold quote
    decision: quote
    as_of: 2026-03-15
    input: {{customer: {US_GOLD}, order: {MUGS}}}
    expect:
      version: "2026-01"
      result: {{subtotal: "44.98", discount: 2.25, total: "47.72", lines: [{{sku: MUG-1, quantity: 2, amount: "39.98"}}, {{sku: TEE-4, quantity: 1, amount: "5.00"}}]}}
  - name: checkout allowed
    decision: checkout
    as_of: 2026-03-15
    input: {{customer: {US_GOLD}, order: {MUGS}}}
    expect:
      result: {{allowed: true, reasons: []}}
  - name: unknown tier rejected
    decision: checkout
    as_of: 2026-03-15
    input: {{customer: {{id: c-1, country: US, tier: diamond, email_verified: true, member_since: 2024-01-01}}, order: {MUGS}}}
    expect:
      error: {{code: enum, path: input.customer.tier}}
  - name: too early
    decision: checkout
    as_of: 2025-12-31
    input: {{customer: {US_GOLD}, order: {MUGS}}}
    expect:
      error: {{code: no_version_in_effect}}
"""

FAILING = f"""\
cases:
  - name: digits matter
    decision: quote
    as_of: 2026-03-15
    input: {{customer: {US_GOLD}, order: {MUGS}}}
    expect:
      result: {{total: "47.7", discount: "2.25", shipping_fee: 4.99}}
  - name: wrong nested and list
    decision: quote
    as_of: 2026-03-15
    input: {{customer: {US_GOLD}, order: {MUGS}}}
    expect:
      result: {{lines: [{{sku: MUG-1, quantity: 2, amount: "39.98"}}], currency: EUR, nope: 1}}
  - name: expected an error
    decision: checkout
    as_of: 2026-03-15
    input: {{customer: {US_GOLD}, order: {MUGS}}}
    expect:
      error: {{code: enum, path: input.customer.tier}}
  - name: wrong error path
    decision: checkout
    as_of: 2026-03-15
    input: {{customer: {{id: c-1, country: US, tier: diamond, email_verified: true, member_since: 2024-01-01}}, order: {MUGS}}}
    expect:
      error: {{code: enum, path: input.customer.country}}
  - name: passes anyway
    decision: checkout
    as_of: 2026-07-02
    input: {{customer: {{id: c-1, country: ES, tier: gold, email_verified: true, member_since: 2024-01-01}}, order: {MUGS}}}
    expect:
      version: "2026-07"
      result: {{allowed: true}}
  - name: skipped one
    skip: waiting for the new tier
    decision: checkout
    as_of: 2026-03-15
    input: {{customer: {US_GOLD}, order: {MUGS}}}
    expect:
      result: {{allowed: false}}
"""


def test_passing_suite(cli: CliRunner, suite: Callable[..., Path]) -> None:
    suite(PASSING)
    result = cli.invoke(app, ["test", "rules"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "rules/example/tests/cases.yaml ...."
    assert lines[-1] == "4 passed, 0 failed"


def test_failures_are_listed_with_file_line_and_a_field_diff(
    cli: CliRunner, suite: Callable[..., Path]
) -> None:
    suite(FAILING)
    result = cli.invoke(app, ["test", "rules"])
    assert result.exit_code == 1
    out = result.output
    assert "rules/example/tests/cases.yaml FFFF.s" in out
    assert "FAILED rules/example/tests/cases.yaml:2: digits matter\n" in out
    # decimals compare by value and digits; a number 4.99 is fine against the decimal 4.99
    assert '    result.total: expected "47.7", got "47.72"\n' in out
    assert "result.shipping_fee" not in out and "result.discount" not in out
    assert "FAILED rules/example/tests/cases.yaml:8: wrong nested and list" in out
    assert (
        '    result.lines: expected [{"sku": "MUG-1", "quantity": 2, "amount": "39.98"}], got ['
        in out
    )
    assert '    result.currency: expected "EUR", got "USD"' in out
    assert "    result.nope: expected 1, got (missing)" in out
    assert "FAILED rules/example/tests/cases.yaml:14: expected an error" in out
    assert (
        "expected the request to be rejected (code enum at input.customer.tier), but it was decided"
        in out
    )
    assert "the request was rejected, but not with the expected problems" in out
    assert (
        '    error: expected [{"code": "enum", "path": "input.customer.country"}], got [{"code": "enum", "path": "input.customer.tier"}]'
        in out
    )
    assert out.splitlines()[-1] == "1 passed, 4 failed, 1 skipped"


def test_k_filters_by_name_and_x_stops_at_first_failure(
    cli: CliRunner, suite: Callable[..., Path]
) -> None:
    suite(FAILING)
    result = cli.invoke(app, ["test", "rules", "-k", "PASSES"])
    assert result.exit_code == 0
    assert result.output.splitlines()[-1] == "1 passed, 0 failed, 5 deselected"
    result = cli.invoke(app, ["test", "rules", "-x"])
    assert result.exit_code == 1
    assert result.output.count("FAILED") == 1
    assert result.output.splitlines()[-1] == "0 passed, 1 failed"
    result = cli.invoke(app, ["test", "rules", "-k", "no such case"])
    assert result.exit_code == 5


def test_one_suite_file_or_tests_folder(cli: CliRunner, suite: Callable[..., Path]) -> None:
    suite(FAILING, "failing.yaml")
    path = suite(PASSING, "passing.yaml")
    assert cli.invoke(app, ["test", str(path)]).exit_code == 0
    result = cli.invoke(app, ["test", "rules/example/tests"])
    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == "5 passed, 4 failed, 1 skipped"


def test_broken_suite_is_an_error_with_position(cli: CliRunner, suite: Callable[..., Path]) -> None:
    suite(PASSING, "good.yaml")
    suite(
        "- name: no date\n  decision: checkout\n  input: {}\n  expect: {result: {}}\n", "bad.yaml"
    )
    result = cli.invoke(app, ["test", "rules"])
    assert result.exit_code == 1
    assert (
        "rules/example/tests/bad.yaml:1:3: error[schema]: missing required key 'as_of'"
        in result.output
    )
    assert result.output.splitlines()[-1] == "4 passed, 0 failed, 1 error"


def test_junit_xml(cli: CliRunner, suite: Callable[..., Path], tmp_path: Path) -> None:
    suite(FAILING)
    suite("- name: x\n  decision: checkout\n  input: {}\n  expect: {result: {}}\n", "bad.yaml")
    report = tmp_path / "out" / "junit.xml"
    result = cli.invoke(app, ["test", "rules", "--junit", str(report)])
    assert result.exit_code == 1
    root = ET.parse(report).getroot()
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == (
        "7",
        "4",
        "1",
        "1",
    )
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    cases = suites["rules/example/tests/cases.yaml"]
    assert (cases.get("tests"), cases.get("failures"), cases.get("skipped")) == ("6", "4", "1")
    by_name = {c.get("name"): c for c in cases.iter("testcase")}
    assert by_name["digits matter"].get("classname") == "example.quote"
    assert by_name["digits matter"].get("line") == "2"
    failure = by_name["digits matter"].find("failure")
    assert failure is not None
    assert failure.get("message") == 'result.total: expected "47.7", got "47.72"'
    assert "rules/example/tests/cases.yaml:2: digits matter" in (failure.text or "")
    assert by_name["passes anyway"].find("failure") is None
    skipped = by_name["skipped one"].find("skipped")
    assert skipped is not None and skipped.get("message") == "waiting for the new tier"
    error = suites["rules/example/tests/bad.yaml"].find("testcase/error")
    assert error is not None and "missing required key 'as_of'" in (error.get("message") or "")


def test_rule_file_errors_stop_the_run(
    cli: CliRunner, suite: Callable[..., Path], rules: Path
) -> None:
    suite(PASSING)
    (rules / "example" / "2026-07" / "rules.yaml").write_text("rules: [", "utf-8")
    result = cli.invoke(app, ["test", "rules"])
    assert result.exit_code == 1
    assert "rules/example/2026-07/rules.yaml:2:1: error[yaml_syntax]" in result.output
    assert result.output.splitlines()[-1] == "0 passed, 0 failed, 1 error"


def test_plain_output_when_not_a_terminal(cli: CliRunner, suite: Callable[..., Path]) -> None:
    suite(PASSING)
    result = cli.invoke(app, ["test", "rules"])
    assert "\x1b[" not in result.output  # no progress bar, no colours
