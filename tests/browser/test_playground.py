"""The playground and its workbench, used as a policy owner would, in headless Chromium.

Covers: deciding published rules with the explanation tree beside the answer (and a
node's file:line opening the source), Compare listing only real differences, a draft
whose edit shows a positioned error in place and clears when fixed, a decision under
the draft, the regression suites on a draft, the impact view, and a huge paste.
The cases' data is in `playground.yaml` beside this file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import Shots, wait_for

CASES: dict[str, Any] = yaml.safe_load((Path(__file__).parent / "playground.yaml").read_text())


def csp_violations(driver: Any) -> str:
    """The browser's Content-Security-Policy complaints, and what the page needs."""
    logged = [e["message"] for e in driver.get_log("browser")]
    found = [m for m in logged if "Content Security Policy" in m]
    if not found:
        return ""
    return (
        "; the browser refused, under the server's Content-Security-Policy: "
        + " | ".join(found[:5])
        + ". The page needs script-src 'self' and style-src 'self' (it has nothing inline)."
    )


class Page:
    def __init__(self, driver: Any, base_url: str) -> None:
        self.driver = driver
        driver.get(base_url + "/playground")
        driver.execute_script("sessionStorage.clear()")
        driver.get(base_url + "/playground")
        try:
            wait_for(lambda: self.js("return document.body.dataset.ready === 'true'"), what="page")
        except AssertionError as exc:
            raise AssertionError(f"the page did not start{csp_violations(driver)}") from exc

    def js(self, script: str, *args: Any) -> Any:
        return self.driver.execute_script(script, *args)

    def text(self, selector: str) -> str:
        return str(self.js("return document.querySelector(arguments[0]).textContent", selector))

    def texts(self, selector: str) -> list[str]:
        return list(
            self.js(
                "return [...document.querySelectorAll(arguments[0])].map(e => e.textContent)",
                selector,
            )
        )

    def visible(self, element_id: str) -> bool:
        return not self.js(
            "return document.getElementById(arguments[0]).classList.contains('hidden')", element_id
        )

    def choose(self, element_id: str, value: str) -> None:
        self.js(
            "const s = document.getElementById(arguments[0]); s.value = arguments[1];"
            "s.dispatchEvent(new Event('change'));",
            element_id,
            value,
        )
        assert self.js("return document.getElementById(arguments[0]).value", element_id) == value

    def choose_example(self, name: str) -> None:
        index = self.js(
            "return [...document.getElementById('example').options]"
            ".findIndex(o => o.text === arguments[0])",
            name,
        )
        assert index > 0, f"no example {name!r}"
        self.js(
            "const e = document.getElementById('example'); e.selectedIndex = arguments[0];"
            "e.dispatchEvent(new Event('change'));",
            index,
        )

    def pick_ruleset(self, name: str) -> None:
        self.choose("ruleset", name)
        wait_for(lambda: self.js("return document.getElementById('example').options.length > 1"))

    def decide(self) -> None:
        self.js(
            "document.getElementById('answer').classList.add('hidden');"
            "document.getElementById('problems').classList.add('hidden');"
            "document.getElementById('decide').click();"
        )
        wait_for(lambda: self.visible("answer") or self.visible("problems"), what="an answer")

    def result(self) -> dict[str, Any]:
        return dict(json.loads(self.text("#result")))

    # --- the draft editor -----------------------------------------------------------------

    def start_draft(self, ruleset: str, version: str) -> None:
        self.pick_ruleset(ruleset)
        self.choose("draft-base", version)
        self.js(
            "document.getElementById('check-status').textContent = '';"
            "document.getElementById('draft-start').click()"
        )
        wait_for(lambda: "No problems" in self.text("#check-status"), what="the draft checked")

    def open_file(self, name: str) -> None:
        self.js(f"document.querySelector('#draft-tabs [data-file=\"{name}\"]').click()")

    def editor_text(self) -> str:
        return str(self.js("return document.querySelector('.CodeMirror').CodeMirror.getValue()"))

    def type_into_editor(self, text: str) -> None:
        self.js("document.querySelector('.CodeMirror').CodeMirror.setValue(arguments[0])", text)

    def replace_in_editor(self, old: str, new: str) -> None:
        text = self.editor_text()
        assert old in text, f"{old!r} is not in the file"
        self.type_into_editor(text.replace(old, new, 1))


