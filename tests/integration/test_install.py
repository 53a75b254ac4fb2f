"""The install manifests: `kubectl kustomize deploy/` builds them, and the controller works with
exactly the RBAC they grant (it runs as their ServiceAccount, with a token from the TokenRequest
API, and reconciles the P/D sample end to end)."""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from ms_controller.kube import KubeCluster

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "unit"))

from polling import wait_for  # noqa: E402
from support import preset, sample  # noqa: E402

pytestmark = pytest.mark.integration
MSCTL = Path(sys.executable).parent / "msctl"
SYSTEM = "modelservice-system"


def build(kubectl: Path) -> list[dict[str, Any]]:
    out = subprocess.run(
        [str(kubectl), "kustomize", str(ROOT / "deploy")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


def test_kustomize_builds_the_install_with_a_hardened_deployment(kubectl):
    objects = build(kubectl)
    kinds = sorted(f"{o['kind']}/{o['metadata']['name']}" for o in objects)
    assert kinds == [
        "ClusterRole/modelservice-controller",
        "ClusterRoleBinding/modelservice-controller",
        "CustomResourceDefinition/modelservices.llm-d.ai",
        "Deployment/modelservice-controller",
        "Namespace/modelservice-system",
        "Role/modelservice-leader-election",
        "RoleBinding/modelservice-leader-election",
        "Service/modelservice-controller-metrics",
        "ServiceAccount/modelservice-controller",
    ]
    (deployment,) = [o for o in objects if o["kind"] == "Deployment"]
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert "--leader-elect" in container["args"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["resources"]["limits"]["memory"]


def token_kubeconfig(kube_api: client.ApiClient, control_plane, path: Path) -> Path:
    """A kubeconfig authenticating as the controller's ServiceAccount (TokenRequest API)."""
    request = client.CoreV1Api(kube_api).create_namespaced_service_account_token(
        "modelservice-controller", SYSTEM, {"spec": {"expirationSeconds": 3600}}
    )
    admin = yaml.safe_load(Path(control_plane.kubeconfig).read_text())
    cluster = admin["clusters"][0]["cluster"]
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "plane", "cluster": cluster}],
        "users": [{"name": "controller", "user": {"token": request.status.token}}],
        "contexts": [{"name": "sa", "context": {"cluster": "plane", "user": "controller"}}],
        "current-context": "sa",
    }
    path.write_text(yaml.safe_dump(config))
    return path


def condition(kube_api, namespace: str, name: str, type_: str) -> dict:
    found = client.CustomObjectsApi(kube_api).get_namespaced_custom_object(
        "llm-d.ai", "v1alpha1", namespace, "modelservices", name
    )
    return next(
        (c for c in (found.get("status") or {}).get("conditions") or [] if c["type"] == type_), {}
    )


def test_the_controller_needs_no_more_rbac_than_the_install_grants(
    kubectl, control_plane, crds, kube_api, namespace, tmp_path
):
    objects = [
        o for o in build(kubectl) if o["kind"] not in ("Deployment", "CustomResourceDefinition")
    ]
    manifests = tmp_path / "install.yaml"
    manifests.write_text(yaml.safe_dump_all(objects))
    subprocess.run(
        [str(kubectl), "--kubeconfig", str(control_plane.kubeconfig), "apply", "--server-side",
         "-f", str(manifests)],
        check=True, capture_output=True,
    )  # fmt: skip
    kubeconfig = token_kubeconfig(kube_api, control_plane, tmp_path / "sa.kubeconfig")
    log = (tmp_path / "controller.log").open("wb")
    process = subprocess.Popen(
        [str(MSCTL), "run", "--kubeconfig", str(kubeconfig), "--namespace", namespace,
         "--leader-elect", "--leader-election-namespace", SYSTEM,
         "--leader-election-id", f"rbac-test-{namespace}",
         "--metrics-addr", "0", "--health-addr", "0", "--log-format", "json"],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "POD_NAME": "rbac-test"},
    )  # fmt: skip
    kube = KubeCluster(kube_api)
    try:
        bc, ms = preset("sim"), sample("sim")
        for body in (bc, ms):
            body = copy.deepcopy(body)
            body["metadata"]["namespace"] = namespace
            body.pop("immutable", None)
            kube.apply(body, field_manager="modelservice-tests")
        wait_for(
            lambda: condition(kube_api, namespace, "sim-pd", "Ready").get("status") == "True",
            "Ready=True with the install's RBAC",
            120,
        )
        # Every child, the endpoint picker's Role included (RBAC escalation rules apply).
        role = client.RbacAuthorizationV1Api(kube_api).read_namespaced_role("sim-pd-epp", namespace)
        assert role.rules
        client.CustomObjectsApi(kube_api).delete_namespaced_custom_object(
            "llm-d.ai", "v1alpha1", namespace, "modelservices", "sim-pd"
        )
        time.sleep(1)
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)
        log.close()
    text = (tmp_path / "controller.log").read_text()
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    forbidden = [
        line for line in lines if "403" in json.dumps(line) or "orbidden" in json.dumps(line)
    ]
    assert not forbidden, forbidden[:3]
    assert code == 0, text[-2000:]


def test_the_cluster_role_is_least_privilege():
    from ms_controller.rbac import CLUSTER_RULES, cluster_role

    committed = yaml.safe_load((ROOT / "deploy/controller/clusterrole.yaml").read_text())
    assert committed == cluster_role(), (
        "deploy/controller/clusterrole.yaml is stale: make manifests"
    )
    for rule in CLUSTER_RULES:
        assert "*" not in rule["verbs"] and "*" not in rule["resources"], rule
        assert "*" not in rule["apiGroups"], rule
        assert not {"secrets", "escalate", "bind", "impersonate"} & set(
            rule["resources"] + rule["verbs"]
        ), rule
    granted = {
        (g, r) for rule in CLUSTER_RULES for g in rule["apiGroups"] for r in rule["resources"]
    }
    assert ("", "secrets") not in granted and ("", "nodes") not in granted
