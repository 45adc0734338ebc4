"""The one place the analysis reads the checked program from.

The checker's output types (`CheckedVersion` and friends) live in the checker
package; if they move, only the import below changes.
"""

from __future__ import annotations

from ..checker import (
    CheckedDecision,
    CheckedFunction,
    CheckedGroup,
    CheckedRule,
    CheckedTable,
    CheckedVersion,
    InputField,
    RecordSchema,
)
from ..engine import Version


def checked_program(version: Version) -> CheckedVersion:
    """The checked program of a loaded version (the engine keeps it with the compiled code)."""
    return version.compiled.checked


__all__ = [
    "CheckedDecision",
    "CheckedFunction",
    "CheckedGroup",
    "CheckedRule",
    "CheckedTable",
    "CheckedVersion",
    "InputField",
    "RecordSchema",
    "checked_program",
]
