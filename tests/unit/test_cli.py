"""msctl as a user meets it: outputs, formats, and one-line errors with the right exit status."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
import yaml
from click.testing import CliRunner
from support import PRESETS, ROOT, SAMPLES, own_entry_points

from ms_cli.main import main
from ms_engine.plugins import ALLOW_ENV

PD = ["-f", str(SAMPLES / "pd-nixl/modelservice.yaml"), "-b", str(PRESETS / "pd-nixl.yaml")]


@pytest.fixture(autouse=True)
def only_the_projects_own_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    """Installed third-party plugins cannot change what these tests see."""
    monkeypatch.setenv(ALLOW_ENV, ",".join(own_entry_points()))


def msctl(*args: str, input: str | None = None):
    return CliRunner().invoke(main, list(args), input=input)


def run_process(*args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    """The real entry point in a process: what a user's shell sees, tracebacks included."""
    return subprocess.run(
        [sys.executable, "-m", "ms_cli", *args],
        input=input,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )


def test_render_prints_every_object_in_apply_order_as_yaml():
    result = msctl("render", *PD)
    assert result.exit_code == 0, result.stderr
    kinds = [doc["kind"] for doc in yaml.safe_load_all(result.stdout)]
    assert kinds == [
        "ServiceAccount",
        "ServiceAccount",
        "Role",
        "RoleBinding",
        "ConfigMap",
        "Deployment",
        "Deployment",
        "Deployment",
        "Service",
        "Service",
        "Service",
        "InferencePool",
        "HTTPRoute",
    ]
    assert result.stderr == ""


def items(result) -> list[dict]:
    """The objects of `-o json` output: a v1 List, as `kubectl get -o json` prints one."""
    listed = json.loads(result.stdout)
    assert (listed["apiVersion"], listed["kind"]) == ("v1", "List")
    return listed["items"]


def test_render_json_is_a_list_of_the_same_objects():
    as_json = items(msctl("render", *PD, "-o", "json"))
    as_yaml = list(yaml.safe_load_all(msctl("render", *PD).stdout))
    assert as_json == as_yaml


def test_render_reads_standard_input():
    text = (SAMPLES / "pd-nixl/modelservice.yaml").read_text()
    result = msctl("render", "-f", "-", "-b", str(PRESETS / "pd-nixl.yaml"), input=text)
    assert result.exit_code == 0 and "llama-8b-pd-decode" in result.stdout


def test_render_options_reach_the_objects():
    result = msctl(
        "render",
        *PD,
        "-n",
        "prod",
        "--pd-pull-secrets",
        "a,b",
        "--epp-pull-secrets",
        "x",
        "--epp-cluster-role",
        "epp-reader",
        "-o",
        "json",
    )
    objects = {(o["kind"], o["metadata"]["name"]): o for o in items(result)}
    assert {o["metadata"]["namespace"] for o in objects.values()} == {"prod"}
    assert objects[("ServiceAccount", "llama-8b-pd-sa")]["imagePullSecrets"] == [
        {"name": "a"},
        {"name": "b"},
    ]
    assert objects[("ServiceAccount", "llama-8b-pd-epp-sa")]["imagePullSecrets"] == [{"name": "x"}]
    assert (
        objects[("RoleBinding", "llama-8b-pd-epp-rolebinding")]["roleRef"]["kind"] == "ClusterRole"
    )
    assert ("Role", "llama-8b-pd-epp") not in objects


def test_owner_references_appear_when_the_input_has_a_uid(tmp_path: Path):
    document = yaml.safe_load((SAMPLES / "hf-decode/modelservice.yaml").read_text())
    document["metadata"]["uid"] = "abc-123"
    path = tmp_path / "ms.yaml"
    path.write_text(yaml.safe_dump(document))
    objects = items(
        msctl("render", "-f", str(path), "-b", str(PRESETS / "basic-gpu.yaml"), "-o", "json")
    )
    assert all(o["metadata"]["ownerReferences"][0]["uid"] == "abc-123" for o in objects)


