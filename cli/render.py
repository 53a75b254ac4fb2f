"""`msctl render` and `msctl stage`: the pipeline, offline, on files.

The engine is imported when a command runs, not when this module loads, so `--help` stays fast.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from .app import App, pass_app
from .bundled import bundled_names, resolve_base_config
from .errors import CliError
from .output import FORMATS, echo_objects

if TYPE_CHECKING:
    from ms_engine import Problem, RenderOptions, RenderResult
    from ms_engine.api import BaseConfig, ModelService

    from .inputs import InputFile

OPTION_FLAGS = {
    "namespace": "-n/--namespace",
    "pd_pull_secrets": "--pd-pull-secrets",
    "epp_pull_secrets": "--epp-pull-secrets",
    "epp_cluster_role": "--epp-cluster-role",
}


def _split(value: str | None) -> tuple[str, ...]:
    """`a,b` → ("a", "b"); an empty entry (`a,,b`) is kept, so validation can refuse it."""
    if not value:
        return ()
    return tuple(part.strip() for part in value.split(","))


def render_options_from(
    namespace: str | None,
    pd_pull_secrets: str | None,
    epp_pull_secrets: str | None,
    epp_cluster_role: str | None,
) -> RenderOptions:
    """The command line's options, validated; an error names the flag."""
    from ms_engine import RenderError, RenderOptions

    try:
        return RenderOptions(
            namespace=namespace,
            pd_pull_secrets=_split(pd_pull_secrets),
            epp_pull_secrets=_split(epp_pull_secrets),
            epp_cluster_role=epp_cluster_role,
        )
    except RenderError as error:
        flag = OPTION_FLAGS.get(error.problem.where, error.problem.where)
        raise CliError(f"{flag}: {error.problem.message}") from None


def render_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """The options `render` and `stage` share."""
    decorators = [
        click.option(
            "-f",
            "--filename",
            "model_service_path",
            required=True,
            metavar="MS.yaml",
            help="The ModelService (`-` reads standard input).",
        ),
        click.option(
            "-b",
            "--base-config",
            "base_config_path",
            metavar="BASECONFIG",
            help="The BaseConfig ConfigMap file (a file of several: the one the ModelService "
            f"names), or a bundled preset by name: {', '.join(bundled_names())}.",
        ),
        click.option(
            "-n", "--namespace", help="Namespace of the objects (default: the ModelService's)."
        ),
        click.option("--pd-pull-secrets", metavar="A,B", help="imagePullSecrets of <ms>-sa."),
        click.option("--epp-pull-secrets", metavar="X", help="imagePullSecrets of <ms>-epp-sa."),
        click.option(
            "--epp-cluster-role",
            metavar="R",
            help="Bind the endpoint picker to this ClusterRole instead of a namespaced Role.",
        ),
        click.option(
            "-o",
            "--output",
            type=click.Choice(FORMATS),
            default="yaml",
            show_default=True,
            help="yaml: one document per object; json: a `kind: List` for `kubectl apply -f`.",
        ),
        click.option("--strict", is_flag=True, help="Treat warnings as errors (exit 1)."),
    ]
    for decorator in reversed(decorators):
        function = decorator(function)
    return function


class Inputs:
    """The ModelService and BaseConfig a command was pointed at, with their file names."""

    def __init__(self, model_service_path: str, base_config_path: str | None) -> None:
        from .inputs import read_documents

        self.model_service_file: InputFile = read_documents(model_service_path)
        self.base_config_file: InputFile | None = (
            read_documents(base_config_path) if base_config_path else None
        )

    def label(self, problem: Problem) -> str:
        from ms_engine.problems import BASECONFIG

        if problem.document == BASECONFIG and self.base_config_file is not None:
            return self.base_config_file.label
        return self.model_service_file.label

    def describe(self, problem: Problem) -> str:
        return f"{self.label(problem)}: {located(problem)}"

    def model_service(self) -> ModelService:
        from ms_engine.api import load_model_service

        from .inputs import of_kind

        file = self.model_service_file
        documents = file.documents
        if len(documents) > 1:
            documents = of_kind(documents, "ModelService")
        if not documents:
            raise CliError(f"{file.label}: holds no ModelService")
        if len(documents) > 1:
            raise CliError(
                f"{file.label}: holds {len(documents)} ModelServices; render one at a time"
            )
        return load_model_service(documents[0])

    def base_config(self, model_service: ModelService) -> BaseConfig | None:
        """The ConfigMap of `-b` (the one `baseConfigMapRef` names, when it holds several), else a
        ConfigMap beside the ModelService in `-f` that the reference names."""
        from ms_engine import RenderError
        from ms_engine.api import parse_base_config

        from .inputs import of_kind

        reference = model_service.spec.base_config_map_ref
        given = self.base_config_file
        if given is not None:
            if not given.documents:
                raise CliError(f"{given.label}: is empty")
            label = given.label
            candidates = of_kind(given.documents, "ConfigMap") or given.documents
        else:
            label = self.model_service_file.label
            candidates = of_kind(self.model_service_file.documents, "ConfigMap")
        if reference is not None:
            named = [c for c in candidates if _name_of(c) == reference.name]
            if named:
                candidates = named
            elif given is None:
                bundled = reference.name in bundled_names()
                hint = f"; a bundled preset has that name: -b {reference.name}" if bundled else ""
                raise CliError(
                    f"{label}: spec.baseConfigMapRef: names BaseConfig {reference.name!r}; pass "
                    f"it with -b (msctl renders offline{hint})"
                )
            elif len(candidates) > 1:
                raise CliError(f"{label}: none of its ConfigMaps is named {reference.name!r}")
        if not candidates:
            return None
        if len(candidates) > 1:
            raise CliError(
                f"{label}: holds {len(candidates)} ConfigMaps; set spec.baseConfigMapRef.name to "
                "the one to use"
            )
        try:
            return parse_base_config(candidates[0])
        except RenderError as error:
            raise CliError(f"{label}: {located(error.problem)}") from None


