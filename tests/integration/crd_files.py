"""The CRDs the integration tests install, and how (an importable module: test modules must
not import `conftest`, whose module name the unit tests' conftest shares)."""

from __future__ import annotations

import time
from pathlib import Path

import yaml
from kubernetes import client
from kubernetes.client.rest import ApiException

ROOT = Path(__file__).resolve().parents[2]

CRD_FILES = [
    ROOT / "deploy/crds/llm-d.ai_modelservices.yaml",
    *sorted((ROOT / "deploy/crds/third-party").glob("*.yaml")),
]
"""The ModelService CRD and every third-party CRD the rendered objects use."""
CRD_MANAGER = "modelservice-tests"


def install_crd(extensions: client.ApiextensionsV1Api, path: Path) -> str:
    """Server-side apply one CRD file and wait until it is Established."""
    crd = yaml.safe_load(path.read_text())
    name = crd["metadata"]["name"]
    extensions.patch_custom_resource_definition(
        name, crd, field_manager=CRD_MANAGER, _content_type="application/apply-patch+yaml"
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            conditions = extensions.read_custom_resource_definition(name).status.conditions or []
        except ApiException:
            conditions = []
        if any(c.type == "Established" and c.status == "True" for c in conditions):
            return name
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for CRD {name} to be Established")
        time.sleep(0.2)
