"""The compiled cache (ruleengine/compiled_cache.py): a checked version written by the first
load and read by the next, deciding identically; damaged, foreign or unsafe entries ignored."""

from __future__ import annotations

import os
import shutil
import stat
import threading
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

import ruleengine
from ruleengine import compiled_cache, jsonio

ROOT = Path(__file__).resolve().parents[2]
CASES = yaml.safe_load((Path(__file__).parent / "example_cases.yaml").read_text("utf-8"))["cases"]
TODAY = date(2026, 3, 15)  # the clock of example_cases.yaml


def stats() -> Counter[str]:
    return Counter(compiled_cache.STATS)


def delta(before: Counter[str]) -> dict[str, int]:
    after = stats()
    return {k: after[k] - before[k] for k in after if after[k] != before[k]}


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    """A copy of the repository's rules (example and self-service, four versions)."""
    target = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", target)
    return target


def load(rules: Path, cache: Path) -> ruleengine.Engine:
    return ruleengine.load(rules, clock=lambda: TODAY, compiled_cache=cache)


def answers(engine: ruleengine.Engine) -> list[Any]:
    """Every hand-worked example case, decided plainly and with its explanation."""
    out: list[Any] = []
    for case in CASES:
        try:
            made = engine.decide("example", case["decision"], case["input"])
            explained = engine.decide("example", case["decision"], case["input"], explain=True)
        except ruleengine.InputError as exc:
            out.append([str(p) for p in exc.problems])
            continue
        out.append(
            (jsonio.to_plain(made.result), made.version, made.content_hash, explained.derivation)
        )
    return out


def listings(engine: ruleengine.Engine) -> dict[tuple[str, str], tuple[str, str]]:
    """Each version's generated module and its traced copy (which names file:line:col of
    every expression, from the source positions of the model)."""
    return {
        (name, v.version): (v.listing(), v.listing(traced=True))
        for name, rs in engine.rulesets.items()
        for v in rs.versions
    }


def entries(cache: Path) -> list[Path]:
    return sorted(cache.glob("*.pickle"))


