"""The routing stage: InferencePool (v1 and legacy), endpoint picker, objectives, HTTPRoute."""

from __future__ import annotations

import pytest
from support import (
    DEPLOYMENT,
    base_config,
    by_component,
    fresh_renderer,
    model_service,
    pod_spec,
    preset,
    renderer_call,
    sample,
)

from ms_engine import RenderContext, RenderError, hookimpl

COMMON = {"llm-d.ai/inferenceServing": "true", "llm-d.ai/model": "facebook-opt-125m"}
EPP = """\
spec:
  template:
    spec:
      containers:
      - name: epp
        image: epp:1
        args: ["--pool-name={{ InferencePoolName }}"]
"""
EPP_SERVICE = "spec:\n  ports:\n  - {name: grpc-ext-proc, port: 9100, appProtocol: kubernetes.io/h2c}\n  - {name: http-metrics, port: 9090}\n"
POOL_V1 = "apiVersion: inference.networking.k8s.io/v1\nkind: InferencePool\nspec:\n  targetPorts: [{number: 8000}]\n  appProtocol: http\n  endpointPickerRef: {failureMode: FailOpen}\n  selector: {matchLabels: {stale: label}}\n"
POOL_LEGACY = "apiVersion: inference.networking.x-k8s.io/v1alpha2\nkind: InferencePool\nspec:\n  targetPortNumber: 8000\n  extensionRef: {failureMode: FailClose}\n"


def routed(render, ms=None, **data):
    return by_component(
        render(ms or model_service(), base_config(decodeDeployment=DEPLOYMENT, **data))
    )


def test_v1_pool_selects_serving_pods_and_points_at_the_picker_service(render):
    objects = routed(render, eppDeployment=EPP, eppService=EPP_SERVICE, inferencePool=POOL_V1)
    pool = objects["inferencePool"]
    assert pool["metadata"]["name"] == "demo-inference-pool"
    assert pool["spec"]["selector"] == {"matchLabels": COMMON}
    assert pool["spec"]["endpointPickerRef"] == {
        "failureMode": "FailOpen",
        "name": "demo-epp-service",
        "port": {"number": 9100},
    }
    assert pool["spec"]["targetPorts"] == [{"number": 8000}]
    assert pool["spec"]["appProtocol"] == "http"


def test_v1_pool_uses_port_9002_when_the_service_does_not_say(render):
    objects = routed(render, eppDeployment=EPP, inferencePool=POOL_V1)
    assert objects["inferencePool"]["spec"]["endpointPickerRef"]["port"] == {"number": 9002}


def test_legacy_pool_gets_the_legacy_layout(render):
    objects = routed(render, eppDeployment=EPP, eppService=EPP_SERVICE, inferencePool=POOL_LEGACY)
    spec = objects["inferencePool"]["spec"]
    assert spec == {
        "targetPortNumber": 8000,
        "extensionRef": {"failureMode": "FailClose", "name": "demo-epp-service"},
        "selector": COMMON,
    }


def test_picker_deployment_and_service_are_labelled_and_bound_to_their_account(render):
    ms = model_service(
        endpointPicker={
            "replicas": 3,
            "containers": [{"name": "epp", "image": "epp:2", "args": ["-v=4"]}],
        }
    )
    objects = routed(render, ms, eppDeployment=EPP, eppService=EPP_SERVICE)
    deployment, service = objects["eppDeployment"], objects["eppService"]
    labels = {"llm-d.ai/epp": "demo-epp"}
    assert deployment["metadata"]["name"] == "demo-epp"
    assert deployment["spec"]["selector"] == {"matchLabels": labels}
    assert deployment["spec"]["template"]["metadata"]["labels"] == labels
    assert deployment["spec"]["replicas"] == 3
    assert pod_spec(deployment)["serviceAccountName"] == "demo-epp-sa"
    epp = pod_spec(deployment)["containers"][0]
    assert epp["image"] == "epp:2" and epp["args"] == ["-v=4", "--pool-name=demo-inference-pool"]
    assert (
        service["metadata"]["name"] == "demo-epp-service" and service["spec"]["selector"] == labels
    )


def test_decouple_scaling_does_not_touch_the_picker(render):
    ms = model_service(decoupleScaling=True, endpointPicker={"replicas": 2})
    assert routed(render, ms, eppDeployment=EPP)["eppDeployment"]["spec"]["replicas"] == 2


def test_picker_section_without_a_picker_in_the_base_config_is_ignored_with_a_warning(render):
    result = render(
        model_service(endpointPicker={"replicas": 2}), base_config(decodeDeployment=DEPLOYMENT)
    )
    assert "eppDeployment" not in by_component(result)
    assert any(str(w).startswith("spec.endpointPicker: ignored") for w in result.warnings)


