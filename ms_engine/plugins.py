"""Building the plugin manager, and calling hooks so that every result has a known author.

No module-level manager: every caller (CLI, controller, a test) builds its own.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Mapping
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any

import pluggy

from ms_engine import hookspecs
from ms_engine.model_source import ModelScheme, ModelSource
from ms_engine.problems import ModelServiceError, PluginError, Problem
from ms_engine.stage import Stage

ENTRY_POINT_GROUP = "modelservice.plugins"
ALLOW_ENV = "MODELSERVICE_PLUGINS"
"""Comma-separated entry-point names to load; unset loads all, empty loads none."""
TRACE_ENV = "MODELSERVICE_TRACE_PLUGINS"
"""Set to 1 to print every hook call, its arguments and results on standard error."""


class PluginManager(pluggy.PluginManager):
    """pluggy's manager, plus the entry points that failed to import.

    A broken plugin does not stop the others from loading, so `msctl plugins` can still list
    everything; rendering refuses to run while one is broken (`raise_load_errors`).
    """

    def __init__(self) -> None:
        super().__init__(hookspecs.PROJECT)
        self.load_errors: dict[str, str] = {}

    def raise_load_errors(self) -> None:
        if self.load_errors:
            raise PluginError("; ".join(self.load_errors.values()))


CORE_PLUGINS = frozenset({"core-stages", "core-checks"})
"""The engine's own plugins: an exception from them is an engine bug (an internal error), not
something to blame on a plugin."""


def core_plugins() -> list[tuple[str, ModuleType | object]]:
    """The engine's own hook implementations: the core stages and the wiring checks."""
    from ms_engine import checks, stages

    return [("core-stages", stages), ("core-checks", checks)]


def make_plugin_manager(
    *,
    load_entry_points: bool = True,
    plugins: Iterable[tuple[str, object]] = (),
    allow: Iterable[str] | None = None,
) -> PluginManager:
    """A ready plugin manager.

    `plugins` are registered after the entry points (tests pass the bundled plugins here with
    `load_entry_points=False`). `allow` limits entry points by name; None reads
    MODELSERVICE_PLUGINS. An allowed name no entry point has is an error.
    """
    manager = PluginManager()
    manager.add_hookspecs(hookspecs)
    for name, plugin in core_plugins():
        manager.register(plugin, name=name)
    if load_entry_points:
        _load_entry_points(manager, _allowed_names(allow))
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


def _load_entry_points(manager: PluginManager, allowed: set[str] | None) -> None:
    found = sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name)
    if allowed is not None:
        unknown = sorted(allowed - {entry.name for entry in found})
        if unknown:
            installed = ", ".join(sorted({entry.name for entry in found})) or "none"
            raise PluginError(
                f"{ALLOW_ENV} names {', '.join(repr(n) for n in unknown)}, which no installed "
                f"plugin provides (installed: {installed})"
            )
    for entry in found:
        if allowed is not None and entry.name not in allowed:
            continue
        if manager.has_plugin(entry.name) or entry.name in manager.load_errors:
            continue
        try:
            plugin = entry.load()
            manager.register(plugin, name=entry.name)
        except Exception as error:  # any import-time failure of someone else's code
            manager.load_errors[entry.name] = (
                f"plugin {entry.name!r} (entry point {entry.name} = {entry.value}) failed to "
                f"load: {type(error).__name__}: {error}"
            )


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


# -- calling hooks -----------------------------------------------------------------------------


def _is_iterable_of(kinds: tuple[type, ...]) -> Callable[[Any], bool]:
    def check(value: Any) -> bool:
        return (
            isinstance(value, Iterable)
            and not isinstance(value, str | bytes | Mapping)
            and all(isinstance(item, kinds) for item in value)
        )

    return check


def _is_router(value: Any) -> bool:
    return isinstance(getattr(value, "name", None), str) and callable(getattr(value, "build", None))


def _is_filters(value: Any) -> bool:
    return isinstance(value, Mapping) and all(
        isinstance(name, str) and callable(function) for name, function in value.items()
    )


