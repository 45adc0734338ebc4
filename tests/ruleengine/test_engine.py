"""The facade: load(), version selection with an injected clock, decide() and its results."""

from __future__ import annotations

import copy
import re
import shutil
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

import ruleengine
from ruleengine import jsonio

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "rules" / "example"
# Copies edited in place leave versions.lock behind (an unlocked rule set): a published
# version never changes, so check and load would refuse the edit (tests/test_publish.py).
UNLOCKED = shutil.ignore_patterns("versions.lock")
CASES = yaml.safe_load((Path(__file__).parent / "example_cases.yaml").read_text("utf-8"))["cases"]

GOLD = {
    "id": "c-1",
    "country": "US",
    "tier": "gold",
    "email_verified": True,
    "member_since": "2025-01-01",
}
PLATINUM = {**GOLD, "tier": "platinum", "member_since": "2025-06-01"}
ORDER = {"currency": "USD", "items": [{"sku": "A", "quantity": 1, "unit_price": "100.00"}]}


def facts(**extra: Any) -> dict[str, Any]:
    return {"customer": dict(PLATINUM), "order": copy.deepcopy(ORDER), **extra}


def example_at(today: date) -> ruleengine.Engine:
    return ruleengine.load(EXAMPLE, clock=lambda: today)


# --- hand-worked decisions (example_cases.yaml) ------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_example_case(example_engine: ruleengine.Engine, case: dict[str, Any]) -> None:
    decision = example_engine.decide("example", case["decision"], case["input"])
    assert jsonio.to_plain(decision.result) == case["result"]
    assert decision.version == case["version"]
    assert decision.locale == case.get("locale", "en")


# --- version selection --------------------------------------------------------------


@pytest.mark.parametrize(
    ("as_of", "version"),
    [
        ("2026-01-01", "2026-01"),
        ("2026-03-15", "2026-01"),
        ("2026-06-30", "2026-01"),
        ("2026-07-01", "2026-07"),
        ("2026-07-02", "2026-07"),
        ("2099-12-31", "2026-07"),
        ("9999-12-31", "2026-07"),
    ],
)
def test_as_of_picks_latest_effective_version(
    example_engine: ruleengine.Engine, as_of: str, version: str
) -> None:
    decision = example_engine.decide("example", "quote", facts(as_of=as_of))
    assert decision.version == version
    assert decision.as_of == date.fromisoformat(as_of)


def test_as_of_may_be_a_date_object(example_engine: ruleengine.Engine) -> None:
    decision = example_engine.decide("example", "quote", facts(as_of=date(2026, 7, 1)))
    assert (decision.version, decision.as_of) == ("2026-07", date(2026, 7, 1))


@pytest.mark.parametrize(
    ("today", "version", "discount"),
    [
        (date(2026, 1, 1), "2026-01", "10.00"),
        (date(2026, 6, 30), "2026-01", "10.00"),
        (date(2026, 7, 1), "2026-07", "12.00"),
        (date(2028, 1, 1), "2026-07", "12.00"),  # not yet loyal (944 days)
    ],
)
def test_default_as_of_comes_from_the_clock(today: date, version: str, discount: str) -> None:
    engine = example_at(today)
    assert engine.today() == today
    decision = engine.decide("example", "quote", facts())
    assert decision.as_of == today
    assert decision.version == version
    assert str(decision.result["discount"]) == discount


def test_null_as_of_means_today(example_engine: ruleengine.Engine) -> None:
    decision = example_engine.decide("example", "quote", facts(as_of=None))
    assert decision.as_of == date(2026, 3, 15)


def test_clock_is_read_per_decision() -> None:
    today = [date(2026, 6, 30)]
    engine = ruleengine.load(EXAMPLE, clock=lambda: today[0])
    assert engine.decide("example", "quote", facts()).version == "2026-01"
    today[0] = date(2026, 7, 1)
    assert engine.decide("example", "quote", facts()).version == "2026-07"
    assert engine.clock() == date(2026, 7, 1)


