"""Waiting for a cluster to get somewhere, with the reason in the failure."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(check: Callable[[], T], what: str, timeout: float = 60.0, interval: float = 0.2) -> T:
    """The first truthy result of `check`; fails with `what` once `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while not (result := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)
    return result


def fetch(url: str) -> tuple[int, str]:
    """(status, body) of a GET; (0, "") while nothing answers (a probe of a starting process)."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except (urllib.error.URLError, OSError):
        return 0, ""


def metric(text: str, prefix: str) -> float:
    """The sum of every sample whose line starts with `prefix` (name and label prefix)."""
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(prefix) and not line.startswith("#")
    )
