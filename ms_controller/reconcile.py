"""One reconcile of one ModelService: fetch, resolve the BaseConfig, render, apply, prune, status.

The controller manager calls `reconcile` for a key; `msctl reconcile` calls the same function.
Bad input (spec, BaseConfig, template, plugin) never escapes as an exception: it becomes the
`Reconciled` condition and an Event, and the result is `terminal` (retry only when the
ModelService or its BaseConfig changes). A transient cluster failure gives `retry`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from ms_controller.events import NORMAL, WARNING, Event, EventRecorder
from ms_controller.kube import KubeCluster
from ms_controller.render_cache import RenderCache, RenderInputs
from ms_controller.status import (
    READY,
    RECONCILED,
    ROLES,
    ConditionReason,
    Failure,
    RoleReadiness,
    child_fields,
    deployment_readiness,
    own_part,
    ready_condition,
    reconciled_condition,
    with_transition_times,
)
from ms_engine import PluginError, Reason, Renderer, RenderError, RenderOptions, RenderResult, fail
from ms_engine.api import API_VERSION, GROUP, KIND, VERSION, ModelService, load_model_service
from ms_engine.api.baseconfig import BaseConfig, parse_base_config
from ms_engine.api.crd import PLURAL
from ms_engine.cluster import ClusterError, Unavailable
from ms_engine.pipeline import StageWrapper
from ms_engine.stages.apply import APPLY_REPORT, Action, ApplyReport, ChildReason

REQUEUE_NOT_READY = 30.0
"""Seconds until a look at workloads that are not available yet (watches usually come first)."""


@dataclass
class ReconcileResult:
    """What one reconcile did and what the caller (manager or CLI) should do next."""

    namespace: str
    name: str
    found: bool = True
    report: ApplyReport | None = None
    conditions: list[dict[str, Any]] = field(default_factory=list)
    status_written: bool = False
    terminal: bool = False
    """Bad input: do not retry until the ModelService or its BaseConfig changes."""
    retry: bool = False
    """A transient failure: retry with backoff."""
    requeue_after: float | None = None
    warnings: list[str] = field(default_factory=list)

    def condition(self, type_: str) -> dict[str, Any] | None:
        return next((c for c in self.conditions if c["type"] == type_), None)


def now_rfc3339() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def resolve_base_config(kube: KubeCluster, model_service: ModelService) -> BaseConfig | None:
    """The BaseConfig ConfigMap the ModelService names (its own namespace when none is given)."""
    found = base_config_map(kube, model_service)
    return parse_base_config(found) if found is not None else None


def base_config_map(kube: KubeCluster, model_service: ModelService) -> dict[str, Any] | None:
    """The ConfigMap behind `resolve_base_config`, as the cluster holds it."""
    reference = model_service.spec.base_config_map_ref
    if reference is None:
        return None
    namespace = reference.namespace or model_service.metadata.namespace or "default"
    found = kube.get("v1", "ConfigMap", namespace, reference.name)
    if found is None:
        raise fail(
            f"ConfigMap {namespace}/{reference.name} not found",
            "spec.baseConfigMapRef.name",
            reason=Reason.BASE_CONFIG_NOT_FOUND,
        )
    return found


def read_model_service(live: dict[str, Any]) -> ModelService:
    """The ModelService as the cluster holds it (its status is carried, never validated)."""
    return load_model_service(live)


def _regarding(live: dict[str, Any]) -> dict[str, Any]:
    metadata = live["metadata"]
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "name": metadata["name"],
        "namespace": metadata["namespace"],
        "uid": metadata["uid"],
    }


def reconcile(
    kube: KubeCluster,
    namespace: str,
    name: str,
    *,
    renderer: Renderer,
    options: RenderOptions | None = None,
    events: EventRecorder | None = None,
    strict: bool = False,
    around: StageWrapper | None = None,
    cache: RenderCache | None = None,
) -> ReconcileResult:
    """Make the cluster match ModelService `namespace/name`, then write its status if changed.

    `strict`: wiring warnings fail the reconcile before anything is applied (`WiringProblem`,
    terminal), as `msctl render --strict` fails. `cache`: reuse the last render while its inputs
    are unchanged (the manager keeps one; a single `msctl reconcile` has nothing to reuse).
    """
    result = ReconcileResult(namespace, name)
    live = kube.get(API_VERSION, KIND, namespace, name)
    if live is None or (live.get("metadata") or {}).get("deletionTimestamp"):
        result.found = live is not None
        return result  # gone or going: the garbage collector removes the children
    events = events if events is not None else EventRecorder(kube)
    generation = (live.get("metadata") or {}).get("generation")
    old_status: dict[str, Any] = dict(live.get("status") or {})

    failure: Failure | None = None
    report: ApplyReport | None = None
    try:
        model_service = read_model_service(live)
        config_map = base_config_map(kube, model_service)
        with_cluster = replace(options or RenderOptions(), cluster=kube)
        rendered = _render(
            renderer, cache, f"{namespace}/{name}", live, model_service, config_map,
            with_cluster, around,
        )  # fmt: skip
        result.warnings = [str(w) for w in rendered.warnings]
        if strict and rendered.warnings:
            raise fail(
                "; ".join(result.warnings) + " (strict: nothing applied)", reason=Reason.WIRING
            )
        renderer.pipeline.run(rendered.context, start="apply", around=around)
        report = rendered.context.stash[APPLY_REPORT]
    except RenderError as error:
        failure, result.terminal = Failure(str(error.reason), str(error)), True
    except PluginError as error:
        failure, result.terminal = Failure(ConditionReason.PLUGIN_ERROR, str(error)), True
    except ClusterError as error:
        failure = Failure(ChildReason.APPLY_FAILED, str(error))
        result.retry = isinstance(error, Unavailable)
        result.terminal = not result.retry
    result.report = report

    readiness: list[RoleReadiness] = []
    pods: dict[str, list[dict[str, Any]]] = {}
    if report is not None:
        failed = report.of(Action.FAILED)
        result.retry = any(c.transient for c in failed)
        # A refusal (invalid, forbidden) repeats until the input changes: do not retry it.
        result.terminal = bool(failed) and not result.retry
        for child in report.children:
            role = ROLES.get(child.component)
            if role is None or child.live is None or child.action == Action.CONFLICT:
                continue
            readiness.append(deployment_readiness(role, child.live))
    reconciled = reconciled_condition(report, failure, generation)
    if reconciled["status"] == "True" and result.warnings:  # visible, and stable across passes
        shown = "; ".join(result.warnings[:3])
        more = f" (+{len(result.warnings) - 3} more)" if len(result.warnings) > 3 else ""
        reconciled["message"] += f"; warnings: {shown}{more}"
    if reconciled["status"] == "True":
        for role_state, deployment in _deployments(report, readiness):
            # Pods explain an unavailable role; a Deployment with no pod yet (just created) has
            # none to read, and listing them was 3 of every new ModelService's requests.
            if not role_state.ok and int((deployment.get("status") or {}).get("replicas") or 0):
                spec = deployment.get("spec") or {}
                selector = (spec.get("selector") or {}).get("matchLabels")
                if selector:
                    pods[role_state.role] = kube.list_pods(namespace, selector)
    ready = ready_condition(reconciled, readiness, pods, generation)
    if reconciled["status"] == "True" and ready["status"] != "True":
        result.requeue_after = REQUEUE_NOT_READY

    now = now_rfc3339()
    conditions = with_transition_times([reconciled, ready], old_status.get("conditions") or [], now)
    result.conditions = conditions
    if report is not None:
        new_status: dict[str, Any] = child_fields(report, readiness)
    else:  # nothing was applied: keep what we knew about the children
        new_status = {k: v for k, v in own_part(old_status).items() if k != "conditions"}
    new_status["observedGeneration"] = generation
    new_status["conditions"] = conditions
    if new_status != own_part(old_status):
        written = kube.apply_status(GROUP, VERSION, PLURAL, namespace, name, new_status)
        result.status_written = written is not None

    _record_events(events, live, report, old_status, conditions)
    return result


def _render(
    renderer: Renderer,
    cache: RenderCache | None,
    key: str,
    live: dict[str, Any],
    model_service: ModelService,
    config_map: dict[str, Any] | None,
    options: RenderOptions,
    around: StageWrapper | None,
) -> RenderResult:
    """The render up to the apply stage: a copy of the cached one when its inputs are unchanged,
    given this pass's ModelService (its status tells apply which kinds it applied before) and
    cluster."""

    def render() -> RenderResult:
        base_config = parse_base_config(config_map) if config_map is not None else None
        return renderer.render(model_service, base_config, options, until="validate", around=around)

    if cache is None:
        return render()
    inputs = RenderInputs.of(live, config_map, options)
    cached = cache.get(key, inputs)  # a fresh copy: this pass may change it
    if cached is not None:
        cached.context.model_service, cached.context.options = model_service, options
        return cached
    rendered = render()
    cache.put(key, inputs, rendered)
    return rendered


def _deployments(
    report: ApplyReport | None, readiness: list[RoleReadiness]
) -> list[tuple[RoleReadiness, dict[str, Any]]]:
    if report is None:
        return []
    by_role = {r.role: r for r in readiness}
    found = []
    for child in report.children:
        role = ROLES.get(child.component)
        if role in by_role and child.live is not None:
            found.append((by_role[role], child.live))
    return found


NOTE_LIMIT = 1024
"""events.k8s.io/v1 refuses a longer note."""


def created_note(refs: list[str]) -> str:
    """One note for every child a pass created: a new ModelService makes a dozen at once, and a
    dozen Events each would be most of the API server's writes for it (and of `describe`)."""
    head = f"created {len(refs)} {'object' if len(refs) == 1 else 'objects'}: "
    shown: list[str] = []
    for ref in refs:
        rest = len(refs) - len(shown) - 1
        tail = f" (+{rest} more)" if rest else ""
        if len(head + ", ".join([*shown, ref]) + tail) > NOTE_LIMIT:
            break
        shown.append(ref)
    rest = len(refs) - len(shown)
    return head + ", ".join(shown) + (f" (+{rest} more)" if rest else "")


