"""`pvc://claim/path/to/model` or `pvc://claim`: a pre-filled PersistentVolumeClaim, read-only.

Variables: `ModelPath` (`path/to/model`), `MountedModelPath` (`/model-cache/path/to/model`, or
`/model-cache` without a path).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ms_engine import (
    MODEL_ROOT,
    URI_FIELD,
    ModelArtifacts,
    ModelSource,
    ModelURI,
    fail,
    hookimpl,
    model_path,
)

SCHEME = "pvc"
_CLAIM = r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$"


@hookimpl
def ms_model_schemes() -> Iterable[str]:
    return [SCHEME]


@hookimpl
def ms_model_source(uri: ModelURI, artifacts: ModelArtifacts) -> ModelSource | None:
    if uri.scheme != SCHEME:
        return None
    claim, _, path = uri.rest.partition("/")
    if not re.match(_CLAIM, claim):
        raise fail(
            f"{claim!r} is not a PersistentVolumeClaim name: expected pvc://<claim>/<path>",
            URI_FIELD,
        )
    path, mounted = model_path(path)
    return ModelSource(
        scheme=SCHEME,
        volume={"persistentVolumeClaim": {"claimName": claim, "readOnly": True}},
        mount={"mountPath": MODEL_ROOT, "readOnly": True},
        template_vars={"ModelPath": path, "MountedModelPath": mounted},
    )
