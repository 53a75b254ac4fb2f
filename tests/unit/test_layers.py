"""Layering: plugins use only the public engine surface; the engine never reaches up or out."""

from __future__ import annotations

import ast
from pathlib import Path

from support import ROOT

import ms_engine


def imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def modules(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def test_bundled_plugins_import_only_the_public_engine():
    for path in modules("ms_plugins"):
        engine = {name for name in imports(path) if name.startswith("ms_engine")}
        assert engine <= {"ms_engine"}, f"{path.relative_to(ROOT)} imports {engine}"


def test_the_engine_imports_neither_plugins_nor_the_cli():
    for path in modules("ms_engine"):
        reaching = {name for name in imports(path) if name.split(".")[0] in {"ms_plugins", "cli"}}
        assert not reaching, f"{path.relative_to(ROOT)} imports {reaching}"


def test_stages_talk_to_no_cluster_and_read_no_clock():
    forbidden = {"kubernetes", "time", "datetime", "random", "os", "subprocess", "socket", "uuid"}
    for folder in ("ms_engine/stages", "ms_engine/api", "ms_plugins"):
        for path in modules(folder):
            used = {name.split(".")[0] for name in imports(path)} & forbidden
            assert not used, f"{path.relative_to(ROOT)} imports {used}"
    for name in ("merge", "templating", "checks", "pipeline", "context", "names", "ownership"):
        used = {n.split(".")[0] for n in imports(ROOT / f"ms_engine/{name}.py")} & forbidden
        assert not used, f"ms_engine/{name}.py imports {used}"


def test_the_public_surface_is_what_plugins_are_told_to_use():
    assert set(ms_engine.__all__) == {
        "MODEL_ROOT", "MODEL_VOLUME", "URI_FIELD", "ModelArtifacts", "ModelScheme", "ModelService",
        "ModelServiceError", "ModelSource", "ModelURI", "Picker", "PluginError", "Problem",
        "Reason", "RenderContext", "RenderError", "RenderOptions", "RenderResult", "Renderer",
        "Router", "RouterResult", "Severity", "Stage", "StashKey", "claim", "claim_pod_owner",
        "common_labels", "fail", "gie", "hookimpl", "model_path",
    }  # fmt: skip
    documented = (ROOT / "docs/plugins.md").read_text()
    for name in ("Router", "RouterResult", "Picker", "ModelScheme", "claim"):
        assert f"`{name}`" in documented, name
