// The workbench: a draft of a published version, edited in the browser (CodeMirror, YAML
// mode), checked by the server on every change (problems shown in place: the line marked,
// the message and hint under it), decided with, run against the regression suites and
// compared with its base on recent decisions. The draft lives in this browser tab
// (sessionStorage); saving it to the server's drafts folder or downloading it needs the
// admin token. Nothing here can publish: that stays `ruleengine publish`, reviewed.
import { $, el, fill, cell, fetchJSON } from "./util.js";

const API = "/playground/api";
const STORE = "ruleengine-draft";
const CHECK_DELAY_MS = 250;

export const draft = { active: false, ruleset: "", base: "", docs: new Map(), original: new Map(), current: "", ok: false, version: "", diagnostics: [] };
let editor = null;
let marks = [];
let timer = null;
let sequence = 0;
let listeners = { context: () => ({}) };

export function draftPayload() {
  const files = {};
  for (const [name, doc] of draft.docs) files[name] = doc.getValue();
  return { ruleset: draft.ruleset, base: draft.base, files };
}

export function useDraft() {
  return draft.active && $("use-draft").checked;
}

function post(path, body, headers = {}) {
  return fetchJSON(`${API}${path}`, { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body });
}

// --- the editor and its problems -------------------------------------------------------

function ensureEditor() {
  if (editor) return editor;
  editor = window.CodeMirror($("editor"), {
    mode: "yaml",
    lineNumbers: true,
    gutters: ["CodeMirror-linenumbers", "problems"],
    indentUnit: 2,
    tabSize: 2,
    extraKeys: { Tab: (cm) => cm.replaceSelection("  ") },
  });
  return editor;
}

function showTabs() {
  const tabs = [...draft.docs.keys()].map((name) => {
    const button = el("button", "", name);
    button.type = "button";
    button.setAttribute("role", "tab");
    button.dataset.file = name;
    button.setAttribute("aria-selected", String(name === draft.current));
    if (draft.diagnostics.some((d) => d.file === name)) button.classList.add("has-errors");
    button.addEventListener("click", () => openFile(name));
    return button;
  });
  $("draft-tabs").replaceChildren(...tabs);
  markModified();
}

// Which files differ from the published version: a dot on their tab, and a list.
function markModified() {
  const modified = [...draft.docs].filter(([name, doc]) => draft.original.has(name) && draft.original.get(name) !== doc.getValue()).map(([name]) => name);
  for (const button of $("draft-tabs").children) {
    const mine = modified.includes(button.dataset.file);
    button.classList.toggle("modified", mine);
    button.textContent = mine ? `${button.dataset.file} •` : button.dataset.file;
  }
  $("draft-changes").textContent = modified.length ? `Changed from ${draft.base}: ${modified.join(", ")}.` : `No change from ${draft.base} yet.`;
}

export function openFile(name, line, column) {
  if (!draft.docs.has(name)) return false;
  draft.current = name;
  ensureEditor().swapDoc(draft.docs.get(name));
  showTabs();
  showMarks();
  if (line) {
    const at = { line: Math.max(line - 1, 0), ch: Math.max((column || 1) - 1, 0) };
    editor.setCursor(at);
    editor.scrollIntoView(at, 80);
    editor.focus();
  }
  save();
  return true;
}

function showMarks() {
  for (const clear of marks) clear();
  marks = [];
  if (!editor) return;
  const doc = editor.getDoc();
  for (const d of draft.diagnostics) {
    if (d.file !== draft.current || !d.line) continue;
    const line = Math.min(d.line - 1, doc.lineCount() - 1);
    const handle = doc.addLineClass(line, "background", "cm-error-line");
    const dot = el("span", "cm-error-mark", "●");
    dot.title = d.message;
    editor.setGutterMarker(line, "problems", dot);
    const box = el("div", "error-widget");
    box.dataset.line = String(d.line);
    box.append(`${d.line}:${d.column} ${d.code}: ${d.message}`);
    if (d.hint) box.append(el("span", "hint", ` (hint: ${d.hint})`));
    const widget = editor.addLineWidget(line, box, { coverGutter: false, noHScroll: true });
    const at = { line, ch: Math.max((d.column || 1) - 1, 0) };
    const word = editor.findWordAt(at);
    const end = word.head.ch > at.ch ? word.head : { line, ch: at.ch + 1 };
    const underline = doc.markText(at, end, { className: "cm-error-text" });
    marks.push(() => {
      underline.clear();
      doc.removeLineClass(handle, "background", "cm-error-line");
      editor.setGutterMarker(line, "problems", null);
      widget.clear();
    });
  }
}

