// Storage pools and disks (updated by storage.event), and the PhantomMesh peers (read once).
import { $, bar, fmt, good, h, mark, num, setBar, sources, table } from "./dom.js";
import { applyJob, markErrors } from "./jobs.js";

export const storage = { pools: null, disks: null };

export function renderPools() {
  const doc = storage.pools;
  if (!doc) return;
  const pools = doc.pools || [];
  const health = (p) => mark(/^(ONLINE|active|clean)$/i.test(p.health) ? "ok" : /DEGRADED|EXPORTED|resync|recover/i.test(p.health) ? "warn" : "bad", p.health || "unknown");
  const errors = (p) => ("error_count" in p ? mark(good(num(p.error_count) === 0), fmt.count(p.error_count)) : "–");
  const scrub = (p) => {
    const s = p.last_scrub;
    if (!s || !s.state) return "–";
    if (!num(s.started_unix)) return s.state;
    return `${s.state}, ${fmt.duration(Date.now() / 1000 - s.started_unix)} ago, ${fmt.count(s.errors_found)} errors found`;
  };
  const use = (p) => {
    const b = bar(`${p.name} capacity used`);
    setBar(b, num(p.capacity_percent), 100, fmt.pct(p.capacity_percent));
    return h("span", { class: "cell-bar" }, b, `${fmt.pct(p.capacity_percent)} of ${fmt.bytes(p.size_bytes)}`);
  };
  $("pools").replaceChildren(
    pools.length ? table([["Pool", (p) => p.name], ["Type", (p) => `${p.type}${p.level ? ` ${p.level}` : ""}`], ["Health", health],
      ["Used", use], ["Device errors", errors], ["Last scrub", scrub], ["Devices", (p) => (p.devices || []).join(", ") || "–"]], pools, "Storage pools") : h("p", { class: "muted" }, "No pools."),
    sources(doc.sources) || "");
}

export function renderDisks() {
  const doc = storage.disks;
  if (!doc) return;
  const disks = doc.disks || [];
  const smart = (d) => {
    const s = d.smart || {};
    if (!s.available) return mark("warn", `no SMART${s.detail ? `: ${s.detail}` : ""}`);
    const temp = num(s.temperature_c) > 0 ? `, ${s.temperature_c} °C` : "";
    return mark(good(s.passed), `${s.passed ? "passed" : "FAILING"}${temp}`);
  };
  $("disks").replaceChildren(
    disks.length ? table([["Disk", (d) => d.name], ["Size", (d) => fmt.bytes(d.size_bytes)], ["Kind", (d) => `${d.type}${d.rotational ? ", rotational" : ""}${d.model ? `, ${d.model}` : ""}`],
      ["Health", smart], ["Mounted at", (d) => (d.mountpoints || []).join(", ") || "–"]], disks, "Disks") : h("p", { class: "muted" }, "No disks."),
    sources(doc.sources) || "");
}

export function applyStorageEvent(d) {
  if (!d || typeof d !== "object") return;
  if (d.job) {
    applyJob(d.job, "storage");
    if (d.action === "errors_found") markErrors(d);
    return;
  }
  if (d.disk && storage.disks) {
    const others = (storage.disks.disks || []).filter((x) => x.name !== d.disk.name);
    storage.disks.disks = d.action === "disk_removed" ? others : [...others, d.disk].sort((a, b) => a.name.localeCompare(b.name));
    renderDisks();
  }
  if (d.pool && storage.pools) {
    const others = (storage.pools.pools || []).filter((x) => x.name !== d.pool.name);
    storage.pools.pools = /destroyed|removed/.test(d.action || "") ? others : [...others, d.pool].sort((a, b) => a.name.localeCompare(b.name));
    renderPools();
  }
}


export function renderMesh(doc) {
  const peers = doc.peers || [];
  const wg = (doc.wireguard_interfaces || []).map((i) => `${i.name} (port ${i.listen_port})`).join(", ");
  const age = (p) => (num(p.handshake_age_s) < 0 || !p.latest_handshake_unix ? "never" : `${fmt.duration(p.handshake_age_s)} ago`);
  $("mesh").replaceChildren(
    h("p", {}, mark(doc.enabled ? "ok" : "info", doc.enabled ? "on" : "off"), doc.enabled ? ` over ${wg}` : ": no WireGuard interface carries the overlay on this machine",
      h("span", { class: "muted" }, ` (read at ${fmt.clock(Date.now())})`)),
    peers.length ? table([["Peer", (p) => `${(p.public_key || "").slice(0, 10)}…`], ["Interface", (p) => p.interface], ["Endpoint", (p) => p.endpoint || "–"],
      ["State", (p) => mark(p.state === "connected" ? "ok" : "warn", p.state || "unknown")], ["Handshake", age],
      ["In / out", (p) => `${fmt.bytes(p.rx_bytes)} / ${fmt.bytes(p.tx_bytes)}`]], peers, "Mesh peers") : h("p", { class: "muted" }, "No peers."),
    sources(doc.sources) || "");
}
