"""Entry point of `msctl`.

Commands load lazily (click's "lazily loading subcommands"): `msctl --help` imports no command
module, and a command imports only what it runs, so `msctl dev` never loads the engine and
`msctl render` never loads the local control plane launcher or the controller.
"""

from __future__ import annotations

import gc
import importlib
import os
import sys

import click

DEBUG_ENV = "MSCTL_DEBUG"
PYDANTIC_PLUGINS_ENV = "PYDANTIC_DISABLE_PLUGINS"
DISTRIBUTION = "modelservice"

COMMANDS: dict[str, tuple[str, str]] = {
    "render": (
        ".render:render",
        "Print every object a ModelService needs, in apply order, after checking each against "
        "its schema (Kubernetes' for built-in kinds, the bundled CRDs' for the others).",
    ),
    "stage": (".render:stage", "Run the pipeline up to STAGE and print what it holds then."),
    "plugins": (
        ".plugins:plugins",
        "List the pipeline's stages in order and the loaded plugins with their hooks.",
    ),
    "crd": (
        ".crd:crd",
        "Print the ModelService CustomResourceDefinition (generated from the pydantic models).",
    ),
    "reconcile": (
        ".reconcile:reconcile",
        "Reconcile ModelService NAME once: apply, prune, write status.",
    ),
    "diff": (
        ".diff:diff",
        "Show what reconciling ModelService NAME (or the one in -f) would change in the cluster.",
    ),
    "run": (
        ".run:run",
        "Run the controller: keep every ModelService reconciled until SIGTERM or Ctrl-C.",
    ),
    "convert": (
        ".convert:convert",
        "Rewrite Go-template BaseConfigs (and ModelService args) into the Jinja2 dialect.",
    ),
    "dev": (".dev:dev", "Developer tooling: a local control plane for tests and demos."),
}
"""Command name -> (where it lives, the first line of its help). A test checks each line against
the command's own help, so `msctl --help` lists the commands without importing them."""

LONG_RUNNING = frozenset({"run", "dev"})
"""Commands that may run for hours (the controller, a local plane): they turn the cyclic garbage
collector back on, which `run` pauses for every other, short-lived, command."""


class LazyGroup(click.Group):
    """A group whose commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*super().list_commands(ctx), *COMMANDS]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return super().get_command(ctx, cmd_name)
        if cmd_name in LONG_RUNNING:
            gc.enable()
        module_name, _, attribute = COMMANDS[cmd_name][0].partition(":")
        command = getattr(importlib.import_module(module_name, __package__), attribute)
        assert isinstance(command, click.Command), COMMANDS[cmd_name]
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        limit = formatter.width - 6 - max(len(name) for name in COMMANDS)
        rows = [
            (name, click.Command(name, help=short_help).get_short_help_str(limit))
            for name, (_, short_help) in COMMANDS.items()
        ]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name=DISTRIBUTION, prog_name="msctl")
def main() -> None:
    """msctl: render, inspect and run ModelService."""


def run() -> None:
    """Console entry point; an error that escapes the commands still ends as one `error:` line.

    The cyclic garbage collector is paused until a LONG_RUNNING command turns it back on: start-up
    (hundreds of modules, pydantic models, compiled templates) makes many objects and few cycles,
    and the collector's passes over them were 3 % of `msctl render`. Reference counting still
    frees what a short command drops.

    Pydantic's own plugins (validation observability) are off unless PYDANTIC_DISABLE_PLUGINS is
    set: looking for them reads the entry points of every installed distribution, a second scan
    after ours, 10 % of `msctl render` in an environment with a hundred and fifty packages.
    """
    gc.disable()
    os.environ.setdefault(PYDANTIC_PLUGINS_ENV, "__all__")
    try:
        main.main(prog_name="msctl", standalone_mode=True)
    except Exception as error:
        if _is_engine_error(error):
            click.echo(f"error: {error}", err=True)
            sys.exit(1)
        if os.environ.get(DEBUG_ENV):  # a bug: say so in one line unless asked for the traceback
            raise
        click.echo(
            f"error: internal error: {type(error).__name__}: {error} "
            f"(set {DEBUG_ENV}=1 for the traceback)",
            err=True,
        )
        sys.exit(1)


def _is_engine_error(error: Exception) -> bool:
    """A ModelServiceError, checked without importing the engine (loaded if it raised one)."""
    problems = sys.modules.get("ms_engine.problems")
    return problems is not None and isinstance(error, problems.ModelServiceError)
