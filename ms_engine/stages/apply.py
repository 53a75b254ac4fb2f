"""Stage `apply`: make the cluster hold the desired objects, and only ours.

It reaches a cluster only through the `Cluster` handed to it in `RenderOptions.cluster`; without
one (`msctl render`) it does nothing, so every stage before it stays pure and offline.

With a cluster, for the ModelService (which must have a uid: it came from that cluster):

1. Lists the live children of every group-kind rendered now or recorded in
   `status.appliedGroupKinds`, by the ownership labels. A kind the server does not serve (its CRD
   is missing) is skipped and reported, never fatal.
2. Applies each desired object in apply order with server-side apply, unless an object with that
   name exists and is not ours (no controller owner reference with our uid): that one is left
   untouched and reported as a conflict. An object whose `applied-hash` annotation equals what we
   would apply, and whose fields our field manager still owns, is not sent again (no write).
3. Deletes live children no longer desired whose controller owner reference is our uid, with a uid
   precondition. Nothing else is ever deleted.

Replicas with `decoupleScaling: true`: the count is set when the Deployment is created, then
handed to a second field manager (`modelservice-scaling`) and never sent again, so a value
written later by an autoscaler or `kubectl scale` stands. Simply dropping `replicas` from our
apply would let the API server remove the field (back to 1) while we were its only manager.

The outcome lands in `context.stash[APPLY_REPORT]` for the status and the CLI.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ms_engine.api.baseconfig import DECODE_DEPLOYMENT, PREFILL_DEPLOYMENT
from ms_engine.cluster import (
    FIELD_MANAGER,
    SCALING_MANAGER,
    ApplyRefused,
    Cluster,
    ClusterError,
    NotServed,
    group_kind,
    managed_entry,
    owners_of,
    uncovered,
)
from ms_engine.context import RenderContext, StashKey
from ms_engine.objects import DesiredObject
from ms_engine.ownership import ownership_labels
from ms_engine.problems import fail
from ms_engine.stage import Stage

APPLIED_HASH = "llm-d.ai/applied-hash"
"""Annotation on each child: a hash of what we last applied to it."""
DECOUPLED_COMPONENTS = (DECODE_DEPLOYMENT, PREFILL_DEPLOYMENT)


class Action(StrEnum):
    CREATED = "created"
    CONFIGURED = "configured"
    UNCHANGED = "unchanged"
    PRUNED = "pruned"
    SKIPPED = "skipped"
    CONFLICT = "conflict"
    FAILED = "failed"


class ChildReason(StrEnum):
    """Why a child was skipped or failed (the ModelService condition reasons)."""

    MISSING_CRD = "MissingCRD"
    CHILD_CONFLICT = "ChildConflict"
    APPLY_FAILED = "ApplyFailed"


@dataclass
class ChildOutcome:
    """What happened to one child in this pass."""

    kind: str
    name: str
    action: Action
    api_version: str = ""
    component: str = ""
    reason: str = ""
    message: str = ""
    transient: bool = False
    live: dict[str, Any] | None = field(default=None, repr=False)
    """The object as the server holds it after this pass (None when it does not exist)."""
    before: dict[str, Any] | None = field(default=None, repr=False)
    """The object as it was before this pass (None when it did not exist)."""

    @property
    def ref(self) -> str:
        return f"{self.kind}/{self.name}"

    def describe(self) -> str:
        line = f"{self.ref} {self.action.value}"
        if self.reason:
            line += f": {self.reason}"
        if self.message:
            line += f" ({self.message})"
        return line


@dataclass
class ApplyReport:
    """Every child's outcome, in the order they were handled, and the group-kinds to remember."""

    children: list[ChildOutcome] = field(default_factory=list)
    applied_group_kinds: list[str] = field(default_factory=list)
    missing_kinds: list[str] = field(default_factory=list)

    def of(self, *actions: Action) -> list[ChildOutcome]:
        return [child for child in self.children if child.action in actions]

    @property
    def wrote(self) -> bool:
        return bool(self.of(Action.CREATED, Action.CONFIGURED, Action.PRUNED))


APPLY_REPORT: StashKey[ApplyReport] = StashKey("apply-report")


def applied_hash(body: dict[str, Any]) -> str:
    """A stable hash of what we apply (the hash annotation itself left out)."""
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def controller_uid(live: dict[str, Any]) -> str | None:
    for reference in (live.get("metadata") or {}).get("ownerReferences") or []:
        if reference.get("controller"):
            return str(reference.get("uid"))
    return None


def _without_bookkeeping(live: dict[str, Any]) -> dict[str, Any]:
    trimmed = dict(live)
    metadata = dict(trimmed.get("metadata") or {})
    metadata.pop("managedFields", None)
    trimmed["metadata"] = metadata
    return trimmed


def _split(gk: str) -> tuple[str, str]:
    kind, _, group = gk.partition(".")
    return group, kind


