"""The `msctl` command line: render offline, run one stage, manage a local control plane.

This folder installs as the package `ms_cli` (pyproject's package-dir), so its modules import
each other relatively, which reads the same under either name (mypy checks it as `cli`).
"""
