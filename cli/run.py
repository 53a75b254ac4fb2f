"""`msctl run`: the controller. Every flag can also be set through the environment variable
named in its help (`MODELSERVICE_<FLAG>`), which is how the install manifests configure it."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from .errors import CliError

ENV = "MODELSERVICE"
F = TypeVar("F", bound=Callable[..., Any])


def _option(*names: str, **kwargs: Any) -> Callable[[F], F]:
    flag = next(n for n in names if n.startswith("--"))
    envvar = f"{ENV}_{flag[2:].upper().replace('-', '_')}"
    return click.option(*names, envvar=envvar, show_envvar=True, **kwargs)


@click.command()
@_option(
    "--kubeconfig",
    type=click.Path(dir_okay=False),
    default=None,
    help="Kubeconfig file [default: $KUBECONFIG, ~/.kube/config, else in-cluster].",
)
@_option("--context", "kube_context", default=None, help="Kubeconfig context.")
@_option(
    "--namespace",
    "namespaces",
    multiple=True,
    help="Watch only this namespace (repeatable) [default: all namespaces].",
)
@_option(
    "--workers",
    type=click.IntRange(1, 64),
    default=32,
    show_default=True,
    help="ModelServices reconciled at once.",
)
@_option(
    "--qps",
    type=click.FloatRange(min=0.1),
    default=200.0,
    show_default=True,
    help="Client-side request rate limit (requests/s; watches excluded).",
)
@_option(
    "--burst",
    type=click.IntRange(1),
    default=400,
    show_default=True,
    help="Requests allowed at once above --qps.",
)
@_option(
    "--leader-elect/--no-leader-elect",
    default=False,
    show_default=True,
    help="Run as one of several replicas: only the Lease holder reconciles.",
)
@_option(
    "--leader-election-namespace",
    default="modelservice-system",
    show_default=True,
    help="Namespace of the Lease.",
)
@_option(
    "--leader-election-id",
    default="modelservice-controller",
    show_default=True,
    help="Name of the Lease.",
)
@_option(
    "--leader-elect-lease-duration",
    "lease_duration",
    type=click.FloatRange(min=1),
    default=15.0,
    show_default=True,
    help="Seconds a standby waits for a silent leader before taking the Lease.",
)
@_option(
    "--leader-elect-renew-deadline",
    "renew_deadline",
    type=click.FloatRange(min=0.5),
    default=10.0,
    show_default=True,
    help="Seconds the leader keeps trying to renew before it stops leading.",
)
@_option(
    "--leader-elect-retry-period",
    "retry_period",
    type=click.FloatRange(min=0.1),
    default=2.0,
    show_default=True,
    help="Seconds between Lease attempts.",
)
@_option(
    "--metrics-addr",
    default=":8080",
    show_default=True,
    help="Where /metrics listens (HOST:PORT; 0 turns it off).",
)
@_option(
    "--health-addr",
    default=":8081",
    show_default=True,
    help="Where /healthz and /readyz listen (may equal --metrics-addr).",
)
@_option("--log-format", type=click.Choice(("text", "json")), default="text", show_default=True)
@_option(
    "--epp-cluster-role",
    default=None,
    help="Bind endpoint pickers to this ClusterRole instead of a namespaced Role.",
)
@_option(
    "--pd-pull-secrets",
    default=None,
    metavar="A,B",
    help="imagePullSecrets of the prefill/decode ServiceAccounts.",
)
@_option(
    "--epp-pull-secrets",
    default=None,
    metavar="A,B",
    help="imagePullSecrets of the endpoint picker ServiceAccounts.",
)
@_option(
    "--strict/--no-strict",
    default=False,
    show_default=True,
    help="Wiring warnings fail the reconcile (Reconciled=False).",
)
@_option(
    "--resync",
    type=click.FloatRange(min=0),
    default=600.0,
    show_default=True,
    help="Seconds between passes over every ModelService (0: only on changes).",
)
@_option(
    "--grace-period",
    type=click.FloatRange(min=0),
    default=30.0,
    show_default=True,
    help="Seconds in-flight reconciles get to finish on SIGTERM.",
)
def run(**flags: Any) -> None:
    """Run the controller: keep every ModelService reconciled until SIGTERM or Ctrl-C."""
    from ms_controller.logs import configure
    from ms_controller.manager import Manager, ManagerOptions

    from .render import render_options_from

    configure(flags["log_format"])
    render = render_options_from(
        None, flags["pd_pull_secrets"], flags["epp_pull_secrets"], flags["epp_cluster_role"]
    )
    try:
        options = ManagerOptions(
            kubeconfig=flags["kubeconfig"],
            context=flags["kube_context"],
            namespaces=tuple(flags["namespaces"]),
            workers=flags["workers"],
            qps=flags["qps"],
            burst=flags["burst"],
            leader_elect=flags["leader_elect"],
            lease_namespace=flags["leader_election_namespace"],
            lease_name=flags["leader_election_id"],
            lease_duration=flags["lease_duration"],
            renew_deadline=flags["renew_deadline"],
            retry_period=flags["retry_period"],
            metrics_addr=flags["metrics_addr"],
            health_addr=flags["health_addr"],
            resync=flags["resync"],
            grace_period=flags["grace_period"],
            strict=flags["strict"],
            render=render,
        )
        manager = Manager(options)
    except (ValueError, OSError) as error:
        raise CliError(str(error).splitlines()[0]) from None
    except Exception as error:  # kubeconfig trouble and the like: one line, no traceback
        raise CliError(f"cannot start: {type(error).__name__}: {error}") from None
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: manager.stop())
    sys.exit(manager.run())
