"""The one module that talks to the API server: `Cluster` on the official `kubernetes` client.

- Server-side apply is a PATCH with `application/apply-patch+yaml`, a plain dict body, one field
  manager, `force=True` (a controller owns its fields) and `fieldValidation=Strict`.
- Responses are read raw (`_preload_content=False` + `json.loads`): the client's pydantic models
  are several times slower and larger than dicts.
- Core kinds go through `CoreV1Api`, every other group through `CustomObjectsApi` (its paths fit
  any group, built-in or not); discovery says which kinds are served, and a kind that was missing
  is looked up again, so a CRD installed later is found.
- Transient failures (429 honouring Retry-After, 5xx, connection errors, timeouts) are retried a
  bounded number of times; permanent ones (400, 403, 422, ...) are raised at once.
"""

from __future__ import annotations

import builtins
import json
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import urllib3
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from tenacity import (
    RetryCallState,
    retry,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential,
    wait_random,
)

from ms_engine.cluster import (
    FIELD_MANAGER,
    ApplyRefused,
    NotServed,
    Unavailable,
    group_of,
)

T = TypeVar("T")
APPLY_PATCH = "application/apply-patch+yaml"
MERGE_PATCH = "application/merge-patch+json"
TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})
REQUEST_TIMEOUT = (5.0, 30.0)
"""Connect and read timeouts of every request (seconds)."""


def _transient(error: BaseException) -> bool:
    if isinstance(error, ApiException):
        if _permanent_500(error):
            return False
        return error.status in TRANSIENT_STATUSES or error.status == 0
    return isinstance(error, urllib3.exceptions.HTTPError | TimeoutError | ConnectionError)


_BACKOFF = wait_exponential(multiplier=0.2, max=5.0) + wait_random(0, 0.2)


def _wait(state: RetryCallState) -> float:
    """Retry-After when the server sent one (429), else exponential backoff with jitter."""
    error = state.outcome.exception() if state.outcome else None
    if isinstance(error, ApiException) and error.headers:
        after = error.headers.get("Retry-After")
        if after and after.isdigit():
            return min(float(after), 10.0)
    return float(_BACKOFF(state))


_retrying = retry(
    retry=retry_if_exception(_transient),
    wait=_wait,
    stop=stop_after_attempt(5) | stop_after_delay(30),
    reraise=True,
)


def _permanent_500(error: ApiException) -> bool:
    """The API server answers 500 when an applied body does not fit the schema (observed on
    1.36: "failed to create typed patch object ... field not declared in schema"); retrying
    cannot help."""
    return error.status == 500 and "failed to create typed patch object" in str(error.body)


