"""State shared by the commands: the renderer is built lazily, once per invocation."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from ms_engine import Renderer


class App:
    @cached_property
    def renderer(self) -> Renderer:
        from ms_engine import Renderer  # the engine loads only for the commands that render

        return Renderer()


pass_app = click.make_pass_decorator(App, ensure=True)
