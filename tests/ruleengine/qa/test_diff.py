"""`ruleengine diff`: a corpus of inputs and log lines decided under two versions."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from ruleengine.cli import app


def customer(country: str = "US", tier: str = "standard") -> dict[str, object]:
    return {
        "id": "c-1",
        "country": country,
        "tier": tier,
        "email_verified": True,
        "member_since": "2025-01-01",
    }


ORDER = {"currency": "USD", "items": [{"sku": "LAMP-2", "quantity": 2, "unit_price": "25.00"}]}


def log_line(decision: str, facts: dict[str, object]) -> str:
    return json.dumps(
        {
            "decision_id": "d-1",
            "time": "2026-03-15T10:00:00Z",
            "ruleset": "example",
            "decision": decision,
            "version": "2026-01",
            "content_hash": "sha256:x",
            "as_of": "2026-03-15",
            "locale": "en",
            "input": facts,
            "result": {},
        }
    )


def corpus(path: Path) -> Path:
    lines = [
        json.dumps(
            {"customer": customer("ES"), "order": ORDER, "as_of": "2026-03-15"}
        ),  # 1 checkout changes
        json.dumps({"customer": customer("ES"), "order": ORDER, "as_of": "2026-03-15"}),  # 2 same
        json.dumps(
            {"customer": customer("US"), "order": ORDER, "as_of": "2026-03-15"}
        ),  # 3 unchanged
        log_line("checkout", {"customer": customer("FR"), "order": ORDER}),  # 4 unchanged
        log_line(
            "quote", {"customer": customer("US", "platinum"), "order": ORDER}
        ),  # 5 discount 5.00 -> 6.00
        json.dumps(
            {"customer": customer("US", "diamond"), "order": ORDER, "as_of": "2026-03-15"}
        ),  # 6 invalid
        "{not json",  # 7 unusable
        "",  # blank lines are skipped
    ]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def test_text_report(cli: CliRunner, rules: Path, tmp_path: Path) -> None:
    inputs = corpus(tmp_path / "corpus.jsonl")
    args = [
        "diff",
        "example",
        "--from",
        "2026-01",
        "--to",
        "2026-07",
        "--inputs",
        str(inputs),
        "--decision",
        "checkout",
    ]
    result = cli.invoke(app, [*args, "--workers", "1"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "  inputs:            7\n" in out
    assert (
        "  decided:           5\n" in out
    )  # the quote log line is decided as checkout too (--decision)
    assert "  changed decisions: 2  (40.00% of decided)\n" in out
    assert "  invalid input:     1  (rejected by both versions)\n" in out
    assert "  unusable lines:    1\n" in out
    assert "  allowed: false -> true  2 inputs\n" in out
    assert '  reasons: ["country_not_served"] -> []  2 inputs\n' in out
    assert '  remedy: "contact_support" -> null  2 inputs\n' in out
    assert (
        "      e.g. line 1 (false -> true): " in out
        and "      e.g. line 2 (false -> true): " in out
    )
    assert "  enum at input.customer.tier  1 input\n" in out
    assert "  malformed JSON  1 line\n" in out
    # The timing goes to stderr: the report itself is the same however it ran.
    assert "inputs/s" not in out
    assert result.stderr.startswith("7 inputs in ") and "inputs/s on 1 worker" in result.stderr


def test_json_report_on_a_pool_matches(cli: CliRunner, rules: Path, tmp_path: Path) -> None:
    inputs = corpus(tmp_path / "corpus.jsonl")
    args = [
        "diff",
        "example",
        "--from",
        "2026-01",
        "--to",
        "2026-07",
        "--inputs",
        str(inputs),
        "--format",
        "json",
    ]
    one_run = cli.invoke(app, [*args, "--workers", "1"])
    pool_run = cli.invoke(app, [*args, "--workers", "2", "--partition-bytes", "300"])
    assert one_run.stdout == pool_run.stdout
    assert "on 2 workers" in pool_run.stderr
    one, pool = json.loads(one_run.stdout), json.loads(pool_run.stdout)
    for report in (one, pool):
        # without --decision, bare inputs have no decision: only the two log lines are usable
        assert (
            report["inputs"],
            report["decided"],
            report["changed"],
            report["invalid"],
            report["unusable"],
        ) == (7, 2, 1, 0, 5)
        assert report["unusable_reasons"] == {
            "no decision (pass --decision)": 4,
            "malformed JSON": 1,
        }
        changes = {(c["decision"], c["field"]): c for c in report["changes"]}
        assert set(changes) == {
            ("quote", "discount"),
            ("quote", "total"),
            ("quote", "average_item_price"),
        }
        discount = changes["quote", "discount"]
        assert discount["values"] == [{"from": "5.00", "to": "6.00", "inputs": 1}]
        assert discount["examples"][0]["line"] == 5
        assert discount["examples"][0]["file"].endswith("corpus.jsonl")
        assert discount["examples"][0]["input"]["customer"]["tier"] == "platinum"
        assert changes["quote", "total"]["values"] == [
            {"from": "45.00", "to": "44.00", "inputs": 1}
        ]
        assert report["decisions"] == [
            {
                "decision": "checkout",
                "inputs": 1,
                "decided": 1,
                "changed": 0,
                "invalid": 0,
                "fields": [],
            },
            {
                "decision": "quote",
                "inputs": 1,
                "decided": 1,
                "changed": 1,
                "invalid": 0,
                "fields": [
                    {"field": f, "inputs": 1, "examples": changes["quote", f]["examples"]}
                    for f in ("average_item_price", "discount", "total")
                ],
            },
        ]


def test_usage_errors(cli: CliRunner, rules: Path, tmp_path: Path) -> None:
    inputs = corpus(tmp_path / "corpus.jsonl")
    base = ["diff", "example", "--from", "2026-01", "--inputs", str(inputs)]
    result = cli.invoke(app, [*base, "--to", "2026-08"])
    assert result.exit_code == 2
    assert "unknown version '2026-08'" in result.output
    result = cli.invoke(app, [*base, "--to", "2026-07", "--decision", "chekout"])
    assert result.exit_code == 2
    assert "did you mean 'checkout'?" in result.output
    result = cli.invoke(app, [*base[:-1], str(tmp_path / "missing.jsonl"), "--to", "2026-07"])
    assert result.exit_code == 2


def test_from_rules_compares_the_same_version_edited(
    cli: CliRunner, rules: Path, tmp_path: Path
) -> None:
    # A version edited in place (a branch) against its last published form (a checkout
    # of main, or its bundle): same label on both sides, two rules folders.
    import shutil

    from ruleengine.bundle import build_bundle

    published = tmp_path / "main-rules"
    shutil.copytree(rules, published)
    tables = rules / "example" / "2026-01" / "tables.yaml"
    text = tables.read_text("utf-8")
    assert "[platinum, 0.10]" in text
    tables.write_text(text.replace("[platinum, 0.10]", "[platinum, 0.20]"), "utf-8")
    (rules / "example" / "versions.lock").unlink(missing_ok=True)  # the branch: unlocked
    bundle = tmp_path / "main.tar.gz"
    bundle.write_bytes(build_bundle(published)[0])
    inputs = corpus(tmp_path / "corpus.jsonl")
    base = ["diff", "example", "--from", "2026-01", "--to", "2026-01", "--inputs", str(inputs)]
    reports = []
    for source in (published, bundle):
        for workers in ("1", "2"):
            result = cli.invoke(
                app,
                [*base, "--from-rules", str(source), "--format", "json", "--workers", workers],
            )
            assert result.exit_code == 0, result.output
            reports.append(json.loads(result.stdout))
    for report in reports:
        assert report["changed"] == 1  # line 5, the platinum quote
        changes = {(c["decision"], c["field"]): c for c in report["changes"]}
        assert set(changes) == {
            ("quote", "discount"),
            ("quote", "total"),
            ("quote", "average_item_price"),
        }
        assert changes["quote", "discount"]["values"] == [
            {"from": "5.00", "to": "10.00", "inputs": 1}
        ]
    assert reports[0]["from_rules"].endswith("main-rules")
    assert reports[2]["from_rules"].endswith("main.tar.gz")
    # Without --from-rules both sides are the edited folder: nothing changes.
    same = json.loads(cli.invoke(app, [*base, "--format", "json", "--workers", "1"]).stdout)
    assert same["changed"] == 0
    text_report = cli.invoke(app, [*base, "--from-rules", str(bundle), "--workers", "1"]).stdout
    assert "2026-01 (" in text_report and "main.tar.gz) -> 2026-01 (" in text_report


def test_from_rules_errors(cli: CliRunner, rules: Path, tmp_path: Path) -> None:
    inputs = corpus(tmp_path / "corpus.jsonl")
    base = ["diff", "example", "--from", "2026-07", "--to", "2026-07", "--inputs", str(inputs)]
    only_january = tmp_path / "old"
    (only_january / "example").mkdir(parents=True)
    import shutil

    shutil.copytree(rules / "example" / "2026-01", only_january / "example" / "2026-01")
    result = cli.invoke(app, [*base, "--from-rules", str(only_january)])
    assert result.exit_code == 2
    assert "unknown version '2026-07'" in result.output
    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes(b"not a bundle")
    result = cli.invoke(app, [*base, "--from-rules", str(broken)])
    assert result.exit_code == 1
    assert "error[bad_bundle]" in result.output and "broken.tar.gz" in result.output
