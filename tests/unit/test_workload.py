"""The workload stage: which roles exist, names, labels, replicas, accelerators, ownership."""

from __future__ import annotations

import pytest
from support import DEPLOYMENT, base_config, by_component, container, model_service, pod_spec

from ms_engine import RenderError

SERVICE = "spec:\n  ports:\n  - port: {{ getPort('http') }}\n"
PD = base_config(
    decodeDeployment=DEPLOYMENT,
    prefillDeployment=DEPLOYMENT,
    decodeService=SERVICE,
    prefillService=SERVICE,
)
POD_LABELS = {"llm-d.ai/inferenceServing": "true", "llm-d.ai/model": "facebook-opt-125m"}


def components(result) -> set[str]:
    return {desired.component for desired in result.objects}


def test_decode_only_from_the_base_config_without_a_decode_section(render):
    ms = model_service()
    del ms["spec"]["decode"]
    assert components(render(ms, PD)) == {"decodeDeployment", "decodeService", "pdServiceAccount"}


def test_prefill_exists_only_when_the_model_service_asks(render):
    assert "prefillDeployment" not in components(render(model_service(), PD))
    result = render(model_service(prefill={"replicas": 2}), PD)
    assert {"prefillDeployment", "prefillService"} <= components(result)


def test_a_service_exists_only_with_its_deployment(render):
    ms = model_service()
    del ms["spec"]["decode"]
    result = render(ms, base_config(decodeService=SERVICE))
    assert components(result) == set()


def test_a_section_without_base_config_or_containers_is_an_error(render):
    with pytest.raises(RenderError) as caught:
        render(model_service(prefill={"replicas": 1}), base_config(decodeDeployment=DEPLOYMENT))
    assert str(caught.value).startswith("spec.prefill: the BaseConfig has no prefillDeployment")


def test_a_model_service_alone_makes_a_working_deployment(render):
    ms = model_service(
        decode={
            "containers": [
                {"name": "vllm", "image": "vllm/vllm-openai:v0.11.0", "mountModelVolume": True}
            ]
        }
    )
    deployment = by_component(render(ms))["decodeDeployment"]
    assert container(deployment, "vllm")["image"] == "vllm/vllm-openai:v0.11.0"


