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
from .engine import (
    Decision,
    Engine,
    RuleSet,
    Version,
    display_path,
    load,
    load_versions,
    version_conflicts,
)
from .errors import (
    Code,
    Diagnostic,
    InputCode,
    InputError,
    InputProblem,
    NotFoundError,
    NoVersionInEffectError,
    RuleEngineError,
    RuleFileError,
    render_diagnostics,
)
from .model import Location
from .schema_export import DATE_PATTERN
from .suites import Case, ExpectedError, Suite, SuiteSearch, find_suites, load_suites
from .trace import GroupCall, TableRead, TraceEntry
from .views import DecisionInfo, RuleGroupInfo, RuleInfo, TableInfo, TableItem

__all__ = [
    "DATE_PATTERN",
    "MAX_BUNDLE_BYTES",
    "BundleIndex",
    "Case",
    "Code",
    "Decision",
    "DecisionInfo",
    "Diagnostic",
    "Engine",
    "ExpectedError",
    "GroupCall",
    "InputCode",
    "InputError",
    "InputProblem",
    "Location",
    "NoVersionInEffectError",
    "NotFoundError",
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
    "display_path",
    "extract_bundle",
    "find_suites",
    "jsonio",
    "key_id",
    "load",
    "load_public_key",
    "load_signing_key",
    "load_suites",
    "load_versions",
    "render_diagnostics",
    "verify_versions",
    "version_conflicts",
]
__version__ = "0.1.0"
