"""The controller's Prometheus metrics, under controller-runtime's names so dashboards built for
Go controllers work unchanged, plus ModelService's own (render time by stage, child applies,
ModelServices by Ready condition).

One `ControllerMetrics` per manager, on its own registry: no module-level state, so tests and
two managers in one process never share counters.
"""

from __future__ import annotations

import time

import prometheus_client
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)

CONTROLLER = "modelservice"
QUEUE = "modelservice"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
QUEUE_BUCKETS = (1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 0.01, 0.1, 1, 10, 100, 1000)

# Results, as controller-runtime labels them.
SUCCESS, ERROR, REQUEUE, REQUEUE_AFTER = "success", "error", "requeue", "requeue_after"


class ControllerMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        # The `_created` series double every counter's size and no dashboard reads them (a
        # process-wide switch in prometheus_client, hence here and not at import).
        prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]
        self.registry = registry or CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=self.registry)  # process_resident_memory_bytes and friends
        PlatformCollector(registry=self.registry)
        r = self.registry
        self.reconcile_total = Counter(
            "controller_runtime_reconcile_total",
            "Total number of reconciliations per controller",
            ["controller", "result"],
            registry=r,
        )
        self.reconcile_errors = Counter(
            "controller_runtime_reconcile_errors_total",
            "Total number of reconciliation errors per controller",
            ["controller"],
            registry=r,
        )
        self.terminal_errors = Counter(
            "controller_runtime_terminal_reconcile_errors_total",
            "Total number of terminal reconciliation errors per controller",
            ["controller"],
            registry=r,
        )
        self.reconcile_time = Histogram(
            "controller_runtime_reconcile_time_seconds",
            "Length of time per reconciliation per controller",
            ["controller"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.max_concurrent = Gauge(
            "controller_runtime_max_concurrent_reconciles",
            "Maximum number of concurrent reconciles per controller",
            ["controller"],
            registry=r,
        )
        self.active_workers = Gauge(
            "controller_runtime_active_workers",
            "Number of currently used workers per controller",
            ["controller"],
            registry=r,
        )
        labels = ["name", "controller"]
        self.queue_depth = Gauge(
            "workqueue_depth", "Current depth of workqueue", labels, registry=r
        )
        self.queue_adds = Counter(
            "workqueue_adds_total", "Total number of adds handled by workqueue", labels, registry=r
        )
        self.queue_duration = Histogram(
            "workqueue_queue_duration_seconds",
            "How long in seconds an item stays in workqueue before being requested",
            labels,
            buckets=QUEUE_BUCKETS,
            registry=r,
        )
        self.work_duration = Histogram(
            "workqueue_work_duration_seconds",
            "How long in seconds processing an item from workqueue takes",
            labels,
            buckets=QUEUE_BUCKETS,
            registry=r,
        )
        self.unfinished_work = Gauge(
            "workqueue_unfinished_work_seconds",
            "How many seconds of work has been done that is in progress",
            labels,
            registry=r,
        )
        self.longest_running = Gauge(
            "workqueue_longest_running_processor_seconds",
            "How many seconds has the longest running processor for workqueue been running",
            labels,
            registry=r,
        )
        self.queue_retries = Counter(
            "workqueue_retries_total",
            "Total number of retries handled by workqueue",
            labels,
            registry=r,
        )
        self.rest_requests = Counter(
            "rest_client_requests_total",
            "Number of HTTP requests, partitioned by status code, method, and host",
            ["code", "method", "host"],
            registry=r,
        )
        # ModelService's own.
        self.render_seconds = Histogram(
            "modelservice_render_stage_seconds",
            "Time spent in each render stage",
            ["stage"],
            buckets=(0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1),
            registry=r,
        )
        self.child_applies = Counter(
            "modelservice_child_applies_total",
            "Children applied, by kind and result (created, configured, unchanged, pruned, "
            "skipped, failed)",
            ["kind", "result"],
            registry=r,
        )
        self.render_cache = Counter(
            "modelservice_render_cache_lookups_total",
            "Reconciles by whether they reused the ModelService's last render (hit) or rendered",
            ["result"],
            registry=r,
        )
        self.model_services = Gauge(
            "modelservice_modelservices",
            "ModelServices by the status of their Ready condition",
            ["ready"],
            registry=r,
        )
        self.max_concurrent.labels(CONTROLLER).set(0)
        self.active_workers.labels(CONTROLLER).set(0)

    def queue_listener(self) -> QueueListener:
        return QueueListener(self)

    def reconciled(self, seconds: float, result: str, *, terminal: bool = False) -> None:
        self.reconcile_total.labels(CONTROLLER, result).inc()
        self.reconcile_time.labels(CONTROLLER).observe(seconds)
        if result == ERROR:
            self.reconcile_errors.labels(CONTROLLER).inc()
            if terminal:
                self.terminal_errors.labels(CONTROLLER).inc()

    def update_unfinished(self, started: dict[str, float], now: float | None = None) -> None:
        """Refresh the unfinished-work gauges from the queue's processing start times."""
        now = time.monotonic() if now is None else now
        running = [now - start for start in started.values()]
        self.unfinished_work.labels(QUEUE, CONTROLLER).set(sum(running))
        self.longest_running.labels(QUEUE, CONTROLLER).set(max(running, default=0.0))


class QueueListener:
    """`ms_controller.workqueue.QueueMetrics` on top of the Prometheus metrics."""

    def __init__(self, metrics: ControllerMetrics) -> None:
        self._depth = metrics.queue_depth.labels(QUEUE, CONTROLLER)
        self._adds = metrics.queue_adds.labels(QUEUE, CONTROLLER)
        self._waits = metrics.queue_duration.labels(QUEUE, CONTROLLER)
        self._work = metrics.work_duration.labels(QUEUE, CONTROLLER)
        self._retries = metrics.queue_retries.labels(QUEUE, CONTROLLER)

    def added(self) -> None:
        self._adds.inc()

    def depth(self, depth: int) -> None:
        self._depth.set(depth)

    def started(self, waited_seconds: float) -> None:
        self._waits.observe(waited_seconds)

    def finished(self, worked_seconds: float) -> None:
        self._work.observe(worked_seconds)

    def retried(self) -> None:
        self._retries.inc()