@pytest.fixture
def page(driver: Any, base_url: str) -> Page:
    return Page(driver, base_url)


def test_a_published_decision_is_explained_in_a_tree(page: Page, shots: Shots) -> None:
    case = CASES["published"]
    rulesets = page.js("return [...document.getElementById('ruleset').options].map(o => o.value)")
    assert set(rulesets) == {"example", "self-service"}
    assert set(json.loads(page.js("return document.getElementById('input').value"))) == {
        "customer",
        "order",
    }
    page.choose("decision", case["decision"])
    page.js("document.getElementById('input').value = arguments[0]", json.dumps(case["input"]))
    page.decide()
    assert page.result()["allowed"] is True
    assert "sha256:" in page.text("#meta") and "decision id" in page.text("#meta")
    # The tree: the decision, its rule groups, each rule with whether it fired, the facts
    # it read and its file:line, which opens the source at that line.
    nodes = page.texts("#tree .node")
    assert len(nodes) >= 1 + len(case["groups"]), nodes
    summaries = page.texts("#tree summary")
    for group in case["groups"]:
        assert any(s.startswith(group) for s in summaries), (group, summaries)
    # (rules are at file:line; the derived values above them at file:line:col)
    links = [link for link in page.texts("#tree a.loc") if link.count(":") == 1]
    assert links and all("rules.yaml:" in link for link in links), links
    assert page.texts("#tree .inputs"), "the facts each rule read"
    page.js(
        "[...document.querySelectorAll('#tree a.loc')]"
        ".find((a) => a.textContent === arguments[0]).click()",
        links[0],
    )
    wait_for(lambda: page.visible("source"), what="the source of a rule")
    line = int(links[0].split(":")[1])
    assert page.text("#source .here").strip().startswith(f"{line} |")
    shots.take("explanation-tree", "#answer")
    rows = page.texts("#explanation tbody tr")
    assert len(rows) == len(links)

    # Decimals are sent as typed: as a binary float 19.994999999999999999 would round to 20.00.
    page.choose("decision", "quote")
    page.js("document.getElementById('input').value = arguments[0]", case["precise_quote"])
    page.decide()
    assert page.result()["subtotal"] == "19.99"

    # A broken input: every problem listed with its path.
    page.choose("decision", case["decision"])
    page.js("document.getElementById('input').value = '{\"customer\": {\"id\": 1}}'")
    page.decide()
    errors = page.texts("#errors li")
    assert any(e.startswith("input.customer.id:") for e in errors), errors
    assert any(e.startswith("input.order:") for e in errors), errors


def test_compare_lists_only_real_differences(page: Page, shots: Shots) -> None:
    case = CASES["compare"]
    page.pick_ruleset(case["ruleset"])
    page.choose("decision", case["decision"])
    page.choose_example(case["example"])
    page.choose("version", case["version"])
    page.choose("compare", case["with"])
    page.decide()
    wait_for(lambda: page.visible("comparison"), what="the comparison")
    fields = page.texts("#differences tbody tr td:first-child")
    assert len(fields) == case["differences"], fields
    assert f"{case['differences']} field(s) differ" in page.text("#compared")
    for field in case["fields"]:
        assert field in fields, (field, fields)
    # No list is reported both whole and item by item.
    assert not [f for f in fields if f + "[0]" in fields], fields
    shots.take("compare", "#comparison")


