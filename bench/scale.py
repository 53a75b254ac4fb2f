"""Many ModelServices at once against a running `msctl run`: convergence, memory, requests.

    .venv/bin/python bench/scale.py [--sizes 100,300,1000] [--namespaces 4] [--plot]

For each size, on a fresh local plane it starts itself (etcd, kube-apiserver, controller-manager
and scheduler, KWOK with enough fake nodes for every pod):

1. one `sim` preset per namespace, then `msctl run` as a subprocess, then `size` P/D
   ModelServices (distinct names, spread over `--namespaces`) created at once by 16 threads;
2. the time from the first create until every ModelService is `Reconciled` (for its current
   generation) and until every one is `Ready` (its pods run on KWOK nodes);
3. an edit of every preset that changes the prefill and decode pod templates: the time until every
   such Deployment carries the new template (the controller's fan-out) and until every one has
   rolled (the Deployment controller's part);
4. deleting every ModelService: the time until none of their children is left;

and the controller's peak RSS (VmHWM of the subprocess, polled), its CPU seconds, the API
requests the API server counted by verb, and the reconcile latency p50/p99 from the controller's
own histogram. Targets (1000): all Reconciled <= 120 s, peak RSS <= 300 MB, the preset edit fanned
out <= 120 s. `--plot` writes bench/results/scale.png (Reconciled/Ready over time per size;
needs matplotlib: `pip install -e '.[bench]'`). Each size's figures also go to
bench/results/scale-<size>.json; the table and the plot take every size found there, so sizes can
be run one at a time. Every process it starts is stopped, also on errors.

The plane shares the machine's cores with the controller. `--plane-qps` sets how fast the
controller-manager and the scheduler may talk to the API server: 0 (the default) keeps their
upstream defaults (20 and 50 per client), as a cluster comes; 200 lets them create the pods as
fast as this machine allows, and they then take the CPU the controller would have used
(docs/performance.md has both).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException
from prometheus_client.parser import text_string_to_metric_families

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _support import (
    BENCH_MANAGER,
    ROOT,
    api_client,
    apiserver_requests,
    by_verb,
    conditions,
    create_namespace,
    install_crds,
    load,
    model_service,
    preset,
)

from ms_controller.kube import KubeCluster
from ms_devcluster import ControlPlane, GpuNodes, find_binaries

RESULTS = ROOT / "bench" / "results"
PODS_PER_MODEL_SERVICE = 4  # decode 2, prefill 1, endpoint picker 1
PODS_PER_NODE = 500
GO_GC = 400
"""GOGC of the plane's components: Go's collector was ~18% of the API server's CPU at 1000."""
ROLLED_COMPONENTS = ("decode", "prefill")
OLD_GRACE, NEW_GRACE = "terminationGracePeriodSeconds: 5", "terminationGracePeriodSeconds: 6"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Controller:
    """`msctl run` as a subprocess, its memory and CPU read from /proc."""

    def __init__(self, kubeconfig: Path, log: Path, extra: list[str]) -> None:
        self.port = _free_port()
        self.log = log
        self.process = subprocess.Popen(
            [str(ROOT / ".venv/bin/msctl"), "run", f"--kubeconfig={kubeconfig}",
             f"--metrics-addr=127.0.0.1:{self.port}", f"--health-addr=127.0.0.1:{self.port}",
             "--log-format=json", *extra],
            stdout=log.open("wb"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.peak_rss = 0.0
        self._stop = threading.Event()
        self._poller = threading.Thread(target=self._poll, daemon=True)
        self._poller.start()

    def _status(self, field: str) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
        return 0.0

    def _poll(self) -> None:
        while not self._stop.wait(0.5):
            try:
                self.peak_rss = max(self.peak_rss, self._status("VmHWM"))
            except OSError:
                return

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self.process.pid)

    def metrics(self) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=10) as r:
            return str(r.read().decode())

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"msctl run exited; see {self.log}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=2):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("msctl run not ready")

    def stop(self) -> None:
        self._stop.set()
        if self.process.poll() is None:
            with contextlib.suppress(OSError):
                self.peak_rss = max(self.peak_rss, self._status("VmHWM"))
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=45)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process `pid` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def plane_cpu_seconds(plane: ControlPlane) -> dict[str, float]:
    """CPU seconds of each plane component so far: where the machine's two cores went."""
    found = {}
    for record in plane.records:
        with contextlib.suppress(OSError):
            found[record.name] = process_cpu_seconds(record.pid)
    return found


