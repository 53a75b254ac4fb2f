"""BaseConfig: a ConfigMap whose data values are templates of Kubernetes objects."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ms_engine.problems import BASECONFIG, Problem, Reason, Severity, fail

DECODE_DEPLOYMENT = "decodeDeployment"
PREFILL_DEPLOYMENT = "prefillDeployment"
DECODE_SERVICE = "decodeService"
PREFILL_SERVICE = "prefillService"
EPP_DEPLOYMENT = "eppDeployment"
EPP_SERVICE = "eppService"
INFERENCE_POOL = "inferencePool"
INFERENCE_MODEL = "inferenceModel"
INFERENCE_OBJECTIVE = "inferenceObjective"
HTTP_ROUTE = "httpRoute"
CONFIG_MAPS = "configMaps"

KNOWN_KEYS: tuple[str, ...] = (
    DECODE_DEPLOYMENT,
    PREFILL_DEPLOYMENT,
    DECODE_SERVICE,
    PREFILL_SERVICE,
    EPP_DEPLOYMENT,
    EPP_SERVICE,
    INFERENCE_POOL,
    INFERENCE_MODEL,
    INFERENCE_OBJECTIVE,
    HTTP_ROUTE,
    CONFIG_MAPS,
)
"""Every data key a BaseConfig may hold, in the order they are rendered."""

ROLE_DEPLOYMENT_KEYS: Mapping[str, str] = {
    "decode": DECODE_DEPLOYMENT,
    "prefill": PREFILL_DEPLOYMENT,
}
"""The BaseConfig key of each role's Deployment (roles as `ms_engine.names.ROLES` spells them)."""
ROLE_SERVICE_KEYS: Mapping[str, str] = {"decode": DECODE_SERVICE, "prefill": PREFILL_SERVICE}

LIST_KEYS = frozenset({CONFIG_MAPS})
"""Keys whose template renders a YAML list of objects rather than one object."""


@dataclass(frozen=True)
class KeyType:
    """The kind a key's objects must be. A fragment may omit apiVersion and kind: the first
    apiVersion here is filled in. Any other kind is an error naming the key."""

    kind: str
    api_versions: tuple[str, ...]


DEPLOYMENT = KeyType("Deployment", ("apps/v1",))
SERVICE = KeyType("Service", ("v1",))
POOL_V1 = "inference.networking.k8s.io/v1"
POOL_LEGACY = "inference.networking.x-k8s.io/v1alpha2"
OBJECTIVE_LLMD = "llm-d.ai/v1alpha2"

KEY_TYPES: Mapping[str, KeyType] = {
    DECODE_DEPLOYMENT: DEPLOYMENT,
    PREFILL_DEPLOYMENT: DEPLOYMENT,
    EPP_DEPLOYMENT: DEPLOYMENT,
    DECODE_SERVICE: SERVICE,
    PREFILL_SERVICE: SERVICE,
    EPP_SERVICE: SERVICE,
    INFERENCE_POOL: KeyType("InferencePool", (POOL_V1, POOL_LEGACY)),
    INFERENCE_MODEL: KeyType("InferenceModel", (POOL_LEGACY,)),
    INFERENCE_OBJECTIVE: KeyType("InferenceObjective", (OBJECTIVE_LLMD, POOL_LEGACY)),
    HTTP_ROUTE: KeyType(
        "HTTPRoute", ("gateway.networking.k8s.io/v1", "gateway.networking.k8s.io/v1beta1")
    ),
    CONFIG_MAPS: KeyType("ConfigMap", ("v1",)),
}


@dataclass(frozen=True)
class BaseConfig:
    """The templates of one BaseConfig, by key, plus the warnings found while reading it."""

    name: str
    namespace: str | None
    templates: Mapping[str, str]
    warnings: tuple[Problem, ...] = field(default=())
    annotations: Mapping[str, str] = field(default_factory=dict)
    """metadata.annotations (e.g. the template dialect)."""

    @property
    def label(self) -> str:
        """How problems name this BaseConfig."""
        return f"BaseConfig {self.name}"


def parse_base_config(document: Any) -> BaseConfig:
    """Read a ConfigMap document as a BaseConfig.

    Unknown data keys are kept out of rendering but reported as warnings, so a typo such as
    `decodeDeploymnet` does not vanish silently.
    """
    if not isinstance(document, Mapping):
        raise fail("a BaseConfig must be a ConfigMap mapping", reason=Reason.INVALID_BASE_CONFIG)
    kind = document.get("kind")
    if kind != "ConfigMap" or document.get("apiVersion") != "v1":
        raise fail(
            f"a BaseConfig must be apiVersion v1, kind ConfigMap (got {document.get('apiVersion')}"
            f" {kind})",
            "kind",
            reason=Reason.INVALID_BASE_CONFIG,
        )
    metadata = document.get("metadata") or {}
    name = metadata.get("name") if isinstance(metadata, Mapping) else None
    if not isinstance(name, str) or not name:
        raise fail("is required", "metadata.name", reason=Reason.INVALID_BASE_CONFIG)
    data = document.get("data") or {}
    if not isinstance(data, Mapping):
        raise fail(
            "must be a mapping of key to template", "data", reason=Reason.INVALID_BASE_CONFIG
        )

    templates: dict[str, str] = {}
    warnings: list[Problem] = []
    for key, value in data.items():
        if not isinstance(value, str):
            raise fail(
                f"must be a string (a template), got {type(value).__name__}",
                f"data.{key}",
                reason=Reason.INVALID_BASE_CONFIG,
            )
        if key in KNOWN_KEYS:
            templates[key] = value
            continue
        hint = difflib.get_close_matches(str(key), KNOWN_KEYS, n=1)
        suggestion = f"did you mean {hint[0]}?" if hint else f"known keys: {', '.join(KNOWN_KEYS)}"
        warnings.append(
            Problem(
                f"unknown key, ignored ({suggestion})",
                f"data.{key}",
                severity=Severity.WARNING,
                reason=Reason.INVALID_BASE_CONFIG,
                document=BASECONFIG,
            )
        )
    namespace = metadata.get("namespace")
    annotations = metadata.get("annotations") or {}
    return BaseConfig(
        name=name,
        namespace=namespace if isinstance(namespace, str) else None,
        templates=templates,
        warnings=tuple(warnings),
        annotations={str(k): str(v) for k, v in annotations.items()}
        if isinstance(annotations, Mapping)
        else {},
    )
