"""Decode a Go-dialect BaseConfig's objects as the original did: typed, so env values are strings.

The original unmarshalled each rendered value into Kubernetes Go structs (sigs.k8s.io/yaml), which
turns an unquoted env value (`value: false`, `value: 1`) into the string the container sees, and
drops an empty one (`value:`). Plain YAML keeps `false` a boolean, which the API server refuses.
This stage, right after `template`, gives Go-dialect BaseConfigs the original's reading, and
BaseConfigs `msctl convert` made from them (annotation `modelservice.llm-d.ai/converted-from: go`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ms_engine import RenderContext, Stage

DIALECT_ANNOTATION = "modelservice.llm-d.ai/template-dialect"
CONVERTED_ANNOTATION = "modelservice.llm-d.ai/converted-from"
"""Set by `msctl convert` (value `go`): the Jinja2 BaseConfig keeps the original's decoding."""
_POD_KEYS = ("decodeDeployment", "prefillDeployment", "eppDeployment")


def is_go_base_config(context: RenderContext, recognises: Any) -> bool:
    base_config = context.base_config
    if base_config is None:
        return False
    if base_config.annotations.get(CONVERTED_ANNOTATION) == "go":
        return True
    stated = base_config.annotations.get(DIALECT_ANNOTATION)
    if stated is not None:
        return stated == "go"
    return any(recognises(source) for source in base_config.templates.values())


def go_string(value: Any) -> str:
    """How Go's YAML decoding into a string field reads a scalar."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _containers(document: Any) -> Iterator[dict[str, Any]]:
    pod = (((document or {}).get("spec") or {}).get("template") or {}).get("spec") or {}
    for key in ("containers", "initContainers"):
        for container in pod.get(key) or []:
            if isinstance(container, dict):
                yield container


def decode_env_values(document: Any) -> None:
    for container in _containers(document):
        for entry in container.get("env") or []:
            if not isinstance(entry, dict) or "value" not in entry:
                continue
            if entry["value"] is None:
                del entry["value"]
            elif not isinstance(entry["value"], str):
                entry["value"] = go_string(entry["value"])


def make_stage(recognises: Any) -> Stage:
    def run(context: RenderContext) -> None:
        if not is_go_base_config(context, recognises):
            return
        for key in _POD_KEYS:
            if key in context.documents:
                decode_env_values(context.documents[key])

    return Stage(
        "go-typed-values",
        run,
        after="template",
        description="Go-dialect BaseConfigs: env values read as the original read them (strings)",
    )
