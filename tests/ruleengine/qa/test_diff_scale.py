"""`ruleengine diff` at scale: many input files, partitions, a process pool and Dask give one report.

Also `--as-of`, `--summary`, `--format markdown`, the summary function that
`publish --impact` calls, and the progress bar.
"""

from __future__ import annotations

import gzip
import io
import json
import shutil
from datetime import date
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from ruleengine.cli import app
from ruleengine.cli.progress import RunProgress
from ruleengine.qa.diff import impact_summary
from ruleengine.qa.distribute import PartDone
from ruleengine.qa.sources import InputsError, find_inputs, plan, read

from .test_diff import ORDER, corpus, customer, log_line

BASE = ["diff", "example", "--from", "2026-01", "--to", "2026-07"]


def many_inputs(tmp: Path) -> Path:
    """A folder of logs: plain, gzip and nested, with changes scattered over lines and files."""
    logs = tmp / "logs"
    (logs / "older").mkdir(parents=True)
    lines = []
    for n in range(60):
        country = ("ES", "US", "FR")[n % 3]
        tier = ("gold", "platinum", "standard", "diamond")[n % 4]
        decision = "quote" if n % 5 else "checkout"
        lines.append(log_line(decision, {"customer": customer(country, tier), "order": ORDER}))
        if n % 17 == 0:
            lines.append("")  # blank lines count as lines of the file
    text = "\n".join(lines) + "\n"
    (logs / "a.jsonl").write_text(text, "utf-8")
    with gzip.open(logs / "older" / "b.jsonl.gz", "wt", encoding="utf-8") as handle:
        handle.write(text + "{broken\n")
    corpus(logs / "c.jsonl")
    (logs / "notes.txt").write_text("not an input\n", "utf-8")
    return logs


def test_inputs_files_folders_globs(tmp_path: Path) -> None:
    logs = many_inputs(tmp_path)
    found = [f.path for f in find_inputs([str(logs)])]
    assert [Path(p).name for p in found] == ["a.jsonl", "c.jsonl", "b.jsonl.gz"]
    globbed = find_inputs([str(logs / "*.jsonl"), str(logs / "a.jsonl")])
    assert [Path(f.path).name for f in globbed] == ["a.jsonl", "c.jsonl"]  # no file twice
    (tmp_path / "empty").mkdir()
    for bad in (str(logs / "*.csv"), str(tmp_path / "missing.jsonl"), str(tmp_path / "empty")):
        with pytest.raises(InputsError):
            find_inputs([bad])


@pytest.mark.parametrize("size", [1, 7, 64, 333, 10_000])
def test_partitions_read_every_line_once_with_its_number(tmp_path: Path, size: int) -> None:
    path = tmp_path / "lines.jsonl"
    lines = [f'{{"n": {n}, "pad": "{"x" * (n % 13)}"}}' for n in range(200)]
    lines[50] = ""
    path.write_text("\n".join(lines) + "\n", "utf-8")
    seen = []
    offset = 0
    for part in plan(find_inputs([path]), size):
        read_lines, count = read(part)
        seen += [(offset + number, text.decode().strip()) for number, text in read_lines]
        offset += count[0]
    assert offset == 200
    assert seen == [(n + 1, line) for n, line in enumerate(lines) if line]


def run(cli: CliRunner, *args: str) -> tuple[str, str]:
    result = cli.invoke(app, [*BASE, *args])
    assert result.exit_code == 0, result.output
    return result.stdout, result.stderr


@pytest.mark.live  # a process pool and a local Dask cluster
def test_one_process_a_pool_and_dask_print_the_same_bytes(
    cli: CliRunner, rules: Path, tmp_path: Path
) -> None:
    logs = many_inputs(tmp_path)
    inputs = ["--inputs", str(logs), "--partition-bytes", "900", "--examples", "7"]
    for form in (["--format", "json"], ["--summary"], ["--format", "markdown"], []):
        one, _ = run(cli, *inputs, *form, "--workers", "1")
        pool, timing = run(cli, *inputs, *form, "--workers", "2")
        assert one == pool, form
        assert "on 2 workers" in timing
    single, _ = run(cli, *inputs, "--format", "json", "--workers", "1")
    # Partitions change nothing: one partition per file gives the same report.
    whole, _ = run(cli, *inputs[:2], "--examples", "7", "--format", "json", "--workers", "1")
    assert whole == single
    dask_json, timing = run(cli, *inputs, "--format", "json", "--dask", "local:2")
    assert "on dask local:2" in timing
    assert dask_json == single
    # Line numbers are global to each file, whichever partition held the line.
    report = json.loads(dask_json)
    assert report["inputs_files"] == ["logs/a.jsonl", "logs/c.jsonl", "logs/older/b.jsonl.gz"]
    assert report["inputs"] == 60 + 7 + 61
    unusable = [(e["file"], e["line"]) for e in report["unusable_examples"]]
    # c.jsonl: bare inputs (no decision) and `{not json` on line 7; b.jsonl.gz: 60 lines and
    # 4 blank ones, then `{broken`
    assert unusable == [
        *(("logs/c.jsonl", n) for n in (1, 2, 3, 6, 7)),
        ("logs/older/b.jsonl.gz", 65),
    ]
    assert report["unusable_reasons"] == {"no decision (pass --decision)": 4, "malformed JSON": 2}
    changes = {(c["decision"], c["field"]): c for c in report["changes"]}
    seen = [(e["file"], e["line"]) for e in changes["quote", "discount"]["examples"]]
    # platinum quotes: entries 1, 9, 13 (entry 5 is a checkout); a blank line follows entry 0
    assert seen[:3] == [("logs/a.jsonl", 3), ("logs/a.jsonl", 11), ("logs/a.jsonl", 15)]


