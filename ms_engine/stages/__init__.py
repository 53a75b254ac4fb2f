"""The core stages, contributed through the same `ms_stages` hook a plugin uses."""

from __future__ import annotations

from collections.abc import Sequence

from ms_engine.dialects import ms_template_dialects  # the core Jinja2 dialect
from ms_engine.hookspecs import hookimpl
from ms_engine.stage import Stage
from ms_engine.stages import apply, merge, model_source, rbac, routing, template, validate, workload


@hookimpl
def ms_stages() -> Sequence[Stage]:
    return [
        template.STAGE,
        merge.STAGE,
        model_source.STAGE,
        workload.STAGE,
        routing.STAGE,
        rbac.STAGE,
        validate.STAGE,
        apply.STAGE,
    ]


__all__ = ["ms_stages", "ms_template_dialects"]
