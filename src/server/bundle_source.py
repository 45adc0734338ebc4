"""Rules from a bundle fetched over HTTP (or a file URL): `ruleengine serve --bundle URL`.

Replicas behind a load balancer load the same rules from one published bundle
(`ruleengine bundle rules -o rules.tar.gz`, see docs/bundles.md). Each worker
fetches the bundle at start, then `BundlePoller` asks again every
`bundle_poll_seconds` with `If-None-Match`. New bytes are unpacked into a fresh
folder and loaded through the store like any reload: they replace the running
rules only if the bundle is intact and every version loads; otherwise the
running rules stay and the failed attempt is reported by /readyz and
/v1/rulesets. The same bad bundle is not tried again until it changes.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
import threading
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import ruleengine
from ruleengine import MAX_BUNDLE_BYTES, Code, Diagnostic, RuleFileError, extract_bundle

from .store import VersionStore

log = logging.getLogger("server.bundle")

# A compressed bundle is smaller than what it unpacks to: refuse downloads beyond this.
MAX_DOWNLOAD_BYTES = MAX_BUNDLE_BYTES


class BundleSource:
    """Where the rules come from when serving a bundle; `load` is the store's loader."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        self.url = url
        self.timeout = timeout
        self._lock = threading.Lock()  # the poller and an admin reload may fetch at once
        self._scratch = Path(tempfile.mkdtemp(prefix="ruleengine-bundle-"))
        self._unpacked = 0
        self._etag: str | None = None
        self._digest: str | None = None  # of the last bytes fetched, loaded or not
        self._pending: bytes | None = None  # fetched, not yet tried
        self._current: Path | None = None  # the folder the running rules came from

    def _problem(self, message: str, hint: str | None = None) -> RuleFileError:
        return RuleFileError([Diagnostic(Code.BAD_BUNDLE, message, self.url, hint=hint)])

    def _download(self) -> tuple[int, bytes, str | None]:
        """(status, body, etag) of a conditional GET; a plain path is read as a file."""
        scheme = urlparse(self.url).scheme
        if scheme not in ("http", "https", "file"):
            try:
                return 200, Path(self.url).read_bytes(), None
            except OSError as exc:
                raise self._problem(f"cannot read bundle: {exc.strerror}") from None
        request = urllib.request.Request(self.url)
        if self._etag is not None:
            request.add_header("If-None-Match", self._etag)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body = response.read(MAX_DOWNLOAD_BYTES + 1)
                # A file: URL answers without a status: reading it is a 200.
                return response.status or 200, body, response.headers.get("ETag")
        except urllib.error.HTTPError as exc:
            if exc.code == 304:
                return 304, b"", self._etag
            raise self._problem(
                f"cannot fetch bundle: HTTP {exc.code} {exc.reason}",
                "check the bundle URL and that the bundle server is up",
            ) from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise self._problem(
                f"cannot fetch bundle: {reason}",
                "check the bundle URL and that the bundle server is up",
            ) from None

    def fetch(self) -> bool:
        """Ask for the bundle; True if new bytes arrived (kept until `load` tries them)."""
        with self._lock:
            status, body, etag = self._download()
            if status == 304:
                return False
            if len(body) > MAX_DOWNLOAD_BYTES:
                raise self._problem(f"bundle is larger than {MAX_DOWNLOAD_BYTES} bytes")
            digest = "sha256:" + hashlib.sha256(body).hexdigest()
            self._etag = etag
            if digest == self._digest:
                return False  # same bytes (a server without ETags, or a file)
            self._digest = digest
            self._pending = body
            return True

    def load(self) -> ruleengine.Engine:
        """Fetch, and load new bytes if any arrived; else reload the running folder."""
        self.fetch()
        with self._lock:
            body, self._pending = self._pending, None
            if body is None:
                if self._current is None:
                    raise self._problem("no valid bundle loaded yet")
                return ruleengine.load(self._current)
            self._unpacked += 1
            folder = self._scratch / str(self._unpacked)
            try:
                extract_bundle(body, folder, self.url)
                engine = ruleengine.load(folder)
            except BaseException:
                shutil.rmtree(folder, ignore_errors=True)
                raise
            previous, self._current = self._current, folder
            if previous is not None:
                shutil.rmtree(previous, ignore_errors=True)
            log.info("bundle loaded", extra={"url": self.url, "digest": self._digest})
            return engine

    def close(self) -> None:
        shutil.rmtree(self._scratch, ignore_errors=True)


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
