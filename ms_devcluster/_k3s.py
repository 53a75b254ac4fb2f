"""K3s in a container, through testcontainers, for machines that have a Docker engine.

Only used when asked for (`MS_CONTROLPLANE=k3s`). `docker_engine_available()` answers quickly,
with the standard library only, so that machines without an engine skip this path cleanly;
testcontainers itself is imported only once an engine has answered.
"""

from __future__ import annotations

import http.client
import importlib
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

K3S_IMAGE_ENV = "MS_K3S_IMAGE"
DEFAULT_K3S_IMAGE = "rancher/k3s:latest"


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self._path)
        self.sock = sock


def docker_engine_available(timeout: float = 2.0) -> bool:
    """Whether a Docker engine answers `GET /_ping` at `$DOCKER_HOST` (default: the socket)."""
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    conn: http.client.HTTPConnection
    if host.startswith("unix://"):
        path = host.removeprefix("unix://")
        if not Path(path).exists():
            return False
        conn = _UnixHTTPConnection(path, timeout)
    elif host.startswith("tcp://"):
        hostport = host.removeprefix("tcp://").rstrip("/")
        name, _, port = hostport.rpartition(":")
        conn = http.client.HTTPConnection(name or hostport, int(port or 2375), timeout=timeout)
    else:
        return False
    try:
        conn.request("GET", "/_ping")
        return conn.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


@dataclass(kw_only=True)
class K3sCluster:
    """A K3s server in a container, with its kubeconfig written to `directory/kubeconfig`."""

    directory: Path
    kubeconfig: Path
    kubernetes_version: str
    _container: Any = field(repr=False)

    @classmethod
    def start(cls, directory: Path) -> K3sCluster:
        """Start K3s (image from `$MS_K3S_IMAGE`); the caller checks for an engine first."""
        module = importlib.import_module("testcontainers.community.k3s")
        image = os.environ.get(K3S_IMAGE_ENV, DEFAULT_K3S_IMAGE)
        container = module.K3SContainer(image=image)
        container.start()
        directory.mkdir(parents=True, exist_ok=True)
        kubeconfig = directory / "kubeconfig"
        kubeconfig.write_text(container.config_yaml())
        kubeconfig.chmod(0o600)
        tag = image.rpartition(":")[2]
        return cls(
            directory=directory,
            kubeconfig=kubeconfig,
            kubernetes_version=tag,
            _container=container,
        )

    def stop(self) -> None:
        self._container.stop()
