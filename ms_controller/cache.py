"""Reads from the watch caches, writes to the API server.

A reconcile reads the ModelService, its BaseConfig and every child; at 1000 ModelServices that is
tens of thousands of GETs per resync if each went to the API server. `CachedCluster` answers
`get` and `list` from the reflector of that kind once it has synced, and passes everything else
(applies, deletes, status, Events, kinds nobody watches) to the real cluster.

A cache may lag our own last write by a moment; that is safe here because every reconcile is
level-triggered and every write is an idempotent server-side apply, and the watch event of our
own write queues one more pass that then finds nothing to do.
"""

from __future__ import annotations

import builtins
import threading
from collections.abc import Mapping
from typing import Any

from kubernetes import client

from ms_controller.kube import KubeCluster
from ms_controller.reflector import Reflector
from ms_engine.cluster import group_of


class Caches:
    """The reflectors of the manager, found by (group, kind, namespace); a reflector of all
    namespaces has namespace None."""

    def __init__(self) -> None:
        self._by_kind: dict[tuple[str, str, str | None], Reflector] = {}
        self._lock = threading.Lock()

    def add(self, kind: str, namespace: str | None, reflector: Reflector) -> None:
        with self._lock:
            group = group_of(reflector.resource.api_version)
            self._by_kind[(group, kind, namespace)] = reflector

    def of(self, api_version: str, kind: str, namespace: str) -> Reflector | None:
        """The synced reflector holding `kind` objects of `namespace`, if any."""
        group = group_of(api_version)
        with self._lock:
            # (not `a or b`: a Reflector has a length, and an empty one is falsy)
            reflector = self._by_kind.get((group, kind, None))
            if reflector is None:
                reflector = self._by_kind.get((group, kind, namespace))
        if reflector is None or not reflector.synced.is_set():
            return None
        if reflector.resource.api_version != api_version:
            return None  # another version of the kind: ask the server
        return reflector

    def all(self) -> list[Reflector]:
        with self._lock:
            return list(self._by_kind.values())

    def unsynced(self) -> list[str]:
        return [str(r.resource) for r in self.all() if not r.synced.is_set()]


class CachedCluster(KubeCluster):
    """`KubeCluster` with `get`/`list` served by the caches where a synced one exists.

    Every read parses a fresh copy of the cached JSON, so nothing a reconcile does to an object
    it read can change the cache or another worker's copy.
    """

    def __init__(self, api: client.ApiClient, caches: Caches, *, dry_run: bool = False) -> None:
        super().__init__(api, dry_run=dry_run)
        self.caches = caches

    def get(self, api_version: str, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        reflector = self.caches.of(api_version, kind, namespace)
        if reflector is None:
            return super().get(api_version, kind, namespace, name)
        return reflector.get(f"{namespace}/{name}" if namespace else name)

    def list(
        self, api_version: str, kind: str, namespace: str, labels: Mapping[str, str]
    ) -> builtins.list[dict[str, Any]]:
        reflector = self.caches.of(api_version, kind, namespace)
        if reflector is None:
            return super().list(api_version, kind, namespace, labels)
        return reflector.select(namespace, labels)