def test_dask_needs_a_valid_address(cli: CliRunner, rules: Path, tmp_path: Path) -> None:
    inputs = corpus(tmp_path / "corpus.jsonl")
    for address in ("local:0", "local:x", "somewhere"):
        result = cli.invoke(app, [*BASE, "--inputs", str(inputs), "--dask", address])
        assert result.exit_code == 2
        assert f"--dask {address!r}: expected local" in result.stderr


def loyalty_rules(rules: Path) -> None:
    """2026-07 gives the loyalty discount after one year instead of three."""
    tables = rules / "example" / "2026-07" / "tables.yaml"
    text = tables.read_text("utf-8")
    assert "loyalty_years:\n    value: 3" in text
    tables.write_text(text.replace("loyalty_years:\n    value: 3", "loyalty_years:\n    value: 1"))


def test_as_of_decides_every_input_on_one_day(cli: CliRunner, rules: Path, tmp_path: Path) -> None:
    loyalty_rules(rules)
    inputs = tmp_path / "quotes.jsonl"
    # member since 2025-01-01, logged on 2026-03-15: more than one year, less than three
    gold = {"customer": customer("US", "gold"), "order": ORDER}
    inputs.write_text(log_line("quote", gold) + "\n" + log_line("quote", gold) + "\n", "utf-8")
    args = ["--inputs", str(inputs), "--format", "json"]
    own = json.loads(run(cli, *args)[0])
    assert own["as_of"] is None and own["changed"] == 2
    early = json.loads(run(cli, *args, "--as-of", "2025-06-01")[0])
    assert early["as_of"] == "2025-06-01" and early["changed"] == 0  # less than a year then
    late = json.loads(run(cli, *args, "--as-of", "2026-03-15")[0])
    assert late["changes"][0]["examples"][0]["input"]["as_of"] == "2026-03-15"
    assert late["changed"] == 2
    result = cli.invoke(app, [*BASE, *args, "--as-of", "2026-02-30"])
    assert result.exit_code == 2 and "--as-of '2026-02-30' is not a date" in result.stderr


def test_summary_per_decision(cli: CliRunner, rules: Path, tmp_path: Path) -> None:
    logs = many_inputs(tmp_path)
    text, _ = run(cli, "--inputs", str(logs / "a.jsonl"), "--summary", "--examples", "2")
    lines = text.splitlines()
    assert lines[0] == (
        "Impact of example 2026-07 against 2026-01: 60 inputs from logs/a.jsonl, "
        "each decided at its own as_of"
    )
    assert "checkout: 12 inputs, 3 changed (33.33% of 9 decided), 3 invalid" in lines
    checkout = lines.index("checkout: 12 inputs, 3 changed (33.33% of 9 decided), 3 invalid")
    # Spain is served from July: entries 0 and 30 (line 33: three blank lines before it)
    assert lines[checkout + 1] == "  allowed: 3 inputs"
    assert lines[checkout + 2].startswith('      line 1: false -> true  {"customer": ')
    assert lines[checkout + 3].startswith("      line 33: false -> true")
    assert lines[checkout + 4] == "  messages: 3 inputs"
    quote = next(line for line in lines if line.startswith("quote: "))
    assert quote == "quote: 48 inputs, 12 changed (33.33% of 36 decided), 12 invalid"


def test_markdown_report(cli: CliRunner, rules: Path, tmp_path: Path) -> None:
    logs = many_inputs(tmp_path)
    md, _ = run(cli, "--inputs", str(logs / "a.jsonl"), "--format", "markdown")
    assert md.startswith("## Impact of `example` 2026-07 against 2026-01\n")
    assert "| decision | inputs | decided | changed | share | invalid |" in md
    assert "| `checkout` | 12 | 9 | 3 | 33.33% | 3 |" in md
    assert "| `allowed` | 3 | `false` → `true` (3) |" in md
    assert '| `discount` | 12 | `"5.00"` → `"6.00"` (12) |' in md
    assert "<details><summary>Example inputs</summary>" in md
    assert "- line 1: `allowed`: `false` → `true`; `messages`: " in md
    assert "### Invalid input (rejected by both versions)" in md
    summary, _ = run(cli, "--inputs", str(logs / "a.jsonl"), "--format", "markdown", "--summary")
    assert "| `allowed` | 3 |" in summary and "→ `true` (3)" not in summary


