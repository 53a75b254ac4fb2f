"""The reflector against a real API server: list in pages, watch, resume, re-list on 410, stop."""

from __future__ import annotations

import threading
import time

import pytest
from kubernetes import client
from polling import wait_for

from ms_controller.reflector import ADDED, DELETED, MODIFIED, Reflector, Resource

pytestmark = pytest.mark.integration


def config_map(name: str, **labels: str) -> dict:
    return {"metadata": {"name": name, "labels": {"app": "t", **labels}}, "data": {"k": name}}


class Running:
    def __init__(self, reflector: Reflector) -> None:
        self.reflector = reflector
        self.thread = threading.Thread(target=reflector.run, daemon=True)
        self.thread.start()

    def stop(self) -> float:
        started = time.monotonic()
        self.reflector.stop()
        self.thread.join(timeout=10)
        assert not self.thread.is_alive()
        return time.monotonic() - started


def test_lists_in_pages_then_watches_every_change(kube_api, namespace):
    core = client.CoreV1Api(kube_api)
    for index in range(5):
        core.create_namespaced_config_map(namespace, config_map(f"before-{index}"))
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "unlabelled"}})
    events: list[tuple[str, str]] = []
    reflector = Reflector(
        kube_api,
        Resource("v1", "configmaps", namespace, "app=t"),
        lambda kind, obj: events.append((kind, obj["metadata"]["name"])),
        page_size=2,
    )
    running = Running(reflector)
    try:
        assert reflector.synced.wait(10)
        assert sorted(reflector.object_keys()) == [f"{namespace}/before-{i}" for i in range(5)]
        core.create_namespaced_config_map(namespace, config_map("after"))
        core.patch_namespaced_config_map("before-0", namespace, {"data": {"k": "changed"}})
        core.delete_namespaced_config_map("before-1", namespace)
        wait_for(lambda: (DELETED, "before-1") in events, "the delete event")
        assert (ADDED, "after") in events and (MODIFIED, "before-0") in events
        assert reflector.get(f"{namespace}/before-0")["data"] == {"k": "changed"}
        assert reflector.get(f"{namespace}/before-1") is None
        assert "managedFields" not in reflector.get(f"{namespace}/after")["metadata"]
        assert reflector.lists == 1
    finally:
        assert running.stop() < 5  # stopping does not wait for the watch to time out


def test_a_watch_that_times_out_resumes_without_listing_again(kube_api, namespace):
    core = client.CoreV1Api(kube_api)
    events: list[tuple[str, str]] = []
    reflector = Reflector(
        kube_api,
        Resource("v1", "configmaps", namespace, "app=t"),
        lambda kind, obj: events.append((kind, obj["metadata"]["name"])),
        watch_seconds=1,
    )
    running = Running(reflector)
    try:
        assert reflector.synced.wait(10)
        for index in range(4):
            time.sleep(0.7)  # the watch ends every second; changes in between are not lost
            core.create_namespaced_config_map(namespace, config_map(f"cm-{index}"))
        wait_for(lambda: len(reflector) == 4, "four objects")
        assert [name for kind, name in events if kind == ADDED] == [f"cm-{i}" for i in range(4)]
        assert reflector.lists == 1
    finally:
        running.stop()


def test_listing_again_reports_what_changed_while_not_watching(kube_api, namespace):
    """What the reflector does after a 410 Gone (getting a real 410 needs an etcd compaction; the
    fault suite covers it): a second list tells the handler every change it missed."""
    core = client.CoreV1Api(kube_api)
    core.create_namespaced_config_map(namespace, config_map("stays"))
    core.create_namespaced_config_map(namespace, config_map("goes"))
    events: list[tuple[str, str]] = []
    reflector = Reflector(
        kube_api,
        Resource("v1", "configmaps", namespace, "app=t"),
        lambda kind, obj: events.append((kind, obj["metadata"]["name"])),
    )
    running = Running(reflector)
    assert reflector.synced.wait(10)
    running.stop()
    started = time.monotonic()
    core.delete_namespaced_config_map("goes", namespace)
    core.create_namespaced_config_map(namespace, config_map("new"))
    events.clear()
    reflector._list()
    assert time.monotonic() - started < 5  # no request waits on a watch connection stop() closed
    assert sorted(events) == [(ADDED, "new"), (DELETED, "goes")]
    assert sorted(k.split("/")[1] for k in reflector.object_keys()) == ["new", "stays"]


def test_a_server_that_refuses_is_retried_not_fatal(kube_api, namespace):
    reflector = Reflector(
        kube_api, Resource("example.com/v1", "nothings", namespace), backoff_base=0.05
    )
    running = Running(reflector)
    time.sleep(0.5)
    assert running.thread.is_alive() and not reflector.synced.is_set()
    running.stop()


def test_selects_by_the_indexed_label_and_follows_relabelling(kube_api, namespace):
    """A reconcile lists its children by their part-of label: the index must hold exactly the
    objects carrying each value, also after a label changes or an object goes."""
    core = client.CoreV1Api(kube_api)
    for name, owner in (("a-1", "a"), ("a-2", "a"), ("b-1", "b")):
        core.create_namespaced_config_map(namespace, config_map(name, owner=owner))
    reflector = Reflector(
        kube_api, Resource("v1", "configmaps", namespace, "app=t"), index_label="owner"
    )
    running = Running(reflector)
    try:
        assert reflector.synced.wait(10)

        def names(**labels: str) -> list[str]:
            return sorted(o["metadata"]["name"] for o in reflector.select(namespace, labels))

        assert names(owner="a") == ["a-1", "a-2"]
        assert names(owner="a", app="t") == ["a-1", "a-2"]
        assert names(owner="b", app="other") == []
        assert names() == ["a-1", "a-2", "b-1"]  # no indexed label: the namespace's objects
        assert reflector.select("elsewhere", {"owner": "a"}) == []
        core.patch_namespaced_config_map("a-2", namespace, {"metadata": {"labels": {"owner": "b"}}})
        core.delete_namespaced_config_map("a-1", namespace)
        wait_for(lambda: names(owner="b") == ["a-2", "b-1"], "a-2 relabelled")
        wait_for(lambda: names(owner="a") == [], "a-1 gone")
    finally:
        running.stop()


def test_every_read_is_a_copy_the_caller_may_change(kube_api, namespace):
    core = client.CoreV1Api(kube_api)
    core.create_namespaced_config_map(namespace, config_map("cm", owner="a"))
    reflector = Reflector(
        kube_api, Resource("v1", "configmaps", namespace, "app=t"), index_label="owner"
    )
    running = Running(reflector)
    try:
        assert reflector.synced.wait(10)
        read = reflector.get(f"{namespace}/cm")
        read["data"]["k"] = "changed by a reconcile"
        read["metadata"]["labels"]["owner"] = "b"
        listed = reflector.select(namespace, {"owner": "a"})
        listed[0]["data"].clear()
        assert reflector.get(f"{namespace}/cm")["data"] == {"k": "cm"}
        assert [o["metadata"]["name"] for o in reflector.select(namespace, {"owner": "a"})] == [
            "cm"
        ]
    finally:
        running.stop()
