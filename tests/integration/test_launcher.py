"""The launcher itself: loopback only, `msctl dev cluster` from other processes, clean stops."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ms_devcluster import (
    BIN_ENV,
    Binaries,
    BinariesNotFoundError,
    ControlPlane,
    docker_engine_available,
    find_binaries,
)
from ms_devcluster._process import ProcessRecord, is_alive

pytestmark = pytest.mark.integration

MSCTL = [sys.executable, "-c", "from ms_cli.main import main; main()"]
ROOT = Path(__file__).resolve().parents[2]


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return inodes


def _bound_addresses(inodes: set[str]) -> list[tuple[str, str]]:
    """(protocol, hex local address) of each listening TCP or bound UDP socket in `inodes`."""
    found = []
    for proto in ("tcp", "tcp6", "udp", "udp6"):
        lines = Path(f"/proc/net/{proto}").read_text().splitlines()[1:]
        for line in lines:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            listening = state == "0A" if proto.startswith("tcp") else state == "07"
            if inode in inodes and listening:
                found.append((proto, local.rsplit(":", 1)[0]))
    return found


LOOPBACK = {
    "0100007F",  # 127.0.0.1
    "00000000000000000000000001000000",  # ::1
    "0000000000000000FFFF00000100007F",  # ::ffff:127.0.0.1
}


def test_every_component_listens_on_loopback_only(local_plane: ControlPlane) -> None:
    names = set()
    for record in local_plane.records:
        bound = _bound_addresses(_socket_inodes(record.pid))
        assert bound, f"{record.name} listens on nothing"
        assert {addr for _, addr in bound} <= LOOPBACK, (record.name, bound)
        names.add(record.name)
    assert names == {"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"}


def _msctl(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*MSCTL, *args],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        env={**os.environ, **(env or {})},
    )


def test_cli_up_env_down_from_separate_processes(binaries: Binaries, tmp_path: Path) -> None:
    directory = tmp_path / "plane"
    up = _msctl("dev", "cluster", "up", "--dir", str(directory))
    assert up.returncode == 0, up.stderr
    kubeconfig = directory / "kubeconfig"
    assert f"kubeconfig: {kubeconfig}" in up.stdout
    assert up.stdout.strip().splitlines()[-1] == f"export KUBECONFIG={kubeconfig}"
    state = json.loads((directory / "state.json").read_text())
    records = [ProcessRecord.from_json(p) for p in state["processes"]]
    try:
        assert [r.name for r in records] == ["etcd", "kube-apiserver"]
        assert all(is_alive(r) for r in records)

        env = _msctl("dev", "cluster", "env", "--dir", str(directory))
        assert env.returncode == 0
        assert env.stdout == f"export KUBECONFIG={kubeconfig}\n"

        again = _msctl("dev", "cluster", "up", "--dir", str(directory))
        assert again.returncode == 1
        assert again.stderr.startswith("error: a control plane already runs from")
        assert len(again.stderr.strip().splitlines()) == 1  # one line, no traceback
    finally:
        down = _msctl("dev", "cluster", "down", "--dir", str(directory))
    assert down.returncode == 0, down.stderr
    assert "stopped kube-apiserver, etcd" in down.stdout
    deadline = time.monotonic() + 10
    while any(is_alive(r) for r in records) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [r.name for r in records if is_alive(r)]
    assert not directory.exists()

    gone = _msctl("dev", "cluster", "env", "--dir", str(directory))
    assert (gone.returncode, gone.stderr) == (
        1,
        f"error: no control plane recorded in {directory}\n",
    )


def test_missing_binaries_say_how_to_build_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as env:
        env.setenv(BIN_ENV, str(tmp_path / "nowhere"))
        with pytest.raises(BinariesNotFoundError, match="run 'make controlplane'"):
            find_binaries()
    result = _msctl(
        "dev", "cluster", "up", "--dir", str(tmp_path / "plane"),
        env={BIN_ENV: str(tmp_path / "nowhere")},
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.startswith("error: ") and "make controlplane" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_k3s_path_skips_cleanly_without_a_docker_engine(tmp_path: Path) -> None:
    if docker_engine_available():
        pytest.skip("a Docker engine answers here; the K3s path itself would run")
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rs",
         "tests/integration/test_smoke.py::test_namespace_is_created_and_deleted"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
        env={
            **{k: v for k, v in os.environ.items() if k != "MS_SKIP_INTEGRATION"},
            "MS_CONTROLPLANE": "k3s",
            "DOCKER_HOST": f"unix://{tmp_path}/none",
        },
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 skipped" in result.stdout
    assert "MS_CONTROLPLANE=k3s, but no Docker engine answers" in result.stdout
    assert time.monotonic() - started < 60
