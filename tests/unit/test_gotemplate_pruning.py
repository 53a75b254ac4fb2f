"""A ModelService written for the original is accepted as its CRD accepted it: unknown fields and
nulls are pruned as the API server prunes them, with a warning per unknown field."""

from __future__ import annotations

import pytest
from support import by_component, container, model_service

from ms_engine import RenderError
from ms_engine.api import load_model_service


def test_unknown_fields_are_pruned_with_a_warning_naming_them(render):
    ms = model_service(
        decode={"containers": [{"name": "vllm", "imagePullPolicy": "Always", "ports": []}]}
    )
    result = render(ms)
    warnings = {w.where: w.message for w in result.warnings}
    assert "pruned" in warnings["spec.decode.containers[0].imagePullPolicy"]
    assert "pruned" in warnings["spec.decode.containers[0].ports"]
    vllm = container(by_component(result)["decodeDeployment"], "vllm")
    assert "imagePullPolicy" not in vllm and "ports" not in vllm


def test_empty_values_are_dropped_silently_as_the_api_server_does():
    ms = model_service(decode={"containers": [{"name": "vllm", "env": None}]})
    ms["metadata"]["annotations"] = None
    loaded = load_model_service(ms)
    assert loaded.metadata.annotations == {}
    assert loaded.pruned == ()


def test_invalid_values_are_still_errors():
    with pytest.raises(RenderError, match=r"spec.decode.replicas"):
        load_model_service(model_service(decode={"replicas": -1, "bogus": 1}))


def test_the_input_document_is_not_changed():
    ms = model_service(decode={"containers": [{"name": "vllm", "bogus": 1}]})
    load_model_service(ms)
    assert ms["spec"]["decode"]["containers"][0]["bogus"] == 1
