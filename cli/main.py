"""Entry point of `msctl`."""

from __future__ import annotations

import os
import sys

import click

from cli.convert import convert
from cli.crd import crd
from cli.dev import dev
from cli.diff import diff
from cli.plugins import plugins
from cli.reconcile import reconcile
from cli.render import render, stage
from cli.run import run as run_command
from ms_engine import ModelServiceError

DEBUG_ENV = "MSCTL_DEBUG"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """msctl: render, inspect and run ModelService."""


main.add_command(render)
main.add_command(stage)
main.add_command(plugins)
main.add_command(crd)
main.add_command(dev)
main.add_command(reconcile)
main.add_command(diff)
main.add_command(run_command)
main.add_command(convert)


def run() -> None:
    """Console entry point; an error that escapes the commands still ends as one `error:` line."""
    try:
        main.main(prog_name="msctl", standalone_mode=True)
    except ModelServiceError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)
    except Exception as error:  # a bug: say so in one line unless asked for the traceback
        if os.environ.get(DEBUG_ENV):
            raise
        click.echo(
            f"error: internal error: {type(error).__name__}: {error} "
            f"(set {DEBUG_ENV}=1 for the traceback)",
            err=True,
        )
        sys.exit(1)
