// SigmaVault dashboard: one read of the HTTP API when a connection opens, then the /ws events only.
// Plain DOM and ES modules, no framework, no build step; every value from the engine enters the
// page as text (textContent / attributes), never as markup. What each panel shows and where it
// comes from: docs/DASHBOARD.md.
import { $, fmt, h } from "./dom.js";
import { applyAgentStatus, moveFocus, onTileKey, select, setAgents, state as agents } from "./agents.js";
import { applyMetrics, applyStatus, applySwarm, state as host } from "./host.js";
import { applyJob, forgetUnfinished, state as jobs } from "./jobs.js";
import { applyStorageEvent, renderDisks, renderMesh, renderPools, storage } from "./storage.js";

const EVENTS = ["system.metrics", "agent.status", "compression.progress", "storage.event"];
const RETRY_MIN_S = 0.5; // reconnect back-off: doubles per failed attempt, up to RETRY_MAX_S, +-20 % jitter
const RETRY_MAX_S = 10;
const SILENCE_S = 15; // no message for this long (nor 3 metrics intervals, if longer): the link is dead
const JOB_LISTS = ["/api/v1/storage/jobs"]; // read when the API has them (file jobs come with the compression list)

const link = { ws: null, attempt: 0, nextAt: 0, lastMessage: 0, downSince: 0, generation: 0, metricsGapS: 1, signedIn: false };

async function getJSON(path) {
  const response = await fetch(path, { headers: { accept: "application/json" }, cache: "no-store" });
  if (response.status === 401) showLogin("The session ended: sign in again.");
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new Error((body && body.error && body.error.message) || `HTTP ${response.status}`);
  return body;
}

function unavailable(id, error) {
  $(id).replaceChildren(h("p", { class: "muted" }, `Not available: ${error.message}`));
}

async function loadAll() {
  const generation = ++link.generation;
  const reads = {
    status: "/api/v1/system/status", metrics: "/api/v1/system/metrics", agents: "/api/v1/agents", swarm: "/api/v1/swarm",
    pools: "/api/v1/storage/pools", disks: "/api/v1/storage/disks", jobs: "/api/v1/compression/jobs?limit=50",
    mesh: "/api/v1/network/phantommesh", api: "/openapi.json",
  };
  const names = Object.keys(reads);
  const settled = await Promise.allSettled(names.map((n) => getJSON(reads[n])));
  if (generation !== link.generation) return; // a newer connection reads again
  const got = Object.fromEntries(names.map((n, i) => [n, settled[i]]));
  const ok = (name, apply, onError) => (got[name].status === "fulfilled" ? apply(got[name].value) : onError && onError(got[name].reason));
  ok("status", applyStatus);
  ok("agents", (d) => setAgents(d.agents || []));
  ok("metrics", (m) => { host.prevMetrics = null; applyMetrics(m); });
  ok("swarm", (s) => applySwarm(s, null, null, 0));
  ok("pools", (d) => { storage.pools = d; renderPools(); }, (e) => unavailable("pools", e));
  ok("disks", (d) => { storage.disks = d; renderDisks(); }, (e) => unavailable("disks", e));
  ok("mesh", renderMesh, (e) => unavailable("mesh", e));
  forgetUnfinished();
  ok("jobs", (d) => [...(d.jobs || []), ...(d.file_jobs || [])].reverse().forEach((j) => applyJob(j, "compression")));
  ok("api", (doc) => JOB_LISTS.filter((p) => doc.paths && doc.paths[p] && doc.paths[p].get).forEach((p) =>
    getJSON(p).then((d) => (d.jobs || []).slice().reverse().forEach((j) => applyJob(j, p.split("/")[3]))).catch(() => {})));
}

function onMessage(event) {
  link.lastMessage = performance.now();
  let message;
  try {
    message = JSON.parse(event.data);
  } catch {
    return;
  }
  const data = message.data;
  switch (message.type) {
    case "system.metrics": {
      const previous = host.prevMetrics;
      if (previous) link.metricsGapS = (data.timestamp_unix_ns - previous.timestamp_unix_ns) / 1e9 || 1;
      return applyMetrics(data);
    }
    case "agent.status": return applyAgentStatus(data);
    case "compression.progress": return applyJob(data, "compression");
    case "storage.event": return applyStorageEvent(data);
    case "error": return console.warn("engine refused a message:", data);
    default: return undefined; // server.hello, client.subscribed
  }
}

