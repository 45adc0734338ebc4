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
  A Dask task is a run of consecutive partitions (`tasks`): Dask spends a few
  CPU-milliseconds per task in the scheduler, the worker and the client; the
  partitions (what is read, and merged) are the same as the pool's. A Dask
  worker decides in a child process that it forks (`_Child`): one thread, like a
  pool worker, so that the worker's event loop never holds the GIL it needs.

Public entry: `run_job(job, partitions, runner, on_done)`.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import multiprocessing
import multiprocessing.util
import os
import pickle
import shutil
import socket
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from .sources import Partition, read

DASK_HINT = "install the extra: pip install 'ruleengine[dask]'"
CONNECT_SECONDS = 10  # to reach a --dask scheduler
# A local cluster's background work, which costs CPU that deciding could use, and wakes
# each worker's event loop, which then takes the GIL from the thread that decides: the
# statistical profiler (samples every thread each 10 ms), the event-loop health check
# (each 20 ms) and its statistics (each second), the system monitor (500 ms). The memory
# monitors are off: a local cluster gets no memory limit (`_local_cluster`).
QUIET_DASK = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "5s",
    "distributed.admin.tick.cycle": "5s",
    "distributed.admin.system-monitor.interval": "5s",
}
# Input per Dask task, at most (partitions are grouped up to this many bytes), and tasks per
# worker thread, at least (so that the workers finish together; fewer, larger tasks would
# leave one worker deciding the last one alone).
TASK_BYTES = 16 << 20
TASKS_PER_THREAD = 8


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
_STARTING = threading.Lock()  # a worker with several threads loads the rules once


def _state(job: Job) -> PartWorker:
    found = _STATE.get(job.key)
    if found is None:
        with _STARTING:
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


class PartFailed(Exception):
    """A partition that a worker could not decide (its file and byte range, and why)."""


def _decide_parts(job: Job, parts: Sequence[Partition]) -> list[PartDone]:
    done = []
    for part in parts:
        try:
            done.append(run_part(job, part))
        except Exception as exc:
            raise PartFailed(f"{_where([part])}: {type(exc).__name__}: {exc}") from None
    return done


def run_parts(job: Job, parts: Sequence[Partition]) -> list[PartDone]:
    """Decide a run of partitions: one Dask task, in the worker's child (`_Child`)."""
    if not hasattr(os, "fork"):  # no fork (Windows): on the task's thread
        return _decide_parts(job, parts)
    return _child(job).run(parts)


# --- in a Dask worker: decide in a forked child ----------------------------------------------

# A Dask worker runs a task on an executor thread while its event loop (heartbeats, task
# messages) runs on another: each time the loop wakes it takes the GIL from the deciding
# thread, which then waits, and on a busy machine its core goes to another process
# meanwhile (measured: a Dask run got a third less of the CPU than the pool beside the
# same neighbours). So a worker forks a child process that decides its partitions, one
# thread like a pool worker, and the task thread only waits on the child's socket.


class _Child:
    """A process forked from this worker that decides partitions for one job and thread."""

    def __init__(self, job: Job) -> None:
        _state(job)  # loaded before the fork: the child inherits it
        self.key = job.key
        ours, theirs = socket.socketpair()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # 3.12: a threaded fork
            pid = os.fork()
        if pid == 0:  # the child: serve until the worker closes the socket, then exit
            ours.close()
            code = 0
            try:
                _serve(job, theirs)
            except BaseException:
                code = 1
            finally:
                os._exit(code)
        theirs.close()
        self.pid = pid
        self.socket = ours
        self.reader = ours.makefile("rb")
        self.writer = ours.makefile("wb")

    def run(self, parts: Sequence[Partition]) -> list[PartDone]:
        pickle.dump(list(parts), self.writer, pickle.HIGHEST_PROTOCOL)
        self.writer.flush()
        try:
            ok, value = pickle.load(self.reader)
        except (EOFError, pickle.UnpicklingError):  # it died: the next task forks another
            code = os.waitpid(self.pid, 0)[1]
            raise PartFailed(
                f"{_where(parts)}: the process deciding for this worker exited (status {code})"
            ) from None
        if not ok:
            raise value
        return value  # type: ignore[no-any-return]

    def alive(self) -> bool:
        try:
            return os.waitpid(self.pid, os.WNOHANG) == (0, 0)
        except ChildProcessError:  # already reaped
            return False

    def close(self) -> None:
        for stream in (self.writer, self.reader, self.socket):
            stream.close()
        with contextlib.suppress(ChildProcessError):  # reaped here, so that its CPU
            os.waitpid(self.pid, 0)  # counts in this worker's


