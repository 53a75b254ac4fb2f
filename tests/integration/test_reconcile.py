"""One reconcile against the real local control plane (envtest style: `reconcile` called directly).

The plane runs kube-controller-manager (garbage collector, Deployment controller), the scheduler
and KWOK's fake H100 nodes, so children really get collected, scheduled and become available.
"""

from __future__ import annotations

import copy
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from ms_controller.kube import KubeCluster
from ms_controller.reconcile import ReconcileResult, reconcile
from ms_controller.render_cache import RenderCache
from ms_engine import Renderer
from ms_engine.stages.apply import Action

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "unit"))

from crd_files import install_crd  # noqa: E402
from polling import wait_for  # noqa: E402
from support import fresh_renderer, preset, sample  # noqa: E402

pytestmark = pytest.mark.integration
TEST_MANAGER = "modelservice-tests"
POOL_CRD = "inferencepools.inference.networking.k8s.io"
WRITE_VERBS = {"POST", "PUT", "PATCH", "APPLY", "DELETE", "DELETECOLLECTION", "CREATE", "UPDATE"}
OUR_RESOURCES = {
    "deployments",
    "services",
    "serviceaccounts",
    "configmaps",
    "roles",
    "rolebindings",
    "inferencepools",
    "httproutes",
    "modelservices",
    "events",
}


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return fresh_renderer()


@pytest.fixture()
def kube(kube_api: client.ApiClient, crds: None) -> KubeCluster:
    return KubeCluster(kube_api)


class Env:
    """One namespace with a BaseConfig and a ModelService, and shortcuts to reconcile and read."""

    def __init__(self, kube: KubeCluster, renderer: Renderer, namespace: str) -> None:
        self.kube, self.renderer, self.namespace = kube, renderer, namespace
        self.name = ""

    def put(self, body: dict[str, Any]) -> dict[str, Any]:
        body = copy.deepcopy(body)
        body["metadata"]["namespace"] = self.namespace
        body["metadata"].pop("uid", None)
        return self.kube.apply(body, field_manager=TEST_MANAGER)

    def create(self, model_service: dict[str, Any], base_config: dict[str, Any]) -> dict[str, Any]:
        self.put_base_config(base_config)
        self.name = model_service["metadata"]["name"]
        return self.put(model_service)

    def put_base_config(self, base_config: dict[str, Any]) -> None:
        """Apply (by our test manager, so a key left out is removed); mutable, for the tests."""
        base_config = copy.deepcopy(base_config)
        base_config.pop("immutable", None)
        self.put(base_config)

    def reconcile(self) -> ReconcileResult:
        return reconcile(self.kube, self.namespace, self.name, renderer=self.renderer)

    def get(self, api_version: str, kind: str, name: str) -> dict[str, Any] | None:
        return self.kube.get(api_version, kind, self.namespace, name)

    def model_service(self) -> dict[str, Any]:
        found = self.get("llm-d.ai/v1alpha1", "ModelService", self.name)
        assert found is not None
        return found


@pytest.fixture()
def env(kube: KubeCluster, renderer: Renderer, namespace: str) -> Env:
    return Env(kube, renderer, namespace)


def actions(result: ReconcileResult) -> dict[str, str]:
    assert result.report is not None
    return {child.ref: child.action.value for child in result.report.children}


def sim() -> dict[str, Any]:
    return sample("sim")


def write_counts(kube_api: client.ApiClient) -> dict[tuple[str, str, str], float]:
    """The API server's own count of write requests, by verb, resource and subresource."""
    params = kube_api.param_serialize("GET", "/metrics", auth_settings=["BearerToken"])
    response = kube_api.call_api(*params)
    response.read()
    counts: dict[tuple[str, str, str], float] = {}
    for line in response.data.decode().splitlines():
        if not line.startswith("apiserver_request_total{"):
            continue
        labels_text, _, value = line.rpartition(" ")
        labels = dict(
            part.split("=", 1)
            for part in labels_text[len("apiserver_request_total{") : -1].split(",")
        )
        labels = {k: v.strip('"') for k, v in labels.items()}
        if labels.get("verb") in WRITE_VERBS and labels.get("resource") in OUR_RESOURCES:
            key = (labels["verb"], labels["resource"], labels.get("subresource", ""))
            counts[key] = counts.get(key, 0.0) + float(value)
    return counts


