"""How a QA job's partitions are spread: Dask tasks group partitions, a failing one is named."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from ruleengine.qa import distribute
from ruleengine.qa.diff import DiffRequest, run_diff
from ruleengine.qa.distribute import (
    TASK_BYTES,
    JobError,
    PartFailed,
    Runner,
    _close_children,
    run_job,
    run_parts,
    tasks,
)
from ruleengine.qa.sources import InputFile, Partition, find_inputs, plan

from .test_diff import corpus

CASES = yaml.safe_load((Path(__file__).parent / "distribute_tasks.yaml").read_text("utf-8"))


def partitions(*sizes: int) -> list[Partition]:
    """Partitions of the given byte sizes, two to a file."""
    parts = []
    start = 0
    for number, size in enumerate(sizes):
        file = InputFile(number // 2, f"f{number // 2}.jsonl", 0)
        start = 0 if number % 2 == 0 else start
        parts.append(Partition(number, file, start, start + size))
        start += size
    return parts


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_dask_tasks_are_runs_of_consecutive_partitions(case: dict[str, Any]) -> None:
    size, count = case.get("repeat", [0, 0])
    parts = partitions(*(case["sizes"] or [size] * count))
    grouped = tasks(parts, case["threads"])
    assert [p for group in grouped for p in group] == parts  # each once, in plan order
    sizes = [[p.end - p.start for p in group] for group in grouped]
    if "tasks" in case:
        assert sizes == case["tasks"]
    else:
        assert len(sizes) == case["tasks_count"]
        assert max(map(sum, sizes)) == case["largest"] == TASK_BYTES


@pytest.mark.live  # a local Dask cluster
def test_a_file_that_a_dask_worker_cannot_read_is_named(rules: Path, tmp_path: Path) -> None:
    inputs = corpus(tmp_path / "corpus.jsonl")
    files = find_inputs([inputs])
    parts = plan(files, 200)
    assert len(parts) > 2
    inputs.unlink()  # gone between planning and reading
    request = DiffRequest(str(rules), "example", "2026-01", "2026-07")
    with pytest.raises(JobError) as caught:
        run_diff(request, files, Runner(dask="local:2"), (rules / "example", None))
    message = str(caught.value)
    assert message.startswith(f"a Dask worker failed on {inputs} (bytes ")
    assert "FileNotFoundError" in message


@dataclass(frozen=True)
class WhereJob:
    """A job whose tally is where it ran: (process, its parent, threads in it, lines)."""

    key: str = "where"

    def start(self) -> WhereJob:
        return self

    def run(self, part: Partition, lines: Iterator[tuple[int, bytes]]) -> tuple[int, ...]:
        return os.getpid(), os.getppid(), threading.active_count(), sum(1 for _ in lines)


@pytest.mark.live  # a local Dask cluster
def test_a_dask_worker_decides_in_a_child_with_one_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Like a pool worker: the worker's event loop never takes the GIL from the deciding."""
    # Spawned workers (this process has other threads) import the job's module by name.
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[3]))
    path = tmp_path / "lines.jsonl"
    path.write_text("".join(f'{{"n": {n}}}\n' for n in range(400)), "utf-8")
    parts = plan(find_inputs([path]), 300)
    ran = [d.tally for d in run_job(WhereJob(), parts, Runner(dask="local:2"))]
    assert sum(lines for *_, lines in ran) == 400
    assert {threads for _, _, threads, _ in ran} == {1}
    workers = {parent for _, parent, _, _ in ran}
    assert len(workers) == 2  # each worker's own child, kept for the job's tasks
    assert len({pid for pid, *_ in ran}) == 2
    assert os.getpid() not in workers  # the workers are processes of their own


@dataclass(frozen=True)
class DyingJob:
    """A job whose deciding process dies on partition 0 (as if killed)."""

    key: str = "dying"

    def start(self) -> DyingJob:
        return self

    def run(self, part: Partition, lines: Iterator[tuple[int, bytes]]) -> int:
        if part.number == 0:
            os._exit(3)
        return os.getpid()


def test_a_deciding_process_that_dies_is_named_and_replaced(tmp_path: Path) -> None:
    path = tmp_path / "lines.jsonl"
    path.write_text("".join(f'{{"n": {n}}}\n' for n in range(100)), "utf-8")
    first, second = plan(find_inputs([path]), 500)[:2]
    try:
        with pytest.raises(PartFailed) as caught:
            run_parts(DyingJob(), [first])
        assert str(caught.value) == (
            f"{path} (bytes {first.start}-{first.end}): the process deciding for this "
            "worker exited (status 768)"  # exit code 3, as waitpid shows it
        )
        (done,) = run_parts(DyingJob(), [second])  # another child decides the next task
        assert done.tally not in (os.getpid(), None)
        assert done.lines > 0
    finally:
        _close_children()


def test_workers_are_forked_only_from_a_process_with_one_thread() -> None:
    """A fork copies the locks other threads hold (a stdout buffer's, say): with another
    thread alive, a local cluster spawns its workers instead."""
    import multiprocessing
    import threading

    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert distribute.worker_start_method() == "spawn"
    finally:
        stop.set()
        other.join()
    if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
        assert distribute.worker_start_method() == "fork"