def test_second_load_reads_the_cache_and_decides_identically(rules: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    fresh = ruleengine.load(rules, clock=lambda: TODAY)
    before = stats()
    first = load(rules, cache)
    assert delta(before) == {"miss": 4, "write": 4}
    assert len(entries(cache)) == 4
    before = stats()
    second = load(rules, cache)
    assert delta(before) == {"hit": 4}
    assert answers(second) == answers(fresh) == answers(first)
    assert any(isinstance(a, tuple) for a in answers(second))  # decided, not only refused
    assert listings(second) == listings(fresh)
    # The folder and its entries are private to this user.
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    assert {stat.S_IMODE(p.stat().st_mode) for p in entries(cache)} == {0o600}


def test_an_edited_version_is_a_new_entry(rules: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    (rules / "example" / "versions.lock").unlink()  # an edited published version is refused
    load(rules, cache)
    tables = rules / "example" / "2026-01" / "tables.yaml"
    tables.write_text(tables.read_text("utf-8") + "\n# a comment: other bytes\n", "utf-8")
    before = stats()
    engine = load(rules, cache)
    assert delta(before) == {"hit": 3, "miss": 1, "write": 1}
    fresh = ruleengine.load(rules, clock=lambda: TODAY)
    assert engine.ruleset("example").get("2026-01").content_hash == (
        fresh.ruleset("example").get("2026-01").content_hash
    )


@pytest.mark.parametrize("damage", ["flip a payload byte", "truncate", "empty", "garbage"])
def test_a_damaged_entry_is_ignored_and_rebuilt(rules: Path, tmp_path: Path, damage: str) -> None:
    cache = tmp_path / "cache"
    fresh = ruleengine.load(rules, clock=lambda: TODAY)
    load(rules, cache)
    victim = entries(cache)[0]
    data = bytearray(victim.read_bytes())
    if damage == "flip a payload byte":
        data[-100] ^= 0xFF
    elif damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "empty":
        data = bytearray()
    else:
        data = bytearray(b"not a cache entry at all\n" * 10)
    victim.write_bytes(bytes(data))
    before = stats()
    engine = load(rules, cache)
    assert delta(before) == {"ignored": 1, "miss": 1, "write": 1, "hit": 3}
    assert answers(engine) == answers(fresh)
    before = stats()
    load(rules, cache)  # rewritten: read again
    assert delta(before) == {"hit": 4}


def test_an_entry_of_other_content_is_ignored(rules: Path, tmp_path: Path) -> None:
    """An entry moved under another key (its header names its own key) is not used."""
    cache = tmp_path / "cache"
    fresh = ruleengine.load(rules, clock=lambda: TODAY)
    load(rules, cache)
    first, second = entries(cache)[:2]
    shutil.copyfile(first, second)
    before = stats()
    engine = load(rules, cache)
    assert delta(before) == {"ignored": 1, "miss": 1, "write": 1, "hit": 3}
    assert listings(engine) == listings(fresh)


def test_an_entry_that_unpickles_to_something_else_is_ignored(
    rules: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sound entry whose checked version has another content hash (as a wrong key would
    give) is ignored: the content check runs after the key."""
    cache = tmp_path / "cache"
    load(rules, cache)
    real = compiled_cache._loads

    def other_content(payload: bytes) -> Any:
        import dataclasses

        checked = real(payload)
        assert checked is not None
        model = dataclasses.replace(checked.model, content_hash="sha256:" + "0" * 64)
        return dataclasses.replace(checked, model=model)

    monkeypatch.setattr(compiled_cache, "_loads", other_content)
    before = stats()
    load(rules, cache)
    assert delta(before) == {"ignored": 4, "miss": 4, "write": 4}


def test_entries_others_could_write_are_not_read(rules: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    load(rules, cache)
    for entry in entries(cache):
        entry.chmod(0o666)
    before = stats()
    load(rules, cache)
    assert delta(before) == {"unsafe": 4, "miss": 4, "write": 4}
    assert {stat.S_IMODE(p.stat().st_mode) for p in entries(cache)} == {0o600}


def test_a_folder_of_ours_open_to_others_is_made_private(rules: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    cache.chmod(0o777)
    load(rules, cache)
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700


def test_concurrent_loads_build_each_version_once(rules: Path, tmp_path: Path) -> None:
    """Two loaders at once (as two server workers): one builds each version, under the
    version's lock, and the other reads what it wrote."""
    cache = tmp_path / "cache"
    start = threading.Barrier(2)
    engines: list[ruleengine.Engine] = []

    def worker() -> None:
        start.wait()
        engines.append(load(rules, cache))

    before = stats()
    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert delta(before) == {"miss": 4, "write": 4, "hit": 4}
    assert answers(engines[0]) == answers(engines[1])


def test_the_environment_names_the_default_cache(
    rules: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`ruleengine serve --compiled-cache DIR` (and --workers N) hands the folder to every
    worker as RULEENGINE_COMPILED_CACHE; a load without the argument uses it."""
    cache = tmp_path / "from-env"
    monkeypatch.setenv(compiled_cache.ENV, os.fspath(cache))
    before = stats()
    ruleengine.load(rules)
    ruleengine.load(rules)
    assert delta(before) == {"miss": 4, "write": 4, "hit": 4}
    monkeypatch.delenv(compiled_cache.ENV)
    before = stats()
    ruleengine.load(rules)
    assert delta(before) == {}


def test_a_version_with_errors_is_not_cached(rules: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    (rules / "example" / "versions.lock").unlink()
    broken = rules / "example" / "2026-07" / "rules.yaml"
    broken.write_text(broken.read_text("utf-8").replace("when:", "when: (", 1), "utf-8")
    with pytest.raises(ruleengine.RuleFileError):
        load(rules, cache)
    with pytest.raises(ruleengine.RuleFileError) as again:
        load(rules, cache)
    assert "rules.yaml" in str(again.value)
    assert len(entries(cache)) == 3


def test_serve_hands_its_workers_a_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """`serve --compiled-cache DIR` names DIR; with --workers > 1 and no folder, a private
    temporary one (removed with the server's other scratch folders); one worker, none."""
    from ruleengine.cli import serve

    monkeypatch.setenv(compiled_cache.ENV, "restored after the test")  # serve sets os.environ
    monkeypatch.delenv(compiled_cache.ENV)
    scratch: list[str] = []
    serve._compiled_cache(None, 1, scratch)
    assert compiled_cache.ENV not in os.environ and scratch == []
    serve._compiled_cache(None, 2, scratch)
    (made,) = scratch
    assert os.environ[compiled_cache.ENV] == made
    assert stat.S_IMODE(Path(made).stat().st_mode) == 0o700
    shutil.rmtree(made)
    serve._compiled_cache(tmp_path / "given", 4, scratch)
    assert os.environ[compiled_cache.ENV] == str((tmp_path / "given").resolve())
    assert len(scratch) == 1


def test_other_limits_are_another_entry(rules: Path, tmp_path: Path) -> None:
    """A version checked under other limits (`serve --cost-limit`) may pass or fail
    otherwise: servers with different limits sharing a folder keep separate entries."""
    cache = tmp_path / "cache"
    other = ruleengine.Limits(max_steps=50_000_000)
    load(rules, cache)
    before = stats()
    ruleengine.load(rules, clock=lambda: TODAY, compiled_cache=cache, limits=other)
    assert delta(before) == {"miss": 4, "write": 4}
    before = stats()
    load(rules, cache)
    ruleengine.load(rules, clock=lambda: TODAY, compiled_cache=cache, limits=other)
    assert delta(before) == {"hit": 8}
    assert len(entries(cache)) == 8
