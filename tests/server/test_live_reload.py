"""Reload for real: a `ruleengine serve` process keeps answering while its rule files
are rewritten 20 times (some broken); with two workers, a file change and an admin
reload each reach both workers."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

import ruleengine

from .conftest import FACTS
from .live import serve, wait_for, write_atomically

pytestmark = pytest.mark.live

MARCH = {**FACTS, "as_of": "2026-03-15"}  # decided by version 2026-01, the one rewritten
GOLD = "[gold, 0.05]"
BROKEN = [
    ("yaml syntax", lambda text: text.replace(GOLD, "[gold, 0.05")),
    ("wrong column type", lambda text: text.replace(GOLD, '[gold, "lots"]')),
    ("unknown key", lambda text: text.replace("tables:", "tables:\n  oops: {nothing: 1}", 1)),
]


def variants(original: str) -> list[tuple[str, bool]]:
    """20 rewrites of tables.yaml: a new gold discount each time, every fourth one broken."""
    out = []
    for k in range(20):
        if k % 4 == 3:
            _, breaks = BROKEN[(k // 4) % len(BROKEN)]
            out.append((breaks(original), False))
        else:
            out.append((original.replace(GOLD, f"[gold, 0.{50 + k:03d}]"), True))
    return out


class Traffic:
    """Steady decisions from a few threads, bounded in count and time, all recorded (the count
    is high enough that a fast, quiet machine does not run out of answers before the 20
    rewrites are done; the time bound is what ends a slow run)."""

    def __init__(self, base: str, threads: int = 2, limit: int = 400_000, seconds: float = 120):
        self.base = base
        self.limit = limit
        self.until = time.monotonic() + seconds
        self.stop = threading.Event()
        self.answers: list[tuple[int, str, str]] = []  # status, content_hash or body, discount
        self.failures: list[str] = []
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def __enter__(self) -> Traffic:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(30)

    def _run(self) -> None:
        url = f"{self.base}/v1/rulesets/example/decisions/quote"
        with httpx.Client(timeout=30) as client:
            while (
                not self.stop.is_set()
                and len(self.answers) < self.limit
                and time.monotonic() < self.until
            ):
                try:
                    response = client.post(url, json={"input": MARCH})
                except httpx.HTTPError as exc:
                    self.failures.append(repr(exc))
                    continue
                if response.status_code != 200:
                    self.answers.append((response.status_code, response.text, ""))
                    continue
                body = response.json()
                self.answers.append((200, body["content_hash"], body["result"]["discount"]))


def version_2026_01(base: str) -> dict[str, Any]:
    body: dict[str, Any] = httpx.get(f"{base}/v1/rulesets/example", timeout=10).json()
    return body


def test_rewrites_under_load_never_fail_a_request(example_copy: Path, tmp_path: Path) -> None:
    tables = example_copy / "2026-01" / "tables.yaml"
    rewrites = variants(tables.read_text("utf-8"))
    staging = tmp_path / "staging"
    with (
        serve(example_copy.parent, tmp_path / "server.log") as base,
        Traffic(base) as traffic,
    ):
        first = version_2026_01(base)
        served = {first["versions"][0]["content_hash"]}
        attempt = first["last_reload"]["number"]
        for text, valid in rewrites:
            write_atomically(tables, text, staging)

            def settled(attempt: int = attempt, valid: bool = valid) -> dict[str, Any] | None:
                now = version_2026_01(base)
                last = now["last_reload"]
                if last["number"] > attempt and last["ok"] is valid:
                    if valid and now["versions"][0]["content_hash"] in served:
                        return None  # an event from the previous rewrite; wait for this one
                    return now
                return None

            now = wait_for("the reload of a rewrite", settled)
            attempt = now["last_reload"]["number"]
            if valid:
                served.add(now["versions"][0]["content_hash"])
            else:
                assert now["last_reload"]["errors"], now
                assert any("tables.yaml" in e["file"] for e in now["last_reload"]["errors"])
            flowing = len(traffic.answers) + 5
            wait_for("more answers", lambda n=flowing: True if len(traffic.answers) >= n else None)
    assert traffic.failures == []
    assert traffic.answers
    statuses = {status for status, _, _ in traffic.answers}
    assert statuses == {200}, [a for a in traffic.answers if a[0] != 200][:3]

    # Which content hashes were valid versions? Load every rewrite independently.
    valid_hashes = {_hash_of(tmp_path / "check-original", None)}
    for n, (text, valid) in enumerate(rewrites):
        loaded = _hash_of(tmp_path / f"check-{n}", text)
        assert (loaded is not None) is valid
        if loaded is not None:
            valid_hashes.add(loaded)
    assert served == valid_hashes
    seen = {content_hash for _, content_hash, _ in traffic.answers}
    assert seen <= valid_hashes
    # one hash, one answer: no request saw half of one version and half of another
    discount_by_hash: dict[str, set[str]] = {}
    for _, content_hash, discount in traffic.answers:
        discount_by_hash.setdefault(content_hash, set()).add(discount)
    assert all(len(discounts) == 1 for discounts in discount_by_hash.values())
    assert len(seen) > 1


ORIGINAL = Path(__file__).resolve().parents[2] / "rules" / "example" / "2026-01"


def _hash_of(folder: Path, tables: str | None) -> str | None:
    """The content hash of version 2026-01 with the given tables.yaml, or None if broken."""
    if not folder.exists():
        shutil.copytree(ORIGINAL, folder)
    if tables is not None:
        (folder / "tables.yaml").write_text(tables, "utf-8")
    try:
        engine = ruleengine.load(folder)
    except ruleengine.RuleFileError:
        return None
    return engine.rulesets["example"].versions[0].content_hash


def _workers_at(base: str, generation: int, tries: int = 400) -> dict[int, dict[str, Any]]:
    """Ask /readyz on fresh connections until two workers report `generation` or more."""
    seen: dict[int, dict[str, Any]] = {}
    deadline = time.monotonic() + 30
    for _ in range(tries):
        ready = httpx.get(f"{base}/readyz", timeout=10, headers={"connection": "close"}).json()
        if ready["generation"] >= generation:
            seen[ready["pid"]] = ready
        if len(seen) == 2 or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert len(seen) == 2, f"saw {seen}"
    return seen


def test_two_workers_each_reload_on_file_change_and_on_admin(
    example_copy: Path, tmp_path: Path
) -> None:
    tables = example_copy / "2026-01" / "tables.yaml"
    original = tables.read_text("utf-8")
    token = "live-token"
    with serve(
        example_copy.parent,
        tmp_path / "server.log",
        "--workers",
        "2",
        env={"RULEENGINE_ADMIN_TOKEN": token},
    ) as base:
        _workers_at(base, 1)
        write_atomically(tables, original.replace(GOLD, "[gold, 0.09]"), tmp_path / "staging")
        for ready in _workers_at(base, 2).values():
            assert ready["last_reload"]["trigger"] == "watch"
        decided = httpx.post(
            f"{base}/v1/rulesets/example/decisions/quote", json={"input": MARCH}, timeout=10
        ).json()
        assert decided["result"]["discount"] == "5.54"  # 50.34 * (9% + 2% loyalty)

        response = httpx.post(
            f"{base}/v1/admin/reload", headers={"authorization": f"Bearer {token}"}, timeout=30
        )
        assert response.status_code == 200, response.text
        triggers = sorted(r["last_reload"]["trigger"] for r in _workers_at(base, 3).values())
        assert triggers == ["admin", "signal"]
        metrics = httpx.get(f"{base}/metrics", timeout=10).text
        assert 'ruleengine_reloads_total{result="ok",trigger="watch"} 2.0' in metrics
        assert 'ruleengine_reloads_total{result="ok",trigger="startup"} 2.0' in metrics
