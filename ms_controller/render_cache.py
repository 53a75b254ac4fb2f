"""The last render of each ModelService, kept between its passes.

Most passes render the same inputs again: a child's status changed, the 30 s look at workloads
not yet Ready, a resync. The render was over half of a steady pass's CPU (bench/reconcile.py).
Rendering is pure (the stage contract): its output depends only on the ModelService (metadata
and spec, never status), the BaseConfig and the controller's render options, so a render is
reused while those three are unchanged, and nothing else can make it stale.

One entry per ModelService, dropped when it is deleted: memory is bounded by the number of
ModelServices, not by the number of passes.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from ms_engine import RenderOptions, RenderResult
from ms_engine.objects import ObjectSet

VOLATILE_METADATA = frozenset({"resourceVersion", "managedFields"})
"""Metadata the API server changes on every write (a status write too); no render reads it."""


@dataclass(frozen=True)
class RenderInputs:
    """What a render reads, as comparable values."""

    model_service: str
    """The ModelService's metadata (but VOLATILE_METADATA) and spec, as canonical JSON."""
    base_config: tuple[str, str, str] | None
    """The BaseConfig ConfigMap's namespace/name, uid and resourceVersion."""
    options: RenderOptions
    """Compared without its cluster (a field RenderOptions leaves out of equality)."""

    @classmethod
    def of(
        cls,
        live: dict[str, Any],
        base_config: dict[str, Any] | None,
        options: RenderOptions,
    ) -> RenderInputs:
        metadata = {
            k: v for k, v in (live.get("metadata") or {}).items() if k not in VOLATILE_METADATA
        }
        read = {"metadata": metadata, "spec": live.get("spec")}
        config = None
        if base_config is not None:
            meta = base_config.get("metadata") or {}
            config = (
                f"{meta.get('namespace')}/{meta.get('name')}",
                str(meta.get("uid")),
                str(meta.get("resourceVersion")),
            )
        return cls(json.dumps(read, sort_keys=True, separators=(",", ":")), config, options)


@dataclass(frozen=True)
class _Entry:
    inputs: RenderInputs
    skeleton: RenderResult
    """The render without its desired objects, which `objects` holds compactly."""
    objects: tuple[tuple[str, bytes], ...]
    """(component, the body as compact JSON), in the order the stages added them."""


class RenderCache:
    """Thread-safe; the work queue already hands a key to one worker at a time. `on_lookup` hears
    each lookup's outcome (True for a hit), for the metrics.

    The desired objects are kept as compact JSON (a fifth of their size as dicts: 12 KiB for the
    sim preset's 13 objects). Every hit gets fresh copies of the objects, the warnings and the
    stash, which a pass changes (apply stashes its report); the rest of the context (variables,
    the rendered spec) is shared and only read after the render.
    """

    def __init__(self, on_lookup: Callable[[bool], None] | None = None) -> None:
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()
        self._on_lookup = on_lookup or (lambda hit: None)

    def get(self, key: str, inputs: RenderInputs) -> RenderResult | None:
        """A fresh copy of the render kept for `key`, if it was made from equal inputs."""
        with self._lock:
            entry = self._entries.get(key)
        if entry is None or entry.inputs != inputs:
            self._on_lookup(False)
            return None
        self._on_lookup(True)
        objects = ObjectSet()
        for component, body in entry.objects:
            objects.add(component, json.loads(body))
        cached = entry.skeleton.context
        context = replace(
            cached, objects=objects, problems=list(cached.problems), stash=cached.stash.copy()
        )
        return replace(
            entry.skeleton,
            objects=objects.in_apply_order(),
            warnings=list(entry.skeleton.warnings),
            context=context,
        )

    def put(self, key: str, inputs: RenderInputs, result: RenderResult) -> None:
        try:
            objects = tuple(
                (desired.component, json.dumps(desired.body, separators=(",", ":")).encode())
                for desired in result.context.objects
            )
        except (TypeError, ValueError):  # not JSON (a plugin's odd value): render it each time
            self.drop(key)
            return
        # A snapshot: the caller goes on with `result` (the apply stage stashes its report, with
        # every live child), and none of that may stay in the cache.
        context = replace(
            result.context,
            objects=ObjectSet(),
            problems=list(result.context.problems),
            stash=result.context.stash.copy(),
        )
        skeleton = replace(result, objects=[], warnings=list(result.warnings), context=context)
        with self._lock:
            self._entries[key] = _Entry(inputs, skeleton, objects)

    def drop(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
