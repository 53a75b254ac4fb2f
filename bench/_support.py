"""What bench/reconcile.py and bench/scale.py share: a local plane, CRDs, the sample objects, the
API server's own request counters, and the machine's load (printed next to every figure)."""

from __future__ import annotations

import copy
import os
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from prometheus_client.parser import text_string_to_metric_families

from ms_devcluster import ControlPlane

ROOT = Path(__file__).resolve().parents[1]
BENCH_MANAGER = "modelservice-bench"
WRITE_VERBS = ("POST", "PUT", "PATCH", "APPLY", "DELETE", "DELETECOLLECTION", "CREATE", "UPDATE")
CRD_FILES = [
    ROOT / "deploy/crds/llm-d.ai_modelservices.yaml",
    *sorted((ROOT / "deploy/crds/third-party").glob("*.yaml")),
]
OURS = {
    "modelservices",
    "configmaps",
    "serviceaccounts",
    "services",
    "deployments",
    "roles",
    "rolebindings",
    "inferencepools",
    "inferencemodels",
    "inferenceobjectives",
    "httproutes",
    "events",
}
"""Resources the controller writes. Writes by the plane's own components to these in a steady
state (the Deployment controller's `deployments/status`) are told apart by subresource."""


def load() -> str:
    """`uptime`'s load averages: the machine is shared, so every figure carries it."""
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def api_client(plane: ControlPlane, *, pool: int = 8) -> client.ApiClient:
    configuration = client.Configuration()
    config.load_kube_config(  # type: ignore[no-untyped-call]
        config_file=str(plane.kubeconfig), client_configuration=configuration
    )
    configuration.connection_pool_maxsize = pool
    return client.ApiClient(configuration)


def install_crds(api: client.ApiClient) -> None:
    extensions = client.ApiextensionsV1Api(api)
    for path in CRD_FILES:
        crd = yaml.safe_load(path.read_text())
        extensions.patch_custom_resource_definition(
            crd["metadata"]["name"],
            crd,
            field_manager=BENCH_MANAGER,
            _content_type="application/apply-patch+yaml",
        )
    for path in CRD_FILES:
        name = yaml.safe_load(path.read_text())["metadata"]["name"]
        deadline = time.monotonic() + 60
        while True:
            conditions = extensions.read_custom_resource_definition(name).status.conditions or []
            if any(c.type == "Established" and c.status == "True" for c in conditions):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"CRD {name} not Established in 60 s")
            time.sleep(0.2)


def create_namespace(api: client.ApiClient, name: str) -> None:
    core = client.CoreV1Api(api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    deadline = time.monotonic() + 60
    while True:  # pods are refused until the default ServiceAccount exists
        try:
            core.read_namespaced_service_account("default", name)
            return
        except ApiException as error:
            if error.status != 404 or time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def preset(namespace: str) -> dict[str, Any]:
    body = yaml.safe_load((ROOT / "deploy/presets/sim.yaml").read_text())
    body["metadata"]["namespace"] = namespace
    body.pop("immutable", None)
    return dict(body)


def model_service(namespace: str, name: str) -> dict[str, Any]:
    body = yaml.safe_load((ROOT / "samples/sim/modelservice.yaml").read_text())
    body = copy.deepcopy(body)
    body["metadata"] = {"name": name, "namespace": namespace}
    return dict(body)


def apiserver_requests(plane: ControlPlane) -> Counter[tuple[str, str, str, str]]:
    """`apiserver_request_total` from the API server's /metrics: (verb, resource, subresource,
    code) -> count. The truth about what reached the server, whoever sent it."""
    response = plane.admin_client().request("GET", "/metrics")
    if response.status != 200:
        raise RuntimeError(f"/metrics: HTTP {response.status}")
    counts: Counter[tuple[str, str, str, str]] = Counter()
    for family in text_string_to_metric_families(response.body.decode()):
        if family.name != "apiserver_request":
            continue
        for sample in family.samples:
            if not sample.name.endswith("_total"):
                continue
            labels = sample.labels
            key = (
                labels.get("verb", ""),
                labels.get("resource", ""),
                labels.get("subresource", ""),
                labels.get("code", ""),
            )
            counts[key] += int(sample.value)
    return counts


def controller_writes(delta: Counter[tuple[str, str, str, str]]) -> Counter[str]:
    """Writes by verb to what the controller writes (the Deployment controller's status
    updates of Deployments left out)."""
    writes: Counter[str] = Counter()
    for (verb, resource, subresource, _), count in delta.items():
        if verb not in WRITE_VERBS or resource not in OURS:
            continue
        if subresource == "status" and resource != "modelservices":
            continue
        writes[verb] += count
    return writes


def by_verb(delta: Counter[tuple[str, str, str, str]]) -> Counter[str]:
    verbs: Counter[str] = Counter()
    for (verb, *_), count in delta.items():
        verbs[verb] += count
    return verbs


def kubectl() -> str:
    found = subprocess.run(
        [str(ROOT / "hack/controlplane/build.sh"), "--print-kubectl"],
        capture_output=True,
        text=True,
        env={**os.environ, "GOTOOLCHAIN": "local"},
        check=True,
    )
    return found.stdout.strip()


def conditions(obj: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c.get("type"): c for c in (obj.get("status") or {}).get("conditions") or []}
