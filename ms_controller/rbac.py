"""The controller's own RBAC, declared beside the code that needs it.

`deploy/controller/clusterrole.yaml` is generated from `CLUSTER_RULES` (`make manifests`, a test
checks it is current), and a test runs the controller with exactly these rights.

Why each rule, in the order of the file:
- what it watches and reconciles: ModelServices (and their status), the children it applies
  (create and patch: server-side apply; delete: pruning), ConfigMaps (children and BaseConfigs);
- what it reads to explain readiness: pods (the scheduler's reason a pod is Pending);
- what appears later: CustomResourceDefinitions (a routing kind whose CRD is installed later);
- Events about ModelServices (create, and patch/get to count a repeated one as a series);
- what the endpoint picker's Role grants. Kubernetes only lets a subject create a Role granting
  rights it holds itself (no `escalate`), so the controller holds the picker's read rights and,
  for pickers with several replicas, their leader election rights.
"""

from __future__ import annotations

import json
from typing import Any

READ = ["get", "list", "watch"]
APPLY = ["get", "list", "watch", "create", "patch", "delete"]

CLUSTER_RULES: list[dict[str, Any]] = [
    {"apiGroups": ["llm-d.ai"], "resources": ["modelservices"], "verbs": READ},
    {"apiGroups": ["llm-d.ai"], "resources": ["modelservices/status"], "verbs": ["patch"]},
    {
        "apiGroups": [""],
        "resources": ["configmaps", "services", "serviceaccounts"],
        "verbs": APPLY,
    },
    {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": APPLY},
    {
        "apiGroups": ["rbac.authorization.k8s.io"],
        "resources": ["roles", "rolebindings"],
        "verbs": APPLY,
    },
    {
        "apiGroups": ["inference.networking.k8s.io"],
        "resources": ["inferencepools"],
        "verbs": APPLY,
    },
    {
        "apiGroups": ["inference.networking.x-k8s.io"],
        "resources": ["inferencepools", "inferencemodels", "inferenceobjectives"],
        "verbs": APPLY,
    },
    {"apiGroups": ["llm-d.ai"], "resources": ["inferenceobjectives"], "verbs": APPLY},
    {"apiGroups": ["gateway.networking.k8s.io"], "resources": ["httproutes"], "verbs": APPLY},
    {"apiGroups": [""], "resources": ["pods"], "verbs": READ},
    {
        "apiGroups": ["apiextensions.k8s.io"],
        "resources": ["customresourcedefinitions"],
        "verbs": READ,
    },
    {"apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": ["create", "get", "patch"]},
    # Held only so the controller may grant them in the endpoint picker's Role (see above).
    {
        "apiGroups": ["llm-d.ai", "inference.networking.x-k8s.io"],
        "resources": ["inferencemodelrewrites"],
        "verbs": READ,
    },
    {
        "apiGroups": ["coordination.k8s.io"],
        "resources": ["leases"],
        "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
    },
    {"apiGroups": [""], "resources": ["events"], "verbs": ["create", "patch"]},
]


def cluster_role(name: str = "modelservice-controller") -> dict[str, Any]:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": name},
        "rules": json.loads(json.dumps(CLUSTER_RULES)),  # no shared lists: no YAML anchors
    }


def main() -> None:
    import yaml

    print("# Generated from ms_controller/rbac.py by `make manifests`; do not edit by hand.")
    print(yaml.safe_dump(cluster_role(), sort_keys=False), end="")


if __name__ == "__main__":
    main()
