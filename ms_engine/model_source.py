"""What a model-source plugin hands the engine for one `modelArtifacts.uri`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ms_engine.api.model_uri import URI_FIELD
from ms_engine.problems import fail

MODEL_VOLUME = "model-storage"
"""The pod volume holding the model; a BaseConfig volume of this name is replaced, not doubled."""

MODEL_ROOT = "/model-cache"
"""Where containers with `mountModelVolume: true` see the model volume."""


@dataclass(frozen=True)
class ModelSource:
    """The volume, mount and environment one model source needs, the pod additions that fill the
    volume, and the template variables it offers (`MountedModelPath`, `ModelPath`, ...).

    `volume` is a pod volume without its name (the engine names it `model-storage`); `mount` is a
    volumeMount without name (the engine fills it in); `env` goes, in order, onto every container
    with `mountModelVolume: true`, after that container's own env.

    `init_containers` run before every other init container of the decode and prefill pods (a
    downloader that fills `model-storage`: it mounts that volume itself, by name); `volumes` are
    further named pod volumes they need (a credentials Secret, a scratch dir). A name the
    BaseConfig's pod already uses is an error naming both.
    """

    scheme: str
    volume: Mapping[str, Any]
    mount: Mapping[str, Any]
    env: tuple[Mapping[str, Any], ...] = ()
    template_vars: Mapping[str, Any] = field(default_factory=dict)
    init_containers: tuple[Mapping[str, Any], ...] = ()
    volumes: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True)
class ModelScheme:
    """A URI scheme a plugin serves, answered by `ms_model_schemes` instead of a plain string when
    the plugin takes the scheme over from another plugin: `ModelScheme("hf",
    overrides="huggingface")`. Without it two plugins serving one scheme is an error."""

    name: str
    overrides: str | None = None


def model_path(path: str) -> tuple[str, str]:
    """A path inside the model source, normalised, and where containers see it.

    `"models/llama/"` → `("models/llama", "/model-cache/models/llama")`; `""` → `("", MODEL_ROOT)`.
    """
    path = path.strip("/")
    if ".." in path.split("/"):
        raise fail("the path inside the model source may not contain '..'", URI_FIELD)
    return path, f"{MODEL_ROOT}/{path}" if path else MODEL_ROOT
