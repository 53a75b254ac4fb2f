"""Render throughput: 1, 100 and 1000 ModelServices (distinct names) against the P/D preset.

Prints median and p99 milliseconds per ModelService and ModelServices per second, plus how 1000
renders compare with 1000 times one warm render (target: no more than +10%).

    .venv/bin/python bench/render.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import copy
import gc
import statistics
import time
from pathlib import Path
from typing import Any

import yaml

from ms_engine import Renderer
from ms_engine.api import load_model_service, parse_base_config

ROOT = Path(__file__).resolve().parents[1]


def inputs(count: int) -> list[Any]:
    template = yaml.safe_load((ROOT / "samples/pd-nixl/modelservice.yaml").read_text())
    documents = []
    for index in range(count):
        document = copy.deepcopy(template)
        document["metadata"]["name"] = f"llama-{index:04d}"
        documents.append(document)
    return documents


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def run(renderer: Renderer, documents: list[Any], base_config: Any) -> tuple[list[float], float]:
    """Per-ModelService milliseconds (validation + render) and the batch's wall seconds."""
    timings = []
    gc.collect()
    start = time.perf_counter()
    for document in documents:
        before = time.perf_counter()
        renderer.render(load_model_service(document), base_config)
        timings.append((time.perf_counter() - before) * 1000)
    return timings, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="batches per size; the best is kept")
    arguments = parser.parse_args()

    preset = yaml.safe_load((ROOT / "deploy/presets/pd-nixl.yaml").read_text())
    base_config = parse_base_config(preset)
    renderer = Renderer()
    started = time.perf_counter()
    renderer.render(load_model_service(inputs(1)[0]), base_config)
    cold_ms = (time.perf_counter() - started) * 1000

    single = inputs(1)
    warm = [run(renderer, single, base_config)[0][0] for _ in range(300)]
    one_ms = statistics.median(warm)

    stages = len(renderer.pipeline.stages)
    print(f"P/D preset, {stages} stages; first render (compiles templates): {cold_ms:.2f} ms")
    print(f"one warm render, median of 300: {one_ms:.3f} ms")
    print()
    columns = (("ModelServices", 13), ("median ms", 10), ("p99 ms", 8), ("per second", 11))
    columns += (("total s", 8), ("vs N x one", 11))
    print(" ".join(f"{title:>{width}}" for title, width in columns))
    for count in (1, 100, 1000):
        documents = inputs(count)
        best: tuple[list[float], float] | None = None
        for _ in range(arguments.repeat):
            timings, total = run(renderer, documents, base_config)
            if best is None or total < best[1]:
                best = (timings, total)
        assert best is not None
        timings, total = best
        ratio = total * 1000 / (count * one_ms)
        print(
            f"{count:>13} {statistics.median(timings):>10.3f} {percentile(timings, 0.99):>8.3f} "
            f"{count / total:>11.0f} {total:>8.3f} {ratio:>10.2f}x"
        )


if __name__ == "__main__":
    main()
