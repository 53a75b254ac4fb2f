"""What a stage is: a named pure function of the render context."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ms_engine.context import RenderContext

StageFunction = Callable[[RenderContext], None]


@dataclass(frozen=True)
class Stage:
    """A step of the pipeline.

    Core stages have fixed places (see `pipeline.CORE_STAGES`). A plugin's stage says where it goes:
    `replaces="rbac"` takes a core stage's place (not `routing`: routers come from `ms_router`),
    `after="workload"` runs right after it.
    """

    name: str
    run: StageFunction
    after: str | None = None
    replaces: str | None = None
    description: str = ""
    provider: str = ""
    """The plugin that contributed the stage (filled in by the pipeline)."""
