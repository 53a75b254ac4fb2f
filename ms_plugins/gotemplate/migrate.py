"""Rewrite documents written for the original controller into the core Jinja2 dialect.

A Go-dialect BaseConfig (stated by its annotation, or recognised) gets every data value
translated and the annotation `modelservice.llm-d.ai/template-dialect: jinja`; a ModelService gets
its Go-template container args translated. Anything else is returned unchanged. A converted
BaseConfig is also marked `modelservice.llm-d.ai/decoding: typed`, so its objects are still read as
the original read them (ms_engine.typed_decoding: unknown fields dropped, env values strings).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from ms_plugins.gotemplate import DIALECT, NAME
from ms_plugins.gotemplate.jinja import to_jinja
from ms_plugins.gotemplate.syntax import GoTemplateError

DIALECT_ANNOTATION = "modelservice.llm-d.ai/template-dialect"
DECODING_ANNOTATION = "modelservice.llm-d.ai/decoding"

_ROLE_SECTIONS = ("decode", "prefill", "endpointPicker")


@dataclass
class Untranslatable(Exception):
    """Where (`data.KEY` or a ModelService field), the template line, and why."""

    where: str
    line: int | None
    message: str

    def __str__(self) -> str:
        line = f": line {self.line}" if self.line is not None else ""
        return f"{self.where}{line}: {self.message}"


def is_go_base_config(document: dict[str, Any]) -> bool:
    annotations = (document.get("metadata") or {}).get("annotations") or {}
    stated = annotations.get(DIALECT_ANNOTATION)
    if stated is not None:
        return bool(stated == NAME)
    data = document.get("data") or {}
    return any(isinstance(v, str) and DIALECT.recognises(v) for v in data.values())


def convert_document(document: Any) -> Any:
    """The Jinja2 form of one document (unchanged when it has no Go templates)."""
    if not isinstance(document, dict):
        return document
    if document.get("kind") == "ConfigMap" and is_go_base_config(document):
        return _convert_base_config(document)
    if document.get("kind") == "ModelService":
        return _convert_model_service(document)
    return document


def _translate(where: str, source: str) -> str:
    try:
        return to_jinja(source)
    except GoTemplateError as error:
        raise Untranslatable(where, error.line, error.message) from None


def _convert_base_config(document: dict[str, Any]) -> dict[str, Any]:
    converted = copy.deepcopy(document)
    data = converted.get("data") or {}
    for key, value in data.items():
        if isinstance(value, str):
            data[key] = _translate(f"data.{key}", value)
    metadata = converted.setdefault("metadata", {})
    annotations = metadata.get("annotations") or {}
    annotations[DIALECT_ANNOTATION] = "jinja"
    annotations[DECODING_ANNOTATION] = "typed"  # still read as the original read it
    metadata["annotations"] = annotations
    return converted


def _convert_model_service(document: dict[str, Any]) -> dict[str, Any]:
    converted = copy.deepcopy(document)
    spec = converted.get("spec") or {}
    changed = False
    for section in _ROLE_SECTIONS:
        for list_name in ("containers", "initContainers"):
            containers = (spec.get(section) or {}).get(list_name) or []
            for index, container in enumerate(containers):
                args = container.get("args") if isinstance(container, dict) else None
                if not args or not any(DIALECT.recognises(str(arg)) for arg in args):
                    continue
                container["args"] = [
                    _translate(f"spec.{section}.{list_name}[{index}].args[{n}]", str(arg))
                    for n, arg in enumerate(args)
                ]
                changed = True
    if changed:  # its args are Jinja2 now, whatever the BaseConfig's dialect
        metadata = converted.setdefault("metadata", {})
        metadata["annotations"] = {**(metadata.get("annotations") or {}),
                                   DIALECT_ANNOTATION: "jinja"}  # fmt: skip
    return converted
