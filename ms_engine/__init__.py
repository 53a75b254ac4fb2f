"""ModelService engine: render a ModelService and its BaseConfig into Kubernetes objects.

The public surface for plugins and tools is what this module exports; plugins import nothing else.
"""

from ms_engine import gie
from ms_engine.api.model_uri import URI_FIELD, ModelURI
from ms_engine.api.modelservice import ModelArtifacts, ModelService
from ms_engine.context import RenderContext, RenderOptions, StashKey
from ms_engine.hookspecs import hookimpl
from ms_engine.model_source import MODEL_ROOT, MODEL_VOLUME, ModelScheme, ModelSource, model_path
from ms_engine.ownership import claim, claim_pod_owner, common_labels
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
from ms_engine.routing_api import Picker, Router, RouterResult
from ms_engine.stage import Stage

__all__ = [
    "MODEL_ROOT",
    "MODEL_VOLUME",
    "URI_FIELD",
    "ModelArtifacts",
    "ModelScheme",
    "ModelService",
    "ModelServiceError",
    "ModelSource",
    "ModelURI",
    "Picker",
    "PluginError",
    "Problem",
    "Reason",
    "RenderContext",
    "RenderError",
    "RenderOptions",
    "RenderResult",
    "Renderer",
    "Router",
    "RouterResult",
    "Severity",
    "Stage",
    "StashKey",
    "claim",
    "claim_pod_owner",
    "common_labels",
    "fail",
    "gie",
    "hookimpl",
    "model_path",
]
