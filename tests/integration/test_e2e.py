"""End to end, as a user drives it: `make run`'s path (`msctl dev run`), and `msctl run` driven
with kubectl (apply the samples, edit the preset, delete), all as separate processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from polling import wait_for

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
MSCTL = Path(sys.executable).parent / "msctl"


def processes_mentioning(text: str) -> list[str]:
    found = subprocess.run(["pgrep", "-af", text], capture_output=True, text=True).stdout
    return [line for line in found.splitlines() if "pgrep" not in line]


def test_make_runs_path_reaches_ready_and_leaves_no_process(binaries, kubectl, tmp_path):
    directory = tmp_path / "run"
    done = subprocess.run(
        [str(MSCTL), "dev", "run", "--no-follow", "--dir", str(directory),
         "--metrics-addr", "127.0.0.1:0", "--health-addr", "127.0.0.1:0"],
        capture_output=True, text=True, timeout=400, env={**os.environ, "GOTOOLCHAIN": "local"},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert "ModelService models/llama-8b-pd is Ready after" in out
    assert "modelservice.llm-d.ai/llama-8b-pd   True    Available   2/2      1/1" in out
    assert "pod/llama-8b-pd-decode-" in out and "Running" in out
    assert f"export KUBECONFIG={directory}/kubeconfig" in out
    assert "Ready=True Available" in out
    assert not processes_mentioning(str(directory)), "a process of the demo is still running"


def test_msctl_run_driven_with_kubectl(control_plane, crds, kubectl, namespace, tmp_path):
    def k(*args: str, check: bool = True) -> str:
        done = subprocess.run([str(kubectl), "--kubeconfig", str(control_plane.kubeconfig),
                               "-n", namespace, *args], capture_output=True, text=True)  # fmt: skip
        if check:
            assert done.returncode == 0, done.stderr
        return done.stdout

    def ms() -> dict[str, Any]:
        return json.loads(k("get", "modelservice", "sim-pd", "-o", "json"))

    def ready() -> bool:
        conditions = ms().get("status", {}).get("conditions") or []
        return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)

    log = (tmp_path / "controller.log").open("wb")
    controller = subprocess.Popen(
        [str(MSCTL), "run", "--kubeconfig", str(control_plane.kubeconfig), "--namespace", namespace,
         "--metrics-addr", "0", "--health-addr", "0"],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        preset = yaml.safe_load((ROOT / "deploy/presets/sim.yaml").read_text())
        preset.pop("immutable", None)
        (tmp_path / "preset.yaml").write_text(yaml.safe_dump(preset))
        sample = yaml.safe_load((ROOT / "samples/sim/modelservice.yaml").read_text())
        del sample["metadata"]["namespace"]  # into the test's namespace
        (tmp_path / "ms.yaml").write_text(yaml.safe_dump(sample))
        k("apply", "--server-side", "-f", str(tmp_path / "preset.yaml"),
          "-f", str(tmp_path / "ms.yaml"))  # fmt: skip
        wait_for(ready, "the sim sample to be Ready", 120)
        assert "sim-pd-decode" in k("get", "deployments")

        # The platform team edits the preset: the change rolls out without touching the MS.
        preset["data"]["decodeDeployment"] = preset["data"]["decodeDeployment"].replace(
            "spec:\n", "spec:\n  revisionHistoryLimit: 3\n", 1
        )
        (tmp_path / "preset.yaml").write_text(yaml.safe_dump(preset))
        k("apply", "--server-side", "-f", str(tmp_path / "preset.yaml"))
        wait_for(
            lambda: k("get", "deployment", "sim-pd-decode", "-o",
                      "jsonpath={.spec.revisionHistoryLimit}") == "3",
            "the preset edit on the decode Deployment", 60,
        )  # fmt: skip

        k("delete", "modelservice", "sim-pd")
        wait_for(
            lambda: not k("get", "deployments,services,serviceaccounts,configmaps,roles,"
                          "rolebindings,inferencepools,httproutes",
                          "-l", "app.kubernetes.io/part-of=sim-pd", "-o", "name").strip(),
            "every child to be collected", 90,
        )  # fmt: skip
    finally:
        controller.send_signal(signal.SIGTERM)
        code = controller.wait(timeout=40)
        log.close()
    assert code == 0, (tmp_path / "controller.log").read_text()[-2000:]
