"""Benchmark the local control plane: time to ready and memory, median of N starts.

    .venv/bin/python bench/controlplane.py [--runs 5]

Two configurations, each started `--runs` times in a fresh directory:

- apiserver: etcd + kube-apiserver, ready when `/readyz` answers 200;
- whole plane: plus kube-controller-manager, kube-scheduler and KWOK, ready when every health
  endpoint answers, the fake GPU nodes are Ready and the default ServiceAccount exists.

Times run from the call to `ControlPlane.start` (certificates included) to ready. Memory is each
process's resident set (VmRSS) just after ready, and its peak (VmHWM) just before stopping,
5 s later. Targets (issue 4): API server ready <= 15 s, whole plane <= 30 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from ms_devcluster import ControlPlane, find_binaries

TARGETS = {"apiserver": 15.0, "whole plane": 30.0}


def _mib(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def run(full: bool, runs: int, settle: float) -> tuple[list[float], list[float], dict[str, float]]:
    binaries = find_binaries()
    times: list[float] = []
    stops: list[float] = []
    rss: dict[str, list[float]] = {}
    hwm: dict[str, list[float]] = {}
    for i in range(runs):
        with tempfile.TemporaryDirectory(prefix="ms-bench-") as tmp:
            t0 = time.monotonic()
            plane = ControlPlane.start(Path(tmp) / "plane", full=full, binaries=binaries,
                                       die_with_parent=True)  # fmt: skip
            try:
                times.append(time.monotonic() - t0)
                for r in plane.records:
                    rss.setdefault(r.name, []).append(_mib(r.pid, "VmRSS"))
                time.sleep(settle)
                for r in plane.records:
                    hwm.setdefault(r.name, []).append(_mib(r.pid, "VmHWM"))
            finally:
                t1 = time.monotonic()
                plane.stop()
                stops.append(time.monotonic() - t1)
        print(f"  {'whole plane' if full else 'apiserver'} run {i + 1}: ready in {times[-1]:.2f} s",
              file=sys.stderr, flush=True)  # fmt: skip
    memory = {f"{name} rss": statistics.median(v) for name, v in rss.items()}
    memory |= {f"{name} peak": statistics.median(v) for name, v in hwm.items()}
    return times, stops, memory


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--settle", type=float, default=5.0, help="seconds up before stopping")
    args = parser.parse_args()
    binaries = find_binaries()
    v = binaries.versions
    print(f"kubernetes {v.get('KUBERNETES_VERSION')}, etcd {v.get('ETCD_VERSION')}, "
          f"kwok {v.get('KWOK_VERSION')}; median of {args.runs} starts\n")  # fmt: skip
    ok = True
    rows = []
    memory_rows = []
    for label, full in (("apiserver", False), ("whole plane", True)):
        times, stops, memory = run(full, args.runs, args.settle)
        median = statistics.median(times)
        ok &= median <= TARGETS[label]
        rows.append((label, median, min(times), max(times), statistics.median(stops),
                     TARGETS[label]))  # fmt: skip
        total_rss = sum(v for k, v in memory.items() if k.endswith(" rss"))
        total_peak = sum(v for k, v in memory.items() if k.endswith(" peak"))
        memory_rows.append((label, memory, total_rss, total_peak))

    print(f"{'configuration':<14}{'ready median':>14}{'min':>8}{'max':>8}{'stop':>8}{'target':>9}")
    for label, median, lo, hi, stop, target in rows:
        mark = "ok" if median <= target else "MISSED"
        print(f"{label:<14}{median:>12.2f} s{lo:>6.2f} s{hi:>6.2f} s{stop:>6.2f} s"
              f"{target:>7.0f} s {mark}")  # fmt: skip
    for label, memory, total_rss, total_peak in memory_rows:
        print(f"\nmemory, {label} (MiB, median):")
        print(f"  {'process':<26}{'rss at ready':>14}{'peak':>10}")
        names = [k.removesuffix(" rss") for k in memory if k.endswith(" rss")]
        for name in names:
            print(f"  {name:<26}{memory[name + ' rss']:>14.0f}{memory[name + ' peak']:>10.0f}")
        print(f"  {'total':<26}{total_rss:>14.0f}{total_peak:>10.0f}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