def wait_until_quiet(kube_api: client.ApiClient) -> None:
    """Earlier tests' namespaces finish terminating (their deletions would move the counters)."""

    def quiet() -> bool:
        namespaces = client.CoreV1Api(kube_api).list_namespace().items
        return not any(n.status.phase == "Terminating" for n in namespaces)

    wait_for(quiet, "terminating namespaces to go", 120)


def test_the_pd_sample_is_created_owned_and_a_second_reconcile_writes_nothing(
    env: Env, kube_api: client.ApiClient
):
    created = env.create(sim(), preset("sim"))
    first = env.reconcile()
    assert set(actions(first).values()) == {"created"}, actions(first)
    assert first.condition("Reconciled")["status"] == "True"
    uid = created["metadata"]["uid"]
    for child in first.report.children:
        live = env.get(child.api_version, child.kind, child.name)
        assert live is not None, child.ref
        (reference,) = live["metadata"]["ownerReferences"]
        assert reference["uid"] == uid
        assert reference["controller"] is True and reference["blockOwnerDeletion"] is True
        assert live["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "modelservice"
    status = env.model_service()["status"]
    assert status["observedGeneration"] == created["metadata"]["generation"]
    assert status["decodeDeploymentRef"] == "sim-pd-decode"
    assert "Deployment.apps" in status["appliedGroupKinds"]

    # Let the Deployment controller and the pods settle, so only our own writes could move the
    # counters; then a reconcile of the unchanged ModelService must send none.
    wait_for(lambda: env.reconcile().condition("Ready")["status"] == "True", "Ready", 90)
    wait_until_quiet(kube_api)
    before = write_counts(kube_api)
    second = env.reconcile()
    after = write_counts(kube_api)
    assert set(actions(second).values()) == {"unchanged"}, [
        c.describe() for c in second.report.children
    ]
    assert not second.status_written
    assert {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)} == {}


def test_removing_prefill_or_a_baseconfig_key_prunes_those_children(env: Env):
    env.create(sim(), preset("sim"))
    env.reconcile()
    no_prefill = sim()
    del no_prefill["spec"]["prefill"]
    env.put(no_prefill)
    pruned = env.reconcile()
    assert actions(pruned)["Deployment/sim-pd-prefill"] == "pruned"
    assert actions(pruned)["Service/sim-pd-service-prefill"] == "pruned"
    assert env.get("apps/v1", "Deployment", "sim-pd-prefill") is None
    assert env.get("apps/v1", "Deployment", "sim-pd-decode") is not None
    assert env.model_service()["status"].get("prefillDeploymentRef") is None

    without_config_maps = preset("sim")
    del without_config_maps["data"]["configMaps"]
    env.put_base_config(without_config_maps)
    second = env.reconcile()
    assert actions(second)["ConfigMap/sim-pd-epp-config"] == "pruned"
    assert env.get("v1", "ConfigMap", "sim-pd-epp-config") is None


def test_an_unowned_object_with_a_childs_name_is_untouched_and_reported(env: Env):
    theirs = env.put(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "sim-pd-epp-config"},
            "data": {"owner": "someone else"},
        }
    )
    env.create(sim(), preset("sim"))
    result = env.reconcile()
    assert actions(result)["ConfigMap/sim-pd-epp-config"] == "conflict"
    assert actions(result)["Deployment/sim-pd-decode"] == "created"
    reconciled = result.condition("Reconciled")
    assert reconciled["status"] == "False" and reconciled["reason"] == "ChildConflict"
    assert "ConfigMap/sim-pd-epp-config" in reconciled["message"]
    live = env.get("v1", "ConfigMap", "sim-pd-epp-config")
    assert live["data"] == {"owner": "someone else"}
    assert live["metadata"]["resourceVersion"] == theirs["metadata"]["resourceVersion"]


