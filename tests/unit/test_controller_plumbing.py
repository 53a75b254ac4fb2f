"""The manager's plumbing: the client-side rate limit and the log lines operators read."""

from __future__ import annotations

import json
import logging

import pytest

from ms_controller.client import TokenBucket
from ms_controller.logs import JsonFormatter, TextFormatter


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_token_bucket_allows_a_burst_then_the_rate(monkeypatch):
    clock = FakeClock()
    slept: list[float] = []
    monkeypatch.setattr("ms_controller.client.time.sleep", lambda s: slept.append(s))
    bucket = TokenBucket(qps=10, burst=3, clock=clock)
    assert [bucket.acquire() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.acquire() == pytest.approx(0.1)  # the fourth waits one token's time
    clock.now = 10.0  # idle time refills, but never beyond the burst
    assert [bucket.acquire() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.acquire() > 0
    assert slept and all(s > 0 for s in slept)


def test_a_bucket_that_could_never_grant_is_refused():
    with pytest.raises(ValueError, match="--qps"):
        TokenBucket(qps=0, burst=1)


def record(**extra: object) -> logging.LogRecord:
    made = logging.makeLogRecord(
        {"msg": "Reconciled", "levelname": "INFO", "name": "ms_controller"}
    )
    for key, value in extra.items():
        setattr(made, key, value)
    return made


def test_one_json_object_per_reconcile_with_its_fields():
    line = JsonFormatter().format(
        record(key="ns/a", duration_ms=12.5, changed=["Deployment/a-decode created"])
    )
    parsed = json.loads(line)
    assert parsed["msg"] == "Reconciled" and parsed["key"] == "ns/a"
    assert parsed["duration_ms"] == 12.5 and parsed["changed"] == ["Deployment/a-decode created"]
    assert "\n" not in line


def test_text_lines_carry_the_same_fields():
    line = TextFormatter().format(record(key="ns/a", result="success", reason="not ready yet"))
    assert line.endswith('Reconciled key=ns/a result=success reason="not ready yet"')
