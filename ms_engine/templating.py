"""Sandboxed Jinja2 for BaseConfig values and ModelService container args.

Unknown variables are errors (StrictUndefined) that name the BaseConfig key and line. Templates
have no access to the environment, files or Python internals (SandboxedEnvironment, no loader),
and run within bounded time and memory (ms_engine.template_limits). Each distinct template source
is compiled once and reused across renders; the cache may be shared by threads.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any

import jinja2

from ms_engine import yamlio
from ms_engine.api.baseconfig import KEY_TYPES, LIST_KEYS
from ms_engine.fragments import check_fragment
from ms_engine.problems import BASECONFIG, Reason, RenderError, fail
from ms_engine.template_limits import BoundedEnvironment, TemplateLimitError, render_bounded

PORTS_VARIABLE = "Ports"
"""The variable holding `spec.routing.ports` as a name → number mapping (read by getPort)."""

_CACHE_SIZE = 512
_GO_TEMPLATE = r"\{\{-?\s*\.[A-Za-z]"
_MARKERS = ("{{", "{%", "{#")
_SURROGATE = "[\ud800-\udfff]"


class MissingPort(LookupError):
    def __init__(self, name: object, known: Mapping[str, int]) -> None:
        have = ", ".join(sorted(known)) or "none"
        super().__init__(f"port {name!r} is not in spec.routing.ports (defined: {have})")


@jinja2.pass_context
def get_port(context: jinja2.runtime.Context, name: str, default: int | None = None) -> int:
    """`getPort("http")` or `"http" | getPort`: the number of a named port of `routing.ports`.

    `getPort("vllm", 8200)` gives a preset's default for an optional port; without a default a
    missing name is an error that names it.
    """
    ports: Mapping[str, int] = context.get(PORTS_VARIABLE) or {}
    if name in ports:
        return ports[name]
    if default is not None:
        return default
    raise MissingPort(name, ports)


class TemplateEngine:
    """One sandboxed environment and a bounded cache of compiled templates, safe to share between
    threads (the cache is locked; rendering state lives in the call)."""

    def __init__(self, filters: Mapping[str, Callable[..., Any]] | None = None) -> None:
        self.environment = BoundedEnvironment(
            undefined=jinja2.StrictUndefined,
            autoescape=False,
            keep_trailing_newline=True,
        )
        self.environment.filters["getPort"] = get_port
        self.environment.globals["getPort"] = get_port
        for name, function in (filters or {}).items():
            self.environment.filters[name] = function
            self.environment.globals[name] = function
        self._compiled: OrderedDict[tuple[str, str], jinja2.Template] = OrderedDict()
        self._lock = threading.Lock()

    def compile(self, where: str, source: str, document: str = BASECONFIG) -> jinja2.Template:
        """The compiled template of `source`; `where` names it in errors."""
        cache_key = (where, source)
        with self._lock:
            template = self._compiled.get(cache_key)
            if template is not None:
                self._compiled.move_to_end(cache_key)
                return template
        # Compiled outside the lock: two threads may both compile a new source; one result stays.
        try:
            code = self.environment.compile_bounded(source, where, _filename(where))
        except jinja2.TemplateSyntaxError as error:
            hint = ""
            if re.search(_GO_TEMPLATE, source):
                hint = " (a Go template? write {{ HFModelName }}, not {{ .HFModelName }})"
            raise fail(
                f"template syntax: {error.message}{hint}",
                where,
                line=error.lineno,
                reason=Reason.TEMPLATE_ERROR,
                document=document,
            ) from None
        template = self.environment.template_class.from_code(
            self.environment, code, self.environment.globals
        )
        with self._lock:
            self._compiled[cache_key] = template
            if len(self._compiled) > _CACHE_SIZE:
                self._compiled.popitem(last=False)
        return template

    def render(
        self,
        where: str,
        source: str,
        variables: Mapping[str, Any],
        document: str = BASECONFIG,
    ) -> str:
        """Render `source`; any failure becomes a RenderError naming `where` and the line."""
        if not any(marker in source for marker in _MARKERS):
            return source
        template = self.compile(where, source, document)
        try:
            text = render_bounded(template, variables)
            if not text.isascii() and re.search(_SURROGATE, text):
                raise TemplateLimitError(
                    "the output holds a lone surrogate (like '\\ud800'), which has no UTF-8 form"
                )
            return text
        except RenderError:
            raise
        except Exception as error:  # whatever a user's template raises is a template error
            raise fail(
                _describe(error),
                where,
                line=_template_line(error.__traceback__, _filename(where)),
                reason=Reason.TEMPLATE_ERROR,
                document=document,
            ) from None


load_yaml = yamlio.load
"""YAML as Kubernetes reads it (see ms_engine.yamlio); raises yamlio.YAMLInputError."""


def parse_yaml(where: str, text: str, *, repeated_keys: list[tuple[str, int]] | None = None) -> Any:
    """Parse rendered text as YAML; an error names `where` and the rendered line.

    When `where` is a BaseConfig key, the object (each object, for `configMaps`) must also have
    the shape the stages read (ms_engine.fragments), so a wrong type is an error naming the key
    and path rather than a failure inside a stage."""
    try:
        parsed = yamlio.load(text, repeated_keys=repeated_keys)
    except yamlio.YAMLInputError as error:
        raise fail(
            f"rendered YAML is invalid: {error.message}",
            where,
            line=error.line,
            reason=Reason.TEMPLATE_ERROR,
        ) from None
    key_type = KEY_TYPES.get(where)
    if key_type is not None:
        items = parsed if isinstance(parsed, list) and where in LIST_KEYS else [parsed]
        for index, item in enumerate(items):
            label = f"{where}[{index}]" if where in LIST_KEYS else where
            check_fragment(label, item, key_type.kind)
    return parsed


def _describe(error: Exception) -> str:
    if isinstance(error, RecursionError):
        return "recursion too deep (a macro that calls itself without end?)"
    if isinstance(error, MemoryError):
        return "out of memory"
    if isinstance(error, TemplateLimitError | jinja2.UndefinedError):
        return str(error)
    return str(error) or type(error).__name__


def _filename(where: str) -> str:
    return f"<template {where}>"


def _template_line(traceback: TracebackType | None, filename: str) -> int | None:
    """The template line of the innermost frame that belongs to the template."""
    line = None
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == filename:
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    return line


__all__ = ["PORTS_VARIABLE", "MissingPort", "RenderError", "TemplateEngine", "parse_yaml"]
