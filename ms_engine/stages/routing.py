"""Stage `routing`: hand the routing BaseConfig keys to the scheduler integration.

The bundled integration, `GIERouter`, builds the Gateway API Inference Extension stack: the
InferencePool, the endpoint picker (EPP) Deployment and Service, InferenceObjective or the legacy
InferenceModel, the HTTPRoute, and the ConfigMaps of `configMaps`. A plugin replaces it by
answering `ms_router` (see hookspecs).
"""

from __future__ import annotations

from typing import Any

from ms_engine import gie
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
from ms_engine.hookspecs import hookimpl
from ms_engine.merge import merge
from ms_engine.names import EPP
from ms_engine.ownership import claim, claim_pod_owner, common_labels
from ms_engine.problems import PluginError, Reason, fail
from ms_engine.stage import Stage

ROUTING_KEYS = (
    CONFIG_MAPS,
    EPP_DEPLOYMENT,
    EPP_SERVICE,
    INFERENCE_POOL,
    INFERENCE_OBJECTIVE,
    INFERENCE_MODEL,
    HTTP_ROUTE,
)


def epp_labels(context: RenderContext) -> dict[str, str]:
    return {EPP: context.names.epp_deployment}


class GIERouter:
    """The Gateway API Inference Extension endpoint picker: the bundled scheduler integration."""

    name = "gie-endpoint-picker"

    @hookimpl(trylast=True)
    def ms_router(self, context: RenderContext) -> GIERouter:
        return self

    def build(self, context: RenderContext) -> None:
        documents = {key: context.documents.pop(key, None) for key in ROUTING_KEYS}
        self._config_maps(context, documents[CONFIG_MAPS] or [])
        epp = documents[EPP_DEPLOYMENT]
        epp_service = documents[EPP_SERVICE] if epp is not None else None
        if epp is not None:
            context.objects.add(EPP_DEPLOYMENT, self._epp_deployment(context, epp))
        if epp_service is not None:
            context.objects.add(EPP_SERVICE, self._epp_service(context, epp_service))
        pool = documents[INFERENCE_POOL]
        if pool is not None:
            pool = self._pool(context, pool, has_epp=epp is not None, epp_service=epp_service)
            context.objects.add(INFERENCE_POOL, pool)
        for key in (INFERENCE_OBJECTIVE, INFERENCE_MODEL):
            document = documents[key]
            if document is not None:
                context.objects.add(key, self._objective(context, key, document, pool))
        route = documents[HTTP_ROUTE]
        if route is not None:
            context.objects.add(HTTP_ROUTE, self._route(context, route, pool))

    def _config_maps(self, context: RenderContext, config_maps: list[dict[str, Any]]) -> None:
        for index, config_map in enumerate(config_maps):
            name = (config_map.get("metadata") or {}).get("name")
            if not isinstance(name, str) or not name:
                raise fail(
                    "metadata.name is required: a ConfigMap keeps the name written (template it, "
                    "e.g. {{ ModelServiceName }}-epp-config, when several ModelServices share "
                    "the preset)",
                    f"{CONFIG_MAPS}[{index}]",
                    reason=Reason.INVALID_BASE_CONFIG,
                )
            component = f"{CONFIG_MAPS}/{name}"
            if component in context.objects:
                raise fail(
                    f"two ConfigMaps are named {name!r}",
                    f"{CONFIG_MAPS}[{index}]",
                    reason=Reason.INVALID_BASE_CONFIG,
                )
            context.objects.add(component, claim(context, config_map, name))

    def _epp_deployment(self, context: RenderContext, document: dict[str, Any]) -> dict[str, Any]:
        deployment = claim_pod_owner(
            context,
            document,
            name=context.names.epp_deployment,
            selector=epp_labels(context),
            service_account=context.names.epp_service_account,
        )
        if not deployment["spec"]["template"]["spec"].get("containers"):
            raise fail(
                "the endpoint picker has no containers: give them in the BaseConfig's "
                "eppDeployment or in spec.endpointPicker.containers",
                "spec.endpointPicker.containers",
            )
        return deployment

    def _epp_service(self, context: RenderContext, document: dict[str, Any]) -> dict[str, Any]:
        labels = epp_labels(context)
        service = claim(context, document, context.names.epp_service, labels)
        service.setdefault("spec", {})["selector"] = dict(labels)
        return service

    def _pool(
        self,
        context: RenderContext,
        document: dict[str, Any],
        *,
        has_epp: bool,
        epp_service: dict[str, Any] | None,
    ) -> dict[str, Any]:
        pool = claim(context, document, context.names.inference_pool, common_labels(context))
        spec = pool.setdefault("spec", {})
        if gie.is_legacy_pool(pool):
            spec["selector"] = common_labels(context)
            if has_epp:
                spec["extensionRef"] = {
                    **(spec.get("extensionRef") or {}),
                    "name": context.names.epp_service,
                }
            return pool
        spec["selector"] = {"matchLabels": common_labels(context)}
        if has_epp:
            spec["endpointPickerRef"] = merge(
                spec.get("endpointPickerRef") or {},
                {
                    "name": context.names.epp_service,
                    "port": {"number": gie.epp_grpc_port(epp_service)},
                },
            )
        return pool

    def _objective(
        self,
        context: RenderContext,
        key: str,
        document: dict[str, Any],
        pool: dict[str, Any] | None,
    ) -> dict[str, Any]:
        objective = claim(context, document, context.names.inference_model, common_labels(context))
        spec = objective.setdefault("spec", {})
        pool_group = gie.group_of(pool["apiVersion"] if pool else gie.POOL_V1)
        if key == INFERENCE_MODEL:
            spec["modelName"] = context.spec.routing.model_name
            spec["poolRef"] = {**(spec.get("poolRef") or {}), "name": context.names.inference_pool}
        else:
            spec["poolRef"] = {
                **(spec.get("poolRef") or {}),
                "group": pool_group,
                "kind": gie.POOL_KIND,
                "name": context.names.inference_pool,
            }
        return objective

    def _route(
        self, context: RenderContext, document: dict[str, Any], pool: dict[str, Any] | None
    ) -> dict[str, Any]:
        route = claim(context, document, context.names.http_route)
        spec = route.setdefault("spec", {})
        if not spec.get("rules") and pool is not None:
            spec["rules"] = [
                {
                    "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                    "backendRefs": [
                        {
                            "group": gie.group_of(pool["apiVersion"]),
                            "kind": gie.POOL_KIND,
                            "name": context.names.inference_pool,
                        }
                    ],
                }
            ]
        return route


GIE_ROUTER = GIERouter()


def run(context: RenderContext) -> None:
    router = context.hook.ms_router(context=context)
    if router is None:
        raise PluginError("no plugin answered ms_router (the bundled GIE router is missing)")
    router.build(context)


STAGE = Stage("routing", run, description="InferencePool, endpoint picker, objectives, HTTPRoute")
