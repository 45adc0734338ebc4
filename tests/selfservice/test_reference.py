"""The self-service suite, the reference calculation and the engine must all agree.

- Every case the generator wrote (rules/self-service/tests/, the files of
  generate_suite.FILES) agrees with the reference calculation (reference.py, written
  from the policy text), so the suite cannot drift from the policy; the generated
  files are what the generator writes. Other suite files are policy data, governed by
  `ruleengine test` alone (a new version's hand-written cases need no Python); only
  the paper figures of worked_by_hand.yaml are also checked, for the versions the
  reference knows.
- The engine decides every generated case exactly as expected (all fields, all digits).
- The engine, with the versions the reference knows, agrees with the reference on
  thousands of seeded random inputs, valid and invalid, under both versions.
- The suite covers what the policy asks to be covered.
"""

from __future__ import annotations

import collections
import importlib.util
import json
import os
import random
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import ruleengine
from ruleengine.engine import RuleSet
from ruleengine.errors import InputError, NotFoundError, NoVersionInEffectError
from ruleengine.loader import load_document

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
# $RULEENGINE_TEST_RULES: another rules folder to test (tests/test_policy_as_data.py).
RULES = Path(os.environ.get("RULEENGINE_TEST_RULES") or ROOT / "rules") / "self-service"
SUITE_DIR = RULES / "tests"
HAND_WORKED = "worked_by_hand.yaml"


def _module(name: str, filename: str) -> Any:
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, HERE / filename)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return module


ref = _module("selfservice_reference", "reference.py")
randomized = _module("selfservice_randomized", "randomized.py")
generator = _module("selfservice_generate_suite", "generate_suite.py")


def _suite_files() -> list[Path]:
    """The suite files the generator writes (other files are not the reference's business)."""
    return [SUITE_DIR / name for name in sorted(generator.FILES)]


def _cases(files: list[Path] | None = None) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for path in _suite_files() if files is None else files:
        data = load_document(path).data  # read exactly as `ruleengine test` reads it
        cases = data["cases"] if isinstance(data, dict) else data
        out.extend((f"{path.name}::{c['name']}", c) for c in cases)
    return out


CASES = _cases()
KNOWN = {v.label for v in ref.VERSIONS}
# Paper figures: checked against the reference for the versions it knows.
HAND_CASES = [
    (i, c)
    for i, c in _cases([SUITE_DIR / HAND_WORKED])
    if c.get("version", c["expect"].get("version")) in KNOWN
]


@pytest.fixture(scope="module")
def engine() -> ruleengine.Engine:
    """The rule set with the versions the reference knows: later ones are not its business."""
    clock = lambda: date(2026, 11, 15)  # noqa: E731
    loaded = ruleengine.load(RULES, clock=clock).ruleset("self-service")
    known = [v for v in loaded.versions if v.version in KNOWN]
    return ruleengine.Engine({"self-service": RuleSet.of("self-service", known)}, clock)


# --- helpers --------------------------------------------------------------------------


def plain(value: Any) -> Any:
    """Engine results as JSON shows them: decimals as their exact text, dates ISO."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def strictly_equal(a: Any, b: Any) -> bool:
    """Equal and of the same types all the way down (True is not 1, "675.00" is not "675")."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(strictly_equal(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(strictly_equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def facts_of(case: dict[str, Any]) -> dict[str, Any]:
    return {**case["input"], "as_of": case["as_of"]}


def expected_errors(case: dict[str, Any]) -> list[tuple[str, str]]:
    errors = case["expect"]["error"]
    errors = errors if isinstance(errors, list) else [errors]
    return sorted((e["code"], e.get("path", "")) for e in errors)


def reference_outcome(case: dict[str, Any]) -> Any:
    return ref.decide(case["decision"], facts_of(case), case.get("version"))


def engine_outcome(
    engine: ruleengine.Engine, decision: str, facts: Any, version: str | None
) -> Any:
    """The engine's answer in the reference's terms: Decided(version, plain result) or Rejected."""
    try:
        made = engine.decide("self-service", decision, facts, version=version)
    except InputError as exc:
        return ref.Rejected(sorted((p.code, p.path) for p in exc.problems))
    except (NotFoundError, NoVersionInEffectError) as exc:
        return ref.Rejected([(exc.code, "")])
    return ref.Decided(made.version, plain(made.result))


def same_outcome(a: Any, b: Any) -> bool:
    if isinstance(a, ref.Rejected) and isinstance(b, ref.Rejected):
        return sorted(a.problems) == sorted(b.problems)
    if isinstance(a, ref.Decided) and isinstance(b, ref.Decided):
        return a.version == b.version and strictly_equal(a.result, b.result)
    return False


# --- the suite against the reference -----------------------------------------------------


def test_suite_files_follow_the_suite_schema() -> None:
    schema = json.loads((ROOT / "schemas" / "suite.schema.json").read_text("utf-8"))
    assert _suite_files()
    for path in sorted(SUITE_DIR.glob("*.yaml")):
        jsonschema.validate(load_document(path).data, schema)


