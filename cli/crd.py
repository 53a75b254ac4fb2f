"""`msctl crd`: the ModelService CRD, generated from the API models."""

from __future__ import annotations

import click

from cli.output import dump
from ms_engine.api.crd import model_service_crd


@click.command()
def crd() -> None:
    """Print the ModelService CustomResourceDefinition (generated from the pydantic models)."""
    click.echo(dump([model_service_crd()], "yaml"), nl=False)
