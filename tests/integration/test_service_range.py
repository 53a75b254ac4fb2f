"""A cluster out of Service IPs: the ModelService says so in its `Reconciled` condition
(`ApplyFailed`, naming the cause) instead of the reconcile crashing. Its own tiny plane: a /29
service range holds the `kubernetes` Service and four more, so the second P/D sample (three
Services each) finds it full."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, config

from ms_controller.kube import KubeCluster
from ms_controller.reconcile import reconcile
from ms_devcluster import Binaries, ControlPlane

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "unit"))
sys.path.insert(0, str(ROOT / "tests" / "integration"))

from crd_files import CRD_FILES, install_crd  # noqa: E402
from support import fresh_renderer, preset, sample  # noqa: E402

pytestmark = pytest.mark.integration


@pytest.fixture()
def small_plane(binaries: Binaries, tmp_path: Path) -> Iterator[client.ApiClient]:
    plane = ControlPlane.start(
        tmp_path / "plane", binaries=binaries, die_with_parent=True, service_cidr="10.0.0.0/29"
    )
    try:
        api = config.new_client_from_config(config_file=str(plane.kubeconfig))
        try:
            yield api
        finally:
            api.close()
    finally:
        plane.stop()


def test_a_full_service_range_is_an_apply_failed_condition(small_plane):
    api = small_plane
    extensions = client.ApiextensionsV1Api(api)
    for path in CRD_FILES:
        install_crd(extensions, path)
    client.CoreV1Api(api).create_namespace(
        client.V1Namespace(metadata=client.V1ObjectMeta(name="full"))
    )
    kube = KubeCluster(api)
    base_config = preset("sim")
    base_config["metadata"]["namespace"] = "full"
    base_config.pop("immutable", None)
    kube.apply(base_config, field_manager="modelservice-tests")
    results = []
    for name in ("first", "second"):
        body = sample("sim")
        body["metadata"] = {"name": name, "namespace": "full"}
        kube.apply(body, field_manager="modelservice-tests")
        results.append(reconcile(kube, "full", name, renderer=fresh_renderer()))

    assert results[0].condition("Reconciled")["status"] == "True"
    reconciled = results[1].condition("Reconciled")
    assert reconciled["status"] == "False"
    assert reconciled["reason"] == "ApplyFailed"
    assert "range is full" in reconciled["message"]
    stored = client.CustomObjectsApi(api).get_namespaced_custom_object(
        "llm-d.ai", "v1alpha1", "full", "modelservices", "second"
    )
    written = {c["type"]: c for c in stored["status"]["conditions"]}
    assert written["Reconciled"]["reason"] == "ApplyFailed"
    assert "range is full" in written["Reconciled"]["message"]
