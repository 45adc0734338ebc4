"""The workbench's routes (server/routers/drafts.py): a draft of a published version is
checked with positioned diagnostics, decided with, run against the suites and compared
with its base on a sample, and saved or downloaded only with the admin token. Bad
drafts (unparsable, too large, unknown file names) are positioned problems, never 500s;
a draft is never served by the public API, and nothing is written into rules/."""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

import ruleengine
from ruleengine import jsonio
from ruleengine.suites import find_suites, load_suites
from server.app import create_app
from server.draft_runs import changes
from server.drafts import MAX_FILE_BYTES

from .conftest import ROOT, errors_of, settings

API = "/playground/api"
TOKEN = "draft-token"
CASES: dict[str, Any] = yaml.safe_load((Path(__file__).parent / "drafts.yaml").read_text())


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("drafts")
    shutil.copytree(ROOT / "rules", folder / "rules")
    return folder


def _corpus(rules: Path, target: Path) -> None:
    engine = ruleengine.load(rules)
    versions = [v for rs in engine.rulesets.values() for v in rs.versions]
    suites, _ = load_suites(find_suites(rules), versions)
    lines = [
        {"decision_id": f"d-{i}", "ruleset": c.ruleset, "decision": c.decision, "input": c.facts()}
        for i, c in enumerate(case for s in suites for case in s.cases)
    ]
    target.write_text(
        "".join(json.dumps(line, default=str) + "\n" for line in lines) + "not json\n"
    )


@pytest.fixture(scope="module")
def client(work: Path) -> Iterator[TestClient]:
    _corpus(work / "rules", work / "corpus.jsonl")
    app = create_app(
        settings=settings(
            rules=str(work / "rules"),
            corpus=work / "corpus.jsonl",
            drafts_dir=work / "saved",
            admin_token=TOKEN,
        )
    )
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def published(client: TestClient, ruleset: str, version: str) -> dict[str, str]:
    answer = client.get(f"{API}/rulesets/{ruleset}/versions/{version}/files")
    assert answer.status_code == 200, answer.text
    return {f["name"]: f["text"] for f in answer.json()["files"]}


def draft(client: TestClient, edit: dict[str, str] | None = None, **files: str) -> dict[str, Any]:
    """The self-service 2026-12 draft, with `edit` (file, replace, with) applied."""
    base = CASES["edit"]
    texts = {**published(client, base["ruleset"], base["version"]), **files}
    if edit is not None:
        assert edit["replace"] in texts[edit["file"]]
        texts[edit["file"]] = texts[edit["file"]].replace(edit["replace"], edit["with"], 1)
    return {"ruleset": base["ruleset"], "base": base["version"], "files": texts}


def test_a_published_version_gives_its_files(client: TestClient, work: Path) -> None:
    files = published(client, "self-service", "2026-12")
    on_disk = sorted(p.name for p in (work / "rules/self-service/2026-12").glob("*.yaml"))
    assert sorted(files) == on_disk
    assert files["manifest.yaml"] == (work / "rules/self-service/2026-12/manifest.yaml").read_text()
    errors = errors_of(client.get(f"{API}/rulesets/self-service/versions/1999-01/files"), 404)
    assert errors[0]["code"] == "unknown_version"
    assert errors_of(client.get(f"{API}/rulesets/nope/versions/x/files"), 404)


def test_an_unchanged_draft_checks_clean(client: TestClient) -> None:
    answer = client.post(f"{API}/drafts/check", json=draft(client)).json()
    assert answer["ok"] is True and answer["diagnostics"] == []
    assert answer["version"] == "2026-12"
    assert {"add_seats", "options"} <= set(answer["decisions"])


@pytest.mark.parametrize("case", CASES["broken"], ids=lambda c: c["name"])
def test_a_broken_draft_gets_positioned_diagnostics(
    client: TestClient, case: dict[str, Any]
) -> None:
    files = {case["file"]: case["text"]} if "text" in case else {}
    body = draft(client, case.get("edit"), **files)
    answer = client.post(f"{API}/drafts/check", json=body)
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert found["ok"] is False
    got = [(d["file"], d["line"], d["column"], d["code"]) for d in found["diagnostics"]]
    assert tuple(case["expect"]) in [tuple(g) for g in got], got
    for d in found["diagnostics"]:
        assert set(d) == {"file", "line", "column", "code", "message", "hint"}
        assert not d["file"].startswith("/"), d  # named as in the draft, not a temp path


