"""What msctl renders, against a real kube-apiserver: every object passes the server's own strict
validation (built-in OpenAPI, our CRDs with their CEL rules), and the pods really run."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client, dynamic
from kubernetes.client.rest import ApiException

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "unit"))

from polling import wait_for  # noqa: E402
from support import fresh_renderer, renderer_call, sample, variants  # noqa: E402

pytestmark = pytest.mark.integration
MANAGER = "modelservice-tests"
CRD_FILES = [
    ROOT / "deploy/crds/llm-d.ai_modelservices.yaml",
    *sorted((ROOT / "deploy/crds/third-party").glob("*.yaml")),
]
CASES = variants()


@pytest.fixture(scope="module")
def api(kube_api: client.ApiClient) -> Iterator[dynamic.DynamicClient]:
    """A dynamic client, after every CRD we ship or test against is installed and Established."""
    extensions = client.ApiextensionsV1Api(kube_api)
    names = []
    for path in CRD_FILES:
        crd = yaml.safe_load(path.read_text())
        names.append(crd["metadata"]["name"])
        extensions.patch_custom_resource_definition(
            crd["metadata"]["name"],
            crd,
            field_manager=MANAGER,
            _content_type="application/apply-patch+yaml",
        )

    def established(name: str) -> bool:
        conditions = extensions.read_custom_resource_definition(name).status.conditions or []
        return any(c.type == "Established" and c.status == "True" for c in conditions)

    for name in names:
        wait_for(lambda name=name: established(name), f"CRD {name}")
    yield dynamic.DynamicClient(kube_api)


def apply(api: dynamic.DynamicClient, body: dict[str, Any], *, dry_run: bool) -> Any:
    resource = api.resources.get(api_version=body["apiVersion"], kind=body["kind"])
    return api.server_side_apply(
        resource,
        body=body,
        namespace=body["metadata"].get("namespace"),
        field_manager=MANAGER,
        dry_run="All" if dry_run else None,
        query_params=[("fieldValidation", "Strict")],
    )


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_api_server_accepts_every_rendered_object(api, namespace, case):
    model_service, base_config, options = CASES[case]
    model_service["metadata"]["namespace"] = namespace
    result = renderer_call(fresh_renderer())(model_service, base_config, **options)
    for desired in result.objects:
        try:
            apply(api, desired.body, dry_run=True)
        except ApiException as error:
            pytest.fail(f"{case}: {desired.key} refused: {error.status} {error.body}")


def test_model_service_samples_are_accepted_and_model_name_is_immutable(api, namespace):
    resource = api.resources.get(api_version="llm-d.ai/v1alpha1", kind="ModelService")
    document = sample("pd-nixl")
    document["metadata"]["namespace"] = namespace
    created = apply(api, document, dry_run=False)
    assert created.spec.routing.modelName == "meta-llama/Llama-3.1-8B-Instruct"
    document["spec"]["routing"]["modelName"] = "another/model"
    with pytest.raises(ApiException) as refused:
        apply(api, document, dry_run=False)
    assert refused.value.status == 422 and "routing.modelName is immutable" in refused.value.body
    document["spec"]["decode"]["replicas"] = -1
    document["spec"]["routing"]["modelName"] = "meta-llama/Llama-3.1-8B-Instruct"
    with pytest.raises(ApiException) as negative:
        apply(api, document, dry_run=False)
    assert negative.value.status == 422 and "spec.decode.replicas" in negative.value.body
    assert resource.kind == "ModelService"


def running_pods(kube_api: client.ApiClient, namespace: str, role: str) -> list[client.V1Pod]:
    pods = (
        client.CoreV1Api(kube_api)
        .list_namespaced_pod(namespace, label_selector=f"llm-d.ai/role={role}")
        .items
    )
    return [pod for pod in pods if pod.status.phase == "Running"]


def apply_rendered(api, kube_api, namespace, model_service, base_config) -> None:
    model_service["metadata"]["namespace"] = namespace
    for desired in renderer_call(fresh_renderer())(model_service, base_config).objects:
        apply(api, desired.body, dry_run=False)


def test_rendered_decode_pods_run_on_gpu_nodes(api, kube_api, namespace, local_plane):
    from support import preset

    apply_rendered(api, kube_api, namespace, sample("hf-decode"), preset("basic-gpu"))
    (pod,) = wait_for(lambda: running_pods(kube_api, namespace, "decode"), "a Running decode pod")
    assert pod.spec.service_account_name == "opt-125m-sa"
    assert pod.spec.node_name.startswith("kwok-gpu-")
    assert any(volume.name == "model-storage" and volume.empty_dir for volume in pod.spec.volumes)
    assert pod.spec.containers[0].resources.limits["nvidia.com/gpu"] == "1"


def test_accelerator_types_keep_pods_off_other_gpus(api, kube_api, namespace, local_plane):
    from support import preset

    wanted = sample("hf-decode")
    wanted["metadata"]["name"] = "on-h100"
    wanted["spec"]["decode"]["acceleratorTypes"] = {
        "labelKey": "nvidia.com/gpu.product",
        "labelValues": ["NVIDIA-H100-80GB-HBM3"],
    }
    apply_rendered(api, kube_api, namespace, wanted, preset("basic-gpu"))
    wait_for(lambda: running_pods(kube_api, namespace, "decode"), "a Running pod on an H100 node")

    elsewhere = sample("hf-decode")
    elsewhere["metadata"]["name"] = "on-a100"
    elsewhere["spec"]["routing"]["modelName"] = "other/model"
    elsewhere["spec"]["decode"]["acceleratorTypes"] = {
        "labelKey": "nvidia.com/gpu.product",
        "labelValues": ["NVIDIA-A100-SXM4-80GB"],
    }
    apply_rendered(api, kube_api, namespace, elsewhere, preset("basic-gpu"))
    core = client.CoreV1Api(kube_api)

    def unschedulable() -> bool:
        pods = core.list_namespaced_pod(
            namespace, label_selector="llm-d.ai/model=other-model"
        ).items
        return bool(pods) and all(
            any(
                c.type == "PodScheduled" and c.status == "False" and c.reason == "Unschedulable"
                for c in pod.status.conditions or []
            )
            for pod in pods
        )

    wait_for(unschedulable, "the A100-only pod to be Unschedulable")


def test_two_model_services_of_one_model_keep_their_pods_apart(
    api, kube_api, namespace, local_plane
):
    """Same modelName, one namespace: each Deployment and role Service has only its own pods; the
    pool of either selects the pods of both."""
    from support import preset

    core = client.CoreV1Api(kube_api)
    discovery = client.DiscoveryV1Api(kube_api)
    names = ("sim-a", "sim-b")
    rendered = {}
    for name in names:
        document = sample("sim")
        document["metadata"]["name"] = name
        document["metadata"]["namespace"] = namespace
        rendered[name] = {
            o.component: o.body
            for o in renderer_call(fresh_renderer())(document, preset("sim")).objects
        }
        for body in rendered[name].values():
            apply(api, body, dry_run=False)

    def all_running() -> list[client.V1Pod]:
        pods = core.list_namespaced_pod(
            namespace, label_selector="llm-d.ai/inferenceServing=true"
        ).items
        running = [p for p in pods if p.status.phase == "Running" and p.status.pod_ip]
        return running if len(running) == 6 else []  # 2 decode + 1 prefill, twice

    pods = wait_for(all_running, "6 Running serving pods")
    pods_of = {
        name: {p.metadata.name for p in pods if p.metadata.labels["llm-d.ai/modelservice"] == name}
        for name in names
    }
    ip_of = {p.metadata.name: p.status.pod_ip for p in pods}
    apps = client.AppsV1Api(kube_api)
    for name in names:
        for role, replicas in (("decode", 2), ("prefill", 1)):
            deployment = apps.read_namespaced_deployment(f"{name}-{role}", namespace)
            selector = ",".join(
                f"{k}={v}" for k, v in deployment.spec.selector.match_labels.items()
            )
            selected = {
                p.metadata.name
                for p in core.list_namespaced_pod(namespace, label_selector=selector).items
            }
            assert len(selected) == replicas and selected <= pods_of[name], (name, role, selected)

            service = f"{name}-service-{role}"

            def endpoint_ips(service=service, replicas=replicas) -> set[str]:
                slices = discovery.list_namespaced_endpoint_slice(
                    namespace, label_selector=f"kubernetes.io/service-name={service}"
                ).items
                ips = {a for s in slices for e in s.endpoints or [] for a in e.addresses}
                return ips if len(ips) == replicas else set()

            ips = wait_for(endpoint_ips, f"endpoints of {service}")
            assert ips <= {ip_of[p] for p in pods_of[name]}, (service, ips)
    for name in names:
        pool = rendered[name]["inferencePool"]["spec"]["selector"]["matchLabels"]
        assert all(pool.items() <= p.metadata.labels.items() for p in pods), name