def test_routes_are_cached_but_never_wrong(example_engine: ruleengine.Engine) -> None:
    # The (ruleset, decision, as_of) -> version cache must give what a fresh lookup
    # gives, for every date around a version boundary, pinned or not, and errors too.
    for _ in range(2):
        for day, version in [("2026-06-30", "2026-01"), ("2026-07-01", "2026-07")]:
            data = {**facts(), "as_of": day}
            assert example_engine.decide("example", "quote", data).version == version
            pinned = example_engine.decide("example", "quote", data, version="2026-01")
            assert pinned.version == "2026-01"
        with pytest.raises(ruleengine.NotFoundError):
            example_engine.decide("example", "nope", {**facts(), "as_of": "2026-06-30"})
        # Cached per as_of as given: a date object, and texts that are no date, alike.
        for when, version in [(date(2026, 6, 30), "2026-01"), (date(2026, 7, 1), "2026-07")]:
            data = {**facts(), "as_of": when}
            assert example_engine.decide("example", "quote", data).version == version
        for bad in ("2026-02-30", ["2026-06-30"], 20260630):
            with pytest.raises(ruleengine.InputError):
                example_engine.decide("example", "quote", {**facts(), "as_of": bad})


def test_the_route_cache_stays_bounded() -> None:
    # One route per as_of as given, at most 4,096 per decision (then the cache starts
    # over): years of distinct dates neither grow it without end nor change an answer.
    engine = example_at(date(2026, 3, 15))
    for i in range(5000):
        day = date(2026, 1, 1) + timedelta(days=i)
        decided = engine.decide("example", "quote", {**facts(), "as_of": day.isoformat()})
        assert decided.version == ("2026-01" if day < date(2026, 7, 1) else "2026-07")
    cached = [len(by_as_of) for d in engine._routes.values() for by_as_of in d.values()]
    assert cached and max(cached) <= 4096


class _NotADict(dict[str, Any]):
    """A mapping that is not a dict: decide() refuses it as an object, whatever it holds."""


@pytest.mark.parametrize("explain", [False, True])
def test_input_that_is_not_a_dict_is_checked_as_of_today(explain: bool) -> None:
    # Routes are looked up by the input's as_of before its type is known; input that is
    # not a dict is still refused by today's version (as one without as_of), so with no
    # version in effect today that is the error, even when its as_of's route is cached.
    engine = example_at(date(2026, 3, 15))
    data = {**facts(), "as_of": "2026-07-01"}
    assert engine.decide("example", "quote", data, explain=explain).version == "2026-07"
    with pytest.raises(ruleengine.InputError) as caught:
        engine.decide("example", "quote", _NotADict(data), explain=explain)
    assert [(p.path, p.code) for p in caught.value.problems] == [("input", "type")]
    engine = example_at(date(2025, 12, 31))
    assert engine.decide("example", "quote", data, explain=explain).version == "2026-07"
    with pytest.raises(ruleengine.NoVersionInEffectError):
        engine.decide("example", "quote", _NotADict(data), explain=explain)


@pytest.mark.parametrize("as_of", ["2020-01-01", "2026-03-15", "2026-07-01", "2027-12-31"])
@pytest.mark.parametrize(("pinned", "discount"), [("2026-01", "10.00"), ("2026-07", "12.00")])
def test_pinned_version_decides_whatever_the_as_of(
    example_engine: ruleengine.Engine, as_of: str, pinned: str, discount: str
) -> None:
    decision = example_engine.decide("example", "quote", facts(as_of=as_of), version=pinned)
    assert decision.version == pinned
    assert decision.as_of == date.fromisoformat(as_of)
    assert str(decision.result["discount"]) == discount


