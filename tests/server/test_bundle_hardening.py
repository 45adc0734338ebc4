"""Bundles under attack and failure: a server that sends one byte at a time, SIGTERM
while the first bundle downloads, admin reloads fired at once, an index that lies
about its versions, unsigned or wrongly signed bundles, an oversized bundle, a bundle
server that goes away (`--bundle-max-age`)."""

from __future__ import annotations

import io
import json
import signal
import socket
import tarfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from fastapi.testclient import TestClient

from ruleengine.bundle import build_bundle, load_public_key, load_signing_key
from server import bundle_source
from server.app import create_app
from server.bundle_source import BundleSource

from .conftest import FACTS, URL, Published, settings
from .live import RULEENGINE, free_port, serve_process, wait_for
from .test_bundle_source import _rules


@pytest.fixture
def trickle() -> Iterator[str]:
    """A server that accepts, then sends one byte every 0.2 s for ever."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    stop = threading.Event()

    def drip(conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)
            for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 10_000:
                if stop.wait(0.2):
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=drip, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/rules.tar.gz"
    finally:
        stop.set()
        listener.close()


def _keys(tmp_path: Path, name: str) -> tuple[Path, Path]:
    key = ed25519.Ed25519PrivateKey.generate()
    private = tmp_path / f"{name}.pem"
    public = tmp_path / f"{name}.pub.pem"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private, public


@pytest.mark.live
def test_a_trickling_server_is_cut_off_at_the_deadline(trickle: str) -> None:
    source = BundleSource(trickle, timeout=1.0)
    start = time.monotonic()
    with pytest.raises(Exception) as caught:
        source.fetch()
    assert time.monotonic() - start < 3
    assert "no whole answer within 1s" in str(caught.value.diagnostics[0].message)  # type: ignore[attr-defined]
    assert source.state()["last_error"].startswith("cannot fetch bundle: no whole answer")
    source.close()


@pytest.mark.live
def test_cancel_aborts_the_download_in_flight(trickle: str) -> None:
    source = BundleSource(trickle, timeout=60.0)
    threading.Timer(0.5, source.cancel).start()
    start = time.monotonic()
    with pytest.raises(Exception, match=r"bad_bundle|cancel"):
        source.fetch()
    assert time.monotonic() - start < 3
    source.close()


@pytest.mark.live
def test_sigterm_during_the_first_download_stops_the_server(trickle: str, tmp_path: Path) -> None:
    import subprocess

    port = free_port()
    with (tmp_path / "server.log").open("w") as out:
        process = subprocess.Popen(
            [
                str(RULEENGINE),
                "serve",
                "--bundle",
                trickle,
                "--bundle-timeout",
                "120",
                "--port",
                str(port),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            time.sleep(2)  # the download is under way
            assert process.poll() is None
            start = time.monotonic()
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=10)
            assert time.monotonic() - start < 10
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()


def test_the_index_must_list_exactly_the_versions_that_load(tmp_path: Path) -> None:
    body, _ = build_bundle(_rules(tmp_path, "a"))
    members: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as tar:
        for info in tar.getmembers():
            handle = tar.extractfile(info)
            assert handle is not None
            members[info.name] = handle.read()
    lying = json.loads(members[".bundle.json"])
    lying["versions"][0]["content_hash"] = "sha256:" + "0" * 64
    lying["versions"].append({**lying["versions"][0], "version": "2099-01"})
    members[".bundle.json"] = json.dumps(lying).encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    path = tmp_path / "lying.tar.gz"
    path.write_bytes(buffer.getvalue())
    app = create_app(settings=settings(bundle=str(path), bundle_poll_seconds=0))
    with TestClient(app) as client:
        ready = client.get("/readyz").json()
    assert ready["status"] == "not_ready"
    error = ready["source"]["last_error"]
    assert "example@2099-01 is listed in .bundle.json but not in the bundle" in error
    assert "example@2026-01: .bundle.json says content_hash sha256:0000" in error


def test_signed_bundles_only(tmp_path: Path, bundle_server: tuple[Published, str]) -> None:
    published, url = bundle_server
    private, public = _keys(tmp_path, "release")
    other, _ = _keys(tmp_path, "other")
    signed, index = build_bundle(_rules(tmp_path, "a"), load_signing_key(private))
    assert signed == build_bundle(_rules(tmp_path, "b"), load_signing_key(private))[0]
    published.publish(signed)
    app = create_app(settings=settings(bundle=url, bundle_poll_seconds=0, bundle_public_key=public))
    with TestClient(app) as client:
        ready = client.get("/readyz").json()
        assert ready["status"] == "ready"
        assert ready["source"]["bundle_digest"] == index.digest
        assert ready["source"]["signed_by_required_key"] is True
        good = client.post(URL.format("quote"), json={"input": FACTS}).json()["content_hash"]
        for body, says in [
            (build_bundle(_rules(tmp_path, "c", "0.13"))[0], "it is not signed"),
            (
                build_bundle(_rules(tmp_path, "d", "0.14"), load_signing_key(other))[0],
                "bad signature",
            ),
        ]:
            published.publish(body)
            assert client.post("/v1/admin/reload").status_code in (404, 401)  # no admin here
            services = client.app.state.services  # type: ignore[attr-defined]
            attempt = services.store.reload("bundle")
            assert not attempt.ok
            ready = client.get("/readyz").json()
            assert ready["status"] == "ready"  # the last good bundle keeps serving
            assert says in ready["source"]["last_error"]
            assert ready["source"]["bundle_digest"] == index.digest
            answer = client.post(URL.format("quote"), json={"input": FACTS}).json()
            assert answer["content_hash"] == good


def test_keys_that_are_not_ed25519_pem_are_refused(tmp_path: Path) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("not a key")
    with pytest.raises(ValueError, match="is not a PEM private key"):
        load_signing_key(junk)
    with pytest.raises(ValueError, match="cannot read the public key"):
        load_public_key(tmp_path / "missing.pem")


def test_an_oversized_bundle_is_not_downloaded_again(
    tmp_path: Path, bundle_server: tuple[Published, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    published, url = bundle_server
    body, _ = build_bundle(_rules(tmp_path, "a"))
    published.publish(body)
    monkeypatch.setattr(bundle_source, "MAX_DOWNLOAD_BYTES", len(body) - 1)
    source = BundleSource(url)
    try:
        for _ in range(3):
            with pytest.raises(Exception, match=r"bad_bundle|larger"):
                source.load()
            assert "larger than" in (source.state()["last_error"] or "")
        # asked first without, then with the refused bundle's ETag: answered 304, so the
        # oversized body is not sent again (the first time, Content-Length alone refused it)
        assert published.requests == [None, published.etag, published.etag]
    finally:
        source.close()


@pytest.mark.live
def test_a_source_away_longer_than_max_age_is_not_ready(
    tmp_path: Path, bundle_server: tuple[Published, str]
) -> None:
    published, url = bundle_server
    body, index = build_bundle(_rules(tmp_path, "a"))
    published.publish(body)
    app = create_app(
        settings=settings(bundle=url, bundle_poll_seconds=0.2, bundle_max_age_seconds=1.0)
    )
    with TestClient(app) as client:
        ready = client.get("/readyz").json()
        assert (ready["status"], ready["source"]["stale"]) == ("ready", False)
        assert ready["source"]["source"] == url  # an http URL is shown as it is
        listed = client.get("/v1/rulesets").json()
        assert listed["source"]["bundle_digest"] == index.digest
        published.status = 503
        wait_for("not ready", lambda: client.get("/readyz").status_code == 503 or None, 10)
        ready = client.get("/readyz").json()
        assert ready["source"]["stale"] is True
        assert "HTTP 503" in ready["source"]["last_error"]
        # decisions still work on the last good bundle; only the balancer is told
        assert client.post(URL.format("quote"), json={"input": FACTS}).status_code == 200
        published.status = 200
        wait_for("ready", lambda: client.get("/readyz").status_code == 200 or None, 10)


@pytest.mark.live
def test_admin_reloads_never_pile_up(tmp_path: Path, bundle_server: tuple[Published, str]) -> None:
    published, url = bundle_server
    published.publish(build_bundle(_rules(tmp_path, "a"))[0])
    token = {"Authorization": "Bearer t"}
    with serve_process(
        None,
        tmp_path / "server.log",
        "--bundle",
        url,
        "--bundle-poll",
        "0",
        env={"RULEENGINE_ADMIN_TOKEN": "t"},
    ) as (base, _):
        published.publish(build_bundle(_rules(tmp_path, "b", "0.13"))[0])
        published.delay = 2.0  # a slow bundle server
        asked = len(published.requests)
        with ThreadPoolExecutor(12) as pool:
            reloads = [
                pool.submit(httpx.post, f"{base}/v1/admin/reload", headers=token, timeout=30)
                for _ in range(12)
            ]
            time.sleep(0.3)
            start = time.monotonic()
            assert httpx.get(f"{base}/readyz", timeout=5).status_code == 200
            decided = httpx.post(f"{base}{URL.format('quote')}", json={"input": FACTS}, timeout=5)
            assert decided.status_code == 200
            assert time.monotonic() - start < 1.5  # not stuck behind the reloads
            answers: list[Any] = [r.result().json() for r in reloads]
        assert all(a["reload"]["ok"] for a in answers)
        # joined: one or two downloads (a reload that starts as one ends), not twelve
        assert len(published.requests) - asked <= 2