def test_generated_suite_files_are_up_to_date() -> None:
    for name, text in generator.all_files().items():
        on_disk = (SUITE_DIR / name).read_text("utf-8")
        assert on_disk == text, f"{name} differs from generate_suite.py's output: regenerate it"


def test_generated_cases_are_pinned_when_a_later_version_could_decide_them() -> None:
    for name, c in CASES:
        if date.fromisoformat(c["as_of"]) >= generator.PIN_FROM:
            assert c.get("version") in KNOWN, name


@pytest.mark.parametrize(
    "case", [c for _, c in CASES + HAND_CASES], ids=[i for i, _ in CASES + HAND_CASES]
)
def test_reference_agrees_with_the_suite_case(case: dict[str, Any]) -> None:
    outcome = reference_outcome(case)
    expect = case["expect"]
    if "error" in expect:
        assert isinstance(outcome, ref.Rejected), outcome
        assert sorted(outcome.problems) == expected_errors(case)
    else:
        assert isinstance(outcome, ref.Decided), outcome
        assert outcome.version == expect["version"]
        assert strictly_equal(expect["result"], outcome.result), (expect["result"], outcome.result)


# --- the suite against the engine ----------------------------------------------------------


@pytest.mark.parametrize("case", [c for _, c in CASES], ids=[i for i, _ in CASES])
def test_engine_decides_the_suite_case(engine: ruleengine.Engine, case: dict[str, Any]) -> None:
    got = engine_outcome(engine, case["decision"], facts_of(case), case.get("version"))
    expect = case["expect"]
    if "error" in expect:
        assert isinstance(got, ref.Rejected), got
        assert sorted(got.problems) == expected_errors(case)
    else:
        assert isinstance(got, ref.Decided), got
        assert got.version == expect["version"]
        assert strictly_equal(expect["result"], got.result), (expect["result"], got.result)


# --- the engine against the reference on random input ------------------------------------


def test_engine_agrees_with_reference_on_random_valid_input(engine: ruleengine.Engine) -> None:
    rng = random.Random(20261101)
    decisions = list(ref.DECIDERS)
    seen: collections.Counter[str] = collections.Counter()
    mismatches = []
    for _ in range(4000):
        decision = rng.choice(decisions)
        facts = randomized.facts(rng, decision)
        pin = rng.choice((None, None, None, "2026-11", "2026-12"))
        want = ref.decide(decision, facts, pin)
        got = engine_outcome(engine, decision, facts, pin)
        if isinstance(want, ref.Decided):
            r = want.result
            priced = (
                r.get("total") is not None if decision != "options" else r["add_seats"]["available"]
            )
            seen[f"{decision}:{want.version}:{'priced' if priced else 'refused'}"] += 1
            seen.update(_reasons_in(r))
        if not same_outcome(want, got):
            mismatches.append((decision, pin, facts, want, got))
    assert not mismatches, mismatches[:3]
    # The generator reaches every branch that matters, both versions, priced and refused.
    for decision in decisions:
        for version in ("2026-11", "2026-12"):
            for kind in ("priced", "refused"):
                assert seen[f"{decision}:{version}:{kind}"] >= 20, (decision, version, kind, seen)
    for code in ref.REASON_ORDER:
        assert seen[code] >= 10, (code, seen)


def test_plain_and_traced_programs_agree_on_random_input(engine: ruleengine.Engine) -> None:
    # The plain program inlines helpers and rule groups and checks input in one fused
    # function; the traced one (explain) keeps every call as written. Same answers.
    rng = random.Random(20261126)
    decisions = list(ref.DECIDERS)
    seen: collections.Counter[str] = collections.Counter()
    for _ in range(600):
        decision = rng.choice(decisions)
        facts = randomized.facts(rng, decision)
        answers = []
        for explain in (False, True):
            try:
                made = engine.decide("self-service", decision, facts, explain=explain)
            except ruleengine.RuleEngineError as exc:  # e.g. before the first version
                answers.append(("refused", str(exc)))
            else:
                answers.append((made.version, plain(made.result)))
        (plain_version, plain_result), (traced_version, traced_result) = answers
        assert plain_version == traced_version, facts
        assert strictly_equal(plain_result, traced_result), facts
        seen[plain_version] += 1
    assert seen["2026-11"] > 30 and seen["2026-12"] > 300 and seen["refused"] > 0, seen


def _mutations(rng: random.Random) -> list[tuple[str, Any]]:
    return [
        ("plan", rng.choice(("basic", "", 1, None))),
        ("channel", "partner"),
        ("term", rng.choice(("biennial", "Annual", None))),
        ("payment_method", "bitcoin"),
        ("status", "cancelled"),
        ("seats", rng.choice((0, -1, "2", 2.0, 1.5, True, None))),
        ("renewal_date", rng.choice(("2027-02-29", "2027-3-31", "soon", 20270331, None))),
        ("auto_renew", rng.choice(("yes", 1, None))),
        ("currency", rng.choice(("CAD", "usd", "", 840, None))),
        ("id", rng.choice(("", 7, None))),
        ("product", rng.choice(("", None, ["maya-lt"]))),
        ("colour", "red"),
        ("-seats", None),
        ("-currency", None),
    ]


