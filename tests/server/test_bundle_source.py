"""Serving rules from a bundle fetched over HTTP: fetched at start, polled with ETags,
replaced only by a bundle that is intact and loads, never by a bad one."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ruleengine.bundle import build_bundle
from server.app import create_app
from server.bundle_source import BundlePoller, BundleSource
from server.store import VersionStore

from .conftest import EXAMPLE, FACTS, URL, Published, settings


def _rules(tmp_path: Path, name: str, discount: str | None = None) -> Path:
    """A copy of rules/example; with `discount`, one table value changed (a new hash)."""
    root = tmp_path / name
    shutil.copytree(
        EXAMPLE, root / "example", ignore=shutil.ignore_patterns("tests", "versions.lock")
    )
    if discount is not None:
        changed = False
        for file in (root / "example").rglob("*.yaml"):
            text = file.read_text("utf-8")
            if "[platinum, 0.12]" in text:
                file.write_text(
                    text.replace("[platinum, 0.12]", f"[platinum, {discount}]"), "utf-8"
                )
                changed = True
        assert changed, "the example rules changed: update this test's edit"
    return root


def _hashes(store: VersionStore) -> set[str]:
    assert store.snapshot is not None
    engine = store.snapshot.engine
    return {v.content_hash for rs in engine.rulesets.values() for v in rs.versions}


def test_a_bundle_is_fetched_polled_and_replaced_only_when_good(
    tmp_path: Path, bundle_server: tuple[Published, str]
) -> None:
    published, url = bundle_server
    first, first_index = build_bundle(_rules(tmp_path, "a"))
    published.publish(first)
    source = BundleSource(url)
    store = VersionStore(source.load)
    poller = BundlePoller(store, source, interval=0)
    try:
        assert store.reload("startup").ok
        assert _hashes(store) == {v["content_hash"] for v in first_index.versions}

        # Unchanged: the server is asked with the ETag and answers 304; no reload.
        attempts = store.last_reload
        assert poller.poll() is False
        assert published.requests[-1] == published.etag
        assert store.last_reload is attempts

        # A new bundle: loaded and swapped in.
        second, second_index = build_bundle(_rules(tmp_path, "b", discount="0.15"))
        assert second_index.digest != first_index.digest
        published.publish(second)
        assert poller.poll() is True
        assert store.last_reload is not None and store.last_reload.ok
        assert _hashes(store) == {v["content_hash"] for v in second_index.versions}

        # A corrupt bundle never replaces the running rules, and is not tried twice.
        published.publish(second[: len(second) // 2])
        assert poller.poll() is True
        failed = store.last_reload
        assert failed is not None and not failed.ok
        assert [d.code for d in failed.errors] == ["bad_bundle"]
        assert failed.errors[0].file == url
        assert _hashes(store) == {v["content_hash"] for v in second_index.versions}
        assert poller.poll() is False
        assert store.last_reload is failed

        # The bundle server away: keep serving, report nothing new.
        published.status = 503
        assert poller.poll() is False
        assert _hashes(store) == {v["content_hash"] for v in second_index.versions}

        # Back, with the first bundle again: loaded.
        published.status = 200
        published.publish(first)
        assert poller.poll() is True
        assert _hashes(store) == {v["content_hash"] for v in first_index.versions}
    finally:
        source.close()
    assert not source._scratch.exists()  # unpacked bundles are cleaned up


def test_the_app_serves_a_bundle_and_reports_a_bad_one(
    tmp_path: Path, bundle_server: tuple[Published, str]
) -> None:
    published, url = bundle_server
    body, index = build_bundle(_rules(tmp_path, "a"))
    published.publish(body)
    app = create_app(settings=settings(bundle=url, bundle_poll_seconds=0))
    with TestClient(app) as client:
        assert client.get("/readyz").status_code == 200
        answer = client.post(URL.format("quote"), json={"input": FACTS})
        assert answer.status_code == 200, answer.text
        assert answer.json()["content_hash"] in {v["content_hash"] for v in index.versions}


def test_an_unreachable_bundle_is_not_ready_and_says_why(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.tar.gz"
    app = create_app(settings=settings(bundle=str(missing), bundle_poll_seconds=0))
    with TestClient(app) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert "nowhere.tar.gz" in ready.text
        assert str(tmp_path) not in ready.text  # no file-system path in a public answer
        assert "bad_bundle" in ready.text


def test_a_bundle_from_a_file_path(tmp_path: Path) -> None:
    body, index = build_bundle(_rules(tmp_path, "a"))
    path = tmp_path / "rules.tar.gz"
    path.write_bytes(body)
    for where in (str(path), path.as_uri()):
        app = create_app(settings=settings(bundle=where, bundle_poll_seconds=0))
        with TestClient(app) as client:
            listed = client.get("/v1/rulesets/example").json()
            assert {v["content_hash"] for v in listed["versions"]} == {
                v["content_hash"] for v in index.versions
            }


def test_a_bundle_server_down_at_start_is_waited_for(
    tmp_path: Path, bundle_server: tuple[Published, str]
) -> None:
    published, url = bundle_server
    body, index = build_bundle(_rules(tmp_path, "a"))
    published.publish(body)
    published.status = 503
    source = BundleSource(url)
    store = VersionStore(source.load)
    poller = BundlePoller(store, source, interval=0)
    try:
        failed = store.reload("startup")
        assert not failed.ok and store.snapshot is None
        assert "HTTP 503" in failed.errors[0].message
        assert poller.poll() is False  # still down
        published.status = 200
        assert poller.poll() is True
        assert _hashes(store) == {v["content_hash"] for v in index.versions}
    finally:
        source.close()


def test_an_oversized_download_is_refused(
    tmp_path: Path, bundle_server: tuple[Published, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from server import bundle_source

    published, url = bundle_server
    body, _ = build_bundle(_rules(tmp_path, "a"))
    published.publish(body)
    monkeypatch.setattr(bundle_source, "MAX_DOWNLOAD_BYTES", len(body) - 1)
    source = BundleSource(url)
    try:
        failed = VersionStore(source.load).reload("startup")
        assert not failed.ok
        assert [d.code for d in failed.errors] == ["bad_bundle"]
        assert "larger than" in failed.errors[0].message
    finally:
        source.close()
