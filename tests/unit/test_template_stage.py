"""Templates: sandboxed Jinja, strict variables, getPort, errors that name the key and line."""

from __future__ import annotations

import json
import re

import pytest
from support import DEPLOYMENT, ROOT, base_config, by_component, container, model_service

from ms_engine import RenderError
from ms_engine.problems import Reason
from ms_engine.templating import TemplateEngine


def render_error(render, ms, bc) -> RenderError:
    with pytest.raises(RenderError) as caught:
        render(ms, bc)
    return caught.value


def test_every_documented_variable_is_available(render):
    names = [
        "ModelServiceName", "ModelServiceNamespace", "ModelName", "SanitizedModelName",
        "HFModelName", "ModelPath", "MountedModelPath", "AuthSecretName", "EPPServiceName",
        "EPPDeploymentName", "PrefillDeploymentName", "DecodeDeploymentName",
        "PrefillServiceName", "DecodeServiceName", "InferencePoolName", "InferenceModelName",
        "DecodeTensorParallelism", "PrefillTensorParallelism", "DecodeDataParallelism",
        "PrefillDataParallelism",
    ]  # fmt: skip
    data = "\n".join(f"    {name}: {{{{ {name} | tojson }}}}" for name in names)
    config_maps = f"- metadata:\n    name: vars\n  data:\n{data}\n"
    ms = model_service(
        modelArtifacts={"uri": "hf://Qwen/Qwen2.5-0.5B-Instruct", "authSecretName": "tok"},
        routing={"modelName": "Qwen/Qwen2.5-0.5B-Instruct"},
        decode={"containers": [{"name": "c"}], "parallelism": {"tensor": 4}},
    )
    result = render(
        ms,
        base_config(
            decodeDeployment=DEPLOYMENT.replace("{{ getPort('http') }}", "1").replace(
                '{{ getPort("http") }}', "1"
            ),
            configMaps=config_maps,
        ),
    )
    values = by_component(result)["configMaps/vars"]["data"]
    assert values == {
        "ModelServiceName": "demo",
        "ModelServiceNamespace": "team-a",
        "ModelName": "Qwen/Qwen2.5-0.5B-Instruct",
        "SanitizedModelName": "qwen-qwen2-5-0-5b-instruct",
        "HFModelName": "Qwen/Qwen2.5-0.5B-Instruct",
        "ModelPath": "Qwen/Qwen2.5-0.5B-Instruct",
        "MountedModelPath": "/model-cache",
        "AuthSecretName": "tok",
        "EPPServiceName": "demo-epp-service",
        "EPPDeploymentName": "demo-epp",
        "PrefillDeploymentName": "demo-prefill",
        "DecodeDeploymentName": "demo-decode",
        "PrefillServiceName": "demo-service-prefill",
        "DecodeServiceName": "demo-service-decode",
        "InferencePoolName": "demo-inference-pool",
        "InferenceModelName": "demo",
        "DecodeTensorParallelism": 4,
        "PrefillTensorParallelism": 1,
        "DecodeDataParallelism": 1,
        "PrefillDataParallelism": 1,
    }


def test_get_port_works_as_filter_and_function_and_renders_numbers(render):
    template = 'spec:\n  ports:\n  - port: {{ "http" | getPort }}\n    targetPort: {{ getPort("metrics") }}\n'
    ms = model_service(
        routing={
            "modelName": "m",
            "ports": [{"name": "http", "port": 8000}, {"name": "metrics", "port": 9090}],
        }
    )
    result = render(ms, base_config(decodeDeployment=DEPLOYMENT, decodeService=template))
    assert by_component(result)["decodeService"]["spec"]["ports"] == [
        {"port": 8000, "targetPort": 9090}
    ]


def test_a_missing_port_names_the_port_the_key_and_the_line(render):
    error = render_error(
        render,
        model_service(routing={"modelName": "m", "ports": []}),
        base_config(decodeDeployment=DEPLOYMENT),
    )
    assert error.reason is Reason.TEMPLATE_ERROR
    assert (
        str(error)
        == "decodeDeployment: line 9: port 'http' is not in spec.routing.ports (defined: none)"
    )


def test_an_unknown_variable_names_the_key_and_line(render):
    template = "apiVersion: v1\nkind: Service\nspec:\n  selector: {{ NoSuchThing }}\n"
    error = render_error(
        render, model_service(), base_config(decodeDeployment=DEPLOYMENT, decodeService=template)
    )
    assert str(error) == "decodeService: line 4: 'NoSuchThing' is undefined"


def test_a_template_syntax_error_names_the_key_and_line(render):
    error = render_error(render, model_service(), base_config(decodeService="a: 1\nb: {% if %}\n"))
    assert str(error).startswith("decodeService: line 2: template syntax:")


