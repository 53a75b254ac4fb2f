"""Start-up time of msctl as a user's shell sees it: whole processes, imports included.

    .venv/bin/python bench/cli.py [--runs 20]

Prints the median wall time of `msctl --help` and of `msctl render` of the P/D sample over
`--runs` processes each, with the median CPU time (user + system) of those processes, which a
busy machine disturbs less than wall time. Target (issue 7): render <= 0.2 s on an idle machine.

A third line times a process that only imports the libraries a render needs (click, PyYAML,
Jinja2, pluggy, importlib.metadata, pydantic with one model): the floor no change to msctl can
go below, and a yardstick for this machine's speed, which moves by half within a day.

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
LIBRARIES = """
import gc
gc.disable()
import click, importlib.metadata, jinja2, pluggy, yaml
from pydantic import BaseModel
class Probe(BaseModel):
    name: str
Probe(name="x")
"""
"""What any `msctl render` must import, built the way msctl runs (cyclic GC paused, pydantic's
plugin lookup off): the floor under its start-up on this machine at this moment."""
COMMANDS = {
    "msctl --help": [str(MSCTL), "--help"],
    "msctl render (P/D sample)": [
        str(MSCTL),
        "render",
        "-f",
        str(ROOT / "samples/pd-nixl/modelservice.yaml"),
        "-b",
        str(ROOT / "deploy/presets/pd-nixl.yaml"),
    ],
    "libraries alone": [sys.executable, "-c", LIBRARIES],
}
TARGET_RENDER_S = 0.2


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(args: list[str], runs: int) -> tuple[float, float]:
    """Median wall seconds and median CPU seconds of `runs` whole processes."""
    walls: list[float] = []
    cpus: list[float] = []
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    environment.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")  # as msctl sets it
    subprocess.run(args, capture_output=True, check=True, env=environment)  # warm the caches
    for _ in range(runs):
        cpu_before = children_cpu()
        start = time.perf_counter()
        subprocess.run(args, capture_output=True, check=True, env=environment)
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
    walls: dict[str, float] = {}
    for title, args in COMMANDS.items():
        wall, cpu = measure(args, arguments.runs)
        walls[title] = wall
        print(f"{title:<28} {wall:>13.3f} {cpu:>13.3f}")
    render, floor = walls["msctl render (P/D sample)"], walls["libraries alone"]
    print(f"msctl render above the libraries' floor: {render - floor:.3f} s")
    print(f"target: msctl render <= {TARGET_RENDER_S} s on an idle machine")


if __name__ == "__main__":
    main()
