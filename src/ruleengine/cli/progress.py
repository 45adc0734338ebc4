"""A progress bar for long runs over input files (`diff`, `test --log`): bytes read, lines/s, ETA.

Drawn on stderr with rich, and only when stderr is a terminal: piped or
redirected, nothing extra is written, so reports and logs stay clean.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from types import TracebackType
from typing import Any

from ..qa.distribute import PartDone
from ..qa.sources import InputFile


class RunProgress:
    def __init__(
        self,
        label: str,
        files: Sequence[InputFile],
        enabled: bool | None = None,
        console: Any = None,
    ):
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.console = console
        self.total = sum(f.size for f in files)
        self.label = label
        self.lines = 0
        self.bar: Any = None

    def __enter__(self) -> RunProgress:
        if not self.enabled:
            return self
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.started = time.perf_counter()
        self.bar = Progress(
            TextColumn(f"[bold]{self.label}"),
            BarColumn(),
            DownloadColumn(),
            TextColumn("{task.fields[lines]} lines, {task.fields[rate]} lines/s"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=self.console or Console(stderr=True),
            transient=True,
        )
        self.bar.start()
        self.task = self.bar.add_task(self.label, total=self.total, lines="0", rate="-")
        return self

    def __call__(self, done: PartDone) -> None:
        """Count one finished partition (called as partitions complete, in any order)."""
        self.lines += done.lines
        if self.bar is None:
            return
        elapsed = max(time.perf_counter() - self.started, 1e-9)
        self.bar.update(
            self.task,
            advance=done.part.end - done.part.start,
            lines=f"{self.lines:,}",
            rate=f"{self.lines / elapsed:,.0f}",
        )

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self.bar is not None:
            self.bar.stop()
