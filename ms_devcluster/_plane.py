"""Start and stop a local control plane: etcd and kube-apiserver, optionally the rest.

`ControlPlane.start(directory, full=...)` runs, each as a process of its own on 127.0.0.1:

- etcd (client and peer URLs on free loopback ports, fsync off: the data is thrown away),
- kube-apiserver (RBAC and Node authorization, client-certificate authentication, a serving
  certificate for 127.0.0.1 signed by a fresh CA, service-account signing keys), ready when
  `/readyz` answers 200,
- with `full=True`: kube-controller-manager, kube-scheduler and KWOK, plus fake nodes that KWOK
  keeps Ready and that advertise GPUs (`nvidia.com/gpu` capacity, `nvidia.com/gpu.product`
  label), so that a Deployment's Pods are scheduled and turn Running.

Everything lives in one directory: the admin kubeconfig (`kubeconfig`), `state.json` with every
PID, certificates, etcd's data and one log per component (`logs/`). `stop()` (or `down(directory)`
from another process) stops the processes by PID in reverse order and removes the directory.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import yaml

from ms_devcluster._binaries import Binaries, find_binaries
from ms_devcluster._errors import AlreadyRunningError, DevClusterError, StartupError
from ms_devcluster._http import ApiClient, probe
from ms_devcluster._pki import CLIENT_EXTENSIONS, CertPair, Pki, create_pki, sign
from ms_devcluster._process import ProcessRecord, is_alive, log_tail, spawn, stop

DIR_ENV = "MS_DEVCLUSTER_DIR"
KUBECONFIG_NAME = "kubeconfig"
STATE_NAME = "state.json"
MARKER_NAME = ".modelservice-devcluster"
CLUSTER_NAME = "modelservice-dev"
SERVICE_CIDR = "10.0.0.0/16"
"""65,534 Service IPs: a /24 was full after 85 P/D ModelServices (3 Services each)."""
SERVICE_IP = "10.0.0.1"
POD_CIDR = "10.244.0.1/16"
KWOK_ANNOTATION = "kwok.x-k8s.io/node"
NODE_MONITOR_GRACE_PERIOD = "10m"
"""How long the node lifecycle controller waits for a fake node's lease (upstream: 50 s)."""
GPU_RESOURCE = "nvidia.com/gpu"
GPU_PRODUCT_LABEL = "nvidia.com/gpu.product"

Log = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


def default_directory() -> Path:
    """`$MS_DEVCLUSTER_DIR`, else `<tmp>/modelservice-devcluster-<uid>`."""
    override = os.environ.get(DIR_ENV)
    if override:
        return Path(override).expanduser().resolve()
    return Path(tempfile.gettempdir()) / f"modelservice-devcluster-{os.getuid()}"


@dataclass(frozen=True, kw_only=True)
class GpuNodes:
    """The fake nodes of a full plane: KWOK keeps them Ready; they carry GPUs."""

    count: int = 2
    gpus_per_node: int = 8
    product: str = "NVIDIA-H100-80GB-HBM3"
    cpu: str = "64"
    memory: str = "512Gi"
    pods: str = "110"
    name_prefix: str = "kwok-gpu-"

    def names(self) -> list[str]:
        return [f"{self.name_prefix}{i}" for i in range(self.count)]

    def manifest(self, name: str) -> dict[str, Any]:
        resources = {
            "cpu": self.cpu,
            "memory": self.memory,
            "pods": self.pods,
            GPU_RESOURCE: str(self.gpus_per_node),
        }
        return {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": name,
                "annotations": {KWOK_ANNOTATION: "fake", "node.alpha.kubernetes.io/ttl": "0"},
                "labels": {
                    "type": "kwok",
                    "kubernetes.io/arch": "amd64",
                    "kubernetes.io/hostname": name,
                    "kubernetes.io/os": "linux",
                    "node-role.kubernetes.io/agent": "",
                    GPU_PRODUCT_LABEL: self.product,
                    "nvidia.com/gpu.count": str(self.gpus_per_node),
                    "nvidia.com/gpu.present": "true",
                },
            },
            "spec": {},
            "status": {"capacity": resources, "allocatable": resources},
        }


