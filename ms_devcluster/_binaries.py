"""Find the control plane binaries that `hack/controlplane/build.sh` built.

The build script keeps them outside the work tree, in a cache directory keyed by a hash of the
wrapper modules and the Go version. `MS_CONTROLPLANE_BIN` points at a bin directory directly;
otherwise the script itself is asked (`build.sh --print-bin`), so the two never disagree about
the key.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ms_devcluster._errors import BinariesNotFoundError

BIN_ENV = "MS_CONTROLPLANE_BIN"
COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")
KWOK_STAGES = "kwok-stages.yaml"
VERSIONS = "versions.env"


@dataclass(frozen=True, kw_only=True)
class Binaries:
    """A directory holding every component, its KWOK stages and the versions they were built at."""

    bin_dir: Path
    versions: dict[str, str]

    def path(self, component: str) -> Path:
        """The executable of one component (one of `COMPONENTS`)."""
        return self.bin_dir / component

    @property
    def kwok_stages(self) -> Path:
        """KWOK's default node and pod stages, copied from its module by the build script."""
        return self.bin_dir / KWOK_STAGES

    @property
    def kubernetes_version(self) -> str:
        """The release the Kubernetes components were stamped with, for example `v1.36.3`."""
        return self.versions.get("KUBERNETES_VERSION", "")


def build_script() -> Path:
    """`hack/controlplane/build.sh` of the checkout this package was loaded from."""
    return Path(__file__).resolve().parents[1] / "hack" / "controlplane" / "build.sh"


def _read_versions(path: Path) -> dict[str, str]:
    versions: dict[str, str] = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            key, sep, value = line.partition("=")
            if sep and not line.startswith("#"):
                versions[key.strip()] = value.strip()
    return versions


def _check(bin_dir: Path, origin: str) -> Binaries:
    missing = [c for c in COMPONENTS if not os.access(bin_dir / c, os.X_OK)]
    if not (bin_dir / KWOK_STAGES).is_file():
        missing.append(KWOK_STAGES)
    if missing:
        raise BinariesNotFoundError(
            f"{origin} {bin_dir} lacks {', '.join(missing)}: run 'make controlplane'"
        )
    return Binaries(bin_dir=bin_dir, versions=_read_versions(bin_dir / VERSIONS))


def find_binaries() -> Binaries:
    """Locate the built binaries, or raise `BinariesNotFoundError` saying how to build them."""
    override = os.environ.get(BIN_ENV)
    if override:
        return _check(Path(override).expanduser(), f"${BIN_ENV}")
    script = build_script()
    if not script.is_file():
        raise BinariesNotFoundError(
            f"no {script} (is this a source checkout?); set ${BIN_ENV} to a bin directory"
        )
    if shutil.which("go") is None:
        raise BinariesNotFoundError(
            f"'go' is not on PATH, so {script} cannot compute the cache key; set ${BIN_ENV}"
        )
    env = {**os.environ, "GOTOOLCHAIN": "local"}
    result = subprocess.run(
        ["bash", str(script), "--print-bin"], capture_output=True, text=True, env=env, check=False
    )
    if result.returncode != 0:
        lines = (result.stderr.strip() or "control plane binaries are not built").splitlines()
        raise BinariesNotFoundError(lines[-1].removeprefix("error: "))
    return _check(Path(result.stdout.strip().splitlines()[-1]), "bin directory")
