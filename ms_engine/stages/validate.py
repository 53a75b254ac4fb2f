"""Stage `validate`: collect `ms_validate` findings; refuse two objects with one identity."""

from __future__ import annotations

from ms_engine.context import RenderContext
from ms_engine.objects import ObjectKey
from ms_engine.problems import RENDER, Reason, fail
from ms_engine.stage import Stage


def run(context: RenderContext) -> None:
    seen: dict[ObjectKey, str] = {}
    for desired in context.objects:
        if desired.key in seen:
            raise fail(
                f"{desired.component} and {seen[desired.key]} both make {desired.key}",
                str(desired.key),
                reason=Reason.INVALID_BASE_CONFIG,
                document=RENDER,
            )
        seen[desired.key] = desired.component
    for found in context.hook.ms_validate(context=context):
        for problem in found or ():
            context.warn(problem)


STAGE = Stage("validate", run, description="wiring checks from ms_validate")
