"""Helpers of the publishing tests: a private copy of rules/ and a new version made in it
as a policy owner makes one (copy the newest version's folder, edit the copy)."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "rules"
NEW_PRICE_ROW = "      - [autocad-lt, annual, USD, 480, 420]"
OLD_PRICE_ROW = "      - [autocad-lt, annual, USD, 470, 420]"


def copy_rules(tmp: Path, *rulesets: str) -> Path:
    """tmp/rules with the given rule sets (default: all), locks and suites included."""
    target = tmp / "rules"
    for name in rulesets or tuple(p.name for p in RULES.iterdir() if p.is_dir()):
        shutil.copytree(RULES / name, target / name)
    return target


def new_version(
    rules: Path,
    label: str = "2027-01",
    effective: str = "2027-01-01",
    price_row: str = NEW_PRICE_ROW,
) -> Path:
    """A new self-service version copied from 2026-12: a later effective_from, one price changed."""
    folder = rules / "self-service" / label
    shutil.copytree(rules / "self-service" / "2026-12", folder)
    manifest = folder / "manifest.yaml"
    text = manifest.read_text("utf-8")
    text = text.replace('version: "2026-12"', f'version: "{label}"')
    text = text.replace("effective_from: 2026-12-01", f"effective_from: {effective}")
    manifest.write_text(text, "utf-8")
    tables = folder / "tables.yaml"
    text = tables.read_text("utf-8")
    assert OLD_PRICE_ROW in text, "rules/self-service/2026-12 changed: update this helper"
    tables.write_text(text.replace(OLD_PRICE_ROW, price_row), "utf-8")
    return folder


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1), "utf-8")


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under folder with its bytes: to prove a refused command changed nothing."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


PROMOTIONS_BY_PRODUCT = (
    "columns: {code: string, product: string, percent: decimal, starts: date, ends: date}"
)
PROMOTIONS_FOR_ANY = (
    "columns: {code: string, products: list<string>?, percent: decimal, starts: date, ends: date}"
)
ADDSEATS15 = "      - [ADDSEATS15, autocad-lt, 0.15, 2026-12-01, 2026-12-31]"


def promotions_for_any_products(folder: Path, rows: str) -> None:
    """The promotions table of `folder` with a `products` column (a list; null: every
    product), the given rows, and the rule that reads it (as a new version may do)."""
    edit(folder / "tables.yaml", PROMOTIONS_BY_PRODUCT, PROMOTIONS_FOR_ANY)
    edit(folder / "tables.yaml", ADDSEATS15, rows)
    edit(
        folder / "pricing.yaml",
        "p.product == subscription.product and",
        "(p.products == null or subscription.product in p.products) and",
    )
