"""Events: one per distinct happening; the same one again is a series, not a second Event."""

from __future__ import annotations

import threading
from typing import Any

from ms_controller.events import Event, EventQueue, EventRecorder

REGARDING = {"apiVersion": "llm-d.ai/v1alpha1", "kind": "ModelService", "name": "m",
             "namespace": "ns", "uid": "u"}  # fmt: skip


class Sink:
    """Stores Events like the API server would: a second create of a name is refused."""

    def __init__(self) -> None:
        self.events: dict[str, dict[str, Any]] = {}

    def create_event(self, namespace: str, body: dict[str, Any]) -> dict[str, Any] | None:
        name = body["metadata"]["name"]
        if name in self.events:
            return None
        self.events[name] = body
        return body

    def read_event(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self.events.get(name)

    def patch_event(self, namespace: str, name: str, patch: dict[str, Any]) -> None:
        self.events[name].update(patch)


def test_a_repeated_event_becomes_a_series_and_distinct_ones_stay_apart():
    sink = Sink()
    recorder = EventRecorder(sink, instance="test")
    failed = Event(
        "Warning", "ApplyFailed", "Apply", "Service/x refused", {"kind": "Service", "name": "x"}
    )
    recorder.emit(REGARDING, failed)
    recorder.emit(REGARDING, failed)
    recorder.emit(REGARDING, failed)
    recorder.emit(REGARDING, Event("Normal", "Created", "Apply", "Service/y created"))
    assert len(sink.events) == 2
    (series,) = [e for e in sink.events.values() if e["reason"] == "ApplyFailed"]
    assert series["series"]["count"] == 3
    assert series["regarding"] == REGARDING and series["related"]["name"] == "x"
    assert series["reportingController"] == "llm-d.ai/modelservice-controller"


class SlowSink(Sink):
    """A sink whose writes wait until the test lets them through."""

    def __init__(self) -> None:
        super().__init__()
        self.open = threading.Event()

    def create_event(self, namespace: str, body: dict[str, Any]) -> dict[str, Any] | None:
        self.open.wait(timeout=10)
        return super().create_event(namespace, body)


def test_queued_events_do_not_hold_up_the_reconcile_and_are_all_written():
    sink = SlowSink()
    events = EventQueue(sink)
    recorder = events.recorder()
    failed = Event("Warning", "ApplyFailed", "Apply", "Service/x refused")
    for _ in range(3):
        recorder.emit(REGARDING, failed)  # returns at once although the sink blocks
    recorder.emit(REGARDING, Event("Normal", "Created", "Apply", "Service/y created"))
    assert sink.events == {} and len(recorder.emitted) == 4
    sink.open.set()
    events.stop(timeout=10)
    assert len(sink.events) == 2
    (series,) = [e for e in sink.events.values() if e["reason"] == "ApplyFailed"]
    assert series["series"]["count"] == 3


def test_one_created_note_names_every_child_and_fits_an_event():
    from ms_controller.reconcile import NOTE_LIMIT, created_note

    assert created_note(["Service/a"]) == "created 1 object: Service/a"
    assert created_note(["ServiceAccount/a-sa", "Deployment/a-decode"]) == (
        "created 2 objects: ServiceAccount/a-sa, Deployment/a-decode"
    )
    many = [f"Deployment/{'x' * 60}-{i}" for i in range(40)]
    note = created_note(many)
    assert len(note) <= NOTE_LIMIT
    shown = note.split(": ", 1)[1].split(" (+")[0].split(", ")
    assert shown == many[: len(shown)] and note.endswith(f"(+{40 - len(shown)} more)")
