"""The Go text/template interpreter: Go's output for what the original's BaseConfigs could use."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ms_plugins.gotemplate.interpreter import MAX_ITERATIONS, MAX_OUTPUT, GoTemplate
from ms_plugins.gotemplate.syntax import GoTemplateError

DATA = {
    "HFModelName": "org/model",
    "ModelPath": "models/llama",
    "Empty": "",
    "N": 3,
    "Zero": 0,
    "List": [1, 2],
    "Map": {"a": 1, "b": "x"},
}


def go(source: str, data: dict | None = None, ports: dict | None = None) -> str:
    def get_port(name: str) -> int:
        return (ports or {"http": 8000})[name]

    template = GoTemplate(source, frozenset({"getPort"}))
    return template.execute(DATA if data is None else data, {"getPort": get_port})


def go_error(source: str) -> GoTemplateError:
    with pytest.raises(GoTemplateError) as caught:
        go(source)
    return caught.value


@pytest.mark.parametrize(
    ("source", "output"),
    [
        ("{{ .HFModelName }}", "org/model"),
        ('{{ "http" | getPort }}', "8000"),
        ('{{ default (print "/models/" .ModelPath) .HFModelName }}', "org/model"),
        ('{{ default (print "/models/" .ModelPath) .Empty }}', "/models/models/llama"),
        ('{{ .Empty | default "d" }}', "d"),
        ("{{ if .HFModelName }}hf{{ else }}pvc{{ end }}", "hf"),
        ("{{ if .Empty }}a{{ else if .Zero }}b{{ else }}c{{ end }}", "c"),
        (
            "{{ if .List }}{{ range $i, $e := .List }}{{ $i }}={{ $e }};{{ end }}{{ end }}",
            "0=1;1=2;",
        ),
        ("{{ range .List }}[{{ . }}]{{ else }}none{{ end }}", "[1][2]"),
        ("{{ range .Map.missing }}x{{ else }}none{{ end }}", "none"),
        ("{{ range $k, $v := .Map }}{{ $k }}{{ $v }}{{ end }}", "a1bx"),
        ("{{ with .Map }}{{ .b }}{{ end }}{{ with .Empty }}x{{ else }}y{{ end }}", "xy"),
        ("{{ .Map.missing }}", "<no value>"),
        ("{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ end }}{{ $x }}", "2"),
        ("{{ range .List }}{{ if eq . 2 }}{{ break }}{{ end }}{{ . }}{{ end }}", "1"),
        ("{{ range .List }}{{ if eq . 1 }}{{ continue }}{{ end }}{{ . }}{{ end }}", "2"),
        ('{{ and 1 0 2 }} {{ or 0 "" 5 }} {{ and .N .HFModelName }}', "0 5 org/model"),
        (
            '{{ not .Zero }} {{ eq .N 1 2 3 }} {{ ne .N 3 }} {{ lt 1 2 }} {{ ge "b" "a" }}',
            "true true false true true",
        ),
        ('{{ len .List }} {{ len "héllo" }} {{ index .List 1 }} {{ index .Map "b" }}', "2 6 2 x"),
        ('{{ print 1 2 "a" 3 }}|{{ println "a" 1 }}', "1 2a3|a 1\n"),
        (
            '{{ printf "%s-%d-%05d-%q-%v-%t" "a" 3 42 "q\\"" .List true }}',
            'a-3-00042-"q\\""-[1 2]-true',
        ),
        ('{{ printf "%d" "x" }} {{ printf "%s" }}', "%!d(string=x) %!s(MISSING)"),
        (
            "{{ 1.5 }} {{ 1e6 }} {{ 100000.0 }} {{ 0x1F }} {{ -7 }} {{ print nil }}",
            "1.5 1e+06 100000 31 -7 <nil>",
        ),
        ('{{ quote .HFModelName "x\\n" }} {{ squote "a" }}', '"org/model" "x\\n" \'a\''),
        ('{{ trim "  a \\n" }}{{ lower "AB" }}{{ upper "c" }}{{ trimPrefix "-" "-x" }}', "aabCx"),
        ('{{ "a\\nb" | indent 2 }}|{{ "a" | nindent 2 }}', "  a\n  b|\n  a"),
        (
            '{{ replace "a" "b" "aXa" }} {{ contains "X" "aXa" }} {{ join "," (list 1 "b") }}',
            "bXb true 1,b",
        ),
        (
            '{{ toJson (dict "k" "<v>") }} {{ add 1 2 }} {{ sub 5 7 }} {{ div -7 2 }} {{ mod -7 2 }}',
            '{"k":"\\u003cv\\u003e"} 3 -2 -3 -1',
        ),
        ('{{ coalesce "" 0 "z" }} {{ ternary "y" "n" true }} {{ empty .Empty }}', "z y true"),
        ("{{/* a comment */}}x{{- /* trimmed */ -}} y", "xy"),
        ("{{ `raw {{ }} \\n` }}", "raw {{ }} \\n"),
        (
            '--kv-transfer-config={"kv_connector":"NixlConnector"}}',
            '--kv-transfer-config={"kv_connector":"NixlConnector"}}',
        ),
        ("${POD_IP}:8200", "${POD_IP}:8200"),
    ],
)
def test_go_output(source, output):
    assert go(source) == output


def test_trimming_at_list_indentation_as_in_the_deployer_presets():
    source = (
        "env:\n  - name: A\n    value: a\n  {{- if .HFModelName }}\n  - name: HF\n    value: x\n"
        "  {{- else }}\n  - name: PVC\n  {{- end }}\nmounts: []\n"
    )
    assert go(source) == "env:\n  - name: A\n    value: a\n  - name: HF\n    value: x\nmounts: []\n"
    assert go(source, {**DATA, "HFModelName": ""}) == (
        "env:\n  - name: A\n    value: a\n  - name: PVC\nmounts: []\n"
    )


_SPACE = st.text(alphabet=" \t\r\n", max_size=6)
_TEXT = st.text(alphabet="ab \t\n\r\x0b\x0c", max_size=8)


@given(before=_TEXT, after=_TEXT, left=st.booleans(), right=st.booleans(), inner=_SPACE)
def test_trim_markers_remove_exactly_go_space_characters(before, after, left, right, inner):
    """`{{- ` removes trailing space, tab, CR and LF from the text before; ` -}}` leading ones
    from the text after; nothing else (not \\v or \\f, which Go does not trim)."""
    action = "{{" + ("- " if left else " ") + '"X"' + inner + (" -" if right else " ") + "}}"
    expected = (before.rstrip(" \t\r\n") if left else before) + "X"
    expected += after.lstrip(" \t\r\n") if right else after
    assert go(before + action + after) == expected


@given(st.text(alphabet=st.characters(blacklist_characters="{}"), max_size=40))
def test_text_without_actions_passes_through(text):
    assert go(text) == text


def test_a_minus_without_space_is_a_number_not_a_trim_marker():
    assert go("a {{-3}} b") == "a -3 b"


@pytest.mark.parametrize(
    ("source", "message", "line"),
    [
        ("a\nb\n{{ .Nope }}", "can't evaluate field Nope", 3),
        ('{{ template "x" }}', "{{ template }} (named templates) is not supported", 1),
        ('{{ define "x" }}{{ end }}', "{{ define }} (named templates) is not supported", 1),
        ("\n{{ toYaml .List }}", 'function "toYaml" is not offered', 2),
        ('{{ env "HOME" }}', 'function "env" is not offered', 1),
        ("{{ nosuch 1 }}", 'function "nosuch" not defined', 1),
        ("x\n{{ if .N }}\n", "{{if}} has no {{end}}", 2),
        ("{{ end }}", "unexpected {{end}}", 1),
        ("{{ $y }}", "undefined variable '$y'", 1),
        ("{{ if true }}{{ $y := 1 }}{{ end }}{{ $y }}", "undefined variable '$y'", 1),
        ("{{ break }}", "{{break}} outside {{range}}", 1),
        ("{{ 'a' }}", "character constants", 1),
        ("{{ .N", "unclosed action", 1),
        ('{{ eq "a" 1 }}', "incompatible types for comparison", 1),
        ("{{ index .List 5 }}", "index out of range", 1),
        ("{{ .HFModelName 1 }}", "is not a function", 1),
        ('{{ "a" | "b" }}', "non executable command", 1),
        ("\n\n{{ .HFModelName.X }}", "can't evaluate field X in type str", 3),
    ],
)
def test_errors_name_the_construct_and_line(source, message, line):
    error = go_error(source)
    assert message in error.message
    assert error.line == line


def test_output_and_loops_are_bounded():
    assert (
        "output longer than" in go_error('{{ range 200 }}{{ repeat 10000 "x" }}{{ end }}').message
    )
    many = f"{{{{ range {MAX_ITERATIONS + 1} }}}}{{{{ end }}}}"
    assert "range over more than" in go_error(many).message
    nested = "{{ range 400 }}{{ range 400 }}{{ end }}{{ end }}"
    assert "range iterations" in go_error(nested).message
    assert "more than" in go_error(f'{{{{ repeat {MAX_OUTPUT + 1} "x" }}}}').message


def test_no_function_reaches_files_environment_or_clock():
    for name in ("env", "expandenv", "now", "readFile", "exec", "call", "html", "js"):
        with pytest.raises(GoTemplateError):
            go(f"{{{{ {name} }}}}")
