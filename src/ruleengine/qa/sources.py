"""Input files for `diff` and `test --log`: many files, globs, folders, gzip; read in partitions.

`find_inputs(specs)` turns what the user typed (files, glob patterns, folders,
any of them gzip-compressed) into a sorted, de-duplicated list of files.
`plan(files, size)` cuts them into partitions: byte ranges of about `size`
bytes for plain files (a partition holds the lines that *start* in its range,
so no line is cut or read twice), one partition per `.gz` file (a gzip stream
cannot be entered in the middle). `read(partition)` yields the partition's
lines with their line numbers counted from the partition's first line;
whoever merges partitions in order adds the lines of the earlier partitions
of the same file, so reports carry line numbers global to each file whatever
process or machine read the partition.

Public entries: `find_inputs`, `plan`, `read`.
"""

from __future__ import annotations

import glob
import gzip
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from .. import display_path

PARTITION_BYTES = 4 << 20  # about 10,000 decision-log lines
# Files a folder contributes: decision logs and corpora, compressed or not.
SUFFIXES = (".jsonl", ".ndjson", ".json", ".log")


class InputsError(ValueError):
    """A usage error in the inputs given (no such file, a pattern matching nothing)."""


@dataclass(frozen=True, slots=True)
class InputFile:
    index: int  # position in the run's list of files: the order of the report
    path: str  # as given or found (absolute paths stay absolute): workers open it
    size: int

    @property
    def gz(self) -> bool:
        return self.path.endswith(".gz")

    @property
    def shown(self) -> str:
        """The path as reports show it (relative to the working directory when below it)."""
        return display_path(Path(self.path))


@dataclass(frozen=True, slots=True)
class Partition:
    number: int  # position in the plan: partitions are merged in this order
    file: InputFile
    start: int  # byte offsets: the lines that start in [start, end)
    end: int


def _from_folder(folder: Path) -> list[str]:
    found = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            if not name.startswith(".") and name.removesuffix(".gz").endswith(SUFFIXES):
                found.append(os.path.join(root, name))
    return found


def find_inputs(specs: Sequence[str | os.PathLike[str]]) -> list[InputFile]:
    """The files named by `specs`, in the order given (each folder's or pattern's sorted)."""
    paths: list[str] = []
    for spec in specs:
        text = os.fspath(spec)
        if any(c in text for c in "*?["):
            matched = sorted(p for p in glob.glob(text, recursive=True) if os.path.isfile(p))
            if not matched:
                raise InputsError(f"{text}: no file matches")
            paths += matched
        elif os.path.isdir(text):
            matched = _from_folder(Path(text))
            if not matched:
                raise InputsError(
                    f"{text}: no input file in this folder (looked for {', '.join(SUFFIXES)}, "
                    "optionally .gz)"
                )
            paths += matched
        elif os.path.isfile(text):
            paths.append(text)
        else:
            raise InputsError(f"{text}: no such file")
    seen: set[str] = set()
    files: list[InputFile] = []
    for path in paths:
        real = os.path.realpath(path)
        if real not in seen:
            seen.add(real)
            files.append(InputFile(len(files), path, os.path.getsize(path)))
    return files


def plan(files: Sequence[InputFile], size: int = PARTITION_BYTES) -> list[Partition]:
    """Partitions of about `size` bytes, file by file, in order."""
    parts: list[Partition] = []
    for file in files:
        if file.gz or file.size <= size:
            parts.append(Partition(len(parts), file, 0, file.size))
            continue
        for start in range(0, file.size, size):
            parts.append(Partition(len(parts), file, start, min(start + size, file.size)))
    return parts


def _open(file: InputFile) -> BinaryIO:
    if file.gz:
        return gzip.open(file.path, "rb")  # type: ignore[return-value]
    return open(file.path, "rb")


def read(part: Partition) -> tuple[Iterator[tuple[int, bytes]], list[int]]:
    """The partition's lines as (number within the partition from 1, bytes), and a one-item
    list that holds the partition's line count once the lines are exhausted.

    Blank lines are numbered (they are lines of the file) but not yielded."""
    count = [0]

    def lines() -> Iterator[tuple[int, bytes]]:
        with _open(part.file) as handle:
            if part.start > 0:
                handle.seek(part.start - 1)
                handle.readline()  # the rest of the line that started before this partition
            position = handle.tell()
            number = 0
            for line in handle:
                if not part.file.gz and position >= part.end:
                    break
                position += len(line)
                number += 1
                if line.strip():
                    yield number, line
            count[0] = number

    return lines(), count
