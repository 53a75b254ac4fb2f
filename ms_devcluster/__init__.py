"""A local Kubernetes control plane for tests and demos, built from the real components.

`hack/controlplane/build.sh` builds etcd, kube-apiserver, kube-controller-manager, kube-scheduler
and KWOK from their Go modules into a cache outside the work tree; this package starts them as
local processes on 127.0.0.1, the way controller-runtime's envtest does. The pytest fixtures in
`tests/integration/conftest.py` and `msctl dev cluster up|down|env` both use it.

    with running_plane(tmp_dir, full=True) as plane:
        subprocess.run(["kubectl", "--kubeconfig", plane.kubeconfig, "get", "nodes"])
"""

from ms_devcluster._binaries import BIN_ENV, Binaries, build_script, find_binaries
from ms_devcluster._errors import (
    AlreadyRunningError,
    BinariesNotFoundError,
    DevClusterError,
    StartupError,
)
from ms_devcluster._k3s import K3sCluster, docker_engine_available
from ms_devcluster._plane import (
    DIR_ENV,
    GPU_PRODUCT_LABEL,
    GPU_RESOURCE,
    ControlPlane,
    GpuNodes,
    default_directory,
    down,
    running_plane,
)

__all__ = [
    "BIN_ENV",
    "DIR_ENV",
    "GPU_PRODUCT_LABEL",
    "GPU_RESOURCE",
    "AlreadyRunningError",
    "Binaries",
    "BinariesNotFoundError",
    "ControlPlane",
    "DevClusterError",
    "GpuNodes",
    "K3sCluster",
    "StartupError",
    "build_script",
    "default_directory",
    "docker_engine_available",
    "down",
    "find_binaries",
    "running_plane",
]
