"""The user documentation stays true to the code.

- every built-in function and macro of the standard library is documented in
  docs/language.md;
- every error code the engine reports (rule files and decision input) is
  documented in docs/rules.md;
- the worked example (rules/example) checks clean, and every `ruleengine eval`
  shown in docs/rules.md prints what the page says it prints;
- every expression example of docs/language.md (```expr blocks) gives the
  result it shows, and every ```expr-error example fails `check` with the code
  it shows.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import ruleengine
from ruleengine import jsonio
from ruleengine.errors import Code, InputCode, RuleFileError
from ruleengine.stdlib import BUILTINS, MACROS

ROOT = Path(__file__).resolve().parent.parent
RULES_MD = ROOT / "docs" / "rules.md"
LANGUAGE_MD = ROOT / "docs" / "language.md"
EXAMPLE_VERSION = ROOT / "rules" / "example" / "2026-01"

_TABLE_CODE = re.compile(r"^\| `([a-z0-9_]+)` \|", re.MULTILINE)


def documented_codes() -> set[str]:
    """The codes in the tables of docs/rules.md's "Error codes" section."""
    text = RULES_MD.read_text("utf-8")
    section = text[text.index("### Error codes") :]
    section = section[: section.index("\n## ")]
    return set(_TABLE_CODE.findall(section))


def documented_input_codes() -> set[str]:
    """The codes listed after "The input problem codes are:" in docs/rules.md."""
    text = RULES_MD.read_text("utf-8")
    start = text.index("The input problem codes are:")
    paragraph = text[start : text.index("\n\n", start)]
    return set(re.findall(r"`([a-z0-9_]+)`", paragraph))


def test_the_error_code_table_lists_exactly_the_codes() -> None:
    assert len(documented_codes()) > 30  # the section was found and read
    assert {str(c) for c in Code} - documented_codes() == set(), "codes missing from the table"
    assert documented_codes() - {str(c) for c in Code} == set(), "table rows that are no code"


def test_the_input_problem_codes_are_exactly_the_documented_ones() -> None:
    assert {str(c) for c in InputCode} == documented_input_codes()


def test_every_code_has_a_one_line_description() -> None:
    for code in [*Code, *InputCode]:
        assert code.summary and "\n" not in code.summary, code


@pytest.mark.parametrize("name", sorted(set(BUILTINS) | set(MACROS)))
def test_every_function_is_documented(name: str) -> None:
    headings = [
        line for line in LANGUAGE_MD.read_text("utf-8").splitlines() if line.startswith("#")
    ]
    assert any(f"`{name}(" in line for line in headings), (
        f"{name}() has no heading in docs/language.md"
    )


# --- the worked example of docs/rules.md --------------------------------------


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from ruleengine.cli import main; main()", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_worked_example_checks_clean() -> None:
    result = _cli("check", "rules/example")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("ok:")


def _console_evals() -> list[tuple[str, str]]:
    """(command, printed JSON) of every `$ ruleengine eval` console block in docs/rules.md."""
    text = RULES_MD.read_text("utf-8")
    blocks = re.findall(r"```console\n\$ ruleengine (eval [^\n]+)\n(.*?)```", text, re.S)
    return [(command, output) for command, output in blocks]


def test_docs_show_evals() -> None:
    commands = " ".join(command for command, _ in _console_evals())
    assert "checkout" in commands and "quote" in commands and "--explain" in commands


@pytest.mark.parametrize(("command", "shown"), _console_evals())
def test_documented_eval_output(command: str, shown: str) -> None:
    result = _cli(*shlex.split(command))
    assert result.returncode == 0, result.stderr
    # Everything matches, the content hash too: a published version never changes, so
    # the hashes the page shows stay true (a new version gets new examples).
    assert json.loads(result.stdout) == json.loads(shown)


# --- the expression examples of docs/language.md ----------------------------