def test_objective_points_at_the_pool_with_its_group(render):
    objects = routed(render, inferencePool=POOL_V1, inferenceObjective="spec: {priority: 10}\n")
    objective = objects["inferenceObjective"]
    assert (objective["apiVersion"], objective["metadata"]["name"]) == ("llm-d.ai/v1alpha2", "demo")
    assert objective["spec"] == {
        "priority": 10,
        "poolRef": {
            "group": "inference.networking.k8s.io",
            "kind": "InferencePool",
            "name": "demo-inference-pool",
        },
    }


def test_legacy_inference_model_gets_model_name_pool_and_labels(render):
    objects = routed(
        render, inferencePool=POOL_LEGACY, inferenceModel="spec: {criticality: Critical}\n"
    )
    model = objects["inferenceModel"]
    assert model["metadata"]["name"] == "demo"
    assert model["spec"] == {
        "criticality": "Critical",
        "modelName": "facebook/opt-125m",
        "poolRef": {"name": "demo-inference-pool"},
    }
    assert COMMON.items() <= model["metadata"]["labels"].items()


def test_route_from_gateway_refs_alone_gets_a_rule_to_the_pool(render):
    ms = model_service(
        routing={
            "modelName": "facebook/opt-125m",
            "ports": [{"name": "http", "port": 8000}],
            "gatewayRefs": [{"name": "gw", "namespace": "infra"}],
        }
    )
    route = routed(render, ms, inferencePool=POOL_V1)["httpRoute"]
    assert route["metadata"]["name"] == "demo-http-route"
    assert route["spec"]["parentRefs"] == [{"name": "gw", "namespace": "infra"}]
    assert route["spec"]["rules"] == [{
        "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
        "backendRefs": [{"group": "inference.networking.k8s.io", "kind": "InferencePool", "name": "demo-inference-pool"}],
    }]  # fmt: skip


def test_route_parent_refs_merge_by_name_with_the_model_service_winning(render):
    ms = model_service(
        routing={
            "modelName": "m",
            "ports": [{"name": "http", "port": 8000}],
            "gatewayRefs": [{"name": "gw", "sectionName": "https"}],
        }
    )
    template = "spec:\n  parentRefs:\n  - {name: gw, sectionName: http, namespace: infra}\n  - {name: other}\n  rules: [{backendRefs: [{kind: Service, name: s, port: 80}]}]\n"
    route = routed(render, ms, httpRoute=template)["httpRoute"]
    assert route["spec"]["parentRefs"] == [
        {"name": "gw", "sectionName": "https"},
        {"name": "other"},
    ]
    assert route["spec"]["rules"] == [
        {"backendRefs": [{"kind": "Service", "name": "s", "port": 80}]}
    ]


def test_config_maps_keep_their_names_in_the_model_service_namespace(render):
    template = "- metadata: {name: '{{ ModelServiceName }}-epp-config', namespace: elsewhere}\n  data: {a: b}\n- metadata: {name: shared}\n"
    objects = routed(render, configMaps=template)
    assert objects["configMaps/demo-epp-config"]["metadata"]["namespace"] == "team-a"
    assert objects["configMaps/shared"]["metadata"]["labels"]["app.kubernetes.io/part-of"] == "demo"


def test_a_config_map_without_a_name_is_refused(render):
    with pytest.raises(RenderError) as caught:
        routed(render, configMaps="- data: {a: b}\n")
    assert str(caught.value).startswith("configMaps[0]: metadata.name is required")


class ServiceRouter:
    """A toy scheduler integration: one Service in front of decode, nothing of GIE."""

    name = "toy"

    @hookimpl
    def ms_router(self, context: RenderContext):
        return self

    def build(self, context: RenderContext) -> None:
        for key in ("eppDeployment", "eppService", "inferencePool", "httpRoute", "configMaps"):
            context.documents.pop(key, None)
        context.objects.add(
            "toyRoute",
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {
                    "name": f"{context.names.model_service}-route",
                    "namespace": context.namespace,
                },
            },
        )


def test_hook_ms_router_another_router_replaces_the_endpoint_picker():
    render = renderer_call(fresh_renderer(("toy", ServiceRouter())))
    result = by_component(render(sample("pd-nixl"), preset("pd-nixl")))
    assert "toyRoute" in result
    assert not {"eppDeployment", "inferencePool", "httpRoute", "eppRole"} & set(result)
    assert "decodeDeployment" in result and "prefillDeployment" in result