class _Pass:
    """One apply pass; small state shared by its steps."""

    def __init__(self, context: RenderContext, cluster: Cluster, uid: str) -> None:
        self.context = context
        self.cluster = cluster
        self.uid = uid
        self.namespace = context.namespace
        self.labels = ownership_labels(context)
        self.report = ApplyReport()
        self.live: dict[str, dict[str, dict[str, Any]]] = {}
        """Listed live children: group-kind -> name -> object."""
        self.versions: dict[str, str] = {}

    def list_children(self, kinds: list[str]) -> None:
        for gk in kinds:
            group, kind = _split(gk)
            version = self.cluster.served_version(group, kind)
            if version is None:
                self.report.missing_kinds.append(gk)
                continue
            self.versions[gk] = version
            try:
                items = self.cluster.list(version, kind, self.namespace, self.labels)
            except NotServed:
                self.report.missing_kinds.append(gk)
                continue
            self.live[gk] = {item["metadata"]["name"]: item for item in items}

    def apply(self, desired: DesiredObject) -> None:
        body = desired.body
        api_version, kind = str(body["apiVersion"]), str(body["kind"])
        name = str(body["metadata"]["name"])
        gk = group_kind(api_version, kind)
        outcome = ChildOutcome(kind, name, Action.SKIPPED, api_version, desired.component)
        self.report.children.append(outcome)
        if gk in self.report.missing_kinds:
            outcome.reason = ChildReason.MISSING_CRD
            outcome.message = f"{gk} is not served (CRD not installed)"
            return
        try:
            self._apply(desired, outcome, gk)
        except NotServed as error:
            outcome.action, outcome.reason, outcome.message = (
                Action.SKIPPED,
                ChildReason.MISSING_CRD,
                str(error),
            )
            if gk not in self.report.missing_kinds:
                self.report.missing_kinds.append(gk)
        except ClusterError as error:
            outcome.action, outcome.reason, outcome.message = (
                Action.FAILED,
                ChildReason.APPLY_FAILED,
                str(error),
            )
            outcome.transient = not isinstance(error, ApplyRefused)

    def _apply(self, desired: DesiredObject, outcome: ChildOutcome, gk: str) -> None:
        body = desired.body
        api_version, kind, name = outcome.api_version, outcome.kind, outcome.name
        live = self.live.get(gk, {}).get(name)
        if live is None:  # not labelled as ours: is someone else's object in the way?
            live = self.cluster.get(api_version, kind, self.namespace, name)
        if live is not None:
            outcome.before = _without_bookkeeping(live)
        if live is not None and controller_uid(live) != self.uid:
            outcome.action, outcome.reason = Action.CONFLICT, ChildReason.CHILD_CONFLICT
            outcome.message = f"{kind}/{name} exists and is not owned by this ModelService"
            outcome.live = _without_bookkeeping(live)
            return

        decoupled = (
            self.context.spec.decouple_scaling
            and kind == "Deployment"
            and desired.component in DECOUPLED_COMPONENTS
        )
        steady = copy.deepcopy(body)
        if live is not None:
            kept = _kept_selector(steady, live)
            if kept:
                outcome.message = kept
        initial_replicas = steady.get("spec", {}).pop("replicas", None) if decoupled else None
        digest = applied_hash(steady)
        steady["metadata"].setdefault("annotations", {})[APPLIED_HASH] = digest

        if live is not None and decoupled:
            self._hand_over_replicas(live)
        drift = self._drift(live, steady, digest) if live is not None else None
        if live is not None and drift is None:
            outcome.action, outcome.live = Action.UNCHANGED, _without_bookkeeping(live)
            return
        if live is not None:
            outcome.message = "; ".join(m for m in (outcome.message, drift) if m)

        to_apply = steady
        if live is None and decoupled and initial_replicas is not None:
            to_apply = copy.deepcopy(steady)
            to_apply["spec"]["replicas"] = initial_replicas
        stored = self.cluster.apply(to_apply, field_manager=FIELD_MANAGER)
        outcome.action = Action.CREATED if live is None else Action.CONFIGURED
        if live is None and decoupled and initial_replicas is not None and not self.cluster.dry_run:
            # (a dry run created nothing the partial apply could refer to)
            stored = self._scaling_apply(to_apply, initial_replicas)
        outcome.live = _without_bookkeeping(stored)

    def _drift(self, live: dict[str, Any], steady: dict[str, Any], digest: str) -> str | None:
        """Why the live object needs our apply again, or None when it still holds it."""
        annotations = (live.get("metadata") or {}).get("annotations") or {}
        if annotations.get(APPLIED_HASH) != digest:
            return "desired state changed"
        ours = managed_entry(live, FIELD_MANAGER)
        if ours is None:
            return "not applied by us yet"
        checked = {k: v for k, v in steady.items() if k not in ("apiVersion", "kind")}
        metadata = {
            k: v for k, v in checked.get("metadata", {}).items() if k not in ("name", "namespace")
        }
        missing = uncovered(ours, {**checked, "metadata": metadata})
        return f"{missing} was changed by another manager" if missing else None

    def _hand_over_replicas(self, live: dict[str, Any]) -> None:
        """Before we stop sending `replicas`, make sure someone else owns it, or the API server
        removes the field and the Deployment falls back to 1 replica."""
        if owners_of(live, ("spec", "replicas")) != {FIELD_MANAGER}:
            return
        replicas = (live.get("spec") or {}).get("replicas")
        if replicas is not None:
            self._scaling_apply(live, int(replicas))

    def _scaling_apply(self, body: dict[str, Any], replicas: int) -> dict[str, Any]:
        metadata = body["metadata"]
        return self.cluster.apply(
            {
                "apiVersion": body["apiVersion"],
                "kind": body["kind"],
                "metadata": {"name": metadata["name"], "namespace": metadata["namespace"]},
                "spec": {"replicas": replicas},
            },
            field_manager=SCALING_MANAGER,
        )

    def prune(self, desired: set[tuple[str, str]]) -> set[str]:
        """Delete our children no longer desired; the group-kinds that still hold some."""
        remaining: set[str] = set()
        for gk, items in self.live.items():
            _, kind = _split(gk)
            version = self.versions[gk]
            for name, live in sorted(items.items()):
                if (gk, name) in desired or controller_uid(live) != self.uid:
                    continue
                if (live.get("metadata") or {}).get("deletionTimestamp"):
                    continue
                outcome = ChildOutcome(kind, name, Action.PRUNED, version)
                outcome.before = _without_bookkeeping(live)
                try:
                    self.cluster.delete(
                        version, kind, self.namespace, name, uid=live["metadata"]["uid"]
                    )
                except ClusterError as error:
                    outcome.action, outcome.reason, outcome.message = (
                        Action.FAILED,
                        ChildReason.APPLY_FAILED,
                        f"delete: {error}",
                    )
                    outcome.transient = not isinstance(error, ApplyRefused)
                    remaining.add(gk)
                self.report.children.append(outcome)
        return remaining


