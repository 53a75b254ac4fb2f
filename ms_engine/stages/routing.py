"""Stage `routing`: hand the routing BaseConfig keys to the scheduler integration (the router).

The router comes from the `ms_router` hook (see `ms_engine.routing_api`); the bundled one is the
`gie` plugin. After `build`, every object the router added gets the ModelService's identity:
namespace, ownership labels and owner reference, so the controller can find and prune it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ms_engine.api.baseconfig import (
    CONFIG_MAPS,
    EPP_DEPLOYMENT,
    EPP_SERVICE,
    HTTP_ROUTE,
    INFERENCE_MODEL,
    INFERENCE_OBJECTIVE,
    INFERENCE_POOL,
)
from ms_engine.context import RenderContext
from ms_engine.objects import DesiredObject
from ms_engine.ownership import claim
from ms_engine.problems import BASECONFIG, ModelServiceError, PluginError, Problem, Reason
from ms_engine.routing_api import Router, RouterResult
from ms_engine.stage import Stage

ROUTING_KEYS = (
    EPP_DEPLOYMENT,
    EPP_SERVICE,
    INFERENCE_POOL,
    INFERENCE_OBJECTIVE,
    INFERENCE_MODEL,
    HTTP_ROUTE,
    CONFIG_MAPS,
)
"""BaseConfig keys only a router turns into objects."""


def overrides_of(router: Router) -> set[str]:
    declared = getattr(router, "overrides", ())
    return {declared} if isinstance(declared, str) else set(declared or ())


def choose_router(context: RenderContext) -> tuple[str, Router] | None:
    """The one router answering `ms_router` that no other answering router overrides."""
    answers: list[tuple[str, Router]] = context.hook.each("ms_router", context=context)
    overridden = {name for _, router in answers for name in overrides_of(router)}
    left = [(plugin, router) for plugin, router in answers if router.name not in overridden]
    if len(left) == 1:
        return left[0]
    if not answers:
        return None
    described = " and ".join(f"{router.name!r} (plugin {plugin!r})" for plugin, router in answers)
    raise PluginError(
        f"routers {described} all answer ms_router; the one that should win must say "
        f"overrides = (<other router's name>,)"
    )


def run(context: RenderContext) -> None:
    chosen = choose_router(context)
    if chosen is None:
        waiting = [key for key in ROUTING_KEYS if key in context.documents]
        if waiting:
            raise PluginError(
                f"no router plugin answered ms_router, so nothing builds {', '.join(waiting)} "
                "(is the 'gie' plugin left out by MODELSERVICE_PLUGINS?)"
            )
        context.router_result = RouterResult()
        return
    plugin, router = chosen
    before = {desired.component: desired.body for desired in context.objects}
    try:
        result = router.build(context)
    except ModelServiceError:
        raise
    except Exception as error:
        raise PluginError(
            f"plugin {plugin!r} (router {router.name!r}): raised {type(error).__name__}: {error}"
        ) from error
    if result is None:
        result = RouterResult()
    if not isinstance(result, RouterResult):
        raise PluginError(
            f"plugin {plugin!r} (router {router.name!r}): build returned "
            f"{type(result).__name__}, expected RouterResult or None"
        )
    own_new_objects(context, plugin, before)
    for key in ROUTING_KEYS:
        if key in context.documents:
            context.warn(
                Problem(
                    f"ignored: the router {router.name!r} does not build it",
                    key,
                    reason=Reason.INVALID_BASE_CONFIG,
                    document=BASECONFIG,
                )
            )
    declared = [result.pool, result.picker.deployment if result.picker else None]
    missing = [c for c in declared if c is not None and c not in context.objects]
    if missing:
        raise PluginError(
            f"plugin {plugin!r} (router {router.name!r}) declares {', '.join(missing)}, "
            "which it did not add to context.objects"
        )
    context.router_result = result


def own_new_objects(context: RenderContext, plugin: str, before: Mapping[str, object]) -> None:
    """Stamp each object added or replaced by the router as a child of the ModelService."""
    for desired in _changed(context, before):
        metadata = desired.body.get("metadata") if isinstance(desired.body, dict) else None
        name = metadata.get("name") if isinstance(metadata, dict) else None
        if not isinstance(name, str) or not name:
            raise PluginError(
                f"plugin {plugin!r}: routing object {desired.component!r} has no name"
            )
        claim(context, desired.body, name)


def _changed(context: RenderContext, before: Mapping[str, object]) -> Iterable[DesiredObject]:
    return [d for d in context.objects if before.get(d.component) is not d.body]


STAGE = Stage("routing", run, description="the router: pool, endpoint picker, objectives, route")