def test_a_draft_shows_each_problem_in_place(page: Page, shots: Shots) -> None:
    case = CASES["draft_error"]
    page.start_draft(case["ruleset"], case["version"])
    page.open_file(case["file"])
    page.replace_in_editor(case["replace"], case["with"])
    wait_for(lambda: page.texts("#diagnostics li"), seconds=5, what="the draft's problems")
    problems = page.texts("#diagnostics li")
    assert any(p.startswith(case["expect"]) for p in problems), problems
    line = case["expect"].split(":")[1]
    # In place: the line is marked in the editor, with the message (and hint) under it.
    widgets = page.texts(f".error-widget[data-line='{line}']")
    assert widgets and case["message"] in widgets[0], widgets
    assert page.js("return document.querySelectorAll('.cm-error-line').length") >= 1
    assert page.js("return document.querySelectorAll('.cm-error-mark').length") >= 1
    underlined = page.texts(".cm-error-text")
    assert underlined and case["underlined"] in underlined, underlined
    assert "has-errors" in page.js(
        f"return document.querySelector('#draft-tabs [data-file=\"{case['file']}\"]').className"
    )
    shots.take("draft-error", "#workbench")
    # Deciding with a draft that does not load says so; fixing it clears every mark.
    page.decide()
    assert any("draft" in e for e in page.texts("#errors li"))
    page.replace_in_editor(case["with"], case["replace"])
    wait_for(lambda: "No problems" in page.text("#check-status"), seconds=5, what="no problems")
    assert page.texts("#diagnostics li") == []
    assert page.js("return document.querySelectorAll('.error-widget').length") == 0

    # A huge paste: a positioned error in the page, not a broken one.
    page.type_into_editor("# filler\n" * 40_000)
    wait_for(lambda: page.texts("#diagnostics li"), seconds=5, what="the size problem")
    problems = page.texts("#diagnostics li")
    assert any("file_too_large" in p and f"{case['file']}:" in p for p in problems), problems
    assert page.js("return document.querySelectorAll('.error-widget').length") == 1


def _edited_draft(page: Page) -> dict[str, Any]:
    case: dict[str, Any] = CASES["draft_edit"]
    page.start_draft(case["ruleset"], case["version"])
    page.open_file(case["file"])
    page.replace_in_editor(case["replace"], case["with"])
    wait_for(lambda: "No problems" in page.text("#check-status"), seconds=5, what="no problems")
    return case


def test_a_decision_under_a_draft(page: Page, shots: Shots) -> None:
    case = _edited_draft(page)
    page.choose("decision", case["decision"])
    page.choose_example(case["example"])
    page.decide()
    assert "DRAFT" in page.text("#meta"), page.text("#meta")
    modified = page.js(
        "return [...document.querySelectorAll('#draft-tabs .modified')].map(b => b.dataset.file)"
    )
    assert modified == [case["file"]], modified
    assert page.text("#draft-changes") == f"Changed from {case['version']}: {case['file']}."
    result = page.result()
    for field, value in case["draft_result"].items():
        assert result[field] == value, result
    # Every derived value in the tree links to where it is computed, a value shown again
    # (a let read twice) too; only facts (the input) have no place in the rule files.
    unlinked = page.js(
        "return [...document.querySelectorAll('#tree > .node:not(.rules)')]"
        ".flatMap((root) => [root, ...root.querySelectorAll('.node')])"
        ".filter((n) => !n.classList.contains('fact'))"
        ".map((n) => (n.tagName === 'DETAILS' ? n.querySelector(':scope > summary') : n))"
        ".filter((head) => !head.querySelector(':scope > a.loc'))"
        ".map((head) => head.textContent)"
    )
    assert unlinked == [], unlinked
    again = page.texts("#tree .again")
    assert again, "a let read twice is shown again, linked"
    # Its explanation points into the draft's files: a click opens the editor there.
    links = page.texts("#tree a.loc")
    assert links and all(not link.startswith("/") for link in links), links
    shots.take("draft-decision", "#answer")
    page.js("document.querySelector('#tree a.loc').click()")
    target = links[0].split(":")[0]
    wait_for(
        lambda: (
            page.js(
                "return document.querySelector('#draft-tabs [aria-selected=\"true\"]').dataset.file"
            )
            == target
        ),
        what="the editor on the node's file",
    )
    # The same input under the published rules is decided as before.
    page.js("document.getElementById('use-draft').checked = false")
    page.decide()
    assert "DRAFT" not in page.text("#meta")
    for field, value in case["published_result"].items():
        assert page.result()[field] == value


