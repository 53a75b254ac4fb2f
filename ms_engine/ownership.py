"""The controller's own contributions to every child: identity, ownership labels, owner reference.

Applied last by the stage that emits an object, so they always win over the BaseConfig.
"""

from __future__ import annotations

from typing import Any

from ms_engine.api.modelservice import API_VERSION, KIND
from ms_engine.context import RenderContext
from ms_engine.names import (
    INFERENCE_SERVING,
    MANAGED_BY,
    MANAGER,
    MODEL,
    MODEL_SERVICE,
    PART_OF,
    ROLE,
    sanitize,
)


def common_labels(context: RenderContext) -> dict[str, str]:
    """The labels the InferencePool selects on: every serving pod of this model has them."""
    return {INFERENCE_SERVING: "true", MODEL: sanitize(context.spec.routing.model_name)}


def pod_labels(context: RenderContext, role: str) -> dict[str, str]:
    """A role's pods: the pool's labels, the role, and this ModelService (so two ModelServices of
    one model in one namespace never select each other's pods)."""
    return {**common_labels(context), ROLE: role, MODEL_SERVICE: context.names.part_of}


def ownership_labels(context: RenderContext) -> dict[str, str]:
    """`managed-by` and `part-of`: how the controller recognises what it owns."""
    return {MANAGED_BY: MANAGER, PART_OF: context.names.part_of}


def owner_reference(context: RenderContext) -> dict[str, Any] | None:
    """A controller owner reference, when the ModelService has a uid (it came from a cluster)."""
    uid = context.model_service.metadata.uid
    if not uid:
        return None
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "name": context.model_service.name,
        "uid": uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }


def claim(
    context: RenderContext,
    body: dict[str, Any],
    name: str,
    labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Stamp `body` (in place, and return it) as a child of this ModelService named `name`."""
    metadata = dict(body.get("metadata") or {})
    metadata["name"] = name
    metadata["namespace"] = context.namespace
    metadata["labels"] = {
        **(metadata.get("labels") or {}),
        **(labels or {}),
        **ownership_labels(context),
    }
    reference = owner_reference(context)
    if reference is not None:
        others = [
            ref
            for ref in metadata.get("ownerReferences") or []
            if not (ref.get("kind") == KIND and ref.get("name") == context.model_service.name)
            and not ref.get("controller")
        ]
        metadata["ownerReferences"] = [*others, reference]
    else:
        metadata.pop("ownerReferences", None)
    # Rebuild in place so metadata reads right after apiVersion and kind.
    rest = {k: v for k, v in body.items() if k not in ("apiVersion", "kind", "metadata")}
    head = {"apiVersion": body.get("apiVersion"), "kind": body.get("kind"), "metadata": metadata}
    body.clear()
    body.update(head)
    body.update(rest)
    return body


def claim_pod_owner(
    context: RenderContext,
    document: dict[str, Any],
    *,
    name: str,
    selector: dict[str, str],
    service_account: str,
) -> dict[str, Any]:
    """Stamp a Deployment: identity, the ServiceAccount, 1 replica unless one was given, and a
    selector of the BaseConfig's selector labels united with `selector` (ours win on a shared key).

    The BaseConfig's selector is kept, as the original controller kept it: a Deployment's selector
    is immutable, so one it created can only be updated with the same selector. Every selector
    label is also put on the pods, which keep the BaseConfig's other labels.
    """
    deployment = claim(context, document, name, selector)
    spec = dict(deployment.get("spec") or {})
    template = dict(spec.pop("template", None) or {})
    template_metadata = dict(template.pop("metadata", None) or {})
    pod_spec = dict(template.pop("spec", None) or {})
    pod_spec["serviceAccountName"] = service_account
    replicas = spec.pop("replicas", None)
    base_selector = spec.pop("selector", None)
    if not isinstance(base_selector, dict):
        base_selector = {}
    match_labels = {**(base_selector.get("matchLabels") or {}), **selector}
    template_metadata["labels"] = {**(template_metadata.get("labels") or {}), **match_labels}
    deployment["spec"] = {
        "replicas": 1 if replicas is None else replicas,
        "selector": {**base_selector, "matchLabels": match_labels},
        **spec,
        "template": {"metadata": template_metadata, **template, "spec": pod_spec},
    }
    return deployment
