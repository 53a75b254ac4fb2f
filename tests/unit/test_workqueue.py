"""The work queue keeps client-go's promises: one entry per key, never one key in two workers,
per-key backoff, delayed adds, and a shutdown that wakes every worker."""

from __future__ import annotations

import threading
import time

from ms_controller.workqueue import Backoff, WorkQueue


def test_many_adds_of_one_key_queue_it_once():
    queue = WorkQueue()
    for _ in range(100):
        queue.add("ns/a")
    queue.add("ns/b")
    assert len(queue) == 2
    assert queue.get(timeout=1) == "ns/a"
    assert queue.get(timeout=1) == "ns/b"
    assert queue.get(timeout=0.05) is None


def test_a_key_added_while_processing_comes_back_only_after_done():
    queue = WorkQueue()
    queue.add("ns/a")
    assert queue.get(timeout=1) == "ns/a"
    queue.add("ns/a")
    queue.add("ns/a")
    assert queue.get(timeout=0.05) is None  # not handed to a second worker
    queue.done("ns/a")
    assert queue.get(timeout=1) == "ns/a"
    queue.done("ns/a")
    assert queue.get(timeout=0.05) is None  # once, not twice


def test_workers_never_hold_the_same_key_at_once():
    queue = WorkQueue()
    holding: set[str] = set()
    overlaps: list[str] = []
    processed: list[str] = []
    guard = threading.Lock()

    def worker() -> None:
        while (key := queue.get()) is not None:
            with guard:
                if key in holding:
                    overlaps.append(key)
                holding.add(key)
            time.sleep(0.001)
            with guard:
                holding.discard(key)
                processed.append(key)
            queue.done(key)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for round_ in range(200):
        queue.add(f"ns/{round_ % 5}")
        if round_ % 7 == 0:
            time.sleep(0.001)
    deadline = time.monotonic() + 5
    while (len(queue) or queue.processing()) and time.monotonic() < deadline:
        time.sleep(0.01)
    queue.shutdown()
    for thread in threads:
        thread.join(timeout=5)
    assert not overlaps
    assert set(processed) == {f"ns/{i}" for i in range(5)}
    assert len(processed) < 200  # events for a busy key were folded together


def test_failures_back_off_exponentially_per_key_until_forgotten():
    backoff = Backoff(base=0.005, cap=1.0)
    delays = [backoff.next_delay("a") for _ in range(10)]
    assert delays[:4] == [0.005, 0.01, 0.02, 0.04]
    assert delays[-1] == 1.0  # capped
    assert backoff.next_delay("b") == 0.005  # per key
    backoff.forget("a")
    assert backoff.next_delay("a") == 0.005


def test_a_rate_limited_key_comes_back_after_its_delay():
    queue = WorkQueue(backoff=Backoff(base=0.05))
    queue.add("ns/a")
    assert queue.get(timeout=1) == "ns/a"
    assert queue.add_rate_limited("ns/a") == 0.05
    queue.done("ns/a")
    started = time.monotonic()
    assert queue.get(timeout=0.01) is None
    assert queue.get(timeout=2) == "ns/a"
    assert time.monotonic() - started >= 0.04
    assert queue.failures("ns/a") == 1
    queue.forget("ns/a")
    assert queue.failures("ns/a") == 0


def test_an_add_before_a_delayed_add_is_due_is_not_doubled():
    queue = WorkQueue()
    queue.add_after("ns/a", 0.05)
    queue.add("ns/a")
    assert queue.get(timeout=1) == "ns/a"
    queue.done("ns/a")
    assert queue.get(timeout=0.2) == "ns/a"  # the delayed add still arrives, once
    queue.done("ns/a")
    assert queue.get(timeout=0.1) is None


def test_shutdown_wakes_every_waiting_worker():
    queue = WorkQueue()
    results: list[str | None] = []
    threads = [threading.Thread(target=lambda: results.append(queue.get())) for _ in range(3)]
    for thread in threads:
        thread.start()
    time.sleep(0.05)
    queue.shutdown()
    for thread in threads:
        thread.join(timeout=2)
    assert results == [None, None, None]
    queue.add("ns/a")
    assert len(queue) == 0  # nothing new after shutdown


def test_metrics_see_adds_depth_waits_and_retries():
    seen: dict[str, list[float]] = {
        "added": [],
        "depth": [],
        "started": [],
        "finished": [],
        "retried": [],
    }

    class Recorder:
        def added(self) -> None:
            seen["added"].append(1)

        def depth(self, depth: int) -> None:
            seen["depth"].append(depth)

        def started(self, waited_seconds: float) -> None:
            seen["started"].append(waited_seconds)

        def finished(self, worked_seconds: float) -> None:
            seen["finished"].append(worked_seconds)

        def retried(self) -> None:
            seen["retried"].append(1)

    queue = WorkQueue(metrics=Recorder())
    queue.add("ns/a")
    queue.add("ns/a")
    queue.add("ns/b")
    time.sleep(0.02)
    key = queue.get(timeout=1)
    assert key == "ns/a"
    queue.add_rate_limited(key)
    queue.done(key)
    assert len(seen["added"]) == 2 and max(seen["depth"]) == 2
    assert seen["started"][0] >= 0.015 and len(seen["finished"]) == 1 and seen["retried"] == [1]
