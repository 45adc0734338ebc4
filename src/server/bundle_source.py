"""Rules from a bundle fetched over HTTP (or a file URL): `ruleengine serve --bundle URL`.

Replicas behind a load balancer load the same rules from one published bundle
(`ruleengine bundle rules -o rules.tar.gz`, see docs/bundles.md). Each worker
fetches the bundle at start, then `BundlePoller` asks again every
`bundle_poll_seconds` with `If-None-Match`. New bytes are unpacked into a fresh
folder and loaded through the store like any reload: they replace the running
rules only if the bundle is intact (signed by the configured key, when there is
one), every version loads, and the versions loaded are exactly those its index
lists; otherwise the running rules stay and the failed attempt is reported by
/readyz and /v1/rulesets. The same bad bundle is not downloaded again until it
changes (its ETag answers 304), an oversized one included.

Every download has one overall deadline (`timeout`), however slowly the server
sends; `cancel()` (SIGTERM at start, shutdown) aborts the one in flight at once.
`state()` says where the rules come from, which bundle runs, when the source last
answered and what went wrong last; with `max_age`, a source that has not answered
for longer makes the replica not ready.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import logging
import shutil
import socket
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import ruleengine
from ruleengine import (
    MAX_BUNDLE_BYTES,
    Code,
    Diagnostic,
    RuleFileError,
    extract_bundle,
    verify_versions,
)

from .store import VersionStore

log = logging.getLogger("server.bundle")

# A compressed bundle is smaller than what it unpacks to: refuse downloads beyond this.
MAX_DOWNLOAD_BYTES = MAX_BUNDLE_BYTES
MAX_REDIRECTS = 3
_FETCH_HINT = "check the bundle URL and that the bundle server is up"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def public_source(url: str) -> str:
    """The bundle's source as public answers show it: an http(s) URL without
    credentials or query; for a file, only its name (no server path)."""
    parts = urlsplit(url)
    if parts.scheme in ("http", "https"):
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{host}{port}{parts.path}"
    return Path(parts.path if parts.scheme == "file" else url).name


class _Fetch:
    """One GET with an overall deadline; `abort()` (from another thread) ends it now."""

    def __init__(self) -> None:
        self._conn: http.client.HTTPConnection | None = None
        self._lock = threading.Lock()
        self.aborted = ""

    def abort(self, why: str) -> None:
        with self._lock:
            self.aborted = self.aborted or why
            conn = self._conn
        if conn is not None and conn.sock is not None:
            with contextlib.suppress(OSError):
                conn.sock.shutdown(socket.SHUT_RDWR)

    def get(self, url: str, etag: str | None, deadline: float) -> tuple[int, bytes, str | None]:
        # The watchdog: however slowly the server sends (headers included), the socket
        # is shut down at the deadline and the read in progress fails at once.
        watchdog = threading.Timer(max(deadline - time.monotonic(), 0), self.abort, ("deadline",))
        watchdog.daemon = True
        watchdog.start()
        try:
            return self._get(url, etag, deadline)
        finally:
            watchdog.cancel()

    def _get(self, url: str, etag: str | None, deadline: float) -> tuple[int, bytes, str | None]:
        for _ in range(MAX_REDIRECTS + 1):
            parts = urlsplit(url)
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.aborted:
                raise TimeoutError(self.aborted or "deadline passed")
            cls = (
                http.client.HTTPSConnection
                if parts.scheme == "https"
                else http.client.HTTPConnection
            )
            conn = cls(parts.hostname or "", parts.port, timeout=remaining)
            with self._lock:
                self._conn = conn
            try:
                headers = {"If-None-Match": etag} if etag else {}
                target = parts.path or "/"
                conn.request(
                    "GET", target + (f"?{parts.query}" if parts.query else ""), headers=headers
                )
                response = conn.getresponse()
                if response.status in (301, 302, 303, 307, 308) and response.getheader("Location"):
                    url = urljoin(url, response.getheader("Location", ""))
                    continue
                if response.status != 200:
                    return response.status, b"", response.getheader("ETag")
                declared = response.getheader("Content-Length")
                if (
                    declared is not None
                    and declared.isdigit()
                    and int(declared) > MAX_DOWNLOAD_BYTES
                ):
                    return 413, b"", response.getheader("ETag")  # not downloaded at all
                chunks: list[bytes] = []
                size = 0
                while size <= MAX_DOWNLOAD_BYTES:
                    if time.monotonic() > deadline or self.aborted:
                        raise TimeoutError(self.aborted or "deadline passed")
                    chunk = response.read1(65536)
                    if not chunk:
                        break
                    chunks.append(chunk)
                    size += len(chunk)
                return 200, b"".join(chunks), response.getheader("ETag")
            finally:
                with self._lock:
                    self._conn = None
                conn.close()
        raise OSError(f"more than {MAX_REDIRECTS} redirects")


class BundleSource:
    """Where the rules come from when serving a bundle; `load` is the store's loader."""

    def __init__(
        self,
        url: str,
        timeout: float = 30.0,
        public_key: Any = None,
        max_age: float | None = None,
    ) -> None:
        self.url = url
        self.timeout = timeout
        self.public_key = public_key  # an Ed25519 public key: only bundles it signed load
        self.max_age = max_age
        self._lock = threading.Lock()  # the poller and an admin reload may fetch at once
        self._scratch = Path(tempfile.mkdtemp(prefix="ruleengine-bundle-"))
        self.root = self._scratch
        self._unpacked = 0
        self._etag: str | None = None
        self._digest: str | None = None  # of the last bytes fetched, loaded or not
        self._pending: bytes | None = None  # fetched, not yet tried
        self._current: Path | None = None  # the folder the running rules came from
        self._running: str | None = None  # digest of the bundle the running rules came from
        self._refusal: str | None = None  # why the bytes behind `_etag` were refused
        self._fetch: _Fetch | None = None
        self._cancelled = threading.Event()
        self._answered_at: float | None = None  # monotonic time the source last answered
        self.last_fetch: str | None = None
        self.last_error: str | None = None
        self.last_error_at: str | None = None

    def _problem(self, message: str, hint: str | None = None) -> RuleFileError:
        return RuleFileError(
            [Diagnostic(Code.BAD_BUNDLE, message, public_source(self.url), hint=hint)]
        )

    def _failed(self, message: str, hint: str | None = None) -> RuleFileError:
        self.last_error, self.last_error_at = message, _now()
        return self._problem(message, hint)

    def cancel(self) -> None:
        """Abort the download in flight and every later one (shutdown)."""
        self._cancelled.set()
        fetch = self._fetch
        if fetch is not None:
            fetch.abort("cancelled")

    def _download(self) -> tuple[int, bytes, str | None]:
        """(status, body, etag) of a conditional GET; a plain path is read as a file."""
        if self._cancelled.is_set():
            raise self._failed("cancelled: the server is stopping")
        scheme = urlsplit(self.url).scheme
        if scheme not in ("http", "https"):
            path = Path(urlsplit(self.url).path if scheme == "file" else self.url)
            try:
                if path.stat().st_size > MAX_DOWNLOAD_BYTES:
                    return 413, b"", None
                return 200, path.read_bytes(), None
            except OSError as exc:
                raise self._failed(f"cannot read bundle: {exc.strerror}") from None
        fetch = self._fetch = _Fetch()
        try:
            return fetch.get(self.url, self._etag, time.monotonic() + self.timeout)
        except (OSError, http.client.HTTPException, ValueError) as exc:  # TimeoutError too
            if fetch.aborted == "cancelled":
                raise self._failed("cancelled: the server is stopping") from None
            if fetch.aborted or isinstance(exc, TimeoutError):
                raise self._failed(
                    f"cannot fetch bundle: no whole answer within {self.timeout:g}s", _FETCH_HINT
                ) from None
            raise self._failed(
                f"cannot fetch bundle: {exc or type(exc).__name__}", _FETCH_HINT
            ) from None
        finally:
            self._fetch = None

    def fetch(self) -> bool:
        """Ask for the bundle; True if new bytes arrived (kept until `load` tries them)."""
        with self._lock:
            status, body, etag = self._download()
            if status == 304:
                self._answered()
                if self._refusal is not None:  # still the bundle refused before
                    self.last_error = self._refusal
                return False
            if status == 413 or (status == 200 and len(body) > MAX_DOWNLOAD_BYTES):
                self._answered()
                self._etag = etag  # asked again with it: 304 until it changes, no download
                self._refusal = f"bundle is larger than {MAX_DOWNLOAD_BYTES} bytes"
                raise self._failed(self._refusal, "build a smaller bundle")
            if status != 200:
                reason = http.client.responses.get(status, "")
                raise self._failed(f"cannot fetch bundle: HTTP {status} {reason}", _FETCH_HINT)
            self._answered()
            digest = "sha256:" + hashlib.sha256(body).hexdigest()
            self._etag = etag
            if digest == self._digest:
                return False  # same bytes (a server without ETags, or a file)
            self._digest = digest
            self._pending = body
            self._refusal = None
            return True

    def _answered(self) -> None:
        self._answered_at = time.monotonic()
        self.last_fetch = _now()
        if self._refusal is None:
            self.last_error = None

    def load(self) -> ruleengine.Engine:
        """Fetch, and load new bytes if any arrived; else reload the running folder."""
        self.fetch()
        with self._lock:
            body, self._pending = self._pending, None
            if body is None:
                if self._current is None:
                    raise self._failed(self._refusal or "no valid bundle loaded yet")
                return ruleengine.load(self._current)
            self._unpacked += 1
            folder = self._scratch / str(self._unpacked)
            try:
                index = extract_bundle(body, folder, public_source(self.url), self.public_key)
                engine = ruleengine.load(folder)
                verify_versions(index, engine, public_source(self.url))
            except RuleFileError as exc:
                shutil.rmtree(folder, ignore_errors=True)
                self._refusal = exc.diagnostics[0].message if exc.diagnostics else "bad bundle"
                self.last_error, self.last_error_at = self._refusal, _now()
                raise
            except BaseException:
                shutil.rmtree(folder, ignore_errors=True)
                raise
            previous, self._current = self._current, folder
            self._running = index.digest
            self._refusal = self.last_error = None
            if previous is not None:
                shutil.rmtree(previous, ignore_errors=True)
            log.info(
                "bundle loaded", extra={"url": public_source(self.url), "digest": index.digest}
            )
            return engine

    def stale(self) -> bool:
        """Whether the source has not answered for longer than `max_age` (when set)."""
        if self.max_age is None:
            return False
        if self._answered_at is None:
            return True
        return time.monotonic() - self._answered_at > self.max_age

    def state(self) -> dict[str, Any]:
        """What /readyz and /v1/rulesets show about this source (no server paths)."""
        return {
            "kind": "bundle",
            "source": public_source(self.url),
            "bundle_digest": self._running,
            "signed_by_required_key": self.public_key is not None,
            "last_fetch": self.last_fetch,
            "last_error": self.last_error,
            "last_error_at": self.last_error_at,
            "max_age_seconds": self.max_age,
            "stale": self.stale(),
        }

    def close(self) -> None:
        self.cancel()
        shutil.rmtree(self._scratch, ignore_errors=True)


