"""The scheduler-integration contract: what a router is, and what it declares to later stages.

A router is answered by the `ms_router` hook (the one way to replace routing; a stage may not
`replaces="routing"`). The routing stage calls `build`, then stamps every object the router added
with the ModelService's identity (namespace, ownership labels, owner reference) so the controller
can prune it, and keeps the returned `RouterResult` for the rbac stage. The bundled router is the
Gateway API Inference Extension endpoint picker (`ms_plugins.gie`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ms_engine.context import RenderContext


@dataclass(frozen=True)
class Picker:
    """The router's own pods (an endpoint picker): the rbac stage makes their ServiceAccount
    `service_account` (with the platform's picker pull secrets), a Role with `rules` and its
    RoleBinding (or binds the platform's ClusterRole given by `--epp-cluster-role`)."""

    deployment: str
    """The component (key in `context.objects`) of the picker's Deployment."""
    service_account: str
    """The ServiceAccount its pods run as; the router sets `serviceAccountName` to it."""
    rules: tuple[Mapping[str, Any], ...] = ()
    """Role rules: exactly what the picker reads and writes in the ModelService's namespace."""


@dataclass(frozen=True)
class RouterResult:
    """What a router declares about the objects it built."""

    pool: str | None = None
    """The component of the pool the serving pods join (an InferencePool for GIE), if any."""
    picker: Picker | None = None
    """The router's own pods, if it runs any."""


class Router(Protocol):
    """A scheduler integration.

    `name` names it in errors and in `overrides` of other routers. A router may set `overrides =
    ("gie-endpoint-picker",)`: it then takes over when both answer `ms_router`; two routers
    answering without one overriding the other is an error (registration order never decides).
    """

    name: str

    def build(self, context: RenderContext) -> RouterResult | None:
        """Pop the routing documents this router understands from `context.documents` and add
        the objects it makes with `context.objects.add`."""