def test_the_regression_suites_on_a_draft(page: Page, shots: Shots) -> None:
    case = CASES["draft_edit"]
    page.start_draft(case["ruleset"], case["version"])
    page.js("document.getElementById('run-suites').click()")
    wait_for(lambda: "passed" in page.text("#suites-summary"), seconds=30, what="the suites")
    assert ", 0 failed" in page.text("#suites-summary"), page.text("#suites-summary")
    _edited_draft(page)
    page.js("document.getElementById('run-suites').click()")
    wait_for(lambda: "passed" in page.text("#suites-summary"), seconds=30, what="the suites")
    assert ", 0 failed" not in page.text("#suites-summary")
    failed = page.texts("#suite-cases tbody tr.failed td:first-child")
    assert any(case["failing_case"] in f for f in failed), failed
    diffs = page.texts("#suite-cases tbody tr.failed td:last-child")
    assert any(case["failing_diff"] in d for d in diffs), diffs
    shots.take("draft-suites", "#suites")


def test_the_impact_of_a_draft_on_recent_decisions(page: Page, shots: Shots) -> None:
    case = _edited_draft(page)
    page.js("document.getElementById('run-impact').click()")
    wait_for(
        lambda: "decided differently" in page.text("#impact-summary"), seconds=30, what="the impact"
    )
    summary = page.text("#impact-summary")
    assert "corpus file" in summary and "inputs decided differently" in summary, summary
    fields = page.texts("#impact-fields tbody tr td:first-child")
    assert case["impact_field"] in fields, fields
    examples = page.texts("#impact-fields tbody tr td:last-child summary")
    assert examples and all("→" in e for e in examples), examples
    shots.take("draft-impact", "#impact")


def test_the_page_runs_under_a_strict_content_security_policy(page: Page) -> None:
    """Nothing the page does (the editor, the tree, the tables) needs an inline script or
    style, or anything from another origin: under the server's policy (or STRICT_CSP when
    it sets none) the browser reports no violation."""
    page.driver.get_log("browser")  # what earlier tests logged
    case = _edited_draft(page)
    page.choose("decision", case["decision"])
    page.choose_example(case["example"])
    page.decide()
    assert "DRAFT" in page.text("#meta")
    page.js("document.querySelector('#tree a.loc').click()")
    assert csp_violations(page.driver) == ""
    assert page.js("return document.querySelectorAll('.CodeMirror-line').length") > 0


def test_a_draft_lives_in_the_browser_session(page: Page) -> None:
    """A reload keeps the draft (with what changed); discarding it ends it."""
    case = _edited_draft(page)
    page.driver.refresh()
    wait_for(lambda: page.js("return document.body.dataset.ready === 'true'"), what="the page")
    wait_for(lambda: "No problems" in page.text("#check-status"), seconds=5, what="the check")
    page.open_file(case["file"])
    assert case["with"] in page.editor_text()
    wait_for(
        lambda: page.text("#draft-changes") == f"Changed from {case['version']}: {case['file']}.",
        what="the changed files",
    )
    page.js("document.getElementById('draft-discard').click()")
    assert not page.visible("draft-panel")
    page.driver.refresh()
    wait_for(lambda: page.js("return document.body.dataset.ready === 'true'"), what="the page")
    assert not page.visible("draft-panel")