function showDiagnostics() {
  const items = draft.diagnostics.map((d) => {
    const li = el("li");
    const where = d.line ? `${d.file}:${d.line}:${d.column}` : d.file;
    li.append(`${where}: ${d.code}: ${d.message}`);
    if (d.hint) li.append(el("span", "hint", ` (hint: ${d.hint})`));
    li.addEventListener("click", () => openFile(d.file, d.line, d.column));
    return li;
  });
  $("diagnostics").replaceChildren(...items);
  showTabs();
  showMarks();
}

function status(text, ok) {
  $("check-status").textContent = text;
  $("check-status").classList.toggle("ok", Boolean(ok));
}

// Problems of a request that failed as a whole (too large, not JSON), placed at the top
// of the file being edited, so they show in place like any other.
function requestProblems(response, body) {
  return (body.errors || []).map((e) => ({
    file: draft.current, line: 1, column: 1, code: e.code || String(response.status),
    message: e.message || response.statusText, hint: e.expected ? `expected ${e.expected}` : "",
  }));
}

async function check() {
  const mine = ++sequence;
  status("checking…");
  const { response, body } = await post("/drafts/check", JSON.stringify(draftPayload()));
  if (mine !== sequence || !draft.active) return;  // a newer edit is being checked
  if (response.ok) {
    draft.ok = body.ok;
    draft.version = body.version || "";
    draft.diagnostics = body.diagnostics;
  } else {
    draft.ok = false;
    draft.diagnostics = body.diagnostics || requestProblems(response, body);
  }
  const n = draft.diagnostics.length;
  if (draft.ok) status(`No problems: the draft of ${draft.base} loads as version ${body.version} (${body.content_hash}); decisions: ${body.decisions.join(", ")}.`, true);
  else status(`${n} problem${n === 1 ? "" : "s"}: the draft does not load.`);
  showDiagnostics();
}

function changed() {
  save();
  markModified();
  clearTimeout(timer);
  timer = setTimeout(() => check().catch((err) => status(`could not check: ${err}`)), CHECK_DELAY_MS);
}

// --- starting, keeping and ending a draft ------------------------------------------------

function save() {
  if (!draft.active) return;
  sessionStorage.setItem(STORE, JSON.stringify({ ...draftPayload(), current: draft.current }));
}

async function publishedFiles(ruleset, version) {
  const { response, body } = await fetchJSON(`${API}/rulesets/${encodeURIComponent(ruleset)}/versions/${encodeURIComponent(version)}/files`);
  return { response, body, files: response.ok ? Object.fromEntries(body.files.map((f) => [f.name, f.text])) : null };
}

function start(ruleset, base, files, current, original) {
  ensureEditor();
  draft.active = true;
  draft.ruleset = ruleset;
  draft.base = base;
  draft.original = new Map(Object.entries(original || {}));
  if (!original) {
    publishedFiles(ruleset, base).then(({ files: published }) => {
      if (published && draft.active && draft.base === base) {
        draft.original = new Map(Object.entries(published));
        markModified();
      }
    }).catch(() => {});
  }
  draft.docs = new Map();
  for (const [name, text] of Object.entries(files)) {
    const doc = window.CodeMirror.Doc(text, "yaml");
    doc.on("change", changed);
    draft.docs.set(name, doc);
  }
  draft.diagnostics = [];
  const names = [...draft.docs.keys()];
  const first = names.includes(current) ? current : names.find((n) => n !== "manifest.yaml") || names[0];
  $("draft-panel").classList.remove("hidden");
  $("draft-discard").disabled = false;
  $("draft-state").textContent = `Draft of ${ruleset} ${base}: decisions below use it while "Decide with the draft" is ticked.`;
  openFile(first);
  editor.refresh();
  changed();
}

