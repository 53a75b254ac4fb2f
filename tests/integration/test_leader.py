"""Leader election on a real Lease: one leader at a time, a dead leader is replaced once its
lease expires, and a leader that stops hands over at once."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
from kubernetes import client

from ms_controller.leader import LeaderElector, LeaseConfig

pytestmark = pytest.mark.integration
FAST = {"lease_duration": 3.0, "renew_deadline": 2.0, "retry_period": 0.3}


class Candidate:
    """An elector in a thread, recording when it led."""

    def __init__(self, api: client.ApiClient, namespace: str, identity: str, log: list) -> None:
        self.identity = identity
        self.log = log
        self.elector = LeaderElector(
            api,
            LeaseConfig(namespace, "ms-controller", identity, **FAST),
            on_started_leading=lambda: log.append((time.monotonic(), identity, "start")),
            on_stopped_leading=lambda: log.append((time.monotonic(), identity, "stop")),
        )
        self.result: list[bool] = []
        self.thread = threading.Thread(target=lambda: self.result.append(self.elector.run()))
        self.thread.start()

    def stop(self) -> None:
        self.elector.stop()
        self.thread.join(timeout=10)
        assert not self.thread.is_alive()


def wait_for(check, timeout: float) -> float:
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            raise AssertionError("timed out")
        time.sleep(0.05)
    return time.monotonic() - started


def never_two_leaders(log: list) -> None:
    leading: set[str] = set()
    for _, identity, what in sorted(log):
        if what == "start":
            assert not leading, f"{identity} started leading while {leading} led"
            leading.add(identity)
        else:
            leading.discard(identity)


def lease_holder(api: client.ApiClient, namespace: str) -> str | None:
    lease = client.CoordinationV1Api(api).read_namespaced_lease("ms-controller", namespace)
    return lease.spec.holder_identity


def test_one_leader_and_a_stopping_leader_hands_over_at_once(kube_api, namespace):
    log: list = []
    a = Candidate(kube_api, namespace, "a", log)
    wait_for(lambda: a.elector.is_leader, 10)
    b = Candidate(kube_api, namespace, "b", log)
    time.sleep(FAST["lease_duration"] + 1)  # b sees a renewing: a stays the only leader
    assert a.elector.is_leader and not b.elector.is_leader
    a.stop()
    assert a.result == [True]
    handover = wait_for(lambda: b.elector.is_leader, 10)
    assert handover < FAST["lease_duration"]  # released, not expired
    assert lease_holder(kube_api, namespace) == "b"
    b.stop()
    never_two_leaders(log)
    assert lease_holder(kube_api, namespace) is None  # released on the way out


def test_a_dead_leaders_lease_is_taken_once_it_expires(kube_api, namespace):
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    client.CoordinationV1Api(kube_api).create_namespaced_lease(
        namespace,
        {
            "metadata": {"name": "ms-controller"},
            "spec": {
                "holderIdentity": "killed-with-sigkill",
                "leaseDurationSeconds": 3,
                "acquireTime": now,
                "renewTime": now,
                "leaseTransitions": 4,
            },
        },
    )
    log: list = []
    b = Candidate(kube_api, namespace, "b", log)
    took = wait_for(lambda: b.elector.is_leader, 15)
    assert 2.5 <= took <= 3 + 2 * FAST["retry_period"] + 1.5
    lease = client.CoordinationV1Api(kube_api).read_namespaced_lease("ms-controller", namespace)
    assert lease.spec.holder_identity == "b" and lease.spec.lease_transitions == 5
    b.stop()


def test_a_leader_that_cannot_renew_stops_leading(kube_api, namespace):
    log: list = []
    a = Candidate(kube_api, namespace, "a", log)
    wait_for(lambda: a.elector.is_leader, 10)
    # Someone else takes the lease by force (an operator, or a split brain): a notices and stops.
    api = client.CoordinationV1Api(kube_api)
    lease = api.read_namespaced_lease("ms-controller", namespace)
    lease.spec.holder_identity = "usurper"
    lease.spec.renew_time = datetime.now(UTC)
    api.replace_namespaced_lease("ms-controller", namespace, lease)
    wait_for(lambda: not a.elector.is_leader, 5)
    a.thread.join(timeout=5)
    assert a.result == [False]
    assert [what for _, who, what in log] == ["start", "stop"]


def test_lease_timings_that_cannot_work_are_refused():
    with pytest.raises(ValueError, match="lease duration > renew deadline > retry period"):
        LeaseConfig("ns", "l", "me", lease_duration=5, renew_deadline=10, retry_period=2)
