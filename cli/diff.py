"""`msctl diff`: what a reconcile would change, as a unified diff per object.

It runs the `apply` stage itself against the cluster in server-side dry-run mode, so the right
side carries the API server's defaults and the exact decisions a reconcile would take (skipped
no-ops, conflicts, prunes). Nothing is written. Exit status as `kubectl diff`: 0 no differences,
1 differences, 2 an error.
"""

from __future__ import annotations

import difflib
from typing import Any

import click
import yaml

from .app import App, pass_app
from .errors import CliError
from .reconcile import cluster_options, connect

VOLATILE = ("managedFields", "resourceVersion", "generation")
"""Metadata a dry run changes without meaning anything."""


class DiffError(CliError):
    exit_code = 2


def _comparable(body: dict[str, Any] | None) -> list[str]:
    if body is None:
        return []
    body = dict(body)
    body["metadata"] = {k: v for k, v in (body.get("metadata") or {}).items() if k not in VOLATILE}
    text = yaml.safe_dump(body, sort_keys=True, default_flow_style=False)
    return text.splitlines(keepends=True)


def unified(kind: str, name: str, before: dict[str, Any] | None, after: Any) -> str:
    return "".join(
        difflib.unified_diff(
            _comparable(before),
            _comparable(after),
            fromfile=f"live/{kind}/{name}" if before is not None else "/dev/null",
            tofile=f"desired/{kind}/{name}" if after is not None else "/dev/null",
        )
    )


@click.command()
@click.argument("name", required=False)
@click.option("-f", "--filename", "model_service_path", metavar="MS.yaml", help="A ModelService.")
@click.option("-b", "--base-config", "base_config_path", metavar="BC.yaml", help="Its BaseConfig.")
@cluster_options
@pass_app
def diff(
    app: App,
    name: str | None,
    model_service_path: str | None,
    base_config_path: str | None,
    namespace: str | None,
    kubeconfig: str | None,
    kube_context: str | None,
) -> None:
    """Show what reconciling ModelService NAME (or the one in -f) would change in the cluster."""
    from ms_controller.reconcile import read_model_service, resolve_base_config
    from ms_engine import ModelServiceError, RenderOptions
    from ms_engine.api import API_VERSION, KIND, load_model_service
    from ms_engine.cluster import ClusterError
    from ms_engine.stages.apply import APPLY_REPORT, Action

    if (name is None) == (model_service_path is None):
        raise DiffError("give a ModelService NAME or -f MS.yaml (one of them)")
    kube, default_namespace = connect(kubeconfig, kube_context, dry_run=True)
    try:
        if model_service_path is not None:
            from .render import Inputs

            inputs = Inputs(model_service_path, base_config_path)
            from_file = inputs.model_service()
            namespace = namespace or from_file.metadata.namespace or default_namespace
            live = kube.get(API_VERSION, KIND, namespace, from_file.name)
            document = from_file.to_wire()
            document["metadata"]["namespace"] = namespace
            # Owner references must name the live object, or every child would differ.
            document["metadata"]["uid"] = (
                (live or {}).get("metadata", {}).get("uid", "00000000-0000-0000-0000-000000000000")
            )
            document["status"] = (live or {}).get("status") or {}
            model_service = load_model_service(document)
            base_config = (
                inputs.base_config(model_service)
                if base_config_path
                else resolve_base_config(kube, model_service)
            )
        else:
            assert name is not None
            namespace = namespace or default_namespace
            live = kube.get(API_VERSION, KIND, namespace, name)
            if live is None:
                raise DiffError(f"ModelService {namespace}/{name} not found")
            model_service = read_model_service(live)
            base_config = resolve_base_config(kube, model_service)
        rendered = app.renderer.render(model_service, base_config, RenderOptions(cluster=kube))
    except (ModelServiceError, ClusterError) as error:
        raise DiffError(str(error)) from None
    except CliError as error:
        raise DiffError(error.format_message()) from None
    report = rendered.context.stash[APPLY_REPORT]
    changed = False
    for child in report.children:
        if child.action in (Action.CREATED, Action.CONFIGURED):
            text = unified(child.kind, child.name, child.before, child.live)
        elif child.action == Action.PRUNED:
            text = unified(child.kind, child.name, child.before, None)
        elif child.action == Action.UNCHANGED:
            continue
        else:
            click.echo(f"# {child.describe()}", err=True)
            continue
        if text:
            changed = True
            click.echo(text, nl=False)
    click.get_current_context().exit(1 if changed else 0)
