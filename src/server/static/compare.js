// Two answers compared field by field, as `ruleengine diff` and the impact view do:
// every leaf of a result by its path (a.b[0].c) as JSON text, where a list of scalars
// (or an empty list, or an empty object) is one leaf. So `reasons: [] -> ["x"]` is one
// difference, not the two rows `reasons (absent) -> []` and `reasons[0]` it used to be.

function isContainer(value) {
  return value !== null && typeof value === "object";
}

export function leaves(value, path = "", out = new Map()) {
  if (Array.isArray(value) && value.some(isContainer)) {
    value.forEach((item, i) => leaves(item, `${path}[${i}]`, out));
  } else if (isContainer(value) && !Array.isArray(value) && Object.keys(value).length) {
    for (const [key, item] of Object.entries(value)) leaves(item, path ? `${path}.${key}` : key, out);
  } else {
    out.set(path, JSON.stringify(value));
  }
  return out;
}

// [field, this answer's value or undefined, the other's or undefined], in the order of
// this answer's fields, then the other's.
export function differences(mine, theirs) {
  const a = leaves(mine);
  const b = leaves(theirs);
  const paths = [...a.keys(), ...[...b.keys()].filter((p) => !a.has(p))];
  return paths.filter((p) => a.get(p) !== b.get(p)).map((p) => [p, a.get(p), b.get(p)]);
}
