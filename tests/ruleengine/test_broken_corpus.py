"""The corpus of broken rule files: one folder per case under `broken/`.

Each case folder holds one version (`v1/`: manifest.yaml plus rule files)
with one kind of mistake, and `expect.yaml` listing every diagnostic the
engine must report: code, file (relative to the case folder), line, column,
message, hint, and the notes (secondary places: message, file, line, column).
The engine must report exactly those, in that order, in one run. (`expect.yaml` sits beside the version, not in it: every YAML file of a
version folder is a rule file.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

import ruleengine
from ruleengine.cli import app
from ruleengine.errors import Diagnostic, RuleFileError
from ruleengine.loader import MAX_ALIAS_EXPANSION

BROKEN = Path(__file__).parent / "broken"
CASES = sorted(p for p in BROKEN.iterdir() if (p / "expect.yaml").is_file())
KEYS = ("code", "file", "line", "column", "message", "hint")


def _expected(case: Path) -> list[dict[str, Any]]:
    spec = yaml.safe_load((case / "expect.yaml").read_text("utf-8"))
    assert spec.get("note"), f"{case.name}: expect.yaml needs a note saying what is wrong"
    return [
        {**{key: item.get(key) for key in KEYS}, "notes": item.get("notes", [])}
        for item in spec["diagnostics"]
    ]


def _load_errors(case: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Diagnostic, ...]:
    """Load the case folder as the CLI would from inside it; return its diagnostics."""
    monkeypatch.chdir(case)
    with pytest.raises(RuleFileError) as caught:
        ruleengine.load(".")
    return caught.value.diagnostics


def test_corpus_covers_every_class() -> None:
    codes: dict[str, int] = {}
    for case in CASES:
        for code in {d["code"] for d in _expected(case)}:
            codes[code] = codes.get(code, 0) + 1
    required = [
        "yaml_syntax",
        "duplicate_key",
        "yaml_alias_limit",
        "schema",
        "expr_syntax",
        "type_mismatch",
        "optional_value",
        "arity",
        "duplicate_rule_id",
        "bad_table",
        "bad_date",
        "missing_message",
    ]
    assert {code: codes.get(code, 0) for code in required if codes.get(code, 0) < 2} == {}
    unknown = sum(codes.get(c, 0) for c in ("unknown_name", "unknown_function", "unknown_field"))
    assert unknown >= 2
    assert codes.get("bad_date", 0) + codes.get("bad_version", 0) >= 2
    assert codes.get("number_syntax", 0) >= 1 and codes.get("literal_never_matches", 0) >= 1


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_broken_case(
    case: Path, monkeypatch: pytest.MonkeyPatch, yaml_nodes_converted: list[int]
) -> None:
    expected = _expected(case)
    found = _load_errors(case, monkeypatch)
    actual = [
        {
            **{key: getattr(d, key) for key in KEYS},
            "notes": [
                {"message": n.message, "file": n.file, "line": n.line, "column": n.column}
                for n in d.notes
            ],
        }
        for d in found
    ]
    assert actual == expected
    # Everything here is refused after bounded work, alias bombs included (counted in
    # YAML nodes converted, not in seconds: machines vary).
    assert yaml_nodes_converted[0] <= MAX_ALIAS_EXPANSION + 1_000


@pytest.mark.parametrize(
    "case",
    [c for c in CASES if c.name.startswith("several_files")],
    ids=lambda c: c.name,
)
def test_several_files_all_reported_in_order(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    found = _load_errors(case, monkeypatch)
    assert len({d.file for d in found}) >= 3
    assert list(found) == sorted(found, key=Diagnostic.sort_key)


def test_rendered_diagnostic_has_source_line_caret_and_hint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    case = BROKEN / "unknown_field_hint"
    found = _load_errors(case, monkeypatch)
    rendered = RuleFileError(found).render()
    assert rendered.splitlines() == [
        "v1/rules.yaml:26:15: error[unknown_field]: Order has no field 'countyr'",
        "  26 |         when: order.countyr not in countries",
        "     |               ^^^^^^^^^^^^^",
        "  hint: did you mean `country`?",
    ]


def test_rendered_several_errors_are_separated_by_blank_lines(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    case = BROKEN / "several_files_load_errors"
    rendered = RuleFileError(_load_errors(case, monkeypatch)).render()
    blocks = rendered.split("\n\n")
    assert [b.splitlines()[0] for b in blocks] == [
        "v1/manifest.yaml:5:1: error[duplicate_key]: duplicate key 'locales' (first defined at line 4)",
        "v1/reasons.yaml:5:3: error[duplicate_key]: duplicate key 'not_served' (first defined at line 2)",
        "v1/tables.yaml:4:7: error[yaml_syntax]: did not find expected ',' or ']' "
        "(while parsing a flow sequence that starts at line 3, column 10)",
    ]
    assert blocks[0].splitlines()[1:] == [
        "   5 | locales: [en, fr]",
        "     | ^",
        "  hint: each key may appear once in a mapping; remove or rename one",
    ]


def test_render_uses_given_sources_and_caret_width() -> None:
    diag = Diagnostic(
        "unknown_name", "unknown name 'contries'", "r.yaml", 2, 9, "did you mean `countries`?", 8
    )
    text = diag.render("  when: contries\n")
    assert text.splitlines() == [
        "r.yaml:2:9: error[unknown_name]: unknown name 'contries'",
        "   2 |   when: contries",
        "     |         ^^^^^^^^",
        "  hint: did you mean `countries`?",
    ]
    # Without a source line: only the headline and the hint.
    assert diag.render().splitlines() == [diag.headline(), "  hint: did you mean `countries`?"]
    # A file without a position prints as the file alone.
    assert Diagnostic("no_rules", "no such file or folder", "nowhere").headline() == (
        "nowhere: error[no_rules]: no such file or folder"
    )


runner = CliRunner()


def test_cli_check_exit_status_on_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(BROKEN / "several_files_check_errors")
    result = runner.invoke(app, ["check", "."])
    assert result.exit_code == 1
    assert "v1/rules.yaml:6:15: error[unknown_field]: Order has no field 'countyr'" in result.output
    assert (
        "v1/decisions.yaml:7:28: error[division_by_zero]: `order.items` may be zero"
        in result.output
    )
    assert "v1/tables.yaml:8:14: error[bad_table]" in result.output


def test_cli_check_json_format(monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    monkeypatch.chdir(BROKEN / "unknown_name_hint")
    result = runner.invoke(app, ["check", ".", "--format", "json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {
        "errors": [
            {
                "code": "unknown_name",
                "message": "unknown name 'contries'",
                "file": "v1/rules.yaml",
                "line": 26,
                "column": 36,
                "hint": "did you mean `countries`?",
            }
        ]
    }


def test_cli_check_clean_rules_exit_zero() -> None:
    rules = Path(__file__).resolve().parents[2] / "rules" / "example"
    result = runner.invoke(app, ["check", str(rules)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("ok: 1 rule set(s), 2 version(s)")


def test_cli_check_missing_path_exit_one(tmp_path: Path) -> None:
    result = runner.invoke(app, ["check", str(tmp_path / "absent")])
    assert result.exit_code == 1
    assert "error[no_rules]: no such file or folder" in result.output


def test_caret_under_the_name_after_wide_characters_and_in_long_lines(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from wcwidth import wcswidth

    first, second = _load_errors(BROKEN / "caret_after_wide_characters", monkeypatch)
    # 日本からこんにちは and 🎉 take two terminal cells each: the caret counts cells.
    source = (BROKEN / "caret_after_wide_characters" / first.file).read_text("utf-8")
    shown, caret = first.render(source.splitlines()[first.line - 1]).splitlines()[1:3]
    at = caret.index("^")  # in cells, since the caret line is plain ASCII
    assert _cell_slice(shown, at, len("order.contry")) == "order.contry"
    assert wcswidth(shown) > len(shown)  # the wide characters are there
    # The 420-character line is a window around the caret, marked with "...".
    source = (BROKEN / "caret_after_wide_characters" / second.file).read_text("utf-8")
    shown, caret = second.render(source.splitlines()[second.line - 1]).splitlines()[1:3]
    assert len(shown) <= 110 and shown.startswith("  18 | ...")
    at = caret.index("^")
    assert shown[at : at + len("order.countyr")] == "order.countyr"
    assert caret.count("^") == len("order.countyr")


def _cell_slice(text: str, start_cell: int, count: int) -> str:
    """The characters of `text` from terminal cell `start_cell` on, `count` of them."""
    from wcwidth import wcwidth

    cells = 0
    for i, ch in enumerate(text):
        if cells == start_cell:
            return text[i : i + count]
        cells += max(wcwidth(ch), 1)
    return ""