async function startFromVersion() {
  const ruleset = $("ruleset").value;
  const base = $("draft-base").value;
  const { response, body, files } = await publishedFiles(ruleset, base);
  if (!response.ok) {
    $("draft-state").textContent = (body.errors || []).map((e) => e.message).join("; ");
    return;
  }
  start(ruleset, body.version, files, undefined, files);
}

function discard() {
  draft.active = false;
  draft.docs = new Map();
  draft.diagnostics = [];
  sessionStorage.removeItem(STORE);
  $("draft-panel").classList.add("hidden");
  $("draft-discard").disabled = true;
  $("draft-state").textContent = "No draft: decisions use the published rules.";
}

// --- suites and impact -------------------------------------------------------------------

function notLoaded(target, response, body) {
  const message = body.diagnostics
    ? `The draft has ${body.diagnostics.length} problem(s); fix them first.`
    : (body.errors || []).map((e) => `${e.message}${e.expected ? ` (${e.expected})` : ""}`).join("; ") || response.statusText;
  target.textContent = message;
}

async function runSuites() {
  $("suites").classList.remove("hidden");
  $("suites-summary").textContent = "Running the regression suites on the draft…";
  const tbody = $("suite-cases").tBodies[0];
  tbody.replaceChildren();
  const { response, body } = await post("/drafts/suites", JSON.stringify(draftPayload()));
  if (!response.ok) {
    notLoaded($("suites-summary"), response, body);
    return;
  }
  $("suites-summary").textContent = `Regression suites on the draft: ${body.passed} passed, ${body.failed} failed, ${body.skipped} skipped`;
  $("suite-problems").replaceChildren(...body.problems.map((p) => el("li", "", `${p.file}:${p.line}:${p.column}: ${p.message}`)));
  const ordered = [...body.cases].sort((a, b) => (a.status === "failed" ? 0 : 1) - (b.status === "failed" ? 0 : 1));
  for (const c of ordered) {
    const row = tbody.insertRow();
    row.className = c.status;
    cell(row, `${c.name}\n${c.source}`);
    cell(row, c.decision);
    cell(row, c.status === "passed" ? "pass" : c.status === "failed" ? "FAIL" : "skipped");
    cell(row, c.version ? (c.by_draft ? `the draft (${c.version})` : `published ${c.version}`) : "");
    const lines = [c.headline, ...c.diffs.map((d) => `${d.path}: expected ${JSON.stringify(d.expected)}, got ${JSON.stringify(d.actual)}`)];
    cell(row, lines.filter(Boolean).join("\n"));
  }
}

async function runImpact() {
  $("impact").classList.remove("hidden");
  $("impact-summary").textContent = "Deciding recent inputs under the published version and the draft…";
  const tbody = $("impact-fields").tBodies[0];
  tbody.replaceChildren();
  const body = JSON.stringify({ draft: draftPayload(), decision: $("decision").value });
  const { response, body: answer } = await post("/drafts/impact", body);
  if (!response.ok) {
    notLoaded($("impact-summary"), response, answer);
    return;
  }
  $("impact-summary").textContent = `Impact of the draft against published ${draft.base} on the last ${answer.sampled} lines of the ${answer.source}: ${answer.changed} of ${answer.decided} inputs decided differently${answer.skipped ? ` (${answer.skipped} lines skipped: other rule sets, or not inputs)` : ""}.`;
  for (const f of answer.fields) {
    const row = tbody.insertRow();
    cell(row, f.field);
    cell(row, String(f.count));
    const examples = cell(row, "");
    for (const e of f.examples) {
      const where = e.id ? `decision ${e.id}` : e.line ? `line ${e.line}` : "";
      const item = el("details");
      item.append(el("summary", "", `${e.old} → ${e.new}${where ? `   (${where})` : ""}`), el("code", "", e.input));
      examples.appendChild(item);
    }
  }
  if (!answer.fields.length) {
    const row = tbody.insertRow();
    cell(row, "(nothing)");
    cell(row, "0");
    cell(row, "The draft decides every sampled input as the published version does.");
  }
}

