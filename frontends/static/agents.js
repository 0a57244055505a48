// The agents: one tile each, coloured, bordered and labelled by status, with tasks/s and latency.
import { $, fmt, h, num } from "./dom.js";

export const STATUSES = ["idle", "busy", "error", "restarting", "draining", "drained"];
export const state = {
  agents: [], // from GET /api/v1/agents (id, name, role, worker, capabilities) plus the live figures
  selected: -1, // the tile whose details are shown
  focusIndex: 0, // the grid's one tab stop (roving tabindex)
};

export function setAgents(list) {
  const changed = list.length !== state.agents.length;
  state.agents = list.map((a) => ({ ...a, rate: 0, windowLatency: 0 }));
  if (changed) buildTiles();
  renderAgents();
}

function buildTiles() {
  const grid = $("agents");
  state.focusIndex = Math.min(state.focusIndex, Math.max(0, state.agents.length - 1));
  grid.replaceChildren(...state.agents.map((a, i) => h("li", {}, h("button", {
    type: "button", class: "tile", "data-id": a.id, tabindex: i === state.focusIndex ? 0 : -1,
    "aria-pressed": "false", "aria-controls": "agent-detail", "aria-describedby": "agents-hint",
  }, h("span", { class: "t-id" }, `#${a.id}`), h("span", { class: "t-status" }), h("span", { class: "t-rate" }), h("span", { class: "t-lat" })))));
  $("agents-count").textContent = `(${state.agents.length})`;
}

export function applyAgentFigures(figures, dt, previous) {
  const before = new Map((previous || []).map((f) => [f.id, f]));
  for (const f of figures) {
    const agent = state.agents[f.id];
    if (!agent) continue;
    const p = before.get(f.id);
    const done = p ? num(f.tasks) - num(p.tasks) : 0;
    agent.rate = dt > 0 && done > 0 ? done / dt : 0;
    if (done > 0) agent.windowLatency = (num(f.latency_ns_sum) - num(p.latency_ns_sum)) / done;
    Object.assign(agent, { status: f.status, tasks: f.tasks, errors: f.errors, inflight: f.inflight, last_latency_ns: f.last_latency_ns });
  }
  renderAgents();
}

function renderAgents() {
  const tiles = $("agents").querySelectorAll(".tile");
  const counts = Object.fromEntries(STATUSES.map((s) => [s, 0]));
  state.agents.forEach((a, i) => {
    const tile = tiles[i];
    if (!tile) return;
    const status = STATUSES.includes(a.status) ? a.status : "unknown";
    counts[status] = (counts[status] || 0) + 1;
    const latency = a.windowLatency || a.last_latency_ns;
    tile.dataset.status = status;
    tile.querySelector(".t-status").textContent = status;
    tile.querySelector(".t-rate").textContent = `${fmt.rate(a.rate)}/s`;
    tile.querySelector(".t-lat").textContent = fmt.ms(latency);
    tile.setAttribute("aria-label", `Agent ${a.id}, ${a.name || ""}, ${status}, ${fmt.rate(a.rate)} tasks per second, latency ${fmt.ms(latency)}`);
  });
  $("legend").replaceChildren(...STATUSES.map((s) => h("li", { "data-status": s }, h("span", { class: "swatch", "aria-hidden": "true" }), `${s} `, h("strong", {}, counts[s]))));
  if (state.selected >= 0) renderDetail();
}

function renderDetail() {
  const a = state.agents[state.selected];
  const box = $("agent-detail");
  if (!a) { box.hidden = true; return; }
  box.hidden = false;
  $("agent-detail-h").textContent = `Agent ${a.id}: ${a.name || ""}`;
  const rows = [["Status", a.status], ["Role", a.role], ["Worker", a.worker], ["Can do", (a.capabilities || []).join(", ")],
    ["Tasks", fmt.count(a.tasks)], ["Errors", fmt.count(a.errors)], ["In flight", fmt.count(a.inflight)],
    ["Tasks per second", fmt.rate(a.rate)], ["Latency (recent)", fmt.ms(a.windowLatency || a.last_latency_ns)]];
  $("agent-detail-kv").replaceChildren(...rows.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v ?? "–")]));
}

export function select(index) {
  state.selected = state.selected === index ? -1 : index;
  $("agents").querySelectorAll(".tile").forEach((t, i) => t.setAttribute("aria-pressed", String(i === state.selected)));
  if (state.selected < 0) $("agent-detail").hidden = true;
  else renderDetail();
}

export function moveFocus(index) {
  const tiles = [...$("agents").querySelectorAll(".tile")];
  if (!tiles.length) return;
  index = Math.max(0, Math.min(tiles.length - 1, index));
  tiles[state.focusIndex]?.setAttribute("tabindex", "-1");
  tiles[index].setAttribute("tabindex", "0");
  tiles[index].focus();
  state.focusIndex = index;
}

export function onTileKey(event) {
  const tile = event.target.closest(".tile");
  if (!tile) return;
  const tiles = [...$("agents").querySelectorAll(".tile")];
  const i = tiles.indexOf(tile);
  const columns = Math.max(1, tiles.filter((t) => t.offsetTop === tiles[0].offsetTop).length);
  const moves = { ArrowRight: i + 1, ArrowLeft: i - 1, ArrowDown: i + columns, ArrowUp: i - columns, Home: 0, End: tiles.length - 1 };
  if (event.key in moves) {
    event.preventDefault();
    moveFocus(moves[event.key]);
  }
}

export function applyAgentStatus(d) {
  const agent = state.agents[d.id];
  if (!agent) return;
  agent.status = d.status;
  renderAgents();
}
