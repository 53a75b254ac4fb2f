"""The render pipeline: stages in an explicit order, built from the `ms_stages` hook.

Nothing depends on plugin registration order: core stages have fixed places, a plugin stage names
the stage it replaces or follows, each URI scheme has exactly one serving plugin (or one that
says it overrides the others), and hooks are asked plugin by plugin in name order.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import pluggy

from ms_engine.api.baseconfig import BaseConfig
from ms_engine.api.model_uri import URI_FIELD, parse_model_uri
from ms_engine.api.modelservice import ModelService
from ms_engine.context import RenderContext, RenderOptions
from ms_engine.model_source import ModelScheme
from ms_engine.names import ChildNames, sanitize
from ms_engine.plugins import CORE_PLUGINS, PluginHooks
from ms_engine.problems import ModelServiceError, PluginError, Reason, fail
from ms_engine.stage import Stage
from ms_engine.templating import TemplateEngine

StageWrapper = Callable[[str, Callable[[], None]], None]
"""Runs one stage: called with the stage's name and a function that runs it."""

CORE_STAGES: tuple[str, ...] = (
    "template",
    "merge",
    "model-source",
    "workload",
    "routing",
    "rbac",
    "validate",
    "apply",
)


def canonical_stage_name(name: str) -> str:
    """`model_source` and `model-source` name the same stage."""
    return name.strip().lower().replace("_", "-")


@dataclass(frozen=True)
class Pipeline:
    """An ordered list of stages plus the plugin manager their hooks come from."""

    stages: tuple[Stage, ...]
    manager: pluggy.PluginManager
    templates: TemplateEngine
    hooks: PluginHooks
    schemes: dict[str, str]
    """Each URI scheme and the one plugin that serves it."""

    @classmethod
    def build(cls, manager: pluggy.PluginManager) -> Pipeline:
        hooks = PluginHooks(manager)
        filters: dict[str, Callable[..., Any]] = {}
        owners: dict[str, str] = {}
        for plugin, found in hooks.each("ms_template_filters"):
            for name, function in found.items():
                if name in filters:
                    raise PluginError(
                        f"template filter {name!r} is defined by plugins {owners[name]!r} and "
                        f"{plugin!r}"
                    )
                filters[name], owners[name] = function, plugin
        return cls(_order(hooks), manager, TemplateEngine(filters), hooks, _scheme_owners(hooks))

    @property
    def stage_names(self) -> list[str]:
        return [stage.name for stage in self.stages]

    def stage(self, name: str) -> Stage:
        wanted = canonical_stage_name(name)
        for stage in self.stages:
            if stage.name == wanted:
                return stage
        raise KeyError(name)

    def new_context(
        self,
        model_service: ModelService,
        base_config: BaseConfig | None,
        options: RenderOptions | None = None,
    ) -> RenderContext:
        """A fresh context: names computed, the model source resolved by its plugin."""
        load_errors = getattr(self.manager, "load_errors", None)
        if load_errors:
            raise PluginError("; ".join(load_errors.values()))
        options = options or RenderOptions()
        if not sanitize(model_service.spec.routing.model_name):
            raise fail(
                "has no letter or digit, so it cannot become the llm-d.ai/model label",
                "spec.routing.modelName",
            )
        uri = parse_model_uri(model_service.spec.model_artifacts.uri)
        owner = self.schemes.get(uri.scheme)
        if owner is None:
            raise fail(
                f"no plugin serves the scheme {uri.scheme!r} (loaded schemes: "
                f"{', '.join(sorted(self.schemes)) or 'none'})",
                URI_FIELD,
                reason=Reason.UNKNOWN_MODEL_SOURCE,
            )
        source = self.hooks.only(
            owner, "ms_model_source", uri=uri, artifacts=model_service.spec.model_artifacts
        )
        if source is None:
            raise PluginError(
                f"plugin {owner!r} (hook ms_model_source): returned None for {uri.raw!r}, a URI "
                f"of its scheme {uri.scheme!r}"
            )
        context = RenderContext(
            model_service=model_service,
            base_config=base_config,
            options=options,
            hook=self.hooks,
            namespace=options.namespace or model_service.metadata.namespace or "default",
            names=ChildNames(model_service.name),
            uri=uri,
            model_source=source,
            spec=model_service.spec,
            templates=self.templates,
        )
        if base_config is not None:
            context.problems.extend(base_config.warnings)
        return context

    def run(
        self,
        context: RenderContext,
        *,
        until: str | None = None,
        start: str | None = None,
        around: StageWrapper | None = None,
    ) -> RenderContext:
        # `around(name, step)` must call `step()` once: the controller times stages with it
        # (the pipeline itself reads no clock).
        """Run every stage in order from the first (`template`), or stop after the stage named
        `until`. A fresh context always needs the whole prefix; `start` continues a context that
        an earlier `run(until=...)` brought to the stage before it (the controller renders
        until `validate`, looks at the warnings, then runs `apply`).

        A plugin's stage that raises anything but a `ModelServiceError` is reported as a
        `PluginError` naming the stage and the plugin that contributed it (the engine's own stages
        raise as they are: their bugs are internal errors).
        """
        last = canonical_stage_name(until) if until else None
        first = canonical_stage_name(start) if start else None
        for wanted, given in ((last, until), (first, start)):
            if wanted is not None and wanted not in self.stage_names:
                raise KeyError(given)
        stages = self.stages[self.stage_names.index(first) :] if first else self.stages
        for stage in stages:
            try:
                if around is None:
                    stage.run(context)
                else:
                    around(stage.name, functools.partial(stage.run, context))
            except Exception as error:
                if isinstance(error, ModelServiceError) or stage.provider in CORE_PLUGINS:
                    raise  # the engine's own stage: a bug, reported as an internal error
                raise PluginError(
                    f"stage {stage.name!r} (plugin {stage.provider!r}): raised "
                    f"{type(error).__name__}: {error}"
                ) from error
            if stage.name == last:
                break
        return context


