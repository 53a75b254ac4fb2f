"""The routing stage and the bundled gie router: InferencePool (v1 and legacy, the version rule),
endpoint picker, objectives, HTTPRoute; and the router contract (choice, ownership)."""

from __future__ import annotations

import pytest
from support import (
    BUNDLED,
    DEPLOYMENT,
    base_config,
    by_component,
    docs_example,
    fresh_renderer,
    model_service,
    pod_spec,
    preset,
    renderer_call,
    sample,
    variants,
)

from ms_engine import PluginError, RenderContext, Renderer, RenderError, hookimpl
from ms_engine.plugins import make_plugin_manager
from ms_plugins import gie

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
    """A toy scheduler integration: one ConfigMap, nothing of GIE, no ownership stamped by hand."""

    name = "toy"
    overrides = ("gie-endpoint-picker",)

    @hookimpl
    def ms_router(self, context: RenderContext):
        return self

    def build(self, context: RenderContext) -> None:
        for key in ("eppDeployment", "eppService", "inferencePool", "httpRoute", "configMaps"):
            context.documents.pop(key, None)
        context.objects.add(
            "toyRoute",
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "toy-route"}},
        )


def test_hook_ms_router_another_router_replaces_the_endpoint_picker():
    render = renderer_call(fresh_renderer(("toy", ServiceRouter())))
    result = by_component(render(sample("pd-nixl"), preset("pd-nixl")))
    assert "toyRoute" in result
    assert not {"eppDeployment", "inferencePool", "httpRoute", "eppRole"} & set(result)
    assert "decodeDeployment" in result and "prefillDeployment" in result


class NotOverriding(ServiceRouter):
    overrides = ()


@pytest.mark.parametrize("order", [1, -1], ids=["gie-first", "toy-first"])
def test_two_routers_without_an_override_is_an_error_naming_both_in_either_order(order):
    plugins = [(name, plugin) for name, plugin in BUNDLED if name != "gie"]
    routers = [("gie", gie), ("toy", NotOverriding())][::order]
    renderer = Renderer(make_plugin_manager(load_entry_points=False, plugins=[*plugins, *routers]))
    with pytest.raises(PluginError) as caught:
        renderer_call(renderer)(sample("pd-nixl"), preset("pd-nixl"))
    assert str(caught.value).startswith(
        "routers 'gie-endpoint-picker' (plugin 'gie') and 'toy' (plugin 'toy') all answer ms_router"
    )


@pytest.mark.parametrize("order", [1, -1], ids=["gie-first", "toy-first"])
def test_the_overriding_router_wins_in_either_order(order):
    plugins = [(name, plugin) for name, plugin in BUNDLED if name != "gie"]
    routers = [("gie", gie), ("toy", ServiceRouter())][::order]
    renderer = Renderer(make_plugin_manager(load_entry_points=False, plugins=[*plugins, *routers]))
    result = by_component(renderer_call(renderer)(sample("pd-nixl"), preset("pd-nixl")))
    assert "toyRoute" in result and "inferencePool" not in result


