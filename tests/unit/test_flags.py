"""Flag-aware args: the ModelService's value of a flag is the one vLLM's parser keeps."""

from __future__ import annotations

from hypothesis import given, settings
from support import BOOLEAN, VALUED, args, preset, sample

from ms_engine.flags import effective_value, merge_args, read


def test_a_model_service_flag_replaces_the_base_config_flag_in_place():
    base = ["--port", "8000", "--served-model-name", "base-name", "--max-model-len", "4096"]
    head = ["--served-model-name=mine"]
    assert merge_args(base, head) == [
        "--port", "8000", "--served-model-name=mine", "--max-model-len", "4096",
    ]  # fmt: skip


def test_flags_the_base_config_lacks_come_before_its_flags_after_its_positionals():
    base = ["meta-llama/Llama-3.1-8B", "--port", "8000"]
    head = ["--enforce-eager", "--max-model-len", "2048"]
    assert merge_args(base, head) == [
        "meta-llama/Llama-3.1-8B", "--enforce-eager", "--max-model-len", "2048", "--port", "8000",
    ]  # fmt: skip


def test_positionals_of_the_model_service_come_first_once():
    merged = merge_args(["--port", "8000"], ["serve", "--port", "9000"])
    assert merged == ["serve", "--port", "9000"]
    assert merge_args(merged, ["serve", "--port", "9000"]) == merged


def test_a_repeated_base_flag_is_replaced_by_every_value_the_model_service_gives():
    base = ["--middleware", "a", "--port", "1", "--middleware", "b"]
    assert merge_args(base, ["--middleware", "c"]) == ["--middleware", "c", "--port", "1"]


def test_negative_numbers_are_values_and_a_lone_dash_dash_ends_the_flags():
    assert [i.words for i in read(["--seed", "-1", "--", "--not-a-flag"])] == [
        ("--seed", "-1"), ("--",), ("--not-a-flag",),
    ]  # fmt: skip
    assert effective_value(["--seed", "-1", "--seed=7"], "--seed") == "7"


def test_the_model_service_flag_wins_over_the_preset_in_a_render(render):
    ms = sample("pd-nixl")
    ms["spec"]["decode"]["containers"][0]["args"] = ["--served-model-name", "mine"]
    result = render(ms, preset("pd-nixl"))
    decode = next(o.body for o in result.objects if o.component == "decodeDeployment")
    vllm = next(c for c in decode["spec"]["template"]["spec"]["containers"] if c["name"] == "vllm")
    assert effective_value(vllm["args"], "--served-model-name") == "mine"
    assert vllm["args"].count("--served-model-name") == 1


# -- properties --------------------------------------------------------------------------------

PROPERTIES = settings(max_examples=400, deadline=None)


@PROPERTIES
@given(args, args)
def test_merging_twice_equals_merging_once(base, head):
    once = merge_args(base, head)
    assert merge_args(once, head) == once


@PROPERTIES
@given(args, args)
def test_every_flag_the_model_service_sets_takes_its_value(base, head):
    merged = merge_args(base, head)
    for flag in VALUED:
        if effective_value(head, flag) is not None:
            assert effective_value(merged, flag) == effective_value(head, flag)
        else:
            assert effective_value(merged, flag) == effective_value(base, flag)
    for flag in BOOLEAN:
        assert (flag in merged) == (flag in head or flag in base)


@PROPERTIES
@given(args)
def test_an_empty_overlay_changes_nothing(base):
    assert merge_args(base, []) == base
