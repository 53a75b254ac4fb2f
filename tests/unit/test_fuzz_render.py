"""Generated garbage through `msctl render`, in-process: mutated samples (keys, types, YAML damage,
template damage). Whatever comes in, msctl exits 0 or 1; on 1 it prints ONE `error:` line and
nothing on standard output; never a traceback or an "internal error"; each run in bounded time.

`make unit` runs a short profile; `MSCTL_FUZZ_EXAMPLES=5000` runs a long one.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import PRESETS, SAMPLE_PRESETS, SAMPLES

from ms_cli.main import main

EXAMPLES = int(os.environ.get("MSCTL_FUZZ_EXAMPLES", "120"))
SECONDS_PER_RUN = 10.0

PAIRS = {
    name: ((SAMPLES / name / "modelservice.yaml").read_text(), (PRESETS / f"{bc}.yaml").read_text())
    for name, bc in SAMPLE_PRESETS.items()
}

SNIPPETS = [
    "{{",
    "}}",
    "{%",
    "%}",
    "{{ x }}",
    "{{ ModelNme | tojson }}",
    "{{ lipsum(10**5) }}",
    "{{ 'a' * 10**9 }}",
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
    "{{ getPort('nope') }}",
    "{{ getPort(5) }}",
    "{{ 10 ** 10 ** 10 }}",
    "{{ (1, 2) }}",
    "{{ '\\x07' }}",
    "{{ '\\ud800' }}",
    "{{ [] }}",
    "{{ {} | tojson }}",
    "{% endfor %}",
    "{{ Ports | tojson }}",
    "{{ 1/0 }}",
    "{{ ''.__class__ }}",
    "&a",
    "*a",
    "&a [*a]",
    "<<: *a",
    "!!binary aGk=",
    "!!set {a}",
    "!!python/object:os.system",
    "2025-01-01",
    "- ",
    ": ",
    "\t",
    "\x07",
    "\x00",
    "\u2028",
    "'",
    '"',
    "[",
    "]",
    "{",
    "}",
    "|",
    ">",
    "#",
    "---",
    "...",
    "9" * 40,
    "-1",
    ".inf",
    ".nan",
    "~",
    "null",
    "true",
    "0x1F",
    "1e309",
    "[" * 600 + "]" * 600,
    "{a: " * 300 + "}" * 300,
]
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([-1, 0, 65536, 2**31, 10**5000 if False else 2**63, 1.5, float("inf")]),
    st.text(max_size=12),
    st.sampled_from(
        ["2025-01-01", "\x07bell", "a\nb", "Bad_Name", "", "hf://x/y", "s3://b/k", "{{ x }}"]
    ),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += paths(value, (*prefix, index))
    return found


def parent_of(document: Any, path: tuple[Any, ...]) -> Any:
    node = document
    for part in path[:-1]:
        node = node[part]
    return node


@st.composite
def damaged_text(draw: st.DrawFn, text: str) -> str:
    """One to three changes to a YAML text: a snippet in, characters out, a line doubled."""
    for _ in range(draw(st.integers(1, 3))):
        position = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "duplicate-line"]))
        if action == "insert":
            text = text[:position] + draw(st.sampled_from(SNIPPETS)) + text[position:]
        elif action == "delete":
            text = text[:position] + text[position + draw(st.integers(1, 8)) :]
        else:
            lines = text.splitlines(keepends=True)
            index = draw(st.integers(0, max(len(lines) - 1, 0)))
            text = "".join(lines[: index + 1] + lines[index:])
    return text


@st.composite
def damaged_structure(draw: st.DrawFn, text: str) -> str:
    """A value replaced by garbage, a key removed or renamed; then written back as YAML."""
    document = yaml.safe_load(text)
    for _ in range(draw(st.integers(1, 3))):
        candidates = paths(document)
        if not candidates:
            break
        path = draw(st.sampled_from(candidates))
        parent = parent_of(document, path)
        action = draw(st.sampled_from(["replace", "remove", "rename"]))
        if action == "replace":
            parent[path[-1]] = draw(VALUES)
        elif action == "remove":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=8))] = parent.pop(path[-1])
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False)


@st.composite
def damaged_template(draw: st.DrawFn, text: str) -> str:
    """A snippet inserted into one BaseConfig template (the value of one data key)."""
    document = yaml.safe_load(text)
    data = document.get("data") or {}
    if not data:
        return text
    key = draw(st.sampled_from(sorted(data)))
    value = data[key]
    position = draw(st.integers(0, len(value)))
    data[key] = value[:position] + draw(st.sampled_from(SNIPPETS)) + value[position:]
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False)


FRAGMENT_VALUES = [
    "5",
    "-1",
    "0",
    "99999",
    "[1]",
    "[]",
    "{}",
    "{a: 1}",
    "true",
    "null",
    "'x'",
    "''",
    "1.5",
    "2025-01-01",
    "[{}]",
    "[null]",
    "{name: x}",
    '"\\x07"',
    "!!binary aGk=",
    "*a",
    "&a x",
]


@st.composite
def damaged_fragment_value(draw: st.DrawFn, text: str) -> str:
    """In one BaseConfig template, the value of one `key: value` line replaced by another type,
    or the line's key renamed: type damage inside the objects the stages read."""
    document = yaml.safe_load(text)
    data = document.get("data") or {}
    if not data:
        return text
    key = draw(st.sampled_from(sorted(data)))
    lines = data[key].splitlines(keepends=True)
    candidates = [
        i for i, line in enumerate(lines) if ":" in line and not line.strip().startswith("#")
    ]
    if not candidates:
        return text
    for _ in range(draw(st.integers(1, 3))):
        index = draw(st.sampled_from(candidates))
        name, _, _ = lines[index].partition(":")
        if draw(st.booleans()):
            lines[index] = f"{name}: {draw(st.sampled_from(FRAGMENT_VALUES))}\n"
        else:
            indent = name[: len(name) - len(name.lstrip(" -"))]
            lines[index] = (
                f"{indent}{draw(st.sampled_from(['type', 'x', 'spec', 'replicas', 'name']))}:{lines[index].partition(':')[2]}"
            )
    data[key] = "".join(lines)
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False)


