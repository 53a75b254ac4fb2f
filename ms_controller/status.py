"""The ModelService status as kubectl users read it: conditions, refs, per-role readiness.

Pure functions of what one reconcile saw (the apply report, the live Deployments and their pods)
and the clock value handed in; `reconcile` writes the result only when it differs from what the
object already holds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ms_engine.api.baseconfig import (
    DECODE_DEPLOYMENT,
    DECODE_SERVICE,
    EPP_DEPLOYMENT,
    EPP_SERVICE,
    HTTP_ROUTE,
    INFERENCE_MODEL,
    INFERENCE_OBJECTIVE,
    INFERENCE_POOL,
    PREFILL_DEPLOYMENT,
    PREFILL_SERVICE,
)
from ms_engine.stages.apply import Action, ApplyReport, ChildOutcome, ChildReason

RECONCILED = "Reconciled"
READY = "Ready"


class ConditionReason(StrEnum):
    """Reasons of the Reconciled and Ready conditions besides the render's (`ms_engine.Reason`,
    `PluginError`) and the children's (`ms_engine.stages.apply.ChildReason`)."""

    APPLIED = "Applied"
    AVAILABLE = "Available"
    PLUGIN_ERROR = "PluginError"
    UNSCHEDULABLE = "Unschedulable"
    REPLICAS_UNAVAILABLE = "ReplicasUnavailable"
    PROGRESSING = "Progressing"
    NOT_RECONCILED = "NotReconciled"


WAITING_REASONS = ("ImagePullBackOff", "ErrImagePull", "CrashLoopBackOff", "CreateContainerError")

REF_FIELDS: Mapping[str, str] = {
    DECODE_DEPLOYMENT: "decodeDeploymentRef",
    PREFILL_DEPLOYMENT: "prefillDeploymentRef",
    EPP_DEPLOYMENT: "eppDeploymentRef",
    DECODE_SERVICE: "decodeServiceRef",
    PREFILL_SERVICE: "prefillServiceRef",
    EPP_SERVICE: "eppServiceRef",
    INFERENCE_POOL: "inferencePoolRef",
    INFERENCE_MODEL: "inferenceModelRef",
    INFERENCE_OBJECTIVE: "inferenceModelRef",
    HTTP_ROUTE: "httpRouteRef",
    "eppRoleBinding": "eppRoleBinding",
    "pdServiceAccount": "pdServiceAccountRef",
    "eppServiceAccount": "eppServiceAccountRef",
}
ROLES: Mapping[str, str] = {
    DECODE_DEPLOYMENT: "decode",
    PREFILL_DEPLOYMENT: "prefill",
    EPP_DEPLOYMENT: "epp",
}


OWN_FIELDS = frozenset(
    {
        "observedGeneration",
        "conditions",
        "configMapNames",
        "appliedGroupKinds",
        *REF_FIELDS.values(),
        *(f"{role}{suffix}" for role in ROLES.values() for suffix in ("Ready", "Available")),
    }
)
"""The status fields this controller writes; others (say, the original controller's) are left
alone and not compared."""
OWN_CONDITIONS = (RECONCILED, READY)


