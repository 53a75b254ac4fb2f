"""Kubernetes Events (`events.k8s.io/v1`) about a ModelService: what changed, what failed.

An Event's name is derived from what it says (reason, note, related object), so the same event
repeated (a retry failing again) updates one Event's `series` count instead of adding another.
"""

from __future__ import annotations

import hashlib
import logging
import queue
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

log = logging.getLogger("ms_controller")

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


class EventQueue:
    """Sends Events from threads of their own, so a reconcile does not wait for them.

    A new ModelService gets one Event per child created: thirteen writes that took a quarter of
    a worker's time (measured with py-spy at 100 ModelServices, bench/scale.py). An Event is
    worth writing but not worth waiting for; a reconcile's outcome lives in its status. The same
    Event (same name) always goes through the same thread, so a series is counted in order. When
    the API server falls far behind, each thread holds at most `limit` Events and drops newer
    ones (logged), rather than growing without bound.
    """

    def __init__(self, sink: EventSink, *, threads: int = 2, limit: int = 10000) -> None:
        self.sink = sink
        self._namer = EventRecorder(sink, instance="")
        self._queues: list[queue.Queue[tuple[Mapping[str, Any], Event] | None]] = [
            queue.Queue(limit) for _ in range(threads)
        ]
        self._threads = [
            threading.Thread(target=self._send, args=(q,), name=f"events-{i}", daemon=True)
            for i, q in enumerate(self._queues)
        ]
        self._started = False
        self._lock = threading.Lock()
        self.dropped = 0

    def recorder(self) -> EventRecorder:
        """A recorder for one reconcile whose `emit` only queues."""
        with self._lock:
            if not self._started:
                self._started = True
                for thread in self._threads:
                    thread.start()
        return _QueuedRecorder(self.sink, queue=self)

    def put(self, regarding: Mapping[str, Any], event: Event) -> None:
        name = self._namer.name(regarding, event)
        chosen = self._queues[int(name.rsplit(".", 1)[-1], 16) % len(self._queues)]
        try:
            chosen.put_nowait((regarding, event))
        except queue.Full:
            self.dropped += 1
            log.warning("Event queue full: Event dropped", extra={"reason": event.reason})

    def _send(self, pending: queue.Queue[tuple[Mapping[str, Any], Event] | None]) -> None:
        recorder = EventRecorder(self.sink)
        while (item := pending.get()) is not None:
            regarding, event = item
            try:
                recorder.emit(regarding, event)
            except Exception as error:  # best effort: the status says what happened
                log.warning(
                    "Event not written", extra={"reason": event.reason, "error": repr(error)}
                )
            finally:
                recorder.emitted.clear()

    def stop(self, timeout: float) -> None:
        """Send what is queued (within `timeout` seconds), then stop the threads."""
        if not self._started:
            return
        for pending in self._queues:
            pending.put(None)
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))


@dataclass
class _QueuedRecorder(EventRecorder):
    queue: EventQueue | None = None

    def emit(self, regarding: Mapping[str, Any], event: Event) -> None:
        self.emitted.append(event)
        assert self.queue is not None
        self.queue.put(dict(regarding), event)
