"""Keys and certificates for a throwaway control plane, made with the `openssl` command.

One CA signs the API server's serving certificate and one client certificate per identity. The
service-account token key pair is separate. All keys are ECDSA P-256: quick to generate, and
accepted by every component.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ms_devcluster._errors import StartupError

_CURVE = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
_DAYS = "30"


@dataclass(frozen=True, kw_only=True)
class CertPair:
    """A certificate and its private key, as PEM files."""

    cert: Path
    key: Path


@dataclass(frozen=True, kw_only=True)
class Pki:
    """Everything the components need to trust each other."""

    ca: CertPair
    serving: CertPair
    admin: CertPair
    controller_manager: CertPair
    scheduler: CertPair
    service_account_key: Path
    service_account_pub: Path


def _openssl(*args: str, cwd: Path) -> None:
    result = subprocess.run(
        ["openssl", *args], cwd=cwd, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        detail = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise StartupError(f"openssl {args[0]} failed: {detail}")


CLIENT_EXTENSIONS = [
    "basicConstraints=critical,CA:FALSE",
    "keyUsage=critical,digitalSignature",
    "extendedKeyUsage=clientAuth",
]


def sign(directory: Path, ca: CertPair, name: str, subject: str, extensions: list[str]) -> CertPair:
    pair = CertPair(cert=directory / f"{name}.crt", key=directory / f"{name}.key")
    csr = directory / f"{name}.csr"
    ext = directory / f"{name}.ext"
    ext.write_text("".join(f"{line}\n" for line in extensions))
    _openssl("req", "-new", *_CURVE, "-keyout", str(pair.key), "-out", str(csr),
             "-subj", subject, cwd=directory)  # fmt: skip
    _openssl("x509", "-req", "-in", str(csr), "-CA", str(ca.cert), "-CAkey", str(ca.key),
             "-set_serial", f"0x{name.encode().hex()[:30]}", "-days", _DAYS, "-sha256",
             "-extfile", str(ext), "-out", str(pair.cert), cwd=directory)  # fmt: skip
    csr.unlink()
    ext.unlink()
    return pair


def create_pki(directory: Path, *, service_cluster_ip: str) -> Pki:
    """Write a CA, the serving and client certificates and the service-account keys."""
    if shutil.which("openssl") is None:
        raise StartupError("the 'openssl' command is needed to make certificates; install it")
    directory.mkdir(parents=True, exist_ok=True)
    ca = CertPair(cert=directory / "ca.crt", key=directory / "ca.key")
    _openssl("req", "-x509", *_CURVE, "-keyout", str(ca.key), "-out", str(ca.cert),
             "-days", _DAYS, "-sha256", "-subj", "/CN=modelservice-devcluster-ca",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
             cwd=directory)  # fmt: skip
    leaf = ["basicConstraints=critical,CA:FALSE", "keyUsage=critical,digitalSignature"]
    client = [*leaf, "extendedKeyUsage=clientAuth"]
    names = ["localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
             "kubernetes.default.svc.cluster.local"]  # fmt: skip
    san = ",".join(["IP:127.0.0.1", f"IP:{service_cluster_ip}", *(f"DNS:{n}" for n in names)])
    serving = sign(directory, ca, "apiserver", "/CN=kube-apiserver",
                    [*leaf, "extendedKeyUsage=serverAuth", f"subjectAltName={san}"])  # fmt: skip
    admin = sign(directory, ca, "admin", "/O=system:masters/CN=modelservice-admin", client)
    kcm = sign(directory, ca, "controller-manager", "/CN=system:kube-controller-manager", client)
    scheduler = sign(directory, ca, "scheduler", "/CN=system:kube-scheduler", client)
    sa_key = directory / "service-account.key"
    sa_pub = directory / "service-account.pub"
    _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-out", str(sa_key), cwd=directory)  # fmt: skip
    _openssl("pkey", "-in", str(sa_key), "-pubout", "-out", str(sa_pub), cwd=directory)
    for key in directory.glob("*.key"):
        key.chmod(0o600)
    return Pki(
        ca=ca,
        serving=serving,
        admin=admin,
        controller_manager=kcm,
        scheduler=scheduler,
        service_account_key=sa_key,
        service_account_pub=sa_pub,
    )