function setConnection(kind) {
  const conn = $("conn");
  conn.dataset.state = kind;
  conn.textContent = { live: "live", connecting: "connecting…", disconnected: "disconnected, reconnecting" }[kind];
  document.body.dataset.connection = kind;
  const offline = kind !== "live" && link.downSince > 0;
  $("offline").hidden = !offline;
  $("main").classList.toggle("stale", offline);
  if (offline) $("offline-since").textContent = `The figures below are as of ${fmt.clock(link.downSince)}; the page reconnects by itself.`;
}

// every call needs a credential: the page signs in once with a token (POST /api/v1/session) and the
// engine keeps an HttpOnly session cookie; the token itself is never stored by the page
function showLogin(message) {
  if (link.ws) { const ws = link.ws; link.ws = null; ws.close(); }
  link.signedIn = false;
  $("login").hidden = false;
  $("login-error").textContent = message || "";
  $("login-token").focus();
}

async function signIn(event) {
  event.preventDefault();
  const token = $("login-token").value.trim();
  const response = await fetch("/api/v1/session", {
    method: "POST", headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify({ token }), cache: "no-store",
  }).catch(() => null);
  if (!response || !response.ok) {
    const body = response ? await response.json().catch(() => null) : null;
    $("login-error").textContent = (body && body.error && body.error.message) || "The engine did not answer.";
    return;
  }
  $("login-token").value = "";
  $("login").hidden = true;
  link.signedIn = true;
  connect();
}

async function begin() {
  const response = await fetch("/api/v1/session", { headers: { accept: "application/json" }, cache: "no-store" })
    .catch(() => null);
  if (response && response.status === 401) return showLogin();
  link.signedIn = true;
  return connect();
}

function connect() {
  if (!link.signedIn) return;
  setConnection("connecting");
  const url = new URL("/ws", location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(url);
  link.ws = ws;
  ws.onopen = () => {
    link.attempt = 0;
    link.downSince = 0;
    link.lastMessage = performance.now();
    ws.send(JSON.stringify({ type: "client.subscribe", data: { types: EVENTS } }));
    setConnection("live");
    loadAll();
  };
  ws.onmessage = onMessage;
  ws.onclose = (event) => (event.code === 1008 ? showLogin("The session ended: sign in again.") : lost(ws));
}

// the connection is gone (closed, refused, or silent): say so, try again after a growing pause
function lost(ws) {
  if (link.ws !== ws) return;
  link.ws = null;
  if (!link.downSince) link.downSince = Date.now();
  const delay = Math.min(RETRY_MAX_S, RETRY_MIN_S * 2 ** link.attempt) * (0.8 + 0.4 * Math.random());
  link.attempt += 1;
  link.nextAt = performance.now() + delay * 1000;
  setConnection("disconnected");
  tick();
  setTimeout(connect, delay * 1000);
}

function tick() {
  const ws = link.ws;
  const silence = Math.max(SILENCE_S, 3 * link.metricsGapS);
  if (ws && ws.readyState === WebSocket.OPEN && performance.now() - link.lastMessage > silence * 1000) {
    ws.close(); // a dead peer may never finish the closing handshake: do not wait for it
    lost(ws);
  }
  if (!link.ws && link.nextAt) {
    const left = Math.max(0, (link.nextAt - performance.now()) / 1000);
    $("offline-retry").textContent = `Attempt ${link.attempt}; next in ${left.toFixed(0)} s.`;
  } else if (link.ws && link.ws.readyState === WebSocket.CONNECTING) {
    $("offline-retry").textContent = `Attempt ${link.attempt}: connecting…`;
  }
}

function start() {
  $("agents").addEventListener("keydown", onTileKey);
  $("agents").addEventListener("click", (event) => {
    const tile = event.target.closest(".tile");
    if (!tile) return;
    const tiles = [...$("agents").querySelectorAll(".tile")];
    moveFocus(tiles.indexOf(tile));
    select(tiles.indexOf(tile));
  });
  $("agents").addEventListener("focus", () => moveFocus(agents.focusIndex));
  $("login").addEventListener("submit", signIn);
  setInterval(tick, 1000);
  begin();
}

// for people at the browser's console: the page's state and its event handler
window.sigmavault = { agents, host, jobs, storage, link, handle: (message) => onMessage({ data: JSON.stringify(message) }) };
start();
