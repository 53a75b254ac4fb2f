"""The template-dialect hook: Go-template BaseConfigs render as the original rendered them."""

from __future__ import annotations

import pytest
from support import base_config, by_component, container, fresh_renderer, model_service

from ms_engine import RenderError, RenderOptions, hookimpl
from ms_engine.dialects import DIALECT_ANNOTATION
from ms_engine.problems import Reason
from ms_plugins import gotemplate

GO_DECODE = """\
spec:
  template:
    spec:
      containers:
      - name: vllm
        args:
        - {{ default (print "/models/" .ModelPath) .HFModelName }}
        - --port={{ "http" | getPort }}
        env:
        - name: A
          value: a
        {{- if .HFModelName }}
        - name: HF_HUB_CACHE
          value: /models
        {{- end }}
"""


def go_renderer(*extra):
    return fresh_renderer(("gotemplate", gotemplate), *extra)


def render(ms, bc, *extra):
    return go_renderer(*extra).render(ms, bc, RenderOptions())


def stated(bc, dialect="go"):
    bc["metadata"]["annotations"] = {DIALECT_ANNOTATION: dialect}
    return bc


def vllm(result):
    return container(by_component(result)["decodeDeployment"], "vllm")


def test_an_unlabelled_go_template_renders_with_a_warning_saying_how_to_state_it():
    result = render(model_service(), base_config(decodeDeployment=GO_DECODE))
    assert vllm(result)["args"] == ["facebook/opt-125m", "--port=8000"]
    assert [e["name"] for e in vllm(result)["env"]][:2] == ["A", "HF_HUB_CACHE"]
    (warning,) = [w for w in result.warnings if "go templates" in w.message]
    assert f"{DIALECT_ANNOTATION}: go" in warning.message


def test_a_stated_dialect_renders_without_a_warning():
    result = render(model_service(), stated(base_config(decodeDeployment=GO_DECODE)))
    assert vllm(result)["args"][0] == "facebook/opt-125m"
    assert not [w for w in result.warnings if "templates" in w.message]


def test_hf_model_name_is_empty_for_pvc_as_in_the_original():
    ms = model_service(modelArtifacts={"uri": "pvc://claim/models/llama"})
    result = render(ms, stated(base_config(decodeDeployment=GO_DECODE)))
    assert vllm(result)["args"][0] == "/models/models/llama"
    assert "HF_HUB_CACHE" not in [e["name"] for e in vllm(result)["env"]]


def test_an_unknown_dialect_names_the_annotation():
    with pytest.raises(RenderError) as caught:
        render(model_service(), stated(base_config(decodeDeployment=GO_DECODE), "mustache"))
    assert DIALECT_ANNOTATION in str(caught.value)
    assert "available: go, jinja" in str(caught.value)


def test_go_errors_name_the_key_the_construct_and_the_line():
    bad = GO_DECODE.replace("{{- end }}", "{{- end }}\n        - {{ toYaml .ModelPath }}")
    with pytest.raises(RenderError) as caught:
        render(model_service(), stated(base_config(decodeDeployment=bad)))
    problem = caught.value.problem
    assert problem.where == "decodeDeployment"
    assert problem.reason == Reason.TEMPLATE_ERROR
    assert problem.line == 16
    assert 'function "toYaml"' in problem.message


def test_go_container_args_of_an_original_model_service_render():
    ms = model_service(
        decode={"containers": [{"name": "vllm", "args": ["{{ .ModelName }}", "{{ .ModelPath }}"]}]}
    )
    result = render(ms, base_config())
    assert vllm(result)["args"] == ["facebook/opt-125m", "facebook/opt-125m"]
    assert any("container args read as go" in w.message for w in result.warnings)


def test_jinja_base_configs_are_unchanged_by_the_go_plugin():
    bc = base_config(decodeDeployment=GO_DECODE.replace(".HFModelName", "HFModelName"))
    with pytest.raises(RenderError):  # Jinja refuses Go's `default (print ...)`: still Jinja
        render(model_service(), bc)
    plain = base_config(
        decodeDeployment="spec:\n  template:\n    spec:\n      containers:\n"
        "      - name: vllm\n        args: ['{{ HFModelName | upper }}']\n"
    )
    assert vllm(render(model_service(), plain))["args"] == ["FACEBOOK/OPT-125M"]


class Shout:
    name = "shout"

    def recognises(self, source):
        return False

    def render(self, where, source, variables, document):
        return source.replace("NAME", variables["ModelServiceName"].upper())


class ShoutPlugin:
    @hookimpl
    def ms_template_dialects(self, context):
        return [Shout()]


def test_hook_ms_template_dialects_a_third_party_dialect_is_chosen_by_the_annotation():
    bc = stated(
        base_config(
            decodeDeployment="spec:\n  template:\n    spec:\n      containers:\n"
            "      - name: vllm\n        args: [NAME]\n"
        ),
        "shout",
    )
    result = render(model_service(), bc, ("shout", ShoutPlugin()))
    assert vllm(result)["args"] == ["DEMO"]


@pytest.mark.parametrize(
    ("source", "go"),
    [
        ("{{ .HFModelName }}", True),
        ("{{- if .HFModelName }}x{{- end }}", True),
        ('{{ default (print "/models/" .ModelPath) .HFModelName }}', True),
        ('{{ default "x" "y" }}', True),
        ("{{ $x := 1 }}", True),
        ("{{ if true }}a{{ end }}", True),
        ('{{ "http" | getPort }}', False),  # Jinja2 too, and renders the same
        ('{{ getPort("http") }}', False),
        ("{{ HFModelName | default('') }}", False),
        ("{{ not x }}", False),
        ("{{ range(3) | list }}", False),
        ("{{ x if y else z }}", False),
        ("plain text", False),
    ],
)
def test_go_templates_are_recognised_and_jinja_is_not(source, go):
    assert gotemplate.DIALECT.recognises(source) is go


REPEATED = GO_DECODE.replace(
    "      - name: vllm\n", "      - name: vllm\n        image: a:1\n        image: b:2\n"
)


def test_a_repeated_key_is_read_as_the_original_read_it_in_go_and_refused_in_jinja():
    result = render(model_service(), stated(base_config(decodeDeployment=REPEATED)))
    assert vllm(result)["image"] == "b:2"  # the last one counts, as in the original
    assert any(
        "'image' appears twice" in str(w) and "last one counts" in str(w) for w in result.warnings
    )
    jinja = REPEATED.replace('{{ default (print "/models/" .ModelPath) .HFModelName }}', "m")
    jinja = (
        jinja.replace('{{ "http" | getPort }}', "8000")
        .replace("{{- if .HFModelName }}", "")
        .replace("{{- end }}", "")
    )
    with pytest.raises(RenderError, match="'image' appears twice in one mapping"):
        render(model_service(), stated(base_config(decodeDeployment=jinja), "jinja"))


def test_the_dialect_recognises_every_function_the_interpreter_offers():
    """The recogniser's own list of function names (kept so that recognising a dialect does not
    load the interpreter) is the interpreter's list."""
    from ms_plugins.gotemplate.functions import function_names

    assert function_names(gotemplate.EXTRA_FUNCTIONS) == gotemplate.FUNCTION_NAMES
