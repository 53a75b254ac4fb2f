"""Names and labels of the children, as the original controller spelled them.

Names longer than a DNS label (63) are cut and get a stable hash suffix, so two long names never
collapse onto one shared fallback name (the original's defect).
"""

from __future__ import annotations

import hashlib
import re

MAX_NAME = 63
_DISALLOWED = re.compile(r"[^a-z0-9-]+")

MANAGED_BY = "app.kubernetes.io/managed-by"
PART_OF = "app.kubernetes.io/part-of"
MANAGER = "modelservice"
INFERENCE_SERVING = "llm-d.ai/inferenceServing"
MODEL = "llm-d.ai/model"
ROLE = "llm-d.ai/role"
MODEL_SERVICE = "llm-d.ai/modelservice"
"""Pod label naming the ModelService (its `part-of` name): keeps the Deployment and role Service
selectors of two ModelServices of one model apart, while the pool still selects both."""
EPP = "llm-d.ai/epp"

DECODE = "decode"
PREFILL = "prefill"
ROLES = (DECODE, PREFILL)


def sanitize(text: str) -> str:
    """Lowercase; each run outside `[a-z0-9-]` becomes one `-`; trim `-._`; at most 63 chars."""
    cleaned = _DISALLOWED.sub("-", text.strip().lower()).strip("-._")
    return cleaned[:MAX_NAME].strip("-._")


def bounded(name: str) -> str:
    """`name` sanitized, or when longer than 63 characters, cut with an 8-hex hash of the whole."""
    cleaned = _DISALLOWED.sub("-", name.strip().lower()).strip("-._")
    if len(cleaned) <= MAX_NAME:
        return cleaned
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{cleaned[: MAX_NAME - 9].rstrip('-')}-{digest}"


def child_name(model_service: str, suffix: str) -> str:
    """`<ms>-<suffix>`: `llama-decode`, `llama-epp-service`, ... When that is longer than 63
    characters, the ModelService part is cut, so the suffix that tells the children apart stays:
    `<ms, cut>-<suffix>-<8-hex hash of the whole>`."""
    whole = f"{model_service}-{suffix}"
    cleaned = _DISALLOWED.sub("-", whole.strip().lower()).strip("-._")
    if len(cleaned) <= MAX_NAME:
        return cleaned
    digest = hashlib.sha256(whole.encode()).hexdigest()[:8]
    tail = f"-{sanitize(suffix)}-{digest}"
    head = _DISALLOWED.sub("-", model_service.strip().lower()).strip("-._")
    return f"{head[: MAX_NAME - len(tail)].rstrip('-._')}{tail}"


class ChildNames:
    """Every child name of one ModelService, computed once."""

    def __init__(self, model_service: str) -> None:
        self.model_service = model_service
        self.decode_deployment = child_name(model_service, "decode")
        self.prefill_deployment = child_name(model_service, "prefill")
        self.decode_service = child_name(model_service, "service-decode")
        self.prefill_service = child_name(model_service, "service-prefill")
        self.service_account = child_name(model_service, "sa")
        self.epp_deployment = child_name(model_service, "epp")
        self.epp_service = child_name(model_service, "epp-service")
        self.epp_service_account = child_name(model_service, "epp-sa")
        self.epp_role = child_name(model_service, "epp")
        self.epp_role_binding = child_name(model_service, "epp-rolebinding")
        self.inference_pool = child_name(model_service, "inference-pool")
        self.http_route = child_name(model_service, "http-route")
        self.inference_model = bounded(model_service)
        self.part_of = bounded(model_service)

    def deployment(self, role: str) -> str:
        return self.decode_deployment if role == DECODE else self.prefill_deployment

    def service(self, role: str) -> str:
        return self.decode_service if role == DECODE else self.prefill_service

    def of_key(self, key: str) -> str | None:
        """The name of the object a BaseConfig key makes (None for `configMaps`: as written)."""
        return {
            "decodeDeployment": self.decode_deployment,
            "prefillDeployment": self.prefill_deployment,
            "decodeService": self.decode_service,
            "prefillService": self.prefill_service,
            "eppDeployment": self.epp_deployment,
            "eppService": self.epp_service,
            "inferencePool": self.inference_pool,
            "inferenceModel": self.inference_model,
            "inferenceObjective": self.inference_model,
            "httpRoute": self.http_route,
        }.get(key)
