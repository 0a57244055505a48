// The host and the engine's machinery: system gauges, workers and their rings, admission, status.
import { $, bar, drawSpark, fmt, good, h, mark, num, push, setBar, svg } from "./dom.js";
import { applyAgentFigures } from "./agents.js";

export const state = {
  status: null, // GET /api/v1/system/status, its readiness kept up to date by the events
  prevMetrics: null, // the previous system.metrics (rates are differences between two)
  cpuHistory: [],
  workers: new Map(), // id -> {history, tasks}
};

export function applyMetrics(m) {
  const prev = state.prevMetrics;
  const dt = prev ? (num(m.timestamp_unix_ns) - num(prev.timestamp_unix_ns)) / 1e9 : 0;
  const rate = (now, before) => (dt > 0 && now >= before ? (now - before) / dt : 0);
  push(state.cpuHistory, num(m.cpu_percent));
  $("cpu-total").textContent = fmt.pct(m.cpu_percent);
  drawSpark($("cpu-spark"), state.cpuHistory, "CPU use", " %");
  renderCores(m.per_cpu_percent || []);
  const mem = m.memory || {};
  $("mem-text").textContent = `${fmt.bytes(mem.used)} of ${fmt.bytes(mem.total)} (${fmt.pct(mem.percent)})`;
  setBar($("mem-bar"), num(mem.percent), 100, `${fmt.pct(mem.percent)} in use`);
  const swap = m.swap || {};
  $("swap-line").hidden = !num(swap.total);
  $("swap-text").textContent = `${fmt.bytes(swap.used)} of ${fmt.bytes(swap.total)} (${fmt.pct(swap.percent)})`;
  const cores = (m.per_cpu_percent || []).length;
  $("load").textContent = `${(m.load_average || []).map((x) => num(x).toFixed(2)).join(" · ")} on ${cores} cores`;
  const e = m.engine || {};
  const pe = (prev && prev.engine) || {};
  $("engine-tasks").textContent = fmt.count(e.tasks);
  $("engine-errors").textContent = fmt.count(e.errors);
  $("engine-restarts").textContent = fmt.count(e.worker_restarts);
  $("engine-bytes").textContent = `${fmt.bytes(e.bytes_in)} / ${fmt.bytes(e.bytes_out)}`;
  if (prev) {
    $("engine-rate").textContent = `${fmt.rate(rate(num(e.tasks), num(pe.tasks)))} (${fmt.bytes(rate(num(e.bytes_in), num(pe.bytes_in)))}/s in)`;
    const d = m.disk_io || {}, pd = prev.disk_io || {}, n = m.net_io || {}, pn = prev.net_io || {};
    $("disk-io").textContent = `${fmt.bytes(rate(num(d.read_bytes), num(pd.read_bytes)))}/s · ${fmt.bytes(rate(num(d.write_bytes), num(pd.write_bytes)))}/s`;
    $("net-io").textContent = `${fmt.bytes(rate(num(n.bytes_recv), num(pn.bytes_recv)))}/s · ${fmt.bytes(rate(num(n.bytes_sent), num(pn.bytes_sent)))}/s`;
  }
  if (Array.isArray(m.agents)) applyAgentFigures(m.agents, dt, prev && prev.agents);
  if (m.swarm) applySwarm(m.swarm, m.rings, m.slots, dt);
  state.prevMetrics = m;
}

function renderCores(percents) {
  const list = $("cores");
  if (list.children.length !== percents.length) {
    list.replaceChildren(...percents.map((_, i) => h("li", {}, h("span", { class: "label" }, `CPU ${i}`), bar(`CPU ${i} in use`), h("span", { class: "num" }))));
  }
  percents.forEach((p, i) => {
    const item = list.children[i];
    setBar(item.querySelector(".bar"), num(p), 100, fmt.pct(p));
    item.querySelector(".num").textContent = fmt.pct(p);
  });
}

