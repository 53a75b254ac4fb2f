"""The shape of a rendered BaseConfig object, checked before any stage reads it.

The stages read and merge certain paths of a BaseConfig object (the pod spec, containers by name,
volumes by name, Service ports, labels, ...). A value of the wrong type there (`spec: 5`,
`containers: {}`, a label `version: 1`) or a keyed list that holds one key twice (two volumes
`shm`) is refused here with an error naming the BaseConfig key and the path, instead of failing
somewhere inside a stage. Only those paths are checked, so this costs little; the full schema
check of the output (`ms_engine.schema_check`) is the CLI's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ms_engine.api.validation import describe_value
from ms_engine.problems import Reason, RenderError, fail

Shape = Mapping[str, Any]
"""`{"type": "map", "properties": {...}}`, `{"type": "list", "items": shape, "key": "name"}`,
`{"type": "strmap"}` (string → string), `{"type": "str"}`, `{"type": "int"}`."""


def _map(**properties: Shape) -> Shape:
    return {"type": "map", "properties": properties}


def _list(items: Shape | None = None, key: str | None = None) -> Shape:
    return {"type": "list", "items": items or {"type": "map", "properties": {}}, "key": key}


STR: Shape = {"type": "str"}
INT: Shape = {"type": "int"}
STRMAP: Shape = {"type": "strmap"}
STRLIST: Shape = _list(STR)

METADATA = _map(name=STR, namespace=STR, labels=STRMAP, annotations=STRMAP, ownerReferences=_list())
CONTAINER = _map(
    name=STR,
    image=STR,
    command=STRLIST,
    args=STRLIST,
    env=_list(_map(name=STR), key="name"),
    envFrom=_list(),
    ports=_list(_map(containerPort=INT), key="containerPort"),
    volumeMounts=_list(_map(mountPath=STR), key="mountPath"),
    resources=_map(limits=_map(), requests=_map()),
)
POD_SPEC = _map(
    containers=_list(CONTAINER, key="name"),
    initContainers=_list(CONTAINER, key="name"),
    volumes=_list(_map(name=STR, configMap=_map(name=STR)), key="name"),
    imagePullSecrets=_list(_map(name=STR), key="name"),
    serviceAccountName=STR,
    affinity=_map(
        nodeAffinity=_map(
            requiredDuringSchedulingIgnoredDuringExecution=_map(
                nodeSelectorTerms=_list(_map(matchExpressions=_list()))
            )
        )
    ),
)
POD_OWNER = _map(
    metadata=METADATA,
    spec=_map(
        replicas=INT,
        selector=_map(matchLabels=STRMAP),
        template=_map(metadata=METADATA, spec=POD_SPEC),
    ),
)
SHAPES: Mapping[str, Shape] = {
    "Deployment": POD_OWNER,
    "StatefulSet": POD_OWNER,
    "Service": _map(
        metadata=METADATA,
        spec=_map(ports=_list(_map(port=INT), key="port"), selector=STRMAP),
    ),
    "ServiceAccount": _map(metadata=METADATA, imagePullSecrets=_list(key="name")),
    "ConfigMap": _map(metadata=METADATA, data=_map()),
    "InferencePool": _map(
        metadata=METADATA,
        spec=_map(
            selector=_map(),
            extensionRef=_map(),
            endpointPickerRef=_map(),
            targetPorts=_list(),
        ),
    ),
    "InferenceObjective": _map(metadata=METADATA, spec=_map(poolRef=_map())),
    "InferenceModel": _map(metadata=METADATA, spec=_map(poolRef=_map())),
    "HTTPRoute": _map(
        metadata=METADATA,
        spec=_map(
            parentRefs=_list(_map(name=STR), key="name"),
            rules=_list(_map(backendRefs=_list())),
        ),
    ),
}
_EXPECTED = {"map": "a mapping", "list": "a list", "strmap": "a mapping", "str": "a string"}


def check_fragment(where: str, document: Any, kind: str | None = None) -> None:
    """Raise a RenderError naming `where` (the BaseConfig key) and the path of the first value
    of the wrong shape or the first doubled key. `kind` applies when the document has none.

    A `null` on a checked path is removed (Kubernetes reads it as absent), so stages never meet
    `spec: null`; nothing else is changed."""
    if not isinstance(document, dict):
        return  # whether a mapping was due is the template stage's check
    shape = SHAPES.get(str(document.get("kind", kind)))
    if shape is not None:
        _walk(where, document, shape, "")


def _error(where: str, path: str, message: str) -> RenderError:
    return fail(f"{path}: {message}" if path else message, where, reason=Reason.INVALID_BASE_CONFIG)


def _walk(where: str, value: Any, shape: Shape, path: str) -> None:
    kind = shape["type"]
    if kind == "int":
        if not isinstance(value, int) or isinstance(value, bool):
            raise _error(where, path, f"must be an integer, got {describe_value(value)}")
        return
    if kind == "str":
        if not isinstance(value, str):
            raise _error(where, path, f"must be a string, got {describe_value(value)}")
        return
    if not isinstance(value, list if kind == "list" else dict):
        raise _error(where, path, f"must be {_EXPECTED[kind]}, got {describe_value(value)}")
    if kind == "strmap" and isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(item, str):
                raise _error(
                    where, f"{path}.{key}", f"must be a string, got {describe_value(item)}"
                )
        return
    if kind == "map" and isinstance(value, dict):
        for key, sub_shape in shape["properties"].items():
            if key in value:
                if value[key] is None:
                    del value[key]
                else:
                    _walk(where, value[key], sub_shape, f"{path}.{key}" if path else key)
        return
    if not isinstance(value, list):
        return
    seen: set[Any] = set()
    key_field = shape.get("key")
    for index, item in enumerate(value):
        if item is None:
            raise _error(where, f"{path}[{index}]", "must not be null")
        _walk(where, item, shape["items"], f"{path}[{index}]")
        if key_field is not None and isinstance(item, Mapping) and key_field in item:
            key = item[key_field]
            if key in seen:
                raise fail(f"{path} holds {key!r} twice", where, reason=Reason.INVALID_BASE_CONFIG)
            seen.add(key)


__all__ = ["SHAPES", "check_fragment"]