def _scheme_owners(hooks: PluginHooks) -> dict[str, str]:
    """Scheme → the plugin serving it. Two claimants are an error unless one overrides the
    other (`ModelScheme(name, overrides=plugin)`)."""
    claims: dict[str, dict[str, str | None]] = {}
    for plugin, found in hooks.each("ms_model_schemes"):
        for item in found:
            claim = item if isinstance(item, ModelScheme) else ModelScheme(item)
            claims.setdefault(claim.name, {})[plugin] = claim.overrides
    owners: dict[str, str] = {}
    for scheme, claimants in sorted(claims.items()):
        overridden = {target for target in claimants.values() if target}
        left = sorted(plugin for plugin in claimants if plugin not in overridden)
        if len(left) != 1:
            raise PluginError(
                f"URI scheme {scheme!r} is served by plugins "
                f"{' and '.join(repr(p) for p in sorted(claimants))}; the one that should win "
                f"returns ModelScheme({scheme!r}, overrides=<the other plugin>) from "
                "ms_model_schemes"
            )
        owners[scheme] = left[0]
    served = set(owners.values()) | {p for c in claims.values() for p in c}
    for plugin in hooks.implementers("ms_model_source"):
        if plugin not in served:
            raise PluginError(
                f"plugin {plugin!r} implements ms_model_source but names no scheme with "
                "ms_model_schemes"
            )
    return owners


def _contributed(hooks: PluginHooks) -> list[Stage]:
    """Every stage any plugin offers, tagged with the plugin that offered it."""
    return [
        replace(stage, name=canonical_stage_name(stage.name), provider=plugin)
        for plugin, offered in hooks.each("ms_stages")
        for stage in offered
    ]


def _order(hooks: PluginHooks) -> tuple[Stage, ...]:
    contributed = _contributed(hooks)
    core: dict[str, Stage] = {}
    for stage in contributed:
        if stage.name in CORE_STAGES and not (stage.after or stage.replaces):
            if stage.name in core:  # else the later plugin would silently win
                raise PluginError(
                    f"stage {stage.name!r} is offered by {core[stage.name].provider} and "
                    f"{stage.provider}; a plugin takes a core stage's place with replaces="
                )
            core[stage.name] = stage
    missing = [name for name in CORE_STAGES if name not in core]
    if missing:
        raise PluginError(f"core stages missing: {', '.join(missing)}")

    replaced: dict[str, Stage] = {}
    inserted: list[Stage] = []
    for stage in contributed:
        if stage.replaces:
            target = canonical_stage_name(stage.replaces)
            if target == "routing":  # one way to replace routing: the ms_router hook
                raise PluginError(
                    f"stage {stage.name!r} ({stage.provider}) replaces 'routing': answer the "
                    "ms_router hook with a Router instead"
                )
            if target not in CORE_STAGES:
                raise PluginError(f"stage {stage.name!r} replaces unknown stage {stage.replaces!r}")
            if target in replaced:
                raise PluginError(
                    f"stages {replaced[target].name!r} ({replaced[target].provider}) and "
                    f"{stage.name!r} ({stage.provider}) both replace {target!r}"
                )
            replaced[target] = stage
        elif stage.after:
            if stage.name in CORE_STAGES:
                raise PluginError(f"stage {stage.name!r} ({stage.provider}) uses a core name")
            inserted.append(stage)
        elif stage.name not in CORE_STAGES:
            raise PluginError(
                f"stage {stage.name!r} ({stage.provider}) must say after= or replaces="
            )

    # A replacement runs under the core name, so `msctl stage routing` keeps its meaning.
    ordered: list[Stage] = [
        replace(replaced[name], name=name, replaces=None) if name in replaced else core[name]
        for name in CORE_STAGES
    ]
    names = [s.name for s in ordered]
    for stage in sorted(inserted, key=lambda s: s.name):
        if stage.name in names:
            raise PluginError(f"two stages are named {stage.name!r}")
        names.append(stage.name)

    pending = sorted(inserted, key=lambda s: s.name)
    while pending:
        progressed = False
        for stage in list(pending):
            current = [s.name for s in ordered]
            anchor = canonical_stage_name(stage.after or "")
            if anchor not in current:
                continue
            # After the anchor and after stages already placed behind it, so the order of
            # several plugins after one anchor is their names' order, never registration order.
            position = current.index(anchor) + 1
            while (
                position < len(ordered)
                and ordered[position].after
                and canonical_stage_name(ordered[position].after or "") == anchor
            ):
                position += 1
            ordered.insert(position, stage)
            pending.remove(stage)
            progressed = True
        if not progressed:
            raise PluginError(
                "stages placed after unknown stages: "
                + ", ".join(f"{s.name} (after {s.after})" for s in pending)
            )
    return tuple(ordered)
