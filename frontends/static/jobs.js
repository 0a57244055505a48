// Jobs: long ones (file jobs, storage operations) with progress and ETA; one-block compression
// "jobs" counted on one line.
import { $, fmt, h, mark, num, setBar } from "./dom.js";

const FINISHED_KEEP = 8; // finished long jobs kept on screen
export const state = {
  jobs: new Map(), // long jobs by id
  oneBlock: { done: 0, failed: 0, cancelled: 0, last: null, seen: new Set(), pending: 0 },
};

// Long jobs (engine/jobs/model.py JobRecord: file jobs; storage jobs) carry percent or units; the
// one-block compression "jobs" of DispatchTask (engine/jobs/inline.py) carry blocks and a codec.
// a file job (FileJob: bytes_done of bytes_total, mb_per_s) in the shape the panel draws (JobRecord's units)
function fromFileJob(j) {
  return { ...j, kind: j.operation, target: j.destination, done_units: j.bytes_done, total_units: j.bytes_total,
    rate_per_s: num(j.mb_per_s) * 1e6, category: "file" };
}

export function applyJob(raw, origin) {
  let j = raw && typeof raw === "object" && raw.job && typeof raw.job === "object" ? raw.job : raw;
  if (!j || typeof j !== "object" || !j.id) return;
  if ("bytes_total" in j && "operation" in j) j = fromFileJob(j);
  const oneBlock = ("blocks" in j || "codec" in j) && !("percent" in j) && !("total_units" in j);
  if (oneBlock) return countOneBlock(j);
  const known = state.jobs.get(j.id) || { id: j.id, firstSeen: performance.now(), firstPercent: null };
  const job = Object.assign(known, j, { origin: j.category || origin, seenAt: performance.now() });
  let percent = typeof j.percent === "number" ? j.percent : num(j.total_units) > 0 ? (100 * num(j.done_units)) / num(j.total_units) : null;
  if (job.state === "done") percent = 100;
  job.progress = percent;
  if (percent !== null && job.firstPercent === null) job.firstPercent = { p: percent, t: performance.now() };
  state.jobs.set(j.id, job);
  renderJobs();
}

function countOneBlock(j) {
  const ob = state.oneBlock;
  const key = `${j.id}@${j.started_unix_ns}`; // ids start again at job-1 when the engine restarts
  if (["done", "failed", "cancelled"].includes(j.state) && !ob.seen.has(key)) {
    ob.seen.add(key);
    if (ob.seen.size > 4096) ob.seen = new Set([...ob.seen].slice(-2048));
    ob[j.state] += 1;
    ob.last = j;
  }
  // one event per task under load (thousands a second): redraw the line at most 4 times a second
  if (!ob.pending) ob.pending = setTimeout(renderOneBlock, 250);
}

function renderOneBlock() {
  const ob = state.oneBlock;
  ob.pending = 0;
  const last = ob.last;
  $("oneblock").textContent = `One-block compression tasks (DispatchTask, streams) counted by this page: ${fmt.count(ob.done)} done, ${fmt.count(ob.failed)} failed, ${fmt.count(ob.cancelled)} cancelled`
    + (last ? ` (latest: ${last.kind} ${last.codec}, ${fmt.bytes(last.bytes_in)} to ${fmt.bytes(last.bytes_out)}).` : ".");
}

function eta(job) {
  if (typeof job.eta_s === "number" && job.eta_s >= 0) return job.eta_s;
  const first = job.firstPercent;
  if (!first || job.progress === null || job.progress <= first.p) return null;
  const perS = (job.progress - first.p) / ((performance.now() - first.t) / 1000);
  return perS > 0 ? (100 - job.progress) / perS : null;
}

function renderJobs() {
  const jobs = [...state.jobs.values()];
  const running = jobs.filter((j) => !["done", "failed", "cancelled"].includes(j.state));
  const finished = jobs.filter((j) => !running.includes(j)).sort((a, b) => b.seenAt - a.seenAt);
  for (const old of finished.slice(FINISHED_KEEP)) state.jobs.delete(old.id);
  const shown = [...running, ...finished.slice(0, FINISHED_KEEP)];
  $("jobs-count").textContent = `(${running.length} running)`;
  $("jobs-empty").hidden = shown.length > 0;
  const list = $("jobs");
  const rows = new Map([...list.children].map((li) => [li.dataset.id, li]));
  list.replaceChildren(...shown.map((job) => jobRow(job, rows.get(job.id))));
}

function jobRow(job, row) {
  const where = job.target || job.pool || job.source || "";
  if (!row) {
    row = h("li", { class: "job", "data-id": job.id },
      h("p", { class: "row" }, h("strong", { class: "j-what" }), h("span", { class: "j-state" })),
      h("div", { class: "bar progress", role: "progressbar", "aria-valuemin": 0, "aria-valuemax": 100 }, h("span", { class: "fill" })),
      h("p", { class: "small j-detail" }));
  }
  row.dataset.state = job.state;
  row.querySelector(".j-what").textContent = `${job.kind} ${where}`.trim();
  const bad = job.state === "failed" || job.state === "cancelled";
  row.querySelector(".j-state").replaceChildren(mark(job.state === "done" ? "ok" : bad ? "bad" : "info", job.state));
  const progress = row.querySelector(".progress");
  progress.setAttribute("aria-label", `${job.kind} ${where} progress`);
  if (job.progress === null) {
    progress.removeAttribute("aria-valuenow");
    progress.dataset.indeterminate = "true";
    progress.querySelector(".fill").style.width = "100%";
  } else {
    delete progress.dataset.indeterminate;
    setBar(progress, job.progress, 100, fmt.pct(job.progress));
    delete progress.dataset.level; // a full progress bar is no alarm
    progress.setAttribute("aria-valuenow", job.progress.toFixed(1));
  }
  const parts = [job.progress === null ? "progress not reported" : fmt.pct(job.progress)];
  const bytes = job.origin === "file" || job.origin === "compression";
  if (num(job.total_units) > 0) parts.push(bytes ? `${fmt.bytes(job.done_units)} of ${fmt.bytes(job.total_units)}` : `${fmt.count(job.done_units)} of ${fmt.count(job.total_units)}`);
  if (num(job.rate_per_s) > 0 && !["done", "failed", "cancelled"].includes(job.state)) parts.push(bytes ? `${fmt.bytes(job.rate_per_s)}/s` : `${fmt.rate(job.rate_per_s)}/s`);
  const left = ["done", "failed", "cancelled"].includes(job.state) ? null : eta(job);
  if (left !== null) parts.push(`ETA ${fmt.duration(left)}`);
  if (num(job.errors_found) > 0 || job.errorsFound) parts.push(`errors found: ${fmt.count(job.errors_found || job.errorsFound)}`);
  if (job.error) parts.push(job.error);
  else if (job.message) parts.push(job.message);
  row.querySelector(".j-detail").textContent = parts.join(" · ");
  return row;
}

export function markErrors(d) {
  const job = state.jobs.get(d.job.id);
  if (!job) return;
  job.errorsFound = num(d.job.errors_found) || num(d.errors_found) || 1;
  renderJobs();
}

// after a reconnect the engine may have restarted (its unfinished jobs then ended "interrupted"):
// forget what was running; the job listings and the next progress events bring back what still is
export function forgetUnfinished() {
  for (const [id, job] of state.jobs) if (!["done", "failed", "cancelled"].includes(job.state)) state.jobs.delete(id);
  renderJobs();
}
