"""The seam between the engine and a cluster: what the `apply` stage may ask of one.

Like an httpx transport, the engine holds only this protocol. `ms_controller.kube` implements it
on the official `kubernetes` client; `InMemoryCluster` here records calls for unit tests. Bodies
are plain dicts as the API server sends them (no client models).

Exception tree::

    ClusterError          anything the API server refused or could not do
    ├── NotServed         the kind's API (a CRD) is not installed
    ├── ApplyRefused      a permanent refusal (422 invalid, 403 forbidden, ...): never retried
    └── Unavailable       transient (429, 5xx, timeouts) after the client's bounded retries
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping
from typing import Any, Protocol, runtime_checkable

FIELD_MANAGER = "modelservice"
"""The one field manager the controller applies with."""
SCALING_MANAGER = "modelservice-scaling"
"""Holds a Deployment's `replicas` after creation when scaling is decoupled (see stages/apply)."""


class ClusterError(Exception):
    """The API server refused a request or could not be reached."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class NotServed(ClusterError):
    """The API server does not serve this apiVersion/kind (its CRD is not installed)."""


class ApplyRefused(ClusterError):
    """A permanent refusal (invalid object, forbidden, conflict we will not force)."""


class Unavailable(ClusterError):
    """A transient failure that outlasted the client's retries; the next reconcile retries."""


def group_of(api_version: str) -> str:
    """`apps/v1` -> `apps`; `v1` -> `` (the core group)."""
    return api_version.rsplit("/", 1)[0] if "/" in api_version else ""


def group_kind(api_version: str, kind: str) -> str:
    """`Deployment.apps`, `Service` (core): kubectl ApplySet's spelling of a group-kind."""
    group = group_of(api_version)
    return f"{kind}.{group}" if group else kind


