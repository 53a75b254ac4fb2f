"""Entry point of `msctl`."""

import click

from cli.dev import dev


@click.group()
def main() -> None:
    """msctl: render, inspect and run ModelService."""


main.add_command(dev)
