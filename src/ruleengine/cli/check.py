"""`ruleengine check [PATH]`: every problem of every rule file and suite file, or a clean bill.

Suite files (`rules/<ruleset>/tests/*.yaml`) get the same positioned errors
as rule files; PATH may also be a tests/ folder or one suite file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from .. import (
    Diagnostic,
    Limits,
    RuleFileError,
    Suite,
    Version,
    find_suites,
    load_suites,
    load_versions,
    render_diagnostics,
    version_conflicts,
)
from .limits import (
    CostLimit,
    CostNominalSize,
    MaxVersionBytes,
    MaxVersionRows,
    MaxVersionRules,
    given_limits,
    limits_from,
)


def run_check(path: Path, limits: Limits | None = None) -> tuple[list[Version], list[Diagnostic]]:
    versions: list[Version] = []
    problems: list[Diagnostic] = []
    for item in load_versions(path, limits=limits):
        if isinstance(item, RuleFileError):
            problems.extend(item.diagnostics)
        else:
            versions.append(item)
    by_ruleset: dict[str, list[Version]] = {}
    for version in versions:
        by_ruleset.setdefault(version.ruleset, []).append(version)
    problems.extend(version_conflicts(by_ruleset))
    return versions, sorted(set(problems), key=Diagnostic.sort_key)


def run_suite_check(
    path: Path, versions: list[Version], rule_problems: list[Diagnostic]
) -> tuple[list[Suite], list[Diagnostic]]:
    """Check the suite files under path against the versions that loaded.

    With rule-file errors, a suite's decisions and pinned versions are not
    checked (a broken version may define them); everything else is.
    """
    trusted = None if not rule_problems else ()
    return load_suites(find_suites(path), versions, trusted)


def command(
    path: Annotated[Path, typer.Argument(help="Rules folder, rule set or version folder.")] = Path(
        "rules"
    ),
    output_format: Annotated[str, typer.Option("--format", help="text or json")] = "text",
    cost_limit: CostLimit = None,
    cost_nominal_size: CostNominalSize = None,
    max_version_bytes: MaxVersionBytes = None,
    max_version_rows: MaxVersionRows = None,
    max_version_rules: MaxVersionRules = None,
) -> None:
    """Check rule files and suites: report every error with file:line:col, the line and a caret.

    The whole report (diagnostics and summary) goes to stdout; the exit status is 1 on errors.
    """
    limits = limits_from(
        given_limits(
            cost_limit, cost_nominal_size, max_version_bytes, max_version_rows, max_version_rules
        )
    )
    search = find_suites(path)
    versions, problems = run_check(search.rules_root, limits)
    suites, suite_problems = run_suite_check(path, versions, problems)
    problems = sorted({*problems, *suite_problems}, key=Diagnostic.sort_key)
    if output_format == "json":
        print(json.dumps({"errors": [d.to_json() for d in problems]}, indent=2))
        raise typer.Exit(1 if problems else 0)
    if problems:
        print(render_diagnostics(problems))
        files = len({d.file for d in problems})
        noun = "error" if len(problems) == 1 else "errors"
        print(f"\n{len(problems)} {noun} in {files} file{'s' if files != 1 else ''}")
        raise typer.Exit(1)
    rulesets = {v.ruleset for v in versions}
    decisions = sum(len(v.decisions) for v in versions)
    rules = sum(len(v.rules()) for v in versions)
    print(
        f"ok: {len(rulesets)} rule set(s), {len(versions)} version(s), "
        f"{decisions} decision(s), {rules} rule(s) checked under {path}"
    )
    if suites:
        cases = sum(len(s.cases) for s in suites)
        print(f"ok: {len(suites)} suite file(s), {cases} case(s) checked under {path}")
    drafts = sorted(f"{v.ruleset} {v.version}" for v in versions if v.status == "draft")
    if drafts:
        print(
            f"note: not published yet (drafts, not served): {', '.join(drafts)}; "
            "`ruleengine publish` records them in versions.lock"
        )
    unlocked = sorted({v.ruleset for v in versions if v.status == "unlocked"})
    if unlocked:
        print(
            f"note: no versions.lock, every version served as it is: {', '.join(unlocked)}; "
            "`ruleengine publish --ruleset NAME` adopts publishing (`--allow-backdated` "
            "for versions already in effect)"
        )
