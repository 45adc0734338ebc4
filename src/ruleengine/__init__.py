"""ruleengine: eligibility and pricing rules as versioned YAML, compiled and decided.

>>> import ruleengine
>>> engine = ruleengine.load("rules/")
>>> engine.decide("example", "checkout", {...}).result

This module is the public API: the server, the QA tools and the command line
use only the names below (and the `jsonio` helper module); an import-linter
contract in pyproject.toml holds them to it. Everything else in the package
(the loader, validator, parser, checker, compiler and runtime) is internal and
may change shape.
"""

from . import jsonio
from .bundle import (
    MAX_BUNDLE_BYTES,
    BundleIndex,
    build_bundle,
    extract_bundle,
    key_id,
    load_public_key,
    load_signing_key,
    verify_versions,
)
from .compat import narrowings
from .compiler.probes import OUTCOMES, BranchSite, ProbedProgram
from .discover import MANIFEST, display_path, find_versions
from .engine import (
    DraftPolicy,
    Engine,
    RuleSet,
    Version,
    load,
    load_versions,
    utc_today,
    version_conflicts,
)
from .errors import (
    Code,
    ContentHashUnavailableError,
    DecisionBudgetError,
    Diagnostic,
    DraftNotServedError,
    InputCode,
    InputError,
    InputProblem,
    NotFoundError,
    NoVersionInEffectError,
    RuleEngineError,
    RuleFileError,
    render_diagnostics,
)
from .lock import (
    LOCK_NAME,
    Lock,
    LockBook,
    LockedVersion,
    file_hashes,
    read_lock,
    write_locks,
)
from .model import Limits, Location
from .runtime.budget import cost_at, largest_size
from .schema_export import DATE_PATTERN
from .suites import Case, ExpectedError, Suite, SuiteSearch, find_suites, load_suites
from .trace import GroupCall, TableRead, TraceEntry
from .views import Decision, DecisionInfo, RuleGroupInfo, RuleInfo, TableInfo, TableItem

__all__ = [
    "DATE_PATTERN",
    "LOCK_NAME",
    "MANIFEST",
    "MAX_BUNDLE_BYTES",
    "OUTCOMES",
    "BranchSite",
    "BundleIndex",
    "Case",
    "Code",
    "ContentHashUnavailableError",
    "Decision",
    "DecisionBudgetError",
    "DecisionInfo",
    "Diagnostic",
    "DraftNotServedError",
    "DraftPolicy",
    "Engine",
    "ExpectedError",
    "GroupCall",
    "InputCode",
    "InputError",
    "InputProblem",
    "Limits",
    "Location",
    "Lock",
    "LockBook",
    "LockedVersion",
    "NoVersionInEffectError",
    "NotFoundError",
    "ProbedProgram",
    "RuleEngineError",
    "RuleFileError",
    "RuleGroupInfo",
    "RuleInfo",
    "RuleSet",
    "Suite",
    "SuiteSearch",
    "TableInfo",
    "TableItem",
    "TableRead",
    "TraceEntry",
    "Version",
    "build_bundle",
    "cost_at",
    "display_path",
    "extract_bundle",
    "file_hashes",
    "find_suites",
    "find_versions",
    "jsonio",
    "key_id",
    "largest_size",
    "load",
    "load_public_key",
    "load_signing_key",
    "load_suites",
    "load_versions",
    "narrowings",
    "read_lock",
    "render_diagnostics",
    "utc_today",
    "verify_versions",
    "version_conflicts",
    "write_locks",
]
__version__ = "0.1.0"
