"""Typed decoding: a Go BaseConfig's objects are read as the original read them, into Go structs."""

from __future__ import annotations

import re

import pytest
from support import base_config, by_component, container, fresh_renderer, model_service

from ms_engine import RenderError, RenderOptions
from ms_engine.dialects import DIALECT_ANNOTATION
from ms_engine.typed_decoding import DECODING_ANNOTATION
from ms_plugins import gotemplate

DECODE = """\
spec:
  template:
    spec:
      containers:
      - name: vllm
        securityContext:
          securityContext:
            allowPrivilegeEscalation: false
        env:
        - name: ENABLED
          value: false
        - name: WEIGHT
          value: 1
        - name: EMPTY
          value:
        resources:
          limits:
            nvidia.com/gpu: 1
"""
EPP_SERVICE = "spec:\n  ports:\n  - port: 9002\n  bogus: 1\ntype: ClusterIP\n"


def render(bc, ms=None):
    renderer = fresh_renderer(("gotemplate", gotemplate))
    return renderer.render(ms or model_service(), bc, RenderOptions())


def annotated(annotations, **data):
    bc = base_config(**data)
    bc["metadata"]["annotations"] = annotations
    return bc


def test_go_objects_are_read_into_kubernetes_types_with_a_warning_per_dropped_field():
    result = render(annotated({DIALECT_ANNOTATION: "go"}, decodeDeployment=DECODE))
    vllm = container(by_component(result)["decodeDeployment"], "vllm")
    assert vllm["securityContext"] == {}
    assert vllm["env"][:3] == [
        {"name": "ENABLED", "value": "false"},
        {"name": "WEIGHT", "value": "1"},
        {"name": "EMPTY"},
    ]
    assert vllm["resources"]["limits"]["nvidia.com/gpu"] == "1"
    dropped = [w for w in result.warnings if "unknown field, dropped" in w.message]
    assert [w.where for w in dropped] == [
        "decodeDeployment: spec.template.spec.containers[vllm].securityContext.securityContext"
    ]


def test_unknown_top_level_fields_of_a_service_are_dropped():
    bc = annotated({DIALECT_ANNOTATION: "go"}, decodeDeployment=DECODE, decodeService=EPP_SERVICE)
    result = render(bc)
    service = by_component(result)["decodeService"]
    assert "type" not in service and "bogus" not in service["spec"]
    where = {w.where for w in result.warnings if "unknown field, dropped" in w.message}
    assert {"decodeService: type", "decodeService: spec.bogus"} <= where


def test_jinja_objects_are_left_as_written_unless_the_annotation_asks():
    plain = render(base_config(decodeDeployment=DECODE))
    vllm = container(by_component(plain)["decodeDeployment"], "vllm")
    assert vllm["env"][0]["value"] is False
    typed = render(annotated({DECODING_ANNOTATION: "typed"}, decodeDeployment=DECODE))
    assert container(by_component(typed)["decodeDeployment"], "vllm")["env"][0]["value"] == "false"
    off = render(annotated({DIALECT_ANNOTATION: "go", DECODING_ANNOTATION: "plain"},
                           decodeDeployment=DECODE))  # fmt: skip
    assert container(by_component(off)["decodeDeployment"], "vllm")["env"][0]["value"] is False


def test_a_bad_decoding_annotation_names_it():
    with pytest.raises(RenderError, match=DECODING_ANNOTATION):
        render(annotated({DECODING_ANNOTATION: "loose"}, decodeDeployment=DECODE))


def test_the_type_table_is_complete_for_the_kinds_it_types():
    from ms_engine import typed_decoding

    table = typed_decoding._table()
    assert {"V1Deployment", "V1Service", "V1ConfigMap", "V1EnvVar"} <= set(table)
    for fields in table.values():
        for kind in fields.values():
            inner = re.sub(r"^(List\[|list\[|Dict\[str, |dict\(str, )(.+?)[\])]$", r"\2", kind)
            assert inner in table or inner in {"str", "int", "bool", "float", "object",
                                                "datetime", "date", "bytes"}, kind  # fmt: skip


def test_a_go_pool_fragment_without_api_version_is_the_originals_v1alpha2():
    pool = "spec:\n  targetPortNumber: 8000\n"
    go = render(annotated({DIALECT_ANNOTATION: "go"}, decodeDeployment=DECODE, inferencePool=pool))
    (body,) = [o.body for o in go.objects if o.body["kind"] == "InferencePool"]
    assert body["apiVersion"] == "inference.networking.x-k8s.io/v1alpha2"
