"""The controller manager: watches feeding a work queue, workers running `reconcile`, leader
election, probes and metrics. `msctl run` is a thin command over `Manager`.

What triggers a reconcile of ModelService `ns/name` (the queue folds them into one):
- any change of the ModelService;
- any change of a child (found by its controller owner reference), e.g. a Deployment's
  available replicas, a child deleted or edited by hand;
- any change of the BaseConfig it names (an index from BaseConfig to its users), including its
  creation, which un-sticks `BaseConfigNotFound`;
- a CRD appearing (a routing kind that was missing can now be applied);
- the periodic resync, and the delay a reconcile asks for (workloads not ready yet).

A standby (leader election on) keeps its caches warm and starts its workers when it wins.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ms_controller.cache import CachedCluster, Caches
from ms_controller.client import TokenBucket, load_configuration, make_api_client
from ms_controller.events import EventQueue
from ms_controller.leader import LeaderElector, LeaseConfig
from ms_controller.metrics import ERROR, REQUEUE_AFTER, SUCCESS, ControllerMetrics
from ms_controller.reconcile import ReconcileResult, reconcile
from ms_controller.reflector import DELETED, Reflector, Resource
from ms_controller.render_cache import RenderCache
from ms_controller.serving import Endpoints, Route, metrics_route, probe_route
from ms_controller.workqueue import WorkQueue
from ms_engine import Renderer, RenderOptions
from ms_engine.api import API_VERSION, GROUP, KIND
from ms_engine.api.crd import PLURAL
from ms_engine.cluster import ClusterError
from ms_engine.names import MANAGED_BY, MANAGER, PART_OF

log = logging.getLogger("ms_controller")

MANAGED = f"{MANAGED_BY}={MANAGER}"

CHILD_KINDS: tuple[tuple[str, str, str], ...] = (
    ("v1", "ServiceAccount", "serviceaccounts"),
    ("v1", "Service", "services"),
    ("apps/v1", "Deployment", "deployments"),
    ("rbac.authorization.k8s.io/v1", "Role", "roles"),
    ("rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings"),
    ("inference.networking.k8s.io/v1", "InferencePool", "inferencepools"),
    ("inference.networking.x-k8s.io/v1alpha2", "InferencePool", "inferencepools"),
    ("inference.networking.x-k8s.io/v1alpha2", "InferenceModel", "inferencemodels"),
    ("inference.networking.x-k8s.io/v1alpha2", "InferenceObjective", "inferenceobjectives"),
    ("llm-d.ai/v1alpha2", "InferenceObjective", "inferenceobjectives"),
    ("gateway.networking.k8s.io/v1", "HTTPRoute", "httproutes"),
)
"""Children the bundled router and stages make (label-selected). ConfigMaps are watched whole:
they are children and BaseConfigs at once. Kinds whose CRD is missing start once it appears."""


@dataclass(frozen=True)
class ManagerOptions:
    kubeconfig: str | None = None
    context: str | None = None
    namespaces: tuple[str, ...] = ()
    """Namespaces to watch; empty watches all."""
    workers: int = 32
    qps: float = 200.0
    burst: int = 400
    leader_elect: bool = False
    lease_namespace: str = "modelservice-system"
    lease_name: str = "modelservice-controller"
    identity: str = field(default_factory=lambda: default_identity())
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0
    metrics_addr: str = ":8080"
    health_addr: str = ":8081"
    resync: float = 600.0
    """Seconds between full passes over every ModelService (0: never)."""
    grace_period: float = 30.0
    """Seconds in-flight reconciles get to finish on shutdown."""
    render: RenderOptions = field(default_factory=RenderOptions)
    strict: bool = False
    """Wiring warnings fail the reconcile instead of being reported in the condition."""


class Manager:
    def __init__(self, options: ManagerOptions, *, renderer: Renderer | None = None) -> None:
        if options.workers < 1:
            raise ValueError("--workers must be at least 1")
        self.options = options
        self.metrics = ControllerMetrics()
        configuration = load_configuration(options.kubeconfig, options.context)
        watched = len(options.namespaces or [None]) * (len(CHILD_KINDS) + 3)
        self.api = make_api_client(
            configuration,
            pool_size=options.workers + watched + 4,
            limiter=TokenBucket(options.qps, options.burst),
            metrics=self.metrics,
        )
        self.caches = Caches()
        self.cluster = CachedCluster(self.api, self.caches)
        self.renderer = renderer or Renderer()
        lookups = self.metrics.render_cache
        self.render_cache = RenderCache(
            on_lookup=lambda hit: lookups.labels("hit" if hit else "miss").inc()
        )
        self.events = EventQueue(self.cluster)
        self.queue = WorkQueue(metrics=self.metrics.queue_listener())
        self._users: dict[tuple[str, str], set[str]] = {}
        self._uses: dict[str, tuple[str, str]] = {}
        self._ready: dict[str, str] = {}
        """ModelService key -> its Ready status (True, False, Unknown), for the gauge."""
        self._index_lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._workers: list[threading.Thread] = []
        self._started_kinds: set[tuple[str, str]] = set()
        self._kinds_lock = threading.Lock()
        self._stop = threading.Event()
        self._lost_lease = False
        self._elector: LeaderElector | None = None
        self._endpoints: list[Endpoints] = []
        self.metrics.max_concurrent.labels("modelservice").set(options.workers)
        self._lease = LeaseConfig(
            options.lease_namespace,
            options.lease_name,
            options.identity,
            options.lease_duration,
            options.renew_deadline,
            options.retry_period,
        )

    # -- running --------------------------------------------------------------------------------

    def run(self) -> int:
        """Block until `stop` (0) or until the lease is lost (1)."""
        self._serve()
        self._start_watches()
        if self.options.resync > 0:
            self._spawn("resync", self._resync_loop)
        self._spawn("unfinished-work", self._unfinished_work_loop)
        if self.options.leader_elect:
            self._elector = LeaderElector(
                self.api,
                self._lease,
                on_started_leading=self._start_workers,
                on_stopped_leading=self._lease_lost,
            )
            self._spawn("leader-election", self._elector.run)
        else:
            self._start_workers()
        self._stop.wait()
        self._shutdown()
        return 1 if self._lost_lease else 0

    def stop(self) -> None:
        """Ask `run` to finish: in-flight reconciles get the grace period, the lease is released."""
        self._stop.set()

    def ready(self) -> tuple[bool, str]:
        unsynced = self.caches.unsynced()
        if unsynced:
            return False, f"caches not synced: {', '.join(sorted(unsynced))}"
        return True, ""

    def healthy(self) -> tuple[bool, str]:
        dead = [t.name for t in self._workers if not t.is_alive()]
        if dead and not self._stop.is_set():
            return False, f"workers died: {', '.join(dead)}"
        return True, ""

    def _serve(self) -> None:
        metrics = metrics_route(self.metrics.registry)
        health = {"/healthz": probe_route(self.healthy), "/readyz": probe_route(self.ready)}
        off = ("", "0")
        same = self.options.metrics_addr == self.options.health_addr
        if same and self.options.health_addr not in off:
            routes: dict[str, Route] = {"/metrics": metrics, **health}
            self._endpoints.append(Endpoints(self.options.metrics_addr, routes))
            return
        if self.options.metrics_addr not in off:
            self._endpoints.append(Endpoints(self.options.metrics_addr, {"/metrics": metrics}))
        if self.options.health_addr not in off:
            self._endpoints.append(Endpoints(self.options.health_addr, health))

    def _spawn(self, name: str, target: Any) -> threading.Thread:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)
        return thread

    def _shutdown(self) -> None:
        self.queue.shutdown()
        deadline = time.monotonic() + self.options.grace_period
        for worker in self._workers:
            worker.join(timeout=max(0.0, deadline - time.monotonic()))
        unfinished = [w.name for w in self._workers if w.is_alive()]
        if unfinished:
            log.warning("Shutdown grace period over", extra={"unfinished": unfinished})
        self.events.stop(timeout=max(1.0, deadline - time.monotonic()))
        if self._elector is not None:
            self._elector.stop()  # releases the lease when it holds it
        for reflector in self.caches.all():
            reflector.stop()
        for thread in self._threads:
            thread.join(timeout=5)
        for endpoints in self._endpoints:
            endpoints.close()
        self.api.close()  # type: ignore[no-untyped-call]

    def _lease_lost(self) -> None:
        if not self._stop.is_set():
            self._lost_lease = True
            log.error("Leader lease lost: stopping so a restarted process starts clean")
            self._stop.set()

    # -- watches --------------------------------------------------------------------------------

    def _namespaces(self) -> Iterable[str | None]:
        return self.options.namespaces or (None,)

    def _watch(
        self,
        api_version: str,
        kind: str,
        plural: str,
        handler: Any,
        *,
        labels: str | None = None,
        keep_managed_fields: bool = True,
        cluster_scoped: bool = False,
    ) -> None:
        for namespace in (None,) if cluster_scoped else self._namespaces():
            reflector = Reflector(
                self.api,
                Resource(api_version, plural, namespace, labels),
                handler,
                keep_managed_fields=keep_managed_fields,
                index_label=PART_OF,  # a reconcile lists its children by this label
            )
            self.caches.add(kind, namespace, reflector)
            self._spawn(f"watch-{plural}.{api_version}", reflector.run)

    def _start_watches(self) -> None:
        self._watch(API_VERSION, KIND, PLURAL, self._on_model_service, keep_managed_fields=False)
        self._watch("v1", "ConfigMap", "configmaps", self._on_config_map)
        self._watch(
            "apiextensions.k8s.io/v1",
            "CustomResourceDefinition",
            "customresourcedefinitions",
            self._on_crd,
            keep_managed_fields=False,
            cluster_scoped=True,
        )
        self._start_child_watches()

    def _start_child_watches(self) -> list[str]:
        """Start watching every child kind that is served and not watched yet."""
        started = []
        for api_version, kind, plural in CHILD_KINDS:
            with self._kinds_lock:
                if (api_version, kind) in self._started_kinds or not self._serves(
                    api_version, kind
                ):
                    continue
                self._started_kinds.add((api_version, kind))
            self._watch(api_version, kind, plural, self._on_child, labels=MANAGED)
            started.append(f"{kind}.{api_version}")
        return started

    def _serves(self, api_version: str, kind: str) -> bool:
        try:
            self.cluster.resource(api_version, kind)
            return True
        except Exception:  # not served (no CRD), or discovery failed: asked again on CRD events
            return False

    def _on_model_service(self, event: str, obj: dict[str, Any]) -> None:
        metadata = obj.get("metadata") or {}
        key = f"{metadata.get('namespace')}/{metadata.get('name')}"
        reference = (
            ((obj.get("spec") or {}).get("baseConfigMapRef") or {}) if event != DELETED else {}
        )
        if event == DELETED:
            self.queue.cancel_delayed(key)
            self.render_cache.drop(key)
        with self._index_lock:
            if event == DELETED:
                self._ready.pop(key, None)
            else:
                self._ready[key] = _ready_status(obj)
            old = self._uses.pop(key, None)
            if old is not None:
                self._users.get(old, set()).discard(key)
            name = reference.get("name") if isinstance(reference, dict) else None
            if isinstance(name, str) and name:
                uses = (str(reference.get("namespace") or metadata.get("namespace")), name)
                self._uses[key] = uses
                self._users.setdefault(uses, set()).add(key)
        self.queue.add(key)

    def _on_config_map(self, event: str, obj: dict[str, Any]) -> None:
        metadata = obj.get("metadata") or {}
        self._enqueue_owner(obj)
        with self._index_lock:
            users = list(
                self._users.get((str(metadata.get("namespace")), str(metadata.get("name"))), ())
            )
        for key in users:
            self.queue.add(key)

    def _on_child(self, event: str, obj: dict[str, Any]) -> None:
        self._enqueue_owner(obj)
        # A child whose owner reference was removed by hand no longer names its owner; its
        # part-of label still does, and that ModelService must report the ChildConflict.
        metadata = obj.get("metadata") or {}
        part_of = (metadata.get("labels") or {}).get(PART_OF)
        if isinstance(part_of, str) and part_of:
            self.queue.add(f"{metadata.get('namespace')}/{part_of}")

    def _enqueue_owner(self, obj: dict[str, Any]) -> None:
        metadata = obj.get("metadata") or {}
        for reference in metadata.get("ownerReferences") or []:
            if (
                reference.get("controller")
                and reference.get("kind") == KIND
                and str(reference.get("apiVersion", "")).startswith(f"{GROUP}/")
            ):
                self.queue.add(f"{metadata.get('namespace')}/{reference.get('name')}")

    def _on_crd(self, event: str, obj: dict[str, Any]) -> None:
        if event == DELETED:
            return
        if self._start_child_watches():
            self._enqueue_all()  # a kind reported MissingCRD can be applied now

    def _enqueue_all(self) -> None:
        for reflector in self.caches.all():
            if reflector.resource.plural == PLURAL:
                for key in reflector.object_keys():
                    self.queue.add(key)

    def _resync_loop(self) -> None:
        while not self._stop.wait(self.options.resync):
            self._enqueue_all()

    def _unfinished_work_loop(self) -> None:
        """Once a second: the in-flight work gauges and ModelServices by Ready status."""
        while not self._stop.wait(1.0):
            self.metrics.update_unfinished(self.queue.processing())
            for status, count in self.ready_counts().items():
                self.metrics.model_services.labels(status).set(count)

    def ready_counts(self) -> dict[str, int]:
        """ModelServices by the status of their Ready condition, as the watch last saw them."""
        counts = {"True": 0, "False": 0, "Unknown": 0}
        with self._index_lock:
            for status in self._ready.values():
                counts[status] += 1
        return counts

    # -- workers --------------------------------------------------------------------------------

    def _start_workers(self) -> None:
        log.info("Starting workers", extra={"workers": self.options.workers})
        for number in range(self.options.workers):
            worker = threading.Thread(target=self._work, name=f"worker-{number}", daemon=True)
            worker.start()
            self._workers.append(worker)

    def _work(self) -> None:
        while (key := self.queue.get()) is not None:
            try:
                self._process(key)
            finally:
                self.queue.done(key)

    def _process(self, key: str) -> None:
        namespace, _, name = key.partition("/")
        active = self.metrics.active_workers.labels("modelservice")
        active.inc()
        started = time.monotonic()
        try:
            result = reconcile(
                self.cluster,
                namespace,
                name,
                renderer=self.renderer,
                options=self.options.render,
                strict=self.options.strict,
                around=self._timed_stage,
                events=self.events.recorder(),
                cache=self.render_cache,
            )
        except Exception as error:
            # A write the API server refused or failed outside what reconcile turns into a
            # condition (the status itself, e.g. a 403 while a restarted API server's RBAC
            # cache fills) is not a bug: a warning. Anything else is a bug in us or a plugin:
            # logged with its traceback. Both are retried with backoff.
            seconds = time.monotonic() - started
            delay = self.queue.add_rate_limited(key)
            self.metrics.reconciled(seconds, ERROR)
            refused = isinstance(error, ClusterError)
            (log.warning if refused else log.exception)(
                "Reconcile failed" if refused else "Reconcile crashed",
                extra={
                    "key": key,
                    "duration_ms": round(seconds * 1000, 1),
                    "retry_in": delay,
                    "error": str(error) if refused else repr(error),
                },
            )
            return
        finally:
            active.dec()
        seconds = time.monotonic() - started
        if result.report is not None:
            for child in result.report.children:
                self.metrics.child_applies.labels(child.kind, child.action.value).inc()
        outcome = self._schedule(key, result)
        self.metrics.reconciled(seconds, outcome, terminal=result.terminal)
        self._log(key, result, seconds, outcome)

    def _timed_stage(self, name: str, step: Callable[[], None]) -> None:
        started = time.perf_counter()
        try:
            step()
        finally:
            self.metrics.render_seconds.labels(name).observe(time.perf_counter() - started)

    def _schedule(self, key: str, result: ReconcileResult) -> str:
        # A ModelService deleted while this pass ran is not passed over again later: its
        # DELETED event has queued the one pass that finds it gone.
        gone = not self._still_cached(key)
        if result.retry:
            if not gone:
                self.queue.add_rate_limited(key)
            return ERROR
        self.queue.forget(key)
        if result.terminal:
            return ERROR  # waits for the ModelService or its BaseConfig to change
        if result.requeue_after:
            if not gone:
                self.queue.add_after(key, result.requeue_after)
            return REQUEUE_AFTER
        return SUCCESS

    def _still_cached(self, key: str) -> bool:
        """False only when a synced cache of ModelServices no longer holds `key`."""
        reflector = self.caches.of(API_VERSION, KIND, key.partition("/")[0])
        return reflector is None or key in reflector

    def _log(self, key: str, result: ReconcileResult, seconds: float, outcome: str) -> None:
        reconciled = result.condition("Reconciled") or {}
        ready = result.condition("Ready") or {}
        changed = []
        if result.report is not None:
            changed = [
                f"{child.ref} {child.action.value}"
                for child in result.report.children
                if child.action.value != "unchanged"
            ]
        log.info(
            "Reconciled" if result.found else "Gone",
            extra={
                "key": key,
                "generation": reconciled.get("observedGeneration"),
                "duration_ms": round(seconds * 1000, 1),
                "result": outcome,
                "reconciled": reconciled.get("reason"),
                "ready": ready.get("reason"),
                "changed": changed,
                "status_written": result.status_written,
            },
        )


def default_identity() -> str:
    return os.environ.get("POD_NAME") or f"{socket.gethostname()}_{uuid.uuid4().hex[:8]}"


def _ready_status(model_service: dict[str, Any]) -> str:
    conditions = (model_service.get("status") or {}).get("conditions") or []
    ready: dict[str, Any] = next((c for c in conditions if c.get("type") == "Ready"), {})
    status = ready.get("status")
    return status if status in ("True", "False") else "Unknown"
