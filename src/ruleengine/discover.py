"""Discovery: the version folders under a rules folder, and paths as users see them.

`find_versions(root)` walks a folder for version folders (each holds a
`manifest.yaml`) and lists the YAML files of each; nested version folders and
`tests/` are skipped. Used by loading, publishing and bundling alike.
"""

from __future__ import annotations

import os
from pathlib import Path

MANIFEST = "manifest.yaml"
SKIPPED_DIRS = frozenset({"tests", ".git", "__pycache__", "node_modules"})


def display_path(path: Path) -> str:
    """A path as users should see it: relative to the working directory when below it."""
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if relative.startswith("..") else relative


def find_versions(root: Path) -> list[tuple[Path, list[Path]]]:
    """Every version folder under root (one holding manifest.yaml) with its other YAML files."""
    if root.is_file():
        root = root.parent
    version_dirs: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS and not d.startswith("."))
        if MANIFEST in filenames:
            version_dirs.append(Path(dirpath))
    found = []
    for vdir in version_dirs:
        files = []
        for dirpath, dirnames, filenames in os.walk(vdir):
            here = Path(dirpath)
            dirnames[:] = sorted(
                d
                for d in dirnames
                if d not in SKIPPED_DIRS
                and not d.startswith(".")
                and not (here / d / MANIFEST).exists()
            )
            for name in sorted(filenames):
                if name.endswith((".yaml", ".yml")) and not (here == vdir and name == MANIFEST):
                    files.append(here / name)
        found.append((vdir, files))
    return found