def test_rendered_yaml_errors_name_the_key_and_line(render):
    error = render_error(render, model_service(), base_config(decodeService="a: 1\nb: [unclosed\n"))
    assert str(error).startswith("decodeService: line ") and "rendered YAML is invalid" in str(
        error
    )


def test_a_document_of_the_wrong_kind_is_refused(render):
    error = render_error(
        render, model_service(), base_config(decodeService="apiVersion: v1\nkind: Pod\n")
    )
    assert str(error) == "decodeService: must be a Service (v1), got v1 Pod"


def test_fragments_get_their_kind_filled_in(render):
    result = render(
        model_service(),
        base_config(decodeDeployment=DEPLOYMENT, decodeService="spec:\n  ports: [{port: 80}]\n"),
    )
    service = by_component(result)["decodeService"]
    assert (service["apiVersion"], service["kind"]) == ("v1", "Service")


def test_an_empty_rendering_means_the_key_is_absent(render):
    template = "{% if ModelName == 'other' %}spec: {ports: [{port: 80}]}{% endif %}"
    result = render(
        model_service(), base_config(decodeDeployment=DEPLOYMENT, decodeService=template)
    )
    assert "decodeService" not in by_component(result)


@pytest.mark.parametrize(
    "expression",
    ["().__class__.__bases__", "cycler.__init__.__globals__", "self._TemplateReference__context"],
)
def test_templates_cannot_reach_python_internals(render, expression):
    template = f"apiVersion: v1\nkind: Service\nspec:\n  x: {{{{ {expression} }}}}\n"
    error = render_error(render, model_service(), base_config(decodeService=template))
    assert str(error).startswith("decodeService: line 4:")


def test_container_args_are_templated_and_errors_name_the_field(render):
    ms = model_service(
        decode={
            "containers": [{"name": "vllm", "args": ["--served-model-name", "{{ ModelName }}"]}]
        }
    )
    result = render(ms, base_config(decodeDeployment=DEPLOYMENT))
    assert container(by_component(result)["decodeDeployment"], "vllm")["args"][:2] == [
        "--served-model-name",
        "facebook/opt-125m",
    ]

    broken = model_service(
        decode={"containers": [{"name": "vllm", "args": ["ok", "{{ Missing }}"]}]}
    )
    error = render_error(render, broken, base_config(decodeDeployment=DEPLOYMENT))
    assert str(error) == "spec.decode.containers[0].args[1]: line 1: 'Missing' is undefined"
    assert error.problem.document == "modelservice"


def test_each_template_source_is_compiled_once_and_reused():
    engine = TemplateEngine()
    first = engine.compile("decodeService", "a: {{ x }}")
    assert engine.compile("decodeService", "a: {{ x }}") is first
    assert engine.compile("decodeService", "a: {{ y }}") is not first


def test_get_port_default_covers_optional_ports():
    engine = TemplateEngine()
    assert engine.render("k", "{{ getPort('vllm', 8200) }}", {"Ports": {}}) == "8200"
    assert engine.render("k", "{{ getPort('vllm', 8200) }}", {"Ports": {"vllm": 9}}) == "9"


def documented_variables() -> list[str]:
    guide = (ROOT / "docs/user-guide.md").read_text()
    section = guide.split("## Template variables", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `(\w+)` \|", section, flags=re.MULTILINE)


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("hf://Qwen/Qwen2.5-0.5B", {"HFModelName": "Qwen/Qwen2.5-0.5B", "ModelImage": ""}),
        ("pvc://models/llama/8b", {"HFModelName": "", "ModelPath": "llama/8b", "ModelImage": ""}),
        (
            "oci://registry.example/m:1::w",
            {"HFModelName": "", "ModelImage": "registry.example/m:1"},
        ),
    ],
)
def test_every_variable_in_the_user_guide_exists_for_every_source(render, uri, expected):
    names = documented_variables()
    assert len(names) >= 26 and "HFModelName" in names and "Ports" in names
    data = "\n".join(f"    {name}: {{{{ {name} | tojson | tojson }}}}" for name in names)
    config_maps = f"- metadata:\n    name: vars\n  data:\n{data}\n"
    ms = model_service(modelArtifacts={"uri": uri})
    result = render(ms, base_config(decodeDeployment=DEPLOYMENT, configMaps=config_maps))
    values = {k: json.loads(v) for k, v in by_component(result)["configMaps/vars"]["data"].items()}
    assert sorted(values) == sorted(names)
    assert values.items() >= expected.items()
    with pytest.raises(RenderError, match="'NotAVariable' is undefined"):
        render(ms, base_config(decodeDeployment=DEPLOYMENT, configMaps="{{ NotAVariable }}"))