def by_resource(delta: Counter[tuple[str, str, str, str]]) -> dict[str, int]:
    """Requests by "VERB resource[/subresource]", most first: who made the API server busy."""
    found: Counter[str] = Counter()
    for (verb, resource, subresource, _), count in delta.items():
        found[f"{verb} {resource}" + (f"/{subresource}" if subresource else "")] += count
    return dict(found.most_common())


def histogram_quantile(text: str, name: str, q: float) -> float:
    """The q-quantile of a Prometheus histogram (linear within a bucket, as PromQL does)."""
    buckets: list[tuple[float, float]] = []
    for family in text_string_to_metric_families(text):
        if family.name != name:
            continue
        for sample in family.samples:
            if sample.name == name + "_bucket":
                buckets.append((float(sample.labels["le"]), sample.value))
    buckets.sort()
    if not buckets or buckets[-1][1] == 0:
        return math.nan
    rank = q * buckets[-1][1]
    lower, below = 0.0, 0.0
    for upper, count in buckets:
        if count >= rank:
            if math.isinf(upper):
                return lower
            return lower + (upper - lower) * (rank - below) / max(count - below, 1e-9)
        lower, below = upper, count
    return lower


def counter_by(text: str, name: str, label: str) -> dict[str, int]:
    found: Counter[str] = Counter()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                found[sample.labels.get(label, "")] += int(sample.value)
    return dict(found)


def wait_until(what: str, check: Callable[[], bool], timeout: float, every: float = 1.0) -> float:
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"{what}: not within {timeout:.0f} s")
        time.sleep(every)
    return time.monotonic() - started


def run_size(
    size: int,
    namespaces: int,
    controller_args: list[str],
    timeout: float,
    profile: bool,
    roll_timeout: float,
    apiserver_profile: float = 0.0,
    converge_only: bool = False,
    plane_qps: int = 0,
) -> dict:
    pods = size * PODS_PER_MODEL_SERVICE
    nodes = GpuNodes(count=max(2, math.ceil(pods / PODS_PER_NODE) + 1), pods=str(PODS_PER_NODE),
                     cpu="1000", memory="4Ti")  # fmt: skip
    names = [f"scale-{i}" for i in range(namespaces)]
    result: dict[str, Any] = {
        "size": size,
        "namespaces": namespaces,
        "nodes": nodes.count,
        "plane_qps": plane_qps,
        "controller_args": controller_args,
    }
    with tempfile.TemporaryDirectory(prefix="ms-bench-scale-") as tmp:
        print(f"[{size}] starting a plane with {nodes.count} KWOK nodes [{load()}]",
              file=sys.stderr, flush=True)  # fmt: skip
        plane = ControlPlane.start(
            Path(tmp) / "plane", full=True, binaries=find_binaries(), nodes=nodes,
            die_with_parent=True, client_qps=plane_qps, go_gc=GO_GC,
            apiserver_args=("--profiling=true",) if apiserver_profile else (),
        )  # fmt: skip
        controller: Controller | None = None
        api = api_client(plane, pool=32)
        try:
            install_crds(api)
            kube = KubeCluster(api)
            for namespace in names:
                create_namespace(api, namespace)
                kube.apply(preset(namespace), field_manager=BENCH_MANAGER)
            controller = Controller(plane.kubeconfig, Path(tmp) / "controller.log", controller_args)
            controller.wait_ready()
            cpu_start = controller.cpu_seconds()
            plane_cpu_start = plane_cpu_seconds(plane)
            requests_before = apiserver_requests(plane)
            spy = _profiler(controller, size) if profile else None
            pprof = _apiserver_profiler(api, size, apiserver_profile) if apiserver_profile else None
            try:
                result |= _converge(api, kube, names, size, controller, timeout)
            finally:
                if spy is not None:
                    spy.send_signal(signal.SIGINT)
                    spy.wait(timeout=60)
                if pprof is not None:
                    pprof.join()
            result["cpu_seconds_converge"] = round(controller.cpu_seconds() - cpu_start, 1)
            result["plane_cpu_seconds_converge"] = {
                name: round(seconds - plane_cpu_start.get(name, 0.0), 1)
                for name, seconds in plane_cpu_seconds(plane).items()
            }
            text = controller.metrics()
            result["reconcile_p50_s"] = round(
                histogram_quantile(text, "controller_runtime_reconcile_time_seconds", 0.5), 3
            )
            result["reconcile_p99_s"] = round(
                histogram_quantile(text, "controller_runtime_reconcile_time_seconds", 0.99), 3
            )
            delta = apiserver_requests(plane) - requests_before
            result["apiserver_requests_converge"] = dict(by_verb(delta))
            result["apiserver_requests_converge_by_resource"] = by_resource(delta)
            result["controller_requests_converge"] = counter_by(
                text, "rest_client_requests_total", "method")  # fmt: skip
            result["rss_after_converge_mb"] = round(controller._status("VmRSS"), 1)
            _save(result)  # what was measured survives a failure later on
            if converge_only:
                return result
            result |= _preset_edit(api, kube, names, size, timeout, roll_timeout)
            _save(result)
            result |= _delete_all(api, names, timeout)
            result["cpu_seconds_total"] = round(controller.cpu_seconds() - cpu_start, 1)
            text = controller.metrics()
            result["reconciles"] = counter_by(text, "controller_runtime_reconcile_total", "result")
            result["controller_requests_total"] = counter_by(
                text, "rest_client_requests_total", "method")  # fmt: skip
        finally:
            if controller is not None:
                controller.stop()
                result["peak_rss_mb"] = round(controller.peak_rss, 1)
            api.close()
            plane.stop()
    result["load_after"] = load()
    return result


