"""`msctl convert`: rewrite a BaseConfig (and ModelService args) from Go templates to Jinja2."""

from __future__ import annotations

from typing import Any

import click
import yaml

from ms_plugins.gotemplate.migrate import Untranslatable, convert_document

from .errors import CliError
from .inputs import read_documents


class _BlockDumper(yaml.SafeDumper):
    """Multi-line strings (templates) as `|` blocks, so the result reads like the input."""


def _string(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _string)


def dump(documents: list[Any]) -> str:
    return yaml.dump_all(
        documents, Dumper=_BlockDumper, sort_keys=False, default_flow_style=False, width=100
    )


@click.command()
@click.option(
    "-f",
    "--filename",
    "path",
    required=True,
    metavar="OLD.yaml",
    help="BaseConfig and/or ModelService written for the original (`-`: stdin).",
)
def convert(path: str) -> None:
    """Rewrite Go-template BaseConfigs (and ModelService args) into the Jinja2 dialect.

    Prints every document of the file, converted ones marked
    `modelservice.llm-d.ai/template-dialect: jinja`; fails naming what it cannot translate.
    """
    source = read_documents(path)
    try:
        converted = [convert_document(document) for document in source.documents]
    except Untranslatable as error:
        raise CliError(f"{source.label}: {error}") from None
    click.echo(dump(converted), nl=False)
