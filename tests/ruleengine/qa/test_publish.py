"""Publishing: versions.lock, drafts, the checks `publish` runs, and what a lock protects.

A published version never changes: `check` and `load` refuse an edited one, naming
the files that differ. A version not in the lock is a draft: served only when asked
for. `publish` refuses, listing every problem and writing nothing, when a check
error, a failing regression case, a backdated effective_from or a breaking input
change stands in the way.
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import date
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner, Result

import ruleengine
from ruleengine.bundle import build_bundle, extract_bundle
from ruleengine.cli import app
from ruleengine.errors import NotFoundError, NoVersionInEffectError, RuleFileError
from ruleengine.lock import LOCK_NAME, read_lock
from ruleengine.qa.publish import publish

from ..publishing import ROOT, RULES, copy_rules, edit, new_version, snapshot

JAN = {"as_of": "2027-01-15"}
DEC = date(2026, 12, 20)  # a publish day before 2027-01-01


def run(*args: str, today: str = "2026-12-20") -> Result:
    return CliRunner().invoke(app, list(args), env={"RULEENGINE_TODAY": today})


# --- the committed locks ---------------------------------------------------------------


def test_every_committed_version_is_published_and_unchanged() -> None:
    schema = json.loads((ROOT / "schemas" / "versions-lock.schema.json").read_text("utf-8"))
    engine = ruleengine.load(RULES)
    for name in ("example", "self-service"):
        path = RULES / name / LOCK_NAME
        jsonschema.validate(json.loads(path.read_text("utf-8")), schema)
        lock = read_lock(path)
        assert lock is not None and lock.ruleset == name
        assert path.read_text("utf-8") == lock.text()  # canonical: sorted, as publish writes
        versions = engine.ruleset(name).versions
        assert {v.status for v in versions} == {"published"}
        assert [(v.version, v.content_hash) for v in versions] == [
            (e.version, e.content_hash) for e in lock.versions
        ]
    assert [v.version for v in engine.ruleset("self-service").versions] == ["2026-11", "2026-12"]


def test_publishing_the_committed_rules_again_changes_nothing(tmp_path: Path) -> None:
    rules = copy_rules(tmp_path)
    before = snapshot(rules)
    result = run("publish", str(rules))
    assert result.exit_code == 0, result.output
    assert "nothing to publish" in result.stdout
    assert snapshot(rules) == before


def test_a_rule_set_without_a_lock_is_served_as_it_is_and_check_says_so(
    tmp_path: Path,
) -> None:
    """docs/publishing.md: a rule set with no versions.lock has not adopted publishing;
    its versions are served as they are, `check` notes it, and `publish` adopts it."""
    rules = copy_rules(tmp_path)
    (rules / "example" / LOCK_NAME).unlink()
    checked = run("check", str(rules))
    assert checked.exit_code == 0, checked.output
    assert checked.stdout.splitlines()[-1] == (
        "note: no versions.lock, every version served as it is: example; `ruleengine "
        "publish --ruleset NAME` adopts publishing (`--allow-backdated` for versions "
        "already in effect)"
    )
    served = ruleengine.load(rules, drafts="none")
    assert [(v.version, v.status) for v in served.ruleset("example").versions] == [
        ("2026-01", "unlocked"),
        ("2026-07", "unlocked"),
    ]
    refused = run("publish", str(rules), "--ruleset", "example")
    assert refused.exit_code == 1 and "error[backdated_version]" in refused.stdout
    adopted = run("publish", str(rules), "--ruleset", "example", "--allow-backdated")
    assert adopted.exit_code == 0, adopted.output
    assert "note: no versions.lock" not in run("check", str(rules)).stdout
    lock = read_lock(rules / "example" / LOCK_NAME)
    assert lock is not None and [v.version for v in lock.versions] == ["2026-01", "2026-07"]
    assert "no versions.lock" not in run("check", str(RULES)).stdout


# --- drafts ------------------------------------------------------------------------------


def test_a_new_version_is_a_draft_until_published(tmp_path: Path) -> None:
    rules = copy_rules(tmp_path, "self-service")
    new_version(rules)
    dated = ruleengine.load(rules)  # check, test, diff: drafts decide like any version
    assert dated.ruleset("self-service").in_effect(date(2027, 1, 15)).version == "2027-01"  # type: ignore[union-attr]
    assert dated.ruleset("self-service").get("2027-01").status == "draft"  # type: ignore[union-attr]

    pinned = ruleengine.load(rules, drafts="pinned")  # serve --drafts, eval
    assert pinned.ruleset("self-service").in_effect(date(2027, 1, 15)).version == "2026-12"  # type: ignore[union-attr]
    assert pinned.select("self-service", date(2027, 1, 15), "2027-01").version == "2027-01"

    served = ruleengine.load(rules, drafts="none")  # serve
    assert [v.version for v in served.ruleset("self-service").versions] == ["2026-11", "2026-12"]

    # A broken draft does not stop serving: `serve` does not even read it.
    edit(rules / "self-service" / "2027-01" / "tables.yaml", "prices:", "prices: [")
    assert [
        v.version for v in ruleengine.load(rules, drafts="none").rulesets["self-service"].versions
    ]
    with pytest.raises(RuleFileError):
        ruleengine.load(rules)


DRAFT_NOT_SERVED = (
    "version '2027-01' of 'self-service' is a draft (not in its versions.lock), not served "
    "here: serve drafts with `ruleengine serve --drafts` (a draft decides only when pinned "
    "by name), or publish it with `ruleengine publish`"
)


def test_a_draft_pinned_where_drafts_are_not_served_is_named_a_draft(tmp_path: Path) -> None:
    """`serve` skips drafts unread but remembers their folder names: pinning one says it
    is a draft and how to serve it, not just "unknown version"."""
    rules = copy_rules(tmp_path, "self-service")
    new_version(rules)
    served = ruleengine.load(rules, drafts="none")
    assert served.skipped_drafts == {("self-service", "2027-01")}
    with pytest.raises(NotFoundError) as caught:
        served.decide("self-service", "options", _options_input(), version="2027-01")
    assert (caught.value.code, caught.value.path) == ("unknown_version", "version")
    assert str(caught.value) == DRAFT_NOT_SERVED
    with pytest.raises(NotFoundError) as unknown:  # neither loaded nor a draft: unknown
        served.select("self-service", date(2027, 1, 15), "2027-02")
    assert str(unknown.value) == "unknown version '2027-02' (known: 2026-11, 2026-12)"
    # Skipped unread: a broken draft is named all the same.
    edit(rules / "self-service" / "2027-01" / "tables.yaml", "prices:", "prices: [")
    served = ruleengine.load(rules, drafts="none")
    with pytest.raises(NotFoundError, match=re.escape(DRAFT_NOT_SERVED)):
        served.select("self-service", date(2027, 1, 15), "2027-01")
    # Published, it is served like any version; nothing is skipped.
    edit(rules / "self-service" / "2027-01" / "tables.yaml", "prices: [", "prices:")
    assert run("publish", str(rules), "--ruleset", "self-service").exit_code == 0
    served = ruleengine.load(rules, drafts="none")
    assert served.skipped_drafts == frozenset()
    assert served.select("self-service", date(2027, 1, 15), "2027-01").status == "published"


def test_only_drafts_means_no_version_in_effect_until_one_is_pinned(tmp_path: Path) -> None:
    rules = copy_rules(tmp_path, "self-service")
    new_version(rules)
    (rules / "self-service" / "2026-11").rename(rules / "self-service" / "old-11")
    lock = rules / "self-service" / LOCK_NAME
    lock.write_text(
        json.dumps({"lock_format": 1, "ruleset": "self-service", "versions": []}), "utf-8"
    )
    engine = ruleengine.load(rules, drafts="pinned")
    with pytest.raises(NoVersionInEffectError, match="only drafts"):
        engine.select("self-service", date(2027, 1, 15))
    assert engine.select("self-service", date(2027, 1, 15), "2027-01").status == "draft"


def test_publish_records_the_new_version_and_nothing_else(tmp_path: Path) -> None:
    rules = copy_rules(tmp_path)
    folder = new_version(rules)
    lock_path = rules / "self-service" / LOCK_NAME
    before = snapshot(rules)
    result = run("publish", str(rules), "--ruleset", "self-service")
    assert result.exit_code == 0, result.output
    after = snapshot(rules)
    assert {k for k in after if after[k] != before.get(k)} == {f"self-service/{LOCK_NAME}"}
    lock = read_lock(lock_path)
    assert lock is not None
    entry = lock.label("2027-01")
    assert entry is not None and entry.folder == "2027-01"
    assert entry.published_on == DEC and entry.overrides == ()
    assert dict(entry.files)["tables.yaml"].startswith("sha256:")
    version = ruleengine.load(rules).ruleset("self-service").get("2027-01")
    assert version is not None and version.status == "published"
    assert entry.content_hash == version.content_hash
    assert (
        f"published self-service 2027-01: effective 2027-01-01, replaces 2026-12, {entry.content_hash}"
        in result.stdout
    )
    # The old entries are untouched, the file stays sorted and canonical.
    assert [v.version for v in lock.versions] == ["2026-11", "2026-12", "2027-01"]
    assert lock_path.read_text("utf-8") == lock.text()
    # Now served by date, and edits to it are refused like edits to any published version.
    served = ruleengine.load(rules, drafts="none")
    assert served.decide("self-service", "options", _options_input()).version == "2027-01"
    edit(folder / "tables.yaml", "480", "490")
    with pytest.raises(RuleFileError) as caught:
        ruleengine.load(rules)
    assert [d.code for d in caught.value.diagnostics] == ["published_version_changed"]


def test_eval_says_which_draft_it_passed_over(tmp_path: Path) -> None:
    """`eval` decides by a date with published versions only; it says on stderr which
    draft would be in effect then, and how to decide by it."""
    rules = copy_rules(tmp_path, "self-service")
    new_version(rules)
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps(_options_input()), "utf-8")
    common = ("eval", "self-service", "options", "--rules", str(rules), "-i", str(facts))
    published = run(*common, "--format", "json")
    assert published.exit_code == 0, published.output
    assert json.loads(published.stdout)["version"] == "2026-12"
    assert published.stderr.strip() == (
        "note: decided by 2026-12; draft 2027-01 (not yet in versions.lock) would be in "
        "effect on 2027-01-15: --version 2027-01 decides it"
    )
    pinned = run(*common, "--format", "json", "--version", "2027-01")
    assert json.loads(pinned.stdout)["version"] == "2027-01" and pinned.stderr == ""
    before = run(*common, "--format", "json", "--as-of", "2026-12-20")  # no draft in effect
    assert json.loads(before.stdout)["version"] == "2026-12" and before.stderr == ""


def _options_input() -> dict[str, object]:
    suite = (RULES / "self-service" / "tests" / "december.yaml").read_text("utf-8")
    assert "SUB-1" in suite
    return {
        "as_of": "2027-01-15",
        "account": {"country": "US"},
        "subscription": {
            "id": "SUB-1",
            "product": "maya-lt",
            "plan": "subscription",
            "channel": "direct",
            "term": "annual",
            "payment_method": "card",
            "seats": 1,
            "renewal_date": "2027-03-31",
            "auto_renew": True,
            "status": "active",
            "currency": "USD",
        },
    }


# --- refusals -------------------------------------------------------------------------------


def test_a_backdated_version_is_refused_unless_allowed(tmp_path: Path) -> None:
    rules = copy_rules(tmp_path, "self-service")
    new_version(rules)
    before = snapshot(rules)
    result = run("publish", str(rules), today="2027-01-05")
    assert result.exit_code == 1
    assert snapshot(rules) == before
    assert (
        "self-service/2027-01/manifest.yaml:3:17: error[backdated_version]: version '2027-01' "
        "takes effect on 2027-01-01, before the day it is published (2027-01-05)"
    ) in result.stdout
    assert "nothing was published" in result.stderr
    allowed = run("publish", str(rules), "--allow-backdated", today="2027-01-05")
    assert allowed.exit_code == 0, allowed.output
    lock = read_lock(rules / "self-service" / LOCK_NAME)
    assert lock is not None and lock.label("2027-01").overrides == ("backdated",)  # type: ignore[union-attr]
    # Published the day it takes effect: not backdated.
    rules2 = copy_rules(tmp_path / "again", "self-service")
    new_version(rules2)
    assert run("publish", str(rules2), today="2027-01-01").exit_code == 0


def test_a_failing_regression_case_refuses_everything(tmp_path: Path) -> None:
    rules = copy_rules(tmp_path, "self-service")
    new_version(rules)
    case = rules / "self-service" / "tests" / "new_year.yaml"
    case.write_text(
        "ruleset: self-service\ncases:\n- name: a wrong expectation\n  decision: options\n"
        '  as_of: "2027-01-15"\n  version: "2027-01"\n  input:\n'
        + "".join(
            f"    {k}: {json.dumps(v)}\n" for k, v in _options_input().items() if k != "as_of"
        )
        + '  expect:\n    version: "2026-12"\n    result: {}\n',
        "utf-8",
    )
    before = snapshot(rules)
    result = run("publish", str(rules))
    assert result.exit_code == 1, result.output
    assert "FAILED " in result.stdout and "new_year.yaml:3: a wrong expectation" in result.stdout
    assert re.search(r"1 of [0-9]+ regression cases failed", result.stderr)
    assert snapshot(rules) == before


def test_every_problem_is_listed_at_once(tmp_path: Path) -> None:
    rules = copy_rules(tmp_path, "self-service")
    folder = new_version(rules)
    edit(
        folder / "decisions.yaml",
        "quantity: {type: int, minimum: 1}",
        "quantity: {type: int, minimum: 1}\n      coupon: string",
    )
    edit(rules / "self-service" / "2026-11" / "reasons.yaml", "en:", "en: ")
    result = run("publish", str(rules), today="2027-02-01")
    assert result.exit_code == 1
    codes = [
        line.split("error[")[1].split("]")[0]
        for line in result.stdout.splitlines()
        if "error[" in line
    ]
    assert sorted(set(codes)) == [
        "backdated_version",
        "breaking_input_change",
        "published_version_changed",
    ]
    assert "add_seats: input.coupon: a new required field" in result.stdout
    assert "Traceback" not in result.output


def test_breaking_input_changes_are_named_and_can_be_allowed(tmp_path: Path) -> None:
    rules = copy_rules(tmp_path, "self-service")
    folder = new_version(rules)
    edit(folder / "types.yaml", "seats: {type: int, minimum: 1}", "seats: {type: int, minimum: 2}")
    result = publish(rules, DEC)
    assert result.refused
    messages = [d.message for d in result.problems]
    assert all(d.code == "breaking_input_change" for d in result.problems), messages
    assert any("input.subscription.seats: minimum raised to 2" in m for m in messages), messages
    assert all(d.file.endswith("2027-01/manifest.yaml") for d in result.problems)
    allowed = publish(rules, DEC, allow_breaking=True)
    assert not allowed.refused and allowed.published[0].overrides == ("breaking",)


def test_an_unknown_ruleset_and_a_bad_lock_are_positioned_errors(tmp_path: Path) -> None:
    rules = copy_rules(tmp_path, "example")
    result = run("publish", str(rules), "--ruleset", "nope")
    assert result.exit_code == 1
    assert "error[no_rules]: no rule set 'nope'" in result.stdout
    (rules / "example" / LOCK_NAME).write_text('{"lock_format": 1,\n  "ruleset": 3}\n', "utf-8")
    for args in (("check", str(rules)), ("publish", str(rules))):
        out = run(*args)
        assert out.exit_code == 1
        assert f"example/{LOCK_NAME}:2:" in out.stdout and "error[bad_lock]" in out.stdout
        assert "Traceback" not in out.output


# --- what the lock protects ----------------------------------------------------------------


def test_check_names_the_files_of_a_changed_published_version(tmp_path: Path) -> None:
    rules = copy_rules(tmp_path, "example")
    version = rules / "example" / "2026-07"
    edit(version / "tables.yaml", "[platinum, 0.12]", "[platinum, 0.13]")
    (version / "extra.yaml").write_text("tables: {}\n", "utf-8")
    result = run("check", str(rules))
    assert result.exit_code == 1
    assert (
        "example/2026-07/manifest.yaml:1:1: error[published_version_changed]: version '2026-07' "
        "was published on"
    ) in result.stdout
    assert "differs in: extra.yaml (added), tables.yaml (changed)" in result.stdout
    shutil.rmtree(rules / "example" / "2026-01")
    result = run("check", str(rules))
    assert (
        f"example/{LOCK_NAME}:" in result.stdout
        and "error[published_version_missing]" in result.stdout
    )


def test_a_bundle_holds_only_published_versions_and_their_locks(tmp_path: Path) -> None:
    rules = copy_rules(tmp_path, "self-service")
    new_version(rules)
    data, index = build_bundle(rules)
    assert [v["version"] for v in index.versions] == ["2026-11", "2026-12"]
    assert not any(name.startswith("self-service/2027-01/") for name in index.files)
    assert f"self-service/{LOCK_NAME}" in index.files
    out = tmp_path / "out"
    extract_bundle(data, out, "bundle")
    assert [v.status for v in ruleengine.load(out).ruleset("self-service").versions] == [
        "published",
        "published",
    ]
    edit(rules / "self-service" / "2026-12" / "tables.yaml", "470", "475")
    with pytest.raises(RuleFileError) as caught:
        build_bundle(rules)
    assert {d.code for d in caught.value.diagnostics} == {"published_version_changed"}
