"""The object that flows through the stages of one render."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ms_engine.api.baseconfig import BaseConfig
from ms_engine.api.model_uri import ModelURI
from ms_engine.api.modelservice import DNS_LABEL, DNS_SUBDOMAIN, ModelService, ModelServiceSpec
from ms_engine.cluster import Cluster
from ms_engine.model_source import ModelSource
from ms_engine.names import ChildNames
from ms_engine.objects import ObjectSet
from ms_engine.problems import OPTIONS, Problem, Reason, RenderError
from ms_engine.templating import TemplateEngine

if TYPE_CHECKING:
    from ms_engine.plugins import PluginHooks
    from ms_engine.routing_api import RouterResult

T = TypeVar("T")


class StashKey(Generic[T]):
    """A typed slot a plugin owns in `RenderContext.stash` (pytest's StashKey idea)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"StashKey({self.name!r})"


class Stash:
    def __init__(self) -> None:
        self._values: dict[StashKey[Any], Any] = {}

    def __setitem__(self, key: StashKey[T], value: T) -> None:
        self._values[key] = value

    def __getitem__(self, key: StashKey[T]) -> T:
        value: T = self._values[key]
        return value

    def get(self, key: StashKey[T], default: T) -> T:
        value: T = self._values.get(key, default)
        return value

    def __contains__(self, key: object) -> bool:
        return key in self._values

    def copy(self) -> Stash:
        """A stash holding the same values, for a pass that reuses a render (the controller's
        render cache): what the later stages add does not reach the cached one."""
        copied = Stash()
        copied._values = dict(self._values)
        return copied


@dataclass(frozen=True)
class RenderOptions:
    """Choices that belong to the platform, not the ModelService (the controller's flags)."""

    namespace: str | None = None
    pd_pull_secrets: tuple[str, ...] = ()
    epp_pull_secrets: tuple[str, ...] = ()
    epp_cluster_role: str | None = None
    cluster: Cluster | None = field(default=None, compare=False, repr=False)
    """Where the `apply` stage applies; None (offline, `msctl render`) applies nothing."""

    def __post_init__(self) -> None:
        """Refuse what the API server would: a bad name here fails every object that uses it.
        Errors name the option (`where` is the field name, `document` is `options`)."""
        if self.namespace is not None:
            _check_name(self.namespace, "namespace", DNS_LABEL, 63, "label")
        for option in ("pd_pull_secrets", "epp_pull_secrets"):
            names: tuple[str, ...] = getattr(self, option)
            if isinstance(names, str):  # a common slip: one name instead of a tuple of names
                raise _option_error(option, "must be a list of Secret names, got one string")
            for index, name in enumerate(names):
                if not name:
                    raise _option_error(option, f"entry {index + 1} is empty")
                _check_name(name, option, DNS_SUBDOMAIN, 253, "subdomain")
                if name in names[:index]:
                    raise _option_error(option, f"{name!r} appears twice")
        role = self.epp_cluster_role
        if role is not None and (
            role in ("", ".", "..") or "/" in role or "%" in role or len(role) > 253
        ):
            raise _option_error(
                "epp_cluster_role",
                f"{role!r} is not a ClusterRole name (1-253 characters, no '/' or '%', "
                "not '.' or '..')",
            )


def _option_error(option: str, message: str) -> RenderError:
    return RenderError(Problem(message, option, reason=Reason.INVALID_SPEC, document=OPTIONS))


def _check_name(value: object, option: str, pattern: str, limit: int, what: str) -> None:
    if not isinstance(value, str) or not re.match(pattern, value) or len(value) > limit:
        raise _option_error(
            option,
            f"{value!r} is not a valid name (a lowercase RFC 1123 {what} of at most {limit} "
            "characters: a-z, 0-9, '-'" + (", '.'" if what == "subdomain" else "") + ")",
        )


@dataclass
class RenderContext:
    """Everything one render knows. Stages read it and add to it; nothing here touches a cluster.

    - `spec` starts as the ModelService spec; the template stage replaces it with a copy whose
      container args are rendered.
    - `documents` are BaseConfig objects on their way: rendered (template), overlaid (merge),
      given the model volume (model-source). A stage that owns a document pops it and turns it into
      desired objects, or drops it.
    - `objects` are the desired objects; `problems` the warnings found so far (errors raise).
    """

    model_service: ModelService
    base_config: BaseConfig | None
    options: RenderOptions
    hook: PluginHooks
    namespace: str
    names: ChildNames
    uri: ModelURI
    model_source: ModelSource
    spec: ModelServiceSpec
    templates: TemplateEngine
    variables: dict[str, Any] = field(default_factory=dict)
    documents: dict[str, Any] = field(default_factory=dict)
    objects: ObjectSet = field(default_factory=ObjectSet)
    problems: list[Problem] = field(default_factory=list)
    stash: Stash = field(default_factory=Stash)
    router_result: RouterResult | None = None
    """What the router declared (its pool, its picker); set by the routing stage."""

    def warn(self, problem: Problem) -> None:
        self.problems.append(problem.as_warning())
