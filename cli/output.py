"""Printing objects: multi-document YAML, or JSON as a `v1` `List` that `kubectl apply -f` takes."""

from __future__ import annotations

import json
from typing import Any

import click
import yaml

try:
    _BaseDumper: Any = yaml.CSafeDumper
except AttributeError:  # pragma: no cover - libyaml missing
    _BaseDumper = yaml.SafeDumper


class _Dumper(_BaseDumper):  # type: ignore[misc]
    """Never write YAML anchors: a reader of `msctl render` wants every object spelled out."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _string(dumper: Any, value: str) -> Any:
    """Multi-line strings (configs, scripts) as `|` blocks, as a person would write them."""
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _string)


FORMATS = ("yaml", "json")
_YAML_STYLE: dict[str, Any] = {"sort_keys": False, "default_flow_style": False}


def as_list(objects: list[dict[str, Any]]) -> dict[str, Any]:
    """The objects as one `v1` `List`: what `kubectl get -o json` prints, `kubectl apply` reads."""
    return {"apiVersion": "v1", "kind": "List", "items": objects}


def dump(objects: list[dict[str, Any]], output: str, labels: list[str] | None = None) -> str:
    """`labels` (YAML only): a comment above each document, saying where it comes from."""
    if output == "json":
        return json.dumps(as_list(objects), indent=2) + "\n"
    if labels is None:
        text: str = yaml.dump_all(objects, Dumper=_Dumper, explicit_start=True, **_YAML_STYLE)
        return text
    return "".join(
        f"---\n# {label}\n" + yaml.dump(body, Dumper=_Dumper, **_YAML_STYLE)
        for body, label in zip(objects, labels, strict=True)
    )


def echo_objects(
    objects: list[dict[str, Any]], output: str, labels: list[str] | None = None
) -> None:
    click.echo(dump(objects, output, labels), nl=False)
