"""Every rendered object validates: built-in kinds against the Kubernetes 1.36 schemas, GIE and
Gateway kinds against the CRDs in deploy/crds/third-party, ModelServices against our own CRD."""

from __future__ import annotations

from functools import cache
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from support import ROOT, SAMPLE_PRESETS, renderer_call, sample, variants

from ms_engine import RenderOptions

KUBERNETES = "1.36.0"
CRDS = [
    ROOT / "deploy/crds/llm-d.ai_modelservices.yaml",
    *sorted((ROOT / "deploy/crds/third-party").glob("*.yaml")),
]
CASES = variants()


@cache
def crd_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> openAPIV3Schema of every CRD we ship or test against."""
    schemas = {}
    for path in CRDS:
        crd = yaml.safe_load(path.read_text())
        for version in crd["spec"]["versions"]:
            key = (f"{crd['spec']['group']}/{version['name']}", crd["spec"]["names"]["kind"])
            schemas[key] = version["schema"]["openAPIV3Schema"]
    return schemas


def validate(body: dict[str, Any]) -> None:
    schema = crd_schemas().get((body["apiVersion"], body["kind"]))
    if schema is not None:
        jsonschema.validate(body, schema)
    else:
        kubernetes_validate.validate(body, KUBERNETES, strict=True)


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_rendered_object_validates(renderer, case):
    model_service, base_config, options = CASES[case]
    result = renderer_call(renderer)(model_service, base_config, **options)
    kinds = set()
    for desired in result.objects:
        validate(desired.body)
        kinds.add(desired.body["kind"])
    assert "Deployment" in kinds


def test_the_variants_cover_legacy_and_current_routing_objects(renderer):
    rendered = {
        (desired.body["apiVersion"], desired.body["kind"])
        for model_service, base_config, options in CASES.values()
        for desired in renderer_call(renderer)(model_service, base_config, **options).objects
    }
    assert {
        ("inference.networking.k8s.io/v1", "InferencePool"),
        ("inference.networking.x-k8s.io/v1alpha2", "InferencePool"),
        ("inference.networking.x-k8s.io/v1alpha2", "InferenceModel"),
        ("llm-d.ai/v1alpha2", "InferenceObjective"),
        ("gateway.networking.k8s.io/v1", "HTTPRoute"),
    } <= rendered


@pytest.mark.parametrize("name", sorted(SAMPLE_PRESETS))
def test_samples_validate_against_the_model_service_crd(name):
    validate(sample(name))


def test_the_third_party_schemas_reject_what_upstream_rejects():
    pool = {
        "apiVersion": "inference.networking.k8s.io/v1",
        "kind": "InferencePool",
        "metadata": {"name": "p"},
        "spec": {"selector": {"matchLabels": {"a": "b"}}, "targetPorts": []},
    }
    with pytest.raises(jsonschema.ValidationError):
        validate(pool)
    pool["spec"]["targetPorts"] = [{"number": 8000}]
    pool["spec"]["endpointPickerRef"] = {"name": "e", "failureMode": "Sometimes"}
    with pytest.raises(jsonschema.ValidationError):
        validate(pool)


def test_options_used_by_the_variants_are_real_render_options():
    for _, _, options in CASES.values():
        RenderOptions(**options)


def test_the_kubernetes_schemas_are_strict_about_unknown_fields():
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d"},
        "spec": {
            "selector": {},
            "template": {"spec": {"containers": [{"name": "c", "imagee": "x"}]}},
        },
    }
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(deployment)
