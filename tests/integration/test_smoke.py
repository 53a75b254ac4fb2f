"""Smoke tests: the session's API server behaves like a real cluster's."""

from __future__ import annotations

import queue
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

from ms_devcluster import GPU_PRODUCT_LABEL, GPU_RESOURCE, ControlPlane, K3sCluster

pytestmark = pytest.mark.integration

T = TypeVar("T")
KUBE_GOMOD = Path(__file__).resolve().parents[2] / "hack" / "controlplane" / "kube" / "go.mod"
FIELD_MANAGER = "modelservice-smoke"


def wait_for(what: str, get: Callable[[], T | None], timeout: float = 60.0) -> T:
    """Poll `get` until it returns something truthy; fail naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = get()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.2)


def deployment(
    name: str, *, replicas: int, image: str = "registry.invalid/smoke:1"
) -> dict[str, Any]:
    labels = {"app.kubernetes.io/name": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "nodeSelector": {"type": "kwok"},
                    "containers": [
                        {
                            "name": "server",
                            "image": image,
                            "resources": {"limits": {GPU_RESOURCE: "1"}},
                        }
                    ],
                },
            },
        },
    }


def test_version_is_the_built_release(
    control_plane: ControlPlane | K3sCluster, kube_api: client.ApiClient
) -> None:
    if isinstance(control_plane, K3sCluster):
        pytest.skip("K3s reports its own release")
    match = re.search(r"^\s*k8s\.io/kubernetes (v\S+)", KUBE_GOMOD.read_text(), re.M)
    assert match, f"no k8s.io/kubernetes requirement in {KUBE_GOMOD}"
    info = client.VersionApi(kube_api).get_code()
    assert info.git_version == match.group(1)
    assert (info.major, info.minor) == ("1", match.group(1).split(".")[1])
    assert control_plane.kubernetes_version == match.group(1)


def test_namespace_is_created_and_deleted(kube_api: client.ApiClient) -> None:
    core = client.CoreV1Api(kube_api)
    name = f"smoke-ns-{time.monotonic_ns() % 10**8}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    assert core.read_namespace(name).status.phase == "Active"
    core.delete_namespace(name)

    def gone() -> bool:
        try:
            core.read_namespace(name)
        except ApiException as exc:
            return exc.status == 404
        return False

    wait_for(f"namespace {name} to be finalized by the namespace controller", gone)


def test_crd_and_an_object_of_it(kube_api: client.ApiClient, namespace: str) -> None:
    group, plural = "smoke.modelservice.test", "widgets"
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": plural, "singular": "widget", "kind": "Widget"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "spec": {
                                    "type": "object",
                                    "required": ["size"],
                                    "properties": {"size": {"type": "integer", "minimum": 1}},
                                }
                            },
                        }
                    },
                }
            ],
        },
    }
    ext = client.ApiextensionsV1Api(kube_api)
    try:
        ext.delete_custom_resource_definition(crd["metadata"]["name"])
    except ApiException as exc:
        assert exc.status == 404
    wait_for("an old CRD to go", lambda: _absent(ext, crd["metadata"]["name"]))
    ext.create_custom_resource_definition(crd)
    try:
        wait_for("the CRD to be Established", lambda: _established(ext, crd["metadata"]["name"]))
        objs = client.CustomObjectsApi(kube_api)
        widget = {"apiVersion": f"{group}/v1", "kind": "Widget", "metadata": {"name": "w1"}}
        created = objs.create_namespaced_custom_object(
            group, "v1", namespace, plural, {**widget, "spec": {"size": 3}}
        )
        assert created["spec"] == {"size": 3}
        got = objs.get_namespaced_custom_object(group, "v1", namespace, plural, "w1")
        assert got["metadata"]["uid"] == created["metadata"]["uid"]
        with pytest.raises(ApiException) as refused:  # the schema is enforced
            objs.create_namespaced_custom_object(
                group, "v1", namespace, plural,
                {**widget, "metadata": {"name": "w2"}, "spec": {"size": 0}},
            )  # fmt: skip
        assert refused.value.status == 422
    finally:
        ext.delete_custom_resource_definition(crd["metadata"]["name"])


def _absent(ext: client.ApiextensionsV1Api, name: str) -> bool:
    try:
        ext.read_custom_resource_definition(name)
    except ApiException as exc:
        return exc.status == 404
    return False


def _established(ext: client.ApiextensionsV1Api, name: str) -> bool:
    conds = ext.read_custom_resource_definition(name).status.conditions or []
    return any(c.type == "Established" and c.status == "True" for c in conds)


def test_gpu_nodes_are_ready_and_advertise_gpus(
    local_plane: ControlPlane, kube_api: client.ApiClient
) -> None:
    nodes = client.CoreV1Api(kube_api).list_node(label_selector="type=kwok").items
    assert len(nodes) >= 1
    for node in nodes:
        assert node.status.capacity[GPU_RESOURCE] == "8"
        assert node.status.allocatable[GPU_RESOURCE] == "8"
        assert node.metadata.labels[GPU_PRODUCT_LABEL]
        ready = [c for c in node.status.conditions if c.type == "Ready"]
        assert ready and ready[0].status == "True"


def test_deployment_pods_turn_running_on_kwok_gpu_nodes(
    local_plane: ControlPlane, kube_api: client.ApiClient, namespace: str
) -> None:
    apps, core = client.AppsV1Api(kube_api), client.CoreV1Api(kube_api)
    apps.create_namespaced_deployment(namespace, deployment("decode", replicas=2))

    def running_pods() -> list[client.V1Pod]:
        pods = core.list_namespaced_pod(namespace, label_selector="app.kubernetes.io/name=decode")
        running = [p for p in pods.items if p.status.phase == "Running"]
        return running if len(running) == 2 else []

    pods = wait_for("2 Running pods of Deployment decode", running_pods)
    nodes = {n.metadata.name: n for n in core.list_node(label_selector="type=kwok").items}
    for pod in pods:
        assert pod.spec.node_name in nodes, pod.spec.node_name
        assert nodes[pod.spec.node_name].metadata.labels[GPU_PRODUCT_LABEL]
        assert pod.status.pod_ip
    wait_for(
        "Deployment decode to report 2 available replicas",
        lambda: (
            apps.read_namespaced_deployment_status("decode", namespace).status.available_replicas
            == 2
        ),
    )


def test_server_side_apply_twice_changes_nothing(
    kube_api: client.ApiClient, namespace: str
) -> None:
    apps = client.AppsV1Api(kube_api)

    def apply() -> client.V1Deployment:
        return apps.patch_namespaced_deployment(
            "prefill",
            namespace,
            deployment("prefill", replicas=1),
            field_manager=FIELD_MANAGER,
            force=True,
            _content_type="application/apply-patch+yaml",
        )

    def ours(obj: client.V1Deployment) -> client.V1ManagedFieldsEntry:
        [entry] = [
            m
            for m in obj.metadata.managed_fields
            if m.manager == FIELD_MANAGER and m.operation == "Apply"
        ]
        return entry

    first = apply()
    time.sleep(1.1)  # managedFields times have one-second resolution: a write would show
    second = apply()
    assert second.metadata.generation == first.metadata.generation == 1
    assert ours(second).time == ours(first).time
    assert ours(second).fields_v1 == ours(first).fields_v1
    assert second.spec == first.spec
    # Besides our apply, only controllers wrote, and only to the status subresource.
    others = [m for m in second.metadata.managed_fields if m.manager != FIELD_MANAGER]
    assert all(m.subresource == "status" for m in others), others


def test_a_watch_sees_the_change(kube_api: client.ApiClient, namespace: str) -> None:
    core = client.CoreV1Api(kube_api)
    core.create_namespaced_config_map(
        namespace,
        client.V1ConfigMap(metadata=client.V1ObjectMeta(name="settings"), data={"mode": "a"}),
    )
    start_rv = core.list_namespaced_config_map(namespace).metadata.resource_version
    events: queue.Queue[tuple[str, dict[str, str]] | BaseException] = queue.Queue()
    watcher = watch.Watch()

    def run() -> None:
        try:
            for event in watcher.stream(
                core.list_namespaced_config_map,
                namespace,
                resource_version=start_rv,
                timeout_seconds=30,
            ):
                obj = event["object"]
                if obj.metadata.name == "settings":
                    events.put((event["type"], obj.data or {}))
                    watcher.stop()  # ends the stream after this event
        except BaseException as exc:
            events.put(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    core.patch_namespaced_config_map("settings", namespace, {"data": {"mode": "b"}})
    seen = events.get(timeout=20)
    if isinstance(seen, BaseException):
        raise seen
    assert seen == ("MODIFIED", {"mode": "b"})
    thread.join(timeout=10)


def test_kubectl_works_with_the_written_kubeconfig(
    control_plane: ControlPlane | K3sCluster, namespace: str
) -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed")

    def run(*args: str, stdin: str | None = None) -> str:
        result = subprocess.run(
            [kubectl, "--kubeconfig", str(control_plane.kubeconfig), *args],
            input=stdin, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        return result.stdout

    assert run("get", "--raw", "/readyz").strip() == "ok"
    assert f"namespace/{namespace}" in run("get", "namespaces", "-o", "name").split()
    manifest = (
        "apiVersion: v1\nkind: ConfigMap\n"
        f"metadata:\n  name: from-kubectl\n  namespace: {namespace}\ndata:\n  k: v\n"
    )
    assert "serverside-applied" in run("apply", "--server-side", "-f", "-", stdin=manifest)
    assert run("get", "configmap", "from-kubectl", "-n", namespace, "-o",
               "jsonpath={.data.k}") == "v"  # fmt: skip
    assert run("auth", "can-i", "create", "deployments", "-A").strip() == "yes"
