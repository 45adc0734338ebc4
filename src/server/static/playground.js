// The playground: pick a decision, edit its input, decide, and see why (a collapsible
// tree beside the answer, and the rules considered); compare with another version; and,
// with a draft open (workbench.js), decide with the draft instead of the published rules.
import { $, el, fill, cell, fetchJSON } from "./util.js";
import { differences } from "./compare.js";
import { renderExplanation } from "./tree.js";
import { draft, draftPayload, useDraft, initWorkbench, pickRuleset as pickDraftBase, showDraftLocation } from "./workbench.js";

let rulesets = {};
let spec = null;
let examples = [];  // the chosen rule set's regression-suite cases
let lastAnswer = null;
const sources = new Map();  // "ruleset/version" -> { file name: text }

// A first input for a decision, from its JSON Schema: required fields only, the first
// enum value, the minimum of a number, today for a date. Patterns are not guessed.
function skeleton(schema, today) {
  if (!schema) return null;
  if (schema.anyOf) return skeleton(schema.anyOf.find((s) => s.type !== "null"), today);
  if (schema.enum) return schema.enum[0];
  switch (schema.type) {
    case "object": {
      const out = {};
      const props = schema.properties || {};
      for (const name of schema.required || []) out[name] = skeleton(props[name], today);
      return out;
    }
    case "array": {
      const count = Math.max(schema.minItems || 0, 1);
      return Array.from({ length: count }, () => skeleton(schema.items, today));
    }
    case "string":
      if (schema.format === "date") return today;
      return schema.minLength ? "x".repeat(schema.minLength) : "";
    case "integer":
    case "number":
      return schema.minimum !== undefined ? schema.minimum : 0;
    case "boolean":
      return false;
  }
  return null;
}

function inputSchema(ruleset, decision) {
  const path = spec && spec.paths[`/v1/rulesets/${ruleset}/decisions/${decision}`];
  if (!path) return null;
  let schema = path.post.requestBody.content["application/json"].schema.properties.input;
  if (schema.$ref) schema = spec.components.schemas[schema.$ref.split("/").pop()];
  return schema;
}

function showSkeleton() {
  const schema = inputSchema($("ruleset").value, $("decision").value);
  const value = skeleton(schema, $("as_of").value) || {};
  delete value.as_of;  // the date and locale fields above say these
  delete value.locale;
  $("input").value = JSON.stringify(value, null, 2);
}

function pickDecision() {
  const decision = $("decision").value;
  const mine = examples.map((e, i) => [e, i]).filter(([e]) => e.decision === decision);
  fill($("example"), [["", `skeleton (${mine.length} suite cases)`],
    ...mine.map(([e, i]) => [String(i), e.expect === "error" ? `${e.name} (expects an error)` : e.name])]);
  showSkeleton();
}

function pickExample() {
  const example = examples[Number($("example").value)];
  if ($("example").value === "" || !example) {
    showSkeleton();
    return;
  }
  $("input").value = JSON.stringify(example.input, null, 2);
  $("as_of").value = example.as_of;
  $("version").value = example.version || "";
}

async function pickRuleset() {
  const name = $("ruleset").value;
  const rs = rulesets[name];
  const decisions = new Set();
  rs.versions.forEach((v) => v.decisions.forEach((d) => decisions.add(d)));
  fill($("decision"), [...decisions].sort().map((d) => [d, d]));
  fill($("version"), [["", "in effect on as_of"], ...rs.versions.map((v) => [v.version, `${v.version} (from ${v.effective_from})`])]);
  fill($("compare"), [["", "nothing"], ...rs.versions.map((v) => [v.version, v.version])]);
  pickDraftBase(rs);
  examples = [];
  pickDecision();
  const response = await fetch(`/v1/rulesets/${encodeURIComponent(name)}/examples`);
  if (response.ok && $("ruleset").value === name) {
    examples = (await response.json()).examples;
    pickDecision();
  }
}

// A location in the explanation: in the draft's editor when it is the draft's, else the
// published file around that line.
async function showLocation(location) {
  if (showDraftLocation(location)) return;
  const [path, line] = location.split(":");
  const answer = lastAnswer;
  const key = `${answer.ruleset}/${answer.version}`;
  if (!sources.has(key)) {
    const { response, body } = await fetchJSON(`/playground/api/rulesets/${encodeURIComponent(answer.ruleset)}/versions/${encodeURIComponent(answer.version)}/files`);
    if (!response.ok) return;
    sources.set(key, Object.fromEntries(body.files.map((f) => [f.name, f.text])));
  }
  const files = sources.get(key);
  const name = Object.keys(files).find((n) => path === n || path.endsWith(`/${n}`));
  if (!name) return;
  const lines = files[name].split("\n");
  const at = Number(line) || 1;
  const from = Math.max(at - 6, 1);
  const to = Math.min(at + 6, lines.length);
  const rows = [el("div", "meta", `${name} (version ${answer.version}), lines ${from}-${to}`)];
  for (let n = from; n <= to; n++) rows.push(el("div", n === at ? "line here" : "line", `${String(n).padStart(4)} | ${lines[n - 1]}`));
  $("source").replaceChildren(...rows);
  $("source").classList.remove("hidden");
}

