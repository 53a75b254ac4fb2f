"""Write ms_engine/kube_types.json: the field types of the built-in kinds typed decoding reads.

Generated from the Kubernetes Python client's models (the engine itself never imports the client):

    .venv/bin/python hack/gen_kube_types.py
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from kubernetes import __version__ as client_version
from kubernetes.client import models

ROOTS = ("V1Deployment", "V1Service", "V1ConfigMap")
OUT = Path(__file__).resolve().parents[1] / "ms_engine" / "kube_types.json"
_INNER = re.compile(r"^(?:List\[(.+)\]|list\[(.+)\]|Dict\[str, (.+)\]|dict\(str, (.+)\))$")


def inner(type_name: str) -> str:
    found = _INNER.match(type_name)
    return next(group for group in found.groups() if group) if found else type_name


def table() -> dict[str, object]:
    types: dict[str, dict[str, str]] = {}
    pending = list(ROOTS)
    while pending:
        name = pending.pop()
        model = getattr(models, name, None)
        if name in types or model is None:
            continue
        fields = {model.attribute_map[a]: t for a, t in model.openapi_types.items()}
        types[name] = fields
        pending.extend(inner(t) for t in fields.values())
    return {"client": client_version, "types": dict(sorted(types.items()))}


if __name__ == "__main__":
    OUT.write_text(json.dumps(table(), indent=0, sort_keys=True, separators=(",", ":")) + "\n")
    print(f"wrote {OUT} ({len(table()['types'])} types)", file=sys.stderr)  # type: ignore[arg-type]
