"""Errors of the local control plane.

DevClusterError
├── BinariesNotFoundError   the binaries are not built (run `make controlplane`)
├── StartupError            a component exited or did not become ready in time
└── AlreadyRunningError     the directory holds a plane whose processes still run
"""


class DevClusterError(Exception):
    """Base of every error the launcher raises on purpose; the message is one line for a user."""


class BinariesNotFoundError(DevClusterError):
    """The control plane binaries are missing: build them with `make controlplane`."""


class StartupError(DevClusterError):
    """A component exited early or was not ready before the deadline."""


class AlreadyRunningError(DevClusterError):
    """`up` found a running plane in its directory; `down` it first."""
