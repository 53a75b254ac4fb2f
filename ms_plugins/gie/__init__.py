"""The Gateway API Inference Extension router: InferencePool, endpoint picker, objectives, route.

An ordinary plugin (entry point `gie`) that uses only the public `ms_engine` surface. It answers
`ms_router` for every ModelService; a router that wants to take its place says
`overrides = ("gie-endpoint-picker",)`.
"""

from __future__ import annotations

from ms_engine import RenderContext, hookimpl
from ms_plugins.gie.router import ROUTER, GIERouter

__all__ = ["ROUTER", "GIERouter", "ms_router"]


@hookimpl
def ms_router(context: RenderContext) -> GIERouter:
    return ROUTER
