"""/metrics: engine counters read from the shared table at scrape time, plus request counts and
latency histograms of both transports, in the Prometheus text format (prometheus-client)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from engine.client import EngineClient
from engine.status import WorkerState

LATENCY_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class EngineCollector(Collector):
    """Reads the shared metrics table on every scrape: no message to any worker."""

    def __init__(self, client: EngineClient) -> None:
        self.client = client

    def collect(self) -> Iterator[Metric]:
        table, specs = self.client.table, self.client.agents
        agent_labels = ["agent", "name", "role", "worker"]
        counters = {
            name: CounterMetricFamily(f"sigmavault_agent_{name}", help_text, labels=agent_labels)
            for name, help_text in (
                ("tasks", "Tasks run by the agent"),
                ("errors", "Tasks the agent answered with an error"),
                ("bytes_in", "Input bytes processed by the agent"),
                ("bytes_out", "Output bytes produced by the agent"),
            )
        }
        latency = CounterMetricFamily("sigmavault_agent_latency_seconds", "Handler time summed", labels=agent_labels)
        status = GaugeMetricFamily("sigmavault_agent_status", "1 for the agent's current status",
                                   labels=[*agent_labels, "status"])  # fmt: skip
        for spec, row in zip(specs, table.agent_rows(), strict=True):
            labels = [str(spec.id), spec.name, spec.role, str(spec.worker)]
            for name, family in counters.items():
                family.add_metric(labels, row[name])
            latency.add_metric(labels, row["latency_ns_sum"] / 1e9)
            status.add_metric([*labels, row["status"]], 1)
        yield from counters.values()
        yield latency
        yield status
        yield from self._worker_metrics()
        kinds = CounterMetricFamily("sigmavault_kind_tasks", "Tasks by kind", labels=["kind"])
        kind_bytes = CounterMetricFamily("sigmavault_kind_bytes_in", "Input bytes by kind", labels=["kind"])
        for kind, row in table.kind_totals().items():
            kinds.add_metric([kind], row["tasks"])
            kind_bytes.add_metric([kind], row["bytes_in"])
        yield kinds
        yield kind_bytes
        inflight = GaugeMetricFamily("sigmavault_inflight_tasks", "Tasks submitted and not yet answered")
        inflight.add_metric([], self.client.inflight)
        yield inflight

    def _worker_metrics(self) -> Iterator[Metric]:
        restarts = CounterMetricFamily("sigmavault_worker_restarts", "Worker restarts", labels=["worker"])
        tasks = CounterMetricFamily("sigmavault_worker_tasks", "Tasks run by the worker", labels=["worker"])
        busy = CounterMetricFamily("sigmavault_worker_busy_seconds", "Time in handlers", labels=["worker"])
        ready = GaugeMetricFamily("sigmavault_worker_ready", "1 when the worker is ready", labels=["worker"])
        for row in self.client.table.worker_rows():
            label = [str(row["id"])]
            restarts.add_metric(label, row["restarts"])
            tasks.add_metric(label, row["tasks"])
            busy.add_metric(label, row["busy_ns"] / 1e9)
            ready.add_metric(label, 1 if row["state"] == WorkerState.READY.name.lower() else 0)
        yield from (restarts, tasks, busy, ready)


class RequestMetrics:
    """Per-process registry (no global state) for request counts and latencies of both transports."""

    def __init__(self, client: EngineClient | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.http_requests = Counter("sigmavault_http_requests", "HTTP requests", ["method", "route", "status"],
                                     registry=self.registry)  # fmt: skip
        self.http_latency = Histogram("sigmavault_http_request_seconds", "HTTP request latency", ["route"],
                                      buckets=LATENCY_BUCKETS, registry=self.registry)  # fmt: skip
        self.grpc_requests = Counter("sigmavault_grpc_requests", "gRPC requests", ["method", "code"],
                                     registry=self.registry)  # fmt: skip
        self.grpc_latency = Histogram("sigmavault_grpc_request_seconds", "gRPC request latency", ["method"],
                                      buckets=LATENCY_BUCKETS, registry=self.registry)  # fmt: skip
        if client is not None:
            self.registry.register(EngineCollector(client))

    def render(self) -> bytes:
        return generate_latest(self.registry)
