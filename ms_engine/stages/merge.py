"""Stage `merge`: overlay the ModelService's sections onto the BaseConfig documents.

`decode` → decodeDeployment, `prefill` → prefillDeployment, `endpointPicker` → eppDeployment,
`routing.gatewayRefs` → httpRoute parentRefs. A section without a BaseConfig document starts from
an empty object of the right kind. The rules themselves live in `ms_engine.merge`.
"""

from __future__ import annotations

from typing import Any

from ms_engine.api.baseconfig import (
    DECODE_DEPLOYMENT,
    EPP_DEPLOYMENT,
    HTTP_ROUTE,
    KEY_TYPES,
    PREFILL_DEPLOYMENT,
)
from ms_engine.api.modelservice import ContainerSpec, PodSpecOverrides
from ms_engine.context import RenderContext
from ms_engine.merge import DuplicateKey, merge, schema_for
from ms_engine.problems import Problem, Reason, fail
from ms_engine.stage import Stage

SECTION_OF_KEY = {
    DECODE_DEPLOYMENT: ("decode", "spec.decode"),
    PREFILL_DEPLOYMENT: ("prefill", "spec.prefill"),
    EPP_DEPLOYMENT: ("endpoint_picker", "spec.endpointPicker"),
}


def container_overlay(container: ContainerSpec) -> dict[str, Any]:
    """A Kubernetes container holding only what the ModelService sets.

    An empty `command` means "keep the BaseConfig's" (the original controller's rule);
    `mountModelVolume` is not a Kubernetes field and is handled by the model-source stage.
    """
    overlay: dict[str, Any] = {"name": container.name}
    if container.image is not None:
        overlay["image"] = container.image
    if container.command:
        overlay["command"] = list(container.command)
    if container.args is not None:
        overlay["args"] = list(container.args)
    if container.env is not None:
        overlay["env"] = [variable.to_wire() for variable in container.env]
    if container.env_from is not None:
        overlay["envFrom"] = [dict(source) for source in container.env_from]
    if container.resources is not None:
        overlay["resources"] = container.resources.to_wire()
    return overlay


def pod_overlay(section: PodSpecOverrides) -> dict[str, Any]:
    """`{spec: {replicas, template: {spec: {containers, initContainers}}}}` of one section."""
    pod_spec: dict[str, Any] = {}
    if section.containers:
        pod_spec["containers"] = [container_overlay(c) for c in section.containers]
    if section.init_containers:
        pod_spec["initContainers"] = [container_overlay(c) for c in section.init_containers]
    spec: dict[str, Any] = {}
    if section.replicas is not None:
        spec["replicas"] = section.replicas
    if pod_spec:
        spec["template"] = {"spec": pod_spec}
    return {"spec": spec} if spec else {}


def _empty(key: str) -> dict[str, Any]:
    key_type = KEY_TYPES[key]
    return {"apiVersion": key_type.api_versions[0], "kind": key_type.kind}


def _merge_into(context: RenderContext, key: str, overlay: dict[str, Any], field: str) -> None:
    base = context.documents.get(key)
    from_base_config = base is not None
    if base is None:
        base = _empty(key)
    try:
        context.documents[key] = merge(base, overlay, schema_for(base.get("kind")))
    except DuplicateKey as error:
        # The overlay's own lists are checked by the API models, so a double is the base's.
        if from_base_config:
            raise fail(
                f"{error.path} holds {error.key!r} twice", key, reason=Reason.INVALID_BASE_CONFIG
            ) from None
        raise fail(f"{error.path} holds {error.key!r} twice", field) from None


def run(context: RenderContext) -> None:
    spec = context.spec
    for key, (section_name, field) in SECTION_OF_KEY.items():
        section: PodSpecOverrides | None = getattr(spec, section_name)
        if section is None:
            continue
        if key not in context.documents and not section.containers:
            if key == EPP_DEPLOYMENT:  # the picker exists only by the BaseConfig: nothing to tune
                context.warn(
                    Problem(
                        f"ignored: the BaseConfig has no {key} and no containers are given", field
                    )
                )
                continue
            raise fail(
                f"the BaseConfig has no {key}, so {field}.containers must name at least one "
                "container",
                field,
            )
        _merge_into(context, key, pod_overlay(section), field)
    if spec.routing.gateway_refs:
        parent_refs = [reference.to_wire() for reference in spec.routing.gateway_refs]
        _merge_into(
            context, HTTP_ROUTE, {"spec": {"parentRefs": parent_refs}}, "spec.routing.gatewayRefs"
        )
    for key, document in list(context.documents.items()):
        name = context.names.of_key(key)
        if name is not None:  # identity now, so `msctl stage merge` shows whose object it is
            metadata = {**(document.get("metadata") or {}), "name": name}
            metadata["namespace"] = context.namespace
            rest = {
                k: v for k, v in document.items() if k not in ("apiVersion", "kind", "metadata")
            }
            context.documents[key] = {
                "apiVersion": document["apiVersion"],
                "kind": document["kind"],
                "metadata": metadata,
                **rest,
            }


STAGE = Stage("merge", run, description="overlay ModelService sections onto BaseConfig objects")