@runtime_checkable
class Cluster(Protocol):
    """What the `apply` stage needs from a cluster. Every write honours `dry_run`."""

    dry_run: bool

    def served_version(self, group: str, kind: str) -> str | None:
        """The apiVersion to use for `kind` in `group` (preferred), or None when not served.
        A kind that was missing is looked up again on every call, so a CRD installed later is
        found."""
        ...

    def get(self, api_version: str, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        """The live object, or None when it does not exist. Raises NotServed."""
        ...

    def list(
        self, api_version: str, kind: str, namespace: str, labels: Mapping[str, str]
    ) -> list[dict[str, Any]]:
        """Live objects of a kind in `namespace` carrying every label in `labels`."""
        ...

    def apply(self, body: dict[str, Any], *, field_manager: str = FIELD_MANAGER) -> dict[str, Any]:
        """Server-side apply `body` (forced, strict field validation); the object as stored."""
        ...

    def delete(self, api_version: str, kind: str, namespace: str, name: str, *, uid: str) -> bool:
        """Delete the object only if its uid is still `uid`; False when it is already gone."""
        ...


# --- managedFields: which fields a manager owns --------------------------------------------------


def managed_entry(live: Mapping[str, Any], manager: str) -> dict[str, Any] | None:
    """The `fieldsV1` that `manager` owns on the main resource through Apply, if any."""
    for entry in (live.get("metadata") or {}).get("managedFields") or []:
        if (
            entry.get("manager") == manager
            and entry.get("operation") == "Apply"
            and not entry.get("subresource")
        ):
            fields: dict[str, Any] = entry.get("fieldsV1") or {}
            return fields
    return None


def owners_of(live: Mapping[str, Any], path: Iterable[str]) -> set[str]:
    """Managers owning the field at `path` (plain keys, e.g. ("spec", "replicas"))."""
    steps = [f"f:{key}" for key in path]
    owners: set[str] = set()
    for entry in (live.get("metadata") or {}).get("managedFields") or []:
        node: Any = entry.get("fieldsV1") or {}
        for step in steps:
            node = node.get(step) if isinstance(node, dict) else None
            if node is None:
                break
        if node is not None:
            owners.add(str(entry.get("manager")))
    return owners


def covers(fields: Mapping[str, Any], body: Any) -> bool:
    """Whether a manager's `fieldsV1` still owns every field of `body` (what it applied).

    Anyone else changing one of those fields takes its ownership away (an Update moves it, a
    forced apply too), so a field missing here means drift to correct. Lists are matched the way
    `fieldsV1` spells them: owned whole (`{}`), by key (`k:{...}`) or by value (`v:...`).
    """
    return uncovered(fields, body) is None


def uncovered(fields: Mapping[str, Any], body: Any, path: str = "") -> str | None:
    """The first field of `body` that `fields` does not own (a dotted path), or None."""
    if not isinstance(body, dict):
        return None
    for key, value in body.items():
        where = f"{path}.{key}" if path else str(key)
        node = fields.get(f"f:{key}")
        if node is None:
            return where
        if isinstance(value, dict) and node:
            missing = uncovered(node, value, where)
            if missing:
                return missing
        elif isinstance(value, list) and node:
            missing = _uncovered_items(node, value, where)
            if missing:
                return missing
    return None


def _uncovered_items(fields: Mapping[str, Any], items: list[Any], path: str) -> str | None:
    keyed = {k: v for k, v in fields.items() if k.startswith("k:")}
    valued = {k for k in fields if k.startswith("v:")}
    for index, item in enumerate(items):
        where = f"{path}[{index}]"
        if isinstance(item, dict):
            match = _keyed_entry(keyed, item)
            if match is None:
                return where
            missing = uncovered(match, item, where) if match else None  # {}: owned whole
            if missing:
                return missing
        elif valued and f"v:{json.dumps(item, separators=(',', ':'))}" not in valued:
            return where
    return None


def _keyed_entry(keyed: Mapping[str, Any], item: Mapping[str, Any]) -> dict[str, Any] | None:
    for spelled, node in keyed.items():
        try:
            key = json.loads(spelled[2:])
        except ValueError:
            continue
        if all(str(item[k]) == str(v) for k, v in key.items() if k in item) and any(
            k in item for k in key
        ):
            result: dict[str, Any] = node
            return result
    return None


def fields_of(body: Any) -> dict[str, Any]:
    """A `fieldsV1` for `body` as the in-memory cluster spells it: list items with a `name` are
    keyed by it, other lists owned whole. (The API server knows each list's keys; close enough
    for tests of the logic above it.)"""
    fields: dict[str, Any] = {}
    if not isinstance(body, dict):
        return fields
    for key, value in body.items():
        if isinstance(value, dict):
            fields[f"f:{key}"] = fields_of(value)
        elif (
            isinstance(value, list)
            and value
            and all(isinstance(i, dict) and "name" in i for i in value)
        ):
            fields[f"f:{key}"] = {
                "k:" + json.dumps({"name": item["name"]}, separators=(",", ":")): {
                    ".": {},
                    **fields_of(item),
                }
                for item in value
            }
        else:
            fields[f"f:{key}"] = {}
    return fields


# --- an in-memory cluster for unit tests ---------------------------------------------------------


def _merge_owned(live: dict[str, Any], body: dict[str, Any]) -> None:
    for key, value in body.items():
        if isinstance(value, dict) and isinstance(live.get(key), dict):
            _merge_owned(live[key], value)
        else:
            live[key] = copy.deepcopy(value)


class InMemoryCluster:
    """A dict of objects that answers the `Cluster` protocol and records every write.

    It models what the logic above it depends on: uids, owner references, label lists, a
    managedFields entry per applying manager, and kinds that are not served. It is not an API
    server: no defaults, no validation, and an apply merges mappings and replaces lists.
    """

    def __init__(self, *, not_served: Iterable[str] = (), dry_run: bool = False) -> None:
        self.objects: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.writes: list[tuple[str, str]] = []
        self.not_served = set(not_served)
        """Group-kinds (`InferencePool.inference.networking.k8s.io`) that are not installed."""
        self.dry_run = dry_run
        self._uids = 0

    def _key(self, kind: str, namespace: str, name: str) -> tuple[str, str, str]:
        return (kind, namespace, name)

    def _check(self, api_version: str, kind: str) -> None:
        if group_kind(api_version, kind) in self.not_served:
            raise NotServed(f"{api_version} {kind} is not served")

    def served_version(self, group: str, kind: str) -> str | None:
        if (f"{kind}.{group}" if group else kind) in self.not_served:
            return None
        for body in self.objects.values():
            if body["kind"] == kind and group_of(body["apiVersion"]) == group:
                return str(body["apiVersion"])
        return f"{group}/v1" if group else "v1"  # objects are keyed by kind: any version lists

    def get(self, api_version: str, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        self._check(api_version, kind)
        found = self.objects.get(self._key(kind, namespace, name))
        return copy.deepcopy(found) if found else None

    def list(
        self, api_version: str, kind: str, namespace: str, labels: Mapping[str, str]
    ) -> list[dict[str, Any]]:
        self._check(api_version, kind)
        return [
            copy.deepcopy(body)
            for (k, ns, _), body in sorted(self.objects.items())
            if k == kind
            and ns == namespace
            and all(
                (body["metadata"].get("labels") or {}).get(key) == value
                for key, value in labels.items()
            )
        ]

    def put(self, body: dict[str, Any]) -> dict[str, Any]:
        """Store an object as another actor would have made it (not recorded as our write)."""
        stored = copy.deepcopy(body)
        self._uids += 1
        stored["metadata"].setdefault("uid", f"uid-{self._uids}")
        stored["metadata"].setdefault("namespace", "")
        self.objects[
            self._key(stored["kind"], stored["metadata"]["namespace"], stored["metadata"]["name"])
        ] = stored
        return copy.deepcopy(stored)

    def apply(self, body: dict[str, Any], *, field_manager: str = FIELD_MANAGER) -> dict[str, Any]:
        self._check(body["apiVersion"], body["kind"])
        metadata = body["metadata"]
        key = self._key(body["kind"], metadata.get("namespace", ""), metadata["name"])
        self.writes.append(("apply", f"{body['kind']}/{metadata['name']}"))
        live = copy.deepcopy(self.objects.get(key))
        if live is None:
            self._uids += 1
            live = {"metadata": {"uid": f"uid-{self._uids}", "managedFields": []}}
        old = managed_entry(live, field_manager) or {}
        _drop_unowned(live, old, body)
        _merge_owned(live, {k: v for k, v in body.items()})
        entries = [
            e
            for e in live["metadata"].get("managedFields") or []
            if not (e.get("manager") == field_manager and e.get("operation") == "Apply")
        ]
        entries.append(
            {"manager": field_manager, "operation": "Apply", "fieldsV1": fields_of(body)}
        )
        live["metadata"]["managedFields"] = entries
        if not self.dry_run:
            self.objects[key] = live
        return copy.deepcopy(live)

    def update(self, body: dict[str, Any], *, manager: str) -> None:
        """Another actor's update (kubectl edit, scale): it takes the fields it changes."""
        metadata = body["metadata"]
        key = self._key(body["kind"], metadata.get("namespace", ""), metadata["name"])
        live = self.objects[key]
        _merge_owned(live, {k: v for k, v in body.items() if k not in ("apiVersion", "kind")})
        taken = fields_of({k: v for k, v in body.items() if k not in ("apiVersion", "kind")})
        taken.pop("f:metadata", None)
        for entry in live["metadata"].get("managedFields") or []:
            _remove_fields(entry.get("fieldsV1") or {}, taken)
        live["metadata"]["managedFields"].append(
            {"manager": manager, "operation": "Update", "fieldsV1": taken}
        )

    def delete(self, api_version: str, kind: str, namespace: str, name: str, *, uid: str) -> bool:
        self._check(api_version, kind)
        key = self._key(kind, namespace, name)
        live = self.objects.get(key)
        if live is None:
            return False
        if live["metadata"]["uid"] != uid:
            raise ClusterError(f"{kind}/{name}: uid precondition failed", status=409)
        self.writes.append(("delete", f"{kind}/{name}"))
        if not self.dry_run:
            del self.objects[key]
        return True


def _remove_fields(fields: dict[str, Any], taken: Mapping[str, Any]) -> None:
    for key, sub in taken.items():
        if key not in fields:
            continue
        if sub and fields[key]:
            _remove_fields(fields[key], sub)
        else:
            del fields[key]


def _drop_unowned(live: dict[str, Any], owned: Mapping[str, Any], body: Mapping[str, Any]) -> None:
    """Fields `owned` by the applier before and absent from its new `body` are removed (when no
    one else owns them: the in-memory cluster assumes no one does), as the API server does."""
    for key, sub in owned.items():
        if not key.startswith("f:"):
            continue
        name = key[2:]
        if name not in body:
            if name not in ("apiVersion", "kind", "metadata"):
                others = {
                    e.get("manager")
                    for e in live["metadata"].get("managedFields") or []
                    if key in (e.get("fieldsV1") or {})
                }
                if len(others) <= 1:
                    live.pop(name, None)
        elif isinstance(body[name], dict) and isinstance(live.get(name), dict) and sub:
            _drop_nested(live[name], sub, body[name], [name], live)


def _drop_nested(
    node: dict[str, Any],
    owned: Mapping[str, Any],
    body: Mapping[str, Any],
    path: list[str],
    root: dict[str, Any],
) -> None:
    for key, sub in owned.items():
        if not key.startswith("f:"):
            continue
        name = key[2:]
        if name not in body:
            if len(owners_of(root, [*path, name])) <= 1:
                node.pop(name, None)
        elif isinstance(body[name], dict) and isinstance(node.get(name), dict) and sub:
            _drop_nested(node[name], sub, body[name], [*path, name], root)
