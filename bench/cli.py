"""Start-up time of msctl as a user's shell sees it: whole processes, imports included.

    .venv/bin/python bench/cli.py [--runs 20]

Prints the median wall time of `msctl --help` and of `msctl render` of the P/D sample over
`--runs` processes each, with the median CPU time (user + system) of those processes, which a
busy machine disturbs less than wall time. Target (issue 7): render <= 0.2 s on an idle machine.

The processes run as after a normal install, with bytecode caches: PYTHONDONTWRITEBYTECODE is
dropped from their environment (pip compiles bytecode when it installs a wheel; without it, every
run would compile the project's modules again, about 0.1 s).

Wall and CPU time both follow the machine's load. To compare two versions of the code on a busy
machine, count instructions instead (deterministic to about 1 %; docs/performance.md):

    valgrind --tool=callgrind --callgrind-out-file=/dev/null .venv/bin/msctl render -f ... -b ...
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MSCTL = Path(sys.executable).parent / "msctl"
COMMANDS = {
    "msctl --help": ["--help"],
    "msctl render (P/D sample)": [
        "render",
        "-f",
        str(ROOT / "samples/pd-nixl/modelservice.yaml"),
        "-b",
        str(ROOT / "deploy/presets/pd-nixl.yaml"),
    ],
}
TARGET_RENDER_S = 0.2


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(args: list[str], runs: int) -> tuple[float, float]:
    """Median wall seconds and median CPU seconds of `runs` whole msctl processes."""
    walls: list[float] = []
    cpus: list[float] = []
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    command = [str(MSCTL), *args]
    subprocess.run(command, capture_output=True, check=True, env=environment)  # warm the caches
    for _ in range(runs):
        cpu_before = children_cpu()
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True, env=environment)
        walls.append(time.perf_counter() - start)
        cpus.append(children_cpu() - cpu_before)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="processes per command")
    arguments = parser.parse_args()
    if not MSCTL.exists():
        sys.exit(f"error: {MSCTL} not found: run `make setup` first")
    print(f"{'command':<28} {'median wall s':>13} {'median CPU s':>13}  ({arguments.runs} runs)")
    for title, args in COMMANDS.items():
        wall, cpu = measure(args, arguments.runs)
        print(f"{title:<28} {wall:>13.3f} {cpu:>13.3f}")
    print(f"target: msctl render <= {TARGET_RENDER_S} s on an idle machine")


if __name__ == "__main__":
    main()