def test_a_huge_file_is_placed_at_the_line_that_passes_the_limit(client: TestClient) -> None:
    line = "# " + "x" * 98 + "\n"  # 101 bytes
    text = line * (MAX_FILE_BYTES // len(line) + 10)
    found = client.post(f"{API}/drafts/check", json=draft(client, **{"rules.yaml": text})).json()
    (problem,) = found["diagnostics"]
    assert problem["code"] == "file_too_large" and problem["file"] == "rules.yaml"
    assert problem["line"] == MAX_FILE_BYTES // len(line) + 1
    assert problem["column"] == MAX_FILE_BYTES % len(line) + 1


def test_bad_requests_are_4xx_with_the_envelope(client: TestClient) -> None:
    url = f"{API}/drafts/check"
    assert errors_of(client.post(url, content=b"{nope"), 400)[0]["code"] == "malformed_json"
    assert errors_of(client.post(url, content=b"x" * (1024 * 1024 + 1)), 413)
    paths = {e["path"] for e in errors_of(client.post(url, json={"files": {"a": 1}}), 422)}
    assert paths == {"draft.ruleset", "draft.base", "draft.files"}
    unknown = {**draft(client), "base": "1999-01"}
    assert errors_of(client.post(url, json=unknown), 404)[0]["path"] == "draft.base"
    body = {"draft": draft(client), "input": {}}
    assert errors_of(client.post(f"{API}/drafts/decide", json=body), 422)[0]["path"] == "decision"


def _decide(client: TestClient, body: dict[str, Any], case: dict[str, Any]) -> Any:
    return client.post(
        f"{API}/drafts/decide",
        json={"draft": body, "decision": case["decision"], "input": case["input"]},
    )


def test_a_decision_under_a_draft(client: TestClient) -> None:
    case = CASES["edit"]
    answer = _decide(client, draft(client, case), case)
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert found["draft"] is True and found["version"] == case["version"]
    for field, value in case["draft_result"].items():
        assert found["result"][field] == value
    # The explanation names the draft's files, not a temporary folder.
    locations = [entry["location"] for entry in found["explanation"]]
    assert locations and all(loc.split(":")[0].endswith(".yaml") for loc in locations)
    assert not [loc for loc in locations if loc.startswith("/")], locations
    # The public API still decides with the published version.
    url = f"/v1/rulesets/{case['ruleset']}/decisions/{case['decision']}"
    public = client.post(url, json={"input": case["input"], "version": case["version"]}).json()
    for field, value in case["published_result"].items():
        assert public["result"][field] == value


def test_deciding_with_a_draft_that_does_not_load_lists_its_problems(client: TestClient) -> None:
    case = CASES["edit"]
    broken = draft(client, CASES["broken"][0]["edit"])
    answer = _decide(client, broken, case)
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["code"] == "draft_not_loaded"
    assert answer.json()["diagnostics"][0]["file"] == "rules.yaml"
    invalid = _decide(client, draft(client), {**case, "input": {"account": {}}})
    assert errors_of(invalid, 422)[0]["path"].startswith("input")


def test_the_suites_on_a_draft(client: TestClient) -> None:
    case = CASES["edit"]
    clean = client.post(f"{API}/drafts/suites", json=draft(client)).json()
    assert clean["failed"] == 0 and clean["passed"] > 0 and clean["problems"] == []
    assert any(c["by_draft"] for c in clean["cases"])
    edited = client.post(f"{API}/drafts/suites", json=draft(client, case)).json()
    assert edited["passed"] + edited["failed"] == clean["passed"]
    failed = {c["name"]: c for c in edited["cases"] if c["status"] == "failed"}
    assert case["failing_case"] in failed, sorted(failed)
    diffs = failed[case["failing_case"]]["diffs"]
    assert {"path": "result.eligible", "expected": True, "actual": False} in diffs
    assert failed[case["failing_case"]]["source"].startswith("self-service/tests/")


def test_the_impact_of_a_draft_on_the_corpus(client: TestClient) -> None:
    case = CASES["edit"]
    same = client.post(f"{API}/drafts/impact", json={"draft": draft(client)}).json()
    assert same["changed"] == 0 and same["fields"] == [] and same["decided"] > 0
    assert same["source"] == "corpus file corpus.jsonl"
    found = client.post(f"{API}/drafts/impact", json={"draft": draft(client, case)}).json()
    assert found["sampled"] == same["sampled"] and found["decided"] == same["decided"]
    assert found["skipped"] >= 1  # the line that is not JSON, and the other rule set's
    by_field = {f["field"]: f for f in found["fields"]}
    eligible = by_field[case["impact_field"]]
    assert eligible["count"] >= 1 and found["changed"] >= eligible["count"]
    example = eligible["examples"][0]
    assert (example["old"], example["new"]) == ("true", "false")
    assert example["id"].startswith("d-") and '"PL"' in example["input"]


def test_impact_needs_a_sample(work: Path) -> None:
    app = create_app(settings=settings(rules=str(work / "rules")))
    with TestClient(app, raise_server_exceptions=False) as c:
        body = {"draft": draft(c)}
        assert errors_of(c.post(f"{API}/drafts/impact", json=body), 409)[0]["code"] == "no_sample"


def test_the_impact_reads_the_decision_log(work: Path, tmp_path: Path) -> None:
    log = tmp_path / "decisions.jsonl"
    app = create_app(settings=settings(rules=str(work / "rules"), decision_log=log))
    case = CASES["edit"]
    with TestClient(app, raise_server_exceptions=False) as c:
        url = f"/v1/rulesets/{case['ruleset']}/decisions/{case['decision']}"
        assert c.post(url, json={"input": case["input"]}).status_code == 200
        app.state.services.decision_log.close()
        found = c.post(f"{API}/drafts/impact", json={"draft": draft(c, case)}).json()
    assert found["source"] == "decision log decisions.jsonl"
    assert found["decided"] == 1 and found["changed"] == 1


def test_saving_and_downloading_need_the_admin_token(client: TestClient, work: Path) -> None:
    body = draft(client, CASES["edit"])
    saved = f"{API}/drafts/saved/poland"
    assert errors_of(client.put(saved, json=body), 401)[0]["code"] == "unauthorized"
    assert errors_of(client.get(f"{API}/drafts/saved"), 401)
    assert errors_of(client.post(f"{API}/drafts/download", json=body), 401)
    admin = {"Authorization": f"Bearer {TOKEN}"}
    before = {p: p.read_bytes() for p in (work / "rules").rglob("*") if p.is_file()}
    assert client.put(saved, json=body, headers=admin).status_code == 200
    listing = client.get(f"{API}/drafts/saved", headers=admin).json()["drafts"]
    assert [(d["name"], d["ruleset"], d["base"]) for d in listing] == [
        ("poland", "self-service", "2026-12")
    ]
    again = client.get(saved, headers=admin).json()
    assert again["files"] == body["files"]
    assert (work / "saved" / "poland.json").exists()
    after = {p: p.read_bytes() for p in (work / "rules").rglob("*") if p.is_file()}
    assert after == before  # saving never writes into rules/
    bad = errors_of(client.put(f"{API}/drafts/saved/.hidden", json=body, headers=admin), 422)
    assert bad[0]["code"] == "bad_name"
    zipped = client.post(f"{API}/drafts/download", json=body, headers=admin)
    assert zipped.status_code == 200 and zipped.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(zipped.content)).namelist()
    assert sorted(names) == sorted(f"2026-12/{n}" for n in body["files"])


def test_a_drafts_folder_inside_the_rules_is_refused(work: Path) -> None:
    inside = work / "rules" / "drafts"
    app = create_app(
        settings=settings(rules=str(work / "rules"), drafts_dir=inside, admin_token=TOKEN)
    )
    with TestClient(app, raise_server_exceptions=False) as c:
        answer = c.put(
            f"{API}/drafts/saved/x", json=draft(c), headers={"Authorization": f"Bearer {TOKEN}"}
        )
        assert errors_of(answer, 409)[0]["code"] == "drafts_in_rules"
    assert not inside.exists()


def test_compare_counts_only_real_differences() -> None:
    """The pair of answers of issue 13: 13 fields differ (15 rows were shown)."""
    case = CASES["compare"]
    engine = ruleengine.load(ROOT / "rules")
    mine, theirs = (
        jsonio.to_plain(
            engine.decide(case["ruleset"], case["decision"], case["input"], version=v).result
        )
        for v in (case["version"], case["with"])
    )
    found = changes(mine, theirs)
    assert len(found) == case["differences"], found
    assert ("reasons", "[]", '["add_seats_region_unsupported"]') in found
