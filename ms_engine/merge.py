"""Strategic merge of a ModelService overlay onto a BaseConfig object.

The merge keys are declared as a schema in jsonmerge's vocabulary (`mergeStrategy`,
`mergeOptions.idRef`, `properties`, `items`), so the rules read like data and the property tests
can check this module against jsonmerge itself. We interpret the schema here instead of calling
jsonmerge at render time: jsonmerge resolves JSON pointers through jsonschema on every step and
costs about 1 ms per Deployment merge on this machine, a third of the whole render budget.

Rules (DESIGN §5): mappings merge key by key and a present overlay value wins (also 0, false,
""); lists of named things merge by key; other lists are replaced whole; container `args` merge
flag by flag (`ms_engine.flags.merge_args`): an overlay flag replaces the base's in place.

The result may share untouched sub-objects with `base` and `head`; neither input is modified.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ms_engine.flags import merge_args

Schema = Mapping[str, Any]

OVERWRITE = "overwrite"
BY_KEY = "arrayMergeById"
FLAGS = "flagAware"
"""Command-line args: overlay flags replace the base's in place (see `ms_engine.flags`)."""


class DuplicateKey(ValueError):
    """A keyed list holds the same key twice; `path` says where (`spec.template...containers`)."""

    def __init__(self, path: str, key: object) -> None:
        super().__init__(f"{path} holds {key!r} twice")
        self.path = path
        self.key = key


def keyed(key: str, items: Schema | None = None) -> dict[str, Any]:
    """Schema of a list merged by `key`; matched items merge by `items` (default: key by key)."""
    schema: dict[str, Any] = {"mergeStrategy": BY_KEY, "mergeOptions": {"idRef": key}}
    if items is not None:
        schema["items"] = items
    return schema


REPLACE_ITEM: Schema = {"mergeStrategy": OVERWRITE}

CONTAINER: Schema = {
    "properties": {
        "args": {"mergeStrategy": FLAGS},
        "env": keyed("name", REPLACE_ITEM),
        "volumeMounts": keyed("mountPath", REPLACE_ITEM),
        "ports": keyed("containerPort"),
    }
}

POD_SPEC: Schema = {
    "properties": {
        "containers": keyed("name", CONTAINER),
        "initContainers": keyed("name", CONTAINER),
        "volumes": keyed("name", REPLACE_ITEM),
        "imagePullSecrets": keyed("name"),
    }
}

POD_TEMPLATE_OWNER: Schema = {
    "properties": {"spec": {"properties": {"template": {"properties": {"spec": POD_SPEC}}}}}
}

SERVICE: Schema = {"properties": {"spec": {"properties": {"ports": keyed("port")}}}}

HTTP_ROUTE: Schema = {
    "properties": {"spec": {"properties": {"parentRefs": keyed("name", REPLACE_ITEM)}}}
}

SERVICE_ACCOUNT: Schema = {"properties": {"imagePullSecrets": keyed("name")}}

SCHEMA_BY_KIND: Mapping[str, Schema] = {
    "Deployment": POD_TEMPLATE_OWNER,
    "StatefulSet": POD_TEMPLATE_OWNER,
    "Service": SERVICE,
    "HTTPRoute": HTTP_ROUTE,
    "ServiceAccount": SERVICE_ACCOUNT,
}


def schema_for(kind: str | None) -> Schema:
    """The merge schema of a kind; kinds without keyed lists merge by plain mapping rules."""
    return SCHEMA_BY_KIND.get(kind or "", {})


def merge(base: Any, head: Any, schema: Schema | None = None, path: str = "") -> Any:
    """Overlay `head` onto `base` following `schema`. Raises DuplicateKey on a doubled key."""
    schema = schema or {}
    strategy = schema.get("mergeStrategy")
    if strategy == OVERWRITE:
        return head
    if strategy == BY_KEY and isinstance(base, list) and isinstance(head, list):
        return _merge_by_key(base, head, schema, path)
    if strategy == FLAGS and isinstance(base, list) and isinstance(head, list):
        return merge_args([str(word) for word in base], [str(word) for word in head])
    if isinstance(base, dict) and isinstance(head, dict):
        properties: Mapping[str, Schema] = schema.get("properties", {})
        merged = dict(base)
        for key, value in head.items():
            if key in merged:
                sub_path = f"{path}.{key}" if path else key
                merged[key] = merge(merged[key], value, properties.get(key), sub_path)
            else:
                merged[key] = _fresh(value, properties.get(key), f"{path}.{key}" if path else key)
        return merged
    return head


def _fresh(value: Any, schema: Schema | None, path: str) -> Any:
    """A value the base lacks: taken as is, but its keyed lists are still checked for doubles."""
    if not schema:
        return value
    if isinstance(value, dict) and "properties" in schema:
        return merge({}, value, schema, path)
    if isinstance(value, list) and schema.get("mergeStrategy") == BY_KEY:
        return _merge_by_key([], value, schema, path)
    if isinstance(value, list) and schema.get("mergeStrategy") == FLAGS:
        return merge_args([], [str(word) for word in value])  # the same order a merge gives
    return value


def _merge_by_key(base: list[Any], head: list[Any], schema: Schema, path: str) -> list[Any]:
    id_ref: str = schema["mergeOptions"]["idRef"]
    item_schema: Schema = schema.get("items", {})
    merged = list(base)
    position: dict[Any, int] = {}
    for index, item in enumerate(merged):
        if isinstance(item, dict) and id_ref in item:
            if item[id_ref] in position:
                raise DuplicateKey(path, item[id_ref])
            position[item[id_ref]] = index
    seen_in_head: set[Any] = set()
    for item in head:
        key = item.get(id_ref) if isinstance(item, dict) else None
        if key is None:
            merged.append(_fresh(item, item_schema, path))
            continue
        if key in seen_in_head:
            raise DuplicateKey(path, key)
        seen_in_head.add(key)
        if key in position:
            index = position[key]
            merged[index] = merge(merged[index], item, item_schema, f"{path}[{id_ref}={key}]")
        else:
            position[key] = len(merged)
            merged.append(_fresh(item, item_schema, f"{path}[{id_ref}={key}]"))
    return merged
