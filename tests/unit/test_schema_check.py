"""`msctl render` checks each object against its schema: Kubernetes' own for built-in kinds, the
bundled CRDs for the routing kinds. Refused values are errors, unknown fields warnings."""

from __future__ import annotations

import copy
import importlib.util
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
from support import ROOT, renderer_call, variants
from test_schemas import KUBERNETES, crd_schemas

from ms_engine.problems import Severity
from ms_engine.schema_check import check_object, check_objects, kubernetes_version

CASES = variants()


def generator():
    spec = importlib.util.spec_from_file_location("gen_schemas", ROOT / "hack/gen_schemas.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_bundled_schemas_are_generated_from_kubernetes_validate_and_the_crds():
    """`make schemas` regenerates ms_engine/schemas.json; this catches a stale file."""
    module = generator()
    assert (ROOT / "ms_engine/schemas.json").read_text() == module.text()
    assert kubernetes_version() == KUBERNETES


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_rendered_variant_passes(renderer, case):
    model_service, base_config, options = CASES[case]
    result = renderer_call(renderer)(model_service, base_config, **options)
    assert check_objects(result.bodies) == []


def rendered(renderer) -> dict[str, dict[str, Any]]:
    model_service, base_config, options = CASES["pd-nixl"]
    result = renderer_call(renderer)(model_service, base_config, **options)
    return {desired.component: desired.body for desired in result.objects}


def set_path(body: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    node: Any = body
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    if value is DELETE:
        del node[int(last) if last.isdigit() else last]
    elif last.isdigit():
        node[int(last)] = value
    else:
        node[last] = value


DELETE = object()
POD = "spec.template.spec"
# (component, path, value, severity, words in the message)
MUTATIONS = [
    (
        "decodeDeployment",
        "spec.replicas",
        "1",
        Severity.ERROR,
        "spec.replicas: must be an integer, got '1'",
    ),
    # int32 is a format, which upstream's JSON Schema does not check; the API server's decoder does.
    (
        "decodeDeployment",
        "spec.replicas",
        2**31,
        Severity.ERROR,
        "between -2147483648 and 2147483647",
    ),
    (
        "decodeDeployment",
        f"{POD}.containers.0.image",
        5,
        Severity.ERROR,
        "image: must be a string, got 5",
    ),
    (
        "decodeDeployment",
        f"{POD}.containers.0.imagee",
        "x",
        Severity.WARNING,
        "containers[0].imagee: unknown field",
    ),
    (
        "decodeDeployment",
        f"{POD}.containers.0.ports",
        [{"name": "x"}],
        Severity.ERROR,
        "containerPort: is required",
    ),
    (
        "decodeDeployment",
        f"{POD}.terminationGracePeriodSeconds",
        True,
        Severity.ERROR,
        "must be an integer, got true",
    ),
    (
        "decodeDeployment",
        f"{POD}.nodeSelector",
        {"gpu": 1},
        Severity.ERROR,
        "nodeSelector.gpu: must be a string, got 1",
    ),
    ("decodeDeployment", "spec.template", DELETE, Severity.ERROR, "spec.template: is required"),
    (
        "decodeService",
        "type",
        "ClusterIP",
        Severity.WARNING,
        "type: unknown field, the API server drops it (did you mean spec.type?)",
    ),
    (
        "decodeService",
        "spec.ports.0.targetPort",
        1.5,
        Severity.ERROR,
        "must be a string or an integer, got 1.5",
    ),
    (
        "decodeService",
        "spec.ports.0.port",
        "http",
        Severity.ERROR,
        "must be an integer, got 'http'",
    ),
    (
        "inferencePool",
        "spec.targetPorts",
        [],
        Severity.ERROR,
        "spec.targetPorts: must have at least 1 items",
    ),
    (
        "inferencePool",
        "spec.targetPortNumber",
        8000,
        Severity.WARNING,
        "spec.targetPortNumber: unknown field",
    ),
    (
        "inferencePool",
        "spec.endpointPickerRef.failureMode",
        "Sometimes",
        Severity.ERROR,
        "must be one of",
    ),
    ("httpRoute", "spec.parentRefs", "gw", Severity.ERROR, "spec.parentRefs: must be a list"),
    ("configMaps/", "data.n", 4, Severity.ERROR, "data.n: must be a string, got 4"),
]


def kubernetes_refuses(body: dict[str, Any]) -> bool:
    """What upstream's validators say (the reference this checker must agree with)."""
    schema = crd_schemas().get((body["apiVersion"], body["kind"]))
    try:
        if schema is not None:
            jsonschema.validate(body, schema)
        else:
            kubernetes_validate.validate(body, KUBERNETES, strict=True)
    except (jsonschema.ValidationError, kubernetes_validate.ValidationError):
        return True
    return False


@pytest.mark.parametrize(
    ("component", "path", "value", "severity", "words"),
    MUTATIONS,
    ids=[f"{m[0]}:{m[1]}={m[2]!r}" for m in MUTATIONS],
)
def test_a_broken_object_is_reported_naming_the_object_and_field(
    renderer, component, path, value, severity, words
):
    objects = rendered(renderer)
    key = next(k for k in objects if k == component or k.startswith(component))
    body = copy.deepcopy(objects[key])
    set_path(body, path, value)
    problems = check_object(body)
    assert problems, f"not reported: {path}={value!r}"
    first = problems[0]
    assert first.severity == severity
    assert words in str(first)
    assert str(first).startswith(f"{body['kind']}/{body['metadata']['name']}: ")
    # Upstream's validators agree (unknown fields in CRDs are pruned, so jsonschema allows them).
    pruned = severity == Severity.WARNING and (body["apiVersion"], body["kind"]) in crd_schemas()
    if not pruned and value != 2**31:
        assert kubernetes_refuses(body)


@pytest.mark.parametrize(
    ("path", "value", "words"),
    [
        ("spec.replicas", -1, "spec.replicas: must be at least 0, got -1"),
        (f"{POD}.containers.0.image", DELETE, "containers[0].image: is required"),
        (
            f"{POD}.containers.0.ports.0.containerPort",
            70000,
            "containerPort: must be between 1 and 65535, got 70000",
        ),
        (f"{POD}.containers.0.name", "Main_Container", "is not an RFC 1123 label"),
    ],
)
def test_what_the_api_server_refuses_beyond_openapi_is_an_error(renderer, path, value, words):
    body = copy.deepcopy(rendered(renderer)["decodeDeployment"])
    set_path(body, path, value)
    problems = check_object(body)
    assert [p.severity for p in problems] == [Severity.ERROR]
    assert words in str(problems[0])


def test_kinds_without_a_schema_are_not_checked():
    assert check_object({"apiVersion": "example.com/v1", "kind": "Thing", "spec": {"x": 1}}) == []
