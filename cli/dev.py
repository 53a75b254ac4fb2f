"""`msctl dev`: developer tooling, starting with a local control plane.

    msctl dev cluster up [--full] [--dir PATH]   start etcd + kube-apiserver (+ the rest)
    msctl dev cluster env [--dir PATH]           print `export KUBECONFIG=...`
    msctl dev cluster status [--dir PATH]        list the plane's processes
    msctl dev cluster down [--dir PATH]          stop every process it started, remove PATH

The binaries come from `make controlplane` (or `$MS_CONTROLPLANE_BIN`); the directory defaults
to `$MS_DEVCLUSTER_DIR`, else `<tmp>/modelservice-devcluster-<uid>`.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from ms_devcluster import (
    ControlPlane,
    DevClusterError,
    GpuNodes,
    default_directory,
    down,
)

from .errors import CliError


def _one_line(exc: DevClusterError) -> CliError:
    first, _, rest = str(exc).partition("\n")
    if rest:
        click.echo(rest, err=True)  # a component's log tail, before the one-line error
    return CliError(first)


dir_option = click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Directory of the plane: kubeconfig, state, certificates, data and logs "
    "[default: $MS_DEVCLUSTER_DIR or <tmp>/modelservice-devcluster-<uid>].",
)


@click.group()
def dev() -> None:
    """Developer tooling: a local control plane for tests and demos."""


@dev.group()
def cluster() -> None:
    """A local Kubernetes control plane (etcd, kube-apiserver, optionally the rest + KWOK)."""


@cluster.command()
@dir_option
@click.option(
    "--full/--apiserver-only",
    default=False,
    help="Also run kube-controller-manager, kube-scheduler and KWOK with fake GPU nodes.",
)
@click.option("--nodes", type=click.IntRange(0), default=2, show_default=True,
              help="Fake GPU nodes (with --full).")  # fmt: skip
@click.option("--gpus-per-node", type=click.IntRange(0), default=8, show_default=True)
@click.option("--gpu-product", default=GpuNodes().product, show_default=True,
              help="Value of the nvidia.com/gpu.product label.")  # fmt: skip
@click.option("--timeout", type=float, default=120.0, show_default=True,
              help="Seconds to wait for readiness.")  # fmt: skip
def up(
    directory: Path | None,
    full: bool,
    nodes: int,
    gpus_per_node: int,
    gpu_product: str,
    timeout: float,
) -> None:
    """Start a plane in the background; print where its kubeconfig is."""
    try:
        plane = ControlPlane.start(
            directory,
            full=full,
            nodes=GpuNodes(count=nodes, gpus_per_node=gpus_per_node, product=gpu_product),
            timeout=timeout,
            log=lambda line: click.echo(line, err=True),
        )
    except DevClusterError as exc:
        raise _one_line(exc) from None
    click.echo(f"kubeconfig: {plane.kubeconfig}")
    click.echo(f"server: {plane.server} ({plane.kubernetes_version})")
    click.echo(f"stop it with: msctl dev cluster down --dir {plane.directory}")
    click.echo(plane.env())


@cluster.command()
@dir_option
def env(directory: Path | None) -> None:
    """Print the shell line that points kubectl at the plane."""
    try:
        plane = ControlPlane.load((directory or default_directory()).resolve())
    except DevClusterError as exc:
        raise _one_line(exc) from None
    if not plane.running():
        raise CliError(f"the control plane in {plane.directory} is not running")
    click.echo(plane.env())


@cluster.command()
@dir_option
def status(directory: Path | None) -> None:
    """List the plane's processes and whether each still runs."""
    try:
        plane = ControlPlane.load((directory or default_directory()).resolve())
    except DevClusterError as exc:
        raise _one_line(exc) from None
    click.echo(f"{plane.server} {plane.kubernetes_version} kubeconfig={plane.kubeconfig}")
    alive = {r.pid for r in plane.running()}
    for record in plane.records:
        state = "running" if record.pid in alive else "gone"
        click.echo(f"{record.name:<24} pid {record.pid:<8} {state:<8} {record.log}")


@cluster.command(name="down")
@dir_option
def down_command(directory: Path | None) -> None:
    """Stop every process the plane started (by PID) and remove its directory."""
    target = (directory or default_directory()).resolve()
    try:
        stopped = down(target)
    except DevClusterError as exc:
        raise _one_line(exc) from None
    click.echo(f"stopped {', '.join(stopped) if stopped else 'nothing (no process was running)'}")
    click.echo(f"removed {target}")


@dev.command(name="run")
@click.option(
    "--sample",
    default="pd-nixl",
    show_default=True,
    help="The sample under samples/ to apply (with the preset its baseConfigMapRef names).",
)
@click.option(
    "--follow/--no-follow",
    default=True,
    show_default=True,
    help="After Ready, show the controller's log until Ctrl-C (else stop at once).",
)
@click.option("--timeout", type=float, default=300.0, show_default=True,
              help="Seconds to wait for Ready.")  # fmt: skip
@click.option("--metrics-addr", default="127.0.0.1:8080", show_default=True,
              help="The controller's /metrics address.")  # fmt: skip
@click.option("--health-addr", default="127.0.0.1:8081", show_default=True,
              help="The controller's /healthz and /readyz address.")  # fmt: skip
@dir_option
def run_command(
    sample: str,
    follow: bool,
    timeout: float,
    metrics_addr: str,
    health_addr: str,
    directory: Path | None,
) -> None:
    """What `make run` does: a local plane, the controller, a sample ModelService until Ready."""
    import tempfile

    import yaml

    from ms_devcluster import demo

    sample_file = demo.REPO / "samples" / sample / "modelservice.yaml"
    if not sample_file.is_file():
        raise CliError(f"--sample: no {sample_file}")
    reference = (yaml.safe_load(sample_file.read_text()).get("spec") or {}).get(
        "baseConfigMapRef"
    ) or {}
    preset = demo.REPO / "deploy" / "presets" / f"{reference.get('name', sample)}.yaml"
    if not preset.is_file():
        raise CliError(f"--sample {sample}: its preset {preset} does not exist")
    target = directory or Path(tempfile.gettempdir()) / f"modelservice-run-{os.getuid()}"
    try:
        code = demo.run(
            demo.Demo(
                sample=sample_file,
                preset=preset,
                timeout=timeout,
                metrics_addr=metrics_addr,
                health_addr=health_addr,
            ),
            directory=target,
            follow_log=follow,
            say=lambda line: click.echo(line),
        )
    except DevClusterError as exc:
        raise _one_line(exc) from None
    raise SystemExit(code)