@dataclass(frozen=True)
class _Sizing:
    service_cidr: str
    client_qps: int

    def client_flags(self, *, syncs: bool) -> list[str]:
        if self.client_qps <= 0:
            return []
        flags = [f"--kube-api-qps={self.client_qps}", f"--kube-api-burst={2 * self.client_qps}"]
        if syncs:
            workers = max(5, self.client_qps // 20)
            flags += [
                f"--concurrent-deployment-syncs={workers}",
                f"--concurrent-replicaset-syncs={workers}",
            ]
        return flags


@dataclass(kw_only=True)
class _Ports:
    etcd_client: int
    etcd_peer: int
    apiserver: int
    controller_manager: int
    scheduler: int
    kwok: int


def _free_ports(count: int) -> list[int]:
    """Distinct free ports on 127.0.0.1 (all held open together, then released)."""
    with contextlib.ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind(("127.0.0.1", 0))
            ports.append(int(sock.getsockname()[1]))
        return ports


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def write_kubeconfig(path: Path, *, server: str, ca: Path, client: CertPair, user: str) -> None:
    """A self-contained kubeconfig (certificates embedded), readable only by its owner."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": CLUSTER_NAME,
                "cluster": {"server": server, "certificate-authority-data": _b64(ca)},
            }
        ],
        "users": [
            {
                "name": user,
                "user": {
                    "client-certificate-data": _b64(client.cert),
                    "client-key-data": _b64(client.key),
                },
            }
        ],
        "contexts": [{"name": CLUSTER_NAME, "context": {"cluster": CLUSTER_NAME, "user": user}}],
        "current-context": CLUSTER_NAME,
    }
    tmp = path.with_suffix(".tmp")
    tmp.write_text(yaml.safe_dump(config, sort_keys=False))
    tmp.chmod(0o600)
    tmp.replace(path)


@dataclass(kw_only=True)
class ControlPlane:
    """A local control plane: started here with `start`, or found again with `load`."""

    directory: Path
    server: str
    full: bool
    kubernetes_version: str = ""
    ports: dict[str, int] = field(default_factory=dict)
    records: list[ProcessRecord] = field(default_factory=list)
    _popen: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict, repr=False)
    _commands: dict[str, list[str]] = field(default_factory=dict, repr=False)
    """Each component's command line, to start it again (`restart_component`)."""
    _die_with_parent: bool = field(default=False, repr=False)
    _go_gc: int = field(default=0, repr=False)

    # -- paths -------------------------------------------------------------------------------

    @property
    def kubeconfig(self) -> Path:
        """The admin kubeconfig (user `modelservice-admin` in group `system:masters`)."""
        return self.directory / KUBECONFIG_NAME

    @property
    def state_file(self) -> Path:
        return self.directory / STATE_NAME

    @property
    def pki_dir(self) -> Path:
        return self.directory / "pki"

    @property
    def log_dir(self) -> Path:
        return self.directory / "logs"

    def env(self) -> str:
        """A shell line that points kubectl (and the Python client) at this plane."""
        return f"export KUBECONFIG={shlex.quote(str(self.kubeconfig))}"

    def admin_client(self) -> ApiClient:
        """A small HTTPS client with the admin certificate (for readiness and setup calls)."""
        pki = self.pki_dir
        return ApiClient(
            port=self.ports["apiserver"],
            ca=CertPair(cert=pki / "ca.crt", key=pki / "ca.key"),
            client=CertPair(cert=pki / "admin.crt", key=pki / "admin.key"),
        )

    def running(self) -> list[ProcessRecord]:
        """The recorded processes that still run."""
        return [r for r in self.records if is_alive(r)]

    # -- state file --------------------------------------------------------------------------

    def _save(self) -> None:
        state = {
            "version": 1,
            "directory": str(self.directory),
            "kubeconfig": str(self.kubeconfig),
            "server": self.server,
            "full": self.full,
            "kubernetes_version": self.kubernetes_version,
            "ports": self.ports,
            "processes": [r.to_json() for r in self.records],
        }
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2) + "\n")
        tmp.replace(self.state_file)

    @classmethod
    def load(cls, directory: Path) -> ControlPlane:
        """The plane recorded in `directory/state.json` (its processes may have died since)."""
        state_file = directory / STATE_NAME
        try:
            state = json.loads(state_file.read_text())
        except FileNotFoundError:
            raise DevClusterError(f"no control plane recorded in {directory}") from None
        except (OSError, ValueError) as exc:
            raise DevClusterError(f"cannot read {state_file}: {exc}") from exc
        return cls(
            directory=directory,
            server=str(state["server"]),
            full=bool(state["full"]),
            kubernetes_version=str(state.get("kubernetes_version", "")),
            ports={str(k): int(v) for k, v in state["ports"].items()},
            records=[ProcessRecord.from_json(p) for p in state["processes"]],
        )

    # -- start -------------------------------------------------------------------------------

    @classmethod
    def start(
        cls,
        directory: Path | None = None,
        *,
        full: bool = False,
        binaries: Binaries | None = None,
        nodes: GpuNodes | None = None,
        timeout: float = 120.0,
        die_with_parent: bool = False,
        apiserver_args: tuple[str, ...] = (),
        log: Log = _quiet,
        service_cidr: str = SERVICE_CIDR,
        client_qps: int = 0,
        go_gc: int = 0,
    ) -> ControlPlane:
        """Start a plane in `directory` (made if absent; it must be empty or an old plane's).

        `service_cidr` must contain 10.0.0.1 (the `kubernetes` Service; a small one lets a test
        fill it). `client_qps` > 0 lets the controller-manager and the scheduler talk to the API
        server that fast (burst twice that) with more concurrent Deployment and ReplicaSet syncs:
        their defaults (QPS 20 and 50) take minutes to create the pods of 1000 ModelServices.
        0 keeps the defaults (tests). `go_gc` > 0 sets GOGC for every component (Go's
        collector runs when the heap grows by that percentage; default 100): the API server
        spent about 18% of its CPU collecting garbage under 1000 ModelServices, and a larger
        GOGC trades memory, which the machine has, for that CPU.

        `die_with_parent` makes the kernel stop the components if this Python process dies
        without calling `stop` (for test sessions; `msctl dev cluster up` leaves it off so the
        plane outlives the command). `apiserver_args` are appended to kube-apiserver's flags
        (e.g. a low `--max-requests-inflight`). On any failure every started process is
        stopped and the directory removed before the error is raised.
        """
        directory = (directory or default_directory()).resolve()
        binaries = binaries or find_binaries()
        _prepare_directory(directory)
        p = _free_ports(6)
        ports = _Ports(
            etcd_client=p[0],
            etcd_peer=p[1],
            apiserver=p[2],
            controller_manager=p[3],
            scheduler=p[4],
            kwok=p[5],
        )
        plane = cls(
            directory=directory,
            server=f"https://127.0.0.1:{ports.apiserver}",
            full=full,
            ports=dict(vars(ports)),
            _die_with_parent=die_with_parent,
            _go_gc=go_gc,
        )
        try:
            plane._start(
                binaries,
                ports,
                nodes or GpuNodes(),
                timeout,
                die_with_parent,
                apiserver_args,
                log,
                _Sizing(service_cidr, client_qps),
            )
        except BaseException:
            # Keep the logs to read; the next `up` or `down` in this directory removes them.
            plane.stop(remove=False)
            raise
        return plane

    def _spawn(self, name: str, args: list[str], die_with_parent: bool) -> None:
        process, record = spawn(
            name,
            args,
            log=self.log_dir / f"{name}.log",
            cwd=self.directory,
            die_with_parent=die_with_parent,
            environment={"GOGC": str(self._go_gc)} if self._go_gc > 0 else {},
        )
        self.records.append(record)
        self._popen[record.pid] = process
        self._commands[name] = list(args)
        self._save()

    def _wait(
        self, what: str, deadline: float, check: Callable[[], bool], component: str = ""
    ) -> None:
        """Poll `check` until it holds; fail early, with its log, if a component exits.

        On a timeout the error quotes the log of `component` (default: the newest process).
        """
        while True:
            for record in self.records:
                process = self._popen.get(record.pid)
                if process is not None and process.poll() is not None:
                    raise StartupError(
                        f"{record.name} exited with code {process.returncode} while waiting "
                        f"for {what}; last lines of {record.log}:\n{log_tail(record.log)}"
                    )
            if check():
                return
            if time.monotonic() > deadline:
                named = [r for r in self.records if r.name == component]
                blame = named[0] if named else self.records[-1]
                raise StartupError(
                    f"timed out waiting for {what}; last lines of {blame.log}:\n"
                    f"{log_tail(blame.log)}"
                )
            time.sleep(0.1)

    def _start(
        self,
        binaries: Binaries,
        ports: _Ports,
        nodes: GpuNodes,
        timeout: float,
        die_with_parent: bool,
        apiserver_args: tuple[str, ...],
        log: Log,
        sizing: _Sizing,
    ) -> None:
        t0 = time.monotonic()
        deadline = t0 + timeout
        self.log_dir.mkdir()
        pki = create_pki(self.pki_dir, service_cluster_ip=SERVICE_IP)
        self._save()
        write_kubeconfig(
            self.kubeconfig,
            server=self.server,
            ca=pki.ca.cert,
            client=pki.admin,
            user="modelservice-admin",
        )
        log(f"certificates and kubeconfig written ({time.monotonic() - t0:.1f} s)")

        etcd_url = f"http://127.0.0.1:{ports.etcd_client}"
        peer_url = f"http://127.0.0.1:{ports.etcd_peer}"
        self._spawn("etcd", [
            str(binaries.path("etcd")),
            "--name=default",
            f"--data-dir={self.directory / 'etcd-data'}",
            f"--listen-client-urls={etcd_url}",
            f"--advertise-client-urls={etcd_url}",
            f"--listen-peer-urls={peer_url}",
            f"--initial-advertise-peer-urls={peer_url}",
            f"--initial-cluster=default={peer_url}",
            "--initial-cluster-state=new",
            "--unsafe-no-fsync=true",
            "--log-level=warn",
        ], die_with_parent)  # fmt: skip
        self._wait("etcd /health", deadline, lambda: probe(f"{etcd_url}/health") == 200)
        log(f"etcd ready on {etcd_url} ({time.monotonic() - t0:.1f} s)")

        self._spawn("kube-apiserver", [*_apiserver_args(binaries, pki, ports, self.directory,
                                                        sizing.service_cidr), *apiserver_args],
                    die_with_parent)  # fmt: skip
        api = self.admin_client()
        self._wait("kube-apiserver /readyz", deadline, lambda: _status(api, "/readyz") == 200)
        self.kubernetes_version = str(api.request("GET", "/version").json()["gitVersion"])
        self._save()
        log(f"kube-apiserver {self.kubernetes_version} ready on {self.server} "
            f"({time.monotonic() - t0:.1f} s)")  # fmt: skip
        if not self.full:
            return

        kubeconfigs = self.directory / "kubeconfigs"
        kubeconfigs.mkdir()
        kcm_config = kubeconfigs / "controller-manager"
        scheduler_config = kubeconfigs / "scheduler"
        write_kubeconfig(
            kcm_config,
            server=self.server,
            ca=pki.ca.cert,
            client=pki.controller_manager,
            user="system:kube-controller-manager",
        )
        write_kubeconfig(scheduler_config, server=self.server, ca=pki.ca.cert,
                         client=pki.scheduler, user="system:kube-scheduler")  # fmt: skip
        self._spawn("kube-controller-manager", [
            str(binaries.path("kube-controller-manager")),
            f"--kubeconfig={kcm_config}",
            f"--authentication-kubeconfig={kcm_config}",
            f"--authorization-kubeconfig={kcm_config}",
            "--bind-address=127.0.0.1",
            f"--secure-port={ports.controller_manager}",
            f"--cert-dir={self.directory / 'controller-manager-certs'}",
            "--leader-elect=false",
            f"--cluster-name={CLUSTER_NAME}",
            f"--service-cluster-ip-range={sizing.service_cidr}",
            f"--service-account-private-key-file={pki.service_account_key}",
            f"--root-ca-file={pki.ca.cert}",
            f"--cluster-signing-cert-file={pki.ca.cert}",
            f"--cluster-signing-key-file={pki.ca.key}",
            "--use-service-account-credentials=true",
            # KWOK readies a pod once and never again, so a node marked NotReady leaves every
            # pod on it not Ready for good. Seen in the fault tests: after API server restarts
            # the controller-manager's lease informer lagged past the 50 s default while KWOK
            # renewed every 10 s. Fake nodes only die with KWOK: a long grace period.
            f"--node-monitor-grace-period={NODE_MONITOR_GRACE_PERIOD}",
            *sizing.client_flags(syncs=True),
            "--v=1",
        ], die_with_parent)  # fmt: skip
        self._spawn("kube-scheduler", [
            str(binaries.path("kube-scheduler")),
            f"--kubeconfig={scheduler_config}",
            f"--authentication-kubeconfig={scheduler_config}",
            f"--authorization-kubeconfig={scheduler_config}",
            "--bind-address=127.0.0.1",
            f"--secure-port={ports.scheduler}",
            f"--cert-dir={self.directory / 'scheduler-certs'}",
            "--leader-elect=false",
            *sizing.client_flags(syncs=False),
            "--v=1",
        ], die_with_parent)  # fmt: skip
        self._spawn("kwok", [
            str(binaries.path("kwok")),
            f"--kubeconfig={self.kubeconfig}",
            f"--config={binaries.kwok_stages}",
            "--manage-all-nodes=false",
            f"--manage-nodes-with-annotation-selector={KWOK_ANNOTATION}=fake",
            f"--server-address=127.0.0.1:{ports.kwok}",
            f"--cidr={POD_CIDR}",
            "--node-lease-duration-seconds=40",
        ], die_with_parent)  # fmt: skip
        for name in nodes.names():
            resp = api.request("POST", "/api/v1/nodes", nodes.manifest(name))
            if resp.status not in (200, 201):
                raise StartupError(f"creating node {name}: HTTP {resp.status} {resp.body[:200]!r}")
        checks: list[tuple[str, str, Callable[[], bool]]] = [
            ("kube-controller-manager", "/healthz", lambda: probe(
                f"https://127.0.0.1:{ports.controller_manager}/healthz") == 200),
            ("kube-scheduler", "/healthz", lambda: probe(
                f"https://127.0.0.1:{ports.scheduler}/healthz") == 200),
            ("kwok", "/healthz", lambda: probe(f"http://127.0.0.1:{ports.kwok}/healthz") == 200),
            ("kwok", f"{nodes.count} fake GPU nodes Ready", lambda: _nodes_ready(api, nodes)),
            ("kube-controller-manager", "the default ServiceAccount", lambda: _status(
                api, "/api/v1/namespaces/default/serviceaccounts/default") == 200),
        ]  # fmt: skip
        for component, what, check in checks:
            self._wait(f"{component} {what}" if what[0] == "/" else what, deadline, check,
                       component)  # fmt: skip
        log(f"controller-manager, scheduler, kwok and {nodes.count} GPU nodes ready "
            f"({time.monotonic() - t0:.1f} s)")  # fmt: skip

    def user_kubeconfig(self, user: str, groups: tuple[str, ...] = ()) -> Path:
        """A kubeconfig for `user` (a client certificate signed by the plane's CA), in
        `kubeconfigs/<user>`: a non-admin identity, subject to RBAC and to API priority and
        fairness (the admin's `system:masters` group is exempt from both)."""
        directory = self.directory / "kubeconfigs"
        directory.mkdir(exist_ok=True)
        ca = CertPair(cert=self.pki_dir / "ca.crt", key=self.pki_dir / "ca.key")
        subject = "".join(f"/O={group}" for group in groups) + f"/CN={user}"
        pair = sign(self.pki_dir, ca, f"user-{user}", subject, CLIENT_EXTENSIONS)
        path = directory / user
        write_kubeconfig(path, server=self.server, ca=ca.cert, client=pair, user=user)
        return path

    # -- faults: stop and start one component -----------------------------------------------

    def _record(self, name: str) -> ProcessRecord:
        for record in self.records:
            if record.name == name:
                return record
        raise DevClusterError(f"no component named {name!r} in this plane")

    def stop_component(self, name: str, *, kill: bool = False) -> None:
        """Stop one component (SIGTERM, or SIGKILL with `kill`), for fault tests; the rest of
        the plane keeps running until `start_component` brings it back."""
        record = self._record(name)
        process = self._popen.pop(record.pid, None)
        if kill and is_alive(record):
            with contextlib.suppress(ProcessLookupError):
                os.kill(record.pid, signal.SIGKILL)
        stop(record, process=process)

    def start_component(
        self, name: str, *, extra_args: tuple[str, ...] = (), timeout: float = 60.0
    ) -> None:
        """Start a stopped component again with the same command line (plus `extra_args`),
        on the same ports and data, and wait until it answers its health check."""
        record = self._record(name)
        if is_alive(record):
            raise DevClusterError(f"{name} (pid {record.pid}) still runs; stop it first")
        self.records.remove(record)
        self._spawn(name, [*self._commands[name], *extra_args], self._die_with_parent)
        if extra_args:
            self._commands[name] = self._commands[name][: -len(extra_args)]
        deadline = time.monotonic() + timeout
        if name == "etcd":
            url = f"http://127.0.0.1:{self.ports['etcd_client']}/health"
            self._wait("etcd /health", deadline, lambda: probe(url) == 200, name)
        elif name == "kube-apiserver":
            api = self.admin_client()
            self._wait("kube-apiserver /readyz", deadline,
                       lambda: _status(api, "/readyz") == 200, name)  # fmt: skip

    def restart_component(self, name: str, *, kill: bool = False, timeout: float = 60.0) -> None:
        """`stop_component` then `start_component`."""
        self.stop_component(name, kill=kill)
        self.start_component(name, timeout=timeout)

    # -- stop --------------------------------------------------------------------------------

    def stop(self, *, remove: bool = True) -> list[str]:
        """Stop every recorded process, newest first, and remove the directory.

        Returns the names of the processes that were still running.
        """
        stopped = []
        for record in reversed(self.records):
            if stop(record, process=self._popen.get(record.pid)):
                stopped.append(record.name)
        self._popen.clear()
        if remove:
            _remove_directory(self.directory)
        return stopped

    def __enter__(self) -> ControlPlane:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _status(api: ApiClient, path: str) -> int | None:
    try:
        return api.request("GET", path).status
    except OSError:
        return None


