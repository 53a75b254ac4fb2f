"""Golden renders of every sample: a change in output is a change someone must look at.

Regenerate after an intended change with `UPDATE_GOLDEN=1 make unit` and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from support import PRESETS, SAMPLE_PRESETS, SAMPLES, own_entry_points

from ms_cli.main import main
from ms_engine.plugins import ALLOW_ENV

GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture(autouse=True)
def only_the_projects_own_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    """Installed third-party plugins cannot change what these tests see."""
    monkeypatch.setenv(ALLOW_ENV, ",".join(own_entry_points()))


@pytest.mark.parametrize("name", sorted(SAMPLE_PRESETS))
def test_sample_renders_as_its_golden_file(name):
    args = [
        "render",
        "-f",
        str(SAMPLES / name / "modelservice.yaml"),
        "-b",
        str(PRESETS / f"{SAMPLE_PRESETS[name]}.yaml"),
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.stderr
    golden = GOLDEN / f"{name}.yaml"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.write_text(result.stdout)
    assert result.stdout == golden.read_text()


def test_every_sample_has_a_golden_file_and_a_preset():
    samples = {path.parent.name for path in SAMPLES.glob("*/modelservice.yaml")}
    assert samples == set(SAMPLE_PRESETS)
    assert {path.stem for path in GOLDEN.glob("*.yaml")} == samples


def test_an_installed_third_party_plugin_changes_no_golden_render(tmp_path, monkeypatch):
    """A broken plugin installed beside the project (an entry point whose module fails to import)
    is outside the pinned plugin set, so the golden renders stay what they are."""
    info = tmp_path / "broken_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[modelservice.plugins]\nbroken = broken_plugin\n")
    (tmp_path / "broken_plugin.py").write_text("raise ImportError('not on this machine')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    args = ["render", "-f", str(SAMPLES / "sim/modelservice.yaml"), "-b", str(PRESETS / "sim.yaml")]
    pinned = CliRunner().invoke(main, args)
    assert pinned.exit_code == 0, pinned.output
    assert pinned.stdout == (GOLDEN / "sim.yaml").read_text()
    monkeypatch.delenv(ALLOW_ENV)  # what a user's environment would load: the broken plugin too
    assert CliRunner().invoke(main, args).exit_code != 0
