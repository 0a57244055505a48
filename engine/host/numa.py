"""NUMA topology from sysfs: which nodes the box has, their CPUs, memory and distances.

Pure reading, no side effects, so it runs anywhere and tests point it at a recorded tree. Files read
(Documentation/ABI/stable/sysfs-devices-node in the kernel tree):

    <root>/devices/system/node/online            node ids with memory or CPUs, a cpulist ("0-1")
    <root>/devices/system/node/nodeN/cpulist     CPUs of node N ("0-15,32-47"; empty for a memory-only node)
    <root>/devices/system/node/nodeN/meminfo     "Node N MemTotal:  16318780 kB" ...
    <root>/devices/system/node/nodeN/distance    relative access cost to every node ("10 21"; 10 = local)
    <root>/devices/system/cpu/online             used when the kernel has no NUMA (no node directory)

``place_workers`` turns a topology into a plan for pinning workers: each node gets a share of the
workers in proportion to its usable CPUs, and a node's workers are numbered consecutively, so a
worker, its CPU and (once the arena is split per node) its slots all sit on one node.
``plan_affinity`` is what the supervisor hands each worker (SIGMAVAULT_NUMA, SIGMAVAULT_PIN_CPUS).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

NODE_DIR = "devices/system/node"
CPU_ONLINE = "devices/system/cpu/online"


@dataclass(frozen=True)
class Node:
    id: int
    cpus: tuple[int, ...]
    memory_bytes: int | None  # MemTotal; None when the kernel does not say
    distances: tuple[int, ...]  # to node 0, 1, ... in the order of ``Topology.nodes``


@dataclass(frozen=True)
class Topology:
    nodes: tuple[Node, ...]
    numa: bool  # False: the kernel has no NUMA node directory, and ``nodes`` is one node of every online CPU

    @property
    def multi_node(self) -> bool:
        """More than one node with CPUs: only then does pinning per node change anything."""
        return sum(1 for node in self.nodes if node.cpus) > 1

    def node_of_cpu(self, cpu: int) -> int | None:
        for node in self.nodes:
            if cpu in node.cpus:
                return node.id
        return None

    def as_dict(self) -> dict[str, object]:
        return {
            "numa": self.numa,
            "nodes": [
                {"id": n.id, "cpus": list(n.cpus), "memory_bytes": n.memory_bytes, "distances": list(n.distances)}
                for n in self.nodes
            ],
        }


@dataclass(frozen=True)
class Placement:
    worker: int
    node: int
    cpu: int


def parse_cpulist(text: str) -> tuple[int, ...]:
    """The kernel's list format: ``"0-3,8,10-11"`` -> (0, 1, 2, 3, 8, 10, 11); empty text -> ()."""
    cpus: list[int] = []
    for part in text.strip().split(","):
        if not part:
            continue
        first, _, last = part.partition("-")
        start = int(first)
        cpus.extend(range(start, int(last) + 1) if last else (start,))
    return tuple(sorted(set(cpus)))


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


def _mem_total(text: str | None) -> int | None:
    for line in (text or "").splitlines():
        fields = line.split()
        # "Node 0 MemTotal:       8349908 kB"
        if len(fields) >= 5 and fields[2] == "MemTotal:" and fields[4] == "kB":
            return int(fields[3]) * 1024
    return None


def read_topology(root: str | os.PathLike[str] = "/sys") -> Topology:
    """The nodes under ``root`` (default the live /sys), each with its CPUs, memory and distances."""
    base = Path(root)
    node_dir = base / NODE_DIR
    online = _read(node_dir / "online")
    if online is None:
        cpus = parse_cpulist(_read(base / CPU_ONLINE) or "") or tuple(range(os.cpu_count() or 1))
        return Topology((Node(0, cpus, None, (10,)),), numa=False)
    nodes = []
    for node_id in parse_cpulist(online):
        path = node_dir / f"node{node_id}"
        distances = tuple(int(d) for d in (_read(path / "distance") or "").split())
        nodes.append(
            Node(node_id, parse_cpulist(_read(path / "cpulist") or ""), _mem_total(_read(path / "meminfo")), distances)
        )
    return Topology(tuple(nodes), numa=True)