def test_stage_template_prints_the_rendered_base_config_objects():
    output = msctl("stage", "template", *PD).stdout
    objects = list(yaml.safe_load_all(output))
    assert [o["kind"] for o in objects] == [
        "Deployment",
        "Deployment",
        "Service",
        "Service",
        "Deployment",
        "Service",
        "InferencePool",
        "HTTPRoute",
        "ConfigMap",
    ]
    assert "name" not in objects[0].get("metadata", {})
    labels = re.findall(r"^---\n# BaseConfig key: (\S+)\n", output, flags=re.MULTILINE)
    assert labels == [
        "decodeDeployment",
        "prefillDeployment",
        "decodeService",
        "prefillService",
        "eppDeployment",
        "eppService",
        "inferencePool",
        "httpRoute",
        "configMaps[0]",
    ]


def test_stage_labels_desired_objects_by_component_and_the_rest_by_key():
    output = msctl("stage", "workload", *PD).stdout
    labels = re.findall(r"^---\n# (.+)\n", output, flags=re.MULTILINE)
    assert labels[:2] == ["component: decodeDeployment", "component: prefillDeployment"]
    assert "BaseConfig key: inferencePool" in labels
    assert len(labels) == len(list(yaml.safe_load_all(output)))
    listed = items(msctl("stage", "workload", *PD, "-o", "json"))
    assert len(listed) == len(labels)  # JSON has no comments; the objects stay untouched


def test_stage_merge_prints_the_merged_objects_under_their_names():
    objects = list(yaml.safe_load_all(msctl("stage", "merge", *PD).stdout))
    names = [(o["kind"], o["metadata"].get("name")) for o in objects]
    assert ("Deployment", "llama-8b-pd-decode") in names and (
        "InferencePool",
        "llama-8b-pd-inference-pool",
    ) in names
    decode = objects[0]
    assert decode["spec"]["replicas"] == 2
    assert decode["spec"]["template"]["spec"]["containers"][0]["args"][:2] == [
        "--max-model-len",
        "16384",
    ]


def test_stage_workload_prints_objects_so_far_then_documents_on_their_way():
    objects = list(yaml.safe_load_all(msctl("stage", "model_source", *PD).stdout))
    decode = objects[0]
    assert {"name": "model-storage", "emptyDir": {"sizeLimit": "40Gi"}} in decode["spec"][
        "template"
    ]["spec"]["volumes"]
    after_workload = list(yaml.safe_load_all(msctl("stage", "workload", *PD).stdout))
    named = [o["metadata"]["name"] for o in after_workload if o.get("metadata", {}).get("name")]
    assert named[:4] == [
        "llama-8b-pd-decode",
        "llama-8b-pd-prefill",
        "llama-8b-pd-service-decode",
        "llama-8b-pd-service-prefill",
    ]
    assert "InferencePool" in [o["kind"] for o in after_workload]


def test_stage_with_an_unknown_name_is_a_usage_error():
    result = msctl("stage", "deploy", *PD)
    assert result.exit_code == 2 and "stages: template, merge, model-source" in result.stderr


def test_stage_help_lists_the_stages_in_order():
    result = msctl("stage", "--help")
    assert result.exit_code == 0
    section = result.stdout.split("Stages, in order", 1)[1].split("\nOptions:", 1)[0]
    names = re.findall(r"^  (\S+)\s", section, flags=re.MULTILINE)
    stages = json.loads(msctl("plugins", "-o", "json").stdout)["stages"]
    assert names == [s["name"] for s in stages]
    assert names[:3] == ["template", "merge", "model-source"] and "apply" in names


def test_plugins_lists_stages_in_order_and_plugins_with_hooks():
    result = msctl("plugins", "-o", "json")
    listing = json.loads(result.stdout)
    assert [s["name"] for s in listing["stages"]] == [
        "template",
        "merge",
        "model-source",
        "workload",
        "routing",
        "rbac",
        "validate",
        "apply",
    ]
    plugins = {p["name"]: p for p in listing["plugins"]}
    assert plugins["huggingface"]["hooks"] == ["ms_model_schemes", "ms_model_source"]
    assert plugins["huggingface"]["schemes"] == ["hf"]
    assert "ms_router" in plugins["gie"]["hooks"]
    text = msctl("plugins").stdout
    assert text.startswith("stages:\n  1. template") and "oci" in text


