"""Stage `rbac`: the ServiceAccounts of the pods, and the endpoint picker's least privilege.

The picker reads pods, its InferencePool and the objective/rewrite objects; it gets leases and
events only when it runs more than one replica (leader election). Nothing cluster-scoped is made
per ModelService: with `--epp-cluster-role R` the RoleBinding points at the platform's ClusterRole.
"""

from __future__ import annotations

from typing import Any

from ms_engine import gie
from ms_engine.api.baseconfig import (
    DECODE_DEPLOYMENT,
    EPP_DEPLOYMENT,
    INFERENCE_POOL,
    PREFILL_DEPLOYMENT,
)
from ms_engine.context import RenderContext
from ms_engine.ownership import claim
from ms_engine.stage import Stage

RBAC_API = "rbac.authorization.k8s.io"
PD_SERVICE_ACCOUNT = "pdServiceAccount"
EPP_SERVICE_ACCOUNT = "eppServiceAccount"
EPP_ROLE = "eppRole"
EPP_ROLE_BINDING = "eppRoleBinding"


def service_account(
    context: RenderContext, name: str, pull_secrets: tuple[str, ...]
) -> dict[str, Any]:
    body: dict[str, Any] = {"apiVersion": "v1", "kind": "ServiceAccount"}
    claim(context, body, name)
    if pull_secrets:
        body["imagePullSecrets"] = [{"name": secret} for secret in pull_secrets]
    return body


def epp_rules(pool: dict[str, Any] | None, replicas: int) -> list[dict[str, Any]]:
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


def run(context: RenderContext) -> None:
    names = context.names
    options = context.options
    if DECODE_DEPLOYMENT in context.objects or PREFILL_DEPLOYMENT in context.objects:
        context.objects.add(
            PD_SERVICE_ACCOUNT,
            service_account(context, names.service_account, options.pd_pull_secrets),
        )
    epp = context.objects.get(EPP_DEPLOYMENT)
    if epp is None:
        return
    context.objects.add(
        EPP_SERVICE_ACCOUNT,
        service_account(context, names.epp_service_account, options.epp_pull_secrets),
    )
    if options.epp_cluster_role:
        role_ref = {"apiGroup": RBAC_API, "kind": "ClusterRole", "name": options.epp_cluster_role}
    else:
        replicas = int((epp.get("spec") or {}).get("replicas") or 1)
        role: dict[str, Any] = {"apiVersion": f"{RBAC_API}/v1", "kind": "Role"}
        claim(context, role, names.epp_role)
        role["rules"] = epp_rules(context.objects.get(INFERENCE_POOL), replicas)
        context.objects.add(EPP_ROLE, role)
        role_ref = {"apiGroup": RBAC_API, "kind": "Role", "name": names.epp_role}
    binding: dict[str, Any] = {"apiVersion": f"{RBAC_API}/v1", "kind": "RoleBinding"}
    claim(context, binding, names.epp_role_binding)
    binding["subjects"] = [
        {
            "kind": "ServiceAccount",
            "name": names.epp_service_account,
            "namespace": context.namespace,
        }
    ]
    binding["roleRef"] = role_ref
    context.objects.add(EPP_ROLE_BINDING, binding)


STAGE = Stage("rbac", run, description="ServiceAccounts, endpoint picker Role and RoleBinding")
