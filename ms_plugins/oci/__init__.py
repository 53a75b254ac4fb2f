"""`oci://<image reference>[::<path inside the image>]`: the model as a Kubernetes image volume.

Image volumes are read-only; beta from Kubernetes 1.33 (feature gate ImageVolume), on by default
from 1.35, and need containerd ≥ 2.1 or CRI-O ≥ 1.31. Variables: `ModelPath` (the path inside the
image), `MountedModelPath` (`/model-cache/<path>`, or `/model-cache`), `ModelImage`.
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

SCHEME = "oci"
_REFERENCE = r"(?i)^[a-z0-9][a-z0-9._/:@-]*$"


@hookimpl
def ms_model_schemes() -> Iterable[str]:
    return [SCHEME]


@hookimpl
def ms_model_source(uri: ModelURI, artifacts: ModelArtifacts) -> ModelSource | None:
    if uri.scheme != SCHEME:
        return None
    reference, _, path = uri.rest.partition("::")
    if not re.match(_REFERENCE, reference):
        raise fail(
            f"{reference!r} is not an image reference: expected oci://<image>[::<path>]",
            URI_FIELD,
        )
    path, mounted = model_path(path)
    return ModelSource(
        scheme=SCHEME,
        volume={"image": {"reference": reference, "pullPolicy": "IfNotPresent"}},
        mount={"mountPath": MODEL_ROOT, "readOnly": True},
        template_vars={"ModelPath": path, "MountedModelPath": mounted, "ModelImage": reference},
    )
