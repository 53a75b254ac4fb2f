"""The ModelService resource (`llm-d.ai/v1alpha1`), field for field the original controller's API.

These models are the single source of truth: `msctl crd` generates the CRD schema from them.

No `from __future__ import annotations` here: pydantic would evaluate every annotation string
again when it builds each model class, which `msctl render` pays for at start-up.
"""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, StringConstraints, field_validator

from ms_engine.api.common import (
    ApiModel,
    FreeForm,
    NonNegativeInt32,
    PortNumber,
    PositiveInt32,
    Quantity,
    SpecModel,
    new_list,
)

GROUP = "llm-d.ai"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
KIND = "ModelService"

NonEmpty = Annotated[str, StringConstraints(min_length=1)]
DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"
DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
ContainerName = Annotated[str, StringConstraints(min_length=1, max_length=63, pattern=DNS_LABEL)]
"""Kubernetes container names are RFC 1123 labels."""


class ObjectMeta(BaseModel):
    """The metadata we read; everything else the API server keeps is passed through."""

    model_config = ConfigDict(extra="allow", frozen=True, defer_build=True)

    name: Annotated[str, StringConstraints(min_length=1, max_length=253, pattern=DNS_SUBDOMAIN)]
    namespace: Annotated[str, StringConstraints(max_length=63, pattern=DNS_LABEL)] | None = None
    uid: str | None = None
    generation: int | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)


def _unique_names(items: list[Any], what: str) -> list[Any]:
    seen: set[str] = set()
    for item in items:
        if item.name in seen:
            raise ValueError(f"{what} {item.name!r} appears twice")
        seen.add(item.name)
    return items


class ObjectReference(SpecModel):
    """Reference to the BaseConfig ConfigMap; an empty namespace means the ModelService's own."""

    name: NonEmpty
    namespace: str | None = None
    api_version: str | None = None
    kind: str | None = None
    uid: str | None = None
    resource_version: str | None = None
    field_path: str | None = None


class Port(SpecModel):
    """A named port that templates read with `getPort("name")`."""

    name: NonEmpty
    port: PortNumber


class ParentReference(SpecModel):
    """Gateway API ParentReference: where the HTTPRoute attaches."""

    name: NonEmpty
    group: str | None = None
    kind: str | None = None
    namespace: str | None = None
    section_name: str | None = None
    port: PortNumber | None = None


class Routing(SpecModel):
    """How clients reach the model. `modelName` is what clients send in the OpenAI `model` field."""

    model_name: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    ports: list[Port] = Field(default_factory=new_list)
    gateway_refs: list[ParentReference] = Field(default_factory=new_list, max_length=32)

    @field_validator("ports")
    @classmethod
    def _ports_unique(cls, ports: list[Port]) -> list[Port]:
        return _unique_names(ports, "port")


class ModelArtifacts(SpecModel):
    """Where the model comes from: `hf://org/model`, `pvc://claim/path`, `oci://image::path`."""

    uri: NonEmpty
    auth_secret_name: str | None = None
    size: Quantity | None = None


class EnvVar(SpecModel):
    """A container environment variable: `value` or `valueFrom`."""

    name: NonEmpty
    value: str | None = None
    value_from: FreeForm | None = None


class ResourceRequirements(SpecModel):
    limits: dict[str, Quantity] | None = None
    requests: dict[str, Quantity] | None = None
    claims: list[FreeForm] | None = None


class ContainerSpec(SpecModel):
    """What a ModelService may set on a container. Ports, probes, volumes and the rest come from
    the BaseConfig; `name` matches the BaseConfig container it overrides."""

    name: ContainerName
    image: str | None = None
    command: list[str] | None = None
    args: list[str] | None = None
    env: list[EnvVar] | None = None
    env_from: list[FreeForm] | None = None
    resources: ResourceRequirements | None = None
    mount_model_volume: bool = False

    @field_validator("env")
    @classmethod
    def _env_unique(cls, env: list[EnvVar] | None) -> list[EnvVar] | None:
        return _unique_names(env, "env variable") if env else env


class Parallelism(SpecModel):
    tensor: PositiveInt32 | None = None
    data: PositiveInt32 | None = None


class AcceleratorTypes(SpecModel):
    """Schedule only on nodes whose `labelKey` has one of `labelValues`."""

    label_key: NonEmpty
    label_values: list[NonEmpty] = Field(min_length=1)


class PodSpecOverrides(SpecModel):
    """The part of a role a ModelService controls (the EPP's section has only this)."""

    replicas: NonNegativeInt32 | None = None
    containers: list[ContainerSpec] = Field(default_factory=new_list)
    init_containers: list[ContainerSpec] = Field(default_factory=new_list)

    @field_validator("containers", "init_containers")
    @classmethod
    def _containers_unique(cls, containers: list[ContainerSpec]) -> list[ContainerSpec]:
        return _unique_names(containers, "container")


class PDSpec(PodSpecOverrides):
    """A prefill or decode role."""

    parallelism: Parallelism | None = None
    accelerator_types: AcceleratorTypes | None = None


class ModelServiceSpec(SpecModel):
    base_config_map_ref: ObjectReference | None = None
    routing: Routing
    model_artifacts: ModelArtifacts
    decouple_scaling: bool = False
    decode: PDSpec | None = None
    prefill: PDSpec | None = None
    endpoint_picker: PodSpecOverrides | None = None

    def role(self, role: str) -> PDSpec | None:
        """The `decode` or `prefill` section."""
        section: PDSpec | None = self.decode if role == "decode" else self.prefill
        return section


class ModelService(ApiModel):
    """The whole resource as a user writes it.

    `status` is kept as the cluster gave it and never validated or read by rendering: whoever
    wrote it (the original controller, a newer version), it cannot block a render. The
    controller reads it with `ModelServiceStatus` (`ms_engine.api.status`).
    """

    api_version: Literal["llm-d.ai/v1alpha1"]
    kind: Literal["ModelService"]
    metadata: ObjectMeta
    spec: ModelServiceSpec
    status: Any = None
    _pruned: tuple[Any, ...] = PrivateAttr(default=())
    """Warnings for the fields load_model_service pruned as the API server would."""

    @property
    def pruned(self) -> tuple[Any, ...]:
        return self._pruned

    @property
    def name(self) -> str:
        return self.metadata.name