def _snake(kind: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", kind).lower()


def _message(error: ApiException) -> str:
    try:
        body = json.loads(error.body or "{}")
        return str(body.get("message") or error.reason)
    except (ValueError, AttributeError):
        return str(error.reason)


@dataclass(frozen=True)
class Resource:
    api_version: str
    kind: str
    plural: str
    namespaced: bool

    @property
    def group(self) -> str:
        return group_of(self.api_version)

    @property
    def version(self) -> str:
        return self.api_version.rsplit("/", 1)[-1]


class KubeCluster:
    """`ms_engine.cluster.Cluster` on the official client, plus the controller's own writes
    (ModelService status, Events). `dry_run=True` makes every write a server-side dry run."""

    def __init__(self, api: client.ApiClient, *, dry_run: bool = False) -> None:
        self.api = api
        self.dry_run = dry_run
        self.core = client.CoreV1Api(api)
        self.custom = client.CustomObjectsApi(api)
        self._resources: dict[str, dict[str, Resource]] = {}
        self._served: dict[tuple[str, str], str] = {}

    @classmethod
    def from_kubeconfig(
        cls, path: str | None = None, *, context: str | None = None, dry_run: bool = False
    ) -> KubeCluster:
        """From a kubeconfig file (default: $KUBECONFIG or ~/.kube/config), or in-cluster."""
        try:
            api = config.new_client_from_config(config_file=path, context=context)  # type: ignore[no-untyped-call]
        except config.ConfigException:
            if path:
                raise
            configuration = client.Configuration()
            config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
            api = client.ApiClient(configuration)
        return cls(api, dry_run=dry_run)

    # --- plumbing ---------------------------------------------------------------------------

    def _call(self, what: str, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call the client raw, with retries; the decoded JSON body."""
        kwargs.setdefault("_request_timeout", REQUEST_TIMEOUT)
        try:
            response = _retrying(function)(*args, _preload_content=False, **kwargs)
        except ApiException as error:
            if _transient(error):
                raise Unavailable(f"{what}: {_message(error)}", status=error.status) from error
            if error.status == 404:
                raise
            raise ApplyRefused(f"{what}: {_message(error)}", status=error.status) from error
        except (urllib3.exceptions.HTTPError, TimeoutError, ConnectionError) as error:
            raise Unavailable(f"{what}: {error}") from error
        return json.loads(response.data or b"{}")

    def _discover(self, api_version: str) -> dict[str, Resource]:
        group = group_of(api_version)
        version = api_version.rsplit("/", 1)[-1]
        try:
            if group:
                found = self._call(
                    f"discovery {api_version}", self.custom.get_api_resources, group, version
                )
            else:
                found = self._call("discovery v1", self.core.get_api_resources)
        except ApiException as error:
            if error.status == 404:
                return {}
            raise
        resources = {
            item["kind"]: Resource(api_version, item["kind"], item["name"], item["namespaced"])
            for item in found.get("resources") or []
            if "/" not in item["name"]
        }
        if resources:
            self._resources[api_version] = resources
        return resources

    def resource(self, api_version: str, kind: str) -> Resource:
        """The served resource of apiVersion/kind; NotServed when its API is not installed."""
        known = self._resources.get(api_version, {}).get(kind)
        if known is None:
            known = self._discover(api_version).get(kind)
        if known is None:
            raise NotServed(f"{api_version} {kind} is not served (is its CRD installed?)")
        return known

    def served_version(self, group: str, kind: str) -> str | None:
        """Answered from the cache when the kind was seen before; a miss asks the server again
        (a CRD may have been installed since)."""
        known = self._served.get((group, kind))
        if known is not None:
            return known
        candidates = self._group_versions(group) if group else ["v1"]
        for api_version in candidates:
            if kind in self._discover(api_version):
                self._served[(group, kind)] = api_version
                return api_version
        return None

    def _group_versions(self, group: str) -> list[str]:
        """Versions of `group`, preferred first (one /apis read per call: CRDs come and go)."""
        groups = self._call("discovery /apis", client.ApisApi(self.api).get_api_versions)
        for item in groups.get("groups") or []:
            if item["name"] == group:
                preferred = item["preferredVersion"]["groupVersion"]
                rest = [
                    v["groupVersion"] for v in item["versions"] if v["groupVersion"] != preferred
                ]
                return [preferred, *rest]
        return []

    def _dry(self) -> dict[str, Any]:
        return {"dry_run": "All"} if self.dry_run else {}

    # --- the Cluster protocol ---------------------------------------------------------------

    def get(self, api_version: str, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        resource = self.resource(api_version, kind)
        what = f"get {kind}/{name}"
        try:
            if not resource.group:
                found: dict[str, Any] = self._call(
                    what, getattr(self.core, f"read_namespaced_{_snake(kind)}"), name, namespace
                )
            else:
                found = self._call(
                    what,
                    self.custom.get_namespaced_custom_object,
                    resource.group,
                    resource.version,
                    namespace,
                    resource.plural,
                    name,
                )
        except ApiException as error:
            if error.status == 404:
                return None
            raise
        return found

    def list(
        self, api_version: str, kind: str, namespace: str, labels: Mapping[str, str]
    ) -> list[dict[str, Any]]:
        resource = self.resource(api_version, kind)
        selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
        what = f"list {kind}"
        with self._served_or_forget(resource):
            found = self._list(what, resource, namespace, selector)
        items: builtins.list[dict[str, Any]] = found.get("items") or []
        for item in items:  # list items come without apiVersion and kind
            item.setdefault("apiVersion", api_version)
            item.setdefault("kind", kind)
        return items

    def _list(self, what: str, resource: Resource, namespace: str, selector: str) -> Any:
        kind = resource.kind
        if not resource.group:
            return self._call(
                what,
                getattr(self.core, f"list_namespaced_{_snake(kind)}"),
                namespace,
                label_selector=selector,
            )
        return self._call(
            what,
            self.custom.list_namespaced_custom_object,
            resource.group,
            resource.version,
            namespace,
            resource.plural,
            label_selector=selector,
        )

    @contextmanager
    def _served_or_forget(self, resource: Resource) -> Iterator[None]:
        """A 404 on a collection means its API went away (CRD deleted): forget it, NotServed."""
        try:
            yield
        except ApiException as error:
            if error.status != 404:
                raise
            self._resources.pop(resource.api_version, None)
            self._served.pop((resource.group, resource.kind), None)
            raise NotServed(f"{resource.api_version} {resource.kind} is no longer served") from None

    def apply(self, body: dict[str, Any], *, field_manager: str = FIELD_MANAGER) -> dict[str, Any]:
        api_version, kind = str(body["apiVersion"]), str(body["kind"])
        resource = self.resource(api_version, kind)
        metadata = body["metadata"]
        name, namespace = metadata["name"], metadata.get("namespace", "")
        options = {
            "field_manager": field_manager,
            "force": True,
            "field_validation": "Strict",
            "_content_type": APPLY_PATCH,
            **self._dry(),
        }
        what = f"apply {kind}/{name}"
        with self._served_or_forget(resource):
            return self._apply(what, resource, name, namespace, body, options)

    def _apply(
        self,
        what: str,
        resource: Resource,
        name: str,
        namespace: str,
        body: dict[str, Any],
        options: dict[str, Any],
    ) -> dict[str, Any]:
        if not resource.group:
            method = getattr(self.core, f"patch_namespaced_{_snake(resource.kind)}")
            stored: dict[str, Any] = self._call(what, method, name, namespace, body, **options)
        else:
            stored = self._call(
                what,
                self.custom.patch_namespaced_custom_object,
                resource.group,
                resource.version,
                namespace,
                resource.plural,
                name,
                body,
                **options,
            )
        return stored

    def delete(self, api_version: str, kind: str, namespace: str, name: str, *, uid: str) -> bool:
        resource = self.resource(api_version, kind)
        options = client.V1DeleteOptions(
            preconditions=client.V1Preconditions(uid=uid),
            propagation_policy="Background",
            dry_run=["All"] if self.dry_run else None,
        )
        what = f"delete {kind}/{name}"
        try:
            if not resource.group:
                method = getattr(self.core, f"delete_namespaced_{_snake(kind)}")
                self._call(what, method, name, namespace, body=options)
            else:
                self._call(
                    what,
                    self.custom.delete_namespaced_custom_object,
                    resource.group,
                    resource.version,
                    namespace,
                    resource.plural,
                    name,
                    body=options,
                )
        except ApiException as error:
            if error.status == 404:
                return False
            raise
        except ApplyRefused as error:
            if error.status == 409:  # the uid precondition: another object took the name
                return False
            raise
        return True

    # --- the controller's own writes --------------------------------------------------------

    def apply_status(
        self,
        group: str,
        version: str,
        plural: str,
        namespace: str,
        name: str,
        status: dict[str, Any],
    ) -> dict[str, Any] | None:
        """Server-side apply of a custom resource's status subresource (our fields only);
        None when the object is gone."""
        body = {
            "apiVersion": f"{group}/{version}",
            "kind": "ModelService",
            "metadata": {"name": name, "namespace": namespace},
            "status": status,
        }
        try:
            stored: dict[str, Any] | None = self._call(
                f"status of {name}",
                self.custom.patch_namespaced_custom_object_status,
                group,
                version,
                namespace,
                plural,
                name,
                body,
                field_manager=FIELD_MANAGER,
                force=True,
                _content_type=APPLY_PATCH,
                **self._dry(),
            )
        except ApiException as error:
            if error.status == 404:  # the ModelService went away meanwhile
                return None
            raise
        return stored

    def create_event(self, namespace: str, body: dict[str, Any]) -> dict[str, Any] | None:
        """Create an events.k8s.io/v1 Event; None when one of that name exists already."""
        try:
            created: dict[str, Any] = self._call(
                "create event",
                client.EventsV1Api(self.api).create_namespaced_event,
                namespace,
                body,
                **self._dry(),
            )
        except ApplyRefused as error:
            if error.status == 409:
                return None
            raise
        return created

    def patch_event(self, namespace: str, name: str, patch: dict[str, Any]) -> None:
        self._call(
            "update event",
            client.EventsV1Api(self.api).patch_namespaced_event,
            name,
            namespace,
            patch,
            _content_type=MERGE_PATCH,
            **self._dry(),
        )

    def read_event(self, namespace: str, name: str) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = self._call(
                "read event", client.EventsV1Api(self.api).read_namespaced_event, name, namespace
            )
        except ApiException as error:
            if error.status == 404:
                return None
            raise
        return found

    def list_pods(self, namespace: str, labels: Mapping[str, str]) -> builtins.list[dict[str, Any]]:
        selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
        found = self._call(
            "list pods", self.core.list_namespaced_pod, namespace, label_selector=selector
        )
        items: builtins.list[dict[str, Any]] = found.get("items") or []
        return items