def test_crd_prints_the_committed_crd():
    assert yaml.safe_load(msctl("crd").stdout) == yaml.safe_load(
        (ROOT / "deploy/crds/llm-d.ai_modelservices.yaml").read_text()
    )


def test_warnings_go_to_standard_error_and_the_render_still_succeeds(tmp_path: Path):
    preset = yaml.safe_load((PRESETS / "basic-gpu.yaml").read_text())
    preset["data"]["decodeDeploymnet"] = "x"
    path = tmp_path / "bc.yaml"
    path.write_text(yaml.safe_dump(preset))
    result = msctl("render", "-f", str(SAMPLES / "hf-decode/modelservice.yaml"), "-b", str(path))
    assert result.exit_code == 0
    assert (
        result.stderr
        == f"warning: {path}: data.decodeDeploymnet: unknown key, ignored (did you mean decodeDeployment?)\n"
    )
    strict = msctl(
        "render", "-f", str(SAMPLES / "hf-decode/modelservice.yaml"), "-b", str(path), "--strict"
    )
    assert strict.exit_code == 1 and strict.stdout == "" and strict.stderr.startswith("error: ")


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


MS = (SAMPLES / "hf-decode/modelservice.yaml").read_text()
BC = str(PRESETS / "basic-gpu.yaml")


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"ms.yaml": "spec: [unclosed\n"}, "error: {ms.yaml}: line 2: invalid YAML"),
        (
            {"ms.yaml": MS.replace("modelName: facebook/opt-125m", "modelName: ''")},
            "error: {ms.yaml}: spec.routing.modelName: String should have at least 1 character",
        ),
        (
            {"ms.yaml": MS.replace("replicas: 1", "replicas: -2")},
            "error: {ms.yaml}: spec.decode.replicas: must be at least 0, got -2",
        ),
        (
            {"ms.yaml": MS.replace("hf://facebook/opt-125m", "s3://bucket/opt")},
            "error: {ms.yaml}: spec.modelArtifacts.uri: no plugin serves the scheme 's3' (loaded schemes: hf, oci, pvc)",
        ),
        (
            {"ms.yaml": MS.replace("name: http", "name: web")},
            "error: "
            + BC
            + ": decodeDeployment: line 16 of its template: port 'http' is not in spec.routing.ports (defined: web)",
        ),
        (
            {
                "ms.yaml": MS,
                "bc.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: basic-gpu}\ndata:\n  decodeService: '{{ Nope }}'\n",
            },
            "error: {bc.yaml}: decodeService: line 1 of its template: 'Nope' is undefined",
        ),
        (
            {
                "ms.yaml": MS,
                "bc.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: basic-gpu}\ndata:\n  decodeService: |\n    kind: Service\n    spec: {{ '[' }}\n",
            },
            "error: {bc.yaml}: decodeService: line 3 of its rendered output: rendered YAML is invalid",
        ),
        (
            {
                "ms.yaml": MS,
                "bc.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: basic-gpu}\ndata:\n  decodeService: 'kind: Pod'\n",
            },
            "error: {bc.yaml}: decodeService: must be a Service (v1), got v1 Pod",
        ),
    ],
)
def test_bad_input_gives_one_error_line_and_exit_1(tmp_path, files, expected):
    paths = {name: write(tmp_path, name, text) for name, text in files.items()}
    args = ["render", "-f", paths["ms.yaml"], "-b", paths.get("bc.yaml", BC)]
    result = run_process(*args)
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    for name, path in paths.items():
        expected = expected.replace("{" + name + "}", path)
    assert lines[0].startswith(expected), lines[0]


def test_a_missing_file_and_a_missing_base_config_are_named(tmp_path):
    missing = run_process("render", "-f", str(tmp_path / "nope.yaml"))
    assert (missing.returncode, missing.stderr) == (
        1,
        f"error: {tmp_path / 'nope.yaml'}: no such file\n",
    )
    no_bc = run_process("render", "-f", str(SAMPLES / "hf-decode/modelservice.yaml"))
    assert no_bc.returncode == 1
    assert (
        no_bc.stderr
        == f"error: {SAMPLES / 'hf-decode/modelservice.yaml'}: spec.baseConfigMapRef: names BaseConfig 'basic-gpu'; pass it with -b (msctl renders offline; a bundled preset has that name: -b basic-gpu)\n"
    )


