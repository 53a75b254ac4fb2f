"""The `go` template dialect: BaseConfigs written for the original Go ModelService controller.

The original rendered every BaseConfig value (and ModelService container args) with Go's
text/template plus sprig and `getPort`, over its TemplateVars struct. This dialect runs the same
templates the same way (whitespace trimming, truthiness, printing, `<no value>`), in a sandbox: no
file, environment or network access, bounded output and loops. Anything it does not support is an
error naming the construct, the key and the line.

Variables are the original's names with the original's values: `.HFModelName` is `""` for a
non-Hugging Face source, as it was there; an unknown field is an error, as it was there.

This module is what the entry point loads, in every render: it only names the dialect and
recognises its syntax. The parser and interpreter (`syntax`, `functions`, `interpreter`) load when
a template is first rendered as Go, so a Jinja2 BaseConfig never pays for them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ms_engine import Reason, RenderContext, fail, hookimpl

if TYPE_CHECKING:
    from ms_plugins.gotemplate.interpreter import TemplateCache

NAME = "go"
PORTS_VARIABLE = "Ports"
ORIGINAL_STRING_VARIABLES = (
    "HFModelName",
    "ModelPath",
    "MountedModelPath",
    "AuthSecretName",
)
"""Names the original always defined (as strings) that a model source may not provide here."""

EXTRA_FUNCTIONS = frozenset({"getPort"})
"""Functions the original added to text/template's and sprig's."""
# fmt: off
FUNCTION_NAMES = frozenset({
    "add", "add1", "and", "atoi", "b64dec", "b64enc", "cat", "coalesce", "contains", "default",
    "dict", "div", "empty", "eq", "ge", "get", "getPort", "gt", "hasKey", "hasPrefix",
    "hasSuffix", "indent", "index", "int", "int64", "join", "le", "len", "list", "lower", "lt",
    "max", "min", "mod", "mul", "ne", "nindent", "not", "or", "print", "printf", "println",
    "quote", "repeat", "replace", "splitList", "squote", "sub", "ternary", "title", "toJson",
    "toString", "trim", "trimAll", "trimPrefix", "trimSuffix", "upper",
})
# fmt: on
"""Every function a template may call (`functions.function_names(EXTRA_FUNCTIONS)`, which a test
checks), spelled out so recognising the dialect does not load the interpreter."""

_ACTION = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_GO_CALLS = "|".join(sorted(name for name in FUNCTION_NAMES if name != "not"))
_GO_ACTION = re.compile(
    r"(?:^|[\s(|])\.[A-Za-z_]"  # a field: `.HFModelName`, `(print .ModelPath)`
    r"|^-?\s*(?:end|else)\s*-?$"  # `{{ end }}`, `{{- else }}`
    r"|^-?\s*(?:if|range|with|define|template|block)\b(?!\()"  # never valid inside Jinja's {{ }}
    r"|(?:^|[\s(|])\$"  # a variable: `$x`, `$`
    rf"|(?:^|[(|])\s*(?:{_GO_CALLS})\s+[\"`$.(\w]"  # a call with Go's spacing: `default "x" .Y`
)


def _get_port(ports: Mapping[str, int]) -> Any:
    def get_port(name: Any) -> int:
        if name in ports:
            return ports[name]
        have = ", ".join(sorted(ports)) or "none"
        raise ValueError(f"port {name!r} is not in spec.routing.ports (defined: {have})")

    return get_port


class GoDialect:
    name = NAME
    typed_decoding = True
    """Objects are read as the original read them: into Go structs (ms_engine.typed_decoding)."""

    def __init__(self) -> None:
        self._cache: TemplateCache | None = None

    @property
    def cache(self) -> TemplateCache:
        """Parsed templates; the interpreter is imported here, on the first Go render."""
        if self._cache is None:
            from ms_plugins.gotemplate.interpreter import TemplateCache

            self._cache = TemplateCache(EXTRA_FUNCTIONS)
        return self._cache

    def recognises(self, source: str) -> bool:
        """Go-only syntax in an action: a `.Field` operand, `{{ end }}`, `{{ if`, a `$variable`,
        a function called with spaces (`default "x" .Y`); `{{ "http" | getPort }}` alone is
        Jinja2 as well, and renders the same in both."""
        return any(_GO_ACTION.search(action.strip()) for action in _ACTION.findall(source))

    def render(self, where: str, source: str, variables: Mapping[str, Any], document: str) -> str:
        if "{{" not in source:
            return source
        from ms_plugins.gotemplate.syntax import GoTemplateError

        data = go_variables(variables)
        try:
            template = self.cache.get(source)
            return template.execute(
                data, {"getPort": _get_port(variables.get(PORTS_VARIABLE) or {})}
            )
        except GoTemplateError as error:
            raise fail(
                f"Go template: {error.message}",
                where,
                line=error.line,
                reason=Reason.TEMPLATE_ERROR,
                document=document,
            ) from None


def go_variables(variables: Mapping[str, Any]) -> dict[str, Any]:
    """The template data: every variable but the port table, with the original's empty strings."""
    data = {name: value for name, value in variables.items() if name != PORTS_VARIABLE}
    for name in ORIGINAL_STRING_VARIABLES:
        data.setdefault(name, "")
    return data


DIALECT = GoDialect()


@hookimpl
def ms_template_dialects(context: RenderContext) -> Iterable[GoDialect]:
    return [DIALECT]