def test_impact_summary_for_publish(rules: Path, tmp_path: Path) -> None:
    logs = many_inputs(tmp_path)
    text = impact_summary(rules, "example", "2026-01", "2026-07", [logs / "a.jsonl"])
    assert "checkout: 12 inputs, 3 changed (33.33% of 9 decided), 3 invalid" in text
    md = impact_summary(
        rules, "example", "2026-01", "2026-07", [logs], as_of=date(2026, 3, 15), markdown=True
    )
    assert "each decided as of 2026-03-15" in md and md.startswith("## Impact of `example`")
    with pytest.raises(InputsError):
        impact_summary(rules, "example", "2026-01", "2026-07", [tmp_path / "none.jsonl"])


def test_progress_bar_only_on_a_terminal(cli: CliRunner, rules: Path, tmp_path: Path) -> None:
    logs = many_inputs(tmp_path)
    files = find_inputs([logs])
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=120)
    with RunProgress("diff", files, enabled=True, console=console) as progress:
        for part in plan(files):
            progress(PartDone(part, 61, None))
            progress.bar.refresh()
    assert "183 lines" in screen.getvalue() and "lines/s" in screen.getvalue()
    assert "ETA" in screen.getvalue()
    # Not a terminal (CliRunner's stderr): only the timing line.
    _, err = run(cli, "--inputs", str(logs))
    assert err.count("\n") == 1 and err.startswith("128 inputs in ")


def test_shipping_rules_to_workers_keeps_from_rules(
    cli: CliRunner, rules: Path, tmp_path: Path
) -> None:
    published = tmp_path / "main-rules"
    shutil.copytree(rules, published)
    loyalty_rules(rules)
    inputs = tmp_path / "q.jsonl"
    gold = {"customer": customer("US", "gold"), "order": ORDER}
    inputs.write_text(log_line("quote", gold) + "\n", "utf-8")
    args = ["diff", "example", "--from", "2026-07", "--to", "2026-07", "--inputs", str(inputs)]
    args += ["--from-rules", str(published), "--format", "json", "--partition-bytes", "10"]
    one = cli.invoke(app, [*args, "--workers", "1"])
    pool = cli.invoke(app, [*args, "--workers", "2"])
    assert one.stdout == pool.stdout
    assert json.loads(one.stdout)["changed"] == 1


def test_log_lines_are_read_without_their_result_only_when_safe() -> None:
    from ruleengine.qa.diff import _log_prefix

    head = '{"ruleset": "example", "decision": "quote", "as_of": "2026-03-15", "locale": "en", '
    line = head + '"input": {"a": "1.5"}, "result": {"total": "1.00"}}'
    assert _log_prefix(line.encode()) == {
        "ruleset": "example",
        "decision": "quote",
        "as_of": "2026-03-15",
        "locale": "en",
        "input": {"a": "1.5"},
        "result": None,
    }
    nested = head + '"input": {}, "result": {"x": 1, "result": 2}}'  # the last key is nested
    late = head.replace('"locale": "en", ', "") + '"input": {}, "result": {}, "locale": "fr"}'
    inside = head + '"input": {"note": "a, \\"result\\": b"}}'  # escaped inside a string
    for text in (nested, late, inside, '{"input": {}, "result": 1}', "[1]", '{"result": 1}'):
        assert _log_prefix(text.encode()) is None, text


def test_an_unreachable_scheduler_is_a_clear_error(
    cli: CliRunner, rules: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ruleengine.qa import distribute

    monkeypatch.setattr(distribute, "CONNECT_SECONDS", 1)
    inputs = corpus(tmp_path / "corpus.jsonl")
    result = cli.invoke(app, [*BASE, "--inputs", str(inputs), "--dask", "tcp://127.0.0.1:9"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: cannot reach the Dask scheduler at tcp://127.0.0.1:9")
    log = tmp_path / "log.jsonl"
    log.write_text(log_line("checkout", {"customer": customer(), "order": ORDER}) + "\n")
    result = cli.invoke(app, ["test", "rules", "--log", str(log), "--dask", "tcp://127.0.0.1:9"])
    assert result.exit_code == 1
    assert "error: cannot reach the Dask scheduler at tcp://127.0.0.1:9" in result.stderr


def test_dask_without_the_extra_says_how_to_install_it(
    cli: CliRunner, rules: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ruleengine.qa import distribute

    monkeypatch.setattr(distribute, "dask_available", lambda: False)
    inputs = corpus(tmp_path / "corpus.jsonl")
    result = cli.invoke(app, [*BASE, "--inputs", str(inputs), "--dask", "local:2"])
    assert result.exit_code == 2
    assert "pip install 'ruleengine[dask]'" in result.stderr
    # without --dask nothing needs it
    assert cli.invoke(app, [*BASE, "--inputs", str(inputs), "--workers", "1"]).exit_code == 0
