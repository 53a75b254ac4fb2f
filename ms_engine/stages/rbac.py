"""Stage `rbac`: the ServiceAccounts of the pods, and the router's picker's least privilege.

What the picker may read is what the router declared (`RouterResult.picker`: its Deployment, its
ServiceAccount, its Role rules); this stage never looks for routing objects by component. Nothing
cluster-scoped is made per ModelService: with `--epp-cluster-role R` the RoleBinding points at the
platform's ClusterRole.
"""

from __future__ import annotations

import copy
from typing import Any

from ms_engine.api.baseconfig import DECODE_DEPLOYMENT, PREFILL_DEPLOYMENT
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


def run(context: RenderContext) -> None:
    names = context.names
    options = context.options
    if DECODE_DEPLOYMENT in context.objects or PREFILL_DEPLOYMENT in context.objects:
        context.objects.add(
            PD_SERVICE_ACCOUNT,
            service_account(context, names.service_account, options.pd_pull_secrets),
        )
    picker = context.router_result.picker if context.router_result else None
    if picker is None:
        return
    context.objects.add(
        EPP_SERVICE_ACCOUNT,
        service_account(context, picker.service_account, options.epp_pull_secrets),
    )
    if options.epp_cluster_role:
        role_ref = {"apiGroup": RBAC_API, "kind": "ClusterRole", "name": options.epp_cluster_role}
    else:
        role: dict[str, Any] = {"apiVersion": f"{RBAC_API}/v1", "kind": "Role"}
        claim(context, role, names.epp_role)
        role["rules"] = [copy.deepcopy(dict(rule)) for rule in picker.rules]
        context.objects.add(EPP_ROLE, role)
        role_ref = {"apiGroup": RBAC_API, "kind": "Role", "name": names.epp_role}
    binding: dict[str, Any] = {"apiVersion": f"{RBAC_API}/v1", "kind": "RoleBinding"}
    claim(context, binding, names.epp_role_binding)
    binding["subjects"] = [
        {
            "kind": "ServiceAccount",
            "name": picker.service_account,
            "namespace": context.namespace,
        }
    ]
    binding["roleRef"] = role_ref
    context.objects.add(EPP_ROLE_BINDING, binding)


STAGE = Stage("rbac", run, description="ServiceAccounts, endpoint picker Role and RoleBinding")
