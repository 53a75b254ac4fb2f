"""`msctl plugins`: the stages in order, each plugin with the hooks it implements, and the
plugins that failed to load (rendering refuses to run while one is broken)."""

from __future__ import annotations

import json

import click

from .app import App, pass_app


@click.command()
@click.option("-o", "--output", type=click.Choice(("text", "json")), default="text")
@pass_app
def plugins(app: App, /, output: str) -> None:
    """List the pipeline's stages in order and the loaded plugins with their hooks."""
    from ms_engine import ModelScheme
    from ms_engine.plugins import plugin_hooks

    pipeline = app.renderer.pipeline
    manager = app.renderer.manager
    schemes = {
        plugin: [s.name if isinstance(s, ModelScheme) else s for s in found]
        for plugin, found in pipeline.hooks.each("ms_model_schemes")
    }
    loaded = [
        {"name": name, "hooks": hooks, "schemes": schemes.get(name, [])}
        for name, hooks in plugin_hooks(manager)
    ]
    broken = dict(getattr(manager, "load_errors", {}))
    stages = [
        {"name": s.name, "plugin": s.provider, "description": s.description}
        for s in pipeline.stages
    ]
    if output == "json":
        click.echo(json.dumps({"stages": stages, "plugins": loaded, "broken": broken}, indent=2))
        return
    click.echo("stages:")
    for number, stage in enumerate(stages, start=1):
        click.echo(f"  {number}. {stage['name']:<13} {stage['plugin']:<14} {stage['description']}")
    click.echo("plugins:")
    for plugin in loaded:
        extra = f"  (schemes: {', '.join(plugin['schemes'])})" if plugin["schemes"] else ""
        click.echo(f"  {plugin['name']:<14} {', '.join(plugin['hooks'])}{extra}")
    for error in broken.values():
        click.echo(f"  broken: {error}")