function show(answer) {
  lastAnswer = answer;
  $("problems").classList.add("hidden");
  $("answer").classList.remove("hidden");
  $("source").classList.add("hidden");
  const by = answer.draft ? `the DRAFT of ${draft.base} (never served to API clients)` : `version ${answer.version}`;
  const id = answer.decision_id ? `, decision id ${answer.decision_id}` : "";
  $("meta").textContent = `${by} (${answer.content_hash}), as_of ${answer.as_of}, locale ${answer.locale}${id}`;
  $("result").textContent = JSON.stringify(answer.result, null, 2);
  renderExplanation($("tree"), answer, (loc) => showLocation(loc).catch(() => {}));
  const body = $("explanation").tBodies[0];
  body.replaceChildren();
  const rules = Array.isArray(answer.explanation) ? answer.explanation : (answer.explanation && answer.explanation.rules) || [];
  for (const entry of rules) {
    const row = body.insertRow();
    if (entry.fired) row.className = "fired";
    cell(row, entry.group);
    cell(row, entry.rule);
    cell(row, entry.location);
    cell(row, entry.fired ? "yes" : "no");
    cell(row, Object.entries(entry.values || {}).map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join("\n"));
  }
}

function compare(answer, other, label) {
  $("comparison").classList.remove("hidden");
  const body = $("differences").tBodies[0];
  body.replaceChildren();
  if (other.errors) {
    $("compared").textContent = `Version ${label} does not decide this input`;
    const row = body.insertRow();
    cell(row, "(request)");
    cell(row, "decided");
    cell(row, other.errors.map((e) => `${e.path}: ${e.message}`).join("\n"));
    return;
  }
  const changed = differences(answer.result, other.result);
  $("compared").textContent = changed.length
    ? `Compared with version ${other.version}: ${changed.length} field(s) differ`
    : `Compared with version ${other.version}: the same answer`;
  for (const [path, mine, theirs] of changed) {
    const row = body.insertRow();
    cell(row, path);
    cell(row, mine === undefined ? "(absent)" : mine);
    cell(row, theirs === undefined ? "(absent)" : theirs);
  }
}

function fail(errors) {
  $("answer").classList.add("hidden");
  $("problems").classList.remove("hidden");
  $("errors").replaceChildren(...errors.map((e) => {
    const detail = [e.expected && `expected ${e.expected}`, e.got && `got ${e.got}`].filter(Boolean).join(", ");
    const where = e.file ? `${e.file}:${e.line}:${e.column}` : e.path || "";
    return el("li", "", `${where}: ${e.message} [${e.code}]${detail ? " (" + detail + ")" : ""}${e.hint ? ` (hint: ${e.hint})` : ""}`);
  }));
}

// The input as typed: JSON.parse would turn a decimal such as 0.1234567890123456789 into
// a binary float. as_of and locale are spliced in front (a key typed later wins).
function inputText(raw) {
  let input = raw.trim();
  const context = [];
  if ($("as_of").value) context.push(`"as_of": ${JSON.stringify($("as_of").value)}`);
  if ($("locale").value) context.push(`"locale": ${JSON.stringify($("locale").value)}`);
  if (context.length && input.startsWith("{")) {
    const rest = input.slice(1).trim();
    input = "{" + context.join(", ") + (rest.startsWith("}") ? "" : ", ") + rest;
  }
  return input;
}

function requestBody(raw, version, explain) {
  const options = [explain ? `"explain": true` : "", version ? `"version": ${JSON.stringify(version)}` : ""];
  return `{"input": ${inputText(raw)}${options.filter(Boolean).map((o) => ", " + o).join("")}}`;
}

async function decideWithDraft(raw) {
  const body = `{"draft": ${JSON.stringify(draftPayload())}, "decision": ${JSON.stringify($("decision").value)}, "input": ${inputText(raw)}}`;
  return fetchJSON("/playground/api/drafts/decide", { method: "POST", headers: { "Content-Type": "application/json" }, body });
}

async function decide() {
  const raw = $("input").value;
  try {
    JSON.parse(raw);  // only to say where the JSON is broken, before asking the server
  } catch (err) {
    fail([{ code: "malformed_json", path: "input", message: String(err.message) }]);
    return;
  }
  const url = `/v1/rulesets/${encodeURIComponent($("ruleset").value)}/decisions/${encodeURIComponent($("decision").value)}`;
  const post = (body) => fetchJSON(url, { method: "POST", headers: { "Content-Type": "application/json" }, body });
  const withDraft = useDraft() && draft.ruleset === $("ruleset").value;
  const { response, body: answer } = withDraft ? await decideWithDraft(raw) : await post(requestBody(raw, $("version").value, true));
  if (!response.ok) {
    fail([...(answer.diagnostics || []), ...(answer.errors || [{ code: String(response.status), message: response.statusText }])]);
    return;
  }
  show(answer);
  $("comparison").classList.add("hidden");
  const other = $("compare").value;
  if (other) {
    const { body: again } = await post(requestBody(raw, other, false));
    compare(answer, again, other);
  }
}

async function start() {
  $("as_of").value = new Date().toISOString().slice(0, 10);
  const [list, openapi] = await Promise.all([
    fetch("/v1/rulesets").then((r) => r.json()),
    fetch("/openapi.json").then((r) => r.json()),
  ]);
  spec = openapi;
  rulesets = Object.fromEntries(list.rulesets.map((rs) => [rs.name, rs]));
  fill($("ruleset"), list.rulesets.map((rs) => [rs.name, rs.name]));
  $("ruleset").addEventListener("change", pickRuleset);
  $("decision").addEventListener("change", pickDecision);
  $("example").addEventListener("change", pickExample);
  $("skeleton").addEventListener("click", () => {
    $("example").value = "";
    showSkeleton();
  });
  $("decide").addEventListener("click", () => decide().catch((err) => fail([{ code: "unavailable", path: "", message: String(err) }])));
  if (list.rulesets.length) await pickRuleset();
  initWorkbench(rulesets);
  document.body.dataset.ready = "true";
}

start().catch((err) => fail([{ code: "unavailable", path: "", message: String(err) }]));