def _serve(job: Job, sock: socket.socket) -> None:
    reader, writer = sock.makefile("rb"), sock.makefile("wb")
    while True:
        try:
            parts = pickle.load(reader)
        except EOFError:
            return
        try:
            reply: tuple[bool, Any] = (True, _decide_parts(job, parts))
        except PartFailed as exc:
            reply = (False, exc)
        pickle.dump(reply, writer, pickle.HIGHEST_PROTOCOL)
        writer.flush()


_CHILDREN: dict[int, _Child] = {}  # executor thread -> its child
_CHILDREN_LOCK = threading.Lock()


def _close_children() -> None:
    with _CHILDREN_LOCK:
        while _CHILDREN:
            _CHILDREN.popitem()[1].close()


def _child(job: Job) -> _Child:
    thread = threading.get_ident()
    found = _CHILDREN.get(thread)
    if found is not None and found.key == job.key and found.alive():
        return found
    with _CHILDREN_LOCK:
        if not _CHILDREN:  # the worker reaps its children when it exits
            multiprocessing.util.Finalize(None, _close_children, exitpriority=10)
        if found is not None:  # the thread's child of an earlier job, or a dead one
            found.close()
        made = _CHILDREN[thread] = _Child(job)
    return made


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


def tasks(parts: Sequence[Partition], threads: int) -> list[list[Partition]]:
    """Consecutive partitions grouped into Dask tasks of at most `TASK_BYTES` of input and,
    given the workers' `threads` (0: not known), of at most 1/(TASKS_PER_THREAD * threads)
    of it all; a task holds at least one partition."""
    limit = TASK_BYTES
    if threads > 0:
        total = sum(part.end - part.start for part in parts)
        limit = max(1, min(limit, total // (TASKS_PER_THREAD * threads)))
    grouped: list[list[Partition]] = []
    size = limit
    for part in parts:
        if size + (part.end - part.start) > limit:
            grouped.append([])
            size = 0
        grouped[-1].append(part)
        size += part.end - part.start
    return grouped


def worker_start_method() -> str:
    """How a local cluster starts its workers: forked from this process, as the pool's
    are (they start in a tenth of the time a fresh interpreter takes to import Dask,
    with the job's state, the loaded rules, already in memory; spawned, each costs 1-2
    CPU-s more), but only from a process with one thread. A fork copies the locks other
    threads hold at that moment (a stdout buffer's, say) and the child would wait on
    them for ever: seen once under pytest, whose other threads write. The command
    line's process has no other thread when it starts the cluster."""
    if "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1:
        return "fork"
    return "spawn"


def _local_cluster(count: int) -> Any:
    """A LocalCluster of `count` worker processes on the loopback interface, quietly."""
    import dask
    from distributed import LocalCluster

    config = dict(QUIET_DASK)
    config["distributed.worker.multiprocessing-method"] = worker_start_method()
    with dask.config.set(config), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. "port 8787 is already in use": not ours
        return LocalCluster(
            n_workers=count,
            threads_per_worker=1,  # deciding is pure Python: one thread per process
            # The workers' memory stays flat (small tallies, one partition's line at a
            # time): no limit, so no memory monitor in the workers and their nannies.
            memory_limit=0,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
            scheduler_kwargs={"dashboard": False},
            # A worker's failure reaches the command through its task (JobError); the
            # rest (a heartbeat that meets the closing scheduler at the end) is noise.
            silence_logs=logging.CRITICAL,
        )


def _where(group: Sequence[Partition]) -> str:
    """The files and byte ranges of a task, for an error message."""
    return ", ".join(f"{p.file.path} (bytes {p.start}-{p.end})" for p in group)


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
        grouped = tasks(parts, sum(client.nthreads().values()))
        futures = client.map(run_parts, [shared] * len(grouped), grouped, pure=False)
        where = {f.key: group for f, group in zip(futures, grouped, strict=True)}
        for batch in as_completed(futures).batches():  # what finished meanwhile, gathered at once
            for future in batch:
                if future.status == "error":  # raised in a worker: name what it was reading
                    failed = future.exception()
                    if not isinstance(failed, PartFailed):  # e.g. the worker died
                        why = f"{type(failed).__name__}: {failed}"
                        failed = PartFailed(f"{_where(where[future.key])}: {why}")
                    raise JobError(f"a Dask worker failed on {failed}")
            for done in client.gather(batch):
                yield from done
            for future in batch:
                future.release()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
