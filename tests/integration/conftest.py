"""Fixtures for integration tests against a real API server.

- `control_plane` (session): a local plane from `ms_devcluster` with etcd, kube-apiserver,
  kube-controller-manager, kube-scheduler and KWOK keeping fake GPU nodes Ready. It yields a
  `ControlPlane` (`.kubeconfig`, `.server`, `.kubernetes_version`, `.records`) and always stops
  every process it started, also when tests fail or the run is interrupted.
  With `MS_CONTROLPLANE=k3s` it yields a `K3sCluster` from testcontainers instead, and skips when
  no Docker engine answers.
- `kube_api` (session): a `kubernetes.client.ApiClient` for the admin kubeconfig.
- `namespace` (function): a fresh namespace per test (its default ServiceAccount exists), deleted
  afterwards.

Missing binaries fail the tests with how to build them (`make controlplane`): CI must really run
them. `MS_SKIP_INTEGRATION=1` skips them instead, for machines that cannot build the plane.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from crd_files import CRD_FILES, install_crd
from kubernetes import client, config
from kubernetes.client.rest import ApiException

from ms_devcluster import (
    Binaries,
    BinariesNotFoundError,
    ControlPlane,
    K3sCluster,
    docker_engine_available,
    find_binaries,
)

ROOT = Path(__file__).resolve().parents[2]
SKIP_ENV = "MS_SKIP_INTEGRATION"
MODE_ENV = "MS_CONTROLPLANE"


def start_k3s_or_skip(directory: Path) -> K3sCluster:
    """The K3s path: skipped cleanly (not failed) when no Docker engine answers."""
    if not docker_engine_available():
        host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
        pytest.skip(f"{MODE_ENV}=k3s, but no Docker engine answers at {host}")
    return K3sCluster.start(directory)


@pytest.fixture(scope="session")
def binaries() -> Binaries:
    """The built control plane binaries; missing ones fail the test (skip with MS_SKIP_...=1)."""
    if os.environ.get(SKIP_ENV) == "1":
        pytest.skip(f"{SKIP_ENV}=1")
    try:
        return find_binaries()
    except BinariesNotFoundError as exc:
        problem = str(exc)
    pytest.fail(
        f"integration tests need the local control plane: {problem} "
        f"(or set {SKIP_ENV}=1 to skip them)",
        pytrace=False,
    )


@pytest.fixture(scope="session")
def control_plane(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ControlPlane | K3sCluster]:
    if os.environ.get(SKIP_ENV) == "1":
        pytest.skip(f"{SKIP_ENV}=1")
    if os.environ.get(MODE_ENV, "local") == "k3s":
        k3s = start_k3s_or_skip(tmp_path_factory.mktemp("k3s"))
        try:
            yield k3s
        finally:
            k3s.stop()
        return
    binaries = request.getfixturevalue("binaries")
    plane = ControlPlane.start(
        tmp_path_factory.mktemp("controlplane"),
        full=True,
        binaries=binaries,
        die_with_parent=True,
    )
    try:
        yield plane
    finally:
        plane.stop()


@pytest.fixture(scope="session")
def kube_api(control_plane: ControlPlane | K3sCluster) -> Iterator[client.ApiClient]:
    api = config.new_client_from_config(config_file=str(control_plane.kubeconfig))
    try:
        yield api
    finally:
        api.close()


@pytest.fixture()
def local_plane(control_plane: ControlPlane | K3sCluster) -> ControlPlane:
    """The session plane when it is the local one (KWOK GPU nodes, PIDs); skips under K3s."""
    if not isinstance(control_plane, ControlPlane):
        pytest.skip("needs the local control plane (KWOK GPU nodes), not K3s")
    return control_plane


@pytest.fixture()
def namespace(kube_api: client.ApiClient, request: pytest.FixtureRequest) -> Iterator[str]:
    core = client.CoreV1Api(kube_api)
    slug = "".join(c if c.isalnum() else "-" for c in request.node.name.lower())[:40].strip("-")
    name = f"t-{slug}-{uuid.uuid4().hex[:6]}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    deadline = time.monotonic() + 30
    while True:  # Pods are refused until the controller-manager made the default ServiceAccount.
        try:
            core.read_namespaced_service_account("default", name)
            break
        except ApiException as exc:
            if exc.status != 404 or time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    try:
        yield name
    finally:
        try:
            core.delete_namespace(name)
        except ApiException as exc:
            if exc.status != 404:
                raise


@pytest.fixture(scope="module")
def crds(kube_api: client.ApiClient) -> None:
    """Every CRD of CRD_FILES installed (again per module: a test may remove one)."""
    extensions = client.ApiextensionsV1Api(kube_api)
    for path in CRD_FILES:
        install_crd(extensions, path)


@pytest.fixture(scope="session")
def kubectl(binaries: Binaries) -> Path:
    """The plane's kubectl (built by `make controlplane` beside the other binaries)."""
    import subprocess

    found = subprocess.run(
        [str(ROOT / "hack/controlplane/build.sh"), "--print-kubectl"],
        capture_output=True,
        text=True,
        env={**os.environ, "GOTOOLCHAIN": "local"},
    )
    if found.returncode != 0:
        pytest.fail(f"integration tests need kubectl: {found.stderr.strip()}", pytrace=False)
    return Path(found.stdout.strip())
