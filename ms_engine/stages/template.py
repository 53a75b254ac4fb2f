"""Stage `template`: render every BaseConfig value and the ModelService container args.

Output: `context.variables`, `context.spec` with rendered args, and `context.documents` holding
each BaseConfig key's object (a list for `configMaps`), apiVersion and kind filled in.
"""

from __future__ import annotations

from typing import Any

from ms_engine import dialects
from ms_engine.api.baseconfig import KEY_TYPES, KNOWN_KEYS, LIST_KEYS
from ms_engine.api.modelservice import ContainerSpec, ModelServiceSpec, PodSpecOverrides
from ms_engine.context import RenderContext
from ms_engine.model_source import MODEL_ROOT
from ms_engine.names import sanitize
from ms_engine.problems import BASECONFIG, MODELSERVICE, PluginError, Reason, fail
from ms_engine.stage import Stage
from ms_engine.templating import PORTS_VARIABLE, parse_yaml
from ms_engine.typed_decoding import decode_typed, original_api_version

ROLE_SECTIONS = ("decode", "prefill", "endpoint_picker")
_WIRE_NAME = {"decode": "decode", "prefill": "prefill", "endpoint_picker": "endpointPicker"}


def core_variables(context: RenderContext) -> dict[str, Any]:
    """The variables every template may use; names follow the original controller."""
    spec = context.model_service.spec
    names = context.names

    def parallelism(role: str, axis: str) -> int:
        section = spec.role(role)
        value = getattr(section.parallelism, axis) if section and section.parallelism else None
        return int(value or 1)

    return {
        "ModelServiceName": context.model_service.name,
        "ModelServiceNamespace": context.namespace,
        "ModelName": spec.routing.model_name,
        "SanitizedModelName": sanitize(spec.routing.model_name),
        "AuthSecretName": spec.model_artifacts.auth_secret_name or "",
        "DecodeDeploymentName": names.decode_deployment,
        "PrefillDeploymentName": names.prefill_deployment,
        "DecodeServiceName": names.decode_service,
        "PrefillServiceName": names.prefill_service,
        "ServiceAccountName": names.service_account,
        "EPPDeploymentName": names.epp_deployment,
        "EPPServiceName": names.epp_service,
        "EPPServiceAccountName": names.epp_service_account,
        "InferencePoolName": names.inference_pool,
        "InferenceModelName": names.inference_model,
        "InferenceObjectiveName": names.inference_model,
        "HTTPRouteName": names.http_route,
        "DecodeTensorParallelism": parallelism("decode", "tensor"),
        "PrefillTensorParallelism": parallelism("prefill", "tensor"),
        "DecodeDataParallelism": parallelism("decode", "data"),
        "PrefillDataParallelism": parallelism("prefill", "data"),
        PORTS_VARIABLE: {port.name: port.port for port in spec.routing.ports},
    }


SOURCE_VARIABLE_DEFAULTS: dict[str, str] = {
    "HFModelName": "",
    "ModelPath": "",
    "MountedModelPath": MODEL_ROOT,
    "ModelImage": "",
}
"""The model source's variables, defined for every source (the original gave `""` where a source
has no such value, and its presets test `if HFModelName`); the source's own values replace them."""


def template_variables(context: RenderContext) -> dict[str, Any]:
    """Core variables, then the model source's, then other plugins'; a name given twice fails."""
    variables = core_variables(context)
    contributions: list[Any] = [{**SOURCE_VARIABLE_DEFAULTS, **context.model_source.template_vars}]
    contributions += context.hook.ms_template_vars(context=context)
    for extra in contributions:
        for name, value in (extra or {}).items():
            if name in variables:
                raise PluginError(
                    f"template variable {name!r} is defined twice (see `msctl plugins` for who "
                    "implements ms_template_vars)"
                )
            variables[name] = value
    return variables


