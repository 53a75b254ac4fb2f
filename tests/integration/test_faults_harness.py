"""The fault lab shared by `test_faults.py` and `bench/faults.py`: a control plane of its own
(so components can be killed without hurting other tests), `msctl run` processes, a population
of ModelServices on the sim preset, decoy objects the controller does not own, and the checks
made after every fault.

The controller runs as a user of its own (`modelservice-controller`, bound to cluster-admin),
not as the admin: the admin's `system:masters` group is exempt from the API server's in-flight
limits and priority and fairness, so throttling could never reach it. What the controller wrote
is counted from the API server's audit log by that user name (the log survives API server
restarts, where `apiserver_request_total` starts again from zero).
"""

from __future__ import annotations

import copy
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from polling import fetch

from ms_controller.kube import KubeCluster
from ms_devcluster import ControlPlane, GpuNodes

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "unit"))
sys.path.insert(0, str(ROOT / "tests" / "integration"))

from crd_files import CRD_FILES, install_crd  # noqa: E402
from support import preset, sample  # noqa: E402

MSCTL = Path(sys.executable).parent / "msctl"
LAB_AGENT = "modelservice-faults-lab"
LAB_MANAGER = "modelservice-faults-lab"
CONTROLLER_USER = "modelservice-controller"
GROUP, VERSION, PLURAL = "llm-d.ai", "v1alpha1", "modelservices"
CHILD_RESOURCES = frozenset(
    {
        "serviceaccounts",
        "services",
        "deployments",
        "roles",
        "rolebindings",
        "configmaps",
        "inferencepools",
        "httproutes",
        "inferencemodels",
        "inferenceobjectives",
    }
)
AUDIT_POLICY = {
    "apiVersion": "audit.k8s.io/v1",
    "kind": "Policy",
    "omitStages": ["RequestReceived", "ResponseStarted"],
    "rules": [
        {
            "level": "None",
            "resources": [
                {
                    "group": "",
                    "resources": [
                        "events",
                        "pods",
                        "pods/status",
                        "pods/binding",
                        "nodes",
                        "nodes/status",
                    ],
                }
            ],
        },
        {"level": "None", "resources": [{"group": "events.k8s.io"}]},
        {"level": "None", "resources": [{"group": "coordination.k8s.io"}]},
        {"level": "None", "users": ["system:kube-scheduler", "system:kube-controller-manager"]},
        {"level": "None", "userGroups": ["system:serviceaccounts", "system:nodes"]},
        {"level": "Metadata", "verbs": ["create", "update", "patch", "delete", "deletecollection"]},
    ],
}
THROTTLED = (
    "--enable-priority-and-fairness=false",
    "--max-requests-inflight=4",
    "--max-mutating-requests-inflight=1",
)
"""The classic in-flight limiter: it answers 429 with Retry-After: 1 when full."""


