"""API models: the ModelService resource, the BaseConfig preset, the model URI."""

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
    ModelServiceStatus,
    PDSpec,
    PodSpecOverrides,
)
from ms_engine.api.validation import load_model_service

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
