"""Side by side with the original: each case in ../shared/compat/cases.txt, rendered by msctl from
the unchanged files, matches the original's `manager generate` output object by object, up to the
normalisation in compat_data and the reviewed differences in compat_differences."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from compat_data import (
    ABSENT,
    ROOT,
    Case,
    Difference,
    case_params,
    cases,
    differences,
    load_all,
    original_objects,
    require_data,
)
from compat_differences import ANTICIPATED, INTENDED, explain

from ms_cli.main import main
from ms_plugins.gotemplate import DIALECT

GUIDE = (ROOT / "docs" / "user-guide.md").read_text()
WHAT_CHANGED = GUIDE.split("## What changed from the original", 1)[-1].split("\n## ", 1)[0]


class MissingPort(Exception):
    """msctl refused a getPort of a port the ModelService does not define."""


def msctl_render(case: Case) -> tuple[list[dict], str]:
    result = CliRunner().invoke(
        main,
        ["render", "-f", str(case.model_service), "-b", str(case.base_config),
         "--epp-cluster-role", "epp-cr"],
    )  # fmt: skip
    if result.exit_code == 1 and "is not in spec.routing.ports" in result.stderr:
        raise MissingPort(result.stderr)
    assert result.exit_code == 0, result.output
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc], result.stderr


def model_service(case: Case) -> dict:
    (ms,) = [d for d in load_all(case.model_service) if d.get("kind") == "ModelService"]
    return ms


def render_differences(case: Case):
    ours, _ = msctl_render(case)
    namespace_given = bool((model_service(case).get("metadata") or {}).get("namespace"))
    return differences(case.name, ours, original_objects(case.expected), namespace_given)


@pytest.mark.parametrize("case", case_params())
def test_msctl_matches_the_original_up_to_intended_differences(case):
    require_data()
    ms = model_service(case)
    try:
        msctl_render(case)
    except MissingPort:
        # (compat: missing-port) the original printed getPort's -1 for an undefined port
        assert re.search(r"(?m)(Port|port|Number): -1$", case.expected.read_text())
        return
    unexplained = [str(d) for d in render_differences(case) if explain(d, ms) is None]
    assert not unexplained, "differences from the original not in the reviewed list:\n" + "\n".join(
        unexplained
    )


@pytest.mark.parametrize("case", case_params())
def test_go_template_base_configs_render_unchanged_with_a_dialect_warning(case):
    require_data()
    _, stderr = msctl_render(case)
    if not DIALECT.recognises(case.base_config.read_text()):
        # no Go-only syntax (`{{ "http" | getPort }}` alone is Jinja2 too): read as Jinja2, quietly
        assert "BaseConfig templates read as go" not in stderr
        return
    assert "BaseConfig templates read as go templates" in stderr
    assert "modelservice.llm-d.ai/template-dialect: go" in stderr


def test_every_intended_difference_is_used_and_has_its_line_in_the_user_guide():
    require_data()
    used = set()
    for case in cases():
        ms = model_service(case)
        used |= {found.id for d in render_differences(case) if (found := explain(d, ms))}
    for intended in ("missing-port", *INTENDED, *ANTICIPATED):
        if isinstance(intended, str):
            assert WHAT_CHANGED.count(f"(compat: {intended})") == 1, intended
            continue
        lines = [line for line in WHAT_CHANGED.splitlines() if f"(compat: {intended.id})" in line]
        assert len(lines) == 1, f"{intended.id}: one line in 'What changed from the original'"
        if not intended.anticipated:
            assert intended.id in used, f"{intended.id} explains no difference any more: remove it"


def test_the_suite_reads_the_data_where_it_is():
    folder = require_data()
    tracked = ("tests", "docs", "deploy", "samples", "hack", "bench", "ms_engine", "ms_plugins")
    copies = [p for top in tracked for p in (Path(ROOT) / top).rglob("cases.txt")]
    assert not copies, "compat data must not be copied into the repository"
    assert len(cases()) >= 12 and all(c.expected.is_file() for c in cases()), folder
    assert re.search(r"\.\./shared/compat", (ROOT / "docs" / "migrating.md").read_text())


MS = {"spec": {"modelArtifacts": {"uri": "hf://org/m"},
               "decode": {"replicas": 0, "acceleratorTypes": {"labelKey": "k", "labelValues": ["a"]},
                          "containers": [{"name": "vllm", "mountModelVolume": True, "args": ["--x"],
                                          "env": [{"name": "MINE", "value": "1"}]}]}}}  # fmt: skip


@pytest.mark.parametrize(
    ("difference", "explained_as"),
    [
        (
            Difference("c", "Deployment", "ms-prefill", "", ABSENT, "present"),
            "prefill-only-with-prefill",
        ),
        (Difference("c", "Deployment", "ms-decode", "spec.replicas", 0, 2), "zero-overrides"),
        (
            Difference(
                "c",
                "Deployment",
                "ms-decode",
                "spec.template.spec.containers[vllm].env[MINE].value",
                "1",
                ABSENT,
            ),
            "ms-env-kept",
        ),
        (
            Difference(
                "c", "Deployment", "ms-decode", "spec.template.spec.affinity.nodeAffinity.x", 1, 2
            ),
            "accelerator-affinity",
        ),
        (
            Difference(
                "c",
                "Deployment",
                "ms-decode",
                "spec.template.spec.containers[vllm].volumeMounts[model-storage].readOnly",
                ABSENT,
                True,
            ),
            "hf-mount-writable",
        ),
        (
            Difference(
                "c",
                "Deployment",
                "ms-decode",
                "spec.template.spec.containers[vllm].args[0]",
                "--x",
                "--y",
            ),
            "args-replace-flags",
        ),
        (
            Difference(
                "c", "Deployment", "ms-decode", "metadata.name", "a" * 50 + "-1a2b3c", "a" * 63
            ),
            "long-names",
        ),
    ],
)
def test_anticipated_differences_apply_only_where_the_model_service_asks(difference, explained_as):
    found = explain(difference, MS)
    assert found is not None and found.id == explained_as
    bare = {"spec": {"modelArtifacts": {"uri": "pvc://c/p"}, "prefill": {"replicas": 1},
                     "decode": {"containers": [{"name": "vllm"}]}}}  # fmt: skip
    if explained_as != "long-names":
        assert explain(difference, bare) is None


@pytest.mark.parametrize(
    "difference",
    [
        Difference(
            "c", "Deployment", "ms-decode", "spec.template.spec.containers[vllm].image", "a", "b"
        ),
        Difference(
            "c",
            "Deployment",
            "ms-decode",
            "spec.template.spec.containers[vllm].env[OTHER].value",
            "1",
            ABSENT,
        ),
        Difference("c", "Service", "ms-service-decode", "spec.ports[0].port", 80, 8000),
        Difference("c", "Deployment", "ms-decode", "", "present", ABSENT),
        Difference("c", "ConfigMap", "cfg", "data.x", "a", "b"),
    ],
)
def test_any_other_difference_is_unexplained(difference):
    assert explain(difference, MS) is None


def test_missing_data_fails_in_ci_and_skips_elsewhere(monkeypatch, tmp_path):
    monkeypatch.setenv("MODELSERVICE_COMPAT_DIR", str(tmp_path))
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="compatibility data not found"):
        require_data()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception):
        require_data()
