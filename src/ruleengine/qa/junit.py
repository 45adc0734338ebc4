"""JUnit XML, the report format CI systems read (Jenkins, GitLab, GitHub Actions reporters).

One `<testsuite>` per suite file (or decision log), one `<testcase>` per case
with `classname` = `ruleset.decision`, `file` and `line`; a failing case has a
`<failure message=... type="mismatch">` whose text is the field-by-field diff;
a skipped case has `<skipped message=...>`. Suite files that could not be read
become a testcase with an `<error>` holding the diagnostics.

Public entry: `write_junit(path, outcomes, errors)`.
"""

from __future__ import annotations

import socket
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from .. import Diagnostic
from .runner import Outcome


def write_junit(
    path: Path,
    outcomes: Sequence[Outcome],
    errors: Sequence[Diagnostic] = (),
    name: str = "ruleengine",
) -> None:
    """Write the outcomes (and unreadable suite files) as JUnit XML to `path`."""
    root = ET.Element("testsuites", name=name)
    groups: dict[str, list[Outcome]] = {}
    for outcome in outcomes:
        groups.setdefault(outcome.group, []).append(outcome)
    broken: dict[str, list[Diagnostic]] = {}
    for diag in errors:
        broken.setdefault(diag.file, []).append(diag)
    stamp = datetime.now(UTC).replace(microsecond=0).isoformat()
    host = socket.gethostname()
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0, "time": 0.0}
    for group in sorted(set(groups) | set(broken)):
        cases = groups.get(group, [])
        diags = broken.get(group, [])
        counts = {
            "tests": len(cases) + (1 if diags else 0),
            "failures": sum(1 for c in cases if c.status == "failed"),
            "errors": 1 if diags else 0,
            "skipped": sum(1 for c in cases if c.status == "skipped"),
            "time": sum(c.seconds for c in cases),
        }
        suite = ET.SubElement(
            root,
            "testsuite",
            {
                "name": group,
                "timestamp": stamp,
                "hostname": host,
                **{k: _num(v) for k, v in counts.items()},
            },
        )
        for outcome in cases:
            file, _, line = outcome.location.rpartition(":")
            case = ET.SubElement(
                suite,
                "testcase",
                name=outcome.name,
                classname=outcome.classname,
                file=file,
                line=line,
                time=_num(outcome.seconds),
            )
            if outcome.status == "failed":
                details = outcome.details()
                failure = ET.SubElement(
                    case, "failure", message=details[0] if details else "failed", type="mismatch"
                )
                failure.text = "\n".join([f"{outcome.location}: {outcome.name}", *details])
            elif outcome.status == "skipped":
                ET.SubElement(case, "skipped", message=outcome.headline)
        if diags:
            case = ET.SubElement(
                suite, "testcase", name="(suite file)", classname="suite", file=group, time="0"
            )
            error = ET.SubElement(case, "error", message=diags[0].headline(), type="suite_error")
            error.text = "\n".join(d.headline() for d in diags)
        for k, v in counts.items():
            totals[k] += v
    for k, v in totals.items():
        root.set(k, _num(v))
    tree = ET.ElementTree(root)
    ET.indent(tree)
    path.parent.mkdir(parents=True, exist_ok=True)
    tree.write(path, encoding="utf-8", xml_declaration=True)


def _num(value: float) -> str:
    return str(value) if isinstance(value, int) else f"{value:.6f}"
