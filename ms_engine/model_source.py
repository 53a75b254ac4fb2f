"""What a model-source plugin hands the engine for one `modelArtifacts.uri`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

MODEL_VOLUME = "model-storage"
"""The pod volume holding the model; a BaseConfig volume of this name is replaced, not doubled."""

MODEL_ROOT = "/model-cache"
"""Where containers with `mountModelVolume: true` see the model volume."""


@dataclass(frozen=True)
class ModelSource:
    """The volume, mount and environment one model source needs, and the template variables it
    offers (`MountedModelPath`, `ModelPath`, ...).

    `volume` is a pod volume without its name (the engine names it `model-storage`); `mount` is a
    volumeMount without name (the engine fills it in); `env` goes, in order, onto every container
    with `mountModelVolume: true`, after that container's own env.
    """

    scheme: str
    volume: Mapping[str, Any]
    mount: Mapping[str, Any]
    env: tuple[Mapping[str, Any], ...] = ()
    template_vars: Mapping[str, Any] = field(default_factory=dict)
