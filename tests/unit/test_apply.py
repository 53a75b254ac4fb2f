"""The `apply` stage against the in-memory cluster: ownership, conflicts, pruning, replicas, no-op.

The same scenarios run against a real API server in tests/integration/test_reconcile.py; here the
logic is pinned down quickly and exactly.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from support import fresh_renderer, preset, sample

from ms_engine import RenderError, RenderOptions
from ms_engine.cluster import (
    FIELD_MANAGER,
    SCALING_MANAGER,
    InMemoryCluster,
    covers,
    fields_of,
    owners_of,
)
from ms_engine.stages.apply import APPLIED_HASH, APPLY_REPORT, Action, ApplyReport

UID = "ms-uid-1"
POOL = "InferencePool.inference.networking.k8s.io"


def sim(**spec: Any) -> dict[str, Any]:
    document = sample("sim")
    document["metadata"].update(namespace="ns", uid=UID, generation=1)
    document["spec"].update(spec)
    return document


def reconcile(
    cluster: InMemoryCluster,
    document: dict[str, Any],
    recorded: list[str] | None = None,
    base_config: dict[str, Any] | None = None,
) -> ApplyReport:
    document = copy.deepcopy(document)
    if recorded is not None:
        document["status"] = {"appliedGroupKinds": recorded}
    base_config = base_config or preset("sim")
    result = fresh_renderer().render(document, base_config, RenderOptions(cluster=cluster))
    return result.context.stash[APPLY_REPORT]


def actions(report: ApplyReport) -> dict[str, str]:
    return {child.ref: child.action.value for child in report.children}


def test_offline_render_applies_nothing_and_needs_no_uid():
    document = sample("sim")
    result = fresh_renderer().render(document, preset("sim"))
    assert result.objects and APPLY_REPORT not in result.context.stash


def test_a_model_service_without_uid_is_refused_when_applying():
    document = sample("sim")
    with pytest.raises(RenderError, match=r"metadata\.uid"):
        fresh_renderer().render(document, preset("sim"), RenderOptions(cluster=InMemoryCluster()))


def test_every_child_is_created_owned_then_a_second_pass_writes_nothing():
    cluster = InMemoryCluster()
    first = reconcile(cluster, sim())
    assert set(actions(first).values()) == {"created"}
    assert "Deployment/sim-pd-decode" in actions(first)
    for body in cluster.objects.values():
        (reference,) = body["metadata"]["ownerReferences"]
        assert reference["uid"] == UID and reference["controller"] is True
        assert body["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "modelservice"
        assert body["metadata"]["annotations"][APPLIED_HASH]
    writes = len(cluster.writes)
    second = reconcile(cluster, sim(), first.applied_group_kinds)
    assert set(actions(second).values()) == {"unchanged"}
    assert len(cluster.writes) == writes


def test_a_changed_spec_reapplies_only_the_changed_children():
    cluster = InMemoryCluster()
    first = reconcile(cluster, sim())
    changed = sim()
    changed["spec"]["decode"]["containers"] = [{"name": "vllm", "args": ["--x"]}]
    second = reconcile(cluster, changed, first.applied_group_kinds)
    assert actions(second)["Deployment/sim-pd-decode"] == "configured"
    assert actions(second)["Deployment/sim-pd-prefill"] == "unchanged"


def test_an_object_with_a_childs_name_that_is_not_ours_is_left_alone_and_reported():
    cluster = InMemoryCluster()
    theirs = cluster.put(
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": "sim-pd-sa", "namespace": "ns", "labels": {"team": "x"}},
        }
    )
    report = reconcile(cluster, sim())
    assert actions(report)["ServiceAccount/sim-pd-sa"] == "conflict"
    assert actions(report)["Deployment/sim-pd-decode"] == "created"
    assert cluster.objects[("ServiceAccount", "ns", "sim-pd-sa")] == theirs
    (conflict,) = report.of(Action.CONFLICT)
    assert conflict.reason == "ChildConflict" and "ServiceAccount/sim-pd-sa" in conflict.message


def test_removing_prefill_prunes_its_children_and_nothing_that_is_not_ours():
    cluster = InMemoryCluster()
    first = reconcile(cluster, sim())
    stranger = cluster.put(  # our labels, another owner: never deleted
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {
                "name": "stranger",
                "namespace": "ns",
                "labels": {
                    "app.kubernetes.io/managed-by": "modelservice",
                    "app.kubernetes.io/part-of": "sim-pd",
                },
                "ownerReferences": [{"uid": "another", "controller": True, "name": "x"}],
            },
        }
    )
    no_prefill = sim()
    del no_prefill["spec"]["prefill"]
    second = reconcile(cluster, no_prefill, first.applied_group_kinds)
    assert actions(second)["Deployment/sim-pd-prefill"] == "pruned"
    assert actions(second)["Service/sim-pd-service-prefill"] == "pruned"
    assert ("Deployment", "ns", "sim-pd-prefill") not in cluster.objects
    assert cluster.objects[("Service", "ns", "stranger")] == stranger


def test_a_kind_no_longer_rendered_is_still_pruned_through_the_recorded_kinds():
    cluster = InMemoryCluster()
    first = reconcile(cluster, sim())
    assert "HTTPRoute.gateway.networking.k8s.io" in first.applied_group_kinds
    no_route = preset("sim")
    del no_route["data"]["httpRoute"]
    unrouted = sim()
    unrouted["spec"]["routing"]["gatewayRefs"] = []
    forgetful = reconcile(copy.deepcopy(cluster), unrouted, [], no_route)
    assert "HTTPRoute/sim-pd-http-route" not in actions(forgetful)
    second = reconcile(cluster, unrouted, first.applied_group_kinds, no_route)
    assert actions(second)["HTTPRoute/sim-pd-http-route"] == "pruned"
    assert "HTTPRoute.gateway.networking.k8s.io" not in second.applied_group_kinds


def test_a_missing_crd_skips_its_kind_and_applies_the_rest_until_it_appears():
    cluster = InMemoryCluster(not_served=[POOL])
    first = reconcile(cluster, sim())
    assert first.missing_kinds == [POOL]
    assert actions(first)["InferencePool/sim-pd-inference-pool"] == "skipped"
    assert actions(first)["Deployment/sim-pd-decode"] == "created"
    assert POOL in first.applied_group_kinds
    cluster.not_served.clear()
    second = reconcile(cluster, sim(), first.applied_group_kinds)
    assert actions(second)["InferencePool/sim-pd-inference-pool"] == "created"
    assert actions(second)["Deployment/sim-pd-decode"] == "unchanged"


def decode(cluster: InMemoryCluster) -> dict[str, Any]:
    return cluster.objects[("Deployment", "ns", "sim-pd-decode")]


def scale(cluster: InMemoryCluster, replicas: int) -> None:
    cluster.update(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "sim-pd-decode", "namespace": "ns"},
            "spec": {"replicas": replicas},
        },
        manager="kubectl",
    )


def test_decoupled_replicas_are_set_at_creation_then_left_to_the_autoscaler():
    cluster = InMemoryCluster()
    first = reconcile(cluster, sim(decoupleScaling=True))
    assert decode(cluster)["spec"]["replicas"] == 2
    assert owners_of(decode(cluster), ("spec", "replicas")) == {FIELD_MANAGER, SCALING_MANAGER}
    scale(cluster, 5)
    second = reconcile(cluster, sim(decoupleScaling=True), first.applied_group_kinds)
    assert decode(cluster)["spec"]["replicas"] == 5
    assert actions(second)["Deployment/sim-pd-decode"] == "unchanged"
    changed = sim(decoupleScaling=True)
    changed["spec"]["decode"]["containers"] = [{"name": "vllm", "args": ["--x"]}]
    third = reconcile(cluster, changed, first.applied_group_kinds)
    assert actions(third)["Deployment/sim-pd-decode"] == "configured"
    assert decode(cluster)["spec"]["replicas"] == 5


def test_coupled_replicas_win_over_a_manual_scale():
    cluster = InMemoryCluster()
    first = reconcile(cluster, sim())
    scale(cluster, 5)
    second = reconcile(cluster, sim(), first.applied_group_kinds)
    assert actions(second)["Deployment/sim-pd-decode"] == "configured"
    assert decode(cluster)["spec"]["replicas"] == 2


def test_zero_replicas_are_honoured():
    cluster = InMemoryCluster()
    document = sim()
    document["spec"]["decode"]["replicas"] = 0
    reconcile(cluster, document)
    assert decode(cluster)["spec"]["replicas"] == 0


def test_covers_matches_lists_by_key_and_notices_a_lost_field():
    body = {"spec": {"containers": [{"name": "a", "image": "x"}], "args": ["1"]}}
    fields = fields_of(body)
    assert covers(fields, body)
    del fields["f:spec"]["f:containers"]['k:{"name":"a"}']["f:image"]
    assert not covers(fields, body)
    server_spelling = {
        "f:ports": {'k:{"containerPort":80,"protocol":"TCP"}': {"f:containerPort": {}}}
    }
    assert covers(server_spelling, {"ports": [{"containerPort": 80}]})
    assert not covers(server_spelling, {"ports": [{"containerPort": 81}]})


def test_the_engine_and_the_reconcile_talk_to_the_api_server_only_through_kube_py():
    import ast

    from support import ROOT

    reconcile_side = [
        ROOT / "ms_controller" / name for name in ("reconcile.py", "status.py", "events.py")
    ]
    for path in sorted((ROOT / "ms_engine").rglob("*.py")) + reconcile_side:
        if "devcluster" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            assert not any(n.split(".")[0] == "kubernetes" for n in names), path
