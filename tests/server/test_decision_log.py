"""The decision log: one JSON line per decision (DESIGN.md's fields), written off the
request path, enough to reproduce every logged answer."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import signal
import stat
import threading
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

import ruleengine
from ruleengine import jsonio
from server.app import create_app

from .conftest import EXAMPLE, FACTS, URL, captured_logs, errors_of, load_copy, settings
from .live import serve_process, wait_for

FIELDS = [
    "decision_id",
    "time",
    "ruleset",
    "decision",
    "version",
    "content_hash",
    "as_of",
    "locale",
    "input",
    "result",
]


def test_every_decision_is_logged_and_reproducible(
    example_engine: ruleengine.Engine, tmp_path: Path
) -> None:
    log = tmp_path / "logs" / "decisions.jsonl"
    app = create_app(engine=example_engine, settings=settings(decision_log=log))
    july = {**FACTS, "as_of": "2026-07-01", "locale": "fr"}
    text = json.dumps({"input": FACTS}).replace('"16.78"', "16.78")  # a JSON number
    with TestClient(app) as client:
        answers = [
            client.post(URL.format("quote"), content=text).json(),
            client.post(URL.format("checkout"), json={"input": july, "explain": True}).json(),
        ]
        batch = client.post(
            URL.format("quote") + "/batch",
            json={"inputs": [july, {"bad": 1}], "version": "2026-01"},
        ).json()
        answers.append(batch["results"][0])
        assert client.post(URL.format("quote"), json={"input": {}}).status_code == 422
    # leaving the client ran the app's shutdown, which drains the log
    raw = log.read_text("utf-8").splitlines()
    lines = [jsonio.loads(line) for line in raw]
    assert [list(line) for line in lines] == [FIELDS] * 3
    assert [line["decision_id"] for line in lines] == [a["decision_id"] for a in answers]
    for line, answer in zip(lines, answers, strict=True):
        for key in ("ruleset", "decision", "version", "content_hash", "as_of", "locale", "result"):
            assert line[key] == answer[key]
        assert line["time"].endswith("Z")
        again = example_engine.decide(
            line["ruleset"],
            line["decision"],
            {**line["input"], "as_of": line["as_of"]},
            version=line["version"],
        )
        assert jsonio.to_plain(again.result) == line["result"]
    # The input as received: a JSON number stays a number, with its exact digits, and a
    # decimal string stays a string.
    assert '"unit_price": 16.78' in raw[0]
    assert lines[0]["input"]["order"]["items"][0]["unit_price"] == Decimal("16.78")
    assert lines[1]["input"]["order"]["items"][0]["unit_price"] == "16.78"
    assert (lines[2]["version"], lines[2]["as_of"]) == ("2026-01", "2026-07-01")


def test_inputs_are_logged_as_sent_on_one_line(
    example_engine: ruleengine.Engine, tmp_path: Path
) -> None:
    """The log writes each input's own JSON text from the request body (not encoded
    again), on one line even when the client sent it over several."""
    log = tmp_path / "decisions.jsonl"
    app = create_app(engine=example_engine, settings=settings(decision_log=log))
    single = json.dumps({"input": FACTS}, indent=2).replace('"16.78"', "1.678E+1")
    batch = json.dumps({"inputs": [FACTS, {"bad": 1}, FACTS]}, indent="\t").replace("\n", "\r\n")
    with TestClient(app) as client:
        assert client.post(URL.format("quote"), content=single).status_code == 200
        answered = client.post(URL.format("quote") + "/batch", content=batch).json()
    raw = log.read_text("utf-8").split("\n")
    assert raw[-1] == "" and len(raw) == 4  # three lines, each ended by one line break
    lines = [jsonio.loads(line) for line in raw[:-1]]
    assert [line["decision_id"] for line in lines[1:]] == [
        answered["results"][i]["decision_id"] for i in (0, 2)
    ]
    assert '"unit_price": 1.678E+1' in raw[0]  # the number's text as sent
    assert lines[0]["input"]["order"]["items"][0]["unit_price"] == Decimal("16.78")
    for line in lines[1:]:
        assert line["input"] == FACTS
    for line in lines:
        again = example_engine.decide("example", "quote", line["input"])
        assert jsonio.to_plain(again.result) == line["result"]


# --- group commit, failures, rotation, permissions, sensitive fields ---------------------


def _logged_ids(*files: Path) -> list[str]:
    return [jsonio.loads(line)["decision_id"] for f in files for line in f.read_text().splitlines()]


def test_an_answer_is_sent_only_after_its_line_is_written(
    example_engine: ruleengine.Engine, tmp_path: Path
) -> None:
    log = tmp_path / "decisions.jsonl"
    app = create_app(engine=example_engine, settings=settings(decision_log=log))
    with TestClient(app) as client:
        for n in range(1, 4):
            answer = client.post(URL.format("quote"), json={"input": FACTS}).json()
            # read while the server still runs: the line is there before the answer
            assert _logged_ids(log)[-1] == answer["decision_id"]
            assert len(_logged_ids(log)) == n
        batch = client.post(URL.format("quote") + "/batch", json={"inputs": [FACTS] * 3}).json()
        assert _logged_ids(log)[-3:] == [r["decision_id"] for r in batch["results"]]
    assert stat.S_IMODE(log.stat().st_mode) == 0o600  # created owner-only


def test_an_unwritable_log_fails_closed_with_503_and_not_ready(
    example_engine: ruleengine.Engine,
) -> None:
    # /dev/full opens but every write fails with ENOSPC: a full disk
    app = create_app(engine=example_engine, settings=settings(decision_log=Path("/dev/full")))
    with captured_logs("server.decision_log") as records, TestClient(app) as client:
        for _ in range(5):
            answer = client.post(URL.format("quote"), json={"input": FACTS})
            [error] = errors_of(answer, 503)
            assert error["code"] == "decision_log_unavailable"
            assert answer.headers["X-Request-ID"] in error["message"]
            assert answer.headers["Retry-After"] == "1"
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["decision_log"]["ok"] is False
        assert "No space left" in ready.json()["decision_log"]["error"]
        assert client.get("/healthz").status_code == 200
    errors = [r for r in records if r.levelno >= logging.ERROR]
    assert len(errors) == 1  # one line when the failure starts, not one per request
    assert errors[0].exc_info is None  # and no traceback


def test_on_error_continue_answers_and_counts_the_lost_lines(
    example_engine: ruleengine.Engine,
) -> None:
    app = create_app(
        engine=example_engine,
        settings=settings(decision_log=Path("/dev/full"), decision_log_on_error="continue"),
    )
    with captured_logs("server.decision_log") as records, TestClient(app) as client:
        for _ in range(3):
            assert client.post(URL.format("quote"), json={"input": FACTS}).status_code == 200
        assert client.get("/readyz").status_code == 200
        metrics = client.get("/metrics").text
    assert "ruleengine_decision_log_dropped_total 3.0" in metrics
    assert len([r for r in records if r.levelno >= logging.ERROR]) == 1


def test_a_log_that_cannot_be_opened_recovers_once_it_can(
    example_engine: ruleengine.Engine, tmp_path: Path
) -> None:
    blocker = tmp_path / "logs"
    blocker.write_text("a file where the log folder should be")
    log = blocker / "decisions.jsonl"
    app = create_app(engine=example_engine, settings=settings(decision_log=log))
    with TestClient(app) as client:
        assert client.get("/readyz").status_code == 503
        errors_of(client.post(URL.format("quote"), json={"input": FACTS}), 503)
        blocker.unlink()  # the operator fixes it; the log retries on its own
        wait_for("ready", lambda: client.get("/readyz").status_code == 200 or None, 10)
        answer = client.post(URL.format("quote"), json={"input": FACTS}).json()
        assert _logged_ids(log) == [answer["decision_id"]]


def test_rotation_by_size_keeps_every_line(
    example_engine: ruleengine.Engine, tmp_path: Path
) -> None:
    log = tmp_path / "decisions.jsonl"
    app = create_app(
        engine=example_engine, settings=settings(decision_log=log, decision_log_max_bytes=2000)
    )
    with TestClient(app) as client:
        ids = [
            client.post(URL.format("quote"), json={"input": FACTS}).json()["decision_id"]
            for _ in range(20)
        ]
    files = sorted(tmp_path.glob("decisions.jsonl*"), key=lambda f: f.stat().st_mtime_ns)
    files = [f for f in files if not f.name.endswith(".lock")]
    assert len(files) > 3
    assert sorted(_logged_ids(*files)) == sorted(ids)
    assert all(f.stat().st_size <= 2000 for f in files)
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)


def _sensitive_copy(example_copy: Path) -> Path:
    for types in example_copy.glob("*/types.yaml"):
        text = types.read_text()
        types.write_text(
            text.replace(
                "id: {type: string, min_length: 1}",
                "id: {type: string, min_length: 1, sensitive: true}",
            )
        )
    return example_copy


def test_sensitive_fields_are_logged_as_a_keyed_hash(example_copy: Path, tmp_path: Path) -> None:
    engine = load_copy(_sensitive_copy(example_copy))
    key = tmp_path / "log.key"
    key.write_bytes(b"s3cret-key\n")
    log = tmp_path / "decisions.jsonl"
    app = create_app(engine=engine, settings=settings(decision_log=log, decision_log_key_file=key))
    facts = {**FACTS, "customer": {**FACTS["customer"], "id": "alice@example.com"}}
    with TestClient(app) as client:
        answer = client.post(URL.format("quote"), json={"input": facts})
        assert answer.status_code == 200
        schema = client.get("/openapi.json").text
    assert '"x-sensitive":true' in schema.replace(" ", "")
    [line] = log.read_text().splitlines()
    assert "alice@example.com" not in line
    logged = jsonio.loads(line)["input"]["customer"]
    expected = hmac.new(b"s3cret-key", b'"alice@example.com"', hashlib.sha256).hexdigest()
    assert logged["id"] == f"hmac-sha256:{expected}"
    assert logged["country"] == "US"  # not sensitive: as received

    # without a key: not the value either
    app = create_app(engine=engine, settings=settings(decision_log=tmp_path / "nokey.jsonl"))
    with TestClient(app) as client:
        assert client.post(URL.format("quote"), json={"input": facts}).status_code == 200
    assert jsonio.loads((tmp_path / "nokey.jsonl").read_text())["input"]["customer"]["id"] == (
        "redacted"
    )


@pytest.mark.live
def test_kill_9_under_load_loses_no_answered_decision(tmp_path: Path) -> None:
    """A real server under concurrent load, killed with SIGKILL: every decision a client
    got a 200 for is in the log, and every line is whole."""
    log = tmp_path / "decisions.jsonl"
    answered: list[str] = []
    stop = threading.Event()

    def client(base: str) -> None:
        with httpx.Client(base_url=base, timeout=10) as http:
            while not stop.is_set():
                try:
                    response = http.post(URL.format("quote"), json={"input": FACTS})
                except httpx.TransportError:
                    return  # the server is gone
                if response.status_code == 200:
                    answered.append(response.json()["decision_id"])

    with serve_process(
        EXAMPLE, tmp_path / "server.log", "--no-watch", "--decision-log", str(log)
    ) as (base, process):
        threads = [threading.Thread(target=client, args=(base,)) for _ in range(8)]
        for thread in threads:
            thread.start()
        wait_for("load", lambda: len(answered) >= 200 or None, 60)
        process.send_signal(signal.SIGKILL)
        process.wait(15)
        stop.set()
        for thread in threads:
            thread.join(15)
    raw = log.read_bytes()
    assert raw.endswith(b"\n")  # no torn last line
    logged = set(_logged_ids(log))  # every line parses
    assert len(answered) >= 200
    assert set(answered) <= logged
