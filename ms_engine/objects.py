"""Desired objects keyed by (apiVersion, kind, namespace, name), listed in apply order."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

# What others depend on goes first: identities and config before workloads, then what routes to
# the workloads. Kinds not listed go last, together. Within a rank, objects sort by name, so the
# order never depends on which stage or plugin added an object first.
APPLY_ORDER: tuple[str, ...] = (
    "Namespace",
    "CustomResourceDefinition",
    "ServiceAccount",
    "ClusterRole",
    "Role",
    "ClusterRoleBinding",
    "RoleBinding",
    "Secret",
    "ConfigMap",
    "PersistentVolumeClaim",
    "Deployment",
    "StatefulSet",
    "LeaderWorkerSet",
    "Service",
    "InferencePool",
    "InferenceObjective",
    "InferenceModel",
    "InferenceModelRewrite",
    "HTTPRoute",
)
_RANK = {kind: rank for rank, kind in enumerate(APPLY_ORDER)}


@dataclass(frozen=True, order=True)
class ObjectKey:
    """What identifies an object in a cluster; ordered, so sorting keys is stable."""

    api_version: str
    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind}/{self.name}"

    @classmethod
    def of(cls, body: dict[str, Any]) -> ObjectKey:
        metadata = body.get("metadata") or {}
        return cls(
            str(body.get("apiVersion", "")),
            str(body.get("kind", "")),
            str(metadata.get("namespace", "")),
            str(metadata.get("name", "")),
        )


@dataclass
class DesiredObject:
    """One object and the component that made it (`decodeDeployment`, `eppServiceAccount`, ...)."""

    component: str
    body: dict[str, Any]

    @property
    def key(self) -> ObjectKey:
        return ObjectKey.of(self.body)


class ObjectSet:
    """Insertion-ordered desired objects, found by key or by component."""

    def __init__(self) -> None:
        self._by_component: dict[str, DesiredObject] = {}

    def add(self, component: str, body: dict[str, Any]) -> DesiredObject:
        """Add (or replace) the object of `component`."""
        desired = DesiredObject(component, body)
        self._by_component[component] = desired
        return desired

    def get(self, component: str) -> dict[str, Any] | None:
        desired = self._by_component.get(component)
        return desired.body if desired else None

    def __contains__(self, component: object) -> bool:
        return component in self._by_component

    def __iter__(self) -> Iterator[DesiredObject]:
        return iter(self._by_component.values())

    def __len__(self) -> int:
        return len(self._by_component)

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [o.body for o in self._by_component.values() if o.body.get("kind") == kind]

    def in_apply_order(self) -> list[DesiredObject]:
        """Dependencies first (see APPLY_ORDER), then by name."""
        items = list(self._by_component.values())
        return sorted(
            items,
            key=lambda o: (_RANK.get(str(o.body.get("kind")), len(APPLY_ORDER)), o.key.name),
        )