@st.composite
def damaged_args(draw: st.DrawFn, text: str) -> str:
    """A snippet as a ModelService container arg (args are templates too)."""
    document = yaml.safe_load(text)
    spec = document.get("spec") or {}
    containers = [
        c for role in ("decode", "prefill") for c in (spec.get(role) or {}).get("containers") or []
    ]
    if not containers:
        return text
    container = draw(st.sampled_from(containers))
    container["args"] = [*(container.get("args") or []), draw(st.sampled_from(SNIPPETS))]
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False)


@st.composite
def inputs(draw: st.DrawFn) -> tuple[str, str, list[str]]:
    ms, bc = PAIRS[draw(st.sampled_from(sorted(PAIRS)))]
    target = draw(st.sampled_from(["ms", "bc", "bc", "both"]))
    damages = [damaged_text, damaged_structure, damaged_template, damaged_fragment_value]
    damage = draw(st.sampled_from(damages))
    if target in ("ms", "both"):
        ms_damage = damage if damage in (damaged_text, damaged_structure) else damaged_args
        ms = draw(ms_damage(ms))
    if target in ("bc", "both"):
        bc = draw(damage(bc))
    args = draw(
        st.sampled_from(
            [
                [],
                [],
                [],
                [],
                [],
                [],
                ["--strict"],
                ["-o", "json"],
                ["-n", "Bad_NS"],
                ["--pd-pull-secrets", "a,,b"],
            ]
        )
    )
    return ms, bc, args


def render(ms: str, bc: str, args: list[str]):
    with tempfile.TemporaryDirectory() as directory:
        ms_path, bc_path = Path(directory, "ms.yaml"), Path(directory, "bc.yaml")
        # surrogatepass: a lone surrogate reaches the file as the bytes a broken editor writes
        ms_path.write_bytes(ms.encode("utf-8", "surrogatepass"))
        bc_path.write_bytes(bc.encode("utf-8", "surrogatepass"))
        return CliRunner().invoke(main, ["render", "-f", str(ms_path), "-b", str(bc_path), *args])


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=EXAMPLES <= 200,  # the short profile is the same every run
)
@given(inputs())
def test_garbage_in_one_error_line_out(case: tuple[str, str, list[str]]):
    ms, bc, args = case
    start = time.perf_counter()
    result = render(ms, bc, args)
    elapsed = time.perf_counter() - start
    assert elapsed < SECONDS_PER_RUN, f"took {elapsed:.1f} s"
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"exception escaped: {result.exception!r}") from result.exception
    assert result.exit_code in (0, 1), (result.exit_code, result.stderr)
    assert "Traceback" not in result.stderr
    assert "internal error" not in result.stderr
    if result.exit_code == 1:
        assert result.stdout == ""
        assert result.stderr.startswith("error: ")
        assert result.stderr.count("\n") == 1, result.stderr
    else:
        assert all(line.startswith("warning: ") for line in result.stderr.splitlines())
