"""Building the plugin manager: hook specs, the engine's own plugins, then installed plugins.

No module-level manager: every caller (CLI, controller, a test) builds its own.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from importlib.metadata import entry_points
from types import ModuleType

import pluggy

from ms_engine import hookspecs
from ms_engine.problems import PluginError

ENTRY_POINT_GROUP = "modelservice.plugins"
ALLOW_ENV = "MODELSERVICE_PLUGINS"
"""Comma-separated entry-point names to load; unset loads all, empty loads none."""
TRACE_ENV = "MODELSERVICE_TRACE_PLUGINS"
"""Set to 1 to print every hook call, its arguments and results on standard error."""


def core_plugins() -> list[tuple[str, ModuleType | object]]:
    """The engine's own hook implementations: the core stages and the bundled router."""
    from ms_engine import checks, stages
    from ms_engine.stages import routing

    return [("core-stages", stages), ("gie-router", routing.GIE_ROUTER), ("core-checks", checks)]


def make_plugin_manager(
    *,
    load_entry_points: bool = True,
    plugins: Iterable[tuple[str, object]] = (),
    allow: Iterable[str] | None = None,
) -> pluggy.PluginManager:
    """A ready plugin manager.

    `plugins` are registered after the entry points (tests pass the bundled plugins here with
    `load_entry_points=False`). `allow` limits entry points by name; None reads
    MODELSERVICE_PLUGINS.
    """
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    for name, plugin in core_plugins():
        manager.register(plugin, name=name)
    if load_entry_points:
        allowed = _allowed_names(allow)
        for entry in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            if allowed is not None and entry.name not in allowed:
                continue
            if manager.has_plugin(entry.name):
                continue
            try:
                plugin = entry.load()
            except Exception as error:
                raise PluginError(
                    f"plugin {entry.name} ({entry.value}) failed to load: {error}"
                ) from error
            manager.register(plugin, name=entry.name)
    for name, plugin in plugins:
        manager.register(plugin, name=name)
    try:
        manager.check_pending()
    except pluggy.PluginValidationError as error:
        raise PluginError(str(error)) from None
    if os.environ.get(TRACE_ENV) == "1":
        manager.trace.root.setwriter(sys.stderr.write)
        manager.enable_tracing()
    return manager


def _allowed_names(allow: Iterable[str] | None) -> set[str] | None:
    if allow is not None:
        return set(allow)
    raw = os.environ.get(ALLOW_ENV)
    if raw is None:
        return None
    return {name.strip() for name in raw.split(",") if name.strip()}


def plugin_hooks(manager: pluggy.PluginManager) -> list[tuple[str, list[str]]]:
    """Each registered plugin with the hooks it implements, in registration order."""
    result = []
    for name, plugin in manager.list_name_plugin():
        hooks = sorted(
            caller.name
            for caller in manager.get_hookcallers(plugin) or []
            if caller.name.startswith("ms_")
        )
        result.append((name, hooks))
    return result
