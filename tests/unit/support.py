"""Helpers shared by the unit tests: sample inputs and ways to look into a render."""

from __future__ import annotations

import copy
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

from ms_engine import Renderer, RenderOptions, RenderResult
from ms_engine.plugins import make_plugin_manager
from ms_plugins import gie, huggingface, oci, pvc

ROOT = Path(__file__).resolve().parents[2]
PRESETS = ROOT / "deploy" / "presets"
SAMPLES = ROOT / "samples"
BUNDLED = [("huggingface", huggingface), ("pvc", pvc), ("oci", oci), ("gie", gie)]


def docs_example(first_line: str) -> str:
    """The python block of docs/plugins.md that starts with `first_line` (a file-name comment)."""
    text = (ROOT / "docs" / "plugins.md").read_text()
    for block in re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL):
        if block.startswith(first_line):
            return str(block)
    raise AssertionError(f"no python block starting {first_line!r} in docs/plugins.md")


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def preset(name: str) -> dict[str, Any]:
    document: dict[str, Any] = load_yaml(PRESETS / f"{name}.yaml")
    return document


def sample(name: str) -> dict[str, Any]:
    document: dict[str, Any] = load_yaml(SAMPLES / name / "modelservice.yaml")
    return document


def model_service(**spec: Any) -> dict[str, Any]:
    """A minimal valid ModelService; keyword arguments replace spec fields."""
    document: dict[str, Any] = {
        "apiVersion": "llm-d.ai/v1alpha1",
        "kind": "ModelService",
        "metadata": {"name": "demo", "namespace": "team-a"},
        "spec": {
            "routing": {
                "modelName": "facebook/opt-125m",
                "ports": [{"name": "http", "port": 8000}],
            },
            "modelArtifacts": {"uri": "hf://facebook/opt-125m"},
            "decode": {"containers": [{"name": "vllm", "mountModelVolume": True}]},
        },
    }
    document["spec"].update(copy.deepcopy(spec))
    return document


def base_config(**data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "bc"}, "data": data}


DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
spec:
  template:
    spec:
      containers:
      - name: vllm
        image: vllm/vllm-openai:v0.11.0
        args: ["--port", "{{ getPort('http') }}"]
        ports:
        - containerPort: {{ getPort("http") }}
"""


def by_component(result: RenderResult) -> dict[str, dict[str, Any]]:
    return {desired.component: desired.body for desired in result.objects}


def pod_spec(deployment: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = deployment["spec"]["template"]["spec"]
    return spec


def container(deployment: dict[str, Any], name: str) -> dict[str, Any]:
    spec = pod_spec(deployment)
    for candidate in [*spec.get("containers", []), *spec.get("initContainers", [])]:
        if candidate["name"] == name:
            found: dict[str, Any] = candidate
            return found
    raise AssertionError(f"no container {name}")


def fresh_renderer(*extra: tuple[str, object]) -> Renderer:
    """A renderer with the bundled plugins (no entry points) plus `extra` plugins."""
    return Renderer(make_plugin_manager(load_entry_points=False, plugins=[*BUNDLED, *extra]))


Render = Callable[..., RenderResult]


def renderer_call(renderer: Renderer) -> Render:
    def run(ms: dict[str, Any], bc: dict[str, Any] | None = None, **options: Any) -> RenderResult:
        return renderer.render(ms, bc, RenderOptions(**options))

    return run


SAMPLE_PRESETS = {
    "hf-decode": "basic-gpu",
    "pd-nixl": "pd-nixl",
    "pvc-tp8": "basic-gpu",
    "oci": "basic-gpu",
    "sim": "sim",
}
"""Every bundled sample and the preset its baseConfigMapRef names."""


LEGACY_POOL = """\
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferencePool
spec:
  targetPortNumber: {{ getPort("http") }}
  extensionRef:
    failureMode: FailClose
"""


def variants() -> dict[str, tuple[dict[str, Any], dict[str, Any], dict[str, Any]]]:
    """Samples and harder variants (legacy pool, several pickers, a ClusterRole, gatewayRefs only):
    id -> (ModelService, BaseConfig, render options)."""
    cases: dict[str, tuple[dict[str, Any], dict[str, Any], dict[str, Any]]] = {
        name: (sample(name), preset(bc), {}) for name, bc in SAMPLE_PRESETS.items()
    }
    legacy = preset("pd-nixl")
    legacy["data"]["inferencePool"] = LEGACY_POOL
    legacy["data"]["inferenceModel"] = "spec:\n  criticality: Critical\n"
    cases["pd-legacy-pool"] = (sample("pd-nixl"), legacy, {})
    several = sample("pd-nixl")
    several["spec"]["endpointPicker"] = {"replicas": 3}
    cases["pd-three-pickers"] = (several, preset("pd-nixl"), {"epp_pull_secrets": ("regcred",)})
    cases["pd-cluster-role"] = (
        sample("pd-nixl"),
        preset("pd-nixl"),
        {"epp_cluster_role": "epp-reader"},
    )
    objective = preset("sim")
    objective["data"]["inferenceObjective"] = "spec:\n  priority: 10\n"
    cases["sim-objective"] = (sample("sim"), objective, {})
    routed = sample("hf-decode")
    routed["spec"]["routing"]["gatewayRefs"] = [
        {"name": "gw", "namespace": "gateways", "sectionName": "http"}
    ]
    pooled = preset("basic-gpu")
    pooled["data"]["inferencePool"] = (
        "apiVersion: inference.networking.k8s.io/v1\nkind: InferencePool\n"
        "spec:\n  targetPorts:\n  - number: {{ getPort('http') }}\n"
    )
    cases["gateway-refs-only"] = (routed, pooled, {})
    return cases


# Container args as a person writes them (docs/user-guide.md, merge rules): positionals first,
# and a flag is either valued or boolean. The flag-aware merge is idempotent over these.

VALUED = ["--a", "--b", "--c"]
BOOLEAN = ["--x", "--y"]
values = st.sampled_from(["1", "two", "-3", "x=y"])
valued = st.builds(
    lambda f, v, eq: [f"{f}={v}"] if eq else [f, v], st.sampled_from(VALUED), values, st.booleans()
)
boolean = st.builds(lambda f: [f], st.sampled_from(BOOLEAN))
args = st.builds(
    lambda positionals, flags: positionals + [w for flag in flags for w in flag],
    st.lists(st.sampled_from(["serve", "model"]), max_size=2),
    st.lists(st.one_of(valued, boolean), max_size=5),
)


def own_entry_points() -> list[str]:
    """The plugins this project declares (pyproject's entry points): the set a test pins with
    MODELSERVICE_PLUGINS, so that whatever else is installed cannot change its output."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return sorted(project["entry-points"]["modelservice.plugins"])
