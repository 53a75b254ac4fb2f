"""`GIERouter`: turns the routing BaseConfig keys into the Gateway API Inference Extension stack.

The InferencePool, the endpoint picker (EPP) Deployment and Service, InferenceObjective or the
legacy InferenceModel, the HTTPRoute, and the ConfigMaps of `configMaps`. It declares its pool and
its picker (Deployment, ServiceAccount, Role rules) in a `RouterResult`; the rbac stage reads that.
"""

from __future__ import annotations

from typing import Any

from ms_engine import (
    Picker,
    Reason,
    RenderContext,
    RouterResult,
    claim,
    claim_pod_owner,
    common_labels,
    fail,
    gie,
)
from ms_plugins.gie.pool import follow_version, picker_rules, pool_group, with_pool_group

CONFIG_MAPS = "configMaps"
EPP_DEPLOYMENT = "eppDeployment"
EPP_SERVICE = "eppService"
INFERENCE_POOL = "inferencePool"
INFERENCE_OBJECTIVE = "inferenceObjective"
INFERENCE_MODEL = "inferenceModel"
HTTP_ROUTE = "httpRoute"
ROUTING_KEYS = (
    CONFIG_MAPS,
    EPP_DEPLOYMENT,
    EPP_SERVICE,
    INFERENCE_POOL,
    INFERENCE_OBJECTIVE,
    INFERENCE_MODEL,
    HTTP_ROUTE,
)
"""The BaseConfig keys this router owns."""

EPP_LABEL = "llm-d.ai/epp"


def epp_labels(context: RenderContext) -> dict[str, str]:
    return {EPP_LABEL: context.names.epp_deployment}


class GIERouter:
    """The Gateway API Inference Extension endpoint picker: the bundled scheduler integration."""

    name = "gie-endpoint-picker"

    def build(self, context: RenderContext) -> RouterResult:
        documents = {key: context.documents.pop(key, None) for key in ROUTING_KEYS}
        self._config_maps(context, documents[CONFIG_MAPS] or [])
        pool = documents[INFERENCE_POOL]
        if pool is not None:
            pool = follow_version(pool)
        epp = documents[EPP_DEPLOYMENT]
        epp_service = documents[EPP_SERVICE] if epp is not None else None
        picker: Picker | None = None
        if epp is not None:
            deployment = self._epp_deployment(context, epp, pool)
            context.objects.add(EPP_DEPLOYMENT, deployment)
            picker = Picker(
                deployment=EPP_DEPLOYMENT,
                service_account=context.names.epp_service_account,
                rules=tuple(picker_rules(pool, int(deployment["spec"].get("replicas") or 1))),
            )
        if epp_service is not None:
            context.objects.add(EPP_SERVICE, self._epp_service(context, epp_service))
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
        return RouterResult(pool=INFERENCE_POOL if pool is not None else None, picker=picker)

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

    def _epp_deployment(
        self, context: RenderContext, document: dict[str, Any], pool: dict[str, Any] | None
    ) -> dict[str, Any]:
        deployment = claim_pod_owner(
            context,
            document,
            name=context.names.epp_deployment,
            selector=epp_labels(context),
            service_account=context.names.epp_service_account,
        )
        pod = deployment["spec"]["template"]["spec"]
        if not pod.get("containers"):
            raise fail(
                "the endpoint picker has no containers: give them in the BaseConfig's "
                "eppDeployment or in spec.endpointPicker.containers",
                "spec.endpointPicker.containers",
            )
        if pool is not None:  # the picker watches the pool actually rendered
            group = pool_group(pool)
            for container in pod["containers"]:
                for field in ("command", "args"):
                    if isinstance(container.get(field), list):
                        container[field] = with_pool_group(container[field], group)
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
            ref = dict(spec.get("endpointPickerRef") or {})
            ref["name"] = context.names.epp_service
            ref["port"] = {**(ref.get("port") or {}), "number": gie.epp_grpc_port(epp_service)}
            spec["endpointPickerRef"] = ref
        return pool

    def _objective(
        self,
        context: RenderContext,
        key: str,
        document: dict[str, Any],
        pool: dict[str, Any] | None,
    ) -> dict[str, Any]:
        if key == INFERENCE_MODEL and pool is not None and not gie.is_legacy_pool(pool):
            raise fail(
                f"the legacy InferenceModel can only serve a {gie.POOL_LEGACY} InferencePool, "
                f"and this one is {pool['apiVersion']}: use inferenceObjective",
                INFERENCE_MODEL,
                reason=Reason.INVALID_BASE_CONFIG,
            )
        objective = claim(context, document, context.names.inference_model, common_labels(context))
        spec = objective.setdefault("spec", {})
        if key == INFERENCE_MODEL:
            spec["modelName"] = context.spec.routing.model_name
            spec["poolRef"] = {**(spec.get("poolRef") or {}), "name": context.names.inference_pool}
        else:
            spec["poolRef"] = {
                **(spec.get("poolRef") or {}),
                "group": pool_group(pool),
                "kind": gie.POOL_KIND,
                "name": context.names.inference_pool,
            }
        return objective

    def _route(
        self, context: RenderContext, document: dict[str, Any], pool: dict[str, Any] | None
    ) -> dict[str, Any]:
        route = claim(context, document, context.names.http_route)
        spec = route.setdefault("spec", {})
        if pool is None:
            return route
        group = pool_group(pool)
        if not spec.get("rules"):
            spec["rules"] = [
                {
                    "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                    "backendRefs": [
                        {
                            "group": group,
                            "kind": gie.POOL_KIND,
                            "name": context.names.inference_pool,
                        }
                    ],
                }
            ]
            return route
        for rule in spec["rules"]:  # a backendRef to our pool uses the rendered pool's group
            for ref in (rule or {}).get("backendRefs") or []:
                if ref.get("kind") == gie.POOL_KIND and ref.get("name") == pool["metadata"]["name"]:
                    ref["group"] = group
        return route


ROUTER = GIERouter()
