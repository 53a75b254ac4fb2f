"""Check rendered objects against their schemas before `msctl render` prints them.

Built-in kinds are checked against Kubernetes' own OpenAPI schemas, the routing kinds against the
CRDs in deploy/crds/third-party; both come compacted in `schemas.json` (hack/gen_schemas.py writes
it, ~65 KB, read on first use in about 1 ms). A small interpreter reads the keywords those schemas
use, plus the API server's own checks that OpenAPI cannot say (replicas ≥ 0, every container has
an image, port numbers in range, RFC 1123 names).

- A value the API server refuses (wrong type, a required field missing, out of range, not in the
  enum) is an error: applying the output would fail.
- A field the kind does not have is a warning naming it (the API server drops it, or refuses it
  under strict field validation); a close match elsewhere is suggested.

Not part of the render pipeline: the controller applies with strict field validation and the API
server does the same checks, so this costs the controller nothing. The CLI calls it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from ms_engine.api.validation import describe_value
from ms_engine.problems import RENDER, Problem, Reason, Severity

SCHEMAS = Path(__file__).with_name("schemas.json")
_INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_POD_OWNERS = frozenset({"Deployment", "StatefulSet", "DaemonSet"})
_MAX_PROBLEMS = 20


@cache
def _bundle() -> dict[str, Any]:
    bundle: dict[str, Any] = json.loads(SCHEMAS.read_text(encoding="utf-8"))
    return bundle


@cache
def _pattern(text: str) -> re.Pattern[str] | None:
    try:
        return re.compile(text)
    except re.error:  # an ECMA/RE2 construct Python lacks: not checked rather than wrong
        return None


def kubernetes_version() -> str:
    """The Kubernetes version the built-in schemas come from."""
    return str(_bundle()["kubernetes"])


def has_schema(api_version: str, kind: str) -> bool:
    return f"{api_version} {kind}" in _bundle()["kinds"]


class _Checker:
    def __init__(self, where: str) -> None:
        self.where = where
        self.definitions: Mapping[str, Any] = _bundle()["definitions"]
        self.problems: list[Problem] = []

    def report(self, path: str, message: str, severity: Severity = Severity.ERROR) -> None:
        if len(self.problems) < _MAX_PROBLEMS:
            self.problems.append(
                Problem(
                    f"{path}: {message}" if path else message,
                    self.where,
                    severity=severity,
                    reason=Reason.INVALID_BASE_CONFIG,
                    document=RENDER,
                )
            )

    def resolve(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        seen = 0
        while "$ref" in schema and seen < 16:
            schema = {
                **self.definitions[schema["$ref"]],
                **{k: v for k, v in schema.items() if k != "$ref"},
            }
            seen += 1
        return schema

    def check(self, value: Any, schema: Mapping[str, Any], path: str) -> None:
        schema = self.resolve(schema)
        if value is None:
            return  # null is read as "absent" by the API server's decoding
        options = schema.get("oneOf") or schema.get("anyOf")
        if options and not any(self.matches_type(value, self.resolve(o)) for o in options):
            self.report(path, f"must be {_one_of(options, self)}, got {describe_value(value)}")
            return
        if not self.check_type(value, schema, path):
            return
        if "enum" in schema and value not in schema["enum"]:
            allowed = ", ".join(json.dumps(v) for v in schema["enum"][:8])
            self.report(path, f"must be one of {allowed}, got {describe_value(value)}")
        if isinstance(value, dict):
            self.check_object(value, schema, path)
        elif isinstance(value, list):
            self.check_bounds(len(value), schema, "minItems", "maxItems", path, "items")
            items = schema.get("items")
            if isinstance(items, Mapping):
                for index, item in enumerate(value):
                    self.check(item, items, f"{path}[{index}]")
        elif isinstance(value, str):
            self.check_bounds(len(value), schema, "minLength", "maxLength", path, "characters")
            pattern = _pattern(schema["pattern"]) if "pattern" in schema else None
            if pattern is not None and not pattern.search(value):
                self.report(path, f"{describe_value(value)} does not match {schema['pattern']}")
        elif isinstance(value, int | float) and not isinstance(value, bool):
            low, high = _INT_RANGES.get(str(schema.get("format")), (None, None))
            low = schema.get("minimum", low)
            high = schema.get("maximum", high)
            if (low is not None and value < low) or (high is not None and value > high):
                self.report(path, f"must be between {low} and {high}, got {value}")

    def check_type(self, value: Any, schema: Mapping[str, Any], path: str) -> bool:
        if schema.get("x-kubernetes-int-or-string"):
            if isinstance(value, str) or _is_int(value):
                return True
            self.report(path, f"must be an integer or a string, got {describe_value(value)}")
            return False
        if not self.matches_type(value, schema):
            self.report(path, f"must be {_type_words(schema)}, got {describe_value(value)}")
            return False
        return True

    @staticmethod
    def matches_type(value: Any, schema: Mapping[str, Any]) -> bool:
        if schema.get("x-kubernetes-int-or-string"):
            return isinstance(value, str) or _is_int(value)
        declared = schema.get("type")
        if declared is None:
            return True
        types = declared if isinstance(declared, list) else [declared]
        return any(_TYPE_TESTS.get(name, _any)(value) for name in types)

    def check_bounds(
        self, size: int, schema: Mapping[str, Any], low: str, high: str, path: str, unit: str
    ) -> None:
        if low in schema and size < schema[low]:
            self.report(path, f"must have at least {schema[low]} {unit}, has {size}")
        if high in schema and size > schema[high]:
            self.report(path, f"must have at most {schema[high]} {unit}, has {size}")

    def check_object(self, value: dict[str, Any], schema: Mapping[str, Any], path: str) -> None:
        properties: Mapping[str, Any] = schema.get("properties") or {}
        for name in schema.get("required") or ():
            if value.get(name) is None:
                self.report(_join(path, name), "is required")
        self.check_bounds(len(value), schema, "minProperties", "maxProperties", path, "entries")
        extra = schema.get("additionalProperties")
        open_ended = schema.get("x-kubernetes-preserve-unknown-fields") or (
            not properties and extra is None
        )
        for name, item in value.items():
            if name in properties:
                self.check(item, properties[name], _join(path, name))
            elif isinstance(extra, Mapping):
                self.check(item, extra, _join(path, name))
            elif not open_ended or extra is False:
                self.report(_join(path, name), self.unknown_field(name, path), Severity.WARNING)

    def unknown_field(self, name: str, path: str) -> str:
        message = "unknown field, the API server drops it"
        hint = _where_else(name, self.root_schema, "") if path == "" else None
        return f"{message} (did you mean {hint}?)" if hint else message

    root_schema: Mapping[str, Any] = {}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _any(value: Any) -> bool:
    return True


_TYPE_TESTS: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": _is_int,
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}
_TYPE_WORDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
}


def _type_words(schema: Mapping[str, Any]) -> str:
    declared = schema.get("type")
    types = declared if isinstance(declared, list) else [declared]
    return " or ".join(_TYPE_WORDS[t] for t in types if t in _TYPE_WORDS) or "something else"


def _one_of(options: Iterable[Mapping[str, Any]], checker: _Checker) -> str:
    return " or ".join(_type_words(checker.resolve(option)) for option in options)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _where_else(name: str, schema: Mapping[str, Any], path: str) -> str | None:
    """`type` at the top of a Service: `spec.type`. Looks one and two levels down."""
    properties: Mapping[str, Any] = schema.get("properties") or {}
    for child, sub in properties.items():
        sub_properties = _resolved_properties(sub)
        if name in sub_properties:
            return _join(_join(path, child), name)
    return None


def _resolved_properties(schema: Mapping[str, Any]) -> Mapping[str, Any]:
    definitions = _bundle()["definitions"]
    while "$ref" in schema:
        schema = definitions[schema["$ref"]]
    properties: Mapping[str, Any] = schema.get("properties") or {}
    return properties


def _pod_templates(body: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    spec = body.get("spec")
    template = spec.get("template") if isinstance(spec, Mapping) else None
    pod = template.get("spec") if isinstance(template, Mapping) else None
    if isinstance(pod, Mapping):
        yield "spec.template.spec", pod


def _server_rules(checker: _Checker, body: Mapping[str, Any]) -> None:
    """What the API server's validation refuses that the OpenAPI schema cannot say."""
    kind = body.get("kind")
    spec = body.get("spec") if isinstance(body.get("spec"), Mapping) else {}
    assert isinstance(spec, Mapping)
    if kind in _POD_OWNERS:
        replicas = spec.get("replicas")
        if isinstance(replicas, int) and replicas < 0:
            checker.report("spec.replicas", f"must be at least 0, got {replicas}")
        for path, pod in _pod_templates(body):
            _pod_rules(checker, path, pod)
    if kind == "Service":
        for index, port in enumerate(_mappings(spec.get("ports"))):
            where = f"spec.ports[{index}]"
            _port_rule(checker, f"{where}.port", port.get("port"), low=1)
            _port_rule(checker, f"{where}.nodePort", port.get("nodePort"), low=0)
            target = port.get("targetPort")
            if _is_int(target):
                _port_rule(checker, f"{where}.targetPort", target, low=1)


