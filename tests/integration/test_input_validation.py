"""What msctl refuses, the real API server refuses too: the generated CRD's bounds and strict
types, and the schema check's errors on rendered objects (dry-run, strict field validation)."""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import pytest
from kubernetes.client.rest import ApiException

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "unit"))

from support import fresh_renderer, renderer_call, sample, variants  # noqa: E402
from test_rendered_objects import api, apply  # noqa: E402, F401 (the fixture)

from ms_engine.api import load_model_service  # noqa: E402
from ms_engine.problems import RenderError, Severity  # noqa: E402
from ms_engine.schema_check import check_object  # noqa: E402

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("section", "field", "value"),
    [
        ("decode", "replicas", "1"),
        ("decode", "replicas", True),
        ("decode", "replicas", 2**31),
        ("prefill", "replicas", -1),
        ("decode", "parallelism", {"tensor": 2**31}),
        ("decode", "containers", [{"name": "Bad_Name"}]),
    ],
)
def test_the_crd_refuses_what_msctl_refuses(api, namespace, section, field, value):  # noqa: F811
    document = sample("pd-nixl")
    document["metadata"]["namespace"] = namespace
    document["spec"][section][field] = value
    with pytest.raises(RenderError) as ours:
        load_model_service(document)
    assert ours.value.problem.where.startswith(f"spec.{section}.{field}")
    with pytest.raises(ApiException) as theirs:
        apply(api, document, dry_run=True)
    assert_refused(theirs.value, f"spec.{section}.{field}")


def assert_refused(error: ApiException, field: str) -> None:
    """Refused naming the field. A type error or an unknown field under server-side apply is a
    500 "failed to create typed patch object" (observed on this kube-apiserver), not a 422."""
    assert error.status in (422, 500), error.body
    assert field in error.body, error.body


def pd_objects() -> dict[str, dict[str, Any]]:
    model_service, base_config, options = variants()["pd-nixl"]
    result = renderer_call(fresh_renderer())(model_service, base_config, **options)
    return {desired.component: desired.body for desired in result.objects}


POD = ("spec", "template", "spec")
MUTATIONS = {
    "replicas -1": ("decodeDeployment", ("spec",), "replicas", -1),
    "replicas as a string": ("decodeDeployment", ("spec",), "replicas", "1"),
    "no image": ("decodeDeployment", (*POD, "containers", 0), "image", None),
    "image 5": ("decodeDeployment", (*POD, "containers", 0), "image", 5),
    "container port 70000": (
        "decodeDeployment",
        (*POD, "containers", 0, "ports", 0),
        "containerPort",
        70000,
    ),
    "Service port as a name": ("decodeService", ("spec", "ports", 0), "port", "http"),
    "pool without target ports": ("inferencePool", ("spec",), "targetPorts", []),
    "unknown Service field": ("decodeService", (), "type", "ClusterIP"),
    "unknown container field": ("eppDeployment", (*POD, "containers", 0), "imagee", "x"),
}


@pytest.mark.parametrize("case", sorted(MUTATIONS))
def test_the_schema_check_agrees_with_the_api_server(api, namespace, case):  # noqa: F811
    component, parents, field, value = MUTATIONS[case]
    body = copy.deepcopy(pd_objects()[component])
    body["metadata"]["namespace"] = namespace
    node: Any = body
    for part in parents:
        node = node[part]
    if value is None:
        del node[field]
    else:
        node[field] = value
    problems = check_object(body)
    assert problems, case
    with pytest.raises(ApiException) as refused:
        apply(api, body, dry_run=True)
    assert_refused(refused.value, field)
    if problems[0].severity == Severity.WARNING:  # unknown fields: refused under Strict only
        assert "field not declared in schema" in refused.value.body
