// The explanation of an answer as a collapsible tree (native <details>, no script needed
// to fold). Two shapes are shown:
//
// - a derivation (a tree, or a DAG whose nodes are listed once with ids): each node
//   { id?, label | name | field | expr, value, location | file+line+col, inputs, children,
//     cut }, where `inputs` is an object (name -> value) or a list of nodes, `children`
//   a list of nodes or of { ref: id }, and `cut` (true, or a text) marks where the
//   engine stopped following; it is looked for in `answer.derivation`, or in
//   `answer.explanation` when that is an object ({ derivation | root | nodes, rules });
// - the rules considered (the list `answer.explanation` is today): one branch per rule
//   group, one node per rule, whether it fired and the facts it read.
import { el } from "./util.js";

const OPEN_DEPTH = 2;
const MAX_DEPTH = 60;

function text(value) {
  return typeof value === "string" ? value : JSON.stringify(value);
}

function locationOf(node) {
  if (typeof node.location === "string") return node.location;
  if (node.location && typeof node.location === "object") node = node.location;
  if (node.file) return [node.file, node.line, node.col ?? node.column].filter((x) => x !== undefined && x !== null).join(":");
  return "";
}

function labelOf(node) {
  return node.label ?? node.name ?? node.field ?? node.expr ?? node.kind ?? node.id ?? "";
}

// Nodes already shown in the tree, by id: a `ref` to one is shown as a leaf that still
// links to the node's file:line:col (its inputs are where it was first shown).
const shown = new Map();

function collectShown(node) {
  if (!node || typeof node !== "object") return;
  if (node.id !== undefined && node.ref === undefined) shown.set(node.id, node);
  for (const child of Array.isArray(node.inputs) ? node.inputs : []) collectShown(child);
  for (const child of Array.isArray(node.children) ? node.children : []) collectShown(child);
}

// A node as { label, value, location, inputs: [[name, value|node]], children: [node], cut }.
function normalize(node, nodes) {
  if (node && node.ref !== undefined && !nodes.has(node.ref) && shown.has(node.ref)) {
    const first = shown.get(node.ref);
    return { label: labelOf(first), value: first.value, location: locationOf(first), kind: first.kind, inputs: [], children: [], cut: false, again: true };
  }
  if (node && node.ref !== undefined && nodes.has(node.ref)) node = nodes.get(node.ref);
  if (typeof node === "string" && nodes.has(node)) node = nodes.get(node);
  if (node === null || typeof node !== "object") return { label: text(node), inputs: [], children: [] };
  let inputs = [];
  if (Array.isArray(node.inputs)) inputs = node.inputs.map((i) => [labelOf(i), i]);
  else if (node.inputs && typeof node.inputs === "object") inputs = Object.entries(node.inputs);
  const children = Array.isArray(node.children) ? node.children : [];
  const cut = node.cut ?? node.cut_off ?? node.truncated ?? false;
  return { label: labelOf(node), value: node.value, location: locationOf(node), kind: node.kind, inputs, children, cut, fired: node.fired };
}

// Locations are shown from the version's folder on (`rules.yaml:18`); the link keeps all.
let versionFolder = "";

function locLink(location, onLocation) {
  const at = versionFolder ? location.lastIndexOf(versionFolder) : -1;
  const link = el("a", "loc", at >= 0 ? location.slice(at + versionFolder.length) : location);
  link.title = location;
  link.href = "#";
  link.dataset.loc = location;
  link.addEventListener("click", (event) => {
    event.preventDefault();
    onLocation(location);
  });
  return link;
}

function head(node, onLocation) {
  const parts = [el("span", "label", node.label)];
  if (node.fired !== undefined) parts.push(el("span", node.fired ? "fired" : "not-fired", node.fired ? " fired" : " did not fire"));
  if (node.value !== undefined) parts.push(document.createTextNode(" = "), el("span", "value", text(node.value)));
  if (node.location) parts.push(locLink(node.location, onLocation));
  if (node.again) parts.push(el("span", "again", " (shown above)"));
  if (node.cut) parts.push(el("span", "cut", typeof node.cut === "string" ? ` (${node.cut})` : " (cut off here)"));
  return parts;
}