@pytest.mark.parametrize("as_of", ["2025-12-31", "2000-01-01", "0001-01-01"])
def test_before_every_version_no_version_in_effect(
    example_engine: ruleengine.Engine, as_of: str
) -> None:
    with pytest.raises(ruleengine.NoVersionInEffectError) as info:
        example_engine.decide("example", "quote", facts(as_of=as_of))
    assert info.value.code == "no_version_in_effect"
    assert isinstance(info.value, ruleengine.RuleEngineError)
    assert "example" in str(info.value)
    assert info.value.earliest == date(2026, 1, 1)


def test_clock_before_every_version() -> None:
    engine = example_at(date(2025, 12, 31))
    with pytest.raises(ruleengine.NoVersionInEffectError):
        engine.decide("example", "checkout", facts())


def test_select_directly(example_engine: ruleengine.Engine) -> None:
    assert example_engine.select("example", date(2026, 6, 30)).version == "2026-01"
    assert example_engine.select("example", date(2026, 7, 1)).version == "2026-07"
    assert example_engine.select("example", date(1999, 1, 1), "2026-07").version == "2026-07"
    versions = example_engine.ruleset("example").versions
    assert [(v.version, v.effective_from) for v in versions] == [
        ("2026-01", date(2026, 1, 1)),
        ("2026-07", date(2026, 7, 1)),
    ]


@pytest.mark.parametrize(
    ("ruleset", "decision", "version", "kind", "name", "suggestion"),
    [
        ("exmaple", "quote", None, "ruleset", "exmaple", "example"),
        ("nothing_like_it", "quote", None, "ruleset", "nothing_like_it", None),
        ("example", "qoute", None, "decision", "qoute", "quote"),
        ("example", "chekout", None, "decision", "chekout", "checkout"),
        ("example", "quote", "2026-08", "version", "2026-08", "2026-07"),
        ("example", "quote", "1.0", "version", "1.0", None),
    ],
)
def test_unknown_names(
    example_engine: ruleengine.Engine,
    ruleset: str,
    decision: str,
    version: str | None,
    kind: str,
    name: str,
    suggestion: str | None,
) -> None:
    with pytest.raises(ruleengine.NotFoundError) as info:
        example_engine.decide(ruleset, decision, facts(), version=version)
    error = info.value
    assert (error.kind, error.name, error.code) == (kind, name, f"unknown_{kind}")
    assert repr(name) in str(error)
    if suggestion is not None:
        assert f"did you mean {suggestion!r}?" in str(error)
    else:
        assert "did you mean" not in str(error)


def test_unknown_decision_is_reported_before_input_is_validated(
    example_engine: ruleengine.Engine,
) -> None:
    with pytest.raises(ruleengine.NotFoundError):
        example_engine.decide("example", "nope", {"not": "valid"})


# --- the Decision --------------------------------------------------------------------


def test_decision_carries_its_provenance(example_engine: ruleengine.Engine) -> None:
    decision = example_engine.decide("example", "quote", facts(locale="fr"))
    assert decision.ruleset == "example"
    assert decision.decision == "quote"
    assert decision.version == "2026-01"
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", decision.content_hash)
    assert decision.content_hash == example_engine.ruleset("example").versions[0].content_hash
    assert decision.as_of == date(2026, 3, 15)
    assert decision.locale == "fr"
    assert decision.explanation is None
    with pytest.raises(AttributeError):
        decision.version = "2026-07"  # type: ignore[misc]


