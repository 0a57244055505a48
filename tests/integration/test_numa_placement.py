"""SIGMAVAULT_NUMA=node on this box, live: workers' affinity and the cpu and node their rows record."""

from __future__ import annotations

import dataclasses
import os
from typing import TYPE_CHECKING

import pytest

from engine.core.embedded import Engine
from engine.host.numa import read_topology

if TYPE_CHECKING:
    from engine.config import EngineConfig


@pytest.mark.multiprocess
@pytest.mark.parametrize("pin", [False, True])
def test_workers_placed_by_node(config: EngineConfig, pin: bool) -> None:
    usable = sorted(os.sched_getaffinity(0))
    topology = read_topology()
    with Engine.start(dataclasses.replace(config, numa="node", pin_cpus=pin)) as engine:
        rows = engine.client.table.worker_rows()
        affinities = [os.sched_getaffinity(pid) for pid in engine.worker_pids()]
    for index, (row, cpus) in enumerate(zip(rows, affinities, strict=True)):
        assert row["node"] == topology.node_of_cpu(min(cpus))
        if pin:  # worker i on the i-th usable CPU of its node; on one node, as SIGMAVAULT_PIN_CPUS alone did
            assert cpus == {row["cpu"]}
            if not topology.multi_node:
                assert row["cpu"] == usable[index % len(usable)]
        else:
            assert row["cpu"] == -1 and cpus <= set(usable)
            if not topology.multi_node:
                assert cpus == set(usable)  # one node: nothing changes


@pytest.mark.multiprocess
def test_off_records_no_node(config: EngineConfig) -> None:
    with Engine.start(config) as engine:
        assert [(r["cpu"], r["node"]) for r in engine.client.table.worker_rows()] == [(-1, -1)] * config.workers
        assert all(os.sched_getaffinity(pid) == os.sched_getaffinity(0) for pid in engine.worker_pids())
