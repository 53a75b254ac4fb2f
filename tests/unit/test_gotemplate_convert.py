"""`msctl convert`: Go templates become Jinja2 that renders the same text, or a named error."""

from __future__ import annotations

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from ms_cli.main import main
from ms_engine.templating import TemplateEngine
from ms_plugins.gotemplate import go_variables
from ms_plugins.gotemplate.interpreter import GoTemplate
from ms_plugins.gotemplate.jinja import to_jinja
from ms_plugins.gotemplate.syntax import GoTemplateError

HF = {"HFModelName": "org/m", "ModelPath": "org/m", "ModelName": "M", "Ports": {"http": 8000},
      "DecodeTensorParallelism": 2}  # fmt: skip
PVC = {"ModelPath": "models/x", "ModelName": "M", "Ports": {"http": 8000},
       "DecodeTensorParallelism": 1}  # fmt: skip


def go(source: str, variables: dict) -> str:
    ports = variables["Ports"]
    template = GoTemplate(source, frozenset({"getPort"}))
    return template.execute(go_variables(variables), {"getPort": lambda name: ports[name]})


def jinja(source: str, variables: dict) -> str:
    return TemplateEngine().render("key", to_jinja(source), variables)


def same_everywhere(source: str) -> None:
    for variables in (HF, PVC):
        assert jinja(source, variables) == go(source, variables), to_jinja(source)


@pytest.mark.parametrize(
    "source",
    [
        'args:\n- {{ default (print "/models/" .ModelPath) .HFModelName }}\n',
        "env:\n  - name: A\n  {{- if .HFModelName }}\n  - name: HF\n  {{- else }}\n  - name: P\n  {{- end }}\nx: 1\n",
        'port: {{ "http" | getPort }} tp: {{ .DecodeTensorParallelism }}',
        '{{ if eq .ModelName "M" }}m{{ else if .HFModelName }}hf{{ else }}other{{ end }}',
        "{{ $p := .ModelPath }}{{ if $p }}{{ $p }}{{ end }}",
        '{{ range $i, $e := (list "a" "b") }}{{ $i }}{{ $e }},{{ end }}',
        "{{ range .DecodeTensorParallelism }}[{{ . }}]{{ end }}",
        "{{ with .HFModelName }}{{ . }}{{ else }}none{{ end }}",
        '{{ lower .ModelName }}{{ upper .ModelPath }}{{ printf "%s-%d" .ModelName 3 }}',
        '{{ print 1 2 "a" }} {{ not .HFModelName }} {{ and .ModelName .ModelPath }}',
        '--kv-transfer-config={"kv_connector":"NixlConnector"}} {% raw %} {# x #}',
        'a  {{- /* gone */ -}}  b\n{{- "" }}\n',
    ],
)
def test_converted_templates_render_the_same_text(source):
    same_everywhere(source)


_WS = st.sampled_from(["", " ", "\n", "  \n  ", "\t", "\n\n"])
_WORD = st.sampled_from(["a", "- x", "key: v", ""])


@st.composite
def templates(draw):
    parts = []
    for _ in range(draw(st.integers(1, 4))):
        left = "- " if draw(st.booleans()) else " "
        right = " -" if draw(st.booleans()) else " "
        action = draw(st.sampled_from(
            ["{L}.ModelPath{R}", "{L}if .HFModelName{R}X{L}else{R}Y{L}end{R}", '{L}"q"{R}']
        ))  # fmt: skip
        action = action.replace("{L}", "{{" + left).replace("{R}", right + "}}")
        action = action.replace("X", draw(_WS) + draw(_WORD) + draw(_WS))
        action = action.replace("Y", draw(_WS) + draw(_WORD) + draw(_WS))
        parts.append(draw(_WS) + draw(_WORD) + draw(_WS) + action)
    return "".join(parts) + draw(_WS)


@settings(max_examples=150, deadline=None)
@given(templates())
def test_whitespace_trimming_survives_conversion(source):
    same_everywhere(source)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("{{ .Nope }}", "can't evaluate field Nope"),
        ("{{ range .ModelPath }}x{{ end }}", "cannot translate range"),
        ('{{ eq .ModelName "a" | not | print }}', "cannot translate print"),
        ("{{ quote .ModelName }}", 'cannot translate function "quote"'),
        ("{{ 1.5 }}", "cannot translate the number 1.5"),
        ("x\n{{ range (list 1) }}{{ break }}{{ end }}", "cannot translate {{break}}"),
    ],
)
def test_what_cannot_be_translated_exactly_is_named(source, message):
    with pytest.raises(GoTemplateError, match=message.replace("{", r"\{").replace("(", r"\(")):
        to_jinja(source)


GO_BC = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: old
data:
  decodeDeployment: |
    spec:
      template:
        spec:
          containers:
          - name: vllm
            args: ["{{ .HFModelName }}"]
"""


def test_msctl_convert_rewrites_and_marks_the_base_config(tmp_path):
    path = tmp_path / "old.yaml"
    path.write_text(GO_BC)
    result = CliRunner().invoke(main, ["convert", "-f", str(path)])
    assert result.exit_code == 0, result.output
    (converted,) = yaml.safe_load_all(result.stdout)
    assert converted["metadata"]["annotations"] == {
        "modelservice.llm-d.ai/template-dialect": "jinja",
        "modelservice.llm-d.ai/decoding": "typed",
    }
    assert '{{ (HFModelName | default("")) }}' in converted["data"]["decodeDeployment"]


def test_msctl_convert_names_what_it_cannot_translate(tmp_path):
    path = tmp_path / "old.yaml"
    path.write_text(GO_BC.replace("{{ .HFModelName }}", "{{ quote .HFModelName }}"))
    result = CliRunner().invoke(main, ["convert", "-f", str(path)])
    assert result.exit_code == 1
    assert result.output.startswith(f"error: {path}: data.decodeDeployment: line 6: ")
    assert 'cannot translate function "quote"' in result.output
