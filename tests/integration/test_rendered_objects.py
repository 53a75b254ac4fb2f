"""What msctl renders, against a real kube-apiserver: every object passes the server's own strict
validation (built-in OpenAPI, our CRDs with their CEL rules), and the pods really run."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client, dynamic
from kubernetes.client.rest import ApiException

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "unit"))

from support import fresh_renderer, renderer_call, sample, variants  # noqa: E402

pytestmark = pytest.mark.integration
MANAGER = "modelservice-tests"
CRD_FILES = [
    ROOT / "deploy/crds/llm-d.ai_modelservices.yaml",
    *sorted((ROOT / "deploy/crds/third-party").glob("*.yaml")),
]
CASES = variants()


def wait_for(check, what: str, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


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
