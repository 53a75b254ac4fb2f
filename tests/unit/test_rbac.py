"""The rbac stage: ServiceAccounts and the endpoint picker's least privilege."""

from __future__ import annotations

from support import DEPLOYMENT, base_config, by_component, model_service

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
