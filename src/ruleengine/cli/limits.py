"""The limit options `check` and `serve` share: the static cost bound and the size of
one version (`ruleengine.Limits`; docs/reliability.md, "Limits")."""

from __future__ import annotations

import dataclasses
import os
from typing import Annotated

import typer

from .. import Limits

CostLimit = Annotated[
    int | None,
    typer.Option(
        "--cost-limit",
        help="Most steps a decision may take for inputs of --cost-nominal-size items "
        "(check reports cost_limit over it). Default 100,000,000.",
        min=1,
    ),
]
CostNominalSize = Annotated[
    int | None,
    typer.Option(
        "--cost-nominal-size",
        help="The input size (items of the longest list or text) --cost-limit is "
        "counted for. Default 1,000.",
        min=1,
    ),
]
MaxVersionBytes = Annotated[
    int | None,
    typer.Option(
        "--max-version-bytes", help="Most bytes of YAML in one version. Default 8 MiB.", min=1
    ),
]
MaxVersionRows = Annotated[
    int | None,
    typer.Option(
        "--max-version-rows",
        help="Most table rows (and set, map, list items) in one version. Default 50,000.",
        min=1,
    ),
]
MaxVersionRules = Annotated[
    int | None,
    typer.Option("--max-version-rules", help="Most rules in one version. Default 20,000.", min=1),
]


def given_limits(
    cost_limit: int | None,
    cost_nominal_size: int | None,
    max_version_bytes: int | None,
    max_version_rows: int | None,
    max_version_rules: int | None,
) -> dict[str, int]:
    """The limits given as options, by `Limits` field."""
    values = {
        "max_steps": cost_limit,
        "nominal_size": cost_nominal_size,
        "max_version_bytes": max_version_bytes,
        "max_version_rows": max_version_rows,
        "max_version_rules": max_version_rules,
    }
    return {name: value for name, value in values.items() if value is not None}


def limits_from(given: dict[str, int]) -> Limits:
    """The options over the `RULEENGINE_*` variables over the defaults."""
    try:
        return dataclasses.replace(Limits.from_environment(os.environ), **given)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def limits_environment(given: dict[str, int]) -> dict[str, str]:
    """The variables that hand the given limits to `serve`'s workers."""
    return {Limits.ENVIRONMENT[name]: str(value) for name, value in given.items()}
