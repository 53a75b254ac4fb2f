"""Wiring checks: P/D mistakes that a cluster accepts and that break only at request time.

Each check reads the finished render and returns warnings naming the object and field.
"""

from __future__ import annotations

import functools
import shlex
from collections.abc import Iterable, Iterator
from typing import Any

import yaml

from ms_engine import gie
from ms_engine.api.baseconfig import (
    EPP_DEPLOYMENT,
    HTTP_ROUTE,
    INFERENCE_POOL,
    PREFILL_DEPLOYMENT,
    ROLE_DEPLOYMENT_KEYS,
)
from ms_engine.context import RenderContext
from ms_engine.flags import effective_value
from ms_engine.hookspecs import hookimpl
from ms_engine.names import DECODE, PREFILL
from ms_engine.problems import RENDER, Problem, Reason, Severity
from ms_engine.templating import load_yaml

NIXL_HOST_ENV = "VLLM_NIXL_SIDE_CHANNEL_HOST"


def warning(message: str, where: str) -> Problem:
    return Problem(message, where, severity=Severity.WARNING, reason=Reason.WIRING, document=RENDER)


def pod_spec(deployment: dict[str, Any]) -> dict[str, Any]:
    return ((deployment.get("spec") or {}).get("template") or {}).get("spec") or {}


