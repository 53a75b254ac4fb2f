"""Problems found while rendering: data that names the field or BaseConfig key they concern.

A problem is either an error (the render cannot go on) or a warning (the render goes on, but a
person should look). Errors travel as :class:`RenderError`; warnings are collected on the context.
The controller turns both into status conditions and Events, the CLI into `error:`/`warning:` lines.

Exception tree::

    ModelServiceError
    ├── RenderError    bad input; its reason says which kind (InvalidSpec, TemplateError, ...)
    └── PluginError    a plugin broke the hook contract (a bug in a plugin, not in the input)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from enum import StrEnum

_UNPRINTABLE = r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]"
"""Compiled by `re` on first use (its cache keeps it): most runs print no problem at all."""


def one_line(text: str) -> str:
    """`text` with control characters, line separators and lone surrogates escaped (`\\n`,
    `\\x07`, `\\ud800`), so a message quoting user input stays one printable line."""
    if not re.search(_UNPRINTABLE, text):
        return text
    return re.sub(_UNPRINTABLE, lambda match: repr(match.group())[1:-1], text)


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class Reason(StrEnum):
    """Why a render failed; the controller uses these as the `Reconciled` condition reason."""

    INVALID_SPEC = "InvalidSpec"
    INVALID_BASE_CONFIG = "InvalidBaseConfig"
    BASE_CONFIG_NOT_FOUND = "BaseConfigNotFound"
    TEMPLATE_ERROR = "TemplateError"
    UNKNOWN_MODEL_SOURCE = "UnknownModelSource"
    WIRING = "WiringProblem"


@dataclass(frozen=True)
class Problem:
    """One finding. `where` is a ModelService field path (`spec.decode.replicas`), a BaseConfig key
    (`decodeDeployment`, with `line` for templates) or an object (`Deployment/x-decode`)."""

    message: str
    where: str = ""
    line: int | None = None
    severity: Severity = Severity.ERROR
    reason: Reason = Reason.INVALID_SPEC
    document: str = "modelservice"
    """Which input it concerns: `modelservice`, `baseconfig`, or `render` (the output)."""

    def __str__(self) -> str:
        location = self.where
        if self.line is not None:
            location = f"{location}: line {self.line}" if location else f"line {self.line}"
        return one_line(f"{location}: {self.message}" if location else self.message)

    def as_warning(self) -> Problem:
        return replace(self, severity=Severity.WARNING)


class ModelServiceError(Exception):
    """Base of every error the engine raises on purpose."""


class RenderError(ModelServiceError):
    """The input cannot be rendered; `problem` says where and why."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem

    @property
    def reason(self) -> Reason:
        return self.problem.reason


class PluginError(ModelServiceError):
    """A plugin broke the hook contract (duplicate stage, bad return value, ...)."""


def fail(
    message: str,
    where: str = "",
    *,
    line: int | None = None,
    reason: Reason = Reason.INVALID_SPEC,
    document: str | None = None,
) -> RenderError:
    """Build a RenderError in one call: `raise fail("must be positive", "spec.decode.replicas")`.

    `document` defaults by reason: BaseConfig and template problems concern the BaseConfig.
    """
    if document is None:
        document = BASECONFIG if reason in _BASECONFIG_REASONS else MODELSERVICE
    return RenderError(Problem(message, where, line, Severity.ERROR, reason, document))


MODELSERVICE = "modelservice"
BASECONFIG = "baseconfig"
RENDER = "render"
OPTIONS = "options"
"""The platform's render options (RenderOptions, the controller's flags, msctl's options)."""
_BASECONFIG_REASONS = frozenset({Reason.INVALID_BASE_CONFIG, Reason.TEMPLATE_ERROR})
