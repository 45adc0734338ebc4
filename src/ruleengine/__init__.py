"""ruleengine: eligibility and pricing rules as versioned YAML, compiled and decided.

>>> import ruleengine
>>> engine = ruleengine.load("rules/")
>>> engine.decide("example", "checkout", {...}).result
"""

from .engine import Decision, Engine, RuleSet, Version, load
from .errors import (
    Diagnostic,
    InputError,
    InputProblem,
    NotFoundError,
    NoVersionInEffectError,
    RuleEngineError,
    RuleFileError,
)

__all__ = [
    "Decision",
    "Diagnostic",
    "Engine",
    "InputError",
    "InputProblem",
    "NoVersionInEffectError",
    "NotFoundError",
    "RuleEngineError",
    "RuleFileError",
    "RuleSet",
    "Version",
    "load",
]
__version__ = "0.1.0"
