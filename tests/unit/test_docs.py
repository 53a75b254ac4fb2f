"""The docs a plugin author and a new user read say what the code does."""

from __future__ import annotations

import inspect
import re

from support import ROOT

from ms_engine import hookspecs

PLUGINS_DOC = (ROOT / "docs/plugins.md").read_text()
README = (ROOT / "README.md").read_text()


def hook_signature(name: str) -> str:
    function = getattr(hookspecs, name)
    signature = inspect.signature(function)
    parameters = ", ".join(f"{p.name}: {p.annotation}" for p in signature.parameters.values())
    return f"{name}({parameters}) -> {signature.return_annotation}"


def test_every_hook_has_a_section_with_its_exact_signature():
    hooks = sorted(name for name in dir(hookspecs) if name.startswith("ms_"))
    headings = set(re.findall(r"^## `(.+)`$", PLUGINS_DOC, flags=re.MULTILINE))
    assert sorted(hook_signature(name) for name in hooks) == sorted(headings)


def test_every_hook_is_documented_where_it_is_declared():
    for name in dir(hookspecs):
        if name.startswith("ms_"):
            assert (getattr(hookspecs, name).__doc__ or "").strip(), name


def test_readme_opens_with_the_quick_start_commands_and_they_exist():
    quick_start = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^make (\w+)", quick_start, flags=re.MULTILINE)
    assert commands[:2] == ["run", "test"]  # the two commands a new user needs, first
    assert set(commands) == {"run", "test", "render", "lint"}
    makefile = (ROOT / "Makefile").read_text()
    for command in commands:
        assert re.search(rf"^{command}:", makefile, flags=re.MULTILINE), command
    assert "make test" in (ROOT / ".ci/run").read_text()