def own_part(status: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a status this controller owns: its fields and its condition types."""
    part = {k: v for k, v in status.items() if k in OWN_FIELDS}
    if "conditions" in part:
        part["conditions"] = [
            c for c in part["conditions"] or [] if c.get("type") in OWN_CONDITIONS
        ]
    return part


@dataclass(frozen=True)
class Failure:
    """Why the reconcile could not render or apply: the Reconciled condition's reason."""

    reason: str
    message: str


def condition(
    type_: str, ok: bool, reason: str, message: str, generation: int | None
) -> dict[str, Any]:
    found: dict[str, Any] = {
        "type": type_,
        "status": "True" if ok else "False",
        "reason": reason,
        "message": message[:32000],
    }
    if generation is not None:
        found["observedGeneration"] = generation
    return found


def with_transition_times(
    new: Sequence[dict[str, Any]], old: Sequence[Mapping[str, Any]], now: str
) -> list[dict[str, Any]]:
    """`lastTransitionTime` moves only when a condition's status flips."""
    before = {c.get("type"): c for c in old}
    result = []
    for item in new:
        previous = before.get(item["type"])
        same = previous is not None and previous.get("status") == item["status"]
        stamp = previous.get("lastTransitionTime") if same and previous else None
        result.append({**item, "lastTransitionTime": stamp or now})
    return result


def reconciled_condition(
    report: ApplyReport | None, failure: Failure | None, generation: int | None
) -> dict[str, Any]:
    if failure is not None:
        return condition(RECONCILED, False, failure.reason, failure.message, generation)
    assert report is not None
    for reason, action in (
        (ChildReason.APPLY_FAILED, Action.FAILED),
        (ChildReason.CHILD_CONFLICT, Action.CONFLICT),
    ):
        hit = report.of(action)
        if hit:
            return condition(RECONCILED, False, reason, _join(hit), generation)
    if report.missing_kinds:
        skipped = [c.ref for c in report.of(Action.SKIPPED)]
        message = f"not installed: {', '.join(report.missing_kinds)}"
        if skipped:
            message += f"; skipped {', '.join(skipped)}"
        return condition(RECONCILED, False, ChildReason.MISSING_CRD, message, generation)
    applied = len([c for c in report.children if c.action != Action.PRUNED])
    return condition(
        RECONCILED, True, ConditionReason.APPLIED, f"{applied} children applied", generation
    )


def _join(children: Sequence[ChildOutcome]) -> str:
    return "; ".join(c.message or c.ref for c in children)


@dataclass(frozen=True)
class RoleReadiness:
    role: str
    desired: int
    ready: int
    available: int
    ok: bool


def deployment_readiness(role: str, live: Mapping[str, Any]) -> RoleReadiness:
    spec = live.get("spec") or {}
    status = live.get("status") or {}
    desired = int(spec.get("replicas", 1))
    ready = int(status.get("readyReplicas") or 0)
    available = int(status.get("availableReplicas") or 0)
    updated = int(status.get("updatedReplicas") or 0)
    observed = int(status.get("observedGeneration") or 0) >= int(
        (live.get("metadata") or {}).get("generation") or 0
    )
    ok = observed and available >= desired and updated >= desired
    return RoleReadiness(role, desired, ready, available, ok)


def pod_problem(pods: Sequence[Mapping[str, Any]]) -> tuple[str, str] | None:
    """The first pod-level cause of unavailability: unschedulable, image pull, crash loop."""
    for pod in pods:
        status = pod.get("status") or {}
        for cond in status.get("conditions") or []:
            if (
                cond.get("type") == "PodScheduled"
                and cond.get("status") == "False"
                and cond.get("reason") == "Unschedulable"
            ):
                name = (pod.get("metadata") or {}).get("name")
                return ConditionReason.UNSCHEDULABLE, f"pod {name}: {cond.get('message', '')}"
        for container in [
            *(status.get("initContainerStatuses") or []),
            *(status.get("containerStatuses") or []),
        ]:
            waiting = (container.get("state") or {}).get("waiting") or {}
            if waiting.get("reason") in WAITING_REASONS:
                name = (pod.get("metadata") or {}).get("name")
                return str(waiting["reason"]), (
                    f"pod {name} container {container.get('name')}: {waiting.get('message', '')}"
                ).rstrip(": ")
    return None


def ready_condition(
    reconciled: Mapping[str, Any],
    readiness: Sequence[RoleReadiness],
    pods: Mapping[str, Sequence[Mapping[str, Any]]],
    generation: int | None,
) -> dict[str, Any]:
    if reconciled["status"] != "True":
        return condition(
            READY, False, str(reconciled["reason"]), str(reconciled["message"]), generation
        )
    waiting = [r for r in readiness if not r.ok]
    if not waiting:
        return condition(
            READY, True, ConditionReason.AVAILABLE, "every workload is available", generation
        )
    for role in waiting:
        problem = pod_problem(pods.get(role.role, ()))
        if problem is not None:
            return condition(READY, False, problem[0], f"{role.role}: {problem[1]}", generation)
    message = ", ".join(f"{r.role} {r.available}/{r.desired} available" for r in waiting)
    return condition(
        READY, False, ConditionReason.REPLICAS_UNAVAILABLE, f"replicas {message}", generation
    )


def child_fields(report: ApplyReport, readiness: Sequence[RoleReadiness]) -> dict[str, Any]:
    """Refs to the children that exist, ConfigMap names, per-role readiness, recorded kinds."""
    fields: dict[str, Any] = {}
    config_maps: list[str] = []
    for child in report.children:
        if child.live is None or child.action in (Action.CONFLICT, Action.PRUNED):
            continue
        field = REF_FIELDS.get(child.component)
        if field is not None:
            fields[field] = child.name  # refs are names, as the original controller wrote them
        elif child.kind == "ConfigMap":
            config_maps.append(child.name)
    if config_maps:
        fields["configMapNames"] = sorted(config_maps)
    for role in readiness:
        fields[f"{role.role}Ready"] = f"{role.ready}/{role.desired}"
        fields[f"{role.role}Available"] = role.available
    if report.applied_group_kinds:
        fields["appliedGroupKinds"] = list(report.applied_group_kinds)
    return fields
