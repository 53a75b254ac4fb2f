"""The controller manager against the local control plane: watches drive reconciles, a preset
edit rolls out, a missing BaseConfig un-sticks when created, deletion collects every child, and
/metrics and /readyz tell an operator what is going on."""

from __future__ import annotations

import copy
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from ms_controller.kube import KubeCluster
from ms_controller.manager import Manager, ManagerOptions

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "unit"))

from polling import fetch, metric, wait_for  # noqa: E402
from support import fresh_renderer, preset, sample  # noqa: E402

pytestmark = pytest.mark.integration
TEST_MANAGER = "modelservice-tests"


@pytest.fixture()
def manager(control_plane, crds, namespace) -> Iterator[Manager]:
    running = Manager(
        ManagerOptions(
            kubeconfig=str(control_plane.kubeconfig),
            namespaces=(namespace,),
            workers=2,
            metrics_addr="127.0.0.1:0",
            health_addr="127.0.0.1:0",
            resync=0,
            grace_period=5,
        ),
        renderer=fresh_renderer(),
    )
    codes: list[int] = []
    thread = threading.Thread(target=lambda: codes.append(running.run()), daemon=True)
    thread.start()
    try:
        yield running
    finally:
        running.stop()
        thread.join(timeout=30)
        assert not thread.is_alive(), "the manager did not stop"
        assert codes == [0]


def put(kube_api: client.ApiClient, namespace: str, body: dict[str, Any]) -> None:
    body = copy.deepcopy(body)
    body["metadata"]["namespace"] = namespace
    body.pop("immutable", None)
    KubeCluster(kube_api).apply(body, field_manager=TEST_MANAGER)


def condition(kube_api: client.ApiClient, namespace: str, name: str, type_: str) -> dict:
    found = client.CustomObjectsApi(kube_api).get_namespaced_custom_object(
        "llm-d.ai", "v1alpha1", namespace, "modelservices", name
    )
    return next(
        (c for c in (found.get("status") or {}).get("conditions") or [] if c["type"] == type_), {}
    )


def test_the_manager_keeps_a_model_service_reconciled(manager, kube_api, namespace):
    apps = client.AppsV1Api(kube_api)
    base_config = preset("sim")
    model_service = sample("sim")
    # The ModelService first: its BaseConfig does not exist yet.
    put(kube_api, namespace, model_service)
    wait_for(
        lambda: (
            condition(kube_api, namespace, "sim-pd", "Reconciled").get("reason")
            == "BaseConfigNotFound"
        ),
        "Reconciled=False BaseConfigNotFound",
    )
    # Creating the BaseConfig un-sticks it (the index from BaseConfig to its users).
    put(kube_api, namespace, base_config)
    wait_for(
        lambda: condition(kube_api, namespace, "sim-pd", "Ready").get("status") == "True",
        "Ready=True (pods running on KWOK nodes)",
        timeout=90,
    )
    assert apps.read_namespaced_deployment("sim-pd-decode", namespace).spec.replicas == 2

    # A preset edit rolls out to the Deployments without anyone touching the ModelService.
    edited = copy.deepcopy(base_config)
    edited["data"]["decodeDeployment"] = edited["data"]["decodeDeployment"].replace(
        "spec:\n", "spec:\n  minReadySeconds: 7\n", 1
    )
    assert edited != base_config
    put(kube_api, namespace, edited)
    wait_for(
        lambda: (
            apps.read_namespaced_deployment("sim-pd-decode", namespace).spec.min_ready_seconds == 7
        ),
        "the preset edit on the decode Deployment",
    )

    # A child deleted by hand comes back.
    client.CoreV1Api(kube_api).delete_namespaced_service("sim-pd-service-decode", namespace)
    wait_for(
        lambda: _exists(
            lambda: client.CoreV1Api(kube_api).read_namespaced_service(
                "sim-pd-service-decode", namespace
            )
        ),
        "the deleted Service to be recreated",
    )

    # What an operator sees.
    metrics_url = next(e.url for e in manager._endpoints if e.port)
    _, text = fetch(metrics_url + "/metrics")
    assert 'controller_runtime_reconcile_total{controller="modelservice",result="success"}' in text
    assert "workqueue_adds_total" in text and "rest_client_requests_total" in text
    assert 'modelservice_child_applies_total{kind="Deployment",result="created"}' in text
    assert 'modelservice_render_stage_seconds_count{stage="template"}' in text
    assert 'modelservice_render_stage_seconds_count{stage="apply"}' in text
    # Passes after a child changed reuse the last render; the preset edit rendered again.
    assert metric(text, 'modelservice_render_cache_lookups_total{result="hit"}') > 0
    assert metric(text, 'modelservice_render_cache_lookups_total{result="miss"}') >= 2
    wait_for(
        lambda: (
            'modelservice_modelservices{ready="True"} 1.0' in fetch(metrics_url + "/metrics")[1]
        ),
        "the Ready gauge",
    )
    assert fetch(manager._endpoints[-1].url + "/readyz") == (200, "ok\n")

    # Deleting the ModelService lets the garbage collector take every child.
    client.CustomObjectsApi(kube_api).delete_namespaced_custom_object(
        "llm-d.ai", "v1alpha1", namespace, "modelservices", "sim-pd"
    )
    wait_for(
        lambda: (
            not apps.list_namespaced_deployment(
                namespace, label_selector="app.kubernetes.io/part-of=sim-pd"
            ).items
        ),
        "the children to be collected",
    )


def _exists(read: Callable[[], Any]) -> bool:
    try:
        read()
        return True
    except ApiException as error:
        if error.status == 404:
            return False
        raise
