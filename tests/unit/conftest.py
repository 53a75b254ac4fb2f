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


@pytest.fixture
def install_plugin(tmp_path, monkeypatch):
    """install_plugin(entry, package, source): a one-module plugin distribution, installed the way
    pip leaves one (the package plus a .dist-info with entry_points.txt) into a directory on
    sys.path, so it is found through the `modelservice.plugins` entry points like any other."""
    import sys

    installed: list[str] = []

    def install(entry: str, package: str, source: str) -> None:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text(source)
        info = tmp_path / f"{package}-0.1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {package}\nVersion: 0.1.0\n")
        (info / "entry_points.txt").write_text(f"[modelservice.plugins]\n{entry} = {package}\n")
        installed.append(package)
        monkeypatch.syspath_prepend(str(tmp_path))

    yield install
    for package in installed:
        sys.modules.pop(package, None)
