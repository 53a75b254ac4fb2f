"""One reconcile against `kubectl apply --server-side`, and the writes of a steady state.

    .venv/bin/python bench/reconcile.py [--runs 10] [--steady 20] [--resyncs 3]

On a local plane it starts itself (etcd, kube-apiserver, controller-manager, scheduler, KWOK),
with the P/D sample on the `sim` preset:

1. **One new ModelService**, `--runs` times, each in a fresh namespace: the time from the start
   of `reconcile` (the function every worker of `msctl run` calls) until every child is applied
   (the end of the apply stage; the status write after it is shown apart), against
   `kubectl apply --server-side` of exactly the objects `msctl render` gives for the same
   ModelService, also in a fresh namespace. kubectl's time is the whole command (a process start,
   discovery from a warm cache directory, one PATCH per object), which is what a person or a
   script pays. One warm-up of each is not counted. Target: median ratio <= 1.0.
2. **Steady state**: `--steady` ModelServices under a running manager (in this process, resync
   every few seconds) until all are Ready; then `--resyncs` passes over every ModelService, and
   the write requests the API server itself counted (`apiserver_request_total`) in that window.
   Target: 0.

Every process it starts is stopped, also on errors or Ctrl-C.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import yaml
from kubernetes import client

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _support import (
    BENCH_MANAGER,
    ROOT,
    api_client,
    apiserver_requests,
    by_verb,
    conditions,
    controller_writes,
    create_namespace,
    install_crds,
    kubectl,
    load,
    model_service,
    preset,
)

from ms_controller.kube import KubeCluster
from ms_controller.manager import Manager, ManagerOptions
from ms_controller.reconcile import reconcile
from ms_devcluster import ControlPlane, find_binaries
from ms_engine import Renderer

NAME = "bench-pd"


def time_reconcile(kube: KubeCluster, renderer: Renderer, namespace: str) -> tuple[float, float]:
    """(seconds to every child applied, seconds for the whole reconcile incl. status)."""
    kube.apply(preset(namespace), field_manager=BENCH_MANAGER)
    kube.apply(model_service(namespace, NAME), field_manager=BENCH_MANAGER)
    applied: list[float] = []

    def around(stage: str, step: Callable[[], None]) -> None:
        step()
        if stage == "apply":
            applied.append(time.perf_counter())

    started = time.perf_counter()
    result = reconcile(kube, namespace, NAME, renderer=renderer, around=around)
    finished = time.perf_counter()
    reconciled = result.condition("Reconciled") or {}
    if reconciled.get("status") != "True" or not applied:
        raise RuntimeError(f"reconcile in {namespace} failed: {reconciled}")
    return applied[0] - started, finished - started


def time_kubectl(kube: KubeCluster, binary: str, cache: Path, work: Path, namespace: str) -> float:
    kube.apply(preset(namespace), field_manager=BENCH_MANAGER)
    source = work / f"{namespace}-ms.yaml"
    source.write_text(yaml.safe_dump(model_service(namespace, NAME)))
    rendered = work / f"{namespace}-objects.yaml"
    with rendered.open("w") as out:
        subprocess.run(
            [str(ROOT / ".venv/bin/msctl"), "render", "-f", str(source), "-b",
             str(ROOT / "deploy/presets/sim.yaml")],
            stdout=out, check=True,
        )  # fmt: skip
    command = [binary, f"--kubeconfig={kubeconfig}", f"--cache-dir={cache}", "apply",
               "--server-side", f"--field-manager={BENCH_MANAGER}",
               "-f", str(rendered)]  # fmt: skip
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


kubeconfig = ""


def side_by_side(plane: ControlPlane, api: client.ApiClient, runs: int) -> bool:
    kube = KubeCluster(api)
    renderer = Renderer()
    binary = kubectl()
    objects = 0
    with tempfile.TemporaryDirectory(prefix="ms-bench-kubectl-") as tmp:
        work = Path(tmp)
        ours: list[tuple[float, float]] = []
        theirs: list[float] = []
        for i in range(runs + 1):  # the first of each is a warm-up
            ns_ours, ns_theirs = f"rec-ours-{i}", f"rec-kubectl-{i}"
            create_namespace(api, ns_ours)
            create_namespace(api, ns_theirs)
            ours.append(time_reconcile(kube, renderer, ns_ours))
            theirs.append(time_kubectl(kube, binary, work / "cache", work, ns_theirs))
            print(f"  run {i}{' (warm-up)' if i == 0 else ''}: reconcile {ours[-1][0]:.3f} s "
                  f"(with status {ours[-1][1]:.3f} s), kubectl {theirs[-1]:.3f} s [{load()}]",
                  file=sys.stderr, flush=True)  # fmt: skip
        rendered = (work / "rec-kubectl-0-objects.yaml").read_text()
        objects = sum(1 for doc in yaml.safe_load_all(rendered) if doc)
    applied = statistics.median(t[0] for t in ours[1:])
    whole = statistics.median(t[1] for t in ours[1:])
    reference = statistics.median(theirs[1:])
    ratio = applied / reference
    print(f"\n## One new ModelService ({objects} objects), median of {runs} [{load()}]\n")
    print("| | median s | min s | max s |")
    print("|---|---|---|---|")
    print(f"| reconcile, start to every child applied | {applied:.3f} | "
          f"{min(t[0] for t in ours[1:]):.3f} | {max(t[0] for t in ours[1:]):.3f} |")  # fmt: skip
    print(f"| reconcile, incl. status write | {whole:.3f} | "
          f"{min(t[1] for t in ours[1:]):.3f} | {max(t[1] for t in ours[1:]):.3f} |")  # fmt: skip
    print(f"| kubectl apply --server-side | {reference:.3f} | {min(theirs[1:]):.3f} | "
          f"{max(theirs[1:]):.3f} |")  # fmt: skip
    verdict = "met" if ratio <= 1.0 else "NOT met"
    print(f"\nratio reconcile / kubectl = {ratio:.2f} (target <= 1.0: {verdict})")
    return ratio <= 1.0


def steady_state(plane: ControlPlane, api: client.ApiClient, count: int, resyncs: int) -> bool:
    kube = KubeCluster(api)
    namespaces = [f"steady-{i}" for i in range(3)]
    for namespace in namespaces:
        create_namespace(api, namespace)
        kube.apply(preset(namespace), field_manager=BENCH_MANAGER)
    for i in range(count):
        kube.apply(model_service(namespaces[i % 3], f"steady-{i}"), field_manager=BENCH_MANAGER)
    period = 4.0
    manager = Manager(
        ManagerOptions(
            kubeconfig=str(plane.kubeconfig),
            workers=4,
            metrics_addr="127.0.0.1:0",
            health_addr="127.0.0.1:0",
            resync=period,
            grace_period=10,
        )
    )
    thread = threading.Thread(target=manager.run, daemon=True)
    thread.start()
    custom = client.CustomObjectsApi(api)
    try:
        deadline = time.monotonic() + 300
        while True:
            items = custom.list_cluster_custom_object("llm-d.ai", "v1alpha1", "modelservices")
            everything = items["items"]
            ready = [o for o in everything
                     if conditions(o).get("Ready", {}).get("status") == "True"]  # fmt: skip
            if len(ready) == len(everything) and manager.queue.processing() == {}:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {len(ready)}/{len(everything)} Ready after 300 s")
            time.sleep(1)
        total = len(everything)
        time.sleep(period + 1)  # the last watch events of convergence settle
        passes = manager.metrics.reconcile_total
        before_ours = _reconciles(passes)
        before = apiserver_requests(plane)
        cpu_before, stages_before = time.process_time(), _stage_seconds(manager)
        wanted = before_ours + resyncs * total
        deadline = time.monotonic() + resyncs * period + 120
        while _reconciles(passes) < wanted:
            if time.monotonic() > deadline:
                raise RuntimeError("resyncs did not happen")
            time.sleep(0.5)
        while manager.queue.processing():
            time.sleep(0.1)
        after = apiserver_requests(plane)
        cpu = time.process_time() - cpu_before
        stages = {k: v - stages_before.get(k, 0.0) for k, v in _stage_seconds(manager).items()}
        done = _reconciles(passes) - before_ours
    finally:
        manager.stop()
        thread.join(timeout=30)
    delta = after - before
    writes = controller_writes(delta)
    print(f"\n## Steady state: {total} ModelServices, {done} reconciles "
          f"(>= {resyncs} resyncs of each) [{load()}]\n")  # fmt: skip
    print("| verb | all requests (API server) | writes to the controller's resources |")
    print("|---|---|---|")
    for verb, count_ in sorted(by_verb(delta).items()):
        print(f"| {verb} | {count_} | {writes.get(verb, 0)} |")
    print(f"\nCPU of this process (the manager) per steady reconcile: {1000 * cpu / done:.2f} ms; "
          "wall ms per reconcile in each stage: "
          + ", ".join(f"{k} {1000 * v / done:.2f}" for k, v in stages.items()))  # fmt: skip
    total_writes = sum(writes.values())
    verdict = "met" if total_writes == 0 else "NOT met"
    print(f"\nwrites during the resyncs: {total_writes} (target 0: {verdict})")
    return total_writes == 0


def _stage_seconds(manager: Manager) -> dict[str, float]:
    """Seconds spent in each pipeline stage so far, from the manager's histogram."""
    found: dict[str, float] = {}
    for metric in manager.metrics.render_seconds.collect():
        for sample in metric.samples:
            if sample.name.endswith("_sum"):
                found[sample.labels["stage"]] = sample.value
    return found


def _reconciles(counter: object) -> int:
    total = 0.0
    for metric in counter.collect():  # type: ignore[attr-defined]
        for sample in metric.samples:
            if sample.name.endswith("_total"):
                total += sample.value
    return int(total)


def main() -> int:
    global kubeconfig
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--steady", type=int, default=20, help="ModelServices in steady state")
    parser.add_argument("--resyncs", type=int, default=3)
    args = parser.parse_args()
    print(f"[{load()}] starting a local plane", file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory(prefix="ms-bench-") as tmp:
        plane = ControlPlane.start(
            Path(tmp) / "plane", full=True, binaries=find_binaries(), die_with_parent=True
        )
        try:
            kubeconfig = str(plane.kubeconfig)
            api = api_client(plane)
            install_crds(api)
            ok = side_by_side(plane, api, args.runs)
            ok = steady_state(plane, api, args.steady, args.resyncs) and ok
            api.close()
        finally:
            plane.stop()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
