"""The wheel a user installs: the project's own top-level packages only, every package folder,
the presets inside, and `msctl render -b NAME` working from the installed files alone.

Built offline (no build isolation: setuptools and wheel come from the test extra) from a copy of
the source tree, so the build leaves nothing in the work tree.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from support import ROOT, SAMPLES

TOP_LEVEL = {"ms_cli", "ms_controller", "ms_devcluster", "ms_engine", "ms_plugins"}
FOLDERS = {package: package for package in TOP_LEVEL} | {"ms_cli": "cli"}
PIP = [sys.executable, "-m", "pip", "--quiet", "--no-input", "--disable-pip-version-check"]
OFFLINE = ["--no-index"]
SKIP = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis"
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("source") / "modelservice"
    shutil.copytree(ROOT, source, ignore=SKIP)
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            *PIP,
            "wheel",
            *OFFLINE,
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(out),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("modelservice-*.whl")
    return built


def names(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        return archive.namelist()


def test_the_wheel_installs_only_the_projects_own_top_level_packages(wheel):
    top = {name.split("/")[0] for name in names(wheel) if not name.split("/")[0].endswith("-info")}
    assert top == TOP_LEVEL  # never a generic `cli` that another distribution may also install


def test_every_package_folder_is_in_the_wheel(wheel):
    """A new subpackage must be added to [tool.setuptools] packages in pyproject.toml."""
    inside = set(names(wheel))
    for package, folder in FOLDERS.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            relative = init.relative_to(ROOT / folder).as_posix()
            assert f"{package}/{relative}" in inside, f"{folder}/{relative} is not in the wheel"


def test_the_presets_ship_inside_the_wheel(wheel):
    inside = set(names(wheel))
    for preset in (ROOT / "deploy/presets").glob("*.yaml"):
        assert f"ms_cli/presets/{preset.name}" in inside


def test_the_console_script_is_msctl(wheel):
    with zipfile.ZipFile(wheel) as archive:
        (entry_points,) = [n for n in archive.namelist() if n.endswith("entry_points.txt")]
        text = archive.read(entry_points).decode()
    assert "msctl = ms_cli.main:run" in text


def test_the_installed_wheel_renders_a_bundled_preset_by_name(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run(
        [*PIP, "install", *OFFLINE, "--no-deps", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
    )
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    shutil.copy(SAMPLES / "pd-nixl/modelservice.yaml", elsewhere / "ms.yaml")
    environment = {**os.environ, "PYTHONPATH": str(target)}
    probe = (
        "import sys, ms_cli.main; print(ms_cli.main.__file__, file=sys.stderr); ms_cli.main.run()"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, "render", "-f", "ms.yaml", "-b", "pd-nixl"],
        cwd=elsewhere,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith(str(target)), result.stderr  # the wheel's files, not the tree
    assert "name: llama-8b-pd-decode" in result.stdout
