"""Faults while `msctl run` reconciles a population of ModelServices, on a control plane of this
module's own (components are killed here): after each fault every ModelService settles (Ready,
or the failure condition it should have), no child is missing or re-created, no decoy the
controller does not own changes, and the controller answers /healthz.

The tests run in order and share one population: each fault starts from the state the previous
one left. `bench/faults.py` runs the same faults on more ModelServices and prints a table.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from ms_engine.cluster import ApplyRefused

sys.path.insert(0, str(Path(__file__).resolve().parent))

from polling import metric
from test_faults_harness import (
    THROTTLED,
    Lab,
    Outcome,
    check,
    wait_for,
)

pytestmark = pytest.mark.integration
COUNT = 20
CHILDREN_PER_MS = 13
"""The sim preset renders 13 objects (3 Deployments, 3 Services, 2 ServiceAccounts, a Role, a
RoleBinding, a ConfigMap, an InferencePool, an HTTPRoute)."""


@pytest.fixture(scope="module")
def lab(binaries, tmp_path_factory) -> Iterator[Lab]:
    with Lab(tmp_path_factory.mktemp("faults")) as running:
        yield running


def controller(lab: Lab):
    return next(c for c in reversed(lab.controllers) if c.process.poll() is None)


def deployments_have(lab: Lab, min_ready_seconds: int) -> bool:
    items = lab.apps.list_namespaced_deployment(
        lab.namespace, label_selector="app.kubernetes.io/managed-by=modelservice"
    ).items
    decode = [d for d in items if d.metadata.name.endswith("-decode")]
    return bool(decode) and all(d.spec.min_ready_seconds == min_ready_seconds for d in decode)


def test_1_api_server_killed_mid_convergence(lab: Lab) -> None:
    since = time.time()
    lab.add_decoys()
    before = lab.snapshot()
    lab.start_controller("first")
    lab.populate(COUNT)
    wait_for(
        lambda: len(lab.writes(since)) >= COUNT * CHILDREN_PER_MS // 3,
        "a third of the children created",
    )
    lab.plane.stop_component("kube-apiserver", kill=True)
    time.sleep(3)
    lab.plane.start_component("kube-apiserver")

    outcome = Outcome("kube-apiserver kill -9")
    after = check(lab, before, outcome, since)
    sizes = sorted(len(children) for children in after.children.values())
    assert sizes == [CHILDREN_PER_MS] * COUNT, sorted(after.children["ms-000"])
    creates = [n for (what, _, _), n in lab.writes(since).items() if what == "create"]
    assert max(creates) == 1, "a child was created twice"
    assert outcome.deletes == 0 and outcome.decoys_touched == 0 and outcome.healthy
    # The controller's reflectors reconnected rather than crashing.
    assert any(line.get("msg") == "Watch failed, retrying" for line in controller(lab).lines())


def test_2_etcd_restarted(lab: Lab) -> None:
    before, since = lab.snapshot(), time.time()
    lab.edit_preset(1)
    time.sleep(1)
    lab.plane.stop_component("etcd", kill=True)
    time.sleep(2)
    lab.plane.start_component("etcd")
    outcome = Outcome("etcd kill -9")
    check(lab, before, outcome, since)
    wait_for(lambda: deployments_have(lab, 1), "the preset edit rolled out", 60)
    assert (outcome.creates, outcome.deletes, outcome.duplicates, outcome.missing) == (0, 0, 0, 0)
    assert outcome.decoys_touched == 0 and outcome.healthy


def test_3_controller_killed_mid_reconcile(lab: Lab) -> None:
    before, since = lab.snapshot(), time.time()
    lab.edit_preset(2)
    time.sleep(1.0)
    killed = controller(lab)
    killed.stop(signal.SIGKILL)
    restarted = lab.start_controller("restarted")
    outcome = Outcome("controller kill -9")
    check(lab, before, outcome, since, controller=restarted)
    wait_for(lambda: deployments_have(lab, 2), "the preset edit rolled out", 60)
    assert (outcome.creates, outcome.deletes, outcome.duplicates, outcome.missing) == (0, 0, 0, 0)
    assert outcome.decoys_touched == 0 and outcome.healthy


def _stamp(line: dict[str, Any]) -> float:
    return datetime.fromisoformat(line["ts"]).timestamp()


def test_4_leader_failover_under_load(lab: Lab) -> None:
    controller(lab).stop()
    pair = {name: lab.start_controller(name, leader_elect=True) for name in ("alpha", "beta")}
    coordination = client.CoordinationV1Api(lab.api)

    def holder() -> str | None:
        lease = coordination.read_namespaced_lease("modelservice-controller", lab.namespace)
        return lease.spec.holder_identity

    leader = wait_for(holder, "a leader", 30)
    standby = next(name for name in pair if name != leader)
    transitions = (
        coordination.read_namespaced_lease(
            "modelservice-controller", lab.namespace
        ).spec.lease_transitions
        or 0
    )
    before, since = lab.snapshot(), time.time()
    lab.edit_preset(3)
    time.sleep(1.0)
    pair[leader].stop(signal.SIGKILL)
    killed = time.time()
    outcome = Outcome("leader failover")
    check(lab, before, outcome, since, controller=pair[standby])
    wait_for(lambda: deployments_have(lab, 3), "the preset edit rolled out", 60)
    assert holder() == standby
    lease = coordination.read_namespaced_lease("modelservice-controller", lab.namespace)
    assert (lease.spec.lease_transitions or 0) == transitions + 1
    # Never two leaders at once: the standby started its workers only after the leader died,
    # and reconciled nothing before.
    lines = pair[standby].lines()
    started = [_stamp(x) for x in lines if x.get("msg") == "Starting workers"]
    assert len(started) == 1 and started[0] > killed
    assert all(_stamp(x) >= started[0] for x in lines if x.get("msg") == "Reconciled")
    assert (outcome.creates, outcome.deletes, outcome.duplicates, outcome.missing) == (0, 0, 0, 0)
    assert outcome.decoys_touched == 0 and outcome.healthy
    # The next faults restart the API server: an elected leader that cannot renew exits by
    # design (its Deployment restarts it). Here one replica without election carries on.
    pair[standby].stop()
    lab.start_controller("single")


def kubectl_apply(kubectl: Path, lab: Lab, body: dict[str, Any], manager: str) -> None:
    subprocess.run(
        [str(kubectl), "--kubeconfig", str(lab.plane.kubeconfig), "apply", "--server-side",
         "--force-conflicts", f"--field-manager={manager}", "-f", "-"],
        input=json.dumps(body), text=True, check=True, capture_output=True,
    )  # fmt: skip


def test_5_another_field_manager_changes_a_child(lab: Lab, kubectl: Path) -> None:
    name = "ms-000-decode"
    before, since = lab.snapshot(), time.time()
    kubectl_apply(kubectl, lab, {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": lab.namespace,
                     "annotations": {"example.com/owner-note": "kept"}},
        "spec": {"minReadySeconds": 99},
    }, "intruder")  # fmt: skip
    wait_for(lambda: deployments_have(lab, 3), "our minReadySeconds back", 60)
    live = lab.apps.read_namespaced_deployment(name, lab.namespace)
    assert live.metadata.annotations.get("example.com/owner-note") == "kept"

    def said_so() -> bool:
        events = lab.core.list_namespaced_event(lab.namespace).items
        return any(
            e.reason == "Configured" and e.related and e.related.name == name
            and "another manager" in (e.message or "")
            for e in events
        )  # fmt: skip

    wait_for(said_so, "an Event naming the corrected field", 30)

    # replicas under decoupleScaling belong to whoever scales: kept.
    lab.put(lab.model_service("scaled", decoupleScaling=True))
    lab.converge()
    subprocess.run(
        [str(kubectl), "--kubeconfig", str(lab.plane.kubeconfig), "-n", lab.namespace, "scale",
         "deployment/scaled-decode", "--replicas=2"],
        check=True, capture_output=True,
    )  # fmt: skip
    lab.edit_preset(4)  # makes the controller apply every Deployment again
    wait_for(lambda: deployments_have(lab, 4), "the preset edit rolled out", 90)
    assert lab.apps.read_namespaced_deployment("scaled-decode", lab.namespace).spec.replicas == 2
    outcome = Outcome("field manager conflict")
    check(lab, before, outcome, since)
    assert outcome.deletes == 0 and outcome.decoys_touched == 0 and outcome.healthy


def test_6_children_deleted_or_disowned_by_hand(lab: Lab) -> None:
    before, since = lab.snapshot(), time.time()
    deleted = ("services", "ms-001-service-decode")
    lab.core.delete_namespaced_service(deleted[1], lab.namespace)
    disowned = "ms-002-service-prefill"
    lab.core.patch_namespaced_service(
        disowned, lab.namespace, [{"op": "remove", "path": "/metadata/ownerReferences"}]
    )
    disowned_version = lab.core.read_namespaced_service(
        disowned, lab.namespace
    ).metadata.resource_version
    lab.expected["ms-002"] = ("Reconciled", "ChildConflict")
    # A ModelService whose epp ConfigMap name is taken by a decoy created before it.
    lab.expected["ghost"] = ("Reconciled", "ChildConflict")
    lab.put(lab.model_service("ghost"))

    outcome = Outcome("children deleted/disowned by hand")
    before.children["ms-002"].pop(("services", disowned))
    after = check(lab, before, outcome, since, recreated=frozenset({deleted}))
    assert deleted in after.children["ms-001"]
    assert outcome.missing == 0 and outcome.decoys_touched == 0 and outcome.healthy
    kept = lab.core.read_namespaced_service(disowned, lab.namespace)
    assert kept.metadata.resource_version == disowned_version  # not deleted, not touched
    ms = next(m for m in lab.model_services() if m["metadata"]["name"] == "ms-002")
    assert disowned in lab.condition(ms, "Reconciled")["message"]
    counts = lab.writes(since)
    assert counts[("create", *deleted)] == 1
    assert not any(what == "delete" for what, _, _ in counts)


def test_7_api_server_throttling(lab: Lab) -> None:
    lab.plane.stop_component("kube-apiserver")
    lab.plane.start_component("kube-apiserver", extra_args=THROTTLED)
    try:
        before, since = lab.snapshot(), time.time()
        was = metric(controller(lab).metrics(), 'rest_client_requests_total{code="429"')
        lab.edit_preset(5)
        for name in ("burst-0", "burst-1", "burst-2"):
            lab.put(lab.model_service(name))
        outcome = Outcome("API server throttling")
        check(lab, before, outcome, since, timeout=240)
        wait_for(lambda: deployments_have(lab, 5), "the preset edit rolled out", 90)
        throttled = metric(controller(lab).metrics(), 'rest_client_requests_total{code="429"') - was
        assert throttled > 0, "the API server never pushed back: the test proves nothing"
        assert outcome.deletes == 0 and outcome.decoys_touched == 0 and outcome.healthy
    finally:
        lab.plane.stop_component("kube-apiserver")
        lab.plane.start_component("kube-apiserver")


def test_8_deleted_while_reconciling(lab: Lab) -> None:
    lab.edit_preset(6)
    lab.custom.delete_namespaced_custom_object(
        "llm-d.ai", "v1alpha1", lab.namespace, "modelservices", "ms-003"
    )
    doomed = "faults-doomed"
    lab.create_namespace(doomed)
    lab.put(lab.base_config, doomed)
    for i in range(3):
        lab.put(lab.model_service(f"d-{i}", doomed), doomed)
    lab.converge(namespace=doomed)
    lab.core.delete_namespace(doomed)
    lab.converge()

    def gone() -> bool:
        try:
            lab.core.read_namespace(doomed)
            return False
        except ApiException as error:
            return error.status == 404

    wait_for(gone, "the namespace gone", 120)
    wait_for(lambda: "ms-003" not in lab.snapshot().children, "ms-003's children collected", 60)
    # No error loop: once the roll-out's backlog drained, nothing reconciles the deleted ones
    # again, and no reconcile crashed.
    watched = controller(lab)
    wait_for(lambda: deployments_have(lab, 6), "the preset edit rolled out", 120)
    wait_for(lambda: metric(watched.metrics(), "workqueue_depth") == 0, "an empty queue", 60)
    time.sleep(3)
    window = time.time()
    time.sleep(8)
    late = [
        line["key"] for line in watched.lines()
        if _stamp(line) >= window and line.get("msg") in ("Reconciled", "Gone")
    ]  # fmt: skip
    assert not [k for k in late if k.startswith(f"{doomed}/") or k == "faults/ms-003"], late
    assert not any(line.get("msg") == "Reconcile crashed" for line in watched.lines())
    assert watched.healthy()


NAME = st.from_regex(r"\A[a-z][a-z0-9]{0,20}\Z")
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=80)
HOSTILE_TEMPLATES = [
    "{% for i in range(100000000) %}x{% endfor %}",
    "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}",
    "{{ ''.__class__.__mro__ }}",
    "kind: Deployment\n" + "  bad: [\n" * 50,
    "{{ 'a' * 100000000 }}",
]


@st.composite
def hostile(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any] | None]:
    length = draw(st.sampled_from([1, 40, 63, 200, 253]))
    name = ("h" + draw(NAME) + "x" * 253)[:length]
    spec: dict[str, Any] = {"decode": {"replicas": 1, "containers": [{
        "name": "vllm",
        "args": draw(st.lists(TEXT, max_size=draw(st.sampled_from([3, 2000])))),
        "env": [{"name": f"E{i}", "value": v} for i, v in enumerate(
            draw(st.lists(TEXT, max_size=draw(st.sampled_from([3, 500])))))],
    }]}}  # fmt: skip
    spec["routing"] = {"modelName": draw(TEXT) or "m", "ports": [{"name": "http", "port": 8000}]}
    base_config = None
    if draw(st.booleans()):
        bc_name = "bc-" + draw(NAME)
        body = draw(st.sampled_from([*HOSTILE_TEMPLATES, "z" * (1024 * 1024 - 4096)]))
        base_config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": bc_name},
                       "data": {"decodeDeployment": body}}  # fmt: skip
        spec["baseConfigMapRef"] = {"name": bc_name}
    return {"name": name, "spec": spec}, base_config


def test_9_hostile_input(lab: Lab) -> None:
    applied: list[str] = []
    refused = 0

    @settings(max_examples=15, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(hostile())
    def apply_one(drawn: tuple[dict[str, Any], dict[str, Any] | None]) -> None:
        nonlocal refused
        ms, base_config = drawn
        body = lab.model_service(ms["name"])
        body["spec"].update(ms["spec"])
        try:
            if base_config is not None:
                lab.put(base_config)
            lab.put(body)
            applied.append(ms["name"])
        except ApplyRefused:  # the API server refused it (CRD schema, size): fine
            refused += 1

    watched = controller(lab)
    cpu_before, wall_before = watched.cpu_seconds(), time.monotonic()
    apply_one()
    assert applied, f"the CRD refused every generated ModelService ({refused})"

    def conditioned() -> bool:
        for ms in lab.model_services():
            if ms["metadata"]["name"] in applied:
                found = lab.condition(ms, "Reconciled")
                if found.get("observedGeneration") != ms["metadata"]["generation"]:
                    return False
        return True

    wait_for(conditioned, "a Reconciled condition on every hostile ModelService", 120)
    for ms in lab.model_services():
        if ms["metadata"]["name"] in applied and not lab.settled(ms):
            reason = lab.condition(ms, "Reconciled").get("reason") or lab.condition(
                ms, "Ready"
            ).get("reason")
            lab.expected[ms["metadata"]["name"]] = (
                ("Reconciled", reason) if lab.condition(ms, "Reconciled")["status"] == "False"
                else ("Ready", reason)
            )  # fmt: skip
    # Not spinning: over a quiet window the controller uses little CPU and its queue drains.
    time.sleep(2)
    cpu, wall = watched.cpu_seconds(), time.monotonic()
    time.sleep(10)
    busy = (watched.cpu_seconds() - cpu) / (time.monotonic() - wall)
    assert busy < 0.5, f"the controller spins: {busy:.2f} CPU cores while idle"
    assert metric(watched.metrics(), "workqueue_depth") <= 5
    assert watched.process.poll() is None and watched.healthy()
    total = (watched.cpu_seconds() - cpu_before) / (time.monotonic() - wall_before)
    print(f"hostile: {len(applied)} applied, {refused} refused, {total:.2f} cores on average")
    # The valid ModelServices beside them are still Ready.
    assert not [n for n in lab.unsettled() if not n.startswith("h")]