def place_workers(n_workers: int, topology: Topology, usable: Iterable[int] | None = None) -> list[Placement]:
    """Worker -> (node, CPU): nodes get workers in proportion to their usable CPUs (largest remainder),
    consecutive worker ids per node, each worker its own CPU while there are CPUs enough, then round-robin
    over the node's CPUs. ``usable`` defaults to this process's affinity (os.sched_getaffinity)."""
    allowed = set(os.sched_getaffinity(0) if usable is None else usable)
    per_node = [(node.id, [c for c in node.cpus if c in allowed]) for node in topology.nodes]
    per_node = [(node_id, cpus) for node_id, cpus in per_node if cpus]
    if not per_node or n_workers <= 0:
        return []
    total = sum(len(cpus) for _, cpus in per_node)
    exact = [n_workers * len(cpus) / total for _, cpus in per_node]
    shares = [int(x) for x in exact]
    by_remainder = sorted(range(len(per_node)), key=lambda i: (exact[i] - shares[i], len(per_node[i][1])), reverse=True)
    for i in by_remainder[: n_workers - sum(shares)]:
        shares[i] += 1
    plan: list[Placement] = []
    for (node_id, cpus), share in zip(per_node, shares, strict=True):
        plan.extend(Placement(len(plan), node_id, cpus[k % len(cpus)]) for k in range(share))
    return plan


@dataclass(frozen=True)
class WorkerAffinity:
    """Where one worker may run: ``cpus`` None leaves the inherited affinity alone; ``cpu`` is the one
    CPU it is pinned to (-1: not pinned to one) and ``node`` its NUMA node (-1: not placed by node),
    both recorded in the worker's table row."""

    cpus: frozenset[int] | None
    cpu: int = -1
    node: int = -1


def plan_affinity(
    n_workers: int, *, pin_cpus: bool, numa: str, topology: Topology | None = None, usable: Iterable[int] | None = None
) -> list[WorkerAffinity]:
    """Each worker's affinity. ``numa`` "off": with ``pin_cpus`` worker i gets the i-th usable CPU in
    sorted order, else nothing changes. "node": workers are placed by ``place_workers``; with
    ``pin_cpus`` each on its CPU, else on every usable CPU of its node. On a box with one node
    "node" gives the same CPUs as "off" (only ``node`` is recorded as 0)."""
    allowed = sorted(set(os.sched_getaffinity(0) if usable is None else usable))
    if numa == "node":
        topology = topology or read_topology()
        nodes = {node.id: node for node in topology.nodes}
        plan = place_workers(n_workers, topology, allowed)
        if plan:
            if pin_cpus:
                return [WorkerAffinity(frozenset({p.cpu}), p.cpu, p.node) for p in plan]
            return [WorkerAffinity(frozenset(c for c in nodes[p.node].cpus if c in allowed), -1, p.node) for p in plan]
    if not pin_cpus or not allowed:
        return [WorkerAffinity(None) for _ in range(n_workers)]
    return [WorkerAffinity(frozenset({cpu}), cpu) for cpu in (allowed[i % len(allowed)] for i in range(n_workers))]


def describe_plan(plan: list[WorkerAffinity]) -> str:
    """One line for the log: which workers went where."""
    by_node: dict[int, list[int]] = {}
    for worker, affinity in enumerate(plan):
        by_node.setdefault(affinity.node, []).append(worker)
    return "; ".join(f"node {node}: workers {_ranges(workers)}" for node, workers in sorted(by_node.items()))


def _ranges(numbers: list[int]) -> str:
    return f"{numbers[0]}-{numbers[-1]}" if len(numbers) > 1 else str(numbers[0])


def main() -> None:
    """``python -m engine.host.numa``: this box's nodes, and where 0 = one-per-usable-CPU workers would go."""
    topology = read_topology()
    kind = "NUMA" if topology.numa else "no NUMA in this kernel"
    print(f"{len(topology.nodes)} node(s) ({kind}); usable CPUs {sorted(os.sched_getaffinity(0))}")
    for node in topology.nodes:
        memory = f"{node.memory_bytes / 2**30:.1f} GiB" if node.memory_bytes else "memory unknown"
        print(f"  node {node.id}: CPUs {list(node.cpus) or 'none'}, {memory}, distances {list(node.distances)}")
    for p in place_workers(len(os.sched_getaffinity(0)), topology):
        print(f"  worker {p.worker} -> node {p.node}, CPU {p.cpu}")


if __name__ == "__main__":
    main()
