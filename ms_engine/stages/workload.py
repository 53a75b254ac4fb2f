"""Stage `workload`: the decode and prefill Deployments and their Services.

Decode exists when the ModelService has `decode` or the BaseConfig has `decodeDeployment`;
prefill only when the ModelService has `prefill`, so one P/D preset serves aggregated and
disaggregated models. A Service exists only with its Deployment.
"""

from __future__ import annotations

from typing import Any

from ms_engine.api.baseconfig import DECODE_DEPLOYMENT, ROLE_DEPLOYMENT_KEYS, ROLE_SERVICE_KEYS
from ms_engine.api.modelservice import AcceleratorTypes
from ms_engine.context import RenderContext
from ms_engine.names import DECODE, ROLES
from ms_engine.ownership import claim, claim_pod_owner, common_labels, pod_labels
from ms_engine.problems import Reason, fail
from ms_engine.stage import Stage


def role_exists(context: RenderContext, role: str) -> bool:
    if role == DECODE:
        return context.spec.decode is not None or DECODE_DEPLOYMENT in context.documents
    return context.spec.prefill is not None


def with_accelerators(pod_spec: dict[str, Any], accelerators: AcceleratorTypes) -> None:
    """Require the accelerator label in every node selector term (AND), or as the only term.

    Adding it as a new term would OR it with the existing ones and let pods land anywhere the
    BaseConfig allowed: the original controller's defect.
    """
    expression = {
        "key": accelerators.label_key,
        "operator": "In",
        "values": list(accelerators.label_values),
    }
    affinity = pod_spec.setdefault("affinity", {})
    node_affinity = affinity.setdefault("nodeAffinity", {})
    required = node_affinity.setdefault("requiredDuringSchedulingIgnoredDuringExecution", {})
    terms = required.get("nodeSelectorTerms") or []
    if not terms:
        required["nodeSelectorTerms"] = [{"matchExpressions": [expression]}]
        return
    required["nodeSelectorTerms"] = [
        {**term, "matchExpressions": [*(term.get("matchExpressions") or []), dict(expression)]}
        for term in terms
    ]


def build_deployment(context: RenderContext, role: str, document: dict[str, Any]) -> dict[str, Any]:
    key = ROLE_DEPLOYMENT_KEYS[role]
    deployment = claim_pod_owner(
        context,
        document,
        name=context.names.deployment(role),
        selector=pod_labels(context, role),
        service_account=context.names.service_account,
    )
    pod_spec = deployment["spec"]["template"]["spec"]
    if not pod_spec.get("containers"):
        raise fail(
            f"the {role} pods have no containers: give them in the BaseConfig's {key} or in "
            f"spec.{role}.containers",
            f"spec.{role}.containers",
        )
    section = context.spec.role(role)
    if section is not None and section.accelerator_types is not None:
        with_accelerators(pod_spec, section.accelerator_types)
    return deployment


def build_service(context: RenderContext, role: str, document: dict[str, Any]) -> dict[str, Any]:
    service = claim(context, document, context.names.service(role), common_labels(context))
    spec = service.setdefault("spec", {})
    # The BaseConfig's selector is kept (as the original did) and ours added: a selector that
    # then matches none of these pods is a wiring warning (checks.check_service_selectors).
    base_selector = spec.get("selector") if isinstance(spec.get("selector"), dict) else {}
    spec["selector"] = {**base_selector, **pod_labels(context, role)}
    if not spec.get("ports"):
        raise fail(
            f"the {role} Service has no ports",
            ROLE_SERVICE_KEYS[role],
            reason=Reason.INVALID_BASE_CONFIG,
        )
    return service


def run(context: RenderContext) -> None:
    for role in ROLES:
        deployment_key, service_key = ROLE_DEPLOYMENT_KEYS[role], ROLE_SERVICE_KEYS[role]
        exists = role_exists(context, role)
        deployment_document = context.documents.pop(deployment_key, None)
        service_document = context.documents.pop(service_key, None)
        if not exists or deployment_document is None:
            continue
        context.objects.add(deployment_key, build_deployment(context, role, deployment_document))
        if service_document is not None:
            context.objects.add(service_key, build_service(context, role, service_document))


STAGE = Stage("workload", run, description="decode and prefill Deployments and Services")
