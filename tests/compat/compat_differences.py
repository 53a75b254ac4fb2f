"""The reviewed list of intended differences from the original controller's output.

Each entry names its line in docs/user-guide.md ("What changed from the original") by `id`; a
difference no entry explains fails the suite. An entry the data exercises today must keep being
used (else it is stale); `anticipated` entries come from documented fixes the current cases do
not reach (a ModelService's own env on a mountModelVolume container, ...) and are scoped by the
ModelService, so they explain only what that fix would change.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from compat_data import ABSENT, LONG_NAME, Difference

MANAGED_LABELS = ("app.kubernetes.io/managed-by", "app.kubernetes.io/part-of")
MODEL_LABELS = ("llm-d.ai/inferenceServing", "llm-d.ai/model")


@dataclass(frozen=True)
class Intended:
    id: str
    summary: str
    matches: Callable[[Difference], bool]
    anticipated: bool = False
    with_model_service: Callable[[Difference, dict[str, Any]], bool] | None = None


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
        "modelservice-label",
        "role pods, their Deployments and Services carry and select llm-d.ai/modelservice",
        _ours_only(
            r"(metadata\.labels|spec\.selector(\.matchLabels)?|spec\.template\.metadata\.labels)"
            r"\.llm-d\.ai/modelservice",
            ("Deployment", "Service"),
        ),
    ),
    Intended(
        "model-labels",
        "Services and the InferencePool carry the llm-d.ai model labels too",
        _ours_only(_labels(MODEL_LABELS), ("Service", "InferencePool")),
    ),
    Intended(
        "inference-pool-v1",
        "an InferencePool fragment stating inference.networking.k8s.io/v1 stays v1",
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
        anticipated=True,  # the data states v1alpha2 or nothing (read as v1alpha2)
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
)


def _role(d: Difference) -> str | None:
    for role in ("prefill", "decode"):
        if d.name.endswith(f"-{role}") or d.name.endswith(f"-service-{role}"):
            return role
    return None


def _ms_container(d: Difference, ms: dict[str, Any]) -> dict[str, Any] | None:
    """The ModelService container a Deployment path `...containers[NAME]...` is about."""
    found = re.match(r"spec\.template\.spec\.(containers|initContainers)\[([^\]#]+)", d.path)
    role = _role(d)
    if not found or role is None:
        return None
    section = (ms.get("spec") or {}).get(role) or {}
    for container in section.get(found.group(1)) or []:
        if container.get("name") == found.group(2):
            return dict(container)
    return None


def _prefill_without_prefill(d: Difference, ms: dict[str, Any]) -> bool:
    no_prefill = not (ms.get("spec") or {}).get("prefill")
    return no_prefill and d.path == "" and d.ours == ABSENT and _role(d) == "prefill"


def _zero_override(d: Difference, ms: dict[str, Any]) -> bool:
    role = _role(d)
    section = ((ms.get("spec") or {}).get(role) or {}) if role else {}
    return d.path == "spec.replicas" and d.ours == 0 and section.get("replicas") == 0


def _ms_env_kept(d: Difference, ms: dict[str, Any]) -> bool:
    container = _ms_container(d, ms)
    entry = re.search(r"\.env\[([^\]]+)\]", d.path)
    if not container or not entry or d.original != ABSENT or not container.get("mountModelVolume"):
        return False
    return entry.group(1) in {e.get("name") for e in container.get("env") or []}


def _accelerator_affinity(d: Difference, ms: dict[str, Any]) -> bool:
    role = _role(d)
    section = ((ms.get("spec") or {}).get(role) or {}) if role else {}
    return d.path.startswith("spec.template.spec.affinity.") and bool(
        section.get("acceleratorTypes")
    )


def _hf_mount_writable(d: Difference, ms: dict[str, Any]) -> bool:
    uri = ((ms.get("spec") or {}).get("modelArtifacts") or {}).get("uri", "")
    return (
        uri.startswith("hf://")
        and d.path.endswith(".volumeMounts[model-storage].readOnly")
        and d.ours == ABSENT
        and d.original is True
    )


def _ms_args_replace(d: Difference, ms: dict[str, Any]) -> bool:
    container = _ms_container(d, ms)
    return bool(container and container.get("args")) and bool(
        re.search(r"\.args(\[\d+\])?$", d.path)
    )


def _long_name(d: Difference, ms: dict[str, Any]) -> bool:
    if not (isinstance(d.ours, str) and isinstance(d.original, str)):
        return False
    return len(d.original) >= LONG_NAME and d.ours[:40] == d.original[:40]


ANTICIPATED: tuple[Intended, ...] = tuple(
    Intended(id_, summary, lambda d: False, True, check)
    for id_, summary, check in (
        ("prefill-only-with-prefill", "no prefill Deployment or Service without spec.prefill",
         _prefill_without_prefill),
        ("zero-overrides", "a ModelService's replicas: 0 overrides the BaseConfig", _zero_override),
        ("ms-env-kept", "a ModelService's env survives on mountModelVolume containers",
         _ms_env_kept),
        ("accelerator-affinity", "acceleratorTypes are ANDed into existing node affinity terms",
         _accelerator_affinity),
        ("hf-mount-writable", "the hf:// model mount is writable (the download needs it)",
         _hf_mount_writable),
        ("args-replace-flags", "a ModelService flag in args replaces the BaseConfig's in place",
         _ms_args_replace),
        ("long-names", "names longer than 63 characters get a hash, not a truncation",
         _long_name),
    )
)  # fmt: skip


def explain(difference: Difference, ms: dict[str, Any] | None = None) -> Intended | None:
    for intended in INTENDED:
        if intended.matches(difference):
            return intended
    for intended in ANTICIPATED:
        check = intended.with_model_service
        if ms is not None and check is not None and check(difference, ms):
            return intended
    return None