def test_names_labels_selectors_and_service_account(render):
    result = by_component(render(model_service(prefill={"replicas": 1}), PD))
    decode, prefill = result["decodeDeployment"], result["prefillDeployment"]
    assert (
        decode["metadata"]["name"] == "demo-decode"
        and prefill["metadata"]["name"] == "demo-prefill"
    )
    assert decode["metadata"]["namespace"] == "team-a"
    own = {**POD_LABELS, "llm-d.ai/role": "decode", "llm-d.ai/modelservice": "demo"}
    assert decode["spec"]["selector"] == {"matchLabels": own}
    assert decode["spec"]["template"]["metadata"]["labels"] == own
    assert prefill["spec"]["template"]["metadata"]["labels"]["llm-d.ai/role"] == "prefill"
    assert decode["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "modelservice"
    assert decode["metadata"]["labels"]["app.kubernetes.io/part-of"] == "demo"
    assert pod_spec(decode)["serviceAccountName"] == "demo-sa"
    service = result["decodeService"]
    assert service["metadata"]["name"] == "demo-service-decode"
    assert service["spec"]["selector"] == own
    assert result["prefillService"]["metadata"]["name"] == "demo-service-prefill"


def test_base_config_pod_labels_are_kept_beside_ours(render):
    template = DEPLOYMENT.replace(
        "  template:\n",
        "  template:\n    metadata:\n      labels: {team: a, llm-d.ai/role: wrong}\n",
    )
    deployment = by_component(render(model_service(), base_config(decodeDeployment=template)))[
        "decodeDeployment"
    ]
    assert deployment["spec"]["template"]["metadata"]["labels"] == {
        "team": "a",
        **POD_LABELS,
        "llm-d.ai/role": "decode",
        "llm-d.ai/modelservice": "demo",
    }


def test_two_model_services_of_one_model_select_only_their_own_pods(render):
    first = by_component(render(model_service(prefill={"replicas": 1}), PD))
    other = model_service(prefill={"replicas": 1})
    other["metadata"]["name"] = "other"
    second = by_component(render(other, PD))
    for key in ("decodeDeployment", "prefillDeployment"):
        mine = first[key]["spec"]["selector"]["matchLabels"].items()
        theirs = second[key]["spec"]["template"]["metadata"]["labels"].items()
        assert not mine <= theirs, f"{key} of one selects the other's pods"
    for key in ("decodeService", "prefillService"):
        selector = first[key]["spec"]["selector"].items()
        assert (
            not selector
            <= second["decodeDeployment"]["spec"]["template"]["metadata"]["labels"].items()
        )
        assert (
            not selector
            <= second["prefillDeployment"]["spec"]["template"]["metadata"]["labels"].items()
        )


def test_a_base_config_deployment_selector_is_kept_and_united_with_ours(render):
    template = DEPLOYMENT.replace(
        "spec:\n  template:\n",
        "spec:\n  selector:\n    matchLabels: {app: llama}\n  template:\n",
    )
    deployment = by_component(render(model_service(), base_config(decodeDeployment=template)))[
        "decodeDeployment"
    ]
    own = {**POD_LABELS, "llm-d.ai/role": "decode", "llm-d.ai/modelservice": "demo"}
    assert deployment["spec"]["selector"] == {"matchLabels": {"app": "llama", **own}}
    assert deployment["spec"]["template"]["metadata"]["labels"] == {"app": "llama", **own}


def test_a_base_config_service_selector_is_kept_and_a_mismatch_is_a_warning(render):
    service = "spec:\n  selector: {app.kubernetes.io/name: elsewhere}\n  ports: [{port: 8000}]\n"
    result = render(
        model_service(), base_config(decodeDeployment=DEPLOYMENT, decodeService=service)
    )
    selector = by_component(result)["decodeService"]["spec"]["selector"]
    assert selector["app.kubernetes.io/name"] == "elsewhere"
    assert selector["llm-d.ai/modelservice"] == "demo"
    assert [str(w) for w in result.warnings] == [
        "Service/demo-service-decode: spec.selector matches none of this ModelService's pods "
        "(they lack app.kubernetes.io/name=elsewhere), so the Service has no endpoints"
    ]


@pytest.mark.parametrize(
    ("ms_replicas", "bc_replicas", "expected"),
    [(3, 5, 3), (0, 5, 0), (None, 5, 5), (None, None, 1), (0, None, 0)],
)
def test_replicas_come_from_the_model_service_then_the_base_config_then_one(
    render, ms_replicas, bc_replicas, expected
):
    template = (
        DEPLOYMENT
        if bc_replicas is None
        else DEPLOYMENT.replace(
            "spec:\n  template:", f"spec:\n  replicas: {bc_replicas}\n  template:"
        )
    )
    decode = {"containers": [{"name": "vllm"}]}
    if ms_replicas is not None:
        decode["replicas"] = ms_replicas
    deployment = by_component(
        render(model_service(decode=decode), base_config(decodeDeployment=template))
    )["decodeDeployment"]
    assert deployment["spec"]["replicas"] == expected


ACCELERATORS = {"labelKey": "nvidia.com/gpu.product", "labelValues": ["H100", "A100"]}
EXPRESSION = {"key": "nvidia.com/gpu.product", "operator": "In", "values": ["H100", "A100"]}


def test_accelerator_types_become_the_only_term_when_there_is_none(render):
    ms = model_service(decode={"containers": [{"name": "vllm"}], "acceleratorTypes": ACCELERATORS})
    affinity = pod_spec(
        by_component(render(ms, base_config(decodeDeployment=DEPLOYMENT)))["decodeDeployment"]
    )["affinity"]
    assert affinity["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] == {
        "nodeSelectorTerms": [{"matchExpressions": [EXPRESSION]}]
    }


def test_accelerator_types_are_anded_into_every_existing_term(render):
    zone = {"key": "zone", "operator": "In", "values": ["a"]}
    arch = {"key": "arch", "operator": "In", "values": ["amd64"]}
    template = DEPLOYMENT.replace(
        "      containers:",
        "      affinity:\n        nodeAffinity:\n          requiredDuringSchedulingIgnoredDuringExecution:\n"
        "            nodeSelectorTerms:\n"
        "            - matchExpressions: [{key: zone, operator: In, values: [a]}]\n"
        "            - matchExpressions: [{key: arch, operator: In, values: [amd64]}]\n"
        "      containers:",
    )
    ms = model_service(decode={"containers": [{"name": "vllm"}], "acceleratorTypes": ACCELERATORS})
    affinity = pod_spec(
        by_component(render(ms, base_config(decodeDeployment=template)))["decodeDeployment"]
    )["affinity"]
    terms = affinity["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"
    ]
    assert terms == [
        {"matchExpressions": [zone, EXPRESSION]},
        {"matchExpressions": [arch, EXPRESSION]},
    ]


def test_model_service_container_fields_override_the_base_config(render):
    ms = model_service(decode={"containers": [{
        "name": "vllm",
        "image": "custom:1",
        "args": ["--enforce-eager"],
        "env": [{"name": "A", "value": "1"}],
        "resources": {"limits": {"nvidia.com/gpu": 2}},
    }]})  # fmt: skip
    vllm = container(
        by_component(render(ms, base_config(decodeDeployment=DEPLOYMENT)))["decodeDeployment"],
        "vllm",
    )
    assert vllm["image"] == "custom:1"
    assert vllm["args"] == ["--enforce-eager", "--port", "8000"]
    assert {"name": "A", "value": "1"} in vllm["env"]
    assert vllm["resources"] == {"limits": {"nvidia.com/gpu": 2}}


def test_owner_references_are_rendered_when_the_model_service_has_a_uid(render):
    ms = model_service()
    assert all("ownerReferences" not in d.body["metadata"] for d in render(ms, PD).objects)
    ms["metadata"]["uid"] = "1234"
    for desired in render(ms, PD).objects:
        assert desired.body["metadata"]["ownerReferences"] == [{
            "apiVersion": "llm-d.ai/v1alpha1", "kind": "ModelService", "name": "demo",
            "uid": "1234", "controller": True, "blockOwnerDeletion": True,
        }]  # fmt: skip


def test_namespace_option_overrides_the_model_services(render):
    result = render(model_service(), PD, namespace="other")
    assert {d.body["metadata"]["namespace"] for d in result.objects} == {"other"}


def test_long_names_are_shortened_with_a_stable_hash(render):
    ms = model_service()
    ms["metadata"]["name"] = "a" * 70
    names = {d.body["metadata"]["name"] for d in render(ms, PD).objects}
    assert all(len(name) <= 63 for name in names)
    assert len(names) == 3  # decode, its Service and the ServiceAccount stay distinct
    again = {d.body["metadata"]["name"] for d in render(ms, PD).objects}
    assert names == again


def test_a_doubled_container_in_the_base_config_names_the_key(render):
    template = DEPLOYMENT + "      - name: vllm\n        image: again\n"
    with pytest.raises(RenderError) as caught:
        render(model_service(), base_config(decodeDeployment=template))
    assert str(caught.value) == "decodeDeployment: spec.template.spec.containers holds 'vllm' twice"
