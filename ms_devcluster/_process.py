"""Start component processes with their own log files, and stop them again by PID.

Each process runs in a session of its own, so a Ctrl-C in the terminal reaches only the Python
process, which then stops its children in order. A PID is recorded with the process's start time
(from /proc), and `stop` signals only a process whose start time still matches, never a stranger
that reused the PID. A plane owned by a test session can also ask the kernel to SIGKILL each
child if the Python process dies without cleaning up (Linux `PR_SET_PDEATHSIG`): SIGKILL, not
SIGTERM, because kube-apiserver's graceful shutdown can hang once etcd is gone, and nobody would
be left to follow up.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True, kw_only=True)
class ProcessRecord:
    """What `down` needs to find a process again: its PID, its start time and its log."""

    name: str
    pid: int
    start_time: str
    log: str

    def to_json(self) -> dict[str, str | int]:
        return {"name": self.name, "pid": self.pid, "start_time": self.start_time, "log": self.log}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> ProcessRecord:
        return cls(
            name=str(data["name"]),
            pid=int(str(data["pid"])),
            start_time=str(data["start_time"]),
            log=str(data["log"]),
        )


def proc_start_time(pid: int) -> str | None:
    """Field 22 of /proc/<pid>/stat (start time in clock ticks), or None if there is no process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces: split after it.
    fields = stat[stat.rfind(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else None


def is_alive(record: ProcessRecord) -> bool:
    """Whether the recorded process still runs (a zombie counts as gone)."""
    if proc_start_time(record.pid) != record.start_time:
        return False
    try:
        state = Path(f"/proc/{record.pid}/stat").read_text()
    except OSError:
        return False
    return state[state.rfind(")") + 2 :][:1] not in ("Z", "X")


def _die_with_parent() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def spawn(
    name: str,
    args: Sequence[str],
    *,
    log: Path,
    cwd: Path,
    die_with_parent: bool,
    environment: Mapping[str, str] | None = None,
) -> tuple[subprocess.Popen[bytes], ProcessRecord]:
    """Start `args` with stdout and stderr appended to `log`, `environment` added to ours."""
    with log.open("ab") as out:
        process = subprocess.Popen(
            list(args),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            start_new_session=True,
            preexec_fn=_die_with_parent if die_with_parent else None,
            env={**os.environ, **environment} if environment else None,
        )
    start_time = proc_start_time(process.pid) or ""
    return process, ProcessRecord(name=name, pid=process.pid, start_time=start_time, log=str(log))


def _wait_gone(record: ProcessRecord, reap: Callable[[], object] | None, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if reap is not None:
            reap()
        if not is_alive(record):
            return True
        time.sleep(0.05)
    return not is_alive(record)


def stop(
    record: ProcessRecord,
    *,
    process: subprocess.Popen[bytes] | None = None,
    grace: float = 10.0,
) -> bool:
    """SIGTERM, then SIGKILL after `grace` seconds; True if this call had anything to stop."""
    if not is_alive(record):
        if process is not None:
            # A killed Go process shows as a zombie while its other threads still exit, and
            # cannot be reaped until they have: wait, or its Popen warns "still running".
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5.0)
        return False
    reap = process.poll if process is not None else None
    with contextlib.suppress(ProcessLookupError):
        os.kill(record.pid, signal.SIGTERM)
    if not _wait_gone(record, reap, grace):
        with contextlib.suppress(ProcessLookupError):
            os.kill(record.pid, signal.SIGKILL)
        _wait_gone(record, reap, 5.0)
    if process is not None:
        # It may have died between the last poll and the liveness check: reap it now, or its
        # Popen warns "still running" when collected (an error under our warning filter).
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5.0)
    return True


def log_tail(path: str | Path, lines: int = 15) -> str:
    """The last lines of a component's log, for an error message."""
    try:
        text = Path(path).read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])
