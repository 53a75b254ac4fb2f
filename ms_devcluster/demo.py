"""`make run`: the controller at work on a local control plane, from nothing to Ready.

Starts the plane (etcd, kube-apiserver, controller-manager, scheduler, KWOK with fake H100
nodes), installs the CRDs, starts `msctl run` as its own process, applies a preset and a sample
ModelService with kubectl, waits until the ModelService is Ready (its pods Running on the fake
nodes), prints what a user would look at, then shows the controller's log until Ctrl-C. Every
process it started is stopped on the way out, whatever happens.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ms_devcluster._binaries import build_script, find_binaries
from ms_devcluster._errors import DevClusterError
from ms_devcluster._plane import ControlPlane, GpuNodes
from ms_devcluster._process import _die_with_parent

Say = Callable[[str], None]

REPO = build_script().parents[2]
SHOW = "modelservices,deployments,pods,inferencepools,httproutes"


@dataclass(frozen=True)
class Demo:
    sample: Path
    preset: Path
    timeout: float = 300.0
    metrics_addr: str = "127.0.0.1:8080"
    health_addr: str = "127.0.0.1:8081"


def kubectl_path() -> Path:
    found = subprocess.run(
        [str(build_script()), "--print-kubectl"],
        capture_output=True,
        text=True,
        env={**os.environ, "GOTOOLCHAIN": "local"},
    )
    if found.returncode != 0:
        raise DevClusterError(found.stderr.strip() or "kubectl is not built: run make controlplane")
    return Path(found.stdout.strip())


class Kubectl:
    def __init__(self, path: Path, kubeconfig: Path) -> None:
        self.path, self.kubeconfig = path, kubeconfig

    def __call__(self, *args: str, check: bool = True) -> str:
        done = subprocess.run(
            [str(self.path), "--kubeconfig", str(self.kubeconfig), *args],
            capture_output=True,
            text=True,
        )
        if check and done.returncode != 0:
            raise DevClusterError(f"kubectl {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout


def model_service_id(sample: Path) -> tuple[str, str]:
    """(namespace, name) of the sample's ModelService."""
    import yaml

    metadata = yaml.safe_load(sample.read_text())["metadata"]
    return str(metadata.get("namespace") or "default"), str(metadata["name"])


def conditions(kubectl: Kubectl, namespace: str, name: str) -> dict[str, dict[str, Any]]:
    raw = kubectl("get", "modelservice", name, "-n", namespace, "-o", "json", check=False)
    try:
        status = json.loads(raw).get("status") or {}
    except json.JSONDecodeError:
        return {}
    return {c["type"]: c for c in status.get("conditions") or []}


@contextmanager
def controller(demo: Demo, kubeconfig: Path, log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`msctl run` as its own process, its log in `log_path`; SIGTERM (then SIGKILL) at the end."""
    log = log_path.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "ms_cli", "run", "--kubeconfig", str(kubeconfig),
         "--metrics-addr", demo.metrics_addr, "--health-addr", demo.health_addr,
         "--resync", "300"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        preexec_fn=_die_with_parent,  # no controller outlives a demo that was killed
    )  # fmt: skip
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        log.close()


def follow(path: Path, out: IO[str], stop: threading.Event, start: int = 0) -> None:
    """Print what is appended to `path` until `stop` is set."""
    with path.open("r", errors="replace") as handle:
        handle.seek(start)
        while not stop.is_set():
            line = handle.readline()
            if line:
                out.write(line)
                out.flush()
            else:
                stop.wait(0.2)


def run(demo: Demo, *, directory: Path, follow_log: bool, say: Say) -> int:
    """The whole `make run`; returns the exit status."""
    started = time.monotonic()
    binaries = find_binaries()
    kubectl_binary = kubectl_path()
    version = binaries.kubernetes_version
    say(f"starting the local control plane in {directory} (Kubernetes {version})")
    plane = ControlPlane.start(
        directory, full=True, binaries=binaries, nodes=GpuNodes(), die_with_parent=True, log=say
    )
    stop = threading.Event()
    previous = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        kubectl = Kubectl(kubectl_binary, plane.kubeconfig)
        say("installing the CRDs (ModelService, InferencePool, InferenceObjective, HTTPRoute)")
        crds = REPO / "deploy/crds"
        kubectl("apply", "--server-side", "-f", str(crds / "llm-d.ai_modelservices.yaml"),
                "-f", str(crds / "third-party"))  # fmt: skip
        kubectl("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")
        log_path = plane.directory / "controller.log"
        with controller(demo, plane.kubeconfig, log_path) as process:
            say(f"controller started (pid {process.pid}): msctl run, log in {log_path}")
            namespace, name = model_service_id(demo.sample)
            if namespace != "default":
                kubectl("create", "namespace", namespace)
            say(f"applying {demo.preset.relative_to(REPO)} and {demo.sample.relative_to(REPO)}")
            kubectl("apply", "--server-side", "-n", namespace, "-f", str(demo.preset),
                    "-f", str(demo.sample))  # fmt: skip
            if not wait_ready(kubectl, demo, namespace, name, process, stop, say):
                say(f"not Ready; the controller's log: {log_path}")
                say(kubectl("get", SHOW, "-n", namespace, check=False))
                return 1
            say(f"ModelService {namespace}/{name} is Ready after "
                f"{time.monotonic() - started:.0f} s from the start\n")  # fmt: skip
            say(f"$ kubectl get {SHOW} -n {namespace}")
            say(kubectl("get", SHOW, "-n", namespace))
            for condition in conditions(kubectl, namespace, name).values():
                say(f"{condition['type']}={condition['status']} {condition.get('reason', '')}: "
                    f"{condition.get('message', '')}")  # fmt: skip
            say(f"\nUse kubectl in another terminal (the plane's kubectl: {kubectl_binary}):\n"
                f"  {plane.env()}\n  kubectl get ms -A")  # fmt: skip
            if not demo.metrics_addr.endswith(":0"):
                say(f"Metrics: http://{demo.metrics_addr}/metrics\n")
            if not follow_log:
                return 0
            say("the controller's log follows; Ctrl-C stops the controller and the plane\n")
            follow(log_path, sys.stdout, stop, start=0)
            return 0
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        say("stopping the controller and the control plane")
        plane.stop()
        say("stopped: no process of the demo is left")


def wait_ready(
    kubectl: Kubectl,
    demo: Demo,
    namespace: str,
    name: str,
    process: subprocess.Popen[bytes],
    stop: threading.Event,
    say: Say,
) -> bool:
    deadline = time.monotonic() + demo.timeout
    shown = ""
    while time.monotonic() < deadline and not stop.is_set():
        if process.poll() is not None:
            say(f"the controller exited with status {process.returncode}")
            return False
        found = conditions(kubectl, namespace, name)
        ready = found.get("Ready") or {}
        line = " ".join(f"{c['type']}={c['status']}({c.get('reason', '')})" for c in found.values())
        if line and line != shown:
            say(f"  {line}")
            shown = line
        if ready.get("status") == "True":
            return True
        stop.wait(1.0)
    return False