def test_a_routers_objects_get_namespace_ownership_labels_and_owner_reference():
    ms = model_service()
    ms["metadata"]["uid"] = "0c7e6b0e-0000-4000-8000-000000000001"
    result = by_component(
        renderer_call(fresh_renderer(("toy", ServiceRouter())))(ms, base_config())
    )
    metadata = result["toyRoute"]["metadata"]
    assert metadata["namespace"] == "team-a"
    assert metadata["labels"] == {
        "app.kubernetes.io/managed-by": "modelservice",
        "app.kubernetes.io/part-of": "demo",
    }
    assert metadata["ownerReferences"] == [
        {
            "apiVersion": "llm-d.ai/v1alpha1",
            "kind": "ModelService",
            "name": "demo",
            "uid": "0c7e6b0e-0000-4000-8000-000000000001",
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]


def test_the_docs_example_router_installed_as_a_package_owns_its_objects(install_plugin):
    install_plugin("plain-service", "service_router", docs_example("# service_router/__init__.py"))
    ms = sample("pd-nixl")
    ms["metadata"]["uid"] = "0c7e6b0e-0000-4000-8000-000000000002"
    result = Renderer(make_plugin_manager()).render(ms, preset("pd-nixl"))
    routed_objects = by_component(result)
    assert not {"eppDeployment", "inferencePool", "httpRoute", "eppRole"} & set(routed_objects)
    service = routed_objects["plainService"]
    assert service["metadata"]["namespace"] == ms["metadata"]["namespace"]
    assert service["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "modelservice"
    assert service["metadata"]["ownerReferences"][0]["uid"] == ms["metadata"]["uid"]
    decode_labels = routed_objects["decodeDeployment"]["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= decode_labels.items()


def test_a_router_object_without_a_name_is_refused_naming_the_plugin():
    class Nameless(ServiceRouter):
        def build(self, context):
            context.objects.add("x", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}})

    with pytest.raises(PluginError, match="plugin 'nameless': routing object 'x' has no name"):
        renderer_call(fresh_renderer(("nameless", Nameless())))(model_service(), base_config())


# -- the InferencePool version rule ----------------------------------------------------------------

NO_VERSION_LEGACY_FIELDS = "kind: InferencePool\nspec:\n  targetPortNumber: 8000\n  extensionRef: {failureMode: FailClose, portNumber: 9100}\n"
PICKER_WITH_GROUP = """\
spec:
  template:
    spec:
      containers:
      - name: epp
        image: epp:1
        args: ["--pool-name={{ InferencePoolName }}", "--pool-group=inference.networking.k8s.io"]
      - name: other
        image: epp:1
        args: ["--pool-group", "inference.networking.k8s.io"]
"""
ROUTE_TO_POOL = "spec:\n  rules:\n  - backendRefs:\n    - {group: inference.networking.x-k8s.io, kind: InferencePool, name: '{{ InferencePoolName }}'}\n"


def test_a_pool_without_api_version_is_v1_and_its_legacy_fields_are_translated(render):
    pool = routed(render, eppDeployment=EPP, inferencePool=NO_VERSION_LEGACY_FIELDS)[
        "inferencePool"
    ]
    assert pool["apiVersion"] == "inference.networking.k8s.io/v1"
    assert pool["spec"] == {
        "targetPorts": [{"number": 8000}],
        "endpointPickerRef": {
            "failureMode": "FailClose",
            "port": {"number": 9002},
            "name": "demo-epp-service",
        },
        "selector": {"matchLabels": COMMON},
    }


def test_a_pool_with_both_spellings_of_a_field_is_refused(render):
    both = "spec:\n  targetPortNumber: 8000\n  targetPorts: [{number: 8000}]\n"
    with pytest.raises(RenderError) as caught:
        routed(render, inferencePool=both)
    assert str(caught.value).startswith(
        "inferencePool: spec.targetPortNumber (legacy) and spec.targetPorts (v1) are both given"
    )


def test_v1_fields_in_a_legacy_pool_are_refused_naming_the_field(render):
    mixed = "apiVersion: inference.networking.x-k8s.io/v1alpha2\nkind: InferencePool\nspec:\n  targetPorts: [{number: 8000}]\n"
    with pytest.raises(RenderError) as caught:
        routed(render, inferencePool=mixed)
    assert str(caught.value).startswith(
        "inferencePool: spec.targetPorts is an inference.networking.k8s.io/v1 field"
    )


@pytest.mark.parametrize(
    ("pool", "group"),
    [
        (POOL_V1, "inference.networking.k8s.io"),
        (NO_VERSION_LEGACY_FIELDS, "inference.networking.k8s.io"),
        (POOL_LEGACY, "inference.networking.x-k8s.io"),
    ],
    ids=["v1", "no-version", "legacy"],
)
def test_every_reference_uses_the_group_of_the_pool_rendered(render, pool, group):
    objects = routed(
        render,
        eppDeployment=PICKER_WITH_GROUP,
        inferencePool=pool,
        inferenceObjective="spec: {priority: 1}\n",
        httpRoute=ROUTE_TO_POOL,
    )
    assert objects["inferencePool"]["apiVersion"].startswith(group + "/")
    assert objects["inferenceObjective"]["spec"]["poolRef"]["group"] == group
    assert objects["httpRoute"]["spec"]["rules"][0]["backendRefs"][0]["group"] == group
    epp, other = pod_spec(objects["eppDeployment"])["containers"]
    assert epp["args"] == ["--pool-name=demo-inference-pool", f"--pool-group={group}"]
    assert other["args"] == ["--pool-group", group]
    pool_rule = objects["eppRole"]["rules"][1]
    assert (pool_rule["resources"], pool_rule["apiGroups"]) == (["inferencepools"], [group])


def test_a_legacy_inference_model_next_to_a_v1_pool_is_refused(render):
    with pytest.raises(RenderError) as caught:
        routed(render, inferencePool=POOL_V1, inferenceModel="spec: {criticality: Critical}\n")
    assert str(caught.value).startswith(
        "inferenceModel: the legacy InferenceModel can only serve a "
        "inference.networking.x-k8s.io/v1alpha2 InferencePool"
    )


def test_a_router_that_raises_or_returns_the_wrong_type_is_named():
    class Raising(ServiceRouter):
        def build(self, context):
            raise ValueError("no scheduler config")

    class WrongType(ServiceRouter):
        def build(self, context):
            return {"pool": "x"}

    with pytest.raises(PluginError) as raised:
        renderer_call(fresh_renderer(("sched", Raising())))(model_service(), base_config())
    assert (
        str(raised.value) == "plugin 'sched' (router 'toy'): raised ValueError: no scheduler config"
    )
    with pytest.raises(PluginError) as wrong:
        renderer_call(fresh_renderer(("sched", WrongType())))(model_service(), base_config())
    assert str(wrong.value) == (
        "plugin 'sched' (router 'toy'): build returned dict, expected RouterResult or None"
    )


def test_hook_ms_router_answering_something_that_is_no_router_is_named():
    class NotARouter:
        @hookimpl
        def ms_router(self, context):
            return "gie"

    with pytest.raises(PluginError) as caught:
        renderer_call(fresh_renderer(("odd", NotARouter())))(model_service(), base_config())
    assert str(caught.value) == (
        "plugin 'odd' (hook ms_router): returned str, expected a Router (name and build)"
    )


def test_the_legacy_variant_of_the_pd_preset_points_its_picker_at_the_legacy_group(render):
    _, legacy_preset, _ = variants()["pd-legacy-pool"]
    objects = by_component(render(sample("pd-nixl"), legacy_preset))
    args = [a for c in pod_spec(objects["eppDeployment"])["containers"] for a in c["args"]]
    assert "--pool-group=inference.networking.x-k8s.io" in args


def test_routing_keys_the_chosen_router_leaves_alone_are_warned_about():
    render = renderer_call(fresh_renderer(("toy", ServiceRouter())))
    result = render(model_service(), base_config(inferenceObjective="spec: {priority: 1}\n"))
    assert [str(w) for w in result.warnings] == [
        "inferenceObjective: ignored: the router 'toy' does not build it"
    ]
