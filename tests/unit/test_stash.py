"""`context.stash`: how one plugin's stages share per-render state (docs/plugins.md)."""

from __future__ import annotations

from support import PRESETS, fresh_renderer, load_yaml, model_service

from ms_engine import RenderContext, Stage, StashKey, hookimpl

TEAM = StashKey[str]("team")


class TeamLabels:
    """Reads a label in one stage and writes it onto every object in a later one."""

    @staticmethod
    def remember(context: RenderContext) -> None:
        context.stash[TEAM] = context.model_service.metadata.labels.get("team", "none")

    @staticmethod
    def label(context: RenderContext) -> None:
        for desired in context.objects:
            desired.body["metadata"].setdefault("labels", {})["example.com/team"] = context.stash[
                TEAM
            ]

    @hookimpl
    def ms_stages(self) -> list[Stage]:
        return [
            Stage("remember-team", self.remember, after="template"),
            Stage("label-team", self.label, after="rbac"),
        ]


def test_a_plugins_stages_share_state_through_the_stash():
    renderer = fresh_renderer(("team-labels", TeamLabels()))
    ms = model_service()
    ms["metadata"]["labels"] = {"team": "search"}
    result = renderer.render(ms, load_yaml(PRESETS / "basic-gpu.yaml"))
    assert {o.body["metadata"]["labels"]["example.com/team"] for o in result.objects} == {"search"}
    fresh = renderer.render(model_service(), load_yaml(PRESETS / "basic-gpu.yaml"))
    assert fresh.context.stash is not result.context.stash  # one stash per render
    assert {o.body["metadata"]["labels"]["example.com/team"] for o in fresh.objects} == {"none"}
