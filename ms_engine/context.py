"""The object that flows through the stages of one render."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ms_engine.api.baseconfig import BaseConfig
from ms_engine.api.model_uri import ModelURI
from ms_engine.api.modelservice import ModelService, ModelServiceSpec
from ms_engine.cluster import Cluster
from ms_engine.model_source import ModelSource
from ms_engine.names import ChildNames
from ms_engine.objects import ObjectSet
from ms_engine.problems import Problem
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


@dataclass(frozen=True)
class RenderOptions:
    """Choices that belong to the platform, not the ModelService (the controller's flags)."""

    namespace: str | None = None
    pd_pull_secrets: tuple[str, ...] = ()
    epp_pull_secrets: tuple[str, ...] = ()
    epp_cluster_role: str | None = None
    cluster: Cluster | None = field(default=None, compare=False, repr=False)
    """Where the `apply` stage applies; None (offline, `msctl render`) applies nothing."""


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
