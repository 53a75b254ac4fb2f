"""Fixtures for the pure unit tests: a fresh renderer with the bundled plugins, no entry points."""

from __future__ import annotations

import pytest
from support import Render, fresh_renderer, renderer_call

from ms_engine import Renderer


@pytest.fixture
def renderer() -> Renderer:
    return fresh_renderer()


@pytest.fixture
def render(renderer: Renderer) -> Render:
    """render(ms_document, base_config_document=None, **options) -> RenderResult"""
    return renderer_call(renderer)
