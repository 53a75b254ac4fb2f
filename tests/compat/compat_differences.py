"""The reviewed list of intended differences from the original controller's output.

Each entry names its line in docs/user-guide.md ("What changed from the original") by `id`; a
difference no entry explains fails the suite, and an entry no case uses fails too (stale).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from compat_data import ABSENT, Difference

MANAGED_LABELS = ("app.kubernetes.io/managed-by", "app.kubernetes.io/part-of")
MODEL_LABELS = ("llm-d.ai/inferenceServing", "llm-d.ai/model")


@dataclass(frozen=True)
class Intended:
    id: str
    summary: str
    matches: Callable[[Difference], bool]


def _path(pattern: str) -> Callable[[Difference], bool]:
    compiled = re.compile(pattern)
    return lambda d: bool(compiled.fullmatch(d.path))


def _ours_only(pattern: str, kinds: tuple[str, ...] = ()) -> Callable[[Difference], bool]:
    at = _path(pattern)
    return lambda d: d.original == ABSENT and at(d) and (not kinds or d.kind in kinds)


def _theirs_only(pattern: str, kinds: tuple[str, ...] = ()) -> Callable[[Difference], bool]:
    at = _path(pattern)
    return lambda d: d.ours == ABSENT and at(d) and (not kinds or d.kind in kinds)


def _labels(names: tuple[str, ...]) -> str:
    return r"metadata\.labels\.(" + "|".join(re.escape(n) for n in names) + ")"


INTENDED: tuple[Intended, ...] = (
    Intended(
        "managed-labels",
        "every object carries app.kubernetes.io/managed-by and app.kubernetes.io/part-of",
        _ours_only(_labels(MANAGED_LABELS)),
    ),
    Intended(
        "model-labels",
        "Services and the InferencePool carry the llm-d.ai model labels too",
        _ours_only(_labels(MODEL_LABELS), ("Service", "InferencePool")),
    ),
    Intended(
        "inference-pool-v1",
        "InferencePool is inference.networking.k8s.io/v1 (matchLabels, endpointPickerRef)",
        lambda d: (
            d.kind == "InferencePool"
            and (
                d.path == "apiVersion"
                or _ours_only(r"spec\.selector\.matchLabels\..*|spec\.endpointPickerRef\..*")(d)
                or _ours_only(r"spec\.targetPorts\[\d+\]\.number")(d)
                or _theirs_only(r"spec\.selector\.[^.]+.*|spec\.extensionRef\..*")(d)
                or _theirs_only(r"spec\.targetPortNumber")(d)
            )
        ),
    ),
    Intended(
        "selectors-are-ours",
        "Service and Deployment selectors are exactly the ModelService's labels",
        lambda d: (
            d.kind in ("Service", "Deployment")
            and _theirs_only(r"spec\.selector\.(matchLabels\.)?[^.]+(\.[^.]+)*")(d)
        ),
    ),
    Intended(
        "replicas-stated",
        "Deployments state replicas (the CRD default 1) where the original left them unset",
        lambda d: d.kind == "Deployment" and d.path == "spec.replicas" and d.original == ABSENT,
    ),
    Intended(
        "no-target-port-zero",
        "no targetPort: 0 on Service ports (Kubernetes then targets the port itself)",
        lambda d: (
            d.kind == "Service"
            and _theirs_only(r"spec\.ports\[[^\]]+\]\.targetPort")(d)
            and d.original == 0
        ),
    ),
    Intended(
        "one-model-volume",
        "one model-storage volume, never a doubled one",
        lambda d: (
            d.kind == "Deployment"
            and d.ours == ABSENT
            and bool(
                re.fullmatch(r"spec\.template\.spec\.volumes\[model-storage(#2)?\]\..*", d.path)
            )
        ),
    ),
    Intended(
        "untyped-objects",
        "BaseConfig objects are not decoded into Go structs: fields Kubernetes does not know "
        "(securityContext.securityContext from a chart values bug, a Service's top-level type "
        "in a sample) reach the API server, which prunes them, where the original dropped them",
        lambda d: (
            d.original == ABSENT
            and (
                bool(re.search(r"securityContext\.securityContext\.", d.path))
                or (d.kind == "Service" and d.path == "type")
            )
        ),
    ),
)


def explain(difference: Difference) -> Intended | None:
    for intended in INTENDED:
        if intended.matches(difference):
            return intended
    return None
