"""A policy change never needs a change of Python, in the product or in its tests.

A policy owner adds a version as the docs say: copy the newest self-service version
into a new folder with a later effective_from, change a price, write a hand-made
regression case for it. Then `check`, `test`, `publish` and the whole test suite of
the policy (pytest's self-service reference, the rule-suite runner, the guard that
keeps policy out of src/) stay green on the changed rules, with no Python touched.
The pytest run is the real one, pointed at the copy by $RULEENGINE_TEST_RULES.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ruleengine.lock import read_lock

from .ruleengine.publishing import ROOT, copy_rules, new_version

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
    new_version(rules)
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
