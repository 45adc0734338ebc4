"""`ruleengine test --log FILE`: replay decision logs and sort what happened to every line."""

from __future__ import annotations

import copy
import gzip
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import ruleengine
from ruleengine import jsonio
from ruleengine.cli import app


def facts(country: str = "US", tier: str = "gold") -> dict[str, Any]:
    return {
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


def entry(
    engine: ruleengine.Engine, n: int, decision: str, given: dict[str, Any], as_of: str
) -> dict[str, Any]:
    """A log line as the server writes it (result null when the request was rejected)."""
    line: dict[str, Any] = {
        "decision_id": f"d-{n}",
        "time": f"{as_of}T10:00:00Z",
        "ruleset": "example",
        "decision": decision,
        "version": "2026-01",
        "content_hash": None,
        "as_of": as_of,
        "locale": "en",
        "input": given,
        "result": None,
    }
    try:
        made = engine.decide("example", decision, {**given, "as_of": as_of})
    except ruleengine.InputError:
        return line
    line.update(
        version=made.version, content_hash=made.content_hash, result=jsonio.to_plain(made.result)
    )
    return line


def make_log(rules: Path, path: Path) -> list[dict[str, Any]]:
    engine = ruleengine.load(rules)
    entries = [
        entry(engine, 0, "checkout", facts("US"), "2026-03-15"),
        entry(engine, 1, "checkout", facts("ES"), "2026-08-01"),
        entry(engine, 2, "quote", facts("US", "platinum"), "2026-03-15"),
        entry(engine, 3, "quote", facts("US", "platinum"), "2026-08-01"),
    ]
    write(path, entries)
    return entries


def write(path: Path, entries: list[dict[str, Any]], extra: str = "") -> None:
    text = "".join(json.dumps(e) + "\n" for e in entries) + extra
    if path.name.endswith(".gz"):
        with gzip.open(path, "wt", encoding="utf-8") as handle:
            handle.write(text)
    else:
        path.write_text(text, "utf-8")


CLOSING = (
    "{same} same, {changed} changed, {both} rejected then and now, {now} rejected now, "
    "{answered} answered now, {unknown} unknown version"
)


def closing(
    same: int = 0,
    changed: int = 0,
    both: int = 0,
    now: int = 0,
    answered: int = 0,
    unknown: int = 0,
) -> str:
    return CLOSING.format(
        same=same, changed=changed, both=both, now=now, answered=answered, unknown=unknown
    )


def test_replay_of_an_unchanged_log_passes(cli: CliRunner, rules: Path, tmp_path: Path) -> None:
    log = tmp_path / "decisions.jsonl"
    make_log(rules, log)
    result = cli.invoke(app, ["test", "rules", "--log", str(log)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "Replayed 4 lines of decisions.jsonl"
    assert lines[1] == "  example checkout @ 2026-01: 1 same"
    assert lines[2] == "  example checkout @ 2026-07: 1 same"
    assert lines[-1] == closing(same=4)
    assert "lines/s" in result.stderr


def test_replay_sorts_every_outcome(cli: CliRunner, rules: Path, tmp_path: Path) -> None:
    engine = ruleengine.load(rules)
    log = tmp_path / "decisions.jsonl"
    good = entry(engine, 0, "checkout", facts("US"), "2026-03-15")
    changed = entry(engine, 1, "quote", facts("US", "platinum"), "2026-03-15")
    changed["result"]["total"] = "41.00"
    changed["result"]["discount"] = "5.9"
    spain = entry(engine, 2, "checkout", facts("ES"), "2026-08-01")
    spain["version"] = "2026-01"  # Spain was not served by 2026-01: the answer changed
    both = entry(engine, 3, "checkout", facts("US", "diamond"), "2026-03-15")
    assert both["result"] is None
    now = copy.deepcopy(good)  # answered then, but its input is now rejected
    now.update(decision_id="d-4", input=facts("US", "diamond"))
    answered = copy.deepcopy(both)
    answered.update(decision_id="d-5", input=facts("US"))
    unknown = copy.deepcopy(good)
    unknown.update(decision_id="d-6", version="2025-12")
    lines = [good, changed, spain, both, now, answered, unknown]
    write(log, lines, '{"decision_id": "broken"}\n')
    junit = tmp_path / "replay.xml"
    result = cli.invoke(app, ["test", "rules", "--log", str(log), "--junit", str(junit)])
    assert result.exit_code == 1
    out = result.stdout
    assert (
        "  example checkout @ 2026-01: 1 same, 1 changed, 1 rejected then and now, "
        "1 rejected now (answered then), 1 answered now (rejected then) "
        "(1 changed where the version's files were edited since)\n" in out  # its content hash
    )
    assert "  example checkout @ 2025-12: 1 unknown version\n" in out
    assert "  example quote @ 2026-01: 1 changed\n" in out
    assert (
        "CHANGED example checkout @ 2026-01: 1 answer differs from the logged one\n"
        "    result.allowed: 1 line\n"
        "        decisions.jsonl:3 d-2: expected true, got false\n" in out
    )
    assert (
        "CHANGED example quote @ 2026-01: 1 answer differs from the logged one\n"
        "    result.discount: 1 line\n"
        '        decisions.jsonl:2 d-1: expected "5.9", got "6.00"\n'
        "    result.total: 1 line\n"
        '        decisions.jsonl:2 d-1: expected "41.00", got "44.00"\n' in out
    )
    assert (
        "REJECTED NOW example checkout @ 2026-01: 1 logged answer is now rejected\n"
        "    enum at input.customer.tier: 1 line\n"
        "        decisions.jsonl:5 d-4\n" in out
    )
    assert (
        "ANSWERED NOW example checkout @ 2026-01: 1 logged rejection is now answered\n"
        "        decisions.jsonl:6 d-5\n" in out
    )
    assert "UNKNOWN VERSION example checkout @ 2025-12: 1 line cannot be replayed\n" in out
    assert "unknown version '2025-12'" in out
    assert (
        "UNREADABLE: 1 line\n"
        "    not a decision-log line: missing ruleset, decision, as_of, input, result: 1 line\n"
        "        decisions.jsonl:8\n" in out
    )
    assert out.splitlines()[-1] == closing(1, 2, 1, 1, 1, 1) + ", 1 unreadable"
    root = ET.parse(junit).getroot()
    assert (root.get("tests"), root.get("failures")) == ("3", "2")
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert cases["example checkout @ 2025-12"].find("failure") is None


def test_rejected_then_and_now_and_unknown_versions_are_not_failures(
    cli: CliRunner, rules: Path, tmp_path: Path
) -> None:
    engine = ruleengine.load(rules)
    both = entry(engine, 0, "checkout", facts("US", "diamond"), "2026-03-15")
    unknown = entry(engine, 1, "checkout", facts("US"), "2026-03-15")
    unknown["decision"] = "refund"
    log = tmp_path / "decisions.jsonl"
    write(log, [both, unknown])
    result = cli.invoke(app, ["test", "rules", "--log", str(log)])
    assert result.exit_code == 0, result.output
    assert "unknown decision 'refund'" in result.stdout
    assert result.stdout.splitlines()[-1] == closing(both=1, unknown=1)


def test_examples_per_field_are_bounded(cli: CliRunner, rules: Path, tmp_path: Path) -> None:
    engine = ruleengine.load(rules)
    entries = []
    for n in range(50):
        line = entry(engine, n, "quote", facts("US", "platinum"), "2026-03-15")
        line["result"]["total"] = "1.00"
        entries.append(line)
    log = tmp_path / "decisions.jsonl"
    write(log, entries)
    result = cli.invoke(app, ["test", "rules", "--log", str(log), "--workers", "1"])
    assert result.exit_code == 1
    out = result.stdout
    assert "    result.total: 50 lines\n" in out
    assert out.count('expected "1.00", got "44.00"') == 3
    assert out.splitlines()[-1] == closing(changed=50)


def test_replay_stops_at_first_change_with_x(cli: CliRunner, rules: Path, tmp_path: Path) -> None:
    log = tmp_path / "decisions.jsonl"
    entries = make_log(rules, log)
    entries[1]["result"]["allowed"] = False
    write(log, entries)
    result = cli.invoke(app, ["test", "rules", "--log", str(log), "-x", "--workers", "1"])
    assert result.exit_code == 1
    assert "stopped at the first change (-x)" in result.stdout
    assert result.stdout.splitlines()[-1] == closing(same=1, changed=1)


@pytest.mark.live  # a process pool and a local Dask cluster
def test_many_logs_on_a_pool_and_on_dask_give_the_same_report(
    cli: CliRunner, rules: Path, tmp_path: Path
) -> None:
    engine = ruleengine.load(rules)
    logs = tmp_path / "logs"
    logs.mkdir()
    entries = []
    for n in range(40):
        tier = ("gold", "platinum", "diamond", "standard")[n % 4]
        line = entry(engine, n, ("checkout", "quote")[n % 2], facts("US", tier), "2026-03-15")
        if n % 7 == 0 and line["result"] is not None:
            line["result"]["allowed" if n % 2 == 0 else "total"] = "?"
        entries.append(line)
    write(logs / "day-1.jsonl", entries[:25], "\n")
    write(logs / "day-2.jsonl.gz", entries[25:], "not json\n")
    args = ["test", "rules", "--log", str(logs), "--partition-bytes", "700"]
    one = cli.invoke(app, [*args, "--workers", "1"])
    assert one.exit_code == 1
    assert "Replayed 41 lines of logs/day-1.jsonl, logs/day-2.jsonl.gz" in one.stdout
    assert "        logs/day-2.jsonl.gz:16\n" in one.stdout  # line numbers of each file
    pool = cli.invoke(app, [*args, "--workers", "2"])
    # An existing cluster, reached by its scheduler's address (as a real one would be).
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        dashboard_address=None,
        scheduler_kwargs={"dashboard": False},
    ) as cluster:
        on_dask = cli.invoke(app, [*args, "--dask", cluster.scheduler_address])
    assert one.stdout == pool.stdout == on_dask.stdout
    assert f"on dask {cluster.scheduler_address}" in on_dask.stderr
