"""`ruleengine bundle [RULES] -o FILE`: check the rules and pack them as one .tar.gz.

The bundle is what `ruleengine serve --bundle URL` fetches (docs/bundles.md).
Broken rules are reported as `check` reports them and nothing is written.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from .. import RuleFileError, build_bundle, key_id, load_signing_key, render_diagnostics


def write_atomically(path: Path, data: bytes) -> None:
    """Write via a temporary file in the same folder, so readers never see half a bundle."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o644)  # mkstemp makes it owner-only; a bundle is meant to be served
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def command(
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Bundle file to write, e.g. rules.tar.gz.")
    ],
    rules: Annotated[Path, typer.Argument(help="Rules folder to bundle.")] = Path("rules"),
    sign: Annotated[
        Path | None,
        typer.Option(
            "--sign",
            help="PEM Ed25519 private key: sign the bundle's index (serve --bundle-public-key).",
        ),
    ] = None,
) -> None:
    """Check every rule set under RULES and write them as one bundle (.tar.gz) for serve --bundle."""
    key = None
    if sign is not None:
        try:
            key = load_signing_key(sign)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            raise typer.Exit(1) from None
    try:
        data, index = build_bundle(rules, key)
    except RuleFileError as exc:
        problems = exc.diagnostics
        print(render_diagnostics(problems))
        files = len({d.file for d in problems})
        noun = "error" if len(problems) == 1 else "errors"
        print(f"\n{len(problems)} {noun} in {files} file{'s' if files != 1 else ''}")
        raise typer.Exit(1) from None
    try:
        write_atomically(output, data)
    except OSError as exc:
        print(f"error: cannot write {output}: {exc.strerror or exc}", file=sys.stderr)
        raise typer.Exit(1) from None
    rulesets = len({v["ruleset"] for v in index.versions})
    print(
        f"wrote {output}: {_plural(rulesets, 'rule set')}, "
        f"{_plural(len(index.versions), 'version')}, {_plural(len(index.files), 'file')}, "
        f"{index.digest}" + (f", signed by {key_id(key.public_key())}" if key is not None else "")
    )
