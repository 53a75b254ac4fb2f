"""The ModelService status the controller writes and reads.

Its own module: a render never reads the status, and every pydantic model class costs start-up
time, so `msctl render` does not load these (`ms_engine.api` exports them lazily).
"""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from ms_engine.api.common import ApiModel, new_list
from ms_engine.api.modelservice import NonEmpty

ConditionStatus = Literal["True", "False", "Unknown"]


class Condition(ApiModel):
    """A status condition; extra fields (a mirrored Deployment condition's lastUpdateTime) kept."""

    model_config = ConfigDict(extra="allow")

    type: NonEmpty
    status: ConditionStatus
    reason: str = ""
    message: str = ""
    last_transition_time: str | None = None
    observed_generation: int | None = None


class ModelServiceStatus(ApiModel):
    """What the controller observed. Refs are child names (as the original wrote them) and name
    only children that exist.

    Unknown fields are kept, not refused: a status read back from a cluster may have been written
    by the original controller or by a newer version of this one.
    """

    model_config = ConfigDict(extra="allow")

    observed_generation: int | None = None
    conditions: list[Condition] = Field(default_factory=new_list)
    decode_deployment_ref: str | None = None
    prefill_deployment_ref: str | None = None
    epp_deployment_ref: str | None = None
    decode_service_ref: str | None = None
    prefill_service_ref: str | None = None
    epp_service_ref: str | None = None
    inference_pool_ref: str | None = None
    inference_model_ref: str | None = None
    http_route_ref: str | None = None
    epp_role_binding: str | None = None
    pd_service_account_ref: str | None = None
    epp_service_account_ref: str | None = None
    config_map_names: list[str] = Field(default_factory=new_list)
    prefill_ready: str | None = None
    decode_ready: str | None = None
    epp_ready: str | None = None
    prefill_available: int | None = None
    decode_available: int | None = None
    epp_available: int | None = None
    applied_group_kinds: list[str] = Field(default_factory=new_list)
    """Group-kinds the controller applied (`Deployment.apps`, `Service`): pruned even after a
    kind stops being rendered."""
