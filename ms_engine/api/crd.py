"""Generate the ModelService CustomResourceDefinition from the pydantic models.

pydantic's JSON Schema is turned into a Kubernetes structural schema: references inlined,
`Optional` unwrapped, `const` as a one-value enum, titles and defaults dropped (the models
default; the API server should store what the user wrote).
"""

from __future__ import annotations

from typing import Any

from ms_engine.api.modelservice import (
    GROUP,
    KIND,
    VERSION,
    ModelServiceSpec,
)
from ms_engine.api.status import ModelServiceStatus

PLURAL = "modelservices"
SHORT_NAMES = ["msvc", "ms"]
_DROP = {"title", "default", "additionalProperties"}


def structural(schema: dict[str, Any]) -> dict[str, Any]:
    """A pydantic JSON Schema (with `$defs`) as an inlined Kubernetes structural schema."""
    definitions = schema.get("$defs", {})

    def convert(node: Any) -> Any:
        if isinstance(node, list):
            return [convert(item) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            target = definitions[node["$ref"].rsplit("/", 1)[-1]]
            extra = {k: v for k, v in node.items() if k != "$ref"}
            return convert({**target, **extra})
        any_of = node.get("anyOf")
        if any_of and not node.get("x-kubernetes-int-or-string"):
            non_null = [option for option in any_of if option.get("type") != "null"]
            if len(non_null) == 1:
                rest = {k: v for k, v in node.items() if k != "anyOf"}
                return convert({**non_null[0], **rest})
        converted: dict[str, Any] = {}
        for key, value in node.items():
            if key in _DROP and not (key == "additionalProperties" and isinstance(value, dict)):
                continue
            if key == "$defs":
                continue
            if key == "const":
                converted["enum"] = [value]
                continue
            if key == "properties":
                converted[key] = {name: convert(sub) for name, sub in value.items()}
                continue
            converted[key] = convert(value)
        if "properties" in converted and "additionalProperties" in converted:
            del converted["additionalProperties"]
        return converted

    result: dict[str, Any] = convert({k: v for k, v in schema.items() if k != "$defs"})
    return result


def spec_schema() -> dict[str, Any]:
    schema = structural(ModelServiceSpec.model_json_schema(by_alias=True))
    model_name = schema["properties"]["routing"]["properties"]["modelName"]
    model_name["x-kubernetes-validations"] = [
        {"rule": "self == oldSelf", "message": "routing.modelName is immutable"}
    ]
    return schema


def status_schema() -> dict[str, Any]:
    schema = structural(ModelServiceStatus.model_json_schema(by_alias=True))
    conditions = schema["properties"]["conditions"]
    conditions["x-kubernetes-list-type"] = "map"
    conditions["x-kubernetes-list-map-keys"] = ["type"]
    # Fields another writer put there (the original controller, a newer version) are kept.
    schema["x-kubernetes-preserve-unknown-fields"] = True
    return schema


def _column(name: str, type_: str, path: str) -> dict[str, str]:
    return {"name": name, "type": type_, "jsonPath": path}


def _condition(type_: str, field: str) -> str:
    return f'.status.conditions[?(@.type=="{type_}")].{field}'


def model_service_crd() -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{PLURAL}.{GROUP}"},
        "spec": {
            "group": GROUP,
            "names": {
                "kind": KIND,
                "listKind": f"{KIND}List",
                "plural": PLURAL,
                "singular": KIND.lower(),
                "shortNames": SHORT_NAMES,
            },
            "scope": "Namespaced",
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": [
                        _column("Ready", "string", _condition("Ready", "status")),
                        _column("Reason", "string", _condition("Ready", "reason")),
                        _column("Decode", "string", ".status.decodeReady"),
                        _column("Prefill", "string", ".status.prefillReady"),
                        _column("Age", "date", ".metadata.creationTimestamp"),
                    ],
                    "schema": {
                        "openAPIV3Schema": {
                            "description": "ModelService serves one base model on Kubernetes.",
                            "type": "object",
                            "required": ["spec"],
                            "properties": {
                                "apiVersion": {"type": "string"},
                                "kind": {"type": "string"},
                                "metadata": {"type": "object"},
                                "spec": spec_schema(),
                                "status": status_schema(),
                            },
                        }
                    },
                }
            ],
        },
    }
