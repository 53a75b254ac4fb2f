"""`msctl run` as processes: two replicas with leader election; the leader is killed with
SIGKILL and the standby reconciles a new ModelService within the lease duration; SIGTERM stops a
replica cleanly and releases the lease."""

from __future__ import annotations

import copy
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from ms_controller.kube import KubeCluster

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "unit"))

from polling import wait_for  # noqa: E402
from support import preset, sample  # noqa: E402

pytestmark = pytest.mark.integration
MSCTL = Path(sys.executable).parent / "msctl"
LEASE = {"duration": 4.0, "renew": 3.0, "retry": 0.5}


def start(identity: str, kubeconfig: Path, namespace: str, log: Any) -> subprocess.Popen[bytes]:
    args = [
        str(MSCTL), "run", "--kubeconfig", str(kubeconfig), "--namespace", namespace,
        "--leader-elect", "--leader-election-namespace", namespace,
        "--leader-elect-lease-duration", str(LEASE["duration"]),
        "--leader-elect-renew-deadline", str(LEASE["renew"]),
        "--leader-elect-retry-period", str(LEASE["retry"]),
        "--metrics-addr", "0", "--health-addr", "0", "--resync", "0", "--log-format", "json",
    ]  # fmt: skip
    return subprocess.Popen(
        args,
        env={**os.environ, "POD_NAME": identity},
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def holder(kube_api: client.ApiClient, namespace: str) -> str | None:
    try:
        lease = client.CoordinationV1Api(kube_api).read_namespaced_lease(
            "modelservice-controller", namespace
        )
    except client.exceptions.ApiException:
        return None
    return lease.spec.holder_identity


def reconciled(kube_api: client.ApiClient, namespace: str, name: str) -> bool:
    found = client.CustomObjectsApi(kube_api).get_namespaced_custom_object(
        "llm-d.ai", "v1alpha1", namespace, "modelservices", name
    )
    conditions = (found.get("status") or {}).get("conditions") or []
    return any(c["type"] == "Reconciled" and c["status"] == "True" for c in conditions)


def put(kube_api: client.ApiClient, namespace: str, body: dict[str, Any], name: str | None = None):
    body = copy.deepcopy(body)
    body["metadata"]["namespace"] = namespace
    if name:
        body["metadata"]["name"] = name
    body.pop("immutable", None)
    KubeCluster(kube_api).apply(body, field_manager="modelservice-tests")


def test_the_standby_takes_over_when_the_leader_is_killed(
    control_plane, crds, kube_api, namespace, tmp_path
):
    logs = {name: (tmp_path / f"{name}.log").open("wb") for name in ("a", "b")}
    processes = {
        name: start(name, control_plane.kubeconfig, namespace, logs[name]) for name in ("a", "b")
    }
    try:
        leader = wait_for(lambda: holder(kube_api, namespace), "a leader", 30)
        standby = "b" if leader == "a" else "a"
        put(kube_api, namespace, preset("sim"))
        put(kube_api, namespace, sample("sim"), "first")
        wait_for(lambda: reconciled(kube_api, namespace, "first"), "the leader's reconcile", 60)

        processes[leader].send_signal(signal.SIGKILL)
        processes[leader].wait(timeout=10)
        killed = time.monotonic()
        put(kube_api, namespace, sample("sim"), "second")
        wait_for(lambda: reconciled(kube_api, namespace, "second"), "the standby's reconcile", 60)
        took = time.monotonic() - killed
        assert holder(kube_api, namespace) == standby
        # Within the lease duration of the dead leader's last renewal, plus a reconcile.
        assert took < LEASE["duration"] + 10, took

        processes[standby].send_signal(signal.SIGTERM)
        assert processes[standby].wait(timeout=30) == 0
        assert holder(kube_api, namespace) is None  # released on the way out
        log = (tmp_path / f"{standby}.log").read_text()
        assert '"msg": "Reconciled"' in log and '"key": "' + namespace + '/second"' in log
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
        for log in logs.values():
            log.close()