// --- the admin token: save, list, load, download -------------------------------------------

function adminHeaders() {
  return { Authorization: `Bearer ${$("admin-token").value}` };
}

function adminSays(response, body, done) {
  $("admin-status").textContent = response.ok ? done : (body.errors || []).map((e) => e.message).join("; ");
}

async function saveToFolder() {
  const name = $("draft-name").value.trim();
  const { response, body } = await fetchJSON(`${API}/drafts/saved/${encodeURIComponent(name)}`, {
    method: "PUT", headers: { "Content-Type": "application/json", ...adminHeaders() }, body: JSON.stringify(draftPayload()),
  });
  adminSays(response, body, `Saved as ${name} (${body.saved_at}).`);
}

async function listSaved() {
  const { response, body } = await fetchJSON(`${API}/drafts/saved`, { headers: adminHeaders() });
  adminSays(response, body, `${(body.drafts || []).length} saved draft(s).`);
  if (!response.ok) return;
  fill($("draft-saved"), [["", "open a saved draft…"], ...body.drafts.map((d) => [d.name, `${d.name} (${d.ruleset} ${d.base}, ${d.saved_at})`])]);
  $("draft-saved").classList.remove("hidden");
}

async function openSaved() {
  const name = $("draft-saved").value;
  if (!name) return;
  const { response, body } = await fetchJSON(`${API}/drafts/saved/${encodeURIComponent(name)}`, { headers: adminHeaders() });
  adminSays(response, body, `Opened ${name}.`);
  if (response.ok) start(body.ruleset, body.base, body.files);
}

async function download() {
  const response = await fetch(`${API}/drafts/download`, {
    method: "POST", headers: { "Content-Type": "application/json", ...adminHeaders() }, body: JSON.stringify(draftPayload()),
  });
  if (!response.ok) {
    adminSays(response, await response.json().catch(() => ({})), "");
    return;
  }
  const link = el("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = `${draft.ruleset}-${draft.base}-draft.zip`;
  link.click();
  $("admin-status").textContent = `Downloaded ${link.download}.`;
}

// --- wiring --------------------------------------------------------------------------------

export function pickRuleset(ruleset) {
  fill($("draft-base"), ruleset.versions.map((v) => [v.version, `${v.version} (from ${v.effective_from})`]));
  const last = ruleset.versions[ruleset.versions.length - 1];
  if (last) $("draft-base").value = last.version;
}

export function initWorkbench(rulesets) {
  $("draft-start").addEventListener("click", () => startFromVersion().catch((err) => { $("draft-state").textContent = String(err); }));
  $("draft-discard").addEventListener("click", discard);
  $("run-suites").addEventListener("click", () => runSuites().catch((err) => { $("suites-summary").textContent = String(err); }));
  $("run-impact").addEventListener("click", () => runImpact().catch((err) => { $("impact-summary").textContent = String(err); }));
  $("draft-save").addEventListener("click", () => saveToFolder().catch((err) => { $("admin-status").textContent = String(err); }));
  $("draft-list").addEventListener("click", () => listSaved().catch((err) => { $("admin-status").textContent = String(err); }));
  $("draft-saved").addEventListener("change", () => openSaved().catch((err) => { $("admin-status").textContent = String(err); }));
  $("draft-download").addEventListener("click", () => download().catch((err) => { $("admin-status").textContent = String(err); }));
  let kept = null;
  try {
    kept = JSON.parse(sessionStorage.getItem(STORE) || "null");
  } catch (err) {
    kept = null;
  }
  if (kept && rulesets[kept.ruleset] && kept.files) start(kept.ruleset, kept.base, kept.files, kept.current);
}

// A location (file:line:col) in the draft: open it in the editor. False when it is not one.
export function showDraftLocation(location) {
  if (!useDraft()) return false;
  const [file, line, column] = location.split(":");
  return openFile(file, Number(line), Number(column));
}