def _nodes_ready(api: ApiClient, nodes: GpuNodes) -> bool:
    ready = set()
    try:
        resp = api.request("GET", "/api/v1/nodes?labelSelector=type%3Dkwok")
    except OSError:
        return False
    if resp.status != 200:
        return False
    for node in resp.json().get("items", []):
        for cond in node.get("status", {}).get("conditions", []):
            if cond.get("type") == "Ready" and cond.get("status") == "True":
                ready.add(node["metadata"]["name"])
    return ready >= set(nodes.names())


def _apiserver_args(
    binaries: Binaries, pki: Pki, ports: _Ports, directory: Path, service_cidr: str
) -> list[str]:
    return [
        str(binaries.path("kube-apiserver")),
        f"--etcd-servers=http://127.0.0.1:{ports.etcd_client}",
        "--bind-address=127.0.0.1",
        "--advertise-address=127.0.0.1",
        f"--secure-port={ports.apiserver}",
        f"--cert-dir={directory / 'apiserver-certs'}",
        f"--tls-cert-file={pki.serving.cert}",
        f"--tls-private-key-file={pki.serving.key}",
        f"--client-ca-file={pki.ca.cert}",
        "--authorization-mode=Node,RBAC",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        f"--service-account-key-file={pki.service_account_pub}",
        f"--service-account-signing-key-file={pki.service_account_key}",
        f"--service-cluster-ip-range={service_cidr}",
        # The kubernetes Service's endpoints would be 127.0.0.1, which validation refuses.
        "--endpoint-reconciler-type=none",
        "--allow-privileged=true",
        "--profiling=false",
        "--v=1",
    ]


