"""User errors: one `error:` line on standard error, exit status 1, never a traceback."""

from __future__ import annotations

from typing import IO, Any

import click


class CliError(click.ClickException):
    """A user-facing failure of any command (render, dev, ...)."""

    exit_code = 1

    def show(self, file: IO[Any] | None = None) -> None:
        from ms_engine.problems import one_line  # here: `--help` must not load the engine

        click.echo(f"error: {one_line(self.format_message())}", file=file, err=True)