def test_content_hashes(example_engine: ruleengine.Engine, tmp_path: Path) -> None:
    jan, jul = example_engine.ruleset("example").versions
    assert jan.content_hash != jul.content_hash
    # The hash covers the version's files (relative paths and text), not where they sit.
    copied = tmp_path / "example"
    shutil.copytree(EXAMPLE, copied, ignore=UNLOCKED)
    again = ruleengine.load(tmp_path, clock=lambda: date(2026, 3, 15))
    assert [v.content_hash for v in again.ruleset("example").versions] == [
        jan.content_hash,
        jul.content_hash,
    ]
    # Any change to any file changes it (and the decision).
    tables = copied / "2026-01" / "tables.yaml"
    tables.write_text(tables.read_text("utf-8").replace("[gold, 0.05]", "[gold, 0.06]"), "utf-8")
    changed = ruleengine.load(tmp_path, clock=lambda: date(2026, 3, 15))
    new_jan, new_jul = changed.ruleset("example").versions
    assert new_jan.content_hash != jan.content_hash
    assert new_jul.content_hash == jul.content_hash
    order = {"currency": "USD", "items": [{"sku": "A", "quantity": 1, "unit_price": "100.00"}]}
    decision = changed.decide("example", "quote", {"customer": GOLD, "order": order})
    assert decision.content_hash == new_jan.content_hash
    assert str(decision.result["discount"]) == "6.00"


def test_locale_defaults_to_the_first_declared(example_engine: ruleengine.Engine) -> None:
    assert example_engine.decide("example", "checkout", facts()).locale == "en"


# --- results: exactly the outputs, plain data, quantized money, independent -------------

QUOTE_OUTPUTS = [
    "currency",
    "lines",
    "subtotal",
    "discount",
    "shipping_method",
    "shipping_fee",
    "total",
    "average_item_price",
]
PLAIN_SCALARS = (str, bool, int, Decimal, date, type(None))


def assert_plain(value: Any, path: str = "result") -> None:
    if isinstance(value, dict):
        assert type(value) is dict, path
        for key, item in value.items():
            assert type(key) is str, path
            assert_plain(item, f"{path}.{key}")
    elif isinstance(value, list):
        assert type(value) is list, path
        for i, item in enumerate(value):
            assert_plain(item, f"{path}[{i}]")
    else:
        assert type(value) in PLAIN_SCALARS, f"{path}: {type(value).__name__}"


@pytest.mark.parametrize("as_of", ["2026-03-15", "2026-07-01"])
def test_result_has_exactly_the_declared_outputs(
    example_engine: ruleengine.Engine, as_of: str
) -> None:
    quote = example_engine.decide("example", "quote", facts(as_of=as_of)).result
    assert list(quote) == QUOTE_OUTPUTS  # no let helper (digits, rate, fee, ...) leaks
    checkout = example_engine.decide("example", "checkout", facts(as_of=as_of)).result
    assert list(checkout) == ["allowed", "reasons", "remedy", "messages"]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_results_are_plain_data(example_engine: ruleengine.Engine, case: dict[str, Any]) -> None:
    result = example_engine.decide("example", case["decision"], case["input"]).result
    assert_plain(result)


@pytest.mark.parametrize(("currency", "digits"), [("USD", 2), ("EUR", 2), ("GBP", 2), ("JPY", 0)])
def test_money_is_quantized_to_the_currency(
    example_engine: ruleengine.Engine, currency: str, digits: int
) -> None:
    order = {
        "currency": currency,
        "items": [
            {"sku": "A", "quantity": 3, "unit_price": "16.783"},
            {"sku": "B", "quantity": 7, "unit_price": 2},
        ],
    }
    result = example_engine.decide("example", "quote", {"customer": GOLD, "order": order}).result
    money = [
        result[k] for k in ("subtotal", "discount", "shipping_fee", "total", "average_item_price")
    ]
    money += [line["amount"] for line in result["lines"]]
    for amount in money:
        assert type(amount) is Decimal
        assert amount.as_tuple().exponent == -digits, (currency, amount)


def test_mutating_a_result_does_not_affect_the_next(example_engine: ruleengine.Engine) -> None:
    first = example_engine.decide("example", "quote", facts())
    pristine = jsonio.to_plain(first.result)
    first.result["lines"].append({"sku": "X"})
    first.result["lines"][0]["amount"] = Decimal("0")
    first.result["total"] = Decimal("-1")
    first.result["extra"] = 1
    assert jsonio.to_plain(example_engine.decide("example", "quote", facts()).result) == pristine

    empty = example_engine.decide("example", "checkout", facts())
    empty.result["reasons"].append("country_not_served")
    empty.result["messages"].append("boo")
    again = example_engine.decide("example", "checkout", facts()).result
    assert again == {"allowed": True, "reasons": [], "remedy": None, "messages": []}


