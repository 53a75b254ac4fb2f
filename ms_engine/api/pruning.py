"""Accept a ModelService as the API server accepts it: unknown fields and nulls are dropped.

A ModelService written for the original controller may carry fields its CRD never had (say
`imagePullPolicy` on a container) or empty values (`env:`, `annotations:`); the API server prunes
both silently. Offline we do the same, with a warning for each unknown field so a typo is seen.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from ms_engine.api.validation import field_path
from ms_engine.problems import Problem, Reason, Severity

_MAX_ROUNDS = 64


def prune_like_the_api_server(
    model: type[BaseModel], document: dict[str, Any]
) -> tuple[dict[str, Any], tuple[Problem, ...]]:
    """`document` without the unknown fields and nulls the API server would drop, and a warning
    per unknown field. Other validation errors are left for the caller to report."""
    pruned: list[Problem] = []
    copied = False
    for _ in range(_MAX_ROUNDS):
        try:
            model.model_validate(document)
            break
        except ValidationError as error:
            removable = [
                found
                for found in error.errors(include_url=False)
                if found["type"] == "extra_forbidden"
                or (found["input"] is None and found["type"] != "missing")
            ]
            if not removable:
                break
            if not copied:
                document, copied = _deep_copy(document), True
            deleted = False
            for found in removable:
                location = tuple(p for p in found["loc"] if not str(p).startswith("function-"))
                if not _delete(document, location):
                    continue
                deleted = True
                if found["type"] == "extra_forbidden":
                    pruned.append(
                        Problem(
                            "unknown field, pruned (the API server drops it too)",
                            field_path(location),
                            severity=Severity.WARNING,
                            reason=Reason.INVALID_SPEC,
                        )
                    )
            if not deleted:
                break
    return document, tuple(pruned)


def _deep_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _deep_copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_deep_copy(item) for item in value]
    return value


def _delete(document: Any, location: tuple[int | str, ...]) -> bool:
    parent = document
    for part in location[:-1]:
        try:
            parent = parent[part]
        except (KeyError, IndexError, TypeError):
            return False
    if isinstance(parent, dict) and location and location[-1] in parent:
        del parent[location[-1]]
        return True
    return False
