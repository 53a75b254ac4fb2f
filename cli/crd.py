"""`msctl crd`: the ModelService CRD, generated from the API models."""

from __future__ import annotations

import click


@click.command()
def crd() -> None:
    """Print the ModelService CustomResourceDefinition (generated from the pydantic models)."""
    from ms_engine.api.crd import model_service_crd

    from .output import dump

    click.echo(dump([model_service_crd()], "yaml"), nl=False)
