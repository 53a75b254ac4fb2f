"""Metrics and probes as an operator scrapes them: controller-runtime's names, the queue's
figures, and probes that answer 503 with a reason."""

from __future__ import annotations

import urllib.request

import pytest

from ms_controller.metrics import ERROR, SUCCESS, ControllerMetrics
from ms_controller.serving import Endpoints, metrics_route, parse_address, probe_route
from ms_controller.workqueue import WorkQueue


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.fixture()
def served():
    metrics = ControllerMetrics()
    state = {"ready": False}
    endpoints = Endpoints(
        "127.0.0.1:0",
        {
            "/metrics": metrics_route(metrics.registry),
            "/healthz": probe_route(lambda: (True, "")),
            "/readyz": probe_route(lambda: (state["ready"], "caches not synced: modelservices")),
        },
    )
    try:
        yield metrics, state, endpoints
    finally:
        endpoints.close()


def test_metrics_use_controller_runtime_names_and_count_the_queue(served):
    metrics, _, endpoints = served
    queue = WorkQueue(metrics=metrics.queue_listener())
    queue.add("ns/a")
    queue.add("ns/a")
    queue.add("ns/b")
    key = queue.get(timeout=1)
    queue.add_rate_limited(key)
    queue.done(key)
    metrics.reconciled(0.02, SUCCESS)
    metrics.reconciled(0.5, ERROR, terminal=True)
    metrics.update_unfinished({"ns/b": 0.0}, now=2.5)
    status, text = fetch(endpoints.url + "/metrics")
    assert status == 200
    for line in (
        'controller_runtime_reconcile_total{controller="modelservice",result="success"} 1.0',
        'controller_runtime_reconcile_errors_total{controller="modelservice"} 1.0',
        'controller_runtime_terminal_reconcile_errors_total{controller="modelservice"} 1.0',
        'controller_runtime_reconcile_time_seconds_count{controller="modelservice"} 2.0',
        'workqueue_adds_total{controller="modelservice",name="modelservice"} 2.0',
        'workqueue_retries_total{controller="modelservice",name="modelservice"} 1.0',
        'workqueue_depth{controller="modelservice",name="modelservice"} 1.0',
        'workqueue_longest_running_processor_seconds{controller="modelservice",name="modelservice"} 2.5',
    ):
        assert line in text, line
    assert "process_resident_memory_bytes" in text
    assert "_created" not in text


def test_probes_answer_503_with_the_reason_until_ready(served):
    _, state, endpoints = served
    assert fetch(endpoints.url + "/healthz") == (200, "ok\n")
    assert fetch(endpoints.url + "/readyz") == (503, "caches not synced: modelservices\n")
    state["ready"] = True
    assert fetch(endpoints.url + "/readyz") == (200, "ok\n")
    assert fetch(endpoints.url + "/nothing")[0] == 404


def test_a_probe_that_breaks_reports_failure_and_the_server_lives_on():
    def broken() -> tuple[bool, str]:
        raise RuntimeError("boom")

    endpoints = Endpoints("127.0.0.1:0", {"/healthz": probe_route(broken)})
    try:
        status, text = fetch(endpoints.url + "/healthz")
        assert status == 503 and "boom" in text
        assert fetch(endpoints.url + "/healthz")[0] == 503
    finally:
        endpoints.close()


def test_addresses_read_as_flags_write_them():
    assert parse_address(":8080") == ("0.0.0.0", 8080)
    assert parse_address("127.0.0.1:0") == ("127.0.0.1", 0)
    with pytest.raises(ValueError, match="HOST:PORT"):
        parse_address("8080x")