def serving_containers(spec: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Containers that run for the pod's life: regular ones and native sidecars."""
    yield from spec.get("containers") or []
    for container in spec.get("initContainers") or []:
        if container.get("restartPolicy") == "Always":
            yield container


def container_ports(spec: dict[str, Any]) -> set[int]:
    """Ports the pod listens on: declared container ports, and `--port N` of its servers
    (declaring ports is optional in Kubernetes, so many vLLM manifests only pass the flag)."""
    ports: set[int] = set()
    for container in serving_containers(spec):
        for port in container.get("ports") or []:
            if isinstance(port.get("containerPort"), int):
                ports.add(port["containerPort"])
        flag = effective_value(command_words(container), "--port")
        if flag and flag.isdigit():
            ports.add(int(flag))
    return ports


def command_words(container: dict[str, Any]) -> list[str]:
    """command + args as words; a `sh -c "..."` script is split into its words too."""
    words: list[str] = []
    for part in [*(container.get("command") or []), *(container.get("args") or [])]:
        text = str(part)
        if " " in text.strip():
            try:
                words.extend(shlex.split(text))
            except ValueError:
                words.extend(text.split())
        else:
            words.append(text)
    return words


def served_model(container: dict[str, Any]) -> str | None:
    """What a vLLM container serves: `--served-model-name`, else `--model`, else `serve <model>`."""
    words = command_words(container)
    for flag in ("--served-model-name", "--model"):
        value = effective_value(words, flag)
        if value:
            return value
    if "serve" in words:
        index = words.index("serve")
        if index + 1 < len(words) and not words[index + 1].startswith("-"):
            return words[index + 1]
    return None


def check_target_ports(context: RenderContext) -> Iterable[Problem]:
    pool = context.objects.get(INFERENCE_POOL)
    if pool is None:
        return
    field = "spec.targetPortNumber" if gie.is_legacy_pool(pool) else "spec.targetPorts"
    for role, key in ROLE_DEPLOYMENT_KEYS.items():
        deployment = context.objects.get(key)
        if deployment is None:
            continue
        ports = container_ports(pod_spec(deployment))
        for number in gie.pool_target_ports(pool):
            if number not in ports:
                have = ", ".join(str(p) for p in sorted(ports)) or "none"
                yield warning(
                    f"{field} {number} is not a container port of the {role} pods "
                    f"(they expose: {have}), so the pool cannot reach them",
                    f"InferencePool/{pool['metadata']['name']}",
                )


@functools.lru_cache(maxsize=256)
def _profiles(text: str) -> tuple[str, ...] | None:
    """Scheduling profile names of an EndpointPickerConfig text, or None if it is not one.

    Cached by text: a preset's picker config is the same for every ModelService using it, and
    parsing it again was a tenth of a render."""
    try:
        parsed = load_yaml(text)
    except yaml.YAMLError:
        return None
    if not isinstance(parsed, dict) or parsed.get("kind") != "EndpointPickerConfig":
        return None
    profiles = parsed.get("schedulingProfiles")
    if not isinstance(profiles, list):
        return ()  # no list of profiles is no prefill profile
    return tuple(str(p.get("name")) for p in profiles if isinstance(p, dict))


def endpoint_picker_configs(
    context: RenderContext, epp: dict[str, Any]
) -> tuple[list[tuple[str, ...]], bool]:
    """Profiles of every EndpointPickerConfig the picker can see: inline (`--config-text`) or in a
    rendered ConfigMap its pod mounts (or, when it mounts none, any rendered one); and whether it
    also mounts ConfigMaps this render cannot see."""
    spec = pod_spec(epp)
    found: list[tuple[str, ...]] = []
    for container in spec.get("containers") or []:
        text = effective_value([str(a) for a in container.get("args") or []], "--config-text")
        profiles = _profiles(text) if text else None
        if profiles is not None:
            found.append(profiles)
    mounted = {
        name
        for volume in spec.get("volumes") or []
        if (name := (volume.get("configMap") or {}).get("name"))
    }
    config_maps = {cm["metadata"]["name"]: cm for cm in context.objects.of_kind("ConfigMap")}
    visible = [cm for name, cm in config_maps.items() if name in mounted] if mounted else []
    for config_map in visible or ([] if mounted else list(config_maps.values())):
        for text in (config_map.get("data") or {}).values():
            profiles = _profiles(str(text))
            if profiles is not None:
                found.append(profiles)
    return found, bool(mounted - set(config_maps))


def check_prefill_profile(context: RenderContext) -> Iterable[Problem]:
    if PREFILL_DEPLOYMENT not in context.objects:
        return
    epp = context.objects.get(EPP_DEPLOYMENT)
    if epp is None:
        yield warning(
            "prefill pods exist but there is no endpoint picker to send requests to them",
            f"Deployment/{context.names.prefill_deployment}",
        )
        return
    configs, unseen = endpoint_picker_configs(context, epp)
    if not configs and unseen:
        return  # its config lives in a ConfigMap this render does not make: nothing to check
    if not any(PREFILL in profiles for profiles in configs):
        yield warning(
            "prefill pods exist but the endpoint picker's EndpointPickerConfig has no 'prefill' "
            "scheduling profile, so no request is ever prefilled remotely",
            f"Deployment/{epp['metadata']['name']}",
        )


def check_nixl_env(context: RenderContext) -> Iterable[Problem]:
    for key in ROLE_DEPLOYMENT_KEYS.values():
        deployment = context.objects.get(key)
        if deployment is None:
            continue
        for container in serving_containers(pod_spec(deployment)):
            words = command_words(container)
            config = effective_value(words, "--kv-transfer-config")
            if not config or "NixlConnector" not in config:
                continue
            env = {variable.get("name") for variable in container.get("env") or []}
            if NIXL_HOST_ENV not in env:
                yield warning(
                    f"container {container.get('name')!r} uses the NixlConnector but has no "
                    f"{NIXL_HOST_ENV} env (set it to the pod IP with the downward API), so KV "
                    "transfer between prefill and decode fails",
                    f"Deployment/{deployment['metadata']['name']}",
                )


def check_route_backends(context: RenderContext) -> Iterable[Problem]:
    route = context.objects.get(HTTP_ROUTE)
    if route is None:
        return
    pool = context.objects.get(INFERENCE_POOL)
    pool_name = pool["metadata"]["name"] if pool else None
    for rule_index, rule in enumerate((route.get("spec") or {}).get("rules") or []):
        for ref_index, ref in enumerate(rule.get("backendRefs") or []):
            if ref.get("kind") != gie.POOL_KIND or ref.get("name") == pool_name:
                continue
            rendered = f"the rendered pool is {pool_name!r}" if pool_name else "no pool is rendered"
            yield warning(
                f"spec.rules[{rule_index}].backendRefs[{ref_index}] names InferencePool "
                f"{ref.get('name')!r} but {rendered}",
                f"HTTPRoute/{route['metadata']['name']}",
            )
    if not (route.get("spec") or {}).get("rules"):
        yield warning(
            "has no rules and there is no InferencePool to send traffic to",
            f"HTTPRoute/{route['metadata']['name']}",
        )


def check_same_model(context: RenderContext) -> Iterable[Problem]:
    served: dict[str, set[str]] = {}
    for role, key in ROLE_DEPLOYMENT_KEYS.items():
        deployment = context.objects.get(key)
        if deployment is None:
            continue
        models = {m for c in serving_containers(pod_spec(deployment)) if (m := served_model(c))}
        if models:
            served[role] = models
    if len(served) == 2 and not served[DECODE] & served[PREFILL]:
        yield warning(
            f"decode pods serve {', '.join(sorted(served[DECODE]))} but prefill pods serve "
            f"{', '.join(sorted(served[PREFILL]))}: disaggregated P/D needs one model",
            f"Deployment/{context.names.prefill_deployment}",
        )


def check_service_selectors(context: RenderContext) -> Iterable[Problem]:
    """A Service whose selector (the BaseConfig's labels are kept beside ours) matches none of
    the pods this render makes sends traffic nowhere."""
    pod_label_sets = [
        ((d.get("spec") or {}).get("template") or {}).get("metadata", {}).get("labels") or {}
        for d in context.objects.of_kind("Deployment")
    ]
    for service in context.objects.of_kind("Service"):
        selector = (service.get("spec") or {}).get("selector") or {}
        if not selector or any(selector.items() <= labels.items() for labels in pod_label_sets):
            continue
        closest: dict[str, Any] = max(
            pod_label_sets, key=lambda labels: len(selector.items() & labels.items()), default={}
        )
        missing = sorted(f"{k}={v}" for k, v in selector.items() if closest.get(k) != v)
        yield warning(
            f"spec.selector matches none of this ModelService's pods (they lack "
            f"{', '.join(missing)}), so the Service has no endpoints",
            f"Service/{service['metadata']['name']}",
        )


CHECKS = (
    check_target_ports,
    check_service_selectors,
    check_prefill_profile,
    check_nixl_env,
    check_route_backends,
    check_same_model,
)


@hookimpl
def ms_validate(context: RenderContext) -> list[Problem]:
    return [problem for check in CHECKS for problem in check(context)]


__all__ = ["CHECKS", "ms_validate"]
