"""A reflector: list, then watch one kind, keeping a local cache of trimmed raw JSON.

Why not `kubernetes.informer` or `Watch.stream`: they hold the client's pydantic models (about
ten times the memory of a trimmed dict, CONTROLLER.md) and list without pages. This one:
- lists in pages (`limit`/`continue`), then watches from the list's resourceVersion with
  bookmarks, so a reconnect resumes where it stopped instead of listing again;
- lists again only when the server says the resourceVersion is gone (410), and tells the
  handler what changed meanwhile (adds, updates, deletes), so no event is lost;
- reconnects with capped, jittered backoff when the server is away;
- caches objects without `metadata.managedFields` (the bulk of a Deployment's JSON);
- holds each object as compact JSON bytes, not as a dict: a parsed object takes several times
  the memory of its JSON, and a read parses a fresh copy, which is faster than `deepcopy` and
  lets callers change what they read. The labels stay parsed, for selecting without parsing;
- can index objects by one label's value (`index_label`), so a reconcile finds its children
  among thousands in a namespace without scanning them all.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from kubernetes import client

log = logging.getLogger(__name__)

ADDED, MODIFIED, DELETED = "ADDED", "MODIFIED", "DELETED"
Handler = Callable[[str, dict[str, Any]], None]
"""Called with (event type, object) for every change the cache sees; must not block long."""


class Gone(Exception):
    """The resourceVersion we watch from is too old: list again."""


@dataclass(frozen=True)
class Resource:
    """One kind to watch, by its REST coordinates."""

    api_version: str
    plural: str
    namespace: str | None = None
    label_selector: str | None = None

    def path(self) -> str:
        prefix = "/api/v1" if self.api_version == "v1" else f"/apis/{self.api_version}"
        scope = f"/namespaces/{self.namespace}" if self.namespace else ""
        return f"{prefix}{scope}/{self.plural}"

    def __str__(self) -> str:
        return f"{self.plural}.{self.api_version}" + (
            f" in {self.namespace}" if self.namespace else ""
        )


def object_key(obj: dict[str, Any]) -> str:
    metadata = obj.get("metadata") or {}
    namespace = metadata.get("namespace")
    return f"{namespace}/{metadata.get('name')}" if namespace else str(metadata.get("name"))


class Cached:
    """One cached object: its JSON and what selecting and re-listing read without parsing."""

    __slots__ = ("labels", "namespace", "raw", "version")

    def __init__(self, obj: dict[str, Any]) -> None:
        metadata = obj.get("metadata") or {}
        labels = metadata.get("labels")
        self.labels: dict[str, str] = labels if isinstance(labels, dict) else {}
        self.namespace = str(metadata.get("namespace") or "")
        self.version = str(metadata.get("resourceVersion", ""))
        self.raw = json.dumps(obj, separators=(",", ":")).encode()

    def load(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.raw)
        return loaded

    def matches(self, wanted: Mapping[str, str]) -> bool:
        return wanted.items() <= self.labels.items()


def trim(obj: dict[str, Any]) -> dict[str, Any]:
    """The object without what a controller never reads (managedFields: most of a Deployment)."""
    metadata = obj.get("metadata")
    if isinstance(metadata, dict) and "managedFields" in metadata:
        obj = {**obj, "metadata": {k: v for k, v in metadata.items() if k != "managedFields"}}
    return obj


class Reflector:
    """Keeps `store` equal to the server's objects of one kind; `synced` is set after the first
    complete list."""

    def __init__(
        self,
        api: client.ApiClient,
        resource: Resource,
        handler: Handler | None = None,
        *,
        page_size: int = 500,
        watch_seconds: int = 300,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        keep_managed_fields: bool = False,
        index_label: str | None = None,
    ) -> None:
        self._api = api
        self.resource = resource
        self._handler = handler or (lambda kind, obj: None)
        self._page_size = page_size
        self._watch_seconds = watch_seconds
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._trim = (lambda obj: obj) if keep_managed_fields else trim
        """Children keep managedFields: the apply stage reads who owns which field."""
        self._lock = threading.Lock()
        self._store: dict[str, Cached] = {}
        self._by_namespace: dict[str, dict[str, Cached]] = {}
        """The same objects by namespace: a reconcile lists its children in one namespace, and
        scanning every namespace's objects each time grew with the square of the cluster."""
        self._index_label = index_label
        self._by_index: dict[tuple[str, str], dict[str, Cached]] = {}
        """(namespace, value of `index_label`) -> the objects carrying it."""
        self._resource_version = ""
        self._stop = threading.Event()
        self._response: Any = None
        self.synced = threading.Event()
        self.lists = 0
        """How many times it listed (a resumed watch does not list)."""

    # -- the cache --------------------------------------------------------------------------------

    def get(self, key: str) -> dict[str, Any] | None:
        """A fresh copy of the object at `key` (namespace/name), if cached."""
        with self._lock:
            found = self._store.get(key)
        return found.load() if found is not None else None

    def select(self, namespace: str, labels: Mapping[str, str]) -> list[dict[str, Any]]:
        """Fresh copies of the objects in `namespace` carrying every label of `labels`."""
        with self._lock:
            if self._index_label is not None and self._index_label in labels:
                bucket = self._by_index.get((namespace, labels[self._index_label]), {})
            else:
                bucket = self._by_namespace.get(namespace, {})
            found = [cached for cached in bucket.values() if cached.matches(labels)]
        return [cached.load() for cached in found]

    def object_keys(self) -> list[str]:
        with self._lock:
            return list(self._store)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._store

    def __len__(self) -> int:
        with self._lock:
            return len(self._store)

    # -- running ----------------------------------------------------------------------------------

    def stop(self) -> None:
        self._stop.set()
        response = self._response
        if response is not None:
            with contextlib.suppress(Exception):  # already closed
                response.shutdown()

    def run(self) -> None:
        """List and watch until `stop`; never raises for server trouble."""
        failures = 0
        need_list = True
        while not self._stop.is_set():
            try:
                if need_list:
                    self._list()
                    need_list = False
                if not self._stop.is_set():
                    self._watch()
                failures = 0
            except Gone:
                log.info("Watch expired, listing again", extra={"resource": str(self.resource)})
                need_list = True
            except Exception as error:
                if self._stop.is_set():
                    break
                failures += 1
                delay = min(self._backoff_cap, self._backoff_base * 2 ** min(failures - 1, 10))
                delay *= random.uniform(0.8, 1.2)
                log.warning(
                    "Watch failed, retrying",
                    extra={"resource": str(self.resource), "error": repr(error), "delay": delay},
                )
                self._stop.wait(delay)

    def _request(self, query: list[tuple[str, Any]], read_timeout: float) -> Any:
        if self.resource.label_selector:
            query = [*query, ("labelSelector", self.resource.label_selector)]
        method, url, headers, body, post = self._api.param_serialize(
            method="GET",
            resource_path=self.resource.path(),
            query_params=query,
            header_params={"Accept": "application/json"},
            auth_settings=["BearerToken"],
        )
        response = self._api.call_api(
            method, url, headers, body, post, _request_timeout=(10, read_timeout)
        )
        if response.status == 410:
            response.response.drain_conn()
            raise Gone()
        if not 200 <= response.status < 300:
            data: bytes = response.response.data
            raise RuntimeError(f"GET {self.resource}: {response.status} {data[:200]!r}")
        return response

    def _list(self) -> None:
        found: dict[str, dict[str, Any]] = {}
        token = ""
        while True:
            query: list[tuple[str, Any]] = [("limit", self._page_size)]
            if token:
                query.append(("continue", token))
            page = json.loads(self._request(query, 60).response.data)
            kind = str(page.get("kind", "")).removesuffix("List")
            for item in page.get("items") or []:
                # List items come without apiVersion and kind; cached objects carry both.
                item.setdefault("apiVersion", self.resource.api_version)
                item.setdefault("kind", kind)
                item = self._trim(item)
                found[object_key(item)] = item
            token = (page.get("metadata") or {}).get("continue") or ""
            if not token:
                self._resource_version = (page.get("metadata") or {}).get("resourceVersion", "")
                break
        self.lists += 1
        store = {key: Cached(obj) for key, obj in found.items()}
        by_namespace: dict[str, dict[str, Cached]] = {}
        by_index: dict[tuple[str, str], dict[str, Cached]] = {}
        for key, cached in store.items():
            by_namespace.setdefault(cached.namespace, {})[key] = cached
            if (index := self._index_of(cached)) is not None:
                by_index.setdefault(index, {})[key] = cached
        with self._lock:
            before = self._store
            self._store = store
            self._by_namespace = by_namespace
            self._by_index = by_index
        for key, obj in found.items():
            old = before.get(key)
            if old is None:
                self._handler(ADDED, obj)
            elif old.version != store[key].version:
                self._handler(MODIFIED, obj)
        for key, gone in before.items():
            if key not in found:
                self._handler(DELETED, gone.load())
        self.synced.set()

    def _index_of(self, cached: Cached) -> tuple[str, str] | None:
        if self._index_label is None:
            return None
        value = cached.labels.get(self._index_label)
        return (cached.namespace, value) if isinstance(value, str) else None

    def _put(self, key: str, cached: Cached) -> None:
        """Store or replace `key` in every index (called with the lock held)."""
        self._remove(key)
        self._store[key] = cached
        self._by_namespace.setdefault(cached.namespace, {})[key] = cached
        if (index := self._index_of(cached)) is not None:
            self._by_index.setdefault(index, {})[key] = cached

    def _remove(self, key: str) -> None:
        """Drop `key` from every index (called with the lock held)."""
        old = self._store.pop(key, None)
        if old is None:
            return
        self._by_namespace.get(old.namespace, {}).pop(key, None)
        if (index := self._index_of(old)) is not None:
            bucket = self._by_index.get(index, {})
            bucket.pop(key, None)
            if not bucket:
                self._by_index.pop(index, None)

    def _watch(self) -> None:
        query: list[tuple[str, Any]] = [
            ("watch", "true"),
            ("allowWatchBookmarks", "true"),
            ("resourceVersion", self._resource_version),
            ("timeoutSeconds", self._watch_seconds),
        ]
        response = self._request(query, self._watch_seconds + 30)
        self._response = response.response
        try:
            if self._stop.is_set():  # stop() came while the request was being made
                return
            for event in _events(response.response):
                kind = event.get("type")
                obj = event.get("object") or {}
                if kind == "ERROR":
                    if obj.get("code") == 410:
                        raise Gone()
                    raise RuntimeError(f"watch {self.resource}: {obj.get('message')}")
                version = (obj.get("metadata") or {}).get("resourceVersion")
                if kind == "BOOKMARK":
                    self._resource_version = version or self._resource_version
                    continue
                obj = self._trim(obj)
                key = object_key(obj)
                cached = Cached(obj) if kind != DELETED else None
                with self._lock:
                    if cached is None:
                        self._remove(key)
                    else:
                        self._put(key, cached)
                if version:
                    self._resource_version = version
                self._handler(str(kind), obj)
                if self._stop.is_set():
                    return
        finally:
            self._response = None
            # Never hand a watch's connection back to the pool: after stop() shut it down, the
            # next request on it would hang until its read timeout.
            response.response.close()


def _events(response: Any) -> Iterator[dict[str, Any]]:
    """Watch events, one JSON document per line, however the chunks split them."""
    pending = b""
    for chunk in response.stream(65536, decode_content=True):
        pending += chunk
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            if line.strip():
                yield json.loads(line)
    if pending.strip():
        yield json.loads(pending)