def _record_events(
    events: EventRecorder,
    live: dict[str, Any],
    report: ApplyReport | None,
    old_status: dict[str, Any],
    conditions: list[dict[str, Any]],
) -> None:
    regarding = _regarding(live)
    if report is not None:
        created = [child.ref for child in report.children if child.action == Action.CREATED]
        if created:
            events.emit(regarding, Event(NORMAL, "Created", "Apply", created_note(created)))
        for child in report.children:
            related = {
                "apiVersion": child.api_version,
                "kind": child.kind,
                "name": child.name,
                "namespace": regarding["namespace"],
            }
            if child.action in (Action.CONFIGURED, Action.PRUNED):
                reason = child.action.value.capitalize()
                # Why it was configured (e.g. "spec.x was changed by another manager").
                note = f"{child.ref} {child.action.value}"
                if child.action == Action.CONFIGURED and child.message:
                    note = f"{note}: {child.message}"
                events.emit(regarding, Event(NORMAL, reason, "Apply", note, related))
            elif child.action == Action.FAILED:
                events.emit(
                    regarding,
                    Event(WARNING, child.reason, "Apply", child.message or child.ref, related),
                )
    # A condition that turned bad (or changed its reason) is worth one Warning; the same
    # condition seen again writes nothing.
    before = {c.get("type"): c for c in old_status.get("conditions") or []}
    for item in conditions:
        if item["type"] != RECONCILED or item["status"] == "True":
            continue
        previous = before.get(item["type"]) or {}
        if (previous.get("reason"), previous.get("message")) == (item["reason"], item["message"]):
            continue
        if item["reason"] == ChildReason.APPLY_FAILED and report is not None:
            continue  # each failed child already has its Event
        events.emit(regarding, Event(WARNING, str(item["reason"]), "Reconcile", item["message"]))


__all__ = [
    "READY",
    "RECONCILED",
    "ReconcileResult",
    "read_model_service",
    "reconcile",
    "resolve_base_config",
]
