"""``engined inspect``: the rings, slots and the oldest task in flight of a running engine, read-only.

Per worker and direction: head, tail, occupancy, the consumer's sleeping flag, the closed flag, and
whether the ring is stalled: it holds descriptors while its consumer has not shown a sign of life
for ``stall_after`` seconds (a submission ring's consumer is its worker, whose heartbeat is in its
row; a completion ring's is the client, whose row is refreshed every 100 ms). Also the client's
free slots and the oldest task in flight with its age (a lower bound, exact to the client's 100 ms
refresh: engine/core/pending_age.py). ``--json`` prints the same as one JSON document.
"""

from __future__ import annotations

from typing import Any

from tools.engine_view import Reading, client_is_live

STALL_AFTER_S = 2.0  # a worker beats at least every 0.5 s when idle, and after every batch when busy


def _ring(state: Any, consumer_age_s: float | None, stall_after: float) -> dict[str, Any]:
    occupancy = state.occupancy
    # a consumer that never showed a sign of life (a worker starting, an embedded caller that does not
    # refresh its row) is not called stalled: there is nothing to compare with
    stalled = bool(occupancy) and consumer_age_s is not None and consumer_age_s > stall_after
    return {
        "head": state.head,
        "tail": state.tail,
        "occupancy": occupancy,
        "capacity": state.capacity,
        "free": state.capacity - occupancy,
        "consumer_sleeping": state.consumer_sleeping,
        "closed": state.closed,
        "stalled": stalled,
        "consumer_silent_s": None if consumer_age_s is None else round(consumer_age_s, 3),
    }


def describe(reading: Reading, stall_after: float = STALL_AFTER_S) -> dict[str, Any]:
    """Everything ``engined inspect`` shows, as plain data."""
    now, client, header = reading.taken_ns, reading.client, reading.header
    client_live = client_is_live(reading)
    client_age = (now - client["updated_ns"]) / 1e9 if client["pid"] else None
    workers = []
    for w, (sub, comp) in zip(reading.workers, reading.rings, strict=True):
        beat_age = (now - w["heartbeat_ns"]) / 1e9 if w["heartbeat_ns"] else None
        workers.append(
            {
                "id": w["id"],
                "pid": w["pid"],
                "state": w["state"],
                "epoch": w["epoch"],
                "restarts": w["restarts"],
                "cpu": w["cpu"],
                "node": w["node"],
                "heartbeat_age_s": None if beat_age is None else round(beat_age, 3),
                "submission": _ring(sub, beat_age, stall_after),
                "completion": _ring(comp, client_age, stall_after),
            }
        )
    oldest = None
    if client["oldest_req_id"]:
        oldest = {
            "req_id": client["oldest_req_id"],
            "agent": client["oldest_agent"],
            "worker": client["oldest_worker"],
            "age_at_least_s": round(max(0, now - client["oldest_since_ns"]) / 1e9, 3),
        }
    return {
        "segment": reading.name,
        "owner_pid": reading.owner_pid,
        "workers_total": header["n_workers"],
        "agents_total": len(reading.agents),
        "slot_bytes": header["slot_bytes"],
        "ring_capacity": header["ring_capacity"],
        "client_sleeping": bool(header["client_sleeping"]),
        "client": {
            "pid": client["pid"],
            "live": client_live,
            "refreshed_s_ago": None if client_age is None else round(client_age, 3),
            "inflight": client["inflight"],
            "queued": client["queued"],
            "admitted": client["admitted"],
            "rejected_queue_full": client["rejected_queue_full"],
            "rejected_no_slot": client["rejected_no_slot"],
            "workers_lost_tasks": client["workers_lost_tasks"],
            "slots_total": header["n_slots"],
            "slots_free": client["slots_free"] if client["pid"] else None,
        },
        "oldest_inflight": oldest,
        "workers": workers,
        "stalled_rings": [
            f"worker {w['id']} {d}" for w in workers for d in ("submission", "completion") if w[d]["stalled"]
        ],
        "busiest_agents": [
            {"id": a["id"], "tasks": a["tasks"], "status": a["status"], "inflight": a["inflight"]}
            for a in sorted(reading.agents, key=lambda a: -a["tasks"])[:10]
        ],
    }


def _flags(ring: dict[str, Any]) -> str:
    flags = [
        name
        for name, on in (
            ("sleeping", ring["consumer_sleeping"]),
            ("closed", ring["closed"]),
            ("STALLED", ring["stalled"]),
        )
        if on
    ]
    return ",".join(flags) or "-"


def as_text(doc: dict[str, Any]) -> str:
    c = doc["client"]
    if c["pid"] == 0:
        client = "client: none has written its figures (an embedded engine's caller does not refresh them)"
    else:
        state = "" if c["live"] else f" (NOT refreshed for {c['refreshed_s_ago']:.1f} s)"
        client = (
            f"client pid {c['pid']}{state}: {c['inflight']} in flight, {c['queued']} queued, "
            f"{c['slots_free']} of {c['slots_total']} slots free, admitted {c['admitted']}, rejected "
            f"{c['rejected_queue_full']} queue full / {c['rejected_no_slot']} no slot, "
            f"{c['workers_lost_tasks']} lost to dead workers"
        )
    lines = [
        f"{doc['segment']}: {doc['workers_total']} workers, {doc['agents_total']} agents, {c['slots_total']} x "
        f"{doc['slot_bytes'] >> 10} KiB slots, rings of {doc['ring_capacity']}; owner pid {doc['owner_pid']}",
        "  " + client,
    ]
    oldest = doc["oldest_inflight"]
    lines.append(
        f"  oldest in flight: task {oldest['req_id']} on agent {oldest['agent']} (worker {oldest['worker']}),"
        f" in flight for at least {oldest['age_at_least_s']:.2f} s"
        if oldest
        else "  oldest in flight: none"
    )
    lines.append(
        "  worker  pid      state       epoch restarts heartbeat  ring        head       tail  queued   free  flags"
    )
    for w in doc["workers"]:
        beat = "-" if w["heartbeat_age_s"] is None else f"{w['heartbeat_age_s']:.2f} s"
        first = f"  {w['id']:>6}  {w['pid']:<8} {w['state']:<11} {w['epoch']:>5} {w['restarts']:>8} {beat:>9}"
        for direction in ("submission", "completion"):
            r = w[direction]
            lead = first if direction == "submission" else " " * len(first)
            lines.append(
                f"{lead}  {direction[:4]:<5} {r['head']:>10} {r['tail']:>10} {r['occupancy']:>7} "
                f"{r['free']:>6}  {_flags(r)}"
            )
    lines.append("  stalled rings: " + (", ".join(doc["stalled_rings"]) or "none"))
    lines.append(
        "  busiest agents: "
        + ", ".join(f"#{a['id']} {a['tasks']} tasks ({a['status']})" for a in doc["busiest_agents"])
    )
    return "\n".join(lines)