def _pod_rules(checker: _Checker, path: str, pod: Mapping[str, Any]) -> None:
    for list_name in ("initContainers", "containers"):
        for index, container in enumerate(_mappings(pod.get(list_name))):
            where = f"{path}.{list_name}[{index}]"
            name = container.get("name")
            if isinstance(name, str) and not (_DNS_LABEL.match(name) and len(name) <= 63):
                checker.report(f"{where}.name", f"{name!r} is not an RFC 1123 label")
            image = container.get("image")
            if image is None or image == "":
                checker.report(f"{where}.image", "is required (a container needs an image)")
            for port_index, port in enumerate(_mappings(container.get("ports"))):
                port_path = f"{where}.ports[{port_index}]"
                _port_rule(checker, f"{port_path}.containerPort", port.get("containerPort"), low=1)
                _port_rule(checker, f"{port_path}.hostPort", port.get("hostPort"), low=0)
    for index, volume in enumerate(_mappings(pod.get("volumes"))):
        name = volume.get("name")
        if isinstance(name, str) and not (_DNS_LABEL.match(name) and len(name) <= 63):
            checker.report(f"{path}.volumes[{index}].name", f"{name!r} is not an RFC 1123 label")


def _port_rule(checker: _Checker, path: str, value: Any, low: int) -> None:
    if _is_int(value) and not low <= value <= 65535:
        checker.report(path, f"must be between {low} and 65535, got {value}")


def _mappings(value: Any) -> list[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def check_object(body: Mapping[str, Any], where: str | None = None) -> list[Problem]:
    """Problems of one object; `where` names it (default `Kind/name`). Kinds without a bundled
    schema are not checked."""
    api_version, kind = body.get("apiVersion"), body.get("kind")
    metadata = body.get("metadata")
    name = metadata.get("name") if isinstance(metadata, Mapping) else None
    checker = _Checker(where or f"{kind}/{name}")
    schema = _bundle()["kinds"].get(f"{api_version} {kind}")
    if schema is not None:
        checker.root_schema = schema
        checker.check(body, schema, "")
    _server_rules(checker, body)
    return checker.problems


def check_objects(bodies: Iterable[Mapping[str, Any]]) -> list[Problem]:
    """Problems of every object, errors and warnings, in the objects' order."""
    problems: list[Problem] = []
    for body in bodies:
        problems.extend(check_object(body))
    return problems


__all__ = ["check_object", "check_objects", "has_schema", "kubernetes_version"]
