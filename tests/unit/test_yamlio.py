"""YAML as Kubernetes reads it: JSON-compatible values, duplicate keys refused, bounded aliases."""

from __future__ import annotations

import time
import tracemalloc

import pytest
import yaml
from support import ROOT

from ms_engine import yamlio
from ms_engine.yamlio import YAMLInputError


def error_of(text: str) -> YAMLInputError:
    with pytest.raises(YAMLInputError) as caught:
        yamlio.load(text)
    return caught.value


def test_dates_and_timestamps_stay_the_strings_written():
    assert yamlio.load("day: 2025-01-01\nat: 2001-12-14t21:59:43.10-05:00") == {
        "day": "2025-01-01",
        "at": "2001-12-14t21:59:43.10-05:00",
    }


@pytest.mark.parametrize("tag", ["!!binary aGVsbG8=", "!!set {a, b}", "!!omap [a: 1]"])
def test_non_json_types_are_refused_naming_the_tag(tag: str):
    error = error_of(f"a: 1\nb: {tag}")
    assert error.line == 2
    assert tag.split()[0] in error.message


@pytest.mark.parametrize("value", [".inf", "-.inf", ".nan"])
def test_infinity_and_nan_are_refused(value: str):
    assert "not a JSON number" in error_of(f"a: {value}").message


def test_a_duplicate_key_is_an_error_naming_the_key_and_line():
    error = error_of("spec:\n  replicas: 1\n  image: x\n  replicas: 2\n")
    assert error.line == 4
    assert "'replicas' appears twice" in error.message


def test_a_quoted_and_a_plain_spelling_of_one_key_are_duplicates():
    assert "appears twice" in error_of("1: a\n'1': b").message


def test_merge_keys_may_be_overridden_by_the_keys_written():
    assert yamlio.load("base: &b {x: 1, y: 1}\nd:\n  <<: *b\n  x: 2") == {
        "base": {"x": 1, "y": 1},
        "d": {"x": 2, "y": 1},
    }


def test_non_string_keys_become_their_json_text_as_kubernetes_does():
    assert yamlio.load("{1: a, true: b, null: c}") == {"1": "a", "true": "b", "null": "c"}


def test_integers_must_fit_in_64_bits():
    assert yamlio.load("a: 9223372036854775807") == {"a": 2**63 - 1}
    assert "64 bits" in error_of("a: 9223372036854775808").message
    assert "64 bits" in error_of("a: " + "9" * 5000).message


def test_a_self_referencing_alias_is_refused():
    assert "cycle" in error_of("a: &x [1, *x]").message
    assert "cycle" in error_of("a: &x {b: *x}").message


def test_shared_aliases_within_the_bound_load():
    assert yamlio.load("a: &x [1, 2]\nb: *x\nc: *x") == {"a": [1, 2], "b": [1, 2], "c": [1, 2]}


def billion_laughs(levels: int = 9) -> str:
    lines = ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, levels):
        lines.append(f"l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * 9)}]")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_fails_fast_in_bounded_memory():
    text = billion_laughs()
    assert len(text) < 700
    tracemalloc.start()
    start = time.perf_counter()
    try:
        error = error_of(text)
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert "alias bomb" in error.message
    assert time.perf_counter() - start < 1.0
    assert peak < 10_000_000


def test_a_lone_surrogate_is_an_error_not_a_crash():
    assert "surrogate" in error_of("a: \ud800").message


def test_control_characters_are_an_error_with_the_line():
    error = error_of("a: 1\nb: '\x07'")
    assert error.line == 2 and "\\x07" in error.message


def test_load_all_keeps_empty_documents_as_none():
    assert yamlio.load_all("a: 1\n---\n---\nb: 2") == [{"a": 1}, None, {"b": 2}]


def test_it_is_a_pyyaml_error_for_callers_that_catch_those():
    with pytest.raises(yaml.YAMLError):
        yamlio.load("a: [")


def test_the_fast_libyaml_parser_is_used_when_present():
    if not hasattr(yaml, "CSafeLoader"):
        pytest.skip("libyaml not installed")
    assert issubclass(yamlio._Loader, yaml.CSafeLoader)


@pytest.mark.parametrize(
    "text",
    [
        "a: " + "[" * 150 + "]" * 150,
        "a:\n" + "".join("  " * level + f"- k{level}:\n" for level in range(1, 60)),
        "a: &x " + "[" * 60 + "]" * 60 + "\nb: " + "[" * 45 + "*x" + "]" * 45,
    ],
    ids=["flow", "block", "aliases"],
)
def test_nesting_beyond_the_limit_is_refused(text: str):
    assert f"nested more than {yamlio.MAX_DEPTH} levels deep" in error_of(text).message


def test_nesting_up_to_the_limit_loads():
    depth = yamlio.MAX_DEPTH - 1
    assert yamlio.load("[" * depth + "]" * depth) is not None


def test_the_presets_skip_the_node_walk():
    """The walk costs time on every render; ordinary BaseConfig templates are recognised as
    shallow and alias-free by a scan."""
    for path in sorted((ROOT / "deploy/presets").glob("*.yaml")):
        for key, text in yaml.safe_load(path.read_text())["data"].items():
            assert not yamlio._needs_walk(text), (path.name, key)
