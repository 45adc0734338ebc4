"""Only whole versions are loaded: a rule file written in two halves, with a pause, under a
steady stream of decisions, is never decided from its first half.

Two guards, each shown on its own: the watcher reloads only once the rules folder has
been still for the settle time (an unlocked rule set, a pause shorter than the settle
time), and a published version loads only when its bytes match versions.lock (a pause
longer than the settle time: the half-written file is loaded and refused).
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import ruleengine
from ruleengine.lock import LOCK_NAME
from ruleengine.qa.publish import publish
from server.store import ReloadAttempt, VersionStore
from server.watch import RulesWatcher

from .conftest import EXAMPLE, FACTS

PLATINUM = {**FACTS["customer"], "tier": "platinum"}
MARCH = {"customer": PLATINUM, "order": FACTS["order"], "as_of": "2026-03-15"}


def rewritten_tables(original: str) -> tuple[str, str]:
    """tables.yaml with tier_discounts moved last and gold at 7%: (whole file, first half).

    The first half ends after the gold row: valid YAML, a valid (shorter) table, a
    version that loads, in which platinum customers get no discount at all.
    """
    block = "  tier_discounts:\n    key: tier\n    columns: {tier: string, percent: decimal}\n    rows:\n      - [gold, 0.05]\n      - [platinum, 0.10]\n"
    assert block in original, "rules/example/2026-01/tables.yaml changed: update this test"
    moved = original.replace(block, "") + block.replace("0.05", "0.07")
    cut = moved.index("      - [platinum, 0.10]")
    return moved, moved[:cut]


def hash_of(folder: Path, tables: str) -> str:
    copy = folder.parents[2] / "probe" / "example" / folder.name
    shutil.rmtree(copy.parent, ignore_errors=True)
    shutil.copytree(folder, copy)
    (copy / "tables.yaml").write_text(tables, "utf-8")
    return ruleengine.load(copy).ruleset("example").versions[0].content_hash


def write_in_two_halves(path: Path, first: str, rest: str, pause: float) -> None:
    with path.open("w", encoding="utf-8") as handle:
        handle.write(first)
        handle.flush()
        os.fsync(handle.fileno())
        time.sleep(pause)
        handle.write(rest)


class Traffic:
    """Decides continuously from the store's current snapshot; records each content hash."""

    def __init__(self, store: VersionStore, facts: dict[str, Any]) -> None:
        self.store = store
        self.facts = facts
        self.hashes: list[str] = []
        self.discounts: set[Any] = set()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.is_set():
            snapshot = self.store.snapshot
            assert snapshot is not None
            made = snapshot.engine.decide("example", "quote", self.facts)
            self.hashes.append(made.content_hash)
            self.discounts.add(made.result["discount"])
            time.sleep(0.002)


@contextmanager
def watched(
    rules: Path, settle_ms: int, facts: dict[str, Any] = MARCH
) -> Iterator[tuple[VersionStore, Traffic, list[ReloadAttempt]]]:
    store = VersionStore(lambda: ruleengine.load(rules, drafts="none"))
    attempts: list[ReloadAttempt] = []
    store.on_reload(attempts.append)
    assert store.reload("startup").ok
    watcher = RulesWatcher(store, rules, None, timing=(50, settle_ms))
    traffic = Traffic(store, facts)
    watcher.start()
    traffic.thread.start()
    try:
        time.sleep(0.3)  # the watcher is up
        yield store, traffic, attempts
    finally:
        traffic.stop.set()
        traffic.thread.join(10)
        watcher.stop()


def wait_until(condition: Any, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_slowly_written_file_is_loaded_only_when_whole(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(EXAMPLE, rules / "example", ignore=shutil.ignore_patterns("tests", LOCK_NAME))
    version = rules / "example" / "2026-01"
    whole, first = rewritten_tables((version / "tables.yaml").read_text("utf-8"))
    original_hash = ruleengine.load(rules).ruleset("example").versions[0].content_hash
    partial_hash, whole_hash = hash_of(version, first), hash_of(version, whole)
    assert len({original_hash, partial_hash, whole_hash}) == 3
    with watched(rules, settle_ms=1000) as (_, traffic, attempts):
        write_in_two_halves(version / "tables.yaml", first, whole[len(first) :], pause=0.7)
        wait_until(lambda: traffic.hashes and traffic.hashes[-1] == whole_hash)
        time.sleep(0.2)
    assert partial_hash not in traffic.hashes
    assert set(traffic.hashes) == {original_hash, whole_hash}
    assert len(traffic.hashes) > 100  # a steady stream, before, during and after
    assert [a.ok for a in attempts] == [True, True]  # startup, then the whole file once
    assert {"0.00"} & {str(d) for d in traffic.discounts} == set()  # platinum always had one


def test_a_published_version_loads_only_when_it_matches_the_lock(tmp_path: Path) -> None:
    """The new lock arrives first (as a checkout may write it), naming the new version's
    bytes; the version's folder is then written slowly, with a pause longer than the
    settle time: the half-written version is loaded, and refused."""
    rules = tmp_path / "rules"
    shutil.copytree(EXAMPLE, rules / "example", ignore=shutil.ignore_patterns("tests"))
    staged = tmp_path / "staged"  # where the release was prepared and published
    shutil.copytree(rules, staged)
    draft = staged / "example" / "2027-01"
    shutil.copytree(staged / "example" / "2026-07", draft)
    manifest = draft / "manifest.yaml"
    manifest.write_text(
        manifest.read_text("utf-8")
        .replace('version: "2026-07"', 'version: "2027-01"')
        .replace("2026-07-01", "2027-01-01"),
        "utf-8",
    )
    tables = draft / "tables.yaml"
    whole = tables.read_text("utf-8").replace("[gold, 0.05]", "[gold, 0.07]")
    tables.write_text(whole, "utf-8")
    assert not publish(staged, date(2026, 12, 20)).refused
    lock = json.loads((staged / "example" / LOCK_NAME).read_text("utf-8"))
    new_hash, july_hash = lock["versions"][-1]["content_hash"], lock["versions"][-2]["content_hash"]

    january = {**MARCH, "as_of": "2027-01-15"}
    target = rules / "example" / "2027-01"
    with watched(rules, settle_ms=200, facts=january) as (_, traffic, attempts):
        shutil.copy(staged / "example" / LOCK_NAME, rules / "example" / LOCK_NAME)
        target.mkdir()
        for path in sorted(draft.iterdir()):
            if path.name != "tables.yaml":
                shutil.copy(path, target / path.name)
        cut = whole.index("[gold, 0.07]")
        write_in_two_halves(target / "tables.yaml", whole[:cut], whole[cut:], pause=1.5)
        wait_until(lambda: traffic.hashes and traffic.hashes[-1] == new_hash)
    # The half-written version was loaded during the pause, and refused.
    codes = {d.code for a in attempts if not a.ok for d in a.errors}
    assert "published_version_changed" in codes, attempts
    assert set(traffic.hashes) == {july_hash, new_hash}
    assert attempts[-1].ok