def _profiler(controller: Controller, size: int) -> subprocess.Popen[bytes]:
    """py-spy sampling every thread, idle ones included (where the wall time goes), until the
    convergence is over: collapsed stacks in bench/results/profile-<size>.txt."""
    return subprocess.Popen(
        [str(ROOT / ".venv/bin/py-spy"), "record", "--pid", str(controller.process.pid),
         "--idle", "--nonblocking", "--rate", "20", "--format", "raw",
         "--output", str(RESULTS / f"profile-{size}.txt")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def _apiserver_profiler(api: client.ApiClient, size: int, seconds: float) -> threading.Thread:
    """The API server's own CPU profile over the first `seconds` of the convergence (Go pprof,
    read with `go tool pprof -top <kube-apiserver> bench/results/apiserver-<size>.pprof`)."""

    def fetch() -> None:
        method, url, headers, body, post = api.param_serialize(
            method="GET", resource_path="/debug/pprof/profile",
            query_params=[("seconds", int(seconds))], auth_settings=["BearerToken"],
        )  # fmt: skip
        response = api.call_api(method, url, headers, body, post,
                                _request_timeout=(10, seconds + 60))  # fmt: skip
        (RESULTS / f"apiserver-{size}.pprof").write_bytes(response.response.data)

    thread = threading.Thread(target=fetch, daemon=True)
    thread.start()
    return thread


def _save(result: dict[str, Any]) -> None:
    (RESULTS / f"scale-{run_name(result)}.json").write_text(json.dumps(result, indent=1) + "\n")


def run_name(result: dict[str, Any]) -> str:
    """`1000`, or `1000-qps200` for a run whose plane was not stock (both kept side by side)."""
    qps = result.get("plane_qps") or 0
    return f"{result['size']}" + (f"-qps{qps}" if qps else "")


def _counts(api: client.ApiClient) -> tuple[int, int, int]:
    """(ModelServices, Reconciled for their generation, Ready)."""
    listed = client.CustomObjectsApi(api).list_cluster_custom_object(
        "llm-d.ai", "v1alpha1", "modelservices"
    )["items"]
    reconciled = ready = 0
    for obj in listed:
        found = conditions(obj)
        generation = obj["metadata"].get("generation")
        r = found.get("Reconciled", {})
        if r.get("status") == "True" and r.get("observedGeneration", generation) == generation:
            reconciled += 1
        if found.get("Ready", {}).get("status") == "True":
            ready += 1
    return len(listed), reconciled, ready


def _converge(
    api: client.ApiClient, kube: KubeCluster, names: list[str], size: int,
    controller: Controller, timeout: float,
) -> dict[str, Any]:  # fmt: skip
    started = time.monotonic()
    timeline: list[tuple[float, int, int]] = []
    bodies = [model_service(names[i % len(names)], f"pd-{i}") for i in range(size)]
    create_api = client.CustomObjectsApi(api)

    def create(body: dict[str, Any]) -> None:
        create_api.create_namespaced_custom_object(
            "llm-d.ai", "v1alpha1", body["metadata"]["namespace"], "modelservices", body
        )

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(create, bodies))
    created = time.monotonic() - started
    print(f"[{size}] created in {created:.1f} s [{load()}]", file=sys.stderr, flush=True)
    all_reconciled = all_ready = math.nan
    while time.monotonic() - started < timeout:
        _, reconciled, ready = _counts(api)
        now = time.monotonic() - started
        timeline.append((round(now, 2), reconciled, ready))
        if reconciled == size and math.isnan(all_reconciled):
            all_reconciled = now
            print(f"[{size}] all Reconciled at {now:.1f} s, RSS peak "
                  f"{controller.peak_rss:.0f} MB [{load()}]",
                  file=sys.stderr, flush=True)  # fmt: skip
        if ready == size:
            all_ready = now
            break
        time.sleep(2.0)  # a list of every ModelService costs the API server too
    print(f"[{size}] Ready {timeline[-1][2]}/{size} at {timeline[-1][0]:.1f} s [{load()}]",
          file=sys.stderr, flush=True)  # fmt: skip
    return {
        "created_s": round(created, 1),
        "all_reconciled_s": round(all_reconciled, 1),
        "all_ready_s": round(all_ready, 1),
        "load_converge": load(),
        "timeline": timeline,
    }


def _rolled(api: client.ApiClient, names: list[str], size: int) -> tuple[int, int]:
    """(Deployments carrying the new template, of those: rolled out) among prefill/decode."""
    apps = client.AppsV1Api(api)
    carrying = rolled = 0
    for namespace in names:
        listed = apps.list_namespaced_deployment(
            namespace, label_selector="app.kubernetes.io/managed-by", _preload_content=False
        )
        for item in json.loads(listed.data)["items"]:
            spec = item["spec"]
            if not item["metadata"]["name"].endswith(tuple(f"-{c}" for c in ROLLED_COMPONENTS)):
                continue
            if spec["template"]["spec"].get("terminationGracePeriodSeconds") != 6:
                continue
            carrying += 1
            status = item.get("status") or {}
            if (
                status.get("observedGeneration") == item["metadata"]["generation"]
                and status.get("updatedReplicas", 0) == spec.get("replicas", 1)
                and status.get("replicas", 0) == spec.get("replicas", 1)
                and status.get("availableReplicas", 0) == spec.get("replicas", 1)
            ):
                rolled += 1
    return carrying, rolled


def _preset_edit(
    api: client.ApiClient,
    kube: KubeCluster,
    names: list[str],
    size: int,
    timeout: float,
    roll_timeout: float,
) -> dict[str, Any]:
    wanted = size * len(ROLLED_COMPONENTS)
    started = time.monotonic()
    for namespace in names:
        body = preset(namespace)
        for key in ("decodeDeployment", "prefillDeployment"):
            assert OLD_GRACE in body["data"][key], key
            body["data"][key] = body["data"][key].replace(OLD_GRACE, NEW_GRACE)
        kube.apply(body, field_manager=BENCH_MANAGER)
    fanned = rolled = math.nan
    done = 0
    while time.monotonic() - started < (timeout if math.isnan(fanned) else roll_timeout):
        carrying, done = _rolled(api, names, size)
        now = time.monotonic() - started
        if carrying == wanted and math.isnan(fanned):
            fanned = now
            print(f"[{size}] preset edit fanned out at {now:.1f} s [{load()}]",
                  file=sys.stderr, flush=True)  # fmt: skip
        if done == wanted:
            rolled = now
            break
        time.sleep(2.0)
    print(f"[{size}] rolled {done}/{wanted} at {time.monotonic() - started:.1f} s [{load()}]",
          file=sys.stderr, flush=True)  # fmt: skip
    return {"preset_fanout_s": round(fanned, 1), "preset_rolled_s": round(rolled, 1),
            "preset_rolled_count": f"{done}/{wanted}", "load_preset": load()}  # fmt: skip


def _delete_all(api: client.ApiClient, names: list[str], timeout: float) -> dict[str, Any]:
    custom = client.CustomObjectsApi(api)
    apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
    started = time.monotonic()
    for namespace in names:
        try:
            custom.delete_collection_namespaced_custom_object(
                "llm-d.ai", "v1alpha1", namespace, "modelservices"
            )
        except ApiException as error:  # 504: the server goes on deleting; we wait below
            if error.status != 504:
                raise
            print(f"[{namespace}] delete collection: 504, waiting", file=sys.stderr, flush=True)

    def left() -> int:
        count = 0
        for namespace in names:
            for listing in (apps.list_namespaced_deployment, core.list_namespaced_service,
                            core.list_namespaced_service_account):  # fmt: skip
                try:
                    found = listing(namespace, label_selector="app.kubernetes.io/managed-by",
                                    _preload_content=False)  # fmt: skip
                except ApiException:
                    continue
                count += len(json.loads(found.data)["items"])
        return count

    try:
        gone = wait_until("children gone", lambda: left() == 0, timeout, every=2.0)
    except TimeoutError:
        gone = math.nan
    print(f"[{len(names)} ns] children gone at {time.monotonic() - started:.1f} s "
          f"({left()} left) [{load()}]", file=sys.stderr, flush=True)  # fmt: skip
    return {"children_gone_s": round(gone, 1), "load_delete": load()}


def plot(results: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(8, 4.5))
    for result in results:
        timeline = result["timeline"]
        times = [t for t, _, _ in timeline]
        line = axes.plot(times, [r for _, r, _ in timeline], label=f"{run_name(result)} Reconciled")
        axes.plot(times, [r for _, _, r in timeline], linestyle="--", color=line[0].get_color(),
                  label=f"{run_name(result)} Ready")  # fmt: skip
    axes.axvline(120, color="grey", linewidth=0.8, linestyle=":")
    axes.set_xlabel("seconds since the first create")
    axes.set_ylabel("ModelServices")
    axes.set_title("msctl run: P/D ModelServices created at once (local plane, 2 cores)")
    axes.legend(fontsize=8)
    axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,300,1000")
    parser.add_argument("--namespaces", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=300.0,
                        help="seconds per phase; a stock plane does not bring 1000 to Ready or "
                        "delete their children that fast: the count reached is said")  # fmt: skip
    parser.add_argument("--roll-timeout", type=float, default=120.0,
                        help="seconds from the preset edit to give up waiting for the roll "
                        "; the count rolled by then is reported")  # fmt: skip
    parser.add_argument("--plot", action="store_true")
    parser.add_argument("--profile", action="store_true", help="py-spy the convergence")
    parser.add_argument("--apiserver-profile", type=float, default=0.0, metavar="SECONDS",
                        help="take the API server's CPU profile over the first SECONDS of the "
                        "convergence (bench/results/apiserver-<size>.pprof)")  # fmt: skip
    parser.add_argument("--plane-qps", type=int, default=0,
                        help="client QPS of the controller-manager and the scheduler "
                        "(0: their upstream defaults, 20 and 50)")  # fmt: skip
    parser.add_argument(
        "--converge-only",
        action="store_true",
        help="stop after the convergence (for trying a change quickly)",
    )
    parser.add_argument("controller_args", nargs="*", help="extra `msctl run` flags (after --)")
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    results = []
    ok = True
    for size in (int(s) for s in args.sizes.split(",")):
        result = run_size(size, args.namespaces, args.controller_args, args.timeout, args.profile,
                          args.roll_timeout, args.apiserver_profile,
                          args.converge_only, args.plane_qps)  # fmt: skip
        results.append(result)
        _save(result)
        if size >= 1000:  # the targets
            ok = ok and result["all_reconciled_s"] <= 120 and result["peak_rss_mb"] <= 300
            ok = ok and result.get("preset_fanout_s", math.inf) <= 120
    ran = {run_name(r) for r in results}
    for stored in sorted(RESULTS.glob("scale-*.json")):
        earlier = json.loads(stored.read_text())
        if run_name(earlier) not in ran:
            results.append(earlier)
    results.sort(key=lambda r: (int(r["size"]), r.get("plane_qps") or 0))
    print("| ModelServices | all Reconciled s | all Ready s | preset fan-out s | preset rolled s "
          "| children gone s | peak RSS MB | CPU s | reconcile p50/p99 s |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {run_name(r)} | {r['all_reconciled_s']} | {r['all_ready_s']} | "
              f"{r.get('preset_fanout_s', '-')} | {r.get('preset_rolled_s', '-')} "
              f"({r.get('preset_rolled_count', '')}) | "
              f"{r.get('children_gone_s', '-')} | "
              f"{r.get('peak_rss_mb', '-')} | {r.get('cpu_seconds_total', '-')} | "
              f"{r['reconcile_p50_s']}/{r['reconcile_p99_s']} |")  # fmt: skip
    if args.plot:
        plot(results, RESULTS / "scale.png")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
