"""The `msctl` command line: render offline, run one stage, manage a local control plane."""
