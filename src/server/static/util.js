// Small DOM helpers shared by the playground's modules.
export const $ = (id) => document.getElementById(id);

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

export function fill(select, options) {
  select.replaceChildren(...options.map(([value, text]) => {
    const option = document.createElement("option");
    option.value = value;
    option.textContent = text;
    return option;
  }));
}

export function cell(row, text) {
  const td = document.createElement("td");
  td.textContent = text;
  row.appendChild(td);
  return td;
}

// fetch, then the JSON body (or a positioned error for an answer that is not JSON).
export async function fetchJSON(url, options) {
  const response = await fetch(url, options);
  let body;
  try {
    body = await response.json();
  } catch (err) {
    body = { errors: [{ code: String(response.status), path: "", message: response.statusText || String(err) }] };
  }
  return { response, body };
}
