"""API models: the ModelService resource, the BaseConfig preset, the model URI.

`ModelServiceStatus` loads on first use (module `__getattr__`): only the controller and
`msctl crd` read it, and a render should not pay for building its model class.
"""

from typing import TYPE_CHECKING, Any

from ms_engine.api.baseconfig import KNOWN_KEYS, BaseConfig, parse_base_config
from ms_engine.api.model_uri import ModelURI, parse_model_uri
from ms_engine.api.modelservice import (
    API_VERSION,
    GROUP,
    KIND,
    VERSION,
    AcceleratorTypes,
    ContainerSpec,
    ModelArtifacts,
    ModelService,
    ModelServiceSpec,
    PDSpec,
    PodSpecOverrides,
)
from ms_engine.api.validation import load_model_service

if TYPE_CHECKING:
    from ms_engine.api.status import ModelServiceStatus

__all__ = [
    "API_VERSION",
    "GROUP",
    "KIND",
    "KNOWN_KEYS",
    "VERSION",
    "AcceleratorTypes",
    "BaseConfig",
    "ContainerSpec",
    "ModelArtifacts",
    "ModelService",
    "ModelServiceSpec",
    "ModelServiceStatus",
    "ModelURI",
    "PDSpec",
    "PodSpecOverrides",
    "load_model_service",
    "parse_base_config",
    "parse_model_uri",
]


def __getattr__(name: str) -> Any:
    if name == "ModelServiceStatus":
        from ms_engine.api.status import ModelServiceStatus

        return ModelServiceStatus
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
