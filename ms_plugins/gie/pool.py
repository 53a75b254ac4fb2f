"""The InferencePool's version rule, and what the endpoint picker may read for that version.

Rule: the pool's `apiVersion` as written in the BaseConfig decides (`inference.networking.k8s.io/v1`
when it names none). Legacy fields in a v1 pool are translated (`targetPortNumber` →
`targetPorts`, `extensionRef` → `endpointPickerRef`); v1 fields in a legacy pool are refused.
Every reference follows the pool actually rendered: the objective's `poolRef.group`, the
HTTPRoute's InferencePool backendRef `group`, the picker's `--pool-group` flag and its Role.
"""

from __future__ import annotations

from typing import Any

from ms_engine import Reason, fail, gie

INFERENCE_POOL = "inferencePool"
LEGACY_ONLY = ("targetPortNumber", "extensionRef")
V1_ONLY = ("targetPorts", "endpointPickerRef", "appProtocol")


def pool_group(pool: dict[str, Any] | None) -> str:
    """The API group every reference to the pool uses (v1's when there is no pool)."""
    return gie.group_of(pool["apiVersion"] if pool else gie.POOL_V1)


def follow_version(pool: dict[str, Any]) -> dict[str, Any]:
    """The pool with fields of its own version only (see the module docstring); a copy."""
    spec = dict(pool.get("spec") or {})
    if gie.is_legacy_pool(pool):
        for name in V1_ONLY:
            if name in spec:
                raise _wrong_version(
                    f"spec.{name} is an inference.networking.k8s.io/v1 field, but this pool is "
                    f"{gie.POOL_LEGACY}: write the legacy field or apiVersion "
                    f"{gie.POOL_V1}"
                )
        return {**pool, "spec": spec}
    for legacy, current in (
        ("targetPortNumber", "targetPorts"),
        ("extensionRef", "endpointPickerRef"),
    ):
        if legacy in spec and current in spec:
            raise _wrong_version(
                f"spec.{legacy} (legacy) and spec.{current} (v1) are both given: keep "
                f"spec.{current}"
            )
    translated: dict[str, Any] = {}
    for name, value in spec.items():
        if name == "targetPortNumber":
            translated["targetPorts"] = [{"number": value}]
        elif name == "extensionRef":
            translated["endpointPickerRef"] = _picker_ref(value)
        else:
            translated[name] = value
    return {**pool, "spec": translated}


def _picker_ref(extension_ref: Any) -> dict[str, Any]:
    if not isinstance(extension_ref, dict):
        raise _wrong_version("spec.extensionRef must be a mapping")
    ref = {k: v for k, v in extension_ref.items() if k != "portNumber"}
    if "portNumber" in extension_ref:
        ref["port"] = {"number": extension_ref["portNumber"]}
    return ref


def _wrong_version(message: str) -> Exception:
    return fail(message, INFERENCE_POOL, reason=Reason.INVALID_BASE_CONFIG)


def picker_rules(pool: dict[str, Any] | None, replicas: int) -> list[dict[str, Any]]:
    """Exactly what the endpoint picker reads, plus leader election when it has peers."""
    pool_api = (pool or {}).get("apiVersion", gie.POOL_V1)
    rules: list[dict[str, Any]] = [
        {"apiGroups": [""], "resources": ["pods"], "verbs": list(gie.READ)},
        {
            "apiGroups": [gie.group_of(pool_api)],
            "resources": ["inferencepools"],
            "verbs": list(gie.READ),
        },
        {
            "apiGroups": [gie.LLMD_GROUP, gie.LEGACY_GROUP],
            "resources": ["inferenceobjectives", "inferencemodelrewrites"],
            "verbs": list(gie.READ),
        },
    ]
    if pool_api == gie.POOL_LEGACY:
        rules.append(
            {
                "apiGroups": [gie.LEGACY_GROUP],
                "resources": ["inferencemodels"],
                "verbs": list(gie.READ),
            }
        )
    if replicas > 1:
        rules.append(
            {
                "apiGroups": ["coordination.k8s.io"],
                "resources": ["leases"],
                "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
            }
        )
        rules.append(
            {
                "apiGroups": ["", "events.k8s.io"],
                "resources": ["events"],
                "verbs": ["create", "patch"],
            }
        )
    return rules


POOL_GROUP_FLAG = "--pool-group"


def with_pool_group(args: list[Any], group: str) -> list[Any]:
    """`args` with the value of `--pool-group` (either spelling) set to `group`."""
    updated = list(args)
    for index, word in enumerate(updated):
        if word == POOL_GROUP_FLAG and index + 1 < len(updated):
            updated[index + 1] = group
        elif isinstance(word, str) and word.startswith(POOL_GROUP_FLAG + "="):
            updated[index] = f"{POOL_GROUP_FLAG}={group}"
    return updated