export function applySwarm(swarm, rings, slots, dt) {
  const list = $("workers");
  const workers = swarm.workers || [];
  if (list.children.length !== workers.length) {
    state.workers.clear();
    list.replaceChildren(...workers.map((w) => h("li", { class: "worker" },
      h("p", { class: "row" }, h("strong", { class: "w-name" }, `Worker ${w.id}`), h("span", { class: "w-state" })),
      h("p", { class: "row small" }, h("span", {}, "tasks/s"), h("span", { class: "num w-rate" })),
      svg("svg", { class: "spark w-spark", viewBox: "0 0 120 28", preserveAspectRatio: "none", role: "img" }),
      h("p", { class: "row small" }, h("span", { class: "w-busy" }), h("span", { class: "w-inflight" })),
      h("p", { class: "row small" }, h("span", {}, "submission ring"), h("span", { class: "num w-sub" })), bar(`Worker ${w.id} submission ring`),
      h("p", { class: "row small" }, h("span", {}, "completion ring"), h("span", { class: "num w-comp" })), bar(`Worker ${w.id} completion ring`))));
  }
  workers.forEach((w, i) => {
    const item = list.children[i];
    const mine = state.workers.get(w.id) || { history: [], tasks: null };
    const done = mine.tasks === null ? 0 : num(w.tasks) - mine.tasks;
    const rate = dt > 0 && done > 0 ? done / dt : 0;
    push(mine.history, rate);
    mine.tasks = num(w.tasks);
    state.workers.set(w.id, mine);
    item.querySelector(".w-state").replaceChildren(mark(w.state === "ready" ? "ok" : w.state === "restarting" || w.state === "starting" ? "warn" : "bad", w.state));
    item.querySelector(".w-rate").textContent = fmt.rate(rate);
    drawSpark(item.querySelector(".w-spark"), mine.history, `Worker ${w.id} tasks per second`, "");
    item.querySelector(".w-busy").textContent = `busy ${fmt.pct(w.busy_percent)} · ${w.agents} agents`;
    item.querySelector(".w-inflight").textContent = `${fmt.count(w.inflight)} in flight`;
    const ring = (rings || []).find((r) => r.worker === w.id) || { submission: num(w.submission_queued), completion: 0, capacity: 0 };
    const bars = item.querySelectorAll(".bar");
    item.querySelector(".w-sub").textContent = `${fmt.count(ring.submission)} / ${fmt.count(ring.capacity)}`;
    setBar(bars[0], num(ring.submission), num(ring.capacity), `${ring.submission} of ${ring.capacity} waiting`);
    item.querySelector(".w-comp").textContent = `${fmt.count(ring.completion)} / ${fmt.count(ring.capacity)}`;
    setBar(bars[1], num(ring.completion), num(ring.capacity), `${ring.completion} of ${ring.capacity} waiting`);
  });
  if (state.status) { // readiness follows the workers' states in each event
    const ready = workers.filter((w) => w.state === "ready").length;
    Object.assign(state.status, { workers_ready: ready, workers_total: workers.length, state: ready === workers.length ? "ok" : "degraded" });
    renderStatus();
  }
  $("q-inflight").textContent = `${fmt.count(swarm.inflight)} / ${fmt.count(swarm.max_inflight)}`;
  setBar($("q-inflight-bar"), num(swarm.inflight), num(swarm.max_inflight), `${swarm.inflight} of ${swarm.max_inflight}`);
  $("q-queued").textContent = `${fmt.count(swarm.queued)} / ${fmt.count(swarm.queue_limit)}`;
  setBar($("q-queued-bar"), num(swarm.queued), num(swarm.queue_limit), `${swarm.queued} of ${swarm.queue_limit}`);
  if (slots) {
    const used = num(slots.total) - num(slots.free);
    $("q-slots").textContent = `${fmt.count(used)} / ${fmt.count(slots.total)}`;
    setBar($("q-slots-bar"), used, num(slots.total), `${used} of ${slots.total}`);
  }
  const rejected = Object.entries(swarm.rejected || {});
  $("q-rejected").textContent = rejected.length ? rejected.map(([k, v]) => `${k.replace("_", " ")} ${fmt.count(v)}`).join(" · ") : "none";
}

export function applyStatus(s) {
  state.status = { ...s, readAt: performance.now() };
  renderStatus();
}

function renderStatus() {
  const s = state.status;
  if (!s) return;
  const up = s.workers_ready === s.workers_total;
  const uptime = num(s.uptime_s) + (performance.now() - s.readAt) / 1000;
  $("identity").replaceChildren(`${s.hostname} · version ${s.version} · ${s.env} · `,
    mark(good(up), `${s.state}: ${s.workers_ready} of ${s.workers_total} workers ready`), ` · ${s.agents_total} agents · up ${fmt.duration(uptime)}`);
}