# The facts every example of docs/language.md reads (the page lists them).
EXAMPLE_INPUT_FIELDS = """\
      customer: Customer
      order: Order
      count: int
      amount: decimal
      discount: decimal?
      start: date
      tags: list<string>
      coupon: string?
      maybe: int?
"""
EXAMPLE_FACTS: dict[str, Any] = {
    "as_of": "2026-03-15",
    "customer": {
        "id": "c-2001",
        "country": "US",
        "tier": "platinum",
        "email_verified": True,
        "member_since": "2020-01-15",
    },
    "order": {
        "currency": "USD",
        "items": [
            {"sku": "MUG-1", "quantity": 3, "unit_price": "8.99"},
            {"sku": "TEE-4", "quantity": 1, "unit_price": "19.95"},
        ],
    },
    "count": 4,
    "amount": "10.00",
    "discount": None,
    "start": "2024-01-31",
    "tags": ["b", "a", "b"],
    "coupon": None,
    "maybe": 7,
}
_ARROW = re.compile(r"\s+⇒\s+")


def _examples(kind: str) -> list[tuple[str, str]]:
    """(expression, expected) pairs from the ```expr / ```expr-error blocks of language.md."""
    text = LANGUAGE_MD.read_text("utf-8")
    pairs = []
    for block in re.findall(rf"```{kind}\n(.*?)```", text, re.S):
        for line in block.splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                expr, expected = _ARROW.split(line.strip(), maxsplit=1)
                pairs.append((expr, expected))
    return pairs


def _version(tmp: Path, outputs: dict[str, str]) -> Path:
    """A copy of rules/example/2026-01 plus a `demo` decision with the given outputs."""
    vdir = tmp / "docs" / "v"
    vdir.mkdir(parents=True)
    for path in EXAMPLE_VERSION.glob("*.yaml"):
        text = path.read_text("utf-8")
        if path.name == "manifest.yaml":
            text = text.replace("ruleset: example", "ruleset: docs")
        (vdir / path.name).write_text(text, "utf-8")
    lines = [
        "decisions:",
        "  demo:",
        "    input:",
        EXAMPLE_INPUT_FIELDS.rstrip("\n"),
        "    output:",
    ]
    lines += [f"      {name}: {json.dumps(expr)}" for name, expr in outputs.items()]
    (vdir / "demo.yaml").write_text("\n".join(lines) + "\n", "utf-8")
    return tmp / "docs"


def test_language_examples_give_the_documented_results(tmp_path: Path) -> None:
    examples = _examples("expr")
    assert len(examples) > 50
    outputs = {f"e{i}": expr for i, (expr, _) in enumerate(examples)}
    engine = ruleengine.load(_version(tmp_path, outputs), clock=lambda: date(2026, 3, 15))
    result = jsonio.to_plain(engine.decide("docs", "demo", EXAMPLE_FACTS).result)
    wrong = [
        f"{expr}  ⇒  {json.dumps(result[f'e{i}'], ensure_ascii=False)} (docs say {expected})"
        for i, (expr, expected) in enumerate(examples)
        if result[f"e{i}"] != json.loads(expected)
    ]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(("expr", "expected"), _examples("expr-error"))
def test_language_error_examples_fail_check(tmp_path: Path, expr: str, expected: str) -> None:
    code = re.fullmatch(r"error\[([a-z_]+)\]", expected)
    assert code, f"write the expected outcome as error[code], not {expected!r}"
    with pytest.raises(RuleFileError) as caught:
        ruleengine.load(_version(tmp_path, {"x": expr}))
    assert [d.code for d in caught.value.diagnostics] == [code.group(1)]


# --- the server command of docs/playground.md ---------------------------------


@pytest.mark.live
def test_the_playground_serve_command_runs_as_documented(tmp_path: Path) -> None:
    """The `ruleengine serve` of docs/playground.md starts, logs decisions, and saves a
    draft into its drafts folder (not into the rules) with the admin token."""
    import httpx

    from .server.live import serve_process

    text = (ROOT / "docs" / "playground.md").read_text("utf-8")
    (command,) = re.findall(r"```sh\n(ruleengine serve [^\n]+)\n```", text)
    args = shlex.split(command)[2:]  # after `ruleengine serve`
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    env = {"RULEENGINE_ADMIN_TOKEN": "docs-token", "RULEENGINE_WATCH": "false"}
    with serve_process(None, tmp_path / "server.log", *args, env=env, cwd=tmp_path) as (base, _):
        assert (
            "CodeMirror"
            in httpx.get(f"{base}/playground/static/vendor/codemirror/codemirror.js").text
        )
        files = httpx.get(f"{base}/playground/api/rulesets/example/versions/2026-07/files").json()
        draft = {
            "ruleset": "example",
            "base": "2026-07",
            "files": {f["name"]: f["text"] for f in files["files"]},
        }
        saved = httpx.put(
            f"{base}/playground/api/drafts/saved/docs",
            json=draft,
            headers={"Authorization": "Bearer docs-token"},
        )
        assert saved.status_code == 200, saved.text
        assert (tmp_path / "drafts" / "docs.json").exists()
        impact = httpx.post(f"{base}/playground/api/drafts/impact", json={"draft": draft})
        assert impact.json()["source"] == "decision log decisions.jsonl", impact.text


