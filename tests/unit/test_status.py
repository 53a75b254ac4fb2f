"""Status conditions from what one reconcile saw: reasons name the first cause."""

from __future__ import annotations

from ms_controller.status import (
    RoleReadiness,
    deployment_readiness,
    pod_problem,
    ready_condition,
    reconciled_condition,
    with_transition_times,
)
from ms_engine.stages.apply import Action, ApplyReport, ChildOutcome


def report(*children: ChildOutcome, missing: list[str] | None = None) -> ApplyReport:
    return ApplyReport(children=list(children), missing_kinds=missing or [])


def test_reconciled_names_failures_before_conflicts_before_missing_crds():
    failed = ChildOutcome("Service", "a", Action.FAILED, reason="ApplyFailed", message="refused")
    conflict = ChildOutcome("ConfigMap", "b", Action.CONFLICT, reason="ChildConflict", message="x")
    skipped = ChildOutcome("InferencePool", "p", Action.SKIPPED, reason="MissingCRD")
    assert reconciled_condition(report(conflict, failed), None, 3)["reason"] == "ApplyFailed"
    both = reconciled_condition(report(conflict, skipped, missing=["InferencePool.x"]), None, 3)
    assert both["reason"] == "ChildConflict"
    only_missing = reconciled_condition(report(skipped, missing=["InferencePool.x"]), None, 3)
    assert only_missing["reason"] == "MissingCRD" and "InferencePool/p" in only_missing["message"]
    ok = reconciled_condition(report(ChildOutcome("Service", "a", Action.CREATED)), None, 3)
    assert (ok["status"], ok["reason"], ok["observedGeneration"]) == ("True", "Applied", 3)


def test_transition_time_moves_only_when_the_status_flips():
    old = [{"type": "Ready", "status": "False", "reason": "A", "lastTransitionTime": "t0"}]
    same = with_transition_times([{"type": "Ready", "status": "False", "reason": "B"}], old, "t1")
    flipped = with_transition_times([{"type": "Ready", "status": "True", "reason": "C"}], old, "t1")
    assert same[0]["lastTransitionTime"] == "t0"
    assert flipped[0]["lastTransitionTime"] == "t1"


def unschedulable_pod() -> dict:
    return {
        "metadata": {"name": "d-1"},
        "status": {
            "conditions": [
                {
                    "type": "PodScheduled",
                    "status": "False",
                    "reason": "Unschedulable",
                    "message": "0/2 nodes are available: 2 node(s) didn't match affinity.",
                }
            ]
        },
    }


def test_not_ready_says_why_from_the_pods_or_the_replica_counts():
    reconciled = {"status": "True", "reason": "Applied", "message": ""}
    waiting = [RoleReadiness("decode", 3, 1, 1, ok=False)]
    counts = ready_condition(reconciled, waiting, {}, 1)
    assert counts["reason"] == "ReplicasUnavailable" and "decode 1/3" in counts["message"]
    stuck = ready_condition(reconciled, waiting, {"decode": [unschedulable_pod()]}, 1)
    assert stuck["reason"] == "Unschedulable" and "didn't match affinity" in stuck["message"]
    broken = {"status": "False", "reason": "ChildConflict", "message": "ConfigMap/x"}
    assert ready_condition(broken, [], {}, 1)["reason"] == "ChildConflict"
    ready = ready_condition(reconciled, [RoleReadiness("decode", 1, 1, 1, ok=True)], {}, 1)
    assert ready["status"] == "True"


def test_a_crash_loop_is_named():
    pod = {
        "metadata": {"name": "p"},
        "status": {
            "containerStatuses": [
                {"name": "vllm", "state": {"waiting": {"reason": "CrashLoopBackOff"}}}
            ]
        },
    }
    assert pod_problem([pod])[0] == "CrashLoopBackOff"


def test_a_deployment_is_ready_when_its_generation_is_observed_and_replicas_available():
    live = {
        "metadata": {"generation": 2},
        "spec": {"replicas": 2},
        "status": {
            "observedGeneration": 2,
            "readyReplicas": 2,
            "availableReplicas": 2,
            "updatedReplicas": 2,
        },
    }
    assert deployment_readiness("decode", live).ok
    live["status"]["observedGeneration"] = 1
    assert not deployment_readiness("decode", live).ok
    live["spec"]["replicas"] = 0
    live["status"] = {"observedGeneration": 2}
    assert deployment_readiness("decode", live).ok


def test_only_our_fields_and_conditions_are_compared():
    from ms_controller.status import own_part

    status = {
        "observedGeneration": 2,
        "decodeDeploymentRef": "m-decode",
        "legacyField": "x",
        "conditions": [
            {"type": "Available", "status": "True"},
            {"type": "Ready", "status": "True"},
        ],
    }
    assert own_part(status) == {
        "observedGeneration": 2,
        "decodeDeploymentRef": "m-decode",
        "conditions": [{"type": "Ready", "status": "True"}],
    }
