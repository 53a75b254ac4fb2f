"""Facts about the Gateway API Inference Extension objects (FACTS §3-4), in one place.

Public (`from ms_engine import gie`): the wiring checks and the bundled `gie` router plugin read
them. The pool apiVersions are the ones the BaseConfig's `inferencePool` key accepts.
"""

from __future__ import annotations

from typing import Any

from ms_engine.api.baseconfig import POOL_LEGACY, POOL_V1

__all__ = [
    "EPP_GRPC_PORT",
    "EPP_GRPC_PORT_NAME",
    "H2C",
    "LEGACY_GROUP",
    "LLMD_GROUP",
    "POOL_KIND",
    "POOL_LEGACY",
    "POOL_V1",
    "READ",
    "epp_grpc_port",
    "group_of",
    "is_legacy_pool",
    "pool_target_ports",
]

POOL_KIND = "InferencePool"
LEGACY_GROUP = "inference.networking.x-k8s.io"
LLMD_GROUP = "llm-d.ai"
EPP_GRPC_PORT = 9002
EPP_GRPC_PORT_NAME = "grpc-ext-proc"
H2C = "kubernetes.io/h2c"
READ = ["get", "list", "watch"]


def group_of(api_version: str) -> str:
    """`inference.networking.k8s.io/v1` → `inference.networking.k8s.io`; core `v1` → ``."""
    return api_version.rsplit("/", 1)[0] if "/" in api_version else ""


def is_legacy_pool(pool: dict[str, Any]) -> bool:
    return pool.get("apiVersion") == POOL_LEGACY


def pool_target_ports(pool: dict[str, Any]) -> list[int]:
    """The ports the pool sends traffic to, in either layout."""
    spec = pool.get("spec") or {}
    if is_legacy_pool(pool):
        number = spec.get("targetPortNumber")
        return [number] if isinstance(number, int) else []
    return [p["number"] for p in spec.get("targetPorts") or [] if isinstance(p.get("number"), int)]


def epp_grpc_port(service: dict[str, Any] | None) -> int:
    """The EPP Service port the pool must call: the one named grpc-ext-proc, else the h2c one,
    else a lone port, else 9002."""
    ports = [p for p in ((service or {}).get("spec") or {}).get("ports") or [] if "port" in p]
    for field, wanted in (("name", EPP_GRPC_PORT_NAME), ("appProtocol", H2C)):
        for port in ports:
            if port.get(field) == wanted:
                return int(port["port"])
    if len(ports) == 1:
        return int(ports[0]["port"])
    return EPP_GRPC_PORT