# --- the diff and replay sessions of docs/testing.md and docs/scale.md --------

TESTING_MD = ROOT / "docs" / "testing.md"
SCALE_MD = ROOT / "docs" / "scale.md"
# The commands these sessions may run, and how: each block runs in one sandbox
# folder holding a copy of rules/, in the order the page shows them.
_SESSION_COMMANDS = ("ruleengine diff ", "ruleengine test --log ", "python bench/", "gzip ")


def _sessions(page: Path) -> list[list[tuple[str, list[str]]]]:
    """The ```console blocks of page made only of session commands: [(command, shown lines)]."""
    blocks = []
    for block in re.findall(r"```console\n(.*?)```", page.read_text("utf-8"), re.S):
        steps: list[tuple[str, list[str]]] = []
        for line in block.splitlines():
            if line.startswith("$ "):
                steps.append((line[2:], []))
            elif steps:
                steps[-1][1].append(line)
        if steps and all(cmd.startswith(_SESSION_COMMANDS) for cmd, _ in steps):
            blocks.append(steps)
    return blocks


def _run_step(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    args = shlex.split(command)
    if args[0] == "ruleengine":
        args = [sys.executable, "-c", "from ruleengine.cli import main; main()", *args[1:]]
    elif args[0] == "python":
        args = [sys.executable, str(ROOT / args[1]), *args[2:]]
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300)


def _shown_in(shown: list[str], printed: list[str]) -> str | None:
    """None if every shown line is printed, in order (`...` alone skips lines; a line ending
    in `...` matches a printed line that starts with the rest); else the first line missing."""
    at = 0
    for want in shown:
        if want == "...":
            continue
        prefix = want[:-3] if want.endswith("...") else None
        while at < len(printed) and not (
            printed[at].startswith(prefix) if prefix is not None else printed[at] == want
        ):
            at += 1
        if at == len(printed):
            return want
        at += 1
    return None


@pytest.mark.live  # the sessions run pools of processes and a local Dask cluster
@pytest.mark.parametrize("page", [TESTING_MD, SCALE_MD], ids=lambda p: p.name)
def test_documented_diff_and_replay_sessions(page: Path, tmp_path: Path) -> None:
    blocks = _sessions(page)
    assert blocks, f"{page.name} shows no diff or replay session"
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    (tmp_path / "logs").mkdir()
    for steps in blocks:
        for command, shown in steps:
            result = _run_step(command, tmp_path)
            assert result.returncode == 0, f"$ {command}\n{result.stdout}{result.stderr}"
            missing = _shown_in(shown, result.stdout.splitlines())
            assert missing is None, f"$ {command}\nnot printed: {missing}\n{result.stdout}"


# --- the coverage examples of docs/testing.md --------------------------------


def _coverage_consoles() -> list[tuple[str, list[str]]]:
    """(command, shown lines) of the ```console blocks of testing.md that run coverage."""
    found = []
    for command, shown in _console_steps(TESTING_MD):
        if command.startswith("ruleengine test ") and "--coverage" in command:
            found.append((command, shown))
    return found


def _fenced(kind: str) -> str:
    (block,) = re.findall(rf"```{kind}\n(.*?)```", TESTING_MD.read_text("utf-8"), re.S)
    return block


def _is_part_of(shown: Any, actual: Any) -> bool:
    """Whether a documented excerpt of JSON is in the actual document: mappings by their
    shown keys, lists item by item anywhere in the actual list."""
    if isinstance(shown, dict):
        return isinstance(actual, dict) and all(
            k in actual and _is_part_of(v, actual[k]) for k, v in shown.items()
        )
    if isinstance(shown, list) and isinstance(actual, list):
        return all(any(_is_part_of(s, a) for a in actual) for s in shown)
    return bool(shown == actual)