def located(problem: Problem) -> str:
    """The problem, saying what its line counts: lines are those of the template text (the
    BaseConfig key's value, or a ModelService arg), or of what that template rendered."""
    if problem.line is None or not problem.where:
        return str(problem)
    text = "rendered output" if problem.message.startswith("rendered YAML") else "template"
    return f"{problem.where}: line {problem.line} of its {text}: {problem.message}"


def _name_of(document: Any) -> str | None:
    if isinstance(document, dict) and isinstance(document.get("metadata"), dict):
        name = document["metadata"].get("name")
        return name if isinstance(name, str) else None
    return None


def run_pipeline(
    app: App,
    model_service_path: str,
    base_config_path: str | None,
    namespace: str | None,
    pd_pull_secrets: str | None,
    epp_pull_secrets: str | None,
    epp_cluster_role: str | None,
    strict: bool,
    until: str | None = None,
    check_schema: bool = False,
) -> RenderResult:
    from ms_engine import Problem, RenderError

    options = render_options_from(namespace, pd_pull_secrets, epp_pull_secrets, epp_cluster_role)
    inputs = Inputs(model_service_path, resolve_base_config(base_config_path))
    try:
        model_service = inputs.model_service()
        base_config = inputs.base_config(model_service)
        reference = model_service.spec.base_config_map_ref
        result = app.renderer.render(model_service, base_config, options, until=until)
    except RenderError as error:
        raise CliError(inputs.describe(error.problem)) from None
    warnings = list(result.warnings)
    if check_schema:
        warnings.extend(_schema_warnings(inputs, result))
    if base_config is not None and reference is not None and reference.name != base_config.name:
        warnings.insert(
            0,
            Problem(
                f"names BaseConfig {reference.name!r} but {base_config.name!r} was given",
                "spec.baseConfigMapRef.name",
            ).as_warning(),
        )
    if strict and warnings:
        raise CliError("; ".join(inputs.describe(w) for w in warnings) + " (--strict)")
    for problem in warnings:
        click.echo(f"warning: {inputs.describe(problem)}", err=True)
    return result


def _schema_warnings(inputs: Inputs, result: RenderResult) -> list[Problem]:
    """Check the rendered objects against their schemas (ms_engine.schema_check): a value the
    API server refuses ends the command; unknown fields come back as warnings. Imported here, so
    only `render` pays for it."""
    from ms_engine.problems import Severity
    from ms_engine.schema_check import check_object

    warnings: list[Problem] = []
    for desired in result.objects:
        for problem in check_object(desired.body, _object_label(desired.component, desired.body)):
            if problem.severity == Severity.ERROR:
                raise CliError(f"{inputs.describe(problem)} (the API server would refuse it)")
            warnings.append(problem)
    return warnings


def _object_label(component: str, body: dict[str, Any]) -> str:
    """`Service/x-service-decode (decodeService)`: the object and what made it."""
    metadata = body.get("metadata") or {}
    return f"{body.get('kind')}/{metadata.get('name')} ({component})"


@click.command()
@render_options
@pass_app
def render(app: App, /, output: str, **options: Any) -> None:
    """Print every object a ModelService needs, in apply order, after checking each against its
    schema (Kubernetes' for built-in kinds, the bundled CRDs' for the others)."""
    result = run_pipeline(app, check_schema=True, **options)
    echo_objects(result.bodies, output)


class StageCommand(click.Command):
    """`msctl stage --help` lists the stages of this installation (plugins add and replace)."""

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_help_text(ctx, formatter)
        try:
            pipeline = ctx.ensure_object(App).renderer.pipeline
        except Exception as error:  # the help still shows; `msctl plugins` says more
            rows = [("?", f"cannot list the stages: {error}")]
        else:
            rows = [(s.name, s.description) for s in pipeline.stages]
        with formatter.section("Stages, in order (`msctl plugins` names their plugins)"):
            formatter.write_dl(rows)


@click.command(cls=StageCommand)
@click.argument("name", metavar="STAGE")
@render_options
@pass_app
def stage(app: App, /, name: str, output: str, **options: Any) -> None:
    """Run the pipeline up to STAGE and print what it holds then.

    After `template`: the rendered BaseConfig objects. Later: the desired objects so far, then the
    BaseConfig objects still on their way. In YAML, a comment above each document says where it
    comes from: `# component: ...` (a desired object) or `# BaseConfig key: ...`.
    """
    from ms_engine.api import KNOWN_KEYS
    from ms_engine.pipeline import canonical_stage_name

    stages = app.renderer.pipeline.stage_names
    if canonical_stage_name(name) not in stages:
        raise click.BadParameter(f"{name!r}; stages: {', '.join(stages)}", param_hint="STAGE")
    if canonical_stage_name(name) == "apply":  # offline it would apply nothing
        raise CliError(
            "stage apply needs a cluster: msctl reconcile NAME, or msctl diff to preview"
        )
    result = run_pipeline(app, until=name, **options)
    bodies = [desired.body for desired in result.objects]
    labels = [f"component: {desired.component}" for desired in result.objects]
    for key in KNOWN_KEYS:
        document = result.pending.get(key)
        if isinstance(document, list):
            bodies.extend(document)
            labels.extend(f"BaseConfig key: {key}[{index}]" for index in range(len(document)))
        elif document is not None:
            bodies.append(document)
            labels.append(f"BaseConfig key: {key}")
    echo_objects(bodies, output, labels=labels)
