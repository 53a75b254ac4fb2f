"""Leader election on a `coordination.k8s.io/v1` Lease, with client-go's rules.

Why our own loop and not `kubernetes.leaderelection`: that one calls `sys.exit` on bad
parameters, keeps running the leading callback after the lease is lost, and never releases the
lease on shutdown, so a successor waits a whole lease duration.

Rules:
- A candidate takes the lease when it is free (no holder) or expired. Expiry is judged by when
  *this process* last saw the lease record change plus its duration, never by comparing the
  holder's clock with ours (client-go's observed-time rule, safe under clock skew).
- Every write is an optimistic update on the read resourceVersion, so two candidates never both
  win: the loser gets 409 Conflict and stays a follower.
- The leader renews every `retry_period`; when it cannot renew for `renew_deadline` it stops
  leading at once (`on_stopped_leading`; the manager exits so a restarted process starts clean).
- Stopping (SIGTERM) releases the lease: the holder is cleared and the duration cut to 1 s, so
  a standby takes over within one retry period instead of a lease duration.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LeaseConfig:
    namespace: str
    name: str
    identity: str
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0

    def __post_init__(self) -> None:
        if not (self.lease_duration > self.renew_deadline > self.retry_period > 0):
            raise ValueError(
                "leader election needs lease duration > renew deadline > retry period > 0 "
                f"(got {self.lease_duration}, {self.renew_deadline}, {self.retry_period})"
            )


def _raw(function: Callable[..., Any], *args: Any) -> dict[str, Any]:
    """Call the client without its models (raw JSON in, raw JSON out)."""
    response = function(*args, _preload_content=False, _request_timeout=10)
    document: dict[str, Any] = json.loads(response.data)
    return document


def _now_micro() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class LeaderElector:
    """Campaigns for one Lease; `run` blocks until leadership is lost or `stop` is called."""

    def __init__(
        self,
        api: client.ApiClient,
        config: LeaseConfig,
        *,
        on_started_leading: Callable[[], None] = lambda: None,
        on_stopped_leading: Callable[[], None] = lambda: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._api = client.CoordinationV1Api(api)
        self.config = config
        self._on_started = on_started_leading
        self._on_stopped = on_stopped_leading
        self._clock = clock
        self._stop = threading.Event()
        self._leading = threading.Event()
        self._observed: tuple[str, float] | None = None  # (record fingerprint, when seen)
        self._resource_version: str | None = None
        self._record: dict[str, Any] = {}

    @property
    def is_leader(self) -> bool:
        return self._leading.is_set()

    def stop(self) -> None:
        """Ask `run` to return; a leader releases the lease on its way out."""
        self._stop.set()

    def run(self) -> bool:
        """Campaign, lead, renew. True when stopped on request, False when leadership was lost."""
        while not self._stop.is_set():
            if self._try_acquire_or_renew():
                break
            self._stop.wait(self.config.retry_period)
        else:
            return True
        self._leading.set()
        log.info("Became leader", extra={"lease": self.config.name})
        self._on_started()
        last_renewed = self._clock()
        while not self._stop.wait(self.config.retry_period):
            if self._try_acquire_or_renew():
                last_renewed = self._clock()
                continue
            if self._clock() - last_renewed >= self.config.renew_deadline or not self._holds():
                self._leading.clear()
                log.error("Lost leadership", extra={"lease": self.config.name})
                self._on_stopped()
                return False
        self._release()
        self._leading.clear()
        self._on_stopped()
        return True

    # -- the Lease record ---------------------------------------------------------------------

    def _read(self) -> dict[str, Any] | None:
        try:
            return _raw(self._api.read_namespaced_lease, self.config.name, self.config.namespace)
        except ApiException as error:
            if error.status == 404:
                return None
            raise

    def _holds(self) -> bool:
        return self._record.get("holderIdentity") == self.config.identity

    def _try_acquire_or_renew(self) -> bool:
        try:
            lease = self._read()
            now_micro = _now_micro()
            ours = {
                "holderIdentity": self.config.identity,
                "leaseDurationSeconds": max(1, round(self.config.lease_duration)),
                "renewTime": now_micro,
            }
            if lease is None:
                body = {
                    "apiVersion": "coordination.k8s.io/v1",
                    "kind": "Lease",
                    "metadata": {"name": self.config.name, "namespace": self.config.namespace},
                    "spec": {**ours, "acquireTime": now_micro, "leaseTransitions": 0},
                }
                self._remember(_raw(self._api.create_namespaced_lease, self.config.namespace, body))
                return True
            spec = lease.get("spec") or {}
            self._observe(lease)
            holder = spec.get("holderIdentity") or ""
            if holder and holder != self.config.identity and not self._expired(spec):
                self._record = spec
                return False
            if holder == self.config.identity:
                new_spec = {**spec, **ours}
            else:
                new_spec = {
                    **spec,
                    **ours,
                    "acquireTime": now_micro,
                    "leaseTransitions": int(spec.get("leaseTransitions") or 0) + 1,
                }
            body = {**lease, "spec": new_spec}
            self._remember(
                _raw(
                    self._api.replace_namespaced_lease,
                    self.config.name,
                    self.config.namespace,
                    body,
                )
            )
            return True
        except ApiException as error:
            if error.status != 409:
                log.warning("Lease update failed", extra={"status": error.status})
            return False
        except Exception as error:  # connection refused, timeout: a failed attempt, not a crash
            log.warning("Lease update failed", extra={"error": repr(error)})
            return False

    def _observe(self, lease: dict[str, Any]) -> None:
        spec = lease.get("spec") or {}
        fingerprint = json.dumps(
            [spec.get("holderIdentity"), spec.get("renewTime"), spec.get("leaseDurationSeconds")]
        )
        if self._observed is None or self._observed[0] != fingerprint:
            self._observed = (fingerprint, self._clock())

    def _expired(self, spec: dict[str, Any]) -> bool:
        if self._observed is None:
            return False
        duration = float(spec.get("leaseDurationSeconds") or self.config.lease_duration)
        return self._clock() > self._observed[1] + duration

    def _remember(self, lease: dict[str, Any]) -> None:
        self._record = lease.get("spec") or {}
        self._resource_version = (lease.get("metadata") or {}).get("resourceVersion")
        self._observe(lease)

    def _release(self) -> None:
        try:
            lease = self._read()
            if lease is None or (lease.get("spec") or {}).get("holderIdentity") != (
                self.config.identity
            ):
                return
            spec = {
                **lease["spec"],
                "holderIdentity": None,
                "leaseDurationSeconds": 1,
                "renewTime": _now_micro(),
            }
            _raw(
                self._api.replace_namespaced_lease,
                self.config.name,
                self.config.namespace,
                {**lease, "spec": spec},
            )
            log.info("Released the lease", extra={"lease": self.config.name})
        except Exception as error:  # best effort: the lease then simply expires
            log.warning("Could not release the lease", extra={"error": repr(error)})