def test_a_child_deleted_by_hand_is_recreated_and_deleting_the_model_service_collects_all(
    env: Env, kube_api: client.ApiClient
):
    env.create(sim(), preset("sim"))
    first = env.reconcile()
    client.CoreV1Api(kube_api).delete_namespaced_service("sim-pd-service-decode", env.namespace)
    wait_for(lambda: env.get("v1", "Service", "sim-pd-service-decode") is None, "deletion")
    again = env.reconcile()
    assert actions(again)["Service/sim-pd-service-decode"] == "created"
    assert actions(again)["Deployment/sim-pd-decode"] == "unchanged"

    client.CustomObjectsApi(kube_api).delete_namespaced_custom_object(
        "llm-d.ai", "v1alpha1", env.namespace, "modelservices", env.name
    )
    for child in first.report.children:
        wait_for(
            lambda child=child: env.get(child.api_version, child.kind, child.name) is None,
            f"{child.ref} garbage-collected",
        )


@pytest.fixture()
def without_pool_crd(kube_api: client.ApiClient, crds: None) -> Iterator[None]:
    extensions = client.ApiextensionsV1Api(kube_api)
    extensions.delete_custom_resource_definition(POOL_CRD)

    def gone() -> bool:
        try:
            extensions.read_custom_resource_definition(POOL_CRD)
        except ApiException as error:
            return error.status == 404
        return False

    wait_for(gone, "the InferencePool CRD to go")
    try:
        yield
    finally:
        install_crd(
            extensions,
            ROOT / "deploy/crds/third-party/inference.networking.k8s.io_inferencepools.yaml",
        )


def test_a_missing_crd_skips_its_kind_then_applies_it_once_installed(
    env: Env, kube_api: client.ApiClient, without_pool_crd: None
):
    env.create(sim(), preset("sim"))
    first = env.reconcile()
    assert actions(first)["InferencePool/sim-pd-inference-pool"] == "skipped"
    assert actions(first)["Deployment/sim-pd-decode"] == "created"
    reconciled = first.condition("Reconciled")
    assert reconciled["reason"] == "MissingCRD"
    assert "InferencePool.inference.networking.k8s.io" in reconciled["message"]
    install_crd(
        client.ApiextensionsV1Api(kube_api),
        ROOT / "deploy/crds/third-party/inference.networking.k8s.io_inferencepools.yaml",
    )
    second = env.reconcile()
    assert actions(second)["InferencePool/sim-pd-inference-pool"] == "created"
    assert second.condition("Reconciled")["status"] == "True"


def scale(kube_api: client.ApiClient, namespace: str, name: str, replicas: int) -> None:
    client.AppsV1Api(kube_api).patch_namespaced_deployment_scale(
        name, namespace, {"spec": {"replicas": replicas}}
    )


def replicas(env: Env, name: str) -> int:
    live = env.get("apps/v1", "Deployment", name)
    assert live is not None
    return int(live["spec"]["replicas"])


def test_decoupled_scaling_keeps_a_scale_written_by_others(env: Env, kube_api: client.ApiClient):
    document = sim()
    document["spec"]["decoupleScaling"] = True
    env.create(document, preset("sim"))
    env.reconcile()
    assert replicas(env, "sim-pd-decode") == 2
    scale(kube_api, env.namespace, "sim-pd-decode", 4)
    second = env.reconcile()
    assert actions(second)["Deployment/sim-pd-decode"] == "unchanged"
    assert replicas(env, "sim-pd-decode") == 4
    changed = copy.deepcopy(document)
    changed["spec"]["decode"]["containers"] = [{"name": "vllm", "args": ["--max-num-seqs=8"]}]
    env.put(changed)
    third = env.reconcile()
    assert actions(third)["Deployment/sim-pd-decode"] == "configured"
    assert replicas(env, "sim-pd-decode") == 4
    scale(kube_api, env.namespace, "sim-pd-decode", 1)
    env.reconcile()
    assert replicas(env, "sim-pd-decode") == 1


