"""QA tooling: regression suites, rule coverage, JUnit XML, decision-log replay, impact diffs.

One module per concern, one public entry each:

- `runner`: run cases against an engine and compare (`run_case`);
- `coverage`: which rule conditions were seen true and false (`Coverage`);
- `junit`: JUnit XML for CI (`write_junit`);
- `replay`: re-decide decision logs and sort what changed (`run_replay`);
- `diff`: decide a corpus under two versions and count what changes (`run_diff`;
  `diff_report` renders it);
- `sources`: input files (globs, folders, .gz) cut into partitions (`plan`, `read`);
- `distribute`: run a job's partitions here, on a process pool or on Dask (`run_job`).

Suite files are read by the engine itself (`ruleengine.load_suites`, in
`ruleengine/suites.py`), since the server shows their cases as examples. This
package uses only the public API (`ruleengine`); the command line (`ruleengine
test`, `ruleengine diff`) sits on top; the engine knows nothing of this package.
The server's workbench runs suite cases on drafts through this package's entry
(`ruleengine.qa.run_case`), never its modules.
"""

from .runner import Outcome, run_case

__all__ = ["Outcome", "run_case"]
