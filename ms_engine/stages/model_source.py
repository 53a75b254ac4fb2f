"""Stage `model-source`: give the decode and prefill pods the model volume, mounts and env.

The volume `model-storage` replaces a BaseConfig volume of that name (never a second copy).
Containers the ModelService marks `mountModelVolume: true` get the mount and the source's env
after their own env; where a name repeats, the model source's entry wins. The source's init
containers (a downloader) go before the pod's own, its extra volumes after the pod's; a name the
pod already uses is an error naming the BaseConfig key.
"""

from __future__ import annotations

import copy
from typing import Any

from ms_engine.api.baseconfig import ROLE_DEPLOYMENT_KEYS
from ms_engine.api.modelservice import PDSpec
from ms_engine.context import RenderContext
from ms_engine.merge import CONTAINER, POD_SPEC, merge
from ms_engine.model_source import MODEL_VOLUME, ModelSource
from ms_engine.problems import PluginError, Reason, fail
from ms_engine.stage import Stage


def mounting_containers(section: PDSpec | None) -> tuple[set[str], set[str]]:
    """Names of the containers and init containers that asked for the model volume."""
    if section is None:
        return set(), set()
    return (
        {c.name for c in section.containers if c.mount_model_volume},
        {c.name for c in section.init_containers if c.mount_model_volume},
    )


def with_model_source(
    pod_spec: dict[str, Any],
    source: ModelSource,
    containers: set[str],
    init_containers: set[str],
) -> dict[str, Any]:
    """The pod spec with the model volume, and mount + env on the named containers."""
    volume = {"name": MODEL_VOLUME, **copy.deepcopy(dict(source.volume))}
    updated: dict[str, Any] = merge(pod_spec, {"volumes": [volume]}, POD_SPEC)
    if source.volumes:
        updated["volumes"] = [*updated["volumes"], *_named(source.volumes)]
    if source.init_containers:
        updated["initContainers"] = [
            *_named(source.init_containers),
            *(updated.get("initContainers") or []),
        ]
    for list_name, wanted in (("containers", containers), ("initContainers", init_containers)):
        if not wanted:
            continue
        updated[list_name] = [
            merge(container, _container_overlay(source), CONTAINER)
            if container.get("name") in wanted
            else container
            for container in updated.get(list_name) or []
        ]
    return updated


def _named(items: tuple[Any, ...]) -> list[dict[str, Any]]:
    return [copy.deepcopy(dict(item)) for item in items]


def check_names(source: ModelSource, pod_spec: dict[str, Any], key: str) -> None:
    """The source's init containers and volumes must not collide with the pod's own."""
    for list_name, added, field in (
        ("initContainers", source.init_containers, "init container"),
        ("volumes", source.volumes, "volume"),
    ):
        seen = {
            item.get("name") for item in pod_spec.get(list_name) or [] if isinstance(item, dict)
        }
        for item in added:
            name = item.get("name") if isinstance(item, dict) else None
            if not isinstance(name, str) or not name or name == MODEL_VOLUME:
                raise PluginError(
                    f"model source {source.scheme!r}: each of its {list_name} needs a name "
                    f"other than {MODEL_VOLUME!r} (got {name!r})"
                )
            if name in seen:
                raise fail(
                    f"the {source.scheme}:// model source adds the {field} {name!r}, which the "
                    "pod already has: rename one",
                    f"{key}.spec.template.spec.{list_name}",
                    reason=Reason.INVALID_BASE_CONFIG,
                )
            seen.add(name)


def _container_overlay(source: ModelSource) -> dict[str, Any]:
    """A fresh overlay per container, so no two containers share one mount or env object."""
    overlay: dict[str, Any] = {"volumeMounts": [{"name": MODEL_VOLUME, **source.mount}]}
    if source.env:
        overlay["env"] = copy.deepcopy([dict(variable) for variable in source.env])
    return overlay


def run(context: RenderContext) -> None:
    for role, key in ROLE_DEPLOYMENT_KEYS.items():
        document = context.documents.get(key)
        if document is None:
            continue
        spec = document.setdefault("spec", {})
        template = spec.setdefault("template", {})
        section = context.spec.role(role)
        containers, init_containers = mounting_containers(section)
        check_names(context.model_source, template.get("spec") or {}, key)
        template["spec"] = with_model_source(
            template.get("spec") or {}, context.model_source, containers, init_containers
        )


STAGE = Stage("model-source", run, description="add the model volume, mounts and env")
