"""`modelArtifacts.uri` split into scheme and the rest; each model-source plugin parses the rest."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ms_engine.problems import Reason, fail

URI_FIELD = "spec.modelArtifacts.uri"
_URI = re.compile(r"^(?P<scheme>[a-z][a-z0-9+.-]*)://(?P<rest>.*)$")


@dataclass(frozen=True)
class ModelURI:
    """`hf://facebook/opt-125m` → scheme `hf`, rest `facebook/opt-125m`."""

    raw: str
    scheme: str
    rest: str

    def __str__(self) -> str:
        return self.raw


def parse_model_uri(raw: str) -> ModelURI:
    match = _URI.match(raw.strip())
    if not match:
        raise fail(
            f"{raw!r} is not a model URI (expected scheme://..., e.g. hf://org/model)",
            URI_FIELD,
            reason=Reason.UNKNOWN_MODEL_SOURCE,
        )
    return ModelURI(raw=raw, scheme=match["scheme"], rest=match["rest"])
