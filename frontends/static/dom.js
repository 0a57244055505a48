// DOM and number helpers shared by the panels: values enter the page as text, never as markup.

export const HISTORY = 60; // samples per sparkline

export const $ = (id) => document.getElementById(id);

export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

export function svg(tag, attrs = {}) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  return node;
}

export const num = (x) => (typeof x === "number" && Number.isFinite(x) ? x : 0);

export const fmt = {
  bytes(n) {
    n = num(n);
    const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let i = 0;
    while (Math.abs(n) >= 1024 && i < units.length - 1) { n /= 1024; i += 1; }
    return `${i === 0 ? Math.round(n) : n.toFixed(n < 10 ? 2 : 1)} ${units[i]}`;
  },
  count(n) { return Math.round(num(n)).toLocaleString("en"); },
  rate(n) { n = num(n); return n < 10 ? n.toFixed(1) : Math.round(n).toLocaleString("en"); },
  pct(x) { x = num(x); return `${x.toFixed(x < 10 ? 1 : 0)} %`; },
  ms(ns) {
    ns = num(ns);
    if (ns <= 0) return "–";
    if (ns < 1e6) return `${Math.max(1, Math.round(ns / 1e3))} µs`;
    const ms = ns / 1e6;
    return ms < 100 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
  },
  duration(s) {
    s = Math.max(0, Math.round(num(s)));
    if (s < 60) return `${s} s`;
    if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
    if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
    return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
  },
  clock(ms) { return new Date(ms).toLocaleTimeString("en-GB"); },
};

export function setBar(bar, value, max, text) {
  const share = max > 0 ? Math.min(1, Math.max(0, value / max)) : 0;
  bar.querySelector(".fill").style.width = `${(share * 100).toFixed(1)}%`;
  bar.setAttribute("aria-valuemax", String(max > 0 ? max : 100));
  bar.setAttribute("aria-valuenow", String(max > 0 ? Math.min(value, max) : 0));
  bar.setAttribute("aria-valuetext", text);
  bar.dataset.level = share >= 0.9 ? "high" : share >= 0.7 ? "mid" : "low";
}

export function bar(label) {
  return h("div", { class: "bar", role: "meter", "aria-label": label, "aria-valuemin": 0 }, h("span", { class: "fill" }));
}

export function drawSpark(node, values, label, unit) {
  const peak = Math.max(1e-9, ...values);
  const step = 120 / Math.max(1, HISTORY - 1);
  const start = HISTORY - values.length;
  const points = values.map((v, i) => `${((start + i) * step).toFixed(1)},${(27 - (v / peak) * 25).toFixed(1)}`);
  node.replaceChildren();
  if (points.length > 1) {
    const first = points[0].split(",")[0];
    node.append(svg("path", { class: "area", d: `M${first},28 L${points.join(" L")} L120,28 Z` }));
    node.append(svg("polyline", { class: "line", points: points.join(" ") }));
  }
  const now = values.length ? values[values.length - 1] : 0;
  node.setAttribute("aria-label", `${label}, last ${values.length} samples: now ${fmt.rate(now)}${unit}, peak ${fmt.rate(values.length ? peak : 0)}${unit}`);
}

export function push(history, value) {
  history.push(value);
  if (history.length > HISTORY) history.shift();
}

export function table(columns, rows, caption) {
  const head = h("tr", {}, ...columns.map(([title]) => h("th", { scope: "col" }, title)));
  const body = rows.map((row) => h("tr", {}, ...columns.map(([title, cell]) => {
    const value = cell(row);
    return h("td", { "data-label": title }, value instanceof Node ? value : String(value));
  })));
  return h("table", { class: "data" }, h("caption", { class: "sr-only" }, caption), h("thead", {}, head), h("tbody", {}, ...body));
}

export function sources(list) {
  const missing = (list || []).filter((s) => !s.available);
  if (!missing.length) return null;
  return h("ul", { class: "sources" }, ...missing.map((s) => h("li", {}, h("strong", {}, `${s.name}: `), s.detail || "not available")));
}

// the state in words with a sign before it (✓ ok, ✗ bad, ! warn, ▸ info): never colour alone
export function mark(kind, text) {
  return h("span", { class: `state ${kind}` }, text);
}

export const good = (yes) => (yes ? "ok" : "bad");
