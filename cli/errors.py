"""User errors: one `error:` line on standard error, exit status 1, never a traceback."""

from __future__ import annotations

from typing import IO, Any

import click

from ms_engine.problems import one_line


class CliError(click.ClickException):
    exit_code = 1

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"error: {one_line(self.format_message())}", err=True)
