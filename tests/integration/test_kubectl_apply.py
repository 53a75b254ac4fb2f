"""`msctl render -o json | kubectl apply -f -`: the output is a List kubectl takes as it is, and
the API server accepts every object in it (a server-side dry run, so nothing is created)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def msctl(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "ms_cli", *args], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_kubectl_applies_the_json_list_of_a_render(kubectl, control_plane, crds, namespace):
    """With the plane's own kubectl (the `kubectl` fixture, built by `make controlplane`)."""
    rendered = msctl(
        "render",
        "-f",
        str(ROOT / "samples/pd-nixl/modelservice.yaml"),
        "-b",
        "pd-nixl",
        "-n",
        namespace,
        "-o",
        "json",
    )
    listed = json.loads(rendered)
    apply = ["apply", "--dry-run=server", "-o", "name", "-f", "-"]
    applied = subprocess.run(
        [str(kubectl), "--kubeconfig", str(control_plane.kubeconfig), *apply],
        input=rendered,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert applied.returncode == 0, applied.stderr
    names = []  # `deployment.apps/x` -> `deployment/x`
    for line in applied.stdout.split():
        resource, _, name = line.partition("/")
        names.append(f"{resource.split('.')[0]}/{name}")
    expected = [f"{item['kind'].lower()}/{item['metadata']['name']}" for item in listed["items"]]
    assert len(expected) == 13
    assert names == expected
