"""`hf://org/model`: download from Hugging Face into an emptyDir at /model-cache.

Variables: `HFModelName` (`org/model`), `ModelPath` (the same), `MountedModelPath` (`/model-cache`).
Containers with `mountModelVolume: true` get the mount, `HF_TOKEN` from the auth secret (when
`authSecretName` is set) and `HF_HOME=/model-cache`, after their own env.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from ms_engine import MODEL_ROOT, URI_FIELD, ModelArtifacts, ModelSource, ModelURI, fail, hookimpl

SCHEME = "hf"
_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@hookimpl
def ms_model_schemes() -> Iterable[str]:
    return [SCHEME]


@hookimpl
def ms_model_source(uri: ModelURI, artifacts: ModelArtifacts) -> ModelSource | None:
    if uri.scheme != SCHEME:
        return None
    parts = uri.rest.strip("/").split("/")
    if len(parts) not in (1, 2) or not all(_SEGMENT.match(part) for part in parts):
        raise fail(
            f"{uri.raw!r} is not a Hugging Face model: expected hf://<org>/<model>", URI_FIELD
        )
    repo = "/".join(parts)
    empty_dir: dict[str, Any] = {}
    if artifacts.size is not None:
        empty_dir["sizeLimit"] = artifacts.size
    env: list[dict[str, Any]] = []
    if artifacts.auth_secret_name:
        env.append(
            {
                "name": "HF_TOKEN",
                "valueFrom": {
                    "secretKeyRef": {"name": artifacts.auth_secret_name, "key": "HF_TOKEN"}
                },
            }
        )
    env.append({"name": "HF_HOME", "value": MODEL_ROOT})
    return ModelSource(
        scheme=SCHEME,
        volume={"emptyDir": empty_dir},
        mount={"mountPath": MODEL_ROOT},
        env=tuple(env),
        template_vars={"HFModelName": repo, "ModelPath": repo, "MountedModelPath": MODEL_ROOT},
    )
