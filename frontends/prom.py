"""/metrics: the engine's figures in the Prometheus text format (prometheus-client).

Engine counters are read from the shared table at scrape time (no message to any worker), plus the
scheduler's queue, in-flight count and rejections, ring occupancy, request counts and latency
histograms of both transports, and the restarts of the domains' background tasks. Host metrics
(CPU, memory, disks) are node_exporter's job.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from engine.core.monitor import EngineMonitor

LATENCY_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_AGENT_COUNTERS = (
    ("tasks", "Tasks run by the agent"),
    ("errors", "Tasks the agent answered with an error"),
    ("bytes_in", "Input bytes processed by the agent"),
    ("bytes_out", "Output bytes produced by the agent"),
)


class EngineCollector(Collector):
    """Reads the shared metrics table and the client's live figures on every scrape."""

    def __init__(self, monitor: EngineMonitor) -> None:
        self.monitor = monitor

    def collect(self) -> Iterator[Metric]:
        yield from self._agents()
        yield from self._workers()
        yield from self._admission()
        kinds = CounterMetricFamily("sigmavault_kind_tasks", "Tasks by kind", labels=["kind"])
        kind_bytes = CounterMetricFamily("sigmavault_kind_bytes_in", "Input bytes by kind", labels=["kind"])
        for kind, row in self.monitor.kind_totals().items():
            kinds.add_metric([kind], row["tasks"])
            kind_bytes.add_metric([kind], row["bytes_in"])
        yield kinds
        yield kind_bytes

    def _agents(self) -> Iterator[Metric]:
        labels = ["agent", "name", "role", "worker"]
        counters = {
            name: CounterMetricFamily(f"sigmavault_agent_{name}", text, labels=labels) for name, text in _AGENT_COUNTERS
        }
        latency = CounterMetricFamily("sigmavault_agent_latency_seconds", "Handler time summed", labels=labels)
        status = GaugeMetricFamily(
            "sigmavault_agent_status", "1 for the agent's current status", labels=[*labels, "status"]
        )
        statuses = self.monitor.agent_statuses()
        for spec, row, now in zip(self.monitor.agents, self.monitor.table.agent_rows(), statuses, strict=True):
            values = [str(spec.id), spec.name, spec.role, str(spec.worker)]
            for name, family in counters.items():
                family.add_metric(values, row[name])
            latency.add_metric(values, row["latency_ns_sum"] / 1e9)
            status.add_metric([*values, now], 1)
        yield from counters.values()
        yield latency
        yield status

    def _workers(self) -> Iterator[Metric]:
        restarts = CounterMetricFamily("sigmavault_worker_restarts", "Worker restarts", labels=["worker"])
        tasks = CounterMetricFamily("sigmavault_worker_tasks", "Tasks run by the worker", labels=["worker"])
        busy = CounterMetricFamily("sigmavault_worker_busy_seconds", "Time in handlers", labels=["worker"])
        ready = GaugeMetricFamily("sigmavault_worker_ready", "1 when the worker is ready", labels=["worker"])
        rings = GaugeMetricFamily(
            "sigmavault_ring_occupancy", "Descriptors waiting in a ring", labels=["worker", "ring"]
        )
        for row, (sub, comp) in zip(self.monitor.table.worker_rows(), self.monitor.ring_occupancy(), strict=True):
            label = [str(row["id"])]
            restarts.add_metric(label, row["restarts"])
            tasks.add_metric(label, row["tasks"])
            busy.add_metric(label, row["busy_ns"] / 1e9)
            ready.add_metric(label, 1 if row["state"] == "ready" else 0)
            rings.add_metric([*label, "submission"], sub)
            rings.add_metric([*label, "completion"], comp)
        yield from (restarts, tasks, busy, ready, rings)

    def _admission(self) -> Iterator[Metric]:
        live = self.monitor.live()
        for name, text, value in (
            ("sigmavault_inflight_tasks", "Tasks on the workers, not yet answered", live["inflight"]),
            ("sigmavault_queued_tasks", "Tasks waiting for admission (the scheduler's queue)", live["queued"]),
            ("sigmavault_queue_limit", "Queue depth beyond which tasks are refused busy", live["queue_limit"]),
            ("sigmavault_max_inflight", "Tasks admitted at once at most", live["max_inflight"]),
            ("sigmavault_free_slots", "Data slots not leased", live["slots_free"]),
        ):
            gauge = GaugeMetricFamily(name, text)
            gauge.add_metric([], value)
            yield gauge
        rejected = CounterMetricFamily(
            "sigmavault_rejected_tasks", "Tasks refused by admission, by reason", labels=["reason"]
        )
        for reason in ("queue_full", "no_slot"):
            rejected.add_metric([reason], live["rejected"][reason])
        yield rejected
        admitted = CounterMetricFamily("sigmavault_admitted_tasks", "Tasks admitted by the scheduler")
        admitted.add_metric([], live["admitted"])
        yield admitted
        lost = CounterMetricFamily("sigmavault_worker_lost_tasks", "Tasks answered worker_lost (their worker died)")
        lost.add_metric([], live["workers_lost_tasks"])
        yield lost


class BackgroundCollector(Collector):
    """The restarts of the domains' background tasks (engine/background.py), read at scrape time."""

    def __init__(self, restarts: Callable[[], dict[str, int]]) -> None:
        self.restarts = restarts

    @staticmethod
    def _family() -> CounterMetricFamily:
        text = "Restarts of a background task after it failed, by task (<domain>.<task>)"
        return CounterMetricFamily("sigmavault_background_restarts", text, labels=["task"])

    def describe(self) -> Iterator[Metric]:
        yield self._family()  # registering reads no count (the owners may not be built yet)

    def collect(self) -> Iterator[Metric]:
        family = self._family()
        for task, count in sorted(self.restarts().items()):
            family.add_metric([task], count)
        yield family


class RequestMetrics:
    """Per-process registry (no global state) for request counts and latencies of both transports."""

    def __init__(
        self, monitor: EngineMonitor | None = None, background: Callable[[], dict[str, int]] | None = None
    ) -> None:
        """``background``: the background tasks' restarts by name (Runtime.background_restarts and the like)."""
        self.registry = CollectorRegistry(auto_describe=True)
        self.http_requests = Counter(
            "sigmavault_http_requests", "HTTP requests", ["method", "route", "status"], registry=self.registry
        )
        self.http_latency = Histogram(
            "sigmavault_http_request_seconds",
            "HTTP request latency",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.grpc_requests = Counter(
            "sigmavault_grpc_requests", "gRPC requests", ["method", "code"], registry=self.registry
        )
        self.grpc_latency = Histogram(
            "sigmavault_grpc_request_seconds",
            "gRPC request latency",
            ["method"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        # unauthenticated, permission_denied, cross_origin, client_limit, malformed_request (docs/SECURITY.md)
        self.refused = Counter(
            "sigmavault_refused_calls",
            "Calls refused before any handler ran, by reason",
            ["transport", "reason"],
            registry=self.registry,
        )
        # an unsafe HTTP call to no route (404/405): not an audit entry (a flood of them would push the
        # real ones out), counted here by status instead (frontends/http_api/audit.py)
        unrouted = "Unsafe HTTP calls that matched no route, by status"
        self.unrouted = Counter("sigmavault_unrouted_calls", unrouted, ["status"], registry=self.registry)
        if monitor is not None:
            self.registry.register(EngineCollector(monitor))
        if background is not None:
            self.registry.register(BackgroundCollector(background))

    def render(self) -> bytes:
        return generate_latest(self.registry)
