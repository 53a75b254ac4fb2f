"""ModelService engine: render a ModelService and its BaseConfig into Kubernetes objects.

The public surface for plugins and tools is what this module exports; plugins import nothing else.
"""

from ms_engine.api.model_uri import URI_FIELD, ModelURI
from ms_engine.api.modelservice import ModelArtifacts, ModelService
from ms_engine.context import RenderContext, RenderOptions, StashKey
from ms_engine.hookspecs import hookimpl
from ms_engine.model_source import MODEL_ROOT, MODEL_VOLUME, ModelSource, model_path
from ms_engine.problems import (
    ModelServiceError,
    PluginError,
    Problem,
    Reason,
    RenderError,
    Severity,
    fail,
)
from ms_engine.render import Renderer, RenderResult
from ms_engine.stage import Stage

__all__ = [
    "MODEL_ROOT",
    "MODEL_VOLUME",
    "URI_FIELD",
    "ModelArtifacts",
    "ModelService",
    "ModelServiceError",
    "ModelSource",
    "ModelURI",
    "PluginError",
    "Problem",
    "Reason",
    "RenderContext",
    "RenderError",
    "RenderOptions",
    "RenderResult",
    "Renderer",
    "Severity",
    "Stage",
    "StashKey",
    "fail",
    "hookimpl",
    "model_path",
]
