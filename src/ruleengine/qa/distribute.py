"""Run a QA job (impact diff, log replay) over input partitions: here, on a process pool, or on Dask.

A job is a picklable recipe: the rule files it needs (shipped as bytes, so a
Dask worker on another machine needs the package, not the rules) and what to
do with each line. Each worker builds the job's state once (loads the engine)
and turns each partition it is handed into a partial tally; `run_job` yields
the tallies in partition order, whichever worker finished first, so the caller
merges them exactly as a single process would (same counts, same examples,
the same line numbers).

Where the partitions run:
- `Runner(workers=1)`: in this process (the state the caller already built).
- `Runner(workers=N)`: a `multiprocessing` pool; each worker reads its own
  partitions from disk, so the parent only merges small tallies.
- `Runner(dask="local[:N]")`: a `distributed.LocalCluster` of N worker
  processes (default: one per core); `Runner(dask="tcp://host:8786")`: an
  existing cluster, whose workers must see the input files at the same paths.

Public entry: `run_job(job, partitions, runner, on_done)`.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from .sources import Partition, read

DASK_HINT = "install the extra: pip install 'ruleengine[dask]'"
CONNECT_SECONDS = 10  # to reach a --dask scheduler
# A local cluster's background work, which costs CPU that deciding could use: the
# statistical profiler (samples every thread each 10 ms), the event-loop health check
# (each 20 ms), the system monitor (500 ms) and the memory monitor (100 ms).
QUIET_DASK = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "2s",
    "distributed.worker.memory.monitor-interval": "1s",
}


class JobError(ValueError):
    """A usage error in how the job was asked to run (a bad --dask address, Dask missing)."""


class PartWorker(Protocol):
    def run(self, part: Partition, lines: Iterator[tuple[int, bytes]]) -> Any: ...


class Job(Protocol):
    @property
    def key(self) -> str: ...

    def start(self) -> PartWorker: ...


@dataclass(frozen=True, slots=True)
class RuleFiles:
    """The files of a rules folder as bytes, to rebuild it where a worker runs."""

    name: str  # the folder's name (a rule set folder keeps its name)
    files: tuple[tuple[str, bytes], ...]  # (relative posix path, bytes), sorted
    digest: str

    @staticmethod
    def of(folder: str | os.PathLike[str]) -> RuleFiles:
        root = Path(folder)
        files = []
        for path in sorted(root.rglob("*")):
            rel = path.relative_to(root)
            folders = rel.parts[:-1]  # hidden files are kept (load reads them), not hidden folders
            if path.is_file() and not any(
                p.startswith(".") or p in ("tests", "__pycache__") for p in folders
            ):
                files.append((rel.as_posix(), path.read_bytes()))
        digest = hashlib.sha256()
        for name, data in files:
            digest.update(f"{name}\0{len(data)}\0".encode())
            digest.update(data)
        return RuleFiles(root.resolve().name, tuple(files), digest.hexdigest())

    def materialize(self) -> Path:
        """The folder, written once per machine under the temp dir (keyed by content)."""
        base = Path(tempfile.gettempdir()) / f"ruleengine-rules-{self.digest[:24]}"
        target = base / self.name
        if target.is_dir():
            return target
        scratch = Path(tempfile.mkdtemp(prefix=".ruleengine-rules-", dir=base.parent))
        for name, data in self.files:
            path = scratch / self.name / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        try:
            scratch.rename(base)
        except OSError:  # another worker on this machine wrote it first
            shutil.rmtree(scratch, ignore_errors=True)
        return target


@dataclass(frozen=True, slots=True)
class Runner:
    workers: int = 1
    dask: str | None = None  # "local", "local:N" or a scheduler address

    def describe(self) -> str:
        if self.dask is not None:
            return f"dask {self.dask}"
        return f"{self.workers} worker{'s' if self.workers != 1 else ''}"


@dataclass(frozen=True, slots=True)
class PartDone:
    part: Partition
    lines: int  # lines of the partition (blank ones included): the next one's offset
    tally: Any


# --- in a worker ------------------------------------------------------------------------

# job key -> the worker's state; filled in the parent before a fork, or on first use.
_STATE: dict[str, PartWorker] = {}


def _state(job: Job) -> PartWorker:
    found = _STATE.get(job.key)
    if found is None:
        found = _STATE[job.key] = job.start()
    return found


def run_part(job: Job, part: Partition) -> PartDone:
    """Decide one partition (in whatever process this runs)."""
    lines, count = read(part)
    tally = _state(job).run(part, lines)
    for _ in lines:  # a worker that stopped early still counts the lines, for the offsets
        pass
    return PartDone(part, count[0], tally)


_POOL_JOB: list[Job] = []


def _pool_init(job: Job) -> None:
    _POOL_JOB[:] = [job]


def _pool_run(part: Partition) -> PartDone:
    return run_part(_POOL_JOB[0], part)


# --- the driver ---------------------------------------------------------------------------


def _in_order(
    done: Iterator[PartDone], on_done: Callable[[PartDone], None] | None
) -> Iterator[PartDone]:
    """Yield partitions in plan order from results that arrive in any order."""
    waiting: dict[int, PartDone] = {}
    next_number = 0
    for result in done:
        if on_done is not None:
            on_done(result)
        waiting[result.part.number] = result
        while next_number in waiting:
            yield waiting.pop(next_number)
            next_number += 1


def run_job(
    job: Job,
    parts: Sequence[Partition],
    runner: Runner,
    on_done: Callable[[PartDone], None] | None = None,
    state: PartWorker | None = None,
) -> Iterator[PartDone]:
    """Each partition's tally, in partition order. `state`: the job's state, if already built."""
    if state is not None:
        _STATE[job.key] = state  # used in this process, and inherited by forked workers
    if runner.dask is not None:
        yield from _in_order(_on_dask(job, parts, runner.dask), on_done)
    elif runner.workers <= 1 or len(parts) <= 1:
        for part in parts:
            result = run_part(job, part)
            if on_done is not None:
                on_done(result)
            yield result
    else:
        workers = min(runner.workers, len(parts))
        with multiprocessing.Pool(workers, initializer=_pool_init, initargs=(job,)) as pool:
            yield from _in_order(pool.imap_unordered(_pool_run, parts), on_done)


def dask_available() -> bool:
    try:
        import distributed  # noqa: F401
    except ImportError:
        return False
    return True


def check_dask(address: str) -> None:
    """Raise `JobError` if `--dask ADDRESS` cannot work (bad form, extra not installed)."""
    if address.startswith("local"):
        rest = address.removeprefix("local")
        if rest and not (rest.startswith(":") and rest[1:].isdigit() and int(rest[1:]) > 0):
            raise JobError(
                f"--dask {address!r}: expected local, local:N (N workers) or tcp://HOST:PORT"
            )
    elif "://" not in address:
        raise JobError(
            f"--dask {address!r}: expected local, local:N or a scheduler address tcp://HOST:PORT"
        )
    if not dask_available():
        raise JobError(f"--dask needs Dask and distributed, which are not installed: {DASK_HINT}")


def _local_cluster(count: int) -> Any:
    """A LocalCluster of `count` worker processes on the loopback interface, quietly."""
    import dask
    from distributed import LocalCluster

    config = dict(QUIET_DASK)
    if "fork" in multiprocessing.get_all_start_methods():
        # Workers forked from this process, as the pool's are: they start in a tenth of
        # the time a fresh interpreter takes to import Dask, with the job's state (the
        # loaded rules) already in memory; spawned, each costs 1-2 CPU-s more.
        config["distributed.worker.multiprocessing-method"] = "fork"
    with dask.config.set(config), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. "port 8787 is already in use": not ours
        return LocalCluster(
            n_workers=count,
            threads_per_worker=1,  # deciding is pure Python: one thread per process
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
            scheduler_kwargs={"dashboard": False},
            silence_logs=logging.ERROR,
        )


def _on_dask(job: Job, parts: Sequence[Partition], address: str) -> Iterator[PartDone]:
    from distributed import Client, as_completed

    cluster = None
    if address.startswith("local"):
        cluster = _local_cluster(int(address.partition(":")[2] or os.cpu_count() or 1))
        client = Client(cluster)
    else:
        try:
            client = Client(address, timeout=CONNECT_SECONDS)
        except (OSError, TimeoutError) as exc:
            raise JobError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    try:
        shared = client.scatter(job, broadcast=True)
        futures = client.map(run_part, [shared] * len(parts), parts, pure=False)
        where = {f.key: part for f, part in zip(futures, parts, strict=True)}
        for future in as_completed(futures):
            try:
                done = future.result()
            except Exception as exc:  # raised in a worker: name the partition it was reading
                part = where[future.key]
                raise JobError(
                    f"a Dask worker failed on {part.file.path} (bytes {part.start}-{part.end}): "
                    f"{type(exc).__name__}: {exc}"
                ) from None
            yield done
            future.release()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
