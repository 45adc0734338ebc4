"""The report of an impact diff (`diff.py`): text, JSON, per-decision summary, markdown.

Every form is computed from the merged tally alone, so a run on one process,
a pool or a Dask cluster prints the same bytes; the timing goes apart
(`DiffReport.timing()`, which the command line prints on stderr).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import display_path

if TYPE_CHECKING:
    from .diff import DiffRequest, Tally
    from .distribute import Runner
    from .sources import InputFile

EXAMPLE_CHARS = 400
ABSENT = "(absent)"


def clip(text: str) -> str:
    text = text.strip()
    return text if len(text) <= EXAMPLE_CHARS else text[: EXAMPLE_CHARS - 3] + "..."


def show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _maybe_json(text: str) -> Any:
    """An example input as JSON, or as text when it was clipped."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _parse(text: str) -> Any:
    return text if text == ABSENT else json.loads(text)


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.2f}%" if whole else "0.00%"


def _code(text: str) -> str:
    """Inline markdown code that survives backticks and table pipes in the value."""
    text = text.replace("|", "\\|")
    fence = "``" if "`" in text else "`"
    return f"{fence}{text}{fence}" if fence == "`" else f"{fence} {text} {fence}"


@dataclass(frozen=True, slots=True)
class DiffReport:
    request: DiffRequest
    files: tuple[InputFile, ...]
    tally: Tally
    seconds: float
    runner: Runner

    @property
    def rate(self) -> float:
        return self.tally.inputs / self.seconds if self.seconds > 0 else 0.0

    def timing(self) -> str:
        return (
            f"{self.tally.inputs:,} inputs in {self.seconds:.2f} s: {self.rate:,.0f} inputs/s "
            f"on {self.runner.describe()}"
        )

    def changes(self) -> list[tuple[tuple[str, str], int]]:
        return sorted(self.tally.fields.items(), key=lambda kv: (-kv[1], kv[0]))

    def where(self, file: int, line: int) -> str:
        if len(self.files) == 1:
            return f"line {line}"
        return f"{display_path_str(self.files[file].path)}:{line}"

    def inputs_named(self) -> str:
        names = [display_path_str(f.path) for f in self.files]
        if len(names) <= 3:
            return ", ".join(names)
        return f"{len(names)} files ({', '.join(names[:2])}, ..., {names[-1]})"

    def _at(self) -> str:
        r = self.request
        return f"as of {r.as_of.isoformat()}" if r.as_of else "at its own as_of"

    def _sides(self) -> str:
        r = self.request
        if r.old_rules:
            return f"{r.old} ({r.old_source}) -> {r.new} ({r.rules})"
        return f"{r.old} -> {r.new}"

    # --- JSON ------------------------------------------------------------------------

    def _example(self, file: int, line: int, a: str, b: str, text: str) -> dict[str, Any]:
        return {
            "file": display_path_str(self.files[file].path),
            "line": line,
            "from": _parse(a),
            "to": _parse(b),
            "input": _maybe_json(text),
        }

    def decisions_json(self) -> list[dict[str, Any]]:
        t = self.tally
        out = []
        for name, (inputs, decided, changed, invalid) in sorted(t.decisions.items()):
            fields = [(path, n) for (d, path), n in self.changes() if d == name]
            out.append(
                {
                    "decision": name,
                    "inputs": inputs,
                    "decided": decided,
                    "changed": changed,
                    "invalid": invalid,
                    "fields": [
                        {
                            "field": path,
                            "inputs": n,
                            "examples": [
                                self._example(*e) for e in t.examples.get((name, path), [])
                            ],
                        }
                        for path, n in fields
                    ],
                }
            )
        return out

    def to_json(self, summary: bool = False) -> dict[str, Any]:
        t = self.tally
        r = self.request
        head: dict[str, Any] = {
            "ruleset": r.ruleset,
            "from": r.old,
            "to": r.new,
            "from_rules": r.old_source or r.rules,
            "to_rules": r.rules,
            "decision": r.decision,
            "as_of": r.as_of.isoformat() if r.as_of else None,
            "inputs_files": [display_path_str(f.path) for f in self.files],
            "inputs": t.inputs,
            "decided": t.decided,
            "changed": t.changed,
            "unchanged": t.decided - t.changed,
            "invalid": t.invalid,
            "unusable": t.inputs - t.decided - t.invalid,
            "decisions": self.decisions_json(),
        }
        if summary:
            return head
        return {
            **head,
            "unusable_reasons": dict(t.unusable.most_common()),
            "changes": [
                {
                    "decision": decision,
                    "field": path,
                    "inputs": count,
                    "values": [
                        {"from": _parse(a), "to": _parse(b), "inputs": n}
                        for (a, b), n in t.pairs.get((decision, path), Counter()).most_common()
                    ],
                    "other_values_inputs": t.other_pairs.get((decision, path), 0),
                    "examples": [self._example(*e) for e in t.examples.get((decision, path), [])],
                }
                for (decision, path), count in self.changes()
            ],
            "invalid_problems": dict(t.problems.most_common()),
            "invalid_examples": [
                {
                    "file": display_path_str(self.files[f].path),
                    "line": n,
                    "problems": p,
                    "input": _maybe_json(s),
                }
                for f, n, p, s in t.invalid_examples
            ],
            "unusable_examples": [
                {"file": display_path_str(self.files[f].path), "line": n, "reason": r, "text": s}
                for f, n, r, s in t.unusable_examples
            ],
        }

    # --- text ------------------------------------------------------------------------

    def render(self, top: int = 5) -> str:
        t = self.tally
        r = self.request
        unusable = t.inputs - t.decided - t.invalid
        share = f"  ({_share(t.changed, t.decided)} of decided)" if t.decided else ""
        lines = [
            f"{r.ruleset}: {self._sides()}"
            + (f", decision {r.decision}" if r.decision else "")
            + f", inputs from {self.inputs_named()}"
            + (f", decided as of {r.as_of.isoformat()}" if r.as_of else ""),
            f"  inputs:            {t.inputs}",
            f"  decided:           {t.decided}",
            f"  changed decisions: {t.changed}{share}",
            f"  unchanged:         {t.decided - t.changed}",
            f"  invalid input:     {t.invalid}  (rejected by both versions)",
            f"  unusable lines:    {unusable}",
        ]
        if t.changed:
            lines += ["", "Changes by field:"]
            multi = len({d for d, _ in t.fields}) > 1 or r.decision is None
            for (decision, path), _count in self.changes():
                label = f"{decision}: {path}" if multi else path
                pairs = t.pairs.get((decision, path), Counter()).most_common()
                for (a, b), n in pairs[:top]:
                    lines.append(f"  {label}: {a} -> {b}  {_plural(n, 'input')}")
                rest = sum(n for _, n in pairs[top:]) + t.other_pairs.get((decision, path), 0)
                if rest:
                    lines.append(f"  {label}: ... other values  {_plural(rest, 'input')}")
                for f, line, a, b, text in t.examples.get((decision, path), []):
                    lines.append(f"      e.g. {self.where(f, line)} ({a} -> {b}): {text}")
        if t.invalid:
            lines += ["", "Invalid input (problems reported by the old version):"]
            lines += [f"  {p}  {_plural(n, 'input')}" for p, n in t.problems.most_common(top)]
            lines += [f"      e.g. {self.where(f, n)}: {s}" for f, n, _, s in t.invalid_examples]
        if unusable:
            lines += ["", "Unusable lines:"]
            lines += [f"  {reason}  {_plural(n, 'line')}" for reason, n in t.unusable.most_common()]
            lines += [f"      e.g. {self.where(f, n)}: {s}" for f, n, _, s in t.unusable_examples]
        return "\n".join(lines)

    def render_summary(self, markdown: bool = False) -> str:
        """Per decision: inputs, changed, changed by field, a few example inputs per field."""
        if markdown:
            return self.render_markdown(summary=True)
        t = self.tally
        r = self.request
        lines = [
            f"Impact of {r.ruleset} {r.new} against {r.old}: "
            f"{_plural(t.inputs, 'input')} from {self.inputs_named()}, each decided {self._at()}"
        ]
        for item in self.decisions_json():
            lines += [
                "",
                f"{item['decision']}: {_plural(item['inputs'], 'input')}, "
                f"{item['changed']:,} changed ({_share(item['changed'], item['decided'])} "
                f"of {item['decided']:,} decided), {item['invalid']:,} invalid",
            ]
            for entry in item["fields"]:
                lines.append(f"  {entry['field']}: {_plural(entry['inputs'], 'input')}")
                for e in entry["examples"]:
                    where = self.where(self._file_index(e["file"]), e["line"])
                    text = clip(show(e["input"])) if not isinstance(e["input"], str) else e["input"]
                    lines.append(f"      {where}: {show(e['from'])} -> {show(e['to'])}  {text}")
        unusable = t.inputs - t.decided - t.invalid
        if unusable:
            lines += ["", f"unusable lines: {unusable:,} ({', '.join(t.unusable)})"]
        return "\n".join(lines)

    def _file_index(self, shown: str) -> int:
        return next(i for i, f in enumerate(self.files) if display_path_str(f.path) == shown)

    # --- markdown --------------------------------------------------------------------

    def render_markdown(self, summary: bool = False, top: int = 5) -> str:
        t = self.tally
        r = self.request
        unusable = t.inputs - t.decided - t.invalid
        out = [
            f"## Impact of `{r.ruleset}` {r.new} against {r.old}",
            "",
            f"{_plural(t.inputs, 'input')} from {_code(self.inputs_named())}, each decided "
            + (f"as of {r.as_of.isoformat()}" if r.as_of else "at its own `as_of`")
            + f": **{t.changed:,} of {t.decided:,} decided answers change "
            f"({_share(t.changed, t.decided)})**; {t.invalid:,} invalid input, "
            f"{unusable:,} unusable lines.",
            "",
            "| decision | inputs | decided | changed | share | invalid |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        decisions = self.decisions_json()
        for d in decisions:
            out.append(
                f"| {_code(d['decision'])} | {d['inputs']:,} | {d['decided']:,} | "
                f"{d['changed']:,} | {_share(d['changed'], d['decided'])} | {d['invalid']:,} |"
            )
        for d in decisions:
            if not d["fields"]:
                continue
            out += ["", f"### {_code(d['decision'])}: changed fields", ""]
            if summary:
                out += ["| field | inputs |", "| --- | ---: |"]
                out += [f"| {_code(f['field'])} | {f['inputs']:,} |" for f in d["fields"]]
            else:
                out += ["| field | inputs | old → new (inputs) |", "| --- | ---: | --- |"]
                for f in d["fields"]:
                    pairs = t.pairs.get((d["decision"], f["field"]), Counter()).most_common()
                    shown = "<br>".join(
                        f"{_code(a)} → {_code(b)} ({n:,})" for (a, b), n in pairs[:top]
                    )
                    rest = sum(n for _, n in pairs[top:])
                    rest += t.other_pairs.get((d["decision"], f["field"]), 0)
                    if rest:
                        shown += f"<br>other values ({rest:,})"
                    out.append(f"| {_code(f['field'])} | {f['inputs']:,} | {shown} |")
            out += ["", "<details><summary>Example inputs</summary>", ""]
            # each example input once, with every change it shows
            inputs: dict[tuple[str, int], tuple[Any, list[str]]] = {}
            for f in d["fields"]:
                for e in f["examples"]:
                    _, changes = inputs.setdefault((e["file"], e["line"]), (e["input"], []))
                    changes.append(
                        f"{_code(f['field'])}: {_code(show(e['from']))} → {_code(show(e['to']))}"
                    )
            for (file, line), (given, changes) in inputs.items():
                where = self.where(self._file_index(file), line)
                out += [f"- {where}: {'; '.join(changes)}", "", "  ```json"]
                out += [f"  {show(given) if not isinstance(given, str) else given}", "  ```"]
            out += ["", "</details>"]
        if not summary and t.invalid:
            out += ["", "### Invalid input (rejected by both versions)", ""]
            out += [f"- {_code(p)}: {_plural(n, 'input')}" for p, n in t.problems.most_common(top)]
        if not summary and unusable:
            out += ["", "### Unusable lines", ""]
            out += [f"- {reason}: {_plural(n, 'line')}" for reason, n in t.unusable.most_common()]
        return "\n".join(out)


def display_path_str(path: str) -> str:
    from pathlib import Path

    return display_path(Path(path))
