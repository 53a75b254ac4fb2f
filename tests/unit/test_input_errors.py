"""Every bad input a user may try ends as ONE `error:` line naming the field, file or BaseConfig
key, exit status 1, nothing on standard output (issue 7, item 3), and within bounded time."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from support import PRESETS, SAMPLES

from ms_cli.main import main

MS = (SAMPLES / "hf-decode/modelservice.yaml").read_text()
BC = (PRESETS / "basic-gpu.yaml").read_text()
NO_REPLICAS = MS.replace("    replicas: 1\n", "")
TEMPLATE_LINE = "          terminationGracePeriodSeconds: 60\n"


def with_template(expression: str) -> str:
    return BC.replace(TEMPLATE_LINE, TEMPLATE_LINE.rstrip("\n") + f" # {expression}\n")


def alias_bomb() -> str:
    lines = ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, 9):
        lines.append(f"l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * 9)}]")
    return "".join(f"  {line}\n" for line in lines)


# id -> (ModelService text, BaseConfig text, extra args, words the error line holds)
CASES = {
    "replicas true": (
        MS.replace("replicas: 1", "replicas: true"),
        BC,
        [],
        "ms.yaml: spec.decode.replicas: must be an integer, got true",
    ),
    "replicas string": (
        MS.replace("replicas: 1", 'replicas: "1"'),
        BC,
        [],
        "spec.decode.replicas: must be an integer, got '1'",
    ),
    "replicas over int32": (
        MS.replace("replicas: 1", "replicas: 2147483648"),
        BC,
        [],
        "spec.decode.replicas: must be at most 2147483647",
    ),
    "5000-digit integer": (
        MS.replace("replicas: 1", "replicas: " + "9" * 5000),
        BC,
        [],
        "ms.yaml: line 20: invalid YAML: integer 99999999999999999999... does not fit in 64 bits",
    ),
    "decode is a number": (
        MS.replace("  decode:\n    replicas: 1\n", "  decode: 5\n  x:\n    replicas: 1\n"),
        BC,
        [],
        "spec.decode: must be a mapping, got 5",
    ),
    "routing is a list": (
        MS.replace("  routing:\n", "  routing: [1]\n  x:\n"),
        BC,
        [],
        "spec.routing: must be a mapping, got a list",
    ),
    "duplicate key in the ModelService": (
        MS.replace("  decode:\n", "  decode:\n    replicas: 2\n"),
        BC,
        [],
        "ms.yaml: line 21: invalid YAML: key 'replicas' appears twice in one mapping",
    ),
    "date in the ModelService": (
        MS.replace("size: 5Gi", "size: 2025-01-01"),
        BC,
        [],
        "spec.modelArtifacts.size: '2025-01-01' is not a Kubernetes quantity",
    ),
    "binary in the ModelService": (
        MS.replace("size: 5Gi", "size: !!binary aGVsbG8="),
        BC,
        [],
        "!!binary values are not supported",
    ),
    "self-referencing alias": (
        MS.replace("  decode:\n", "  decode: &a\n    x: *a\n"),
        BC,
        [],
        "an alias refers to a node that contains it",
    ),
    "alias bomb": (
        MS + "bomb:\n" + alias_bomb(),
        BC,
        [],
        "aliases expand this document beyond 100,000 nodes",
    ),
    "control characters": (
        MS.replace("name: vllm", 'name: "vl\\x07lm\\nx"'),
        BC,
        [],
        "(got 'vl\\x07lm\\nx')",
    ),
    "surrogate escape": (
        MS.replace("modelName: facebook/opt-125m", 'modelName: "a\\ud800"'),
        BC,
        [],
        "invalid YAML",
    ),
    "bad namespace": (
        MS,
        BC,
        ["-n", "Bad_NS"],
        "error: -n/--namespace: 'Bad_NS' is not a valid name",
    ),
    "empty pull secret entry": (
        MS,
        BC,
        ["--pd-pull-secrets", "a,,b"],
        "error: --pd-pull-secrets: entry 2 is empty",
    ),
    "invalid pull secret name": (
        MS,
        BC,
        ["--epp-pull-secrets", "Not_A_Name"],
        "error: --epp-pull-secrets: 'Not_A_Name' is not a valid name",
    ),
    "doubled BaseConfig volume": (
        MS,
        BC.replace(
            "          volumes:\n",
            "          volumes:\n          - name: shm\n            emptyDir: {}\n",
        ),
        [],
        "bc.yaml: decodeDeployment: spec.template.spec.volumes holds 'shm' twice",
    ),
    "doubled BaseConfig container": (
        MS,
        BC.replace(
            "          containers:\n",
            "          containers:\n          - name: vllm\n            image: x\n",
        ),
        [],
        "decodeDeployment: spec.template.spec.containers holds 'vllm' twice",
    ),
    "doubled BaseConfig port": (
        MS,
        BC.replace(
            "            - name: http\n              containerPort:",
            "            - containerPort: {{ getPort('http') }}\n            - name: http\n              containerPort:",
        ),
        [],
        "decodeDeployment: spec.template.spec.containers[0].ports holds 8000 twice",
    ),
    "doubled key in a BaseConfig value": (
        MS,
        BC.replace(TEMPLATE_LINE, TEMPLATE_LINE * 2),
        [],
        "bc.yaml: decodeDeployment: line 7 of its rendered output: rendered YAML is invalid: key 'terminationGracePeriodSeconds' appears twice",
    ),
    "BaseConfig spec is a list": (
        MS,
        BC.replace("    kind: Service\n    spec:\n", "    kind: Service\n    spec: [1]\n    x:\n"),
        [],
        "decodeService: spec: must be a mapping, got a list",
    ),
    "BaseConfig date": (
        MS,
        BC.replace(
            TEMPLATE_LINE,
            TEMPLATE_LINE
            + "          nodeSelector: {day: 2025-01-01}\n          schedulerName: !!binary aGVsbG8=\n",
        ),
        [],
        "decodeDeployment: line 8 of its rendered output: rendered YAML is invalid: !!binary",
    ),
    "BaseConfig replicas -1": (
        NO_REPLICAS,
        BC.replace(
            "    spec:\n      template:", "    spec:\n      replicas: -1\n      template:", 1
        ),
        [],
        "Deployment/opt-125m-decode (decodeDeployment): spec.replicas: must be at least 0, got -1",
    ),
    "BaseConfig image 5": (
        MS,
        BC.replace("image: vllm/vllm-openai:v0.11.0", "image: 5"),
        [],
        "decodeDeployment: spec.template.spec.containers[0].image: must be a string, got 5",
    ),
    "container without an image": (
        MS,
        BC.replace("            image: vllm/vllm-openai:v0.11.0\n", ""),
        [],
        "containers[0].image: is required",
    ),
    "port out of range": (
        MS,
        BC.replace('containerPort: {{ getPort("http") }}', "containerPort: 99999"),
        [],
        "containerPort: must be between 1 and 65535, got 99999",
    ),
    "tojson of an undefined variable": (
        MS,
        BC.replace("{{ ModelName | tojson }}", "{{ ModelNme | tojson }}"),
        [],
        "decodeDeployment: line 18 of its template: 'ModelNme' is undefined",
    ),
    "lipsum": (
        MS,
        with_template("{{ lipsum(10**5) }}"),
        [],
        "decodeDeployment: line 6 of its template: 'lipsum' is undefined",
    ),
    "nested ranges": (
        MS,
        with_template(
            "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
        ),
        [],
        "more than 100,000 loop iterations",
    ),
    "string times a billion": (
        MS,
        with_template("{{ 'a' * 10**9 }}"),
        [],
        "would be 1,000,000,000 characters long",
    ),
    "endless macro": (
        MS,
        with_template("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}"),
        [],
        "recursion too deep",
    ),
}


def run(tmp_path: Path, ms: str, bc: str, args: list[str]):
    (tmp_path / "ms.yaml").write_text(ms)
    (tmp_path / "bc.yaml").write_text(bc)
    return CliRunner().invoke(
        main,
        ["render", "-f", str(tmp_path / "ms.yaml"), "-b", str(tmp_path / "bc.yaml"), *args],
    )


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_bad_input_is_one_error_line_naming_it(tmp_path: Path, case: str):
    ms, bc, args, words = CASES[case]
    start = time.perf_counter()
    result = run(tmp_path, ms, bc, args)
    assert time.perf_counter() - start < 10
    assert result.exit_code == 1, result.stdout[:300]
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")
    assert result.stderr.count("\n") == 1, result.stderr
    assert "internal error" not in result.stderr
    assert words in result.stderr


def test_a_field_the_kind_does_not_have_is_a_warning_and_strict_makes_it_an_error(tmp_path: Path):
    bc = BC.replace(
        "    kind: Service\n    spec:\n      type: ClusterIP\n",
        "    kind: Service\n    type: ClusterIP\n    spec:\n",
    )
    result = run(tmp_path, MS, bc, [])
    assert result.exit_code == 0
    assert result.stderr == (
        f"warning: {tmp_path / 'ms.yaml'}: Service/opt-125m-service-decode (decodeService): "
        "type: unknown field, the API server drops it (did you mean spec.type?)\n"
    )
    assert "kind: Service" in result.stdout
    strict = run(tmp_path, MS, bc, ["--strict"])
    assert strict.exit_code == 1 and strict.stdout == ""
    assert strict.stderr.count("\n") == 1 and "type: unknown field" in strict.stderr


def test_dates_in_a_base_config_stay_strings(tmp_path: Path):
    bc = BC.replace(TEMPLATE_LINE, TEMPLATE_LINE + "          nodeSelector: {day: 2025-01-01}\n")
    result = run(tmp_path, MS, bc, [])
    assert result.exit_code == 0, result.stderr
    assert "day: '2025-01-01'" in result.stdout
