"""Printing objects: multi-document YAML or one JSON array."""

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


def dump(objects: list[dict[str, Any]], output: str) -> str:
    if output == "json":
        return json.dumps(objects, indent=2) + "\n"
    return yaml.dump_all(
        objects, Dumper=_Dumper, sort_keys=False, default_flow_style=False, explicit_start=True
    )


def echo_objects(objects: list[dict[str, Any]], output: str) -> None:
    click.echo(dump(objects, output), nl=False)
