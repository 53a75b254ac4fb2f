"""Sandboxed Jinja2 for BaseConfig values and ModelService container args.

Unknown variables are errors (StrictUndefined) that name the BaseConfig key and line. Templates
have no access to the environment, files or Python internals (SandboxedEnvironment, no loader).
Each distinct template source is compiled once and reused across renders.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any

import jinja2
import yaml
from jinja2.sandbox import SandboxedEnvironment

from ms_engine.problems import BASECONFIG, Reason, RenderError, fail

PORTS_VARIABLE = "Ports"
"""The variable holding `spec.routing.ports` as a name → number mapping (read by getPort)."""

_CACHE_SIZE = 512
_GO_TEMPLATE = re.compile(r"\{\{-?\s*\.[A-Za-z]")
_MARKERS = ("{{", "{%", "{#")

try:
    _YamlLoader: Any = yaml.CSafeLoader
except AttributeError:  # libyaml missing: correct, only slower
    _YamlLoader = yaml.SafeLoader


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
    """One sandboxed environment and a bounded cache of compiled templates."""

    def __init__(self, filters: Mapping[str, Callable[..., Any]] | None = None) -> None:
        self.environment = SandboxedEnvironment(
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

    def compile(self, where: str, source: str, document: str = BASECONFIG) -> jinja2.Template:
        """The compiled template of `source`; `where` names it in errors."""
        cache_key = (where, source)
        template = self._compiled.get(cache_key)
        if template is not None:
            self._compiled.move_to_end(cache_key)
            return template
        try:
            code = self.environment.compile(source, name=where, filename=_filename(where))
        except jinja2.TemplateSyntaxError as error:
            hint = ""
            if _GO_TEMPLATE.search(source):
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
            return template.render(variables)
        except RenderError:
            raise
        except Exception as error:  # whatever a user's template raises is a template error
            raise fail(
                str(error) or type(error).__name__,
                where,
                line=_template_line(error.__traceback__, _filename(where)),
                reason=Reason.TEMPLATE_ERROR,
                document=document,
            ) from None


def load_yaml(text: str) -> Any:
    """Plain YAML loading with libyaml when present (several times faster than pure Python)."""
    return yaml.load(text, Loader=_YamlLoader)


def parse_yaml(where: str, text: str) -> Any:
    """Parse rendered text as YAML; a syntax error names `where` and the rendered line."""
    try:
        return load_yaml(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = error.problem or error.context or "invalid YAML"
        raise fail(
            f"rendered YAML is invalid: {problem}", where, line=line, reason=Reason.TEMPLATE_ERROR
        ) from None
    except yaml.YAMLError as error:
        raise fail(
            f"rendered YAML is invalid: {error}", where, reason=Reason.TEMPLATE_ERROR
        ) from None


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
