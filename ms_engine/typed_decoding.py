"""Typed decoding: read a BaseConfig object as the original controller read it, into Go structs.

The original unmarshalled each rendered value into the Kubernetes Go types (sigs.k8s.io/yaml):
fields Kubernetes does not know were dropped, a scalar written for a string field became that
string (`value: false` → `"false"`, `nvidia.com/gpu: 1` → `"1"`), and nulls vanished. A BaseConfig
written for it may rely on that (a chart values bug gives `securityContext: {securityContext:
...}`); server-side apply refuses such an object outright. Dialects that say so (the `go` one) and
BaseConfigs annotated `modelservice.llm-d.ai/decoding: typed` get the same reading here, with a
warning for each dropped field. Only built-in kinds are typed (Deployment, Service, ConfigMap);
other objects pass unchanged.

The field types are a table generated from the Kubernetes Python client's models
(`hack/gen_kube_types.py` writes `kube_types.json`); the engine never imports the client. As in the
original, an InferencePool or InferenceModel fragment without apiVersion is the one version the
original knew, `inference.networking.x-k8s.io/v1alpha2`.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from ms_engine.problems import BASECONFIG, Problem, Reason, Severity

DECODING_ANNOTATION = "modelservice.llm-d.ai/decoding"
TYPED = "typed"
_MODELS = {
    ("apps/v1", "Deployment"): "V1Deployment",
    ("v1", "Service"): "V1Service",
    ("v1", "ConfigMap"): "V1ConfigMap",
}
_LIST = r"^(?:List|list)\[(.+)\]$"
_DICT = r"^(?:Dict\[str, (.+)\]|dict\(str, (.+)\))$"
_SCALARS = frozenset({"int", "bool", "float", "object", "datetime", "date", "bytes"})


ORIGINAL_API_VERSIONS = {
    "inferencePool": "inference.networking.x-k8s.io/v1alpha2",
    "inferenceModel": "inference.networking.x-k8s.io/v1alpha2",
}
"""The apiVersion the original gave these BaseConfig keys' objects (it knew no other)."""


@cache
def _table() -> dict[str, dict[str, str]]:
    types: dict[str, dict[str, str]] = json.loads(
        (Path(__file__).parent / "kube_types.json").read_text()
    )["types"]
    return types


def _fields(type_name: str) -> dict[str, str] | None:
    """JSON field name → type name of a Kubernetes type, or None for an unknown type."""
    return _table().get(type_name)


def original_api_version(key: str, document: Any) -> None:
    """Give an InferencePool/InferenceModel fragment without apiVersion the original's version."""
    if key in ORIGINAL_API_VERSIONS and isinstance(document, dict) and "apiVersion" not in document:
        document["apiVersion"] = ORIGINAL_API_VERSIONS[key]


def go_string(value: Any) -> str:
    """How decoding into a Go string field reads a YAML scalar."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def decode_typed(where: str, document: dict[str, Any]) -> list[Problem]:
    """Decode `document` in place; a warning per field dropped because Kubernetes lacks it."""
    model = _MODELS.get((document.get("apiVersion"), document.get("kind")))  # type: ignore[arg-type]
    if model is None:
        return []
    dropped: list[str] = []
    _decode(document, model, "", dropped)
    return [
        Problem(
            "unknown field, dropped (the original controller dropped it too; the API server "
            "would refuse it)",
            f"{where}: {path}",
            severity=Severity.WARNING,
            reason=Reason.INVALID_BASE_CONFIG,
            document=BASECONFIG,
        )
        for path in dropped
    ]


def _decode(value: Any, type_name: str, path: str, dropped: list[str]) -> Any:
    if value is None:
        return None
    if type_name == "str":
        return value if isinstance(value, str) else go_string(value) if _scalar(value) else value
    if type_name in _SCALARS:
        return value
    listed = re.match(_LIST, type_name)
    if listed:
        if not isinstance(value, list):
            return value
        return [
            _decode(item, listed.group(1), f"{path}[{_label(item, index)}]", dropped)
            for index, item in enumerate(value)
        ]
    mapped = re.match(_DICT, type_name)
    if mapped:
        inner = mapped.group(1) or mapped.group(2)
        if not isinstance(value, dict):
            return value
        return {
            key: _decode(item, inner, f"{path}.{key}", dropped)
            for key, item in value.items()
            if item is not None
        }
    fields = _fields(type_name)
    if fields is None or not isinstance(value, dict):
        return value
    for key in list(value):
        where = f"{path}.{key}" if path else str(key)
        if key not in fields:
            del value[key]
            dropped.append(where)
        elif value[key] is None:
            del value[key]
        else:
            value[key] = _decode(value[key], fields[key], where, dropped)
    return value


def _scalar(value: Any) -> bool:
    return isinstance(value, bool | int | float)


def _label(item: Any, index: int) -> str:
    if isinstance(item, dict) and isinstance(item.get("name"), str):
        return str(item["name"])
    return str(index)