def render_args(context: RenderContext) -> ModelServiceSpec:
    """The spec with every container's args rendered; errors name the exact field."""
    spec = context.model_service.spec
    updates: dict[str, PodSpecOverrides] = {}
    for section_name in ROLE_SECTIONS:
        section: PodSpecOverrides | None = getattr(spec, section_name)
        if section is None:
            continue
        changed: dict[str, list[ContainerSpec]] = {}
        for list_name, wire_list in (
            ("containers", "containers"),
            ("init_containers", "initContainers"),
        ):
            containers: list[ContainerSpec] = getattr(section, list_name)
            rendered = [
                _render_container_args(
                    context,
                    container,
                    f"spec.{_WIRE_NAME[section_name]}.{wire_list}[{index}].args",
                )
                for index, container in enumerate(containers)
            ]
            if rendered != containers:
                changed[list_name] = rendered
        if changed:
            updates[section_name] = section.model_copy(update=changed)
    return spec.model_copy(update=updates) if updates else spec


def _render_container_args(
    context: RenderContext, container: ContainerSpec, field: str
) -> ContainerSpec:
    if not container.args:
        return container
    dialect = dialects.for_args(context, _all_args(context.model_service.spec))
    args = [
        dialect.render(f"{field}[{index}]", arg, context.variables, MODELSERVICE)
        for index, arg in enumerate(container.args)
    ]
    return container if args == container.args else container.model_copy(update={"args": args})


def _all_args(spec: ModelServiceSpec) -> list[str]:
    sections = [getattr(spec, name) for name in ROLE_SECTIONS]
    return [
        arg
        for section in sections
        if section is not None
        for container in (*section.containers, *section.init_containers)
        for arg in container.args or ()
    ]


def render_documents(context: RenderContext) -> dict[str, Any]:
    """Each BaseConfig key rendered and parsed. An empty rendering means the key is absent."""
    documents: dict[str, Any] = {}
    base_config = context.base_config
    if base_config is None:
        return documents
    typed = dialects.typed_decoding(context)
    for key in KNOWN_KEYS:
        source = base_config.templates.get(key)
        if source is None:
            continue
        text = dialects.for_base_config(context).render(key, source, context.variables, BASECONFIG)
        # Read as the original read it (typed): a repeated key is a warning, the last one counts.
        repeated: list[tuple[str, int]] | None = [] if typed else None
        parsed = parse_yaml(key, text, repeated_keys=repeated)
        for name, line in repeated or ():
            context.warn(
                fail(
                    f"key {name!r} appears twice in one mapping; the last one counts, as the "
                    "original controller read it",
                    key,
                    line=line,
                    reason=Reason.INVALID_BASE_CONFIG,
                ).problem
            )
        if parsed is None:
            continue
        if typed:
            original_api_version(key, parsed)
        if key in LIST_KEYS:
            items = parsed if isinstance(parsed, list) else [parsed]
            documents[key] = [
                _typed(f"{key}[{index}]", key, item) for index, item in enumerate(items)
            ]
        else:
            documents[key] = _typed(key, key, parsed)
    if typed:  # read as the original controller read them
        for key, value in documents.items():
            for index, document in enumerate(value if isinstance(value, list) else [value]):
                where = f"{key}[{index}]" if isinstance(value, list) else key
                for problem in decode_typed(where, document):
                    context.warn(problem)
    return documents


def _typed(where: str, key: str, document: Any) -> dict[str, Any]:
    """Check the document is an object of the key's kind, filling in a missing apiVersion/kind."""
    if not isinstance(document, dict):
        raise fail(
            f"must render one YAML mapping (an object), got {type(document).__name__}",
            where,
            reason=Reason.INVALID_BASE_CONFIG,
        )
    expected = KEY_TYPES[key]
    kind = document.get("kind", expected.kind)
    api_version = document.get("apiVersion", expected.api_versions[0])
    if kind != expected.kind or api_version not in expected.api_versions:
        raise fail(
            f"must be a {expected.kind} ({' or '.join(expected.api_versions)}), "
            f"got {api_version} {kind}",
            where,
            reason=Reason.INVALID_BASE_CONFIG,
        )
    metadata = document.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise fail("metadata must be a mapping", where, reason=Reason.INVALID_BASE_CONFIG)
    if "apiVersion" in document and "kind" in document:
        return document
    rest = {k: v for k, v in document.items() if k not in ("apiVersion", "kind")}
    return {"apiVersion": api_version, "kind": kind, **rest}


def run(context: RenderContext) -> None:
    for problem in context.model_service.pruned:  # fields the API server would have pruned
        context.warn(problem)
    context.variables = template_variables(context)
    context.spec = render_args(context)
    context.documents = render_documents(context)


STAGE = Stage("template", run, description="render BaseConfig templates and container args")