class FolderSource:
    """`state()` of rules served from a folder: its name, the last successful load and
    the last error (no path: the folder's name only)."""

    def __init__(self, folder: Path, store: VersionStore) -> None:
        self.root = folder  # diagnostics are shown relative to it
        self.name = folder.name
        self.store = store
        self.last_ok: str | None = None
        store.on_reload(self._reloaded)

    def _reloaded(self, attempt: Any) -> None:
        if attempt.ok:
            self.last_ok = attempt.time

    def stale(self) -> bool:
        return False

    def state(self) -> dict[str, Any]:
        last = self.store.last_reload
        error = None
        if last is not None and not last.ok and last.errors:
            error = last.errors[0].message + (
                f" (and {len(last.errors) - 1} more)" if len(last.errors) > 1 else ""
            )
        return {
            "kind": "folder",
            "source": self.name,
            "bundle_digest": None,
            "last_fetch": self.last_ok,
            "last_error": error,
        }


class BundlePoller:
    """Polls the bundle in the background and reloads the store when it changed."""

    def __init__(self, store: VersionStore, source: BundleSource, interval: float) -> None:
        self.store = store
        self.source = source
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None and self.interval > 0:
            self._thread = threading.Thread(target=self._run, name="bundle-poller", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self.source.cancel()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def poll(self) -> bool:
        """One round: True if a new bundle arrived (and a reload was attempted)."""
        try:
            changed = self.source.fetch()
        except RuleFileError as exc:  # the bundle server is away: keep serving, ask again
            log.warning("bundle fetch failed", extra={"error": exc.diagnostics[0].message})
            return False
        if changed:
            self.store.reload("bundle")
        return changed

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.poll()
