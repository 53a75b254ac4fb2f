"""`msctl reconcile NAME`: one reconcile pass of a ModelService in a cluster.

The exact code the controller runs (`ms_controller.reconcile`). Prints a line per child and the
resulting conditions. Exit status 0 when the ModelService is reconciled, 1 when not (or on error).
"""

from __future__ import annotations

from typing import Any

import click

from .app import App, pass_app
from .errors import CliError


def cluster_options(function: Any) -> Any:
    """`-n`, `--kubeconfig`, `--context`: where the ModelService lives."""
    for decorator in reversed(
        [
            click.option("-n", "--namespace", help="Namespace (default: the kubeconfig's)."),
            click.option(
                "--kubeconfig",
                type=click.Path(dir_okay=False),
                envvar="KUBECONFIG",
                help="Kubeconfig file (default: $KUBECONFIG, ~/.kube/config, in-cluster).",
            ),
            click.option("--context", "kube_context", help="Kubeconfig context to use."),
        ]
    ):
        function = decorator(function)
    return function


def connect(kubeconfig: str | None, kube_context: str | None, *, dry_run: bool = False) -> Any:
    """A KubeCluster and the namespace the kubeconfig's context names."""
    import yaml
    from kubernetes import config

    from ms_controller.kube import KubeCluster

    try:
        kube = KubeCluster.from_kubeconfig(kubeconfig, context=kube_context, dry_run=dry_run)
    except (config.ConfigException, OSError, yaml.YAMLError) as error:
        detail = " ".join(str(error).split())  # yaml's messages span lines
        raise CliError(f"cannot load the kubeconfig: {detail}") from None
    namespace = "default"
    try:
        _, active = config.list_kube_config_contexts(config_file=kubeconfig)  # type: ignore[no-untyped-call]
        chosen = active
        if kube_context:
            contexts, _ = config.list_kube_config_contexts(config_file=kubeconfig)  # type: ignore[no-untyped-call]
            chosen = next((c for c in contexts if c["name"] == kube_context), active)
        namespace = (chosen.get("context") or {}).get("namespace") or "default"
    except (config.ConfigException, OSError, yaml.YAMLError):
        pass
    return kube, namespace


@click.command()
@click.argument("name")
@cluster_options
@click.option("--dry-run", is_flag=True, help="Server-side dry run: nothing is written.")
@pass_app
def reconcile(
    app: App,
    name: str,
    namespace: str | None,
    kubeconfig: str | None,
    kube_context: str | None,
    dry_run: bool,
) -> None:
    """Reconcile ModelService NAME once: apply, prune, write status."""
    from ms_controller.reconcile import reconcile as reconcile_once
    from ms_engine.cluster import ClusterError

    kube, default_namespace = connect(kubeconfig, kube_context, dry_run=dry_run)
    namespace = namespace or default_namespace
    try:
        result = reconcile_once(kube, namespace, name, renderer=app.renderer)
    except ClusterError as error:
        raise CliError(str(error)) from None
    if not result.found:
        raise CliError(f"ModelService {namespace}/{name} not found")
    if result.report is not None:
        for child in result.report.children:
            line = f"{child.ref} {child.action.value}"
            if child.reason:
                line += f": {child.reason}"
            if child.message and child.action.value != "unchanged":
                line += f" ({child.message})"
            click.echo(line)
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    for condition in result.conditions:
        click.echo(
            f"{condition['type']}={condition['status']} {condition['reason']}: "
            f"{condition['message']}"
        )
    if dry_run:
        click.echo("(dry run: nothing was written)")
    reconciled = result.condition("Reconciled")
    if reconciled is None or reconciled["status"] != "True":
        click.get_current_context().exit(1)
