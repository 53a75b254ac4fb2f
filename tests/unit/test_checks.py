"""Wiring checks: each one trips on the mistake it exists for, and the presets are clean."""

from __future__ import annotations

import pytest
from support import preset, sample

from ms_engine import Severity


def warnings_of(render, ms, bc) -> list[str]:
    result = render(ms, bc)
    assert all(w.severity is Severity.WARNING for w in result.warnings)
    return [str(w) for w in result.warnings]


def pd_preset_with(old: str, new: str) -> dict:
    document = preset("pd-nixl")
    document["data"] = {key: value.replace(old, new) for key, value in document["data"].items()}
    return document


@pytest.mark.parametrize(
    ("name", "preset_name"),
    [
        ("pd-nixl", "pd-nixl"),
        ("sim", "sim"),
        ("hf-decode", "basic-gpu"),
        ("pvc-tp8", "basic-gpu"),
        ("oci", "basic-gpu"),
    ],
)
def test_samples_with_their_presets_raise_no_warning(render, name, preset_name):
    assert warnings_of(render, sample(name), preset(preset_name)) == []


def test_pool_target_port_that_no_pod_exposes(render):
    bc = preset("pd-nixl")
    bc["data"]["inferencePool"] = bc["data"]["inferencePool"].replace(
        '{{ getPort("http") }}', "7000"
    )
    found = warnings_of(render, sample("pd-nixl"), bc)
    assert (
        "InferencePool/llama-8b-pd-inference-pool: spec.targetPorts 7000 is not a container port of the decode pods (they expose: 5600, 8000, 8200), so the pool cannot reach them"
        in found
    )
    assert any("of the prefill pods" in w for w in found)


def test_prefill_without_a_prefill_profile(render):
    bc = pd_preset_with("- name: prefill\n", "- name: prefill-disabled\n")
    found = warnings_of(render, sample("pd-nixl"), bc)
    assert any(
        w.startswith(
            "Deployment/llama-8b-pd-epp: prefill pods exist but the endpoint picker's EndpointPickerConfig has no 'prefill'"
        )
        for w in found
    )


def test_prefill_without_any_endpoint_picker(render):
    bc = preset("pd-nixl")
    del bc["data"]["eppDeployment"]
    found = warnings_of(render, sample("pd-nixl"), bc)
    assert any("prefill pods exist but there is no endpoint picker" in w for w in found)


def test_nixl_connector_without_side_channel_host(render):
    bc = pd_preset_with("- name: VLLM_NIXL_SIDE_CHANNEL_HOST\n", "- name: SOMETHING_ELSE\n")
    found = warnings_of(render, sample("pd-nixl"), bc)
    assert sum("VLLM_NIXL_SIDE_CHANNEL_HOST" in w for w in found) == 2  # decode and prefill


def test_route_backend_naming_a_pool_that_is_not_rendered(render):
    bc = preset("pd-nixl")
    bc["data"]["httpRoute"] = (
        "spec:\n  rules:\n  - backendRefs:\n    - {group: inference.networking.k8s.io, kind: InferencePool, name: someone-elses-pool}\n"
    )
    found = warnings_of(render, sample("pd-nixl"), bc)
    assert (
        "HTTPRoute/llama-8b-pd-http-route: spec.rules[0].backendRefs[0] names InferencePool 'someone-elses-pool' but the rendered pool is 'llama-8b-pd-inference-pool'"
        in found
    )


def test_decode_and_prefill_serving_different_models(render):
    ms = sample("pd-nixl")
    ms["spec"]["prefill"]["containers"][0]["command"] = [
        "vllm",
        "serve",
        "meta-llama/Llama-3.1-70B-Instruct",
    ]
    ms["spec"]["prefill"]["containers"][0]["args"] = ["--served-model-name", "other-model"]
    found = warnings_of(render, ms, preset("pd-nixl"))
    assert any(
        "decode pods serve meta-llama/Llama-3.1-8B-Instruct but prefill pods serve other-model" in w
        for w in found
    )


def test_a_port_passed_only_as_a_flag_counts_as_served(render):
    bc = preset("basic-gpu")
    lines = bc["data"]["decodeDeployment"].splitlines()
    skip = ("ports:", "- name: http", "protocol: TCP")
    kept = [line for line in lines if line.strip() not in skip and "containerPort" not in line]
    bc["data"]["decodeDeployment"] = "\n".join(kept) + "\n"
    bc["data"]["inferencePool"] = (
        "apiVersion: inference.networking.k8s.io/v1\nkind: InferencePool\nspec:\n  targetPorts: [{number: 8000}]\n"
    )
    result = render(sample("hf-decode"), bc)
    decode = next(d.body for d in result.objects if d.component == "decodeDeployment")
    assert "ports" not in decode["spec"]["template"]["spec"]["containers"][0]
    assert [str(w) for w in result.warnings] == []


def test_a_picker_config_in_a_config_map_we_do_not_make_is_not_guessed_at(render):
    bc = preset("pd-nixl")
    del bc["data"]["configMaps"]
    bc["data"]["eppDeployment"] = bc["data"]["eppDeployment"].replace(
        "name: {{ ModelServiceName }}-epp-config", "name: platform-epp-config"
    )
    assert not any("scheduling profile" in w for w in warnings_of(render, sample("pd-nixl"), bc))


def test_a_picker_without_any_config_has_no_prefill_profile(render):
    bc = preset("pd-nixl")
    del bc["data"]["configMaps"]
    epp = bc["data"]["eppDeployment"].replace("- --config-file=/config/epp-config.yaml\n", "")
    bc["data"]["eppDeployment"] = epp.split("volumeMounts:")[0].rstrip() + "\n"
    assert any(
        "has no 'prefill' scheduling profile" in w
        for w in warnings_of(render, sample("pd-nixl"), bc)
    )


def test_a_picker_config_whose_profiles_are_not_a_list_has_no_prefill_profile(render):
    bc = preset("pd-nixl")
    config_maps = bc["data"]["configMaps"]
    start = config_maps.index("schedulingProfiles:")
    bc["data"]["configMaps"] = config_maps[:start] + "schedulingProfiles: 5\n"
    assert any(
        "has no 'prefill' scheduling profile" in w
        for w in warnings_of(render, sample("pd-nixl"), bc)
    )