def test_coupled_scaling_corrects_drift_and_honours_zero(env: Env, kube_api: client.ApiClient):
    document = sim()
    document["spec"]["prefill"]["replicas"] = 0
    env.create(document, preset("sim"))
    env.reconcile()
    assert replicas(env, "sim-pd-prefill") == 0
    scale(kube_api, env.namespace, "sim-pd-decode", 5)
    result = env.reconcile()
    assert actions(result)["Deployment/sim-pd-decode"] == "configured"
    assert replicas(env, "sim-pd-decode") == 2
    assert replicas(env, "sim-pd-prefill") == 0


def test_an_a100_only_model_service_on_h100_nodes_is_not_ready_unschedulable(
    env: Env, local_plane: Any
):
    document = sample("hf-decode")
    document["spec"]["decode"]["acceleratorTypes"] = {
        "labelKey": "nvidia.com/gpu.product",
        "labelValues": ["NVIDIA-A100-SXM4-80GB"],
    }
    env.create(document, preset("basic-gpu"))
    env.reconcile()

    def unschedulable() -> dict[str, Any] | None:
        ready = env.reconcile().condition("Ready")
        return ready if ready["reason"] == "Unschedulable" else None

    ready = wait_for(unschedulable, "Ready=False Unschedulable", 60)
    assert ready["status"] == "False"
    assert "node affinity" in ready["message"] or "didn't match" in ready["message"]
    status = env.model_service()["status"]
    assert status["decodeReady"] == "0/1"


def test_a_broken_baseconfig_is_reported_once_and_not_retried(env: Env, kube_api: client.ApiClient):
    broken = preset("sim")
    broken["data"]["decodeService"] = "apiVersion: v1\nkind: Service\nspec: {{ NoSuchVariable }}\n"
    env.create(sim(), broken)
    first = env.reconcile()
    reconciled = first.condition("Reconciled")
    assert reconciled["status"] == "False" and reconciled["reason"] == "TemplateError"
    assert "NoSuchVariable" in reconciled["message"] and "decodeService" in reconciled["message"]
    assert first.terminal and not first.retry
    assert env.model_service()["status"]["conditions"][0]["reason"] == "TemplateError"
    wait_until_quiet(kube_api)
    before = write_counts(kube_api)
    second = env.reconcile()
    assert second.terminal and not second.status_written
    assert write_counts(kube_api) == before


def test_a_missing_baseconfig_is_reported(env: Env):
    document = sim()
    document["spec"]["baseConfigMapRef"] = {"name": "no-such-preset"}
    env.name = document["metadata"]["name"]
    env.put(document)
    result = env.reconcile()
    reconciled = result.condition("Reconciled")
    assert (
        reconciled["reason"] == "BaseConfigNotFound" and "no-such-preset" in reconciled["message"]
    )
    assert result.terminal


def events_about(kube_api: client.ApiClient, namespace: str, name: str) -> list[dict[str, Any]]:
    response = client.EventsV1Api(kube_api).list_namespaced_event(namespace, _preload_content=False)
    found = json.loads(response.data)["items"]
    return [e for e in found if (e.get("regarding") or {}).get("name") == name]


def test_events_say_what_changed_and_a_repeated_failure_is_one_series(
    env: Env, kube_api: client.ApiClient
):
    refused = preset("sim")  # the API server refuses the Service (strict field validation)
    refused["data"]["decodeService"] = refused["data"]["decodeService"].replace(
        "spec:", "spec:\n  notAServiceField: 1", 1
    )
    env.create(sim(), refused)
    first = env.reconcile()
    assert actions(first)["Service/sim-pd-service-decode"] == "failed"
    assert first.terminal and not first.retry, [
        (c.describe(), c.transient) for c in first.report.children if c.action.value == "failed"
    ]
    reconciled = first.condition("Reconciled")
    assert reconciled["reason"] == "ApplyFailed" and "notAServiceField" in reconciled["message"]
    env.reconcile()
    events = events_about(kube_api, env.namespace, env.name)
    (created,) = [e for e in events if e["reason"] == "Created"]  # one for the whole pass
    assert "Deployment/sim-pd-decode" in created["note"]
    assert "ServiceAccount/sim-pd-sa" in created["note"]
    assert "sim-pd-service-decode" not in created["note"]  # refused, so not created
    (failed,) = [e for e in events if e["reason"] == "ApplyFailed"]
    assert failed["type"] == "Warning" and failed["related"]["name"] == "sim-pd-service-decode"
    assert failed["series"]["count"] == 2


