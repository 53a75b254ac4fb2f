"""The rbac stage: ServiceAccounts and the endpoint picker's least privilege."""

from __future__ import annotations

import pytest
from support import (
    DEPLOYMENT,
    base_config,
    by_component,
    fresh_renderer,
    model_service,
    renderer_call,
)

from ms_engine import Picker, PluginError, RouterResult, hookimpl

READ = ["get", "list", "watch"]
EPP = "spec:\n  template:\n    spec:\n      containers: [{name: epp, image: epp:1}]\n"
POOL_V1 = "apiVersion: inference.networking.k8s.io/v1\nkind: InferencePool\nspec: {targetPorts: [{number: 8000}]}\n"
POOL_LEGACY = "apiVersion: inference.networking.x-k8s.io/v1alpha2\nkind: InferencePool\nspec: {targetPortNumber: 8000}\n"


def objects(render, ms=None, options=None, **data):
    return by_component(
        render(
            ms or model_service(),
            base_config(decodeDeployment=DEPLOYMENT, **data),
            **(options or {}),
        )
    )


def test_pod_service_account_with_pull_secrets(render):
    sa = objects(render, options={"pd_pull_secrets": ("a", "b")})["pdServiceAccount"]
    assert sa["metadata"]["name"] == "demo-sa"
    assert sa["imagePullSecrets"] == [{"name": "a"}, {"name": "b"}]


def test_no_service_account_without_pods(render):
    ms = model_service()
    del ms["spec"]["decode"]
    assert by_component(render(ms, base_config())) == {}


def test_picker_gets_account_role_and_binding_reading_exactly_what_it_needs(render):
    result = objects(
        render, options={"epp_pull_secrets": ("x",)}, eppDeployment=EPP, inferencePool=POOL_V1
    )
    assert result["eppServiceAccount"]["metadata"]["name"] == "demo-epp-sa"
    assert result["eppServiceAccount"]["imagePullSecrets"] == [{"name": "x"}]
    role = result["eppRole"]
    assert role["metadata"]["name"] == "demo-epp"
    assert role["rules"] == [
        {"apiGroups": [""], "resources": ["pods"], "verbs": READ},
        {
            "apiGroups": ["inference.networking.k8s.io"],
            "resources": ["inferencepools"],
            "verbs": READ,
        },
        {
            "apiGroups": ["llm-d.ai", "inference.networking.x-k8s.io"],
            "resources": ["inferenceobjectives", "inferencemodelrewrites"],
            "verbs": READ,
        },
    ]
    binding = result["eppRoleBinding"]
    assert binding["metadata"]["name"] == "demo-epp-rolebinding"
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": "demo-epp",
    }
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "demo-epp-sa", "namespace": "team-a"}
    ]


def test_legacy_pool_reads_legacy_pools_and_inference_models(render):
    rules = objects(render, eppDeployment=EPP, inferencePool=POOL_LEGACY)["eppRole"]["rules"]
    assert {
        "apiGroups": ["inference.networking.x-k8s.io"],
        "resources": ["inferencepools"],
        "verbs": READ,
    } in rules
    assert {
        "apiGroups": ["inference.networking.x-k8s.io"],
        "resources": ["inferencemodels"],
        "verbs": READ,
    } in rules


def test_leader_election_rules_only_with_more_than_one_replica(render):
    one = objects(render, eppDeployment=EPP, inferencePool=POOL_V1)["eppRole"]["rules"]
    assert not any("leases" in rule["resources"] for rule in one)
    several = objects(
        render,
        model_service(endpointPicker={"replicas": 2}),
        eppDeployment=EPP,
        inferencePool=POOL_V1,
    )["eppRole"]["rules"]
    resources = [resource for rule in several for resource in rule["resources"]]
    assert "leases" in resources and "events" in resources


def test_cluster_role_option_binds_to_it_and_makes_no_role(render):
    result = objects(render, options={"epp_cluster_role": "epp-reader"}, eppDeployment=EPP)
    assert "eppRole" not in result
    assert result["eppRoleBinding"]["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": "epp-reader",
    }


def test_nothing_cluster_scoped_is_made(render):
    result = objects(
        render,
        model_service(endpointPicker={"replicas": 3}),
        eppDeployment=EPP,
        inferencePool=POOL_V1,
    )
    assert not [body for body in result.values() if body["kind"].startswith("Cluster")]


class OwnPicker:
    """A third-party router running its own picker under its own account and rules."""

    name = "own-picker"
    overrides = ("gie-endpoint-picker",)

    def __init__(self, declare: bool):
        self.declare = declare

    @hookimpl
    def ms_router(self, context):
        return self

    def build(self, context):
        deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "sched"}}
        context.objects.add("eppDeployment", deployment)  # a component name means nothing to rbac
        if not self.declare:
            return RouterResult()
        rules = ({"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]},)
        return RouterResult(picker=Picker("eppDeployment", "sched-account", rules))


def test_rbac_follows_what_the_router_declares():
    render = renderer_call(fresh_renderer(("own", OwnPicker(declare=True))))
    result = by_component(render(model_service(), base_config(decodeDeployment=DEPLOYMENT)))
    assert result["eppServiceAccount"]["metadata"]["name"] == "sched-account"
    assert result["eppRole"]["rules"] == [
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]}
    ]
    assert result["eppRoleBinding"]["subjects"][0]["name"] == "sched-account"


def test_rbac_makes_nothing_for_a_router_that_declares_no_picker():
    render = renderer_call(fresh_renderer(("own", OwnPicker(declare=False))))
    result = by_component(render(model_service(), base_config(decodeDeployment=DEPLOYMENT)))
    assert "eppDeployment" in result
    assert not {"eppServiceAccount", "eppRole", "eppRoleBinding"} & set(result)


def test_a_router_declaring_a_picker_it_did_not_add_is_refused():
    class Liar(OwnPicker):
        def build(self, context):
            return RouterResult(picker=Picker("nowhere", "sa"))

    render = renderer_call(fresh_renderer(("liar", Liar(declare=True))))
    with pytest.raises(PluginError, match="declares nowhere, which it did not add"):
        render(model_service(), base_config(decodeDeployment=DEPLOYMENT))
