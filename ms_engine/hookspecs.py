"""The plugin contract: every hook a ModelService plugin may implement.

Plugins register through the entry-point group `modelservice.plugins` and mark implementations
with `ms_engine.hookimpl`. pluggy passes an implementation only the arguments it names, so a hook
may gain arguments without breaking plugins. The engine calls every hook through pluggy, one
plugin at a time in name order (`ms_engine.plugins.PluginHooks`), so an exception or a wrong
answer is reported naming the plugin and the hook, and registration order never decides anything.

Hooks by phase, in the order a render calls them:

1. building the pipeline: `ms_stages`
2. the model source (before templates): `ms_model_schemes`, `ms_model_source`
3. templates: `ms_template_vars`, `ms_template_filters`, `ms_template_dialects`
4. routing: `ms_router`
5. checks, after every object is built: `ms_validate`

See docs/plugins.md for one section per hook with an example.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from ms_engine.api.model_uri import ModelURI
    from ms_engine.api.modelservice import ModelArtifacts
    from ms_engine.context import RenderContext
    from ms_engine.dialects import TemplateDialect
    from ms_engine.model_source import ModelScheme, ModelSource
    from ms_engine.problems import Problem
    from ms_engine.routing_api import Router
    from ms_engine.stage import Stage

PROJECT = "modelservice"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# -- 1. building the pipeline ------------------------------------------------------------------


@hookspec
def ms_stages() -> Sequence[Stage]:
    """Contribute stages to the pipeline.

    Called once when the pipeline is built. Return stages; each either has a core name
    (`template`, `merge`, `model-source`, `workload`, `routing`, `rbac`, `validate`) — only the
    engine provides those — or says `replaces=` a core stage, or `after=` an existing stage.
    Two plugins replacing the same stage is an error. `routing` is not replaced by a stage: answer
    `ms_router` instead.
    """
    raise NotImplementedError


# -- 2. the model source -----------------------------------------------------------------------


@hookspec
def ms_model_schemes() -> Iterable[str | ModelScheme]:
    """The URI schemes (`hf`, `pvc`, ...) this plugin serves.

    `ms_model_source` is asked only for these. Two plugins naming one scheme is an error, unless
    one returns `ModelScheme(scheme, overrides="<other plugin>")` to take it over. Also listed in
    the error for an unknown scheme and in `msctl plugins`.
    """
    raise NotImplementedError


@hookspec
def ms_model_source(uri: ModelURI, artifacts: ModelArtifacts) -> ModelSource | None:
    """Resolve `spec.modelArtifacts.uri` into the volume, mount, env, init containers and
    template variables.

    Called once per render before the template stage, only on the plugin serving `uri.scheme`
    (see `ms_model_schemes`). Raise `ms_engine.RenderError` (use `ms_engine.fail(...,
    URI_FIELD)`) for a malformed URI of your scheme.
    """
    raise NotImplementedError


# -- 3. templates ------------------------------------------------------------------------------


@hookspec
def ms_template_vars(context: RenderContext) -> Mapping[str, Any] | None:
    """Extra variables for BaseConfig templates and ModelService container args.

    Called once per render by the template stage, after the model source is resolved
    (`context.model_source`) and before anything is rendered. A name the engine, the model source
    or another plugin already provides is an error.
    """
    raise NotImplementedError


@hookspec
def ms_template_filters() -> Mapping[str, Callable[..., Any]] | None:
    """Extra Jinja filters (also callable as functions) for templates.

    Called once when the template environment is built, so filters must be pure functions.
    """
    raise NotImplementedError


# -- 3b. template dialects (section owned by the gotemplate work) ----------------------------


@hookspec
def ms_template_dialects(context: RenderContext) -> Iterable[TemplateDialect] | None:
    """Template languages a BaseConfig may be written in, each with a `name`.

    Called once per render by the template stage. A BaseConfig chooses one with the annotation
    `modelservice.llm-d.ai/template-dialect: <name>`; without it, the first dialect whose
    `recognises(source)` is true for one of its values is used (with a warning), else `jinja`,
    the core dialect. `render(where, source, variables, document)` returns the text and raises
    `RenderError` naming `where` and the line. A name defined twice is an error.
    """
    raise NotImplementedError


# -- end of 3b ----------------------------------------------------------------------------------


# -- 4. routing --------------------------------------------------------------------------------


@hookspec
def ms_router(context: RenderContext) -> Router | None:
    """The scheduler integration that builds the routing objects of this ModelService.

    Called by the routing stage; the only way to replace routing. Return None to leave this
    ModelService to other routers. When several answer, the one whose `overrides` names the
    others wins (the bundled one is `gie-endpoint-picker`); otherwise it is an error.
    """
    raise NotImplementedError


# -- 5. checks ---------------------------------------------------------------------------------


@hookspec
def ms_validate(context: RenderContext) -> Iterable[Problem] | None:
    """Find problems in the finished render (wiring that would break only at request time).

    Called by the validate stage after every object is built. Return warnings; `msctl render
    --strict` and the controller's strict mode turn them into errors. Do not modify the context.
    """
    raise NotImplementedError