def recorded_group_kinds(status: Any) -> list[str]:
    """`status.appliedGroupKinds` of the ModelService as read from the cluster (raw or model)."""
    if isinstance(status, Mapping):
        value = status.get("appliedGroupKinds")
    else:
        value = getattr(status, "applied_group_kinds", None)
    return [str(item) for item in value] if isinstance(value, list) else []


def run(context: RenderContext) -> None:
    cluster = context.options.cluster
    if cluster is None:
        return
    uid = context.model_service.metadata.uid
    if not uid:
        raise fail("is empty: only a ModelService read from the cluster is applied", "metadata.uid")
    desired_objects = context.objects.in_apply_order()
    rendered: list[str] = []
    for desired in desired_objects:
        gk = group_kind(str(desired.body["apiVersion"]), str(desired.body["kind"]))
        if gk not in rendered:
            rendered.append(gk)
    recorded = recorded_group_kinds(context.model_service.status)
    kinds = rendered + sorted(set(recorded) - set(rendered))

    work = _Pass(context, cluster, uid)
    work.list_children(kinds)
    for desired in desired_objects:
        work.apply(desired)
    wanted = {
        (
            group_kind(str(d.body["apiVersion"]), str(d.body["kind"])),
            str(d.body["metadata"]["name"]),
        )
        for d in desired_objects
    }
    remaining = work.prune(wanted)
    # Remember what may still hold our children: what we render, kinds we could not list, and
    # kinds whose prune failed.
    keep = set(rendered) | (set(recorded) & set(work.report.missing_kinds)) | remaining
    work.report.applied_group_kinds = sorted(keep)
    context.stash[APPLY_REPORT] = work.report


STAGE = Stage("apply", run, description="server-side apply and prune (needs a cluster)")


IMMUTABLE_SELECTOR_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"})


def _kept_selector(body: dict[str, Any], live: dict[str, Any]) -> str | None:
    """Keep the selector a workload was created with when ours differs but still matches its pods.

    A Deployment's selector cannot change. One created by the original controller (or by an
    older version of this one) selects without `llm-d.ai/modelservice`; applying the new selector
    would fail with 422 on every reconcile. Its old selector still matches the pods we render, so
    it is kept (and said); a selector that would not match them is left to fail, loudly.
    """
    if body.get("kind") not in IMMUTABLE_SELECTOR_KINDS:
        return None
    spec = body.get("spec") or {}
    live_selector = (live.get("spec") or {}).get("selector")
    if not isinstance(live_selector, dict) or live_selector == spec.get("selector"):
        return None
    pod_labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    match_labels = live_selector.get("matchLabels") or {}
    if live_selector.get("matchExpressions") or not match_labels.items() <= pod_labels.items():
        return None
    spec["selector"] = copy.deepcopy(live_selector)
    return "kept the selector it was created with (a workload's selector cannot change)"
