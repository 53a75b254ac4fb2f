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
    message = _FRIENDLIER.get(first["type"], first["msg"])
    if message.startswith("Value error, "):
        message = message.removeprefix("Value error, ")
    if first["type"] == "string_pattern_mismatch":
        pattern = str((first.get("ctx") or {}).get("pattern"))
        message = _PATTERNS.get(pattern, message) + f" (got {first['input']!r})"
    if first["type"] == "literal_error":
        message = f"{message} (got {first['input']!r})"
    return Problem(message, field_path(location), reason=Reason.INVALID_SPEC)


def load_model_service(document: Any) -> ModelService:
    """Validate a decoded document as a ModelService, or raise a RenderError naming the field."""
    if not isinstance(document, dict):
        raise RenderError(Problem("a ModelService must be a mapping", reason=Reason.INVALID_SPEC))
    try:
        return ModelService.model_validate(document)
    except ValidationError as error:
        raise RenderError(problem_from(error)) from None