def _mutate(rng: random.Random, decision: str, facts: dict[str, Any]) -> dict[str, Any]:
    facts = json.loads(json.dumps(facts))
    roll = rng.random()
    if roll < 0.15:
        facts["account"] = rng.choice(({"country": "usa"}, {"country": "us"}, {}, None, "US"))
    elif roll < 0.25:
        extra = {
            "options": ("subscripton", {}),
            "add_seats": ("quantity", rng.choice((0, "1", 1.0, None))),
            "change_term": ("new_term", rng.choice(("weekly", None, 3))),
            "align_dates": ("target_id", rng.choice(("", 3))),
        }[decision]
        facts[extra[0]] = extra[1]
    elif roll < 0.3:
        facts["locale"] = rng.choice(("de", "EN", 1))
    subs = facts.get("subscriptions") or [facts.get("subscription")]
    for _ in range(rng.randint(0 if roll < 0.3 else 1, 3)):
        target = rng.choice(subs)
        if not isinstance(target, dict):
            continue
        name, value = rng.choice(_mutations(rng))
        if name.startswith("-"):
            target.pop(name[1:], None)
        else:
            target[name] = value
    return facts


def test_engine_agrees_with_reference_on_random_invalid_input(engine: ruleengine.Engine) -> None:
    rng = random.Random(422)
    decisions = list(ref.DECIDERS)
    rejected = 0
    mismatches = []
    for _ in range(1500):
        decision = rng.choice(decisions)
        facts = randomized.facts(rng, decision)
        facts["as_of"] = rng.choice(("2026-11-20", "2026-12-24", "2027-06-30"))
        facts = _mutate(rng, decision, facts)
        want = ref.decide(decision, facts)
        got = engine_outcome(engine, decision, facts, None)
        rejected += isinstance(want, ref.Rejected)
        if not same_outcome(want, got):
            mismatches.append((decision, facts, want, got))
    assert not mismatches, mismatches[:3]
    assert rejected > 1000


# --- what the suite covers ------------------------------------------------------------------


def _reasons_in(result: dict[str, Any]) -> set[str]:
    found = set(result.get("reasons") or [])
    for value in result.values():
        if isinstance(value, dict) and "reasons" in value:
            found.update(value["reasons"])
    for own in (result.get("subscription_reasons") or {}).values():
        found.update(own)
    return found


def _remedies_in(result: dict[str, Any]) -> set[str]:
    found = {result.get("remedy")}
    found.update(v.get("remedy") for v in result.values() if isinstance(v, dict))
    return found - {None}


def test_suite_covers_the_policy() -> None:
    cases = [c for _, c in CASES + HAND_CASES]
    assert len(cases) >= 150
    decided = [c for c in cases if "result" in c["expect"]]
    by_decision = collections.Counter(c["decision"] for c in decided)
    assert all(by_decision[d] >= 20 for d in ref.DECIDERS), by_decision

    reason_count = collections.Counter(
        code for c in decided for code in _reasons_in(c["expect"]["result"])
    )
    assert {code for code in ref.REASON_ORDER if reason_count[code] < 2} == set(), reason_count
    remedy_count = collections.Counter(
        remedy for c in decided for remedy in _remedies_in(c["expect"]["result"])
    )
    assert remedy_count["contact_reseller"] >= 2 and remedy_count["contact_support"] >= 2

    text = "\n".join(path.read_text("utf-8") for path in [*_suite_files(), SUITE_DIR / HAND_WORKED])
    for figure in ('"675.00"', '"755.00"', '"80.00"', '"238.50"', '"207.00"', '"41580"'):
        assert figure in text, figure
    for day in ("2028-02-29", "2027-03-31", "2026-12-01", "2026-12-31", "2027-01-01"):
        assert day in text, day

    versions = collections.Counter(c["expect"]["version"] for c in decided)
    assert versions["2026-11"] >= 20 and versions["2026-12"] >= 20
    pinned = {(c["version"], c["as_of"][:7]) for c in decided if "version" in c}
    assert ("2026-11", "2026-12") in pinned and ("2026-12", "2026-11") in pinned
    assert any(c["decision"] == "options" and c["input"].get("locale") == "fr" for c in decided)

    errors = collections.Counter(
        code for c in cases if "error" in c["expect"] for code, _ in expected_errors(c)
    )
    for code in (
        "enum",
        "type",
        "required",
        "unknown_field",
        "not_in_table",
        "pattern",
        "minimum",
        "min_length",
        "no_version_in_effect",
    ):
        assert errors[code] >= 2, (code, errors)
    assert all(
        path
        for c in cases
        if "error" in c["expect"]
        for code, path in expected_errors(c)
        if code != "no_version_in_effect"
    )