def wait_for(check: Callable[[], Any], what: str, timeout: float = 120.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
        except (ApiException, OSError, urllib.error.URLError):
            result = None
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.5)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Controller:
    """One `msctl run` process with its own metrics/health port and JSON log."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def healthy(self) -> bool:
        return fetch(self.url + "/healthz")[0] == 200

    def metrics(self) -> str:
        return fetch(self.url + "/metrics")[1]

    def cpu_seconds(self) -> float:
        stat = Path(f"/proc/{self.process.pid}/stat").read_text()
        fields = stat[stat.rfind(")") + 2 :].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def lines(self) -> list[dict[str, Any]]:
        found = []
        for line in self.log.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                try:
                    found.append(json.loads(line))
                except ValueError:
                    continue
        return found

    def stop(self, sig: int = signal.SIGTERM) -> int | None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        return self.process.returncode


@dataclass
class Snapshot:
    """The children of every ModelService (by owner), and the decoys, at one moment."""

    children: dict[str, dict[tuple[str, str], str]] = field(default_factory=dict)
    """ModelService name -> (resource, child name) -> uid."""
    decoys: dict[tuple[str, str], str] = field(default_factory=dict)
    """(resource, name) -> resourceVersion."""


class Lab:
    """A plane, a namespace of ModelServices and decoys, and the controllers that serve it."""

    def __init__(self, directory: Path, *, gpu_nodes: int = 2, pods_per_node: int = 250) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        policy = directory / "audit-policy.yaml"
        policy.write_text(yaml.safe_dump(AUDIT_POLICY))
        self.audit_log = directory / "audit.log"
        self.plane = ControlPlane.start(
            directory / "plane",
            full=True,
            nodes=GpuNodes(count=gpu_nodes, pods=str(pods_per_node)),
            die_with_parent=True,
            apiserver_args=(
                f"--audit-policy-file={policy}",
                f"--audit-log-path={self.audit_log}",
                "--audit-log-format=json",
                "--audit-log-maxsize=0",
            ),
        )
        self.api = config.new_client_from_config(config_file=str(self.plane.kubeconfig))
        self.api.user_agent = LAB_AGENT
        self.core = client.CoreV1Api(self.api)
        self.apps = client.AppsV1Api(self.api)
        self.custom = client.CustomObjectsApi(self.api)
        extensions = client.ApiextensionsV1Api(self.api)
        for path in CRD_FILES:
            install_crd(extensions, path)
        self.controller_kubeconfig = self.plane.user_kubeconfig(CONTROLLER_USER)
        client.RbacAuthorizationV1Api(self.api).create_cluster_role_binding(
            client.V1ClusterRoleBinding(
                metadata=client.V1ObjectMeta(name=CONTROLLER_USER),
                role_ref=client.V1RoleRef(
                    api_group="rbac.authorization.k8s.io", kind="ClusterRole", name="cluster-admin"
                ),
                subjects=[
                    client.RbacV1Subject(
                        api_group="rbac.authorization.k8s.io", kind="User", name=CONTROLLER_USER
                    )
                ],
            )
        )
        self.controllers: list[Controller] = []
        self.namespace = "faults"
        self.create_namespace(self.namespace)
        self.base_config = preset("sim")
        self.put(self.base_config)
        self.decoy_names: list[tuple[str, str]] = []
        self.patience = 1.0
        """Multiplies every convergence timeout (the bench runs more ModelServices)."""
        self.expected: dict[str, tuple[str, str]] = {}
        """ModelServices expected to end in a failure condition: name -> (type, reason)."""

    # -- lifecycle -----------------------------------------------------------------------------

    def close(self) -> None:
        for controller in self.controllers:
            controller.stop(signal.SIGKILL)
        self.api.close()
        self.plane.stop()

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def create_namespace(self, name: str) -> None:
        self.core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
        wait_for(
            lambda: self.core.read_namespaced_service_account("default", name),
            f"the default ServiceAccount of {name}",
            60,
        )

    def start_controller(
        self, name: str, *, leader_elect: bool = False, extra: tuple[str, ...] = ()
    ) -> Controller:
        port = free_port()
        log = self.directory / f"controller-{name}-{len(self.controllers)}.log"
        args = [
            str(MSCTL), "run", "--kubeconfig", str(self.controller_kubeconfig),
            "--metrics-addr", f"127.0.0.1:{port}", "--health-addr", f"127.0.0.1:{port}",
            "--resync", "0", "--log-format", "json", "--workers", "4", *extra,
        ]  # fmt: skip
        if leader_elect:
            args += [
                "--leader-elect", "--leader-election-namespace", self.namespace,
                "--leader-elect-lease-duration", "4", "--leader-elect-renew-deadline", "3",
                "--leader-elect-retry-period", "0.5",
            ]  # fmt: skip
        with log.open("ab") as out:
            process = subprocess.Popen(
                args,
                env={**os.environ, "POD_NAME": name},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        controller = Controller(name, process, port, log)
        self.controllers.append(controller)
        if not leader_elect:
            wait_for(controller.healthy, f"controller {name} /healthz", 60)
        return controller

    # -- objects --------------------------------------------------------------------------------

    def put(self, body: dict[str, Any], namespace: str | None = None) -> None:
        body = copy.deepcopy(body)
        body["metadata"]["namespace"] = namespace or self.namespace
        body.pop("immutable", None)
        KubeCluster(self.api).apply(body, field_manager=LAB_MANAGER)

    def model_service(self, name: str, namespace: str | None = None, **spec: Any) -> dict[str, Any]:
        body = sample("sim")
        body["metadata"] = {"name": name, "namespace": namespace or self.namespace}
        body["spec"]["decode"]["replicas"] = 1
        body["spec"].update(spec)
        return body

    def populate(self, count: int, prefix: str = "ms") -> list[str]:
        names = [f"{prefix}-{i:03d}" for i in range(count)]
        for name in names:
            self.put(self.model_service(name))
        return names

    def edit_preset(self, min_ready_seconds: int) -> None:
        """A BaseConfig change every ModelService must roll out (no new pods: only
        `minReadySeconds` of the Deployments changes)."""
        edited = copy.deepcopy(self.base_config)
        for key in ("decodeDeployment", "prefillDeployment"):
            edited["data"][key] = edited["data"][key].replace(
                "spec:\n", f"spec:\n  minReadySeconds: {min_ready_seconds}\n", 1
            )
        self.put(edited)

    def add_decoys(self) -> None:
        """Objects the controller must never touch: plain ones, one with our managed-by label
        but no owner, one named like a child of a ModelService that does not exist."""
        labelled = {"app.kubernetes.io/managed-by": "modelservice"}
        decoys = [
            ("configmaps", {"metadata": {"name": "decoy-plain"}, "data": {"a": "b"}}),
            ("configmaps", {"metadata": {"name": "decoy-labelled", "labels": labelled}}),
            ("configmaps", {"metadata": {"name": "ghost-epp-config", "labels": labelled}}),
            ("serviceaccounts", {"metadata": {"name": "decoy-sa", "labels": labelled}}),
        ]
        for resource, body in decoys:
            body = {"apiVersion": "v1", "kind": "ConfigMap" if resource == "configmaps"
                    else "ServiceAccount", **body}  # fmt: skip
            self.put(body)
            self.decoy_names.append((resource, body["metadata"]["name"]))
        deployment = {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "decoy-deployment", "labels": labelled},
            "spec": {
                "replicas": 0,
                "selector": {"matchLabels": {"decoy": "yes"}},
                "template": {
                    "metadata": {"labels": {"decoy": "yes"}},
                    "spec": {"containers": [{"name": "c", "image": "decoy"}]},
                },
            },
        }
        self.put(deployment)
        self.decoy_names.append(("deployments", "decoy-deployment"))

    # -- observing ------------------------------------------------------------------------------

    def model_services(self, namespace: str | None = None) -> list[dict[str, Any]]:
        found = self.custom.list_namespaced_custom_object(
            GROUP, VERSION, namespace or self.namespace, PLURAL
        )
        return list(found["items"])

    def condition(self, ms: dict[str, Any], type_: str) -> dict[str, Any]:
        conditions = (ms.get("status") or {}).get("conditions") or []
        return next((c for c in conditions if c.get("type") == type_), {})

    def settled(self, ms: dict[str, Any]) -> bool:
        """Ready, or the failure condition expected of it, for its current generation."""
        name = ms["metadata"]["name"]
        generation = ms["metadata"].get("generation")
        reconciled = self.condition(ms, "Reconciled")
        if reconciled.get("observedGeneration") != generation:
            return False
        if name in self.expected:
            type_, reason = self.expected[name]
            found = self.condition(ms, type_)
            return bool(found.get("status") == "False" and found.get("reason") == reason)
        return self.condition(ms, "Ready").get("status") == "True"

    def unsettled(self, namespace: str | None = None) -> list[str]:
        return [
            ms["metadata"]["name"] for ms in self.model_services(namespace) if not self.settled(ms)
        ]

    def converge(self, timeout: float = 180.0, namespace: str | None = None) -> float:
        """Seconds until every ModelService is settled."""
        started = time.monotonic()
        timeout *= self.patience
        last: list[str] = []

        def done() -> bool:
            nonlocal last
            last = self.unsettled(namespace)
            return not last

        try:
            wait_for(done, "every ModelService Ready (or its expected condition)", timeout)
        except AssertionError as error:
            raise AssertionError(
                f"{error}; still unsettled: {last[:10]}\n{self.diagnose(last, namespace)}"
            ) from None
        return time.monotonic() - started

    def diagnose(self, unsettled: list[str], namespace: str | None = None) -> str:
        """Why ModelServices did not settle, for a failure message (CI keeps only the output):
        the first one's conditions, the nodes, the pods that are not Ready, the plane's
        components and the controllers."""
        namespace = namespace or self.namespace
        lines: list[str] = []
        try:
            by_name = {ms["metadata"]["name"]: ms for ms in self.model_services(namespace)}
            for name in unsettled[:2]:
                ms = by_name.get(name, {})
                generation = ms.get("metadata", {}).get("generation")
                for type_ in ("Reconciled", "Ready"):
                    found = self.condition(ms, type_)
                    lines.append(
                        f"{name} (generation {generation}) {type_}={found.get('status')} "
                        f"reason={found.get('reason')} observed={found.get('observedGeneration')}"
                        f" message={str(found.get('message'))[:200]!r}"
                    )
            for node in self.core.list_node().items:
                ready = next((c for c in node.status.conditions or [] if c.type == "Ready"), None)
                taints = [f"{t.key}:{t.effect}" for t in node.spec.taints or []]
                lines.append(
                    f"node {node.metadata.name}: Ready={ready.status if ready else None} "
                    f"({ready.reason if ready else ''}) taints={taints}"
                )
            pods = self.core.list_namespaced_pod(namespace).items
            waiting: Counter[str] = Counter()
            for pod in pods:
                ready = next((c for c in pod.status.conditions or [] if c.type == "Ready"), None)
                if ready is None or ready.status != "True":
                    node = "scheduled" if pod.spec.node_name else "unscheduled"
                    deleting = " deleting" if pod.metadata.deletion_timestamp else ""
                    why = ready.reason if ready is not None else None
                    waiting[f"{pod.status.phase} {node}{deleting} Ready={why}"] += 1
            lines.append(f"pods: {len(pods)}, not Ready: {dict(waiting)}")
            warnings = Counter(
                event.reason
                for event in self.core.list_namespaced_event(
                    namespace, field_selector="type=Warning"
                ).items
            )
            lines.append(f"Warning events by reason: {dict(warnings.most_common(6))}")
            short = [
                d for d in self.apps.list_namespaced_deployment(namespace).items
                if (d.status.available_replicas or 0) < (d.spec.replicas or 0)
            ]  # fmt: skip
            lines.append(f"deployments short of available replicas: {len(short)}")
            for deployment in short[:3]:
                status = deployment.status
                lines.append(
                    f"deployment {deployment.metadata.name}: replicas {status.replicas} "
                    f"updated {status.updated_replicas} ready {status.ready_replicas} "
                    f"available {status.available_replicas} observed "
                    f"{status.observed_generation}/{deployment.metadata.generation}"
                )
        except (ApiException, OSError, urllib.error.URLError) as error:
            lines.append(f"(reading the cluster failed: {error})")
        running = self.plane.running()
        for record in self.plane.records:
            lines.append(f"plane {record.name}: {'alive' if record in running else 'DEAD'}")
        for controller in self.controllers:
            alive = controller.process.poll() is None
            lines.append(f"controller {controller.name}: {'alive' if alive else 'exited'}")
        return "\n".join(lines)

    def _owned(self, namespace: str) -> Iterator[tuple[str, dict[str, Any]]]:
        lists: list[tuple[str, Callable[[], Any]]] = [
            ("serviceaccounts", lambda: self.core.list_namespaced_service_account(namespace)),
            ("services", lambda: self.core.list_namespaced_service(namespace)),
            ("configmaps", lambda: self.core.list_namespaced_config_map(namespace)),
            ("deployments", lambda: self.apps.list_namespaced_deployment(namespace)),
            ("roles", lambda: client.RbacAuthorizationV1Api(self.api).list_namespaced_role(
                namespace)),
            ("rolebindings", lambda: client.RbacAuthorizationV1Api(
                self.api).list_namespaced_role_binding(namespace)),
        ]  # fmt: skip
        for resource, call in lists:
            for item in self.api.sanitize_for_serialization(call().items):
                yield resource, item
        for group, version, plural in (
            ("inference.networking.k8s.io", "v1", "inferencepools"),
            ("gateway.networking.k8s.io", "v1", "httproutes"),
        ):
            found = self.custom.list_namespaced_custom_object(group, version, namespace, plural)
            for item in found["items"]:
                yield plural, item

    def snapshot(self, namespace: str | None = None) -> Snapshot:
        namespace = namespace or self.namespace
        snap = Snapshot()
        uids = {ms["metadata"]["uid"]: ms["metadata"]["name"] for ms in self.model_services(
            namespace)}  # fmt: skip
        decoys = set(self.decoy_names)
        for resource, item in self._owned(namespace):
            metadata = item["metadata"]
            name = metadata["name"]
            if (resource, name) in decoys:
                snap.decoys[(resource, name)] = metadata["resourceVersion"]
            for reference in metadata.get("ownerReferences") or []:
                if reference.get("controller") and reference.get("uid") in uids:
                    owner = uids[reference["uid"]]
                    snap.children.setdefault(owner, {})[(resource, name)] = metadata["uid"]
        return snap

    def audit(self, since: float = 0.0) -> list[dict[str, Any]]:
        """The controller's writes in the audit log at or after `since` (epoch seconds)."""
        found = []
        if not self.audit_log.exists():
            return found
        for path in sorted(self.audit_log.parent.glob(self.audit_log.name + "*")):
            for line in path.read_text(errors="replace").splitlines():
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if entry.get("user", {}).get("username") != CONTROLLER_USER:
                    continue
                if _epoch(entry.get("stageTimestamp", "")) < since:
                    continue
                found.append(entry)
        return found

    def writes(self, since: float = 0.0) -> Counter[tuple[str, str, str]]:
        """(what, resource, name) -> count; what is `create`, `delete`, `update` or `429`."""
        counts: Counter[tuple[str, str, str]] = Counter()
        for entry in self.audit(since):
            ref = entry.get("objectRef") or {}
            resource = ref.get("resource", "")
            if resource not in CHILD_RESOURCES or ref.get("subresource"):
                continue
            code = (entry.get("responseStatus") or {}).get("code")
            verb = entry.get("verb")
            if code == 429:
                what = "429"
            elif code == 201 or (verb == "create" and code == 200):
                what = "create"
            elif verb == "delete" and code in (200, 202):
                what = "delete"
            elif verb in ("patch", "update") and code == 200:
                what = "update"
            else:
                continue
            counts[(what, resource, ref.get("name", ""))] += 1
        return counts

    def throttled(self, since: float = 0.0) -> int:
        return sum(
            1
            for entry in self.audit(since)
            if (entry.get("responseStatus") or {}).get("code") == 429
        )


