"""Shared pieces of the API models: camelCase names, Kubernetes quantities, free-form objects."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema
from pydantic.alias_generators import to_camel

INT32_MAX = 2**31 - 1

Int32 = Annotated[int, Field(ge=-(2**31), le=INT32_MAX, json_schema_extra={"format": "int32"})]
"""An integer the API server stores as int32 (replicas, counts)."""
NonNegativeInt32 = Annotated[int, Field(ge=0, le=INT32_MAX, json_schema_extra={"format": "int32"})]
PositiveInt32 = Annotated[int, Field(ge=1, le=INT32_MAX, json_schema_extra={"format": "int32"})]
PortNumber = Annotated[int, Field(ge=1, le=65535, json_schema_extra={"format": "int32"})]

# The Kubernetes resource.Quantity grammar, loosely: a signed decimal and an optional suffix.
_QUANTITY = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+|[KMGTPE]i|[numkMGTPE])?$")


def _check_quantity(value: int | str) -> int | str:
    if isinstance(value, str) and not _QUANTITY.match(value):
        raise ValueError(f"{value!r} is not a Kubernetes quantity (like 10Gi, 500M or 2)")
    return value


Quantity = Annotated[
    int | str,
    AfterValidator(_check_quantity),
    WithJsonSchema(
        {
            "anyOf": [{"type": "integer"}, {"type": "string"}],
            "x-kubernetes-int-or-string": True,
        }
    ),
]
"""A Kubernetes quantity such as `10Gi`: integer or string, checked against the grammar."""

FreeForm = Annotated[
    dict[str, Any],
    WithJsonSchema({"type": "object", "x-kubernetes-preserve-unknown-fields": True}),
]
"""A Kubernetes sub-object we pass through untouched (valueFrom, envFrom entries, ...)."""


def new_list() -> list[Any]:
    """A fresh empty list: `Field(default_factory=new_list)` rather than `list`, whose signature
    pydantic can only get by parsing its text signature, which compiles tokenize's regexes
    (about 2 ms of every `msctl render`)."""
    return []


class ApiModel(BaseModel):
    """Base of every spec model: camelCase on the wire, unknown fields rejected (typos).

    `defer_build`: a model's validator is built on first use, once, inside the model that uses
    it, and models a command never uses (the status, for a render) are never built: this is a
    good part of `msctl render`'s start-up time.
    """

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        defer_build=True,
    )

    def to_wire(self) -> dict[str, Any]:
        """The camelCase dict a user would write, without unset fields."""
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")


class SpecModel(ApiModel):
    """Base of the spec models: strict types, as the API server reads them. `replicas: "1"` and
    `replicas: true` are errors (lax validation would turn them into 1), and so is
    `decoupleScaling: "yes"`."""

    model_config = ConfigDict(strict=True)
