"""engine/host/numa.py on this machine's live /sys and on sysfs trees laid out in a tmp dir."""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import pytest

from engine.host.numa import (
    Node,
    Topology,
    WorkerAffinity,
    describe_plan,
    parse_cpulist,
    place_workers,
    plan_affinity,
    read_topology,
)

FIXTURES = orjson.loads((Path(__file__).parents[2] / "fixtures" / "sysfs_numa.json").read_bytes())


def make_tree(root: Path, name: str) -> Path:
    for relative, content in FIXTURES[name].items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return root


def test_parse_cpulist() -> None:
    assert parse_cpulist("0-3,8,10-11\n") == (0, 1, 2, 3, 8, 10, 11)
    assert parse_cpulist("\n") == ()
    assert parse_cpulist("5") == (5,)


def test_this_machine_live() -> None:
    if not Path("/sys/devices/system/node/online").exists():
        pytest.skip("this kernel has no NUMA node directory in /sys")
    topology = read_topology()
    assert topology.numa
    cpus = [cpu for node in topology.nodes for cpu in node.cpus]
    assert len(cpus) == len(set(cpus))  # no CPU on two nodes
    assert set(os.sched_getaffinity(0)) <= set(cpus)
    assert all(node.memory_bytes for node in topology.nodes if node.cpus)
    assert all(len(node.distances) == len(topology.nodes) for node in topology.nodes)
    plan = place_workers(len(os.sched_getaffinity(0)), topology)
    assert sorted(p.cpu for p in plan) == sorted(os.sched_getaffinity(0))


def test_this_machine_recorded(tmp_path: Path) -> None:
    topology = read_topology(make_tree(tmp_path, "this_machine"))
    assert topology == Topology((Node(0, (0, 1), 8349908 * 1024, (10,)),), numa=True)
    assert not topology.multi_node


def test_two_sockets_and_a_memory_only_node(tmp_path: Path) -> None:
    topology = read_topology(make_tree(tmp_path, "two_socket"))
    assert [n.id for n in topology.nodes] == [0, 1, 2]
    assert topology.nodes[0].cpus == (*range(16), *range(32, 48))
    assert topology.nodes[2].cpus == ()  # CXL memory: no CPUs, never given workers
    assert topology.nodes[1].distances == (21, 10, 24)
    assert topology.multi_node
    assert topology.node_of_cpu(40) == 0 and topology.node_of_cpu(50) == 1 and topology.node_of_cpu(99) is None

    plan = place_workers(64, topology, usable=range(64))
    assert [p.node for p in plan] == [0] * 32 + [1] * 32  # consecutive worker ids per node
    assert sorted(p.cpu for p in plan) == list(range(64))

    few = place_workers(6, topology, usable=range(64))
    assert [p.node for p in few] == [0, 0, 0, 1, 1, 1]  # spread over the nodes, not packed on node 0
    assert all(topology.node_of_cpu(p.cpu) == p.node for p in few)

    # an affinity mask of node 1 plus four CPUs of node 0: shares follow the usable CPUs
    skewed = place_workers(10, topology, usable=[0, 1, 2, 3, *range(16, 32)])
    assert [p.node for p in skewed].count(0) == 2 and [p.node for p in skewed].count(1) == 8
    assert len({p.cpu for p in skewed}) == 10


def test_more_workers_than_cpus_share_them_round_robin(tmp_path: Path) -> None:
    plan = place_workers(5, read_topology(make_tree(tmp_path, "this_machine")), usable=[0, 1])
    assert [p.cpu for p in plan] == [0, 1, 0, 1, 0]


def test_kernel_without_numa(tmp_path: Path) -> None:
    topology = read_topology(make_tree(tmp_path, "no_numa_kernel"))
    assert not topology.numa
    assert topology.nodes == (Node(0, (0, 1, 2, 3), None, (10,)),)
    assert place_workers(0, topology) == []


def test_node_placement_on_the_two_socket_tree(tmp_path: Path) -> None:
    """SIGMAVAULT_NUMA=node: each worker on its node's CPUs, or on its one CPU with SIGMAVAULT_PIN_CPUS."""
    topology = read_topology(make_tree(tmp_path, "two_socket"))
    node0 = frozenset((*range(16), *range(32, 48)))
    node1 = frozenset((*range(16, 32), *range(48, 64)))
    plan = plan_affinity(4, pin_cpus=False, numa="node", topology=topology, usable=range(64))
    assert plan == [WorkerAffinity(node0, -1, 0)] * 2 + [WorkerAffinity(node1, -1, 1)] * 2
    pinned = plan_affinity(4, pin_cpus=True, numa="node", topology=topology, usable=range(64))
    assert [(a.cpu, a.node) for a in pinned] == [(0, 0), (1, 0), (16, 1), (17, 1)]
    assert all(a.cpus == frozenset({a.cpu}) for a in pinned)
    assert describe_plan(pinned) == "node 0: workers 0-1; node 1: workers 2-3"
    # a narrowed affinity (CPUAffinity=) is respected: node 1's workers get only the allowed CPUs
    narrowed = plan_affinity(3, pin_cpus=False, numa="node", topology=topology, usable=[0, 1, 16, 17, 18, 19])
    assert [a.node for a in narrowed] == [0, 1, 1] and narrowed[1].cpus == frozenset({16, 17, 18, 19})
    # "off" ignores the nodes: pinned, worker i takes the i-th usable CPU, as before SIGMAVAULT_NUMA
    off = plan_affinity(3, pin_cpus=True, numa="off", topology=topology, usable=[5, 40, 20])
    assert [a.cpu for a in off] == [5, 20, 40] and all(a.node == -1 for a in off)
    assert plan_affinity(2, pin_cpus=False, numa="off", usable=range(64)) == [WorkerAffinity(None)] * 2


def test_node_placement_on_one_node_is_what_it_was_without_it(tmp_path: Path) -> None:
    """This VM's tree: "node" gives every worker the same CPUs as "off" (only the node is recorded)."""
    topology = read_topology(make_tree(tmp_path, "this_machine"))
    for pin in (False, True):
        node = plan_affinity(3, pin_cpus=pin, numa="node", topology=topology, usable=[0, 1])
        off = plan_affinity(3, pin_cpus=pin, numa="off", topology=topology, usable=[0, 1])
        assert [a.cpu for a in node] == [a.cpu for a in off]
        assert [a.cpus or frozenset({0, 1}) for a in node] == [a.cpus or frozenset({0, 1}) for a in off]
        assert {a.node for a in node} == {0}
