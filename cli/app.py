"""State shared by the commands: the renderer is built lazily, once per invocation."""

from __future__ import annotations

from functools import cached_property

import click

from ms_engine import Renderer


class App:
    @cached_property
    def renderer(self) -> Renderer:
        return Renderer()


pass_app = click.make_pass_decorator(App, ensure=True)
