"""`msctl convert` over every preset in the compatibility data: the original (Go templates) and the
converted form (Jinja2) render identical objects for every ModelService in the data."""

from __future__ import annotations

import pytest
import yaml
from click.testing import CliRunner
from compat_data import cases, load_all, presets, require_data

from ms_cli.main import main
from ms_engine import Renderer, RenderError, RenderOptions
from ms_plugins.gotemplate import DIALECT


def convert(path) -> list[dict]:
    result = CliRunner().invoke(main, ["convert", "-f", str(path)])
    assert result.exit_code == 0, result.output
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def model_services() -> list[dict]:
    return [
        doc for case in cases() for doc in load_all(case.model_service)
        if doc.get("kind") == "ModelService"
    ]  # fmt: skip


def outcome(renderer: Renderer, ms: dict, bc: dict):
    try:
        result = renderer.render(ms, bc, RenderOptions(epp_cluster_role="epp-cr"))
    except RenderError as error:
        return ("error", error.problem.where, error.problem.line)
    return ("objects", result.bodies)


@pytest.mark.parametrize(
    "preset", [pytest.param(p, id=p.name) for p in presets()] or [pytest.param(None, id="no-data")]
)
def test_converted_presets_render_the_same_objects_for_every_model_service(preset):
    folder = require_data()
    renderer = Renderer()
    (original,) = [d for d in load_all(preset) if d.get("kind") == "ConfigMap"]
    (converted,) = [d for d in convert(preset) if d.get("kind") == "ConfigMap"]
    if any(DIALECT.recognises(value) for value in (original.get("data") or {}).values()):
        annotations = converted["metadata"]["annotations"]
        assert annotations["modelservice.llm-d.ai/template-dialect"] == "jinja"
        assert "{{ ." not in "".join(converted["data"].values())
    else:  # no Go-only syntax (`{{ "http" | getPort }}` is Jinja2 too): nothing to convert
        assert converted == original
    rendered = 0
    for ms in model_services():
        before, after = outcome(renderer, ms, original), outcome(renderer, ms, converted)
        assert before == after, f"{preset.relative_to(folder)} with {ms['metadata']['name']}"
        rendered += before[0] == "objects"
    assert rendered, "no ModelService rendered with this preset"


def test_converted_model_service_args_render_the_same():
    require_data()
    renderer = Renderer()
    for case in cases():
        (bc,) = [d for d in load_all(case.base_config) if d.get("kind") == "ConfigMap"]
        (ms,) = [d for d in load_all(case.model_service) if d.get("kind") == "ModelService"]
        (converted,) = [d for d in convert(case.model_service) if d.get("kind") == "ModelService"]
        assert outcome(renderer, ms, bc) == outcome(renderer, converted, bc), case.name