_EXPECTED: dict[str, tuple[Callable[[Any], bool], str]] = {
    "ms_stages": (_is_iterable_of((Stage,)), "a list of Stage"),
    "ms_model_schemes": (_is_iterable_of((str, ModelScheme)), "a list of str or ModelScheme"),
    "ms_model_source": (lambda value: isinstance(value, ModelSource), "ModelSource"),
    "ms_template_vars": (lambda value: isinstance(value, Mapping), "a mapping"),
    "ms_template_filters": (_is_filters, "a mapping of name to function"),
    "ms_router": (_is_router, "a Router (name and build)"),
    "ms_validate": (_is_iterable_of((Problem,)), "a list of Problem"),
}
"""What each hook must return (None always means 'nothing from me')."""

_MATERIALIZE = frozenset({"ms_stages", "ms_model_schemes", "ms_validate"})
"""Hooks answering with an iterable: read it once (a generator) before checking its items."""


class PluginHooks:
    """Calls hooks through pluggy one plugin at a time, so each answer has a known author.

    Every call goes through the manager's hook machinery (tracing, wrappers, and pluggy passing
    only the arguments an implementation names). Plugins are asked in name order, never
    registration order. An exception from a plugin, or an answer of the wrong type, becomes a
    `PluginError` naming the plugin and the hook; a `RenderError` (`ms_engine.fail`) passes through
    as the input error it is.

    `hooks.ms_validate(context=c)` returns the non-None answers like pluggy does;
    `hooks.each("ms_validate", context=c)` returns `(plugin, answer)` pairs.
    """

    def __init__(self, manager: pluggy.PluginManager) -> None:
        self._manager = manager
        self._callers: dict[str, list[tuple[str, Any]]] = {}

    def implementers(self, hook: str) -> list[str]:
        return [plugin for plugin, _ in self._callers_of(hook)]

    def each(self, hook: str, **kwargs: Any) -> list[tuple[str, Any]]:
        answers: list[tuple[str, Any]] = []
        for plugin, caller in self._callers_of(hook):
            answer = self.call(plugin, hook, caller, kwargs)
            if answer is not None:
                answers.append((plugin, answer))
        return answers

    def only(self, plugin: str, hook: str, **kwargs: Any) -> Any:
        """The answer of one plugin (None when it has no implementation or answers None)."""
        for name, caller in self._callers_of(hook):
            if name == plugin:
                return self.call(plugin, hook, caller, kwargs)
        return None

    def __getattr__(self, hook: str) -> Callable[..., list[Any]]:
        if not hook.startswith("ms_"):
            raise AttributeError(hook)

        def call(**kwargs: Any) -> list[Any]:
            return [answer for _, answer in self.each(hook, **kwargs)]

        return call

    @staticmethod
    def call(plugin: str, hook: str, caller: Any, kwargs: Mapping[str, Any]) -> Any:
        kind = "None"
        try:
            answers = caller(**kwargs)
            answer = answers[0] if answers else None
            kind = type(answer).__name__
            if (
                hook in _MATERIALIZE
                and isinstance(answer, Iterable)
                and not isinstance(answer, str | bytes | Mapping)
            ):
                answer = list(answer)  # a generator runs here, inside the try
        except Exception as error:
            if isinstance(error, ModelServiceError) or plugin in CORE_PLUGINS:
                raise
            raise PluginError(
                f"plugin {plugin!r} (hook {hook}): raised {type(error).__name__}: {error}"
            ) from error
        if answer is not None and hook in _EXPECTED:
            valid, expected = _EXPECTED[hook]
            if not valid(answer):
                raise PluginError(
                    f"plugin {plugin!r} (hook {hook}): returned {kind}, expected {expected}"
                )
        return answer

    def _callers_of(self, hook: str) -> list[tuple[str, Any]]:
        cached = self._callers.get(hook)
        if cached is None:
            cached = self._callers[hook] = _per_plugin_callers(self._manager, hook)
        return cached


def _per_plugin_callers(manager: pluggy.PluginManager, hook: str) -> list[tuple[str, Any]]:
    """One hook caller per implementing plugin, in name order. Each keeps every wrapper, so a
    wrapper plugin still wraps each call."""
    impls = getattr(manager.hook, hook).get_hookimpls()
    answering = sorted(
        {impl.plugin_name for impl in impls if not (impl.wrapper or impl.hookwrapper)}
    )
    callers = []
    for name in answering:
        others = [
            impl.plugin
            for impl in impls
            if impl.plugin_name != name and not (impl.wrapper or impl.hookwrapper)
        ]
        callers.append((name, manager.subset_hook_caller(hook, remove_plugins=others)))
    return callers
