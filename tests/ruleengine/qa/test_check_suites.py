"""`ruleengine check` covers suite files with the same positioned errors as rule files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from typer.testing import CliRunner

from ruleengine.cli import app

BROKEN = """\
ruleset: example
cases:
  - name: no date
    decision: checkout
    input: {}
    expect: {result: {}}
  - name: typos
    decision: chekout
    as_of: 2026-02-30
    version: "2026-08"
    input: {as_of: 2026-01-01}
    expect: {result: {allowed: true}, versoin: "2026-01"}
  - name: fine
    decision: checkout
    as_of: 2026-03-01
    input: {}
    expect: {error: {code: required}}
  - name: fine
    decision: quote
    as_of: 2026-03-01
    input: {}
    expect: {error: {code: required}}
"""


def test_clean_suites(cli: CliRunner, suite: Callable[..., Path]) -> None:
    suite(
        BROKEN.split("  - name: typos")[0].replace(
            "    input: {}\n", "    as_of: 2026-03-01\n    input: {}\n"
        )
    )
    result = cli.invoke(app, ["check", "rules"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "ok: 1 rule set(s), 2 version(s), 4 decision(s), 10 rule(s) checked under rules",
        "ok: 1 suite file(s), 1 case(s) checked under rules",
        # the copy leaves versions.lock behind
        "note: no versions.lock, every version served as it is: example; `ruleengine publish "
        "--ruleset NAME` adopts publishing (`--allow-backdated` for versions already in effect)",
    ]


def test_broken_suite_positions(cli: CliRunner, suite: Callable[..., Path]) -> None:
    suite(BROKEN)
    result = cli.invoke(app, ["check", "rules"])
    assert result.exit_code == 1
    out = result.output
    headlines = [line for line in out.splitlines() if ": error[" in line]
    assert headlines == [
        "rules/example/tests/cases.yaml:3:5: error[schema]: missing required key 'as_of'",
        "rules/example/tests/cases.yaml:12:39: error[schema]: unknown key 'versoin'",
        "rules/example/tests/cases.yaml:18:11: error[duplicate_name]: duplicate case name 'fine' (first at line 13)",
    ]
    assert "hint: every case states the date it is decided on" in out
    assert (
        '  12 |     expect: {result: {allowed: true}, versoin: "2026-01"}\n     |                                       ^'
        in out
    )


def test_semantic_errors_once_the_schema_fits(cli: CliRunner, suite: Callable[..., Path]) -> None:
    suite(BROKEN.replace(', versoin: "2026-01"', ', version: "2026-13"'))
    result = cli.invoke(app, ["check", "rules/example/tests/cases.yaml"])
    assert result.exit_code == 1
    headlines = [line for line in result.output.splitlines() if ": error[" in line]
    assert headlines == [
        "rules/example/tests/cases.yaml:3:5: error[schema]: missing required key 'as_of'",
        "rules/example/tests/cases.yaml:8:15: error[unknown_decision]: rule set 'example' has no decision 'chekout'",
        "rules/example/tests/cases.yaml:9:12: error[bad_date]: as_of '2026-02-30' is not a date",
        "rules/example/tests/cases.yaml:10:14: error[unknown_version]: rule set 'example' has no version '2026-08'",
        "rules/example/tests/cases.yaml:11:13: error[duplicate_as_of]: as_of belongs to the case, not to its input",
        "rules/example/tests/cases.yaml:12:48: error[unknown_version]: rule set 'example' has no version '2026-13'",
        "rules/example/tests/cases.yaml:18:11: error[duplicate_name]: duplicate case name 'fine' (first at line 13)",
    ]
    assert "hint: did you mean 'checkout'?" in result.output


def test_json_format_lists_suite_errors(cli: CliRunner, suite: Callable[..., Path]) -> None:
    suite("- name: x\n  decision: checkout\n  input: {}\n  expect: {result: {}}\n")
    result = cli.invoke(app, ["check", "rules", "--format", "json"])
    assert result.exit_code == 1
    assert '"file": "rules/example/tests/cases.yaml"' in result.output
    assert '"line": 1' in result.output
