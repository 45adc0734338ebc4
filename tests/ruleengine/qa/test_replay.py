"""`ruleengine test --log FILE`: replay a decision log and report every answer that changed."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from typer.testing import CliRunner

import ruleengine
from ruleengine import jsonio
from ruleengine.cli import app


def make_log(rules: Path, path: Path) -> list[dict[str, object]]:
    engine = ruleengine.load(rules)
    entries = []
    for n, (decision, country, tier, as_of) in enumerate(
        [
            ("checkout", "US", "gold", "2026-03-15"),
            ("checkout", "ES", "gold", "2026-08-01"),
            ("quote", "US", "platinum", "2026-03-15"),
            ("quote", "US", "platinum", "2026-08-01"),
        ]
    ):
        facts = {
            "customer": {
                "id": "c",
                "country": country,
                "tier": tier,
                "email_verified": True,
                "member_since": "2020-01-01",
            },
            "order": {
                "currency": "USD",
                "items": [{"sku": "LAMP-2", "quantity": 2, "unit_price": "25.00"}],
            },
        }
        made = engine.decide("example", decision, {**facts, "as_of": as_of})
        entries.append(
            {
                "decision_id": f"d-{n}",
                "time": f"{as_of}T10:00:00Z",
                "ruleset": "example",
                "decision": decision,
                "version": made.version,
                "content_hash": made.content_hash,
                "as_of": as_of,
                "locale": made.locale,
                "input": facts,
                "result": jsonio.to_plain(made.result),
            }
        )
    write(path, entries)
    return entries


def write(path: Path, entries: list[dict[str, object]]) -> None:
    path.write_text("".join(json.dumps(e) + "\n" for e in entries), "utf-8")


def test_replay_of_an_unchanged_log_passes(cli: CliRunner, rules: Path, tmp_path: Path) -> None:
    log = tmp_path / "decisions.jsonl"
    make_log(rules, log)
    result = cli.invoke(app, ["test", "rules", "--log", str(log)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0].endswith("decisions.jsonl ....")
    assert result.output.splitlines()[-1] == "4 passed, 0 failed"


def test_replay_reports_every_changed_answer(cli: CliRunner, rules: Path, tmp_path: Path) -> None:
    log = tmp_path / "decisions.jsonl"
    entries = make_log(rules, log)
    entries[2]["result"]["total"] = "41.00"  # type: ignore[index]
    entries[2]["result"]["discount"] = "5.9"  # type: ignore[index]
    entries[1]["version"] = "2026-01"  # Spain was not served by 2026-01: the answer differs
    write(log, entries)
    with log.open("a", encoding="utf-8") as handle:
        handle.write('{"decision_id": "broken"}\n')
    junit = tmp_path / "replay.xml"
    result = cli.invoke(app, ["test", "rules", "--log", str(log), "--junit", str(junit)])
    assert result.exit_code == 1
    out = result.output
    assert (
        "FAILED decisions.jsonl:2: d-1\n    example checkout @ 2026-01: the answer differs from the logged one"
        in out
    )
    assert "    result.allowed: expected true, got false" in out
    assert "FAILED decisions.jsonl:3: d-2\n" in out
    assert '    result.discount: expected "5.9", got "6.00"' in out
    assert '    result.total: expected "41.00", got "44.00"' in out
    assert "FAILED decisions.jsonl:5: line 5\n    not a decision-log line: missing ruleset" in out
    assert out.splitlines()[-1] == "2 passed, 3 failed"
    root = ET.parse(junit).getroot()
    assert (root.get("tests"), root.get("failures")) == ("5", "3")


def test_replay_stops_at_first_failure_with_x(cli: CliRunner, rules: Path, tmp_path: Path) -> None:
    log = tmp_path / "decisions.jsonl"
    entries = make_log(rules, log)
    entries[0]["result"]["allowed"] = False  # type: ignore[index]
    write(log, entries)
    result = cli.invoke(app, ["test", "rules", "--log", str(log), "-x"])
    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == "0 passed, 1 failed"
