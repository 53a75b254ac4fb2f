"""How the manager turns watch events into queue keys, and reconcile results into what happens
next: no cluster needed (the manager connects only when it runs)."""

from __future__ import annotations

import time

import pytest

from ms_controller.manager import Manager, ManagerOptions
from ms_controller.reconcile import ReconcileResult
from ms_controller.reflector import ADDED, DELETED, MODIFIED, Reflector, Resource
from ms_engine.api import API_VERSION, KIND
from ms_engine.api.crd import PLURAL

KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
"""


@pytest.fixture()
def manager(tmp_path):
    path = tmp_path / "kubeconfig"
    path.write_text(KUBECONFIG)
    made = Manager(ManagerOptions(kubeconfig=str(path), metrics_addr="0", health_addr="0"))
    yield made
    made.api.close()


def model_service(name: str, base_config: str | None, namespace: str = "team") -> dict:
    spec = {"baseConfigMapRef": {"name": base_config}} if base_config else {}
    return {"metadata": {"name": name, "namespace": namespace}, "spec": spec}


def drain(manager: Manager) -> list[str]:
    keys = []
    while (key := manager.queue.get(timeout=0.01)) is not None:
        keys.append(key)
        manager.queue.done(key)
    return sorted(keys)


def test_a_base_config_edit_queues_exactly_the_model_services_that_use_it(manager):
    manager._on_model_service("ADDED", model_service("a", "pd"))
    manager._on_model_service("ADDED", model_service("b", "pd"))
    manager._on_model_service("ADDED", model_service("c", "sim"))
    manager._on_model_service("ADDED", model_service("d", "pd", namespace="other"))
    drain(manager)
    manager._on_config_map("MODIFIED", {"metadata": {"name": "pd", "namespace": "team"}})
    assert drain(manager) == ["team/a", "team/b"]
    # A ModelService that switches presets leaves the old one's users.
    manager._on_model_service("MODIFIED", model_service("b", "sim"))
    drain(manager)
    manager._on_config_map("MODIFIED", {"metadata": {"name": "pd", "namespace": "team"}})
    assert drain(manager) == ["team/a"]
    manager._on_model_service("DELETED", model_service("a", "pd"))
    drain(manager)
    manager._on_config_map("ADDED", {"metadata": {"name": "pd", "namespace": "team"}})
    assert drain(manager) == []


def test_a_child_event_queues_its_controlling_model_service_only(manager):
    owned = {
        "metadata": {
            "name": "a-decode",
            "namespace": "team",
            "ownerReferences": [
                {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "x", "controller": False},
                {"apiVersion": "llm-d.ai/v1alpha1", "kind": "ModelService", "name": "a",
                 "controller": True},
            ],
        }
    }  # fmt: skip
    manager._on_child("MODIFIED", owned)
    foreign = {"metadata": {"name": "x", "namespace": "team", "ownerReferences": [
        {"apiVersion": "other.io/v1", "kind": "ModelService", "name": "a", "controller": True}]}}  # fmt: skip
    manager._on_child("MODIFIED", foreign)
    assert drain(manager) == ["team/a"]


@pytest.mark.parametrize(
    ("result", "outcome", "queued_again"),
    [
        (ReconcileResult("team", "a"), "success", False),
        (ReconcileResult("team", "a", terminal=True), "error", False),  # waits for a change
        (ReconcileResult("team", "a", retry=True), "error", True),  # backoff
        (ReconcileResult("team", "a", requeue_after=0.05), "requeue_after", True),
    ],
)
def test_what_happens_after_a_reconcile(manager, result, outcome, queued_again):
    assert manager._schedule("team/a", result) == outcome
    assert (manager.queue.get(timeout=1.0) == "team/a") is queued_again
    assert manager.queue.failures("team/a") == (1 if result.retry else 0)


def with_ready(obj: dict, status: str | None) -> dict:
    if status is not None:
        obj["status"] = {"conditions": [{"type": "Ready", "status": status}]}
    return obj


def test_the_ready_gauge_follows_every_model_service_event(manager):
    manager._on_model_service(ADDED, with_ready(model_service("a", None), None))
    manager._on_model_service(ADDED, with_ready(model_service("b", None), "False"))
    manager._on_model_service(ADDED, with_ready(model_service("c", None), "True"))
    assert manager.ready_counts() == {"True": 1, "False": 1, "Unknown": 1}
    manager._on_model_service(MODIFIED, with_ready(model_service("b", None), "True"))
    manager._on_model_service(DELETED, with_ready(model_service("c", None), "True"))
    assert manager.ready_counts() == {"True": 1, "False": 0, "Unknown": 1}


def test_a_deleted_model_service_is_not_passed_over_again_later(manager):
    manager._schedule("team/a", ReconcileResult("team", "a", requeue_after=0.05))
    manager._on_model_service(DELETED, model_service("a", None))
    assert drain(manager) == ["team/a"]  # the one pass that finds it gone
    time.sleep(0.1)
    assert manager.queue.get(timeout=0.2) is None  # the requeue 0.05 s later was dropped


def test_a_pass_that_ends_after_the_delete_schedules_nothing(manager):
    models = Reflector(None, Resource(API_VERSION, PLURAL))  # type: ignore[arg-type]
    models.synced.set()  # synced, and "team/a" is not in it: deleted
    manager.caches.add(KIND, None, models)
    assert manager._schedule("team/a", ReconcileResult("team", "a", requeue_after=0.05)) == (
        "requeue_after"
    )
    assert manager._schedule("team/a", ReconcileResult("team", "a", retry=True)) == "error"
    assert manager.queue.get(timeout=0.3) is None
