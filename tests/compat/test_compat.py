"""Side by side with the original: each case in ../shared/compat/cases.txt, rendered by msctl from
the unchanged files, matches the original's `manager generate` output object by object, up to the
normalisation in compat_data and the reviewed differences in compat_differences."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from compat_data import (
    ROOT,
    Case,
    case_params,
    cases,
    differences,
    load_all,
    original_objects,
    require_data,
)
from compat_differences import INTENDED, explain

from cli.main import main
from ms_plugins.gotemplate import DIALECT

GUIDE = (ROOT / "docs" / "user-guide.md").read_text()
WHAT_CHANGED = GUIDE.split("## What changed from the original", 1)[-1].split("\n## ", 1)[0]


def msctl_render(case: Case) -> tuple[list[dict], str]:
    result = CliRunner().invoke(
        main,
        ["render", "-f", str(case.model_service), "-b", str(case.base_config),
         "--epp-cluster-role", "epp-cr"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return [doc for doc in __import__("yaml").safe_load_all(result.stdout) if doc], result.stderr


def render_differences(case: Case):
    ours, _ = msctl_render(case)
    (ms,) = [d for d in load_all(case.model_service) if d.get("kind") == "ModelService"]
    namespace_given = bool((ms.get("metadata") or {}).get("namespace"))
    return differences(case.name, ours, original_objects(case.expected), namespace_given)


@pytest.mark.parametrize("case", case_params())
def test_msctl_matches_the_original_up_to_intended_differences(case):
    require_data()
    unexplained = [str(d) for d in render_differences(case) if explain(d) is None]
    assert not unexplained, "differences from the original not in the reviewed list:\n" + "\n".join(
        unexplained
    )


@pytest.mark.parametrize("case", case_params())
def test_go_template_base_configs_render_unchanged_with_a_dialect_warning(case):
    require_data()
    _, stderr = msctl_render(case)
    if not DIALECT.recognises(case.base_config.read_text()):
        pytest.skip("no Go-only syntax in this BaseConfig (getPort alone is Jinja2 too)")
    assert "read as go templates" in stderr
    assert "modelservice.llm-d.ai/template-dialect: go" in stderr


def test_every_intended_difference_is_used_and_has_its_line_in_the_user_guide():
    require_data()
    used = {explain(d).id for case in cases() for d in render_differences(case) if explain(d)}
    for intended in INTENDED:
        lines = [line for line in WHAT_CHANGED.splitlines() if f"(compat: {intended.id})" in line]
        assert len(lines) == 1, (
            f"{intended.id}: expected one line in 'What changed from the original'"
        )
        assert intended.id in used, f"{intended.id} explains no difference any more: remove it"


def test_the_suite_reads_the_data_where_it_is():
    folder = require_data()
    assert not list(Path(ROOT).rglob("cases.txt")), "compat data must not be copied into the repo"
    assert len(cases()) >= 12 and all(c.expected.is_file() for c in cases()), folder
    assert re.search(r"\.\./shared/compat", (ROOT / "docs" / "migrating.md").read_text())
