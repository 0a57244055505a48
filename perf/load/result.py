"""The run's figures as one plain dict: what the console prints, ``--json`` writes and ``--html`` draws."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from perf.load import histogram
from perf.report import machine

if TYPE_CHECKING:
    from hdrh.histogram import HdrHistogram

    from perf.load.pool import RunData

CPU_SATURATED_PERCENT = 90.0
LAG_SATURATED_MS = 10.0


def build(data: RunData) -> dict[str, Any]:
    spec = data.spec
    finals = [data.finals[i] for i in sorted(data.finals)]
    ops = _merge_ops(finals)
    primary = "request" if any(op["kind"] == "request" for op in ops.values()) else "event"
    head = [name for name, op in ops.items() if op["kind"] == primary]
    latency = _merge([ops[name]["_latency"] for name in head])
    service = _merge([ops[name]["_service"] for name in head])
    # from the common start to the last completion, or to the stop when that came later (ws, idle ends)
    elapsed = max((max(f["last_s"], f["stop_s"]) for f in finals), default=0.0)
    ok = sum(ops[name]["ok"] for name in head)
    errors: Counter[str] = Counter()
    for name in head:
        errors.update(ops[name]["errors"])
    nbytes = sum(ops[name]["bytes"] for name in head)
    total = ok + sum(errors.values())
    out: dict[str, Any] = {
        "tool": "perf load",
        "format": 1,
        "machine": machine(),
        "config": _config(spec),
        "started_unix": data.started_unix,
        "elapsed_s": elapsed,
        "stopped_by": _stopped_by(finals),
        "counts": primary + "s",
        "requests": total,
        "ok": ok,
        "errors": sum(errors.values()),
        "requests_per_s": total / elapsed if elapsed else 0.0,
        "ok_per_s": ok / elapsed if elapsed else 0.0,
        "mb_per_s": nbytes / elapsed / 1e6 if elapsed else 0.0,
        "latency_ms": histogram.summary_ms(latency),
        "errors_by_code": dict(errors.most_common()),
        "ops": {name: _op_figures(op, elapsed) for name, op in ops.items()},
        "generator": _generator(spec, finals),
        "timeline": data.timeline,
        "percentile_curve_ms": histogram.percentile_curve_ms(latency),
        "histogram": histogram.encode(latency).decode("ascii"),
    }
    if spec.open_loop:
        out["service_ms"] = histogram.summary_ms(service)  # from the actual send: what coordinated omission hides
    return out


def _merge(parts: list[HdrHistogram]) -> HdrHistogram:
    total = histogram.new()
    for part in parts:
        total.add(part)
    return total


def _merge_ops(finals: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    ops: dict[str, dict[str, Any]] = {}
    for final in finals:
        for name, op in final["ops"].items():
            into = ops.setdefault(
                name,
                {
                    "kind": op["kind"],
                    "ok": 0,
                    "errors": Counter(),
                    "bytes": 0,
                    "_latency": histogram.new(),
                    "_service": histogram.new(),
                },
            )
            into["ok"] += op["ok"]
            into["errors"].update(op["errors"])
            into["bytes"] += op["bytes"]
            into["_latency"].add(histogram.merge([op["latency"]]))
            into["_service"].add(histogram.merge([op["service"]]))
    return ops


def _op_figures(op: dict[str, Any], elapsed: float) -> dict[str, Any]:
    errors = sum(op["errors"].values())
    return {
        "kind": op["kind"],
        "requests": op["ok"] + errors,
        "ok": op["ok"],
        "errors": errors,
        "errors_by_code": dict(op["errors"].most_common()),
        "requests_per_s": (op["ok"] + errors) / elapsed if elapsed else 0.0,
        "mb_per_s": op["bytes"] / elapsed / 1e6 if elapsed else 0.0,
        "latency_ms": histogram.summary_ms(op["_latency"]),
    }


def _stopped_by(finals: list[dict[str, Any]]) -> str:
    reasons = {f["stopped_by"] for f in finals}
    for reason in ("interrupt", "requests", "duration"):
        if reason in reasons:
            return reason
    return next(iter(reasons), "")


def _generator(spec: Any, finals: list[dict[str, Any]]) -> dict[str, Any]:
    cpu = [100 * f["cpu_s"] / f["wall_s"] if f["wall_s"] else 0.0 for f in finals]
    lag = histogram.merge([f["lag"] for f in finals])
    lag_ms = histogram.summary_ms(lag)
    missed = sum(f["missed"] for f in finals)
    reasons = [f"generator {i} used {pct:.0f}% of a core" for i, pct in enumerate(cpu) if pct > CPU_SATURATED_PERCENT]
    if spec.open_loop and lag_ms["p99"] > LAG_SATURATED_MS:
        reasons.append(f"the open-loop schedule fell behind: p99 send lag {lag_ms['p99']:.1f} ms")
    if missed:
        reasons.append(f"the open-loop schedule fell behind: {missed} arrivals due before the end were never sent")
    out: dict[str, Any] = {"procs": len(finals), "cpu_percent": cpu, "saturated": bool(reasons), "reasons": reasons}
    if spec.open_loop:
        out["schedule_lag_ms"] = lag_ms
        out["missed_arrivals"] = missed
    return out


def _config(spec: Any) -> dict[str, Any]:
    return {
        "scenario": spec.scenario,
        "target": spec.host,
        "grpc_port": spec.grpc_port,
        "http_port": spec.http_port,
        "mode": "open" if spec.open_loop else "closed",
        "rate": spec.rate,
        "concurrency": spec.concurrency,
        "duration_s": spec.duration_s,
        "requests": spec.requests,
        "procs": spec.procs,
        "weights": spec.weights,
        "route": spec.route,
        "timeout_s": spec.timeout_s,
        "interval_s": spec.interval_s,
        "payload_bytes": {
            "echo": spec.echo_bytes,
            "compress": spec.compress_bytes,
            "block": spec.block_bytes,
            "job": spec.job_bytes,
        },
    }