def test_the_coverage_examples_of_testing_md_run_as_shown(tmp_path: Path) -> None:
    import xml.etree.ElementTree as ET

    import jsonschema

    consoles = _coverage_consoles()
    flags = " ".join(command for command, _ in consoles)
    for flag in ("--coverage ", "--coverage-min", "--coverage-changed", "--coverage-json"):
        assert flag in flags + " ", f"docs/testing.md shows no example of {flag.strip()}"
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    for command, shown in consoles:
        result = _run_step(command, tmp_path)
        failing = any(line.startswith("FAILED coverage") for line in shown)
        assert result.returncode == (1 if failing else 0), f"$ {command}\n{result.stdout}"
        missing = _shown_in(shown, result.stdout.splitlines())
        assert missing is None, f"$ {command}\nnot printed: {missing}\n{result.stdout}"
    # the JSON and XML excerpts are parts of the files the documented command wrote
    shown_json = json.loads(_fenced("json"))
    schema = json.loads((ROOT / "schemas" / "coverage.schema.json").read_text("utf-8"))
    jsonschema.validate(shown_json, schema)
    written = json.loads((tmp_path / "coverage.json").read_text("utf-8"))
    jsonschema.validate(written, schema)
    assert _is_part_of(shown_json, written)
    shown_class = ET.fromstring(_fenced("xml") + "</lines></class>")
    classes = ET.parse(tmp_path / "coverage.xml").getroot().iter("class")
    (written_class,) = [c for c in classes if c.get("filename") == shown_class.get("filename")]
    assert shown_class.attrib == written_class.attrib
    lines = {line.get("number"): line.attrib for line in written_class.iter("line")}
    for line in shown_class.iter("line"):
        assert lines[line.attrib["number"]] == line.attrib


# --- docs/architecture.md ------------------------------------------------------

ARCHITECTURE_MD = ROOT / "docs" / "architecture.md"
PACKAGE = ROOT / "src" / "ruleengine"


def _pyproject() -> dict[str, Any]:
    import tomllib

    return tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))


def test_architecture_shows_the_layers_the_build_checks() -> None:
    text = ARCHITECTURE_MD.read_text("utf-8")
    (shown,) = re.findall(r"```layers\n(.*?)```", text, re.S)
    contracts = _pyproject()["tool"]["importlinter"]["contracts"]
    (layers,) = [c["layers"] for c in contracts if c["type"] == "layers"]
    assert shown.splitlines() == layers, "the ```layers block of docs/architecture.md differs"


def test_architecture_names_every_module_and_package() -> None:
    text = ARCHITECTURE_MD.read_text("utf-8")
    children = sorted(
        f"{p.name}/" if p.is_dir() else p.name
        for p in PACKAGE.iterdir()
        if (p.suffix == ".py" and p.name != "__init__.py")
        or (p.is_dir() and (p / "__init__.py").exists())
    )
    missing = [name for name in children if f"`{name}" not in text and f"{name}`" not in text]
    assert missing == [], f"say what {missing} are for under 'The packages' of {ARCHITECTURE_MD}"


def test_architecture_commands_and_markers_exist() -> None:
    text = ARCHITECTURE_MD.read_text("utf-8")
    makefile = (ROOT / "Makefile").read_text("utf-8")
    targets = re.findall(r"^\$ make ([\w-]+)", text, re.M)
    assert targets and all(re.search(rf"^{t}:", makefile, re.M) for t in targets)
    assert (
        'HYPOTHESIS_PROFILE=dev $(BIN)/pytest -m "not fuzz and not live and not browser"'
        in makefile
    )
    registered = {m.split(":")[0] for m in _pyproject()["tool"]["pytest"]["ini_options"]["markers"]}
    assert registered == {"browser", "fuzz", "live"}
    assert all(f"`{marker}`" in text for marker in registered)


def test_architecture_compile_command_prints_the_generated_code() -> None:
    text = ARCHITECTURE_MD.read_text("utf-8")
    (command,) = re.findall(r"^\$ ruleengine (compile [^\n]+)$", text, re.M)
    result = _cli(*shlex.split(command))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("# rules/example/2026-07/decisions.yaml:")
    assert "def d_quote(" in result.stdout and "def d_checkout(" not in result.stdout


