"""A policy change never needs a change of Python, in the product or in its tests.

A policy owner adds a version as the docs say: copy the newest self-service version
into a new folder with a later effective_from, change a price, add a promotion for
every product (NEWYEAR10) and one for a list of products, drop a country, reword a
reason in en and fr, and write hand-made regression cases for it. Then `check`,
`test`, `publish` and the whole test suite of the policy (pytest's self-service
reference, the rule-suite runner, the guard that keeps policy out of src/, which
reads null and list cells) stay green on the changed rules, with no Python touched.
The pytest run is the real one, pointed at the copy by $RULEENGINE_TEST_RULES.

"All products" is data: a promotions table whose `products` column is a list, null
for every product; `check` refuses a promotions row the table cannot hold.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import ruleengine
from ruleengine.lock import read_lock

from .ruleengine.publishing import (
    ADDSEATS15,
    ROOT,
    copy_rules,
    edit,
    new_version,
    promotions_for_any_products,
)

NEW_PROMOTIONS = """\
      - [ADDSEATS15, [autocad-lt], 0.15, 2026-12-01, 2026-12-31]
      - [NEWYEAR10, null, 0.10, 2027-01-01, 2027-01-31]
      - [TEAMS5, [maya-lt, revit], 0.05, 2027-02-01, 2027-02-28]"""

NEW_YEAR_CASE = """\
# Hand-written for version 2027-01: governed by `ruleengine test` alone.
ruleset: self-service
cases:
  - name: January's annual AutoCAD LT price, bought new
    decision: change_term
    as_of: "2027-01-15"
    input:
      account: {country: US}
      subscription: {id: ACAD-1, product: autocad-lt, plan: subscription, channel: direct,
                     term: monthly, payment_method: card, seats: 2, renewal_date: "2027-03-31",
                     auto_renew: true, status: active, currency: USD}
      new_term: annual
    expect:
      version: "2027-01"
      result:
        eligible: true
        per_seat: "420.00"
        new_purchase_per_seat: "480.00"   # 470 in 2026-12
        total: "840.00"
        savings: "120.00"
  - name: NEWYEAR10 takes 10% off seats added to any product in January
    decision: add_seats
    as_of: "2027-01-15"
    input:
      account: {country: US}
      subscription: {id: MAYA-1, product: maya-lt, plan: subscription, channel: direct,
                     term: annual, payment_method: card, seats: 1, renewal_date: "2027-03-31",
                     auto_renew: true, status: active, currency: USD}
      quantity: 1
    expect:
      version: "2027-01"
      result: {eligible: true, unit_price: "225.00"}   # 250 renewal, less 10%
  - name: TEAMS5 takes 5% off maya-lt and revit in February, not autocad-lt
    decision: add_seats
    as_of: "2027-02-15"
    input:
      account: {country: US}
      subscription: {id: ACAD-2, product: autocad-lt, plan: subscription, channel: direct,
                     term: annual, payment_method: card, seats: 1, renewal_date: "2027-03-31",
                     auto_renew: true, status: active, currency: USD}
      quantity: 1
    expect:
      version: "2027-01"
      result: {eligible: true, unit_price: "420.00"}
  - name: Czech accounts lose self-service in 2027-01, with the new wording
    decision: options
    as_of: "2027-01-15"
    input:
      account: {country: CZ}
      locale: fr
      subscription: {id: MAYA-3, product: maya-lt, plan: subscription, channel: direct,
                     term: annual, payment_method: card, seats: 1, renewal_date: "2027-03-31",
                     auto_renew: true, status: active, currency: EUR}
    expect:
      version: "2027-01"
      result:
        add_seats: {available: false, reasons: [country_unsupported],
                    messages: ["Le libre-service n'est pas encore ouvert dans votre pays."]}
"""


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from ruleengine.cli import main; main()", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


def test_a_new_version_with_a_new_price_needs_no_python(tmp_path: Path) -> None:
    rules = copy_rules(tmp_path)
    folder = new_version(rules)
    promotions_for_any_products(folder, NEW_PROMOTIONS)
    edit(folder / "tables.yaml", "PL, CZ]", "PL]")  # CZ leaves self-service
    for old, new in (
        (
            "Self-service is not available in your country.",
            "Self-service is not open in your country yet.",
        ),
        (
            "Le libre-service n'est pas disponible dans votre pays.",
            "Le libre-service n'est pas encore ouvert dans votre pays.",
        ),
    ):
        edit(folder / "reasons.yaml", old, new)
    (rules / "self-service" / "tests" / "new_year.yaml").write_text(NEW_YEAR_CASE, "utf-8")

    checked = cli("check", str(rules))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = cli("test", str(rules))
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert " 0 failed" in tested.stdout
    published = cli("publish", str(rules), env={"RULEENGINE_TODAY": "2026-12-20"})
    assert published.returncode == 0, published.stdout + published.stderr
    lock = read_lock(rules / "self-service" / "versions.lock")
    assert lock is not None and [v.version for v in lock.versions][-1] == "2027-01"

    suite = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/selfservice",
            "tests/test_rule_suites.py",
            "tests/test_policy_lives_in_rules.py",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "RULEENGINE_TEST_RULES": str(rules)},
    )
    assert suite.returncode == 0, suite.stdout[-4000:] + suite.stderr[-2000:]
    # The copy was tested, the hand-written case included (not skipped, not ignored).
    assert (
        "new_year.yaml"
        in subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "--collect-only",
                "-o",
                "addopts=--import-mode=importlib",
                "-q",
                "tests/test_rule_suites.py",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, "RULEENGINE_TEST_RULES": str(rules)},
        ).stdout
    )


@pytest.mark.parametrize(
    ("row", "says"),
    [
        ("      - [ALL, autocad-lt, 0.10, 2027-01-01, 2027-01-31]", "products"),
        ("      - [ALL, [autocad-lt, 3], 0.10, 2027-01-01, 2027-01-31]", "products"),
        ("      - [ALL, [autocad-lt], ten, 2027-01-01, 2027-01-31]", "percent"),
        ("      - [ALL, null, 0.10, 2027-01-01]", "promotions"),
    ],
)
def test_check_refuses_a_promotions_row_it_cannot_honour(
    tmp_path: Path, row: str, says: str
) -> None:
    rules = copy_rules(tmp_path, "self-service")
    promotions_for_any_products(new_version(rules), row)
    with pytest.raises(ruleengine.RuleFileError) as caught:
        ruleengine.load(rules)
    problems = caught.value.diagnostics
    assert [d.code for d in problems] == ["bad_table"], problems
    assert problems[0].file.endswith("2027-01/tables.yaml") and says in problems[0].message


def test_a_null_product_in_the_published_table_shape_is_refused(tmp_path: Path) -> None:
    """Published 2026-12 says one product per promotion: "every product" cannot be said
    there (null would silently never apply), so check refuses it, positioned."""
    rules = copy_rules(tmp_path, "self-service")
    folder = new_version(rules)
    edit(folder / "tables.yaml", ADDSEATS15, ADDSEATS15.replace("autocad-lt", "null"))
    with pytest.raises(ruleengine.RuleFileError) as caught:
        ruleengine.load(rules)
    (problem,) = caught.value.diagnostics
    assert problem.code == "bad_table" and "'product'" in problem.message
    assert problem.line > 1 and problem.column > 1
