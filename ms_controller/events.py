"""Kubernetes Events (`events.k8s.io/v1`) about a ModelService: what changed, what failed.

An Event's name is derived from what it says (reason, note, related object), so the same event
repeated (a retry failing again) updates one Event's `series` count instead of adding another.
"""

from __future__ import annotations

import hashlib
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

REPORTING_CONTROLLER = "llm-d.ai/modelservice-controller"
NORMAL = "Normal"
WARNING = "Warning"


def micro_time(moment: datetime | None = None) -> str:
    return (moment or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class EventSink(Protocol):
    def create_event(self, namespace: str, body: dict[str, Any]) -> dict[str, Any] | None: ...

    def read_event(self, namespace: str, name: str) -> dict[str, Any] | None: ...

    def patch_event(self, namespace: str, name: str, patch: dict[str, Any]) -> None: ...


@dataclass(frozen=True)
class Event:
    type: str
    reason: str
    action: str
    note: str
    related: Mapping[str, Any] | None = None


@dataclass
class EventRecorder:
    """Records Events about one object (`regarding`); repeated ones become a series."""

    sink: EventSink
    instance: str = field(default_factory=socket.gethostname)
    emitted: list[Event] = field(default_factory=list)

    def name(self, regarding: Mapping[str, Any], event: Event) -> str:
        related = event.related or {}
        text = "|".join(
            [
                event.type,
                event.reason,
                event.note,
                str(related.get("kind")),
                str(related.get("name")),
            ]
        )
        digest = hashlib.sha256(text.encode()).hexdigest()[:16]
        return f"{str(regarding['name'])[:200]}.{digest}"

    def emit(self, regarding: Mapping[str, Any], event: Event) -> None:
        namespace = str(regarding["namespace"])
        name = self.name(regarding, event)
        now = micro_time()
        body: dict[str, Any] = {
            "apiVersion": "events.k8s.io/v1",
            "kind": "Event",
            "metadata": {"name": name, "namespace": namespace},
            "eventTime": now,
            "reportingController": REPORTING_CONTROLLER,
            "reportingInstance": self.instance[:128],
            "action": event.action,
            "reason": event.reason,
            "note": event.note[:1024],
            "type": event.type,
            "regarding": dict(regarding),
        }
        if event.related:
            body["related"] = dict(event.related)
        self.emitted.append(event)
        if self.sink.create_event(namespace, body) is not None:
            return
        existing = self.sink.read_event(namespace, name)
        if existing is None:
            return
        count = int((existing.get("series") or {}).get("count") or 1) + 1
        self.sink.patch_event(
            namespace, name, {"series": {"count": count, "lastObservedTime": now}}
        )
