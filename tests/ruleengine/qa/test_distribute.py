"""How a QA job's partitions are spread: Dask tasks group partitions, a failing one is named."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from ruleengine.qa.diff import DiffRequest, run_diff
from ruleengine.qa.distribute import TASK_BYTES, JobError, Runner, tasks
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