# --- the bundle signing commands of docs/bundles.md, the options of docs/reliability.md


def _dollar_commands(name: str) -> list[str]:
    text = (ROOT / "docs" / name).read_text("utf-8")
    return re.findall(r"^\$ (.+)$", text, flags=re.MULTILINE)


def test_the_signing_commands_of_bundles_md_run(tmp_path: Path) -> None:
    """openssl makes the key pair, `ruleengine bundle --sign` signs, and the documented
    public key verifies the bundle (what `serve --bundle-public-key` does)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    commands = [c for c in _dollar_commands("bundles.md") if "openssl" in c or "--sign" in c]
    assert len(commands) == 3
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    for command in commands:
        args = shlex.split(command)
        if args[0] == "ruleengine":
            args = [sys.executable, "-c", "from ruleengine.cli import main; main()", *args[1:]]
        done = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    assert "signed by sha256:" in done.stdout
    data = (tmp_path / "rules.tar.gz").read_bytes()
    key = ruleengine.load_public_key(tmp_path / "bundle-signing.pub.pem")
    ruleengine.extract_bundle(data, tmp_path / "out", "rules.tar.gz", key)  # verifies


@pytest.mark.parametrize("doc", ["bundles.md", "reliability.md"])
def test_every_documented_serve_and_bundle_option_exists(doc: str) -> None:
    from typer.testing import CliRunner

    from ruleengine.cli import app

    text = (ROOT / "docs" / doc).read_text("utf-8")
    for command in ("serve", "bundle"):
        help_text = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "300"}).output
        used = set(re.findall(rf"ruleengine {command}\b[^\n`]*", text))
        options = {o for line in used for o in re.findall(r"--[a-z][a-z-]+", line)}
        options |= {
            o
            for o in re.findall(r"`(--[a-z][a-z-]+)", text)
            if o.startswith("--bundle") and command == "serve"
        }
        missing = sorted(o for o in options if o not in help_text)
        assert not missing, f"{doc}: ruleengine {command} has no {missing}"


def _fault_table_proofs() -> list[tuple[str, str]]:
    """(test file, test or case name) of every proof named in reliability.md's fault table:
    `tests/x.py::test_y`, `::test_z` (same file), `(cases `a`, `b`)` of the test before."""
    text = (ROOT / "docs" / "reliability.md").read_text("utf-8")
    table = text[text.index("## The fault table") :]
    found = []
    for row in re.findall(r"^\|.*\|$", table, flags=re.MULTILINE)[2:]:
        proofs = row.rstrip("|").rsplit("|", 1)[1]
        file = ""
        for match in re.finditer(r"`(tests/[\w/]+\.py)?::(\w+)`|\(cases? ([^)]*)\)", proofs):
            if match.group(2):
                file = match.group(1) or file
                found.append((file, match.group(2)))
            else:
                found += [(file, f"case {c}") for c in re.findall(r"`(\w+)`", match.group(3))]
    return found


def test_every_proof_of_the_fault_table_exists() -> None:
    proofs = _fault_table_proofs()
    assert len(proofs) > 40
    for file, name in proofs:
        if name.startswith("case "):  # a case folder of the broken corpus
            assert (ROOT / "tests" / "ruleengine" / "broken" / name[5:]).is_dir(), name
            continue
        source = (ROOT / file).read_text("utf-8")
        assert re.search(rf"^(async )?def {name}\(", source, re.MULTILINE), f"{file}::{name}"


# --- docs/analysis.md: finding codes and the commands shown ---------------------

ANALYSIS_MD = ROOT / "docs" / "analysis.md"


def test_every_finding_code_is_documented() -> None:
    from ruleengine.analysis.findings import CODES

    text = ANALYSIS_MD.read_text("utf-8")
    rows = dict(re.findall(r"^\| `([a-z_]+)` \| (warning|note) \|", text, re.M))
    assert rows == {code: severity for code, (severity, _) in CODES.items()}


def _analysis_consoles() -> list[tuple[str, str]]:
    """(command, printed text) of every `$ ruleengine ...` console block in docs/analysis.md."""
    text = ANALYSIS_MD.read_text("utf-8")
    return re.findall(r"```console\n\$ ruleengine ([^\n]+)\n(.*?)```", text, re.S)


def test_analysis_docs_show_both_commands() -> None:
    commands = [command.split()[0] for command, _ in _analysis_consoles()]
    assert "analyze" in commands and "diff" in commands


@pytest.mark.parametrize(("command", "shown"), _analysis_consoles())
def test_documented_analysis_output(command: str, shown: str) -> None:
    """The command prints what the page shows; a shown line ending in `...` stands for
    any line starting with the text before it (the part the solver picks)."""
    result = _cli(*shlex.split(command))
    assert result.returncode in (0, 1), result.stderr
    actual = result.stdout.rstrip("\n").split("\n")
    expected = shown.rstrip("\n").split("\n")
    assert len(actual) == len(expected), result.stdout
    for got, want in zip(actual, expected, strict=True):
        if want.endswith("..."):
            assert got.startswith(want[:-3]), (got, want)
        else:
            assert got == want


# --- docs/publishing.md: the life of a change, every command run ---------------

PUBLISHING_MD = ROOT / "docs" / "publishing.md"
PUBLISH_DAY = "2026-12-20"  # the day the page's worked example is run on


def _console_steps(path: Path) -> list[tuple[str, list[str]]]:
    """(command, lines shown under it) of every `$ ` line of every console block."""
    steps: list[tuple[str, list[str]]] = []
    for block in re.findall(r"```console\n(.*?)```", path.read_text("utf-8"), re.S):
        for line in block.splitlines():
            if line.startswith("$ "):
                steps.append((line[2:], []))
            elif line.strip():
                steps[-1][1].append(line)
    return steps


def test_the_publishing_example_runs_as_shown(tmp_path: Path) -> None:
    """Every command of docs/publishing.md, in order, on a copy of the repository's rules
    and examples: each shown line appears in the output (up to a `…`), and a command
    whose output shows an error exits 1, every other one 0."""
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    shutil.copytree(ROOT / "docs" / "examples", tmp_path / "docs" / "examples")
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "RULEENGINE_TODAY": PUBLISH_DAY,
    }
    steps = _console_steps(PUBLISHING_MD)
    assert len(steps) >= 12 and any(c.startswith("ruleengine publish") for c, _ in steps)
    for command, shown in steps:
        run = subprocess.run(
            ["bash", "-c", command],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        output = run.stdout + run.stderr
        failing = any("error[" in line for line in shown)
        assert run.returncode == (1 if failing else 0), f"$ {command}\n{output}"
        for line in shown:
            expected = line.split("…")[0].rstrip() if "…" in line else line.strip()
            assert expected in output, f"$ {command}\nnot in the output: {expected}\n{output}"
    shown_case = re.search(
        r"```yaml\n(# Hand-written.*?)```", PUBLISHING_MD.read_text("utf-8"), re.S
    )
    assert shown_case is not None
    assert shown_case.group(1) == (ROOT / "docs" / "examples" / "new_year.yaml").read_text("utf-8")
    shown_patch = re.search(r"```diff\n(.*?)```", PUBLISHING_MD.read_text("utf-8"), re.S)
    assert shown_patch is not None
    patch = (ROOT / "docs" / "examples" / "newyear10.patch").read_text("utf-8")
    assert shown_patch.group(1) == patch


HTTP_MD = ROOT / "docs" / "http.md"
_CLI = (sys.executable, "-c", "from ruleengine.cli import main; main()")


@contextmanager
def _serving_a_copy(tmp_path: Path) -> Iterator[str]:
    """`ruleengine serve --rules rules` in a copy of the repository's rules and examples
    (so answers name `rules/...` files, as on the page); yields its base URL."""
    from .server.live import serve_process

    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    shutil.copytree(ROOT / "docs" / "examples", tmp_path / "docs" / "examples")
    log = tmp_path / "server.log"
    with serve_process(Path("rules"), log, "--no-watch", cwd=tmp_path) as (base, _):
        yield base


@pytest.mark.live
def test_the_http_examples_run_as_shown(tmp_path: Path) -> None:
    """Every `$ curl` of docs/http.md against a live server (its port for the page's
    127.0.0.1:8000): each shown line appears in the answer (up to a `…`)."""
    steps = _console_steps(HTTP_MD)
    assert len(steps) >= 5 and all(c.startswith("curl ") for c, _ in steps)
    with _serving_a_copy(tmp_path) as base:
        for command, shown in steps:
            run = subprocess.run(
                ["bash", "-c", command.replace("http://127.0.0.1:8000", base)],
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert run.returncode == 0, f"$ {command}\n{run.stdout}{run.stderr}"
            for line in shown:
                expected = line.split("…")[0].rstrip() if "…" in line else line.strip()
                assert expected in run.stdout, (
                    f"$ {command}\nnot answered: {expected}\n{run.stdout}"
                )


BOUNDED = ("--max-examples", "10", "--seed", "1")


@pytest.mark.live
@pytest.mark.fuzz
def test_the_conformance_command_of_http_md_finds_no_issue(tmp_path: Path) -> None:
    """The schemathesis command of docs/http.md, run from the repository root (where
    schemathesis.toml is) against a live server, with 10 examples per operation and
    phase instead of the default 100, to bound its time: no issue found."""
    (command,) = re.findall(r"```sh\n(schemathesis run [^\n]+)\n```", HTTP_MD.read_text("utf-8"))
    assert command == "schemathesis run --checks all http://127.0.0.1:8000/openapi.json"
    with _serving_a_copy(tmp_path) as base:
        args = shlex.split(command.replace("http://127.0.0.1:8000", base))
        run = subprocess.run(
            [str(Path(sys.executable).parent / args[0]), *args[1:], *BOUNDED],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=600,
        )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "No issues found" in run.stdout and "passed" in run.stdout


# --- README ---------------------------------------------------------------------


def test_the_readme_names_only_files_that_exist_and_links_inside_the_repo() -> None:
    text = (ROOT / "README.md").read_text("utf-8")
    named = set(
        re.findall(r"(?<![\w/.-])((?:docs|rules|schemas|bench|src|tests)/[\w./-]*\w)", text)
    )
    assert "docs/examples/maya.json" in named
    missing = sorted(p for p in named if not (ROOT / p).exists())
    assert not missing, f"README names files that do not exist: {missing}"
    assert "../" not in text
    for target in re.findall(r"\]\(([^)]+)\)", text):
        assert target.startswith(("#", "http://127.0.0.1")) or (ROOT / target).exists(), target


def test_the_readme_commands_run(tmp_path: Path) -> None:
    """Every `$ ruleengine` line of the README but `serve` (it keeps running)."""
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    shutil.copytree(ROOT / "docs" / "examples", tmp_path / "docs" / "examples")
    commands = re.findall(
        r"^\$ ruleengine (.+?)(?:\s+#.*)?$", (ROOT / "README.md").read_text("utf-8"), re.M
    )
    assert len(commands) >= 6
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    for command in commands:
        if command.startswith("serve"):
            continue
        run = subprocess.run(
            ["bash", "-c", f"ruleengine {command}"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert run.returncode == 0, f"$ ruleengine {command}\n{run.stdout}{run.stderr}"


def test_the_function_let_example_of_rules_md_works(tmp_path: Path) -> None:
    text = RULES_MD.read_text("utf-8")
    section = text[text.index("### `let` inside a function") :]
    block = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert block is not None and "let:" in block.group(1)
    vdir = tmp_path / "example" / "2026-01"
    shutil.copytree(EXAMPLE_VERSION, vdir)
    (vdir / "let_example.yaml").write_text(
        block.group(1)
        + "decisions:\n  line_totals:\n    input: {customer: Customer, order: Order}\n"
        + "    output:\n      totals: map(i in order.items, line_total(i, customer, order.currency))\n",
        "utf-8",
    )
    engine = ruleengine.load(tmp_path, clock=lambda: date(2026, 3, 15))
    facts = {
        "customer": EXAMPLE_FACTS["customer"] | {"tier": "gold", "member_since": "2020-01-01"},
        "order": {"currency": "USD", "items": [{"sku": "A", "quantity": 3, "unit_price": "16.78"}]},
    }
    result = jsonio.to_plain(engine.decide("example", "line_totals", facts).result)
    assert result == {"totals": ["46.82"]}  # 50.34 less 7% (gold 5%, 2 points of loyalty)