def _epoch(stamp: str) -> float:
    from datetime import datetime

    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


@dataclass
class Outcome:
    """What one fault did, for the test's asserts and the bench's table."""

    fault: str
    converge_seconds: float = 0.0
    creates: int = 0
    deletes: int = 0
    updates: int = 0
    throttled: int = 0
    duplicates: int = 0
    missing: int = 0
    decoys_touched: int = 0
    healthy: bool = True
    notes: list[str] = field(default_factory=list)


def check(
    lab: Lab,
    before: Snapshot,
    outcome: Outcome,
    since: float,
    *,
    recreated: frozenset[tuple[str, str]] = frozenset(),
    controller: Controller | None = None,
    timeout: float = 180.0,
) -> Snapshot:
    """After a fault: everything settles, every child is there once with the uid it had (except
    `recreated`), decoys are untouched, the controller answers /healthz. Fills `outcome`."""
    outcome.converge_seconds = round(lab.converge(timeout), 1)
    after = lab.snapshot()
    for name, children in before.children.items():
        now = after.children.get(name, {})
        outcome.missing += len(set(children) - set(now))
        for key, uid in children.items():
            if key in now and now[key] != uid and key not in recreated:
                outcome.notes.append(f"{name}: {key} re-created")
                outcome.duplicates += 1
    for name, children in after.children.items():
        extra = set(children) - set(before.children.get(name, children))
        outcome.duplicates += len(extra)
    outcome.decoys_touched = sum(
        1 for key, version in before.decoys.items() if after.decoys.get(key) != version
    )
    counts = lab.writes(since)
    outcome.creates = sum(n for (what, _, _), n in counts.items() if what == "create")
    outcome.deletes = sum(n for (what, _, _), n in counts.items() if what == "delete")
    outcome.updates = sum(n for (what, _, _), n in counts.items() if what == "update")
    outcome.throttled = sum(n for (what, _, _), n in counts.items() if what == "429")
    alive = controller or next(
        (c for c in reversed(lab.controllers) if c.process.poll() is None), None
    )
    outcome.healthy = alive is not None and alive.healthy()
    print(f"\nOUTCOME {outcome}")
    return after
