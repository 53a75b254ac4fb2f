"""`msctl dev`: developer tooling (the local control plane lives here)."""

import click


@click.group()
def dev() -> None:
    """Developer tooling: a local control plane for tests and demos."""
