"""Golden renders of every sample: a change in output is a change someone must look at.

Regenerate after an intended change with `UPDATE_GOLDEN=1 make unit` and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from support import PRESETS, SAMPLE_PRESETS, SAMPLES

from cli.main import main

GOLDEN = Path(__file__).parent / "golden"


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
