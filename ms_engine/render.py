"""One call from documents to desired objects: what the CLI, the controller and benchmarks use."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pluggy

from ms_engine.api.baseconfig import BaseConfig, parse_base_config
from ms_engine.api.modelservice import ModelService
from ms_engine.api.validation import load_model_service
from ms_engine.context import RenderContext, RenderOptions
from ms_engine.objects import DesiredObject
from ms_engine.pipeline import Pipeline, StageWrapper
from ms_engine.plugins import make_plugin_manager
from ms_engine.problems import Problem


@dataclass
class RenderResult:
    """The desired objects in apply order, the warnings, and the context for a closer look."""

    objects: list[DesiredObject]
    warnings: list[Problem]
    context: RenderContext = field(repr=False)
    pending: dict[str, Any] = field(default_factory=dict)
    """BaseConfig documents no stage has turned into objects yet (after a partial run)."""

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [desired.body for desired in self.objects]


class Renderer:
    """A pipeline built once and reused for many renders (compiled templates are cached)."""

    def __init__(self, manager: pluggy.PluginManager | None = None) -> None:
        self.manager = manager or make_plugin_manager()
        self.pipeline = Pipeline.build(self.manager)

    def render(
        self,
        model_service: ModelService | dict[str, Any],
        base_config: BaseConfig | dict[str, Any] | None = None,
        options: RenderOptions | None = None,
        *,
        until: str | None = None,
        around: StageWrapper | None = None,
    ) -> RenderResult:
        """Render one ModelService. Raises RenderError for bad input; warnings come back."""
        if not isinstance(model_service, ModelService):
            model_service = load_model_service(model_service)
        if base_config is not None and not isinstance(base_config, BaseConfig):
            base_config = parse_base_config(base_config)
        context = self.pipeline.new_context(model_service, base_config, options)
        self.pipeline.run(context, until=until, around=around)
        return RenderResult(
            objects=context.objects.in_apply_order(),
            warnings=list(context.problems),
            context=context,
            pending=dict(context.documents),
        )