def _prepare_directory(directory: Path) -> None:
    """Make `directory` ready for a new plane: absent, empty, or a stopped plane's."""
    if (directory / STATE_NAME).exists():
        old = ControlPlane.load(directory)
        alive = old.running()
        if alive:
            names = ", ".join(f"{r.name} (pid {r.pid})" for r in alive)
            raise AlreadyRunningError(
                f"a control plane already runs from {directory}: {names}; "
                "stop it with 'msctl dev cluster down'"
            )
        _remove_directory(directory)
    elif directory.exists() and any(directory.iterdir()) and not (directory / MARKER_NAME).exists():
        raise DevClusterError(f"{directory} is not empty and is not a control plane directory")
    elif directory.exists():
        _remove_directory(directory)  # a stopped plane's leftovers (marker, no state)
    directory.mkdir(parents=True, mode=0o700, exist_ok=True)
    (directory / MARKER_NAME).write_text("made by ms_devcluster; removed by down\n")


def _remove_directory(directory: Path) -> None:
    """Remove a plane's directory, but only one that the launcher made (it holds the marker)."""
    if (directory / MARKER_NAME).exists() or (directory / STATE_NAME).exists():
        shutil.rmtree(directory, ignore_errors=True)


def down(directory: Path | None = None) -> list[str]:
    """Stop the plane recorded in `directory` (default: `default_directory()`) and remove it.

    Returns the names of the processes that were still running.
    """
    directory = (directory or default_directory()).resolve()
    return ControlPlane.load(directory).stop()


@contextlib.contextmanager
def running_plane(directory: Path | None = None, **kwargs: Any) -> Iterator[ControlPlane]:
    """`with running_plane(tmp, full=True) as plane:` starts a plane and always stops it."""
    plane = ControlPlane.start(directory, **kwargs)
    try:
        yield plane
    finally:
        plane.stop()