def test_deciding_does_not_mutate_the_input(example_engine: ruleengine.Engine) -> None:
    given = facts(as_of="2026-03-15", locale="fr")
    before = copy.deepcopy(given)
    example_engine.decide("example", "quote", given, explain=True)
    assert given == before


def test_results_do_not_share_containers_with_the_input(
    example_engine: ruleengine.Engine,
) -> None:
    given = facts()
    result = example_engine.decide("example", "quote", given).result
    result["lines"][0]["sku"] = "CHANGED"
    assert given["order"]["items"][0]["sku"] == "A"


# --- loading --------------------------------------------------------------------------


def test_load_everything_under_rules() -> None:
    engine = ruleengine.load(ROOT / "rules", clock=lambda: date(2026, 3, 15))
    assert "example" in engine.rulesets
    assert [v.version for v in engine.ruleset("example").versions] == ["2026-01", "2026-07"]
    assert sorted(engine.ruleset("example").versions[0].decisions) == ["checkout", "quote"]


def test_load_a_missing_folder() -> None:
    with pytest.raises(ruleengine.RuleFileError) as info:
        ruleengine.load(ROOT / "no-such-rules")
    assert info.value.diagnostics[0].code == "no_rules"


def test_a_bad_version_fails_the_whole_load(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLE, tmp_path / "example", ignore=UNLOCKED)
    rules = tmp_path / "example" / "2026-07" / "rules.yaml"
    rules.write_text(
        rules.read_text("utf-8").replace("customer.email_verified", "customer.email_verifed"),
        "utf-8",
    )
    with pytest.raises(ruleengine.RuleFileError) as info:
        ruleengine.load(tmp_path)
    codes = [d.code for d in info.value.diagnostics]
    assert codes, codes
    assert all(d.file.endswith("2026-07/rules.yaml") for d in info.value.diagnostics)


def test_duplicate_effective_dates_are_refused(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLE, tmp_path / "example", ignore=UNLOCKED)
    manifest = tmp_path / "example" / "2026-07" / "manifest.yaml"
    manifest.write_text(manifest.read_text("utf-8").replace("2026-07-01", "2026-01-01"), "utf-8")
    with pytest.raises(ruleengine.RuleFileError) as info:
        ruleengine.load(tmp_path)
    assert [d.code for d in info.value.diagnostics] == ["duplicate_version"]


@pytest.mark.parametrize("enabled_before", [True, False])
@pytest.mark.parametrize("broken", [False, True])
def test_load_restores_the_garbage_collector(
    tmp_path: Path, enabled_before: bool, broken: bool
) -> None:
    # Loading pauses the cyclic collector (a speed-up); whatever happens, it
    # leaves the collector as it found it, and it is paused while building.
    import gc

    from ruleengine import engine as engine_module

    rules = tmp_path / "rules"
    shutil.copytree(EXAMPLE, rules, ignore=UNLOCKED)
    if broken:
        manifest = next(rules.rglob("manifest.yaml"))
        manifest.write_text(manifest.read_text() + "\n  bad: [\n")
    seen: list[bool] = []
    original = engine_module._build_version

    def spy(*args: Any) -> Any:
        seen.append(gc.isenabled())
        return original(*args)

    was = gc.isenabled()
    try:
        if not enabled_before:
            gc.disable()
        engine_module._build_version = spy
        if broken:
            with pytest.raises(ruleengine.RuleFileError):
                ruleengine.load(rules)
        else:
            ruleengine.load(rules)
        assert gc.isenabled() is enabled_before
        assert seen and not any(seen)
    finally:
        engine_module._build_version = original
        if was:
            gc.enable()
