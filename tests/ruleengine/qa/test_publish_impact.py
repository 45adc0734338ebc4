"""`ruleengine publish --impact LOG`: before a new version is recorded, what the traffic
of a decision log would get under it on its first day, against the version it replaces.

December's log lines are dated in December; decided at their own dates, a January
version would never decide them. The impact decides every line as of the new version's
`effective_from`, under both versions, so the new price shows up. A log that cannot be
read stops the publish before anything is written.
"""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner, Result

import ruleengine
from ruleengine.cli import app
from ruleengine.lock import LOCK_NAME, read_lock

from ..publishing import ROOT, copy_rules, new_version, snapshot

TRAFFIC = ROOT / "docs" / "examples" / "traffic.jsonl"


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), env={"RULEENGINE_TODAY": "2026-12-20"})


def decision_log(rules: Path, path: Path) -> Path:
    """December's traffic as the server logs it (one line per decision, the version that
    decided it), and a line of another rule set, which the impact of self-service skips."""
    engine = ruleengine.load(rules)
    lines = []
    for n, line in enumerate(TRAFFIC.read_text("utf-8").splitlines()):
        item = json.loads(line)
        facts = {**item["input"], "as_of": item["as_of"]}
        answer = engine.decide("self-service", item["decision"], facts)
        assert answer.version == "2026-12"
        lines.append(
            {
                "decision_id": f"d-{n}",
                "time": f"{item['as_of']}T10:00:00Z",
                "ruleset": "self-service",
                "decision": item["decision"],
                "version": answer.version,
                "content_hash": answer.content_hash,
                "as_of": item["as_of"],
                "locale": "en",
                "input": facts,
                "result": ruleengine.jsonio.to_plain(answer.result),
            }
        )
    lines.append({**lines[0], "decision_id": "other", "ruleset": "example"})
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), "utf-8")
    return path


def test_the_impact_is_printed_as_of_the_first_day_and_then_the_lock_written(
    tmp_path: Path,
) -> None:
    rules = copy_rules(tmp_path)
    log = decision_log(rules, tmp_path / "decisions.jsonl")
    new_version(rules)  # 2027-01: the annual autocad-lt USD new price 470 -> 480
    result = run("publish", str(rules), "--impact", str(log))
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert (
        f"Impact of self-service 2027-01 against 2026-12: 10 inputs from {log}, "
        "each decided as of 2027-01-01"
    ) in out
    assert "add_seats: 2 inputs, 0 changed (0.00% of 2 decided), 0 invalid" in out
    assert "change_term: 6 inputs, 1 changed (16.67% of 6 decided), 0 invalid" in out
    assert "  new_purchase_per_seat: 1 input\n" in out
    assert '      line 1: "470.00" -> "480.00"' in out
    assert "options: 1 input, 0 changed (0.00% of 1 decided), 0 invalid" in out
    assert "unusable lines: 1 (logged for rule set 'example')" in out
    # the impact comes first, then the version is recorded
    assert out.index("Impact of") < out.index("published self-service 2027-01")
    lock = read_lock(rules / "self-service" / LOCK_NAME)
    assert lock is not None and lock.label("2027-01") is not None


def test_the_impact_as_markdown_for_the_pull_request(tmp_path: Path) -> None:
    rules = copy_rules(tmp_path, "self-service")
    log = decision_log(rules, tmp_path / "decisions.jsonl")
    new_version(rules)
    result = run("publish", str(rules), "--impact", str(log), "--format", "markdown")
    assert result.exit_code == 0, result.output
    assert "## Impact of `self-service` 2027-01 against 2026-12" in result.stdout
    assert "| `change_term` | 6 | 6 | 1 | 16.67% | 0 |" in result.stdout
    assert "| `new_purchase_per_seat` | 1 |" in result.stdout


def test_a_log_that_cannot_be_read_publishes_nothing(tmp_path: Path) -> None:
    rules = copy_rules(tmp_path, "self-service")
    new_version(rules)
    before = snapshot(rules)
    missing = tmp_path / "no-such.jsonl"
    result = run("publish", str(rules), "--impact", str(missing))
    assert result.exit_code == 1
    assert result.stderr.startswith("error: --impact: ")
    assert "no-such.jsonl" in result.stderr and "nothing was published" in result.stderr
    assert "published self-service" not in result.stdout
    assert snapshot(rules) == before


def test_a_new_version_that_replaces_none_says_so(tmp_path: Path) -> None:
    rules = copy_rules(tmp_path, "self-service")
    log = decision_log(rules, tmp_path / "decisions.jsonl")
    (rules / "self-service" / LOCK_NAME).unlink()  # publishing adopted with 2026-11 and -12
    result = run("publish", str(rules), "--impact", str(log), "--allow-backdated")
    assert result.exit_code == 0, result.output
    assert "impact of self-service 2026-11: it replaces no version; nothing to compare" in (
        result.stdout
    )
    assert "Impact of self-service 2026-12 against 2026-11" in result.stdout


def test_an_unknown_format_is_refused_before_anything(tmp_path: Path) -> None:
    rules = copy_rules(tmp_path, "self-service")
    new_version(rules)
    before = snapshot(rules)
    result = run("publish", str(rules), "--format", "html")
    assert result.exit_code == 2
    assert "--format 'html': expected text or markdown" in result.stderr
    assert snapshot(rules) == before
