"""The playground in a real browser: headless Chromium driven by Selenium (Debian's
`chromium` and `chromium-driver`, which `.ci/run` installs), against the server run
in this process (uvicorn on a free loopback port) over a private copy of rules/.

Marked `browser`: `make test` runs them, `make test-fast` leaves them out. Without
Chromium they fail, saying what to install; they never skip silently.

Every test takes screenshots of the states it checks (`shots.take(name)`) into a
temporary folder, and one more of the page when it fails; the folder is printed in
the failure report. With `RULEENGINE_SCREENSHOTS=DIR` the named shots are also
copied to DIR (docs/playground.md's pictures are made so).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from ruleengine.suites import find_suites, load_suites
from server.app import create_app
from server.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
DRIVER = ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver")
ADMIN_TOKEN = "workbench-test-token"
# The policy the page is checked under when the server sets none: nothing inline, nothing
# from elsewhere. The page needs no more than this; a server's own policy must allow it
# (scripts and styles from 'self').
STRICT_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
_SHOTS: list[Path] = []


def shots_folder() -> Path:
    """The temporary folder of this run's screenshots (made when the first is taken)."""
    if not _SHOTS:
        _SHOTS.append(Path(tempfile.mkdtemp(prefix="playground-screens-")))
    return _SHOTS[0]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _corpus(rules: Path, target: Path) -> None:
    """A corpus of decision-log-like lines: every regression-suite case of the rule sets."""
    import ruleengine

    engine = ruleengine.load(rules)
    versions = [v for rs in engine.rulesets.values() for v in rs.versions]
    suites, _ = load_suites(find_suites(rules), versions)
    with target.open("w", encoding="utf-8") as out:
        for suite in suites:
            for case in suite.cases:
                line = {"ruleset": case.ruleset, "decision": case.decision, "input": case.facts()}
                out.write(json.dumps(line, default=str) + "\n")


def _with_csp(app: Any) -> Any:
    """The app, with STRICT_CSP on the answers that have no Content-Security-Policy of their
    own: the page is checked under the server's policy where it sets one, else this one."""

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        async def send_with_csp(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(k.lower() == b"content-security-policy" for k, _ in headers):
                    headers.append((b"content-security-policy", STRICT_CSP.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await app(scope, receive, send_with_csp if scope["type"] == "http" else send)

    return wrapped


@pytest.fixture(scope="session")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    work = tmp_path_factory.mktemp("playground")
    rules = work / "rules"
    shutil.copytree(ROOT / "rules", rules)
    corpus = work / "corpus.jsonl"
    _corpus(rules, corpus)
    settings = Settings(
        rules=rules,
        watch=False,
        access_log=False,
        log_level="warning",
        corpus=corpus,
        drafts_dir=work / "drafts",
        admin_token=ADMIN_TOKEN,
    )
    port = _free_port()
    config = uvicorn.Config(
        _with_csp(create_app(settings=settings)), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="playground-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def _executable(candidates: tuple[str, ...]) -> str | None:
    return next((c for c in candidates if os.access(c, os.X_OK)), None)


@pytest.fixture(scope="session")
def driver() -> Iterator[Any]:
    binary, chromedriver = _executable(CHROMIUM), _executable(DRIVER)
    if binary is None or chromedriver is None:
        pytest.fail(
            "the browser checks need Chromium and its driver: "
            "apt-get install -y chromium chromium-driver (.ci/run does this)",
            pytrace=False,
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    options.add_argument("--window-size=1400,1100")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(options=options, service=Service(chromedriver))
    try:
        yield browser
    finally:
        browser.quit()


class Shots:
    """Named screenshots of the page's states (and where they went)."""

    def __init__(self, driver: Any, test: str) -> None:
        self.driver = driver
        self.test = test
        self.copy_to = os.environ.get("RULEENGINE_SCREENSHOTS")

    def take(self, name: str, element: str | None = None) -> Path:
        path = shots_folder() / f"{name}.png"
        if element is not None:
            from selenium.webdriver.common.by import By

            target = self.driver.find_element(By.CSS_SELECTOR, element)
            self.driver.execute_script("arguments[0].scrollIntoView({block: 'start'})", target)
            target.screenshot(str(path))
        else:
            self.driver.save_screenshot(str(path))
        if self.copy_to:
            Path(self.copy_to).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, Path(self.copy_to) / path.name)
        return path


@pytest.fixture
def shots(driver: Any, request: pytest.FixtureRequest) -> Shots:
    return Shots(driver, request.node.name)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed and "driver" in getattr(item, "funcargs", {}):
        path = shots_folder() / f"FAILED-{item.name}.png"
        try:
            item.funcargs["driver"].save_screenshot(str(path))
        except Exception as exc:  # the browser may be what failed
            report.sections.append(("screenshots", f"no screenshot of the failure: {exc}"))
        report.sections.append(("screenshots", f"screenshots of every state: {shots_folder()}"))


Waiter = Callable[..., Any]


def wait_for(condition: Callable[[], Any], seconds: float = 10.0, what: str = "") -> Any:
    """Poll until `condition()` is truthy; its value, or an assertion naming `what`."""
    deadline = time.monotonic() + seconds
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = condition()
        except Exception as exc:  # the element may not be there yet
            last = exc
        else:
            if last:
                return last
        time.sleep(0.1)
    raise AssertionError(f"waited {seconds} s for {what or condition}: last saw {last!r}")