function render(raw, nodes, depth, onLocation) {
  const node = normalize(raw, nodes);
  const scalarInputs = node.inputs.filter(([, v]) => v === null || typeof v !== "object" || Array.isArray(v) || !("value" in v || "children" in v || "inputs" in v));
  const nodeInputs = node.inputs.filter((entry) => !scalarInputs.includes(entry)).map(([, v]) => v);
  const kids = [...nodeInputs, ...node.children];
  // Facts (input paths) are the one kind of node with no place in the rule files.
  const kind = node.kind === "fact" ? " fact" : "";
  if (!kids.length && !scalarInputs.length) {
    const leaf = el("div", `leaf node${kind}`);
    leaf.append(...head(node, onLocation));
    return leaf;
  }
  const details = el("details", `node${kind}`);
  if (depth < OPEN_DEPTH) details.open = true;
  const summary = el("summary");
  summary.append(...head(node, onLocation));
  details.appendChild(summary);
  for (const [name, value] of scalarInputs) details.appendChild(el("div", "inputs", `${name} = ${text(value)}`));
  if (depth >= MAX_DEPTH) {
    details.appendChild(el("div", "leaf cut", "(deeper nodes not shown)"));
    return details;
  }
  for (const child of kids) details.appendChild(render(child, nodes, depth + 1, onLocation));
  return details;
}

// The rules considered (today's explanation) as a tree: answer -> group -> rule.
function rulesTree(answer, entries) {
  const groups = new Map();
  for (const entry of entries) {
    if (!groups.has(entry.group)) groups.set(entry.group, []);
    groups.get(entry.group).push({ label: entry.rule, fired: entry.fired, location: entry.location, inputs: entry.values || {} });
  }
  const fired = entries.filter((e) => e.fired).length;
  return {
    label: `${answer.decision || "answer"}`,
    value: `${fired} of ${entries.length} rules fired`,
    children: [...groups].map(([group, rules]) => ({
      label: group,
      value: `${rules.filter((r) => r.fired).length} fired`,
      children: rules,
    })),
  };
}

function derivationOf(answer) {
  const explanation = answer.explanation;
  if (answer.derivation) return answer.derivation;
  if (explanation && !Array.isArray(explanation) && typeof explanation === "object") {
    return explanation.derivation ?? explanation.root ?? (explanation.nodes ? explanation : null);
  }
  return null;
}

function rulesOf(answer) {
  const explanation = answer.explanation;
  if (Array.isArray(explanation)) return explanation;
  if (explanation && Array.isArray(explanation.rules)) return explanation.rules;
  return [];
}

export function renderExplanation(container, answer, onLocation) {
  container.replaceChildren();
  versionFolder = answer.version ? `/${answer.version}/` : "";
  const derivation = derivationOf(answer);
  const nodes = new Map();
  shown.clear();
  let roots = [];
  if (derivation) {
    const listed = Array.isArray(derivation.nodes) ? derivation.nodes : [];
    for (const node of listed) if (node && node.id !== undefined) nodes.set(node.id, node);
    if (Array.isArray(derivation)) roots = derivation;
    else if (derivation.roots) roots = derivation.roots;
    else if (derivation.root !== undefined) roots = [derivation.root];
    else if (listed.length) roots = [listed[0]];
    else roots = [derivation];
  }
  for (const root of roots) collectShown(root);
  for (const root of roots) container.appendChild(render(root, nodes, 0, onLocation));
  const rules = rulesOf(answer);
  if (rules.length) {
    const tree = render(rulesTree(answer, rules), nodes, derivation ? 1 : 0, onLocation);
    tree.classList.add("rules");
    container.appendChild(tree);
  }
  if (!container.childElementCount) container.appendChild(el("p", "meta", "No explanation was returned."));
}
