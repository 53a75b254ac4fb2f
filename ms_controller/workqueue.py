"""A work queue with client-go's contract, for reconcile keys (`namespace/name`).

- A key is queued once however many events arrive for it (the dirty set).
- A key is never handed to two workers at once: a key added while being processed is queued
  again when its worker calls `done` (the processing set).
- Failures back off per key, exponentially (5 ms doubling up to 1000 s, client-go's defaults),
  until `forget`; `add_after` covers known waits (a resync, a Retry-After).
- `shutdown` wakes every waiting worker; `get` then returns None.

Metrics are reported through a `QueueMetrics` listener so this module stays free of any
metrics library (the manager plugs in prometheus_client).
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol


class QueueMetrics(Protocol):
    def added(self) -> None: ...
    def depth(self, depth: int) -> None: ...
    def started(self, waited_seconds: float) -> None: ...
    def finished(self, worked_seconds: float) -> None: ...
    def retried(self) -> None: ...


class _NoMetrics:
    def added(self) -> None:
        pass

    def depth(self, depth: int) -> None:
        pass

    def started(self, waited_seconds: float) -> None:
        pass

    def finished(self, worked_seconds: float) -> None:
        pass

    def retried(self) -> None:
        pass


@dataclass
class Backoff:
    """Per-key exponential backoff: `base * 2**failures`, capped."""

    base: float = 0.005
    cap: float = 1000.0
    _failures: dict[str, int] = field(default_factory=dict)

    def next_delay(self, key: str) -> float:
        failures = self._failures.get(key, 0)
        self._failures[key] = failures + 1
        delay: float = min(self.cap, self.base * 2.0 ** min(failures, 62))
        return delay

    def forget(self, key: str) -> None:
        self._failures.pop(key, None)

    def failures(self, key: str) -> int:
        return self._failures.get(key, 0)


class WorkQueue:
    """Thread-safe; one instance per controller."""

    def __init__(
        self,
        *,
        backoff: Backoff | None = None,
        metrics: QueueMetrics | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._queue: deque[str] = deque()
        self._dirty: set[str] = set()
        self._processing: dict[str, float] = {}
        self._queued_at: dict[str, float] = {}
        self._waiting: list[tuple[float, int, str]] = []
        self._sequence = itertools.count()
        self._backoff = backoff or Backoff()
        self._metrics: QueueMetrics = metrics or _NoMetrics()
        self._clock = clock
        self._lock = threading.Condition()
        self._shutting_down = False

    # -- adding ---------------------------------------------------------------------------------

    def add(self, key: str) -> None:
        with self._lock:
            self._add_locked(key)

    def _add_locked(self, key: str) -> None:
        if self._shutting_down or key in self._dirty:
            return
        self._metrics.added()
        self._dirty.add(key)
        self._queued_at.setdefault(key, self._clock())
        if key in self._processing:
            return  # queued again by done()
        self._queue.append(key)
        self._metrics.depth(len(self._queue))
        self._lock.notify()

    def add_after(self, key: str, delay: float) -> None:
        """Queue `key` once `delay` seconds have passed (an earlier add still wins)."""
        if delay <= 0:
            self.add(key)
            return
        with self._lock:
            if self._shutting_down:
                return
            heapq.heappush(self._waiting, (self._clock() + delay, next(self._sequence), key))
            self._lock.notify()

    def cancel_delayed(self, key: str) -> None:
        """Drop `key`'s pending `add_after`s and its backoff: it was deleted, and a pass 30 s
        later would only find it gone."""
        with self._lock:
            kept = [entry for entry in self._waiting if entry[2] != key]
            if len(kept) != len(self._waiting):
                heapq.heapify(kept)
                self._waiting = kept
            self._backoff.forget(key)

    def add_rate_limited(self, key: str) -> float:
        """Queue `key` after its next backoff delay; returns the delay."""
        with self._lock:
            delay = self._backoff.next_delay(key)
        self._metrics.retried()
        self.add_after(key, delay)
        return delay

    def forget(self, key: str) -> None:
        """Reset `key`'s backoff (after a success, or a terminal error)."""
        with self._lock:
            self._backoff.forget(key)

    def failures(self, key: str) -> int:
        with self._lock:
            return self._backoff.failures(key)

    # -- taking ---------------------------------------------------------------------------------

    def get(self, timeout: float | None = None) -> str | None:
        """The next key to process, blocking; None on shutdown (or when `timeout` passes)."""
        deadline = None if timeout is None else self._clock() + timeout
        with self._lock:
            while True:
                self._release_due_locked()
                if self._queue:
                    key = self._queue.popleft()
                    now = self._clock()
                    self._processing[key] = now
                    self._dirty.discard(key)
                    self._metrics.started(now - self._queued_at.pop(key, now))
                    self._metrics.depth(len(self._queue))
                    return key
                if self._shutting_down:
                    return None
                wait = self._next_due_in_locked()
                if deadline is not None:
                    left = deadline - self._clock()
                    if left <= 0:
                        return None
                    wait = left if wait is None else min(wait, left)
                self._lock.wait(wait)

    def done(self, key: str) -> None:
        """The worker finished `key`; if it was added meanwhile, it is queued again now."""
        with self._lock:
            started = self._processing.pop(key, None)
            if started is not None:
                self._metrics.finished(self._clock() - started)
            if key in self._dirty:
                self._queue.append(key)
                self._metrics.depth(len(self._queue))
                self._lock.notify()

    def _release_due_locked(self) -> None:
        now = self._clock()
        while self._waiting and self._waiting[0][0] <= now:
            _, _, key = heapq.heappop(self._waiting)
            self._add_locked(key)

    def _next_due_in_locked(self) -> float | None:
        if not self._waiting:
            return None
        return max(0.0, self._waiting[0][0] - self._clock())

    # -- state ----------------------------------------------------------------------------------

    def __len__(self) -> int:
        with self._lock:
            return len(self._queue)

    def processing(self) -> dict[str, float]:
        """Keys being worked on, with when each started (for the unfinished-work metrics)."""
        with self._lock:
            return dict(self._processing)

    def waiting(self) -> int:
        """Keys waiting for a delay to pass."""
        with self._lock:
            return len(self._waiting)

    def shutdown(self) -> None:
        with self._lock:
            self._shutting_down = True
            self._lock.notify_all()

    @property
    def shutting_down(self) -> bool:
        return self._shutting_down