def test_a_base_config_file_of_several_picks_the_one_the_model_service_names(tmp_path):
    both = write(
        tmp_path,
        "presets.yaml",
        (PRESETS / "pd-nixl.yaml").read_text()
        + "\n---\n"
        + (PRESETS / "basic-gpu.yaml").read_text(),
    )
    result = msctl(
        "render", "-f", str(SAMPLES / "hf-decode/modelservice.yaml"), "-b", both, "-o", "json"
    )
    assert result.exit_code == 0
    assert [o["kind"] for o in items(result)] == [
        "ServiceAccount",
        "Deployment",
        "Service",
    ]


def test_usage_errors_exit_2():
    assert run_process("render").returncode == 2
    assert run_process("render", *PD, "-o", "xml").returncode == 2


HELP_PROBE = """
import sys
from click.testing import CliRunner
from ms_cli.main import main
result = CliRunner().invoke(main, sys.argv[1:])
assert result.exit_code == 0, result.output
print(" ".join(sorted(m for m in ("pydantic", "jinja2", "ms_engine", "ms_devcluster") if m in sys.modules)))
"""


@pytest.mark.parametrize(
    ("command", "loads"),
    [
        ([], ""),
        (["render"], ""),
        (["plugins"], ""),
        (["crd"], ""),
        (["reconcile"], ""),
        (["diff"], ""),
        (["run"], ""),
        (["dev"], "ms_devcluster"),
        (["dev", "cluster"], "ms_devcluster"),
        (["dev", "cluster", "up"], "ms_devcluster"),
        (["dev", "cluster", "down"], "ms_devcluster"),
        (["dev", "cluster", "env"], "ms_devcluster"),
        (["dev", "cluster", "status"], "ms_devcluster"),
        (["stage"], "jinja2 ms_engine pydantic"),  # it lists the stages of the pipeline
    ],
)
def test_help_of_every_command_loads_only_what_it_needs(command, loads):
    probe = subprocess.run(
        [sys.executable, "-c", HELP_PROBE, *command, "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.splitlines()[-1] == loads


GC_PROBE = """
import atexit, gc, sys
atexit.register(lambda: print("collector", "on" if gc.isenabled() else "off"))
sys.argv = ["msctl", *sys.argv[1:]]
from ms_cli.main import run
run()
"""


@pytest.mark.parametrize(
    ("command", "collector"),
    [(["run", "--help"], "on"), (["dev", "--help"], "on"), (["render", "--help"], "off")],
)
def test_long_running_commands_keep_the_garbage_collector(command, collector):
    """Short commands pause the cyclic garbage collector (start-up time); the controller and the
    local plane, which run for hours, must not."""
    probe = subprocess.run(
        [sys.executable, "-c", GC_PROBE, *command], capture_output=True, text=True, check=False
    )
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.splitlines()[-1] == f"collector {collector}"


ENTRY_POINT_PROBE = """
import importlib.metadata as metadata, sys
groups = []
scan = metadata.entry_points
metadata.entry_points = lambda **selection: (groups.append(selection.get("group")), scan(**selection))[1]
sys.argv = ["msctl", *sys.argv[1:]]
from ms_cli.main import run
try:
    run()
except SystemExit as end:
    assert not end.code, end.code
print(" ".join(sorted(str(g) for g in groups)), file=sys.stderr)
"""


@pytest.mark.parametrize(("setting", "pydantic_scans"), [(None, False), ("", True)])
def test_pydantic_plugins_are_looked_for_only_when_asked(setting, pydantic_scans):
    """Start-up time: pydantic's plugin lookup reads every installed distribution's entry points,
    a second scan after ours. msctl turns it off unless PYDANTIC_DISABLE_PLUGINS is set (empty:
    look for them)."""
    environment = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    if setting is not None:
        environment["PYDANTIC_DISABLE_PLUGINS"] = setting
    probe = subprocess.run(
        [sys.executable, "-c", ENTRY_POINT_PROBE, "render", *PD],
        capture_output=True,
        text=True,
        check=False,
        env=environment,
    )
    assert probe.returncode == 0, probe.stderr
    scanned = probe.stderr.splitlines()[-1].split()
    assert "modelservice.plugins" in scanned  # our plugins are still found
    assert ("pydantic" in scanned) is pydantic_scans


RENDER_PROBE = """
import runpy, sys
sys.argv = ["msctl", *sys.argv[1:]]
try:
    runpy.run_module("ms_cli", run_name="__main__")
except SystemExit as end:
    assert not end.code, end.code
loaded = sorted(m for m in sys.modules if m.startswith("ms_plugins.gotemplate."))
print(" ".join(loaded), file=sys.stderr)
"""


def test_rendering_a_jinja_base_config_never_loads_the_go_template_interpreter():
    """Start-up time: the `go` dialect recognises its syntax without its parser and interpreter,
    which load only when a BaseConfig is rendered as Go."""
    probe = subprocess.run(
        [sys.executable, "-c", RENDER_PROBE, "render", *PD],
        capture_output=True,
        text=True,
        check=False,
    )
    assert probe.returncode == 0, probe.stderr
    assert "kind: Deployment" in probe.stdout
    assert probe.stderr.splitlines()[-1] == ""


def test_render_loads_no_cluster_client_and_no_dev_tools():
    probe = HELP_PROBE.replace(
        '("pydantic", "jinja2", "ms_engine", "ms_devcluster")',
        '("kubernetes", "ms_controller", "ms_devcluster", "ms_engine.api.crd")',
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, "render", *PD], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == ""


def test_every_command_is_listed_with_the_first_line_of_its_help():
    from ms_cli.main import COMMANDS

    context = click.Context(main, info_name="msctl")
    for name, (_, short_help) in COMMANDS.items():
        command = main.get_command(context, name)
        assert command is not None and command.help is not None
        assert " ".join(command.help.split("\n\n")[0].split()) == short_help, name
    assert sorted(main.list_commands(context)) == sorted(COMMANDS)


def test_version_names_the_installed_distribution():
    from importlib.metadata import version

    result = run_process("--version")
    assert (result.returncode, result.stdout) == (0, f"msctl, version {version('modelservice')}\n")


def test_base_config_by_the_name_of_a_bundled_preset():
    by_name = msctl("render", "-f", str(SAMPLES / "pd-nixl/modelservice.yaml"), "-b", "pd-nixl")
    assert by_name.exit_code == 0, by_name.stderr
    assert by_name.stdout == msctl("render", *PD).stdout
    unknown = run_process("render", "-f", str(SAMPLES / "pd-nixl/modelservice.yaml"), "-b", "pd")
    assert (unknown.returncode, unknown.stderr) == (
        1,
        "error: -b pd: no such file, and no bundled preset of that name (bundled: basic-gpu, pd-nixl, sim)\n",
    )


def test_one_file_may_hold_the_model_service_and_its_base_config(tmp_path):
    both = write(
        tmp_path,
        "all.yaml",
        (SAMPLES / "hf-decode/modelservice.yaml").read_text()
        + "\n---\n"
        + (PRESETS / "basic-gpu.yaml").read_text(),
    )
    result = msctl("render", "-f", both, "-o", "json")
    assert result.exit_code == 0 and len(items(result)) == 3


def test_a_base_config_file_without_the_named_config_map_is_an_error(tmp_path):
    two = write(
        tmp_path,
        "two.yaml",
        (PRESETS / "pd-nixl.yaml").read_text() + "\n---\n" + (PRESETS / "sim.yaml").read_text(),
    )
    result = run_process("render", "-f", str(SAMPLES / "hf-decode/modelservice.yaml"), "-b", two)
    assert (result.returncode, result.stderr) == (
        1,
        f"error: {two}: none of its ConfigMaps is named 'basic-gpu'\n",
    )
