"""The API models: the validation a model owner meets, and the CRD generated from them."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from support import ROOT, base_config, model_service

from ms_engine import RenderError
from ms_engine.api import load_model_service, parse_base_config
from ms_engine.api.crd import model_service_crd
from ms_engine.problems import Severity


def error_of(document: dict) -> str:
    with pytest.raises(RenderError) as caught:
        load_model_service(document)
    return str(caught.value)


def test_a_minimal_model_service_is_valid():
    parsed = load_model_service(model_service())
    assert parsed.spec.routing.model_name == "facebook/opt-125m"
    assert parsed.spec.decode is not None and parsed.spec.decode.containers[0].mount_model_volume


@pytest.mark.parametrize(
    ("spec", "field", "reason"),
    [
        ({"routing": {"modelName": "m" * 257}}, "spec.routing.modelName", "at most 256"),
        ({"decode": {"replicas": -1}}, "spec.decode.replicas", "must be at least 0, got -1"),
        (
            {"prefill": {"acceleratorTypes": {"labelKey": "k", "labelValues": []}}},
            "spec.prefill.acceleratorTypes.labelValues",
            "at least 1",
        ),
        (
            {"decode": {"acceleratorTypes": {"labelValues": ["a"]}}},
            "spec.decode.acceleratorTypes.labelKey",
            "is required",
        ),
        (
            {"modelArtifacts": {"uri": "hf://a/b", "size": "ten gigs"}},
            "spec.modelArtifacts.size",
            "not a Kubernetes quantity",
        ),
        (
            {"decode": {"containers": [{"name": "a"}, {"name": "a"}]}},
            "spec.decode.containers",
            "'a' appears twice",
        ),
        (
            {"decode": {"parallelism": {"tensor": 0}}},
            "spec.decode.parallelism.tensor",
            "must be at least 1, got 0",
        ),
        (
            {"routing": {"modelName": "m", "gatewayRefs": [{"name": f"g{i}"} for i in range(33)]}},
            "spec.routing.gatewayRefs",
            "at most 32",
        ),
    ],
)
def test_invalid_fields_are_named_with_the_reason(spec, field, reason):
    message = error_of(model_service(**spec))
    assert message.startswith(f"{field}: ")
    assert reason in message


def test_routing_and_model_artifacts_are_required():
    document = model_service()
    del document["spec"]["modelArtifacts"]
    assert error_of(document) == "spec.modelArtifacts: is required"
    document = model_service()
    del document["spec"]["routing"]
    assert error_of(document) == "spec.routing: is required"


def test_wrong_api_version_is_reported_with_what_was_given():
    document = model_service()
    document["apiVersion"] = "llm-d.ai/v1"
    assert "apiVersion" in error_of(document) and "'llm-d.ai/v1'" in error_of(document)


def test_zero_replicas_and_false_values_are_kept():
    parsed = load_model_service(model_service(decode={"replicas": 0}, decoupleScaling=False))
    assert parsed.spec.decode is not None and parsed.spec.decode.replicas == 0


def test_base_config_reports_unknown_keys_as_warnings_with_a_suggestion():
    parsed = parse_base_config(base_config(decodeDeploymnet="x", decodeService="y"))
    assert set(parsed.templates) == {"decodeService"}
    (warning,) = parsed.warnings
    assert warning.severity is Severity.WARNING
    assert "data.decodeDeploymnet" in str(warning) and "decodeDeployment" in str(warning)


@pytest.mark.parametrize(
    ("document", "fragment"),
    [
        ({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}}, "ConfigMap"),
        ({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}, "metadata.name"),
        (
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"a": 1}},
            "data.a",
        ),
    ],
)
def test_base_config_that_is_not_a_configmap_of_strings_is_refused(document, fragment):
    with pytest.raises(RenderError) as caught:
        parse_base_config(document)
    assert fragment in str(caught.value)


def test_committed_crd_is_generated_from_the_models():
    """`make crd` regenerates deploy/crds; this catches a model change without regeneration."""
    committed = yaml.safe_load(Path(ROOT / "deploy/crds/llm-d.ai_modelservices.yaml").read_text())
    assert committed == model_service_crd()


def test_crd_schema_carries_the_validation_of_the_models():
    version = model_service_crd()["spec"]["versions"][0]
    spec = version["schema"]["openAPIV3Schema"]["properties"]["spec"]
    assert set(spec["required"]) == {"routing", "modelArtifacts"}
    model_name = spec["properties"]["routing"]["properties"]["modelName"]
    assert model_name["maxLength"] == 256
    assert model_name["x-kubernetes-validations"][0]["rule"] == "self == oldSelf"
    decode = spec["properties"]["decode"]["properties"]
    assert decode["replicas"]["minimum"] == 0
    assert decode["parallelism"]["properties"]["data"]["minimum"] == 1
    size = spec["properties"]["modelArtifacts"]["properties"]["size"]
    assert size["x-kubernetes-int-or-string"] is True
    columns = [column["name"] for column in version["additionalPrinterColumns"]]
    assert columns == ["Ready", "Reason", "Decode", "Prefill", "Age"]


def test_names_that_kubernetes_would_refuse_are_refused_with_the_rule():
    document = model_service()
    document["metadata"]["name"] = "Llama_8B"
    assert error_of(document).startswith("metadata.name: must be a lowercase RFC 1123 name")
    document = model_service(
        routing={"modelName": "m", "ports": [{"name": "h", "port": 1}, {"name": "h", "port": 2}]}
    )
    assert error_of(document) == "spec.routing.ports: port 'h' appears twice"


def test_go_template_syntax_gets_a_hint():
    from ms_engine.templating import TemplateEngine

    with pytest.raises(
        RenderError, match=r"write \{\{ HFModelName \}\}, not \{\{ .HFModelName \}\}"
    ):
        TemplateEngine().render("decodeDeployment", "args: ['{{ .HFModelName }}']", {})


ORIGINAL_STATUS = {
    # As the original Go controller wrote it: refs are plain names, readiness "ready/desired",
    # Deployment conditions mirrored with a role prefix.
    "decodeDeploymentRef": "granite-decode",
    "prefillDeploymentRef": "granite-prefill",
    "eppDeploymentRef": "granite-epp",
    "inferencePoolRef": "granite-inference-pool",
    "inferenceModelRef": "granite",
    "eppRoleBinding": "granite-epp-rolebinding",
    "configMapNames": ["granite-epp-config"],
    "decodeReady": "1/1",
    "decodeAvailable": 1,
    "conditions": [
        {
            "type": "DecodeAvailable",
            "status": "True",
            "reason": "MinimumReplicasAvailable",
            "message": "Deployment has minimum availability.",
            "lastTransitionTime": "2025-06-30T10:00:00Z",
            "lastUpdateTime": "2025-06-30T10:00:00Z",
        }
    ],
}


@pytest.mark.parametrize(
    "status",
    [
        ORIGINAL_STATUS,
        {"someFieldOfANewerVersion": {"x": 1}},
        {"decodeDeploymentRef": {"a": 1}},
        "garbage",
    ],
    ids=["original", "newer", "other-shape", "not-a-mapping"],
)
def test_status_read_back_from_a_cluster_never_blocks_a_render(render, status):
    document = model_service()
    document["status"] = status
    result = render(document)
    assert [
        o.body["metadata"]["name"] for o in result.objects if o.body["kind"] == "Deployment"
    ] == ["demo-decode"]


def test_the_status_model_reads_what_the_original_wrote_and_keeps_unknown_fields():
    from ms_engine.api import ModelServiceStatus

    status = ModelServiceStatus.model_validate({**ORIGINAL_STATUS, "newerField": 3})
    assert status.decode_deployment_ref == "granite-decode"
    assert status.conditions[0].type == "DecodeAvailable"
    assert status.model_dump(by_alias=True)["newerField"] == 3
    schema = model_service_crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    assert schema["properties"]["status"]["x-kubernetes-preserve-unknown-fields"] is True
