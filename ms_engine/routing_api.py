"""What a scheduler integration provides: the routing objects of one ModelService.

The bundled integration is the Gateway API Inference Extension endpoint picker
(`ms_engine.stages.routing.GIERouter`). Another router plugs in by answering the `ms_router` hook
with an object of this shape; it then owns the routing BaseConfig keys it pops from
`context.documents`.
"""

from __future__ import annotations

from typing import Protocol

from ms_engine.context import RenderContext


class Router(Protocol):
    name: str

    def build(self, context: RenderContext) -> None:
        """Pop the routing documents this router understands and add the objects it makes."""
