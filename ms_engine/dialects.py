"""Template dialects: which language a BaseConfig's values (and container args) are written in.

The core dialect is Jinja2 (`ms_engine.templating`). A plugin adds another through the
`ms_template_dialects` hook. A BaseConfig states its dialect with the annotation
`modelservice.llm-d.ai/template-dialect`; without it, a dialect that recognises the text claims it
(with a warning that says how to state it), and otherwise Jinja2 is used.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from ms_engine.context import RenderContext, StashKey
from ms_engine.hookspecs import hookimpl
from ms_engine.problems import (
    BASECONFIG,
    MODELSERVICE,
    PluginError,
    Problem,
    Reason,
    Severity,
    fail,
)
from ms_engine.templating import TemplateEngine
from ms_engine.typed_decoding import DECODING_ANNOTATION, TYPED

DIALECT_ANNOTATION = "modelservice.llm-d.ai/template-dialect"
DEFAULT_DIALECT = "jinja"


class TemplateDialect(Protocol):
    """What `ms_template_dialects` returns: a named template language."""

    name: str

    def recognises(self, source: str) -> bool:
        """True when an unlabelled template is plainly written in this dialect."""
        ...

    def render(self, where: str, source: str, variables: Mapping[str, Any], document: str) -> str:
        """Render `source`; failures are RenderErrors naming `where` and the line."""
        ...


def typed_decoding(context: RenderContext) -> bool:
    """Whether BaseConfig objects are read into Kubernetes types, as the original controller read
    them: the annotation `modelservice.llm-d.ai/decoding: typed|plain`, else the dialect's
    optional `typed_decoding` attribute (the `go` dialect sets it)."""
    stated = (
        context.base_config.annotations.get(DECODING_ANNOTATION) if context.base_config else None
    )
    if stated is not None:
        if stated not in (TYPED, "plain"):
            raise fail(
                f"must be {TYPED} or plain (got {stated!r})",
                f"metadata.annotations[{DECODING_ANNOTATION}]",
                reason=Reason.INVALID_BASE_CONFIG,
            )
        return stated == TYPED
    return bool(getattr(for_base_config(context), "typed_decoding", False))


class JinjaDialect:
    """The core dialect: the sandboxed Jinja2 engine of the pipeline (with plugin filters)."""

    name = DEFAULT_DIALECT

    def __init__(self, engine: TemplateEngine) -> None:
        self.engine = engine

    def recognises(self, source: str) -> bool:
        return False

    def render(self, where: str, source: str, variables: Mapping[str, Any], document: str) -> str:
        return self.engine.render(where, source, variables, document)


@hookimpl
def ms_template_dialects(context: RenderContext) -> Iterable[TemplateDialect]:
    return [JinjaDialect(context.templates)]


_BASE_CONFIG_DIALECT: StashKey[TemplateDialect] = StashKey("template-dialect")
_ARGS_DIALECT: StashKey[TemplateDialect] = StashKey("args-template-dialect")


def available(context: RenderContext) -> dict[str, TemplateDialect]:
    found: dict[str, TemplateDialect] = {}
    for dialects in context.hook.ms_template_dialects(context=context):
        for dialect in dialects or ():
            if dialect.name in found:
                raise PluginError(f"template dialect {dialect.name!r} is defined twice")
            found[dialect.name] = dialect
    return found


def stated_dialect(context: RenderContext) -> str | None:
    base_config = context.base_config
    return base_config.annotations.get(DIALECT_ANNOTATION) if base_config else None


def for_base_config(context: RenderContext) -> TemplateDialect:
    """The BaseConfig's dialect: stated, else recognised (with a warning), else Jinja2."""
    if _BASE_CONFIG_DIALECT in context.stash:
        return context.stash[_BASE_CONFIG_DIALECT]
    dialects = available(context)
    stated = stated_dialect(context)
    if stated is not None:
        if stated not in dialects:
            raise fail(
                f"unknown template dialect {stated!r} (available: {', '.join(sorted(dialects))})",
                f"metadata.annotations[{DIALECT_ANNOTATION}]",
                reason=Reason.INVALID_BASE_CONFIG,
            )
        chosen = dialects[stated]
    else:
        sources = list(context.base_config.templates.values()) if context.base_config else []
        chosen = _recognised(context, dialects, sources, BASECONFIG) or dialects[DEFAULT_DIALECT]
    context.stash[_BASE_CONFIG_DIALECT] = chosen
    return chosen


def for_args(context: RenderContext, args: Iterable[str]) -> TemplateDialect:
    """Container args: the ModelService's own annotation, else the BaseConfig's dialect unless
    the args are plainly another."""
    if _ARGS_DIALECT in context.stash:
        return context.stash[_ARGS_DIALECT]
    stated = context.model_service.metadata.annotations.get(DIALECT_ANNOTATION)
    if stated is not None:
        known = available(context)
        if stated not in known:
            raise fail(
                f"unknown template dialect {stated!r} (available: {', '.join(sorted(known))})",
                f"metadata.annotations[{DIALECT_ANNOTATION}]",
            )
        context.stash[_ARGS_DIALECT] = known[stated]
        return known[stated]
    chosen = for_base_config(context)
    sources = list(args)
    if not any(chosen.recognises(arg) for arg in sources):
        others = {n: d for n, d in available(context).items() if n != chosen.name}
        chosen = _recognised(context, others, sources, MODELSERVICE) or chosen
    context.stash[_ARGS_DIALECT] = chosen
    return chosen


def _recognised(
    context: RenderContext,
    dialects: Mapping[str, TemplateDialect],
    sources: list[str],
    document: str,
) -> TemplateDialect | None:
    """The first non-default dialect that recognises one of `sources`, with a warning."""
    for name, dialect in dialects.items():
        if name != DEFAULT_DIALECT and any(dialect.recognises(source) for source in sources):
            what = "BaseConfig templates" if document == BASECONFIG else "container args"
            context.warn(
                Problem(
                    f"{what} read as {name} templates (they use its syntax, such as "
                    f"`{{{{ .Field }}}}`); say so with the BaseConfig annotation "
                    f"`{DIALECT_ANNOTATION}: {name}`, or run `msctl convert`",
                    "metadata.annotations" if document == BASECONFIG else "spec",
                    severity=Severity.WARNING,
                    reason=Reason.TEMPLATE_ERROR,
                    document=document,
                )
            )
            return dialect
    return None