def test_msctl_reconcile_dry_run_writes_nothing_then_reconciles(
    env: Env, control_plane: Any, kube_api: client.ApiClient
):
    from click.testing import CliRunner

    from ms_cli.main import main

    env.create(sim(), preset("sim"))
    args = [
        "reconcile",
        env.name,
        "-n",
        env.namespace,
        "--kubeconfig",
        str(control_plane.kubeconfig),
    ]
    dry = CliRunner().invoke(main, [*args, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Deployment/sim-pd-decode created" in dry.output and "dry run" in dry.output
    assert env.get("apps/v1", "Deployment", "sim-pd-decode") is None
    assert "status" not in env.model_service()
    real = CliRunner().invoke(main, args)
    assert real.exit_code == 0, real.output
    assert "Deployment/sim-pd-decode created" in real.output
    assert "Reconciled=True Applied" in real.output
    again = CliRunner().invoke(main, args)
    assert "Deployment/sim-pd-decode unchanged" in again.output
    missing = CliRunner().invoke(main, ["reconcile", "nope", *args[2:]])
    assert missing.exit_code == 1 and "not found" in missing.output


def test_msctl_diff_shows_what_a_reconcile_would_change(
    env: Env, control_plane: Any, tmp_path: Path
):
    from click.testing import CliRunner

    from ms_cli.main import main

    env.create(sim(), preset("sim"))
    where = ["-n", env.namespace, "--kubeconfig", str(control_plane.kubeconfig)]
    before = CliRunner().invoke(main, ["diff", env.name, *where])
    assert before.exit_code == 1, before.output
    assert "+++ desired/Deployment/sim-pd-decode" in before.output
    assert "--- /dev/null" in before.output
    assert env.get("apps/v1", "Deployment", "sim-pd-decode") is None  # a dry run only

    env.reconcile()
    settled = CliRunner().invoke(main, ["diff", env.name, *where])
    assert (settled.exit_code, settled.output) == (0, "")

    changed = sim()
    changed["spec"]["decode"]["replicas"] = 3
    path = tmp_path / "ms.yaml"
    path.write_text(yaml.safe_dump(changed))
    from_file = CliRunner().invoke(main, ["diff", "-f", str(path), *where])
    assert from_file.exit_code == 1, from_file.output
    assert "--- live/Deployment/sim-pd-decode" in from_file.output
    assert "-  replicas: 2\n" in from_file.output and "+  replicas: 3\n" in from_file.output
    assert "sim-pd-prefill" not in from_file.output

    missing = CliRunner().invoke(main, ["diff", "nope", *where])
    assert missing.exit_code == 2 and "not found" in missing.output


def test_the_pd_nixl_sample_reconciles_and_drift_on_our_fields_is_corrected(
    env: Env, kube_api: client.ApiClient
):
    env.create(sample("pd-nixl"), preset("pd-nixl"))
    first = env.reconcile()
    assert first.condition("Reconciled")["status"] == "True", first.condition("Reconciled")
    assert {"Deployment/llama-8b-pd-decode", "Deployment/llama-8b-pd-prefill"} <= set(
        actions(first)
    )
    (config_map,) = [c for c in first.report.children if c.kind == "ConfigMap"]
    original = env.get("v1", "ConfigMap", config_map.name)["data"]
    client.CoreV1Api(kube_api).patch_namespaced_config_map(  # someone edits a field we own
        config_map.name, env.namespace, {"data": {next(iter(original)): "edited"}}
    )
    second = env.reconcile()
    assert actions(second)[f"ConfigMap/{config_map.name}"] == "configured"
    assert env.get("v1", "ConfigMap", config_map.name)["data"] == original
    assert set(actions(second).values()) == {"unchanged", "configured"}


def test_changing_the_pools_api_version_prunes_the_old_pool(env: Env):
    from support import variants

    _, legacy, _ = variants()["pd-legacy-pool"]
    env.create(sample("pd-nixl"), preset("pd-nixl"))
    first = env.reconcile()
    assert actions(first)["InferencePool/llama-8b-pd-inference-pool"] == "created"
    env.put_base_config(legacy)
    second = env.reconcile()
    pools = [c for c in second.report.children if c.kind == "InferencePool"]
    assert {(c.api_version, c.action.value) for c in pools} == {
        ("inference.networking.x-k8s.io/v1alpha2", "created"),
        ("inference.networking.k8s.io/v1", "pruned"),
    }
    assert (
        env.get("inference.networking.k8s.io/v1", "InferencePool", "llama-8b-pd-inference-pool")
        is None
    )
    status = env.model_service()["status"]
    assert "InferencePool.inference.networking.x-k8s.io" in status["appliedGroupKinds"]
    assert "InferencePool.inference.networking.k8s.io" not in status["appliedGroupKinds"]


def test_a_status_with_someone_elses_fields_does_not_make_every_reconcile_write(
    env: Env, kube_api: client.ApiClient
):
    env.create(sim(), preset("sim"))
    client.CustomObjectsApi(kube_api).patch_namespaced_custom_object_status(
        "llm-d.ai",
        "v1alpha1",
        env.namespace,
        "modelservices",
        env.name,
        {
            "status": {
                "conditions": [
                    {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable",
                     "message": "as the original mirrored it", "lastTransitionTime": "2025-01-01T00:00:00Z"}
                ]
            }
        },
        _content_type="application/merge-patch+json",
    )  # fmt: skip
    env.reconcile()
    wait_for(lambda: not env.reconcile().status_written, "a reconcile that writes no status", 60)
    types = {c["type"] for c in env.model_service()["status"]["conditions"]}
    assert types == {"Available", "Reconciled", "Ready"}


def test_strict_turns_wiring_warnings_into_a_failed_reconcile_that_applies_nothing(env: Env):
    broken = preset("sim")
    broken["data"]["inferencePool"] = broken["data"]["inferencePool"].replace(
        '{{ getPort("http") }}', "7000"
    )  # the pool's target port is on no pod: a wiring warning
    assert broken != preset("sim")
    env.create(sim(), broken)
    strict = reconcile(env.kube, env.namespace, env.name, renderer=env.renderer, strict=True)
    reconciled = strict.condition("Reconciled")
    assert reconciled["status"] == "False" and reconciled["reason"] == "WiringProblem"
    assert "7000" in reconciled["message"] and strict.terminal
    assert env.get("apps/v1", "Deployment", "sim-pd-decode") is None  # nothing applied
    relaxed = env.reconcile()
    assert relaxed.condition("Reconciled")["status"] == "True"
    assert any("7000" in warning for warning in relaxed.warnings)


def test_a_deployment_the_original_created_keeps_its_selector_and_is_taken_over(env: Env):
    """The original selected without llm-d.ai/modelservice; a selector cannot change, so ours
    keeps the one the Deployment has, rather than failing every reconcile with 422."""
    created = env.create(sim(), preset("sim"))
    ours = {o.component: o.body for o in env.renderer.render(created, preset("sim")).objects}
    old = copy.deepcopy(ours["decodeDeployment"])
    original = {"llm-d.ai/inferenceServing": "true", "llm-d.ai/model": "random-sim-model",
                "llm-d.ai/role": "decode"}  # fmt: skip
    old["spec"]["selector"] = {"matchLabels": original}
    old["spec"]["template"]["metadata"]["labels"] = dict(original)
    env.kube.apply(old, field_manager="llm-d-modelservice")  # as the original's manager wrote it
    result = env.reconcile()
    assert result.condition("Reconciled")["status"] == "True", result.conditions
    decode = next(c for c in result.report.children if c.component == "decodeDeployment")
    assert decode.action.value == "configured" and "kept the selector" in decode.message
    live = env.get("apps/v1", "Deployment", "sim-pd-decode")
    assert live["spec"]["selector"] == {"matchLabels": original}
    assert live["spec"]["template"]["metadata"]["labels"]["llm-d.ai/modelservice"] == "sim-pd"
    second = env.reconcile()  # and it settles: nothing to write next time
    assert {c.component: c.action for c in second.report.children}["decodeDeployment"] == (
        Action.UNCHANGED
    )


class CountingPodLists(KubeCluster):
    def __init__(self, api: client.ApiClient) -> None:
        super().__init__(api)
        self.pod_lists = 0

    def list_pods(self, namespace: str, labels: Any) -> list[dict[str, Any]]:
        self.pod_lists += 1
        return super().list_pods(namespace, labels)


def test_a_new_model_service_lists_no_pods(
    env: Env, kube_api: client.ApiClient, renderer: Renderer
):
    """A Deployment created by this pass has no pod to explain its state: the first pass lists
    none (at 1000 ModelServices those lists were 3000 requests). Pods are read once they exist:
    the Unschedulable test above needs them."""
    env.create(sim(), preset("sim"))
    counting = CountingPodLists(kube_api)
    first = reconcile(counting, env.namespace, env.name, renderer=renderer)
    assert first.condition("Ready")["status"] == "False"
    assert counting.pod_lists == 0


def test_a_cached_render_is_reused_only_while_its_inputs_are_unchanged(
    env: Env, kube_api: client.ApiClient
):
    """The manager's render cache: a pass whose ModelService (metadata, spec) and BaseConfig are
    unchanged applies the last render again without rendering; any change to either renders."""
    cache = RenderCache()
    stages_run: list[str] = []

    def counted(name: str, step: Any) -> None:
        stages_run.append(name)
        step()

    def reconcile_counting() -> tuple[ReconcileResult, bool]:
        stages_run.clear()
        result = reconcile(
            env.kube, env.namespace, env.name, renderer=env.renderer, around=counted, cache=cache
        )
        assert "apply" in stages_run  # every pass applies
        return result, "template" in stages_run

    env.create(sim(), preset("sim"))
    first, rendered = reconcile_counting()
    assert rendered and set(actions(first).values()) == {"created"}
    # The first pass wrote the status (a new resourceVersion): still the same render inputs.
    second, rendered = reconcile_counting()
    assert not rendered and set(actions(second).values()) == {"unchanged"}

    # A child deleted by hand comes back from the cached render.
    client.CoreV1Api(kube_api).delete_namespaced_service("sim-pd-service-decode", env.namespace)
    wait_for(lambda: env.get("v1", "Service", "sim-pd-service-decode") is None, "deletion")
    again, rendered = reconcile_counting()
    assert not rendered and actions(again)["Service/sim-pd-service-decode"] == "created"

    # Templates may read labels, which change no generation: it renders again.
    labelled = sim()
    labelled["metadata"]["labels"] = {"team": "search"}
    env.put(labelled)
    _, rendered = reconcile_counting()
    assert rendered

    # A BaseConfig edit renders again and reaches the Deployment.
    edited = preset("sim")
    edited["data"]["decodeDeployment"] = edited["data"]["decodeDeployment"].replace(
        "spec:\n", "spec:\n  minReadySeconds: 9\n", 1
    )
    env.put_base_config(edited)
    configured, rendered = reconcile_counting()
    assert rendered and actions(configured)["Deployment/sim-pd-decode"] == "configured"
    decode = env.get("apps/v1", "Deployment", "sim-pd-decode")
    assert decode is not None and decode["spec"]["minReadySeconds"] == 9
    _, rendered = reconcile_counting()
    assert not rendered

    # A spec change renders again: prefill removed, its children pruned.
    no_prefill = sim()
    no_prefill["metadata"]["labels"] = {"team": "search"}
    del no_prefill["spec"]["prefill"]
    env.put(no_prefill)
    pruned, rendered = reconcile_counting()
    assert rendered and actions(pruned)["Deployment/sim-pd-prefill"] == "pruned"
