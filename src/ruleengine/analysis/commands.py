"""What the `analyze` and `diff --symbolic` commands do, apart from parsing options."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

from .. import jsonio
from ..bundle import extract_bundle
from ..discover import display_path
from ..engine import Engine, Version, load, load_versions, version_conflicts
from ..errors import Diagnostic, NotFoundError, RuleFileError, render_diagnostics
from . import diff_report, report
from .analyze import analyse_version
from .equivalence import symbolic_diff
from .findings import WARNING
from .program import checked_program


class UsageError(Exception):
    """A bad option value (exit status 2)."""


def _select(versions: list[Version], ruleset: str | None, version: str | None) -> list[Version]:
    if ruleset is not None:
        names = sorted({v.ruleset for v in versions})
        if ruleset not in names:
            raise UsageError(str(NotFoundError("ruleset", ruleset, names)))
        versions = [v for v in versions if v.ruleset == ruleset]
    if version is not None:
        labels = sorted({v.version for v in versions})
        if version not in labels:
            raise UsageError(str(NotFoundError("version", version, labels)))
        versions = [v for v in versions if v.version == version]
    return sorted(versions, key=lambda v: (v.ruleset, v.effective_from))


def run_analyze(
    rules: Path, ruleset: str | None, version: str | None, output_format: str, list_bound: int
) -> int:
    """Analyse every selected version; print the report; return the exit status."""
    loaded: list[Version] = []
    problems: list[Diagnostic] = []
    for item in load_versions(rules):
        if isinstance(item, RuleFileError):
            problems.extend(item.diagnostics)
        else:
            loaded.append(item)
    by_ruleset: dict[str, list[Version]] = {}
    for v in loaded:
        by_ruleset.setdefault(v.ruleset, []).append(v)
    problems.extend(version_conflicts(by_ruleset))
    analyses = [
        analyse_version(checked_program(v), list_bound) for v in _select(loaded, ruleset, version)
    ]
    problems = sorted(set(problems), key=Diagnostic.sort_key)
    if output_format == "json":
        data = report.to_json(analyses)
        data["errors"] = [d.to_json() for d in problems]
        print(jsonio.dumps(data, indent=2))
    else:
        if problems:
            print(render_diagnostics(problems), file=sys.stderr)
            print(
                f"\n{len(problems)} error(s): the versions with errors are not analysed",
                file=sys.stderr,
            )
        if analyses:
            print(report.render_text(analyses))
    warned = any(f.severity == WARNING for a in analyses for f in a.findings)
    return 1 if problems or warned else 0


def run_symbolic_diff(
    engines: tuple[Engine, Engine],
    ruleset: str,
    old: str,
    new: str,
    decision: str | None,
    output_format: str,
    list_bound: int,
) -> None:
    """Compare two versions symbolically; print the report."""
    sides = []
    for engine, label in zip(engines, (old, new), strict=True):
        try:
            found = engine.ruleset(ruleset).get(label)
            if found is None:
                known = [v.version for v in engine.ruleset(ruleset).versions]
                raise NotFoundError("version", label, known)
            if decision is not None and decision not in found.decisions:
                raise NotFoundError("decision", decision, sorted(found.decisions))
        except NotFoundError as exc:
            raise UsageError(str(exc)) from None
        sides.append((engine, found))

    def decider(engine: Engine, label: str) -> Any:
        return lambda name, data: engine.decide(ruleset, name, data, version=label).result

    result = symbolic_diff(
        ruleset,
        old,
        new,
        checked_program(sides[0][1]),
        checked_program(sides[1][1]),
        decider(sides[0][0], old),
        decider(sides[1][0], new),
        [decision] if decision else None,
        list_bound=list_bound,
    )
    if output_format == "json":
        print(jsonio.dumps(diff_report.to_json(result), indent=2))
    else:
        print(diff_report.render_text(result))


def symbolic_diff_from_folders(
    rules: Path,
    from_rules: Path | None,
    ruleset: str,
    old: str,
    new: str,
    decision: str | None,
    output_format: str,
) -> int:
    """Load the rules (and the --from version's own rules or bundle), compare; exit status."""
    with tempfile.TemporaryDirectory(prefix="ruleengine-symbolic-") as scratch:
        try:
            engine = old_engine = load(rules)
            if from_rules is not None:
                folder = from_rules
                if from_rules.is_file() and from_rules.name.endswith((".tar.gz", ".tgz")):
                    folder = Path(scratch) / "from-rules"
                    extract_bundle(from_rules.read_bytes(), folder, display_path(from_rules))
                old_engine = load(folder)
        except RuleFileError as exc:
            print(render_diagnostics(exc.diagnostics), file=sys.stderr)
            return 1
        run_symbolic_diff((old_engine, engine), ruleset, old, new, decision, output_format, 3)
    return 0


__all__ = ["UsageError", "run_analyze", "run_symbolic_diff", "symbolic_diff_from_folders"]
