"""Write ms_engine/schemas.json: the compact schemas `msctl render` checks objects against.

Built-in kinds come from kubernetes-validate's strict schemas of one Kubernetes version, cut to
the kinds a ModelService render may produce and to the keywords the checker reads (descriptions
and everything else dropped); the CRD kinds from deploy/crds/third-party. `make schemas` runs it;
a unit test checks the committed file is what this writes.

    .venv/bin/python hack/gen_schemas.py [--check]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "ms_engine" / "schemas.json"
KUBERNETES = "1.36.0"
BUILT_IN = {
    ("v1", "ConfigMap"): "configmap-v1",
    ("v1", "Secret"): "secret-v1",
    ("v1", "Service"): "service-v1",
    ("v1", "ServiceAccount"): "serviceaccount-v1",
    ("v1", "PersistentVolumeClaim"): "persistentvolumeclaim-v1",
    ("apps/v1", "Deployment"): "deployment-apps-v1",
    ("apps/v1", "StatefulSet"): "statefulset-apps-v1",
    ("apps/v1", "DaemonSet"): "daemonset-apps-v1",
    ("rbac.authorization.k8s.io/v1", "Role"): "role-rbac-v1",
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): "rolebinding-rbac-v1",
    ("rbac.authorization.k8s.io/v1", "ClusterRole"): "clusterrole-rbac-v1",
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): "clusterrolebinding-rbac-v1",
    ("policy/v1", "PodDisruptionBudget"): "poddisruptionbudget-policy-v1",
    ("autoscaling/v2", "HorizontalPodAutoscaler"): "horizontalpodautoscaler-autoscaling-v2",
}
KEEP = {
    "type",
    "properties",
    "additionalProperties",
    "items",
    "required",
    "enum",
    "format",
    "oneOf",
    "anyOf",
    "$ref",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
    "pattern",
    "nullable",
    "x-kubernetes-int-or-string",
    "x-kubernetes-preserve-unknown-fields",
}
STATUS_FREE = True  # rendered objects carry no status; dropping it halves the bundle


def _compact(node: Any, refs: set[str]) -> Any:
    if isinstance(node, list):
        return [_compact(item, refs) for item in node]
    if not isinstance(node, dict):
        return node
    result: dict[str, Any] = {}
    for key, value in node.items():
        if key not in KEEP:
            continue
        if key == "$ref":
            name = value.rsplit("/", 1)[-1]
            refs.add(name)
            result[key] = name
        elif key == "properties":
            result[key] = {
                name: _compact(sub, refs)
                for name, sub in value.items()
                if not (STATUS_FREE and name == "status")
            }
        else:
            result[key] = _compact(value, refs)
    return result


def _schema_dir() -> Path:
    import kubernetes_validate

    return (
        Path(kubernetes_validate.__file__).parent
        / "kubernetes-json-schema"
        / (f"v{KUBERNETES}-local-strict")
    )


def build() -> dict[str, Any]:
    directory = _schema_dir()
    definitions = json.loads((directory / "_definitions.json").read_text())["$defs"]
    kinds: dict[str, Any] = {}
    refs: set[str] = set()
    for (api_version, kind), file in sorted(BUILT_IN.items()):
        schema = json.loads((directory / f"{file}.json").read_text())
        kinds[f"{api_version} {kind}"] = _compact(schema, refs)
    defs: dict[str, Any] = {}
    pending = sorted(refs)
    while pending:
        name = pending.pop()
        if name in defs:
            continue
        found: set[str] = set()
        defs[name] = _compact(definitions[name], found)
        pending.extend(sorted(found - set(defs)))
    for path in sorted((ROOT / "deploy/crds/third-party").glob("*.yaml")):
        crd = yaml.safe_load(path.read_text())
        for version in crd["spec"]["versions"]:
            if not version.get("served", True):
                continue
            key = f"{crd['spec']['group']}/{version['name']} {crd['spec']['names']['kind']}"
            schema = _compact(version["schema"]["openAPIV3Schema"], set())
            schema.setdefault("properties", {})["metadata"] = {"$ref": "ObjectMeta"}
            kinds[key] = schema
    defs["ObjectMeta"] = {"$ref": "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}
    return {
        "kubernetes": KUBERNETES,
        "kinds": dict(sorted(kinds.items())),
        "definitions": dict(sorted(defs.items())),
    }


def text() -> str:
    return json.dumps(build(), separators=(",", ":"), sort_keys=True) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    if parser.parse_args().check:
        return 0 if OUTPUT.read_text() == text() else 1
    OUTPUT.write_text(text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
