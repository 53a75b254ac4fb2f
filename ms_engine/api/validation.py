"""Turn pydantic's validation errors into one Problem naming the field as users write it."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from ms_engine.api.modelservice import DNS_LABEL, DNS_SUBDOMAIN, ModelService
from ms_engine.problems import Problem, Reason, RenderError

_PATTERNS = {
    DNS_SUBDOMAIN: "must be a lowercase RFC 1123 name: a-z, 0-9, '-', '.', alphanumeric ends",
    DNS_LABEL: "must be a lowercase RFC 1123 label: a-z, 0-9, '-', alphanumeric ends",
}

_FRIENDLIER = {
    "extra_forbidden": "unknown field",
    "missing": "is required",
}

_EXPECTED = {
    "int_type": "an integer",
    "int_from_float": "an integer",
    "bool_type": "true or false",
    "string_type": "a string",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}
_BOUNDS = {
    "greater_than_equal": ("at least", "ge"),
    "less_than_equal": ("at most", "le"),
    "greater_than": ("more than", "gt"),
    "less_than": ("less than", "lt"),
}


def describe_value(value: Any) -> str:
    """A short, YAML-like rendering of a value a user wrote, for `got ...` in messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:40] + "...")
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def field_path(location: tuple[int | str, ...]) -> str:
    """`('spec', 'decode', 'containers', 0, 'name')` → `spec.decode.containers[0].name`."""
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def problem_from(error: ValidationError) -> Problem:
    first = error.errors(include_url=False)[0]
    location = tuple(
        part
        for part in first["loc"]
        if not (isinstance(part, str) and part.startswith("function-"))
    )
    kind = first["type"]
    message = _FRIENDLIER.get(kind, first["msg"])
    if kind in _EXPECTED:
        message = f"must be {_EXPECTED[kind]}, got {describe_value(first['input'])}"
    if kind in _BOUNDS:
        words, key = _BOUNDS[kind]
        limit = (first.get("ctx") or {}).get(key)
        message = f"must be {words} {limit}, got {describe_value(first['input'])}"
    if message.startswith("Value error, "):
        message = message.removeprefix("Value error, ")
    if kind == "string_pattern_mismatch":
        pattern = str((first.get("ctx") or {}).get("pattern"))
        message = _PATTERNS.get(pattern, message) + f" (got {first['input']!r})"
    if kind == "literal_error":
        message = f"{message} (got {first['input']!r})"
    return Problem(message, field_path(location), reason=Reason.INVALID_SPEC)


def load_model_service(document: Any) -> ModelService:
    """Validate a decoded document as a ModelService, or raise a RenderError naming the field."""
    if not isinstance(document, dict):
        raise RenderError(Problem("a ModelService must be a mapping", reason=Reason.INVALID_SPEC))
    from ms_engine.api.pruning import prune_like_the_api_server

    document, pruned = prune_like_the_api_server(ModelService, document)
    try:
        model = ModelService.model_validate(document)
    except ValidationError as error:
        raise RenderError(problem_from(error)) from None
    model._pruned = pruned
    return model
