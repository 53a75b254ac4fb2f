"""The public surface plugins are told to use. The layering itself (what may import what) is
checked by import-linter's contracts in pyproject.toml, which `make lint` runs (`lint-imports`)."""

from __future__ import annotations

from support import ROOT

import ms_engine


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
