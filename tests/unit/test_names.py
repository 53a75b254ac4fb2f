"""Child names: within the 63-character limit, distinct, stable, and still telling what they are."""

from __future__ import annotations

from ms_engine.names import MAX_NAME, ChildNames, child_name

LONG = "a-very-long-model-service-name-that-goes-on-and-on-for-llama-3-70b-instruct"


def test_short_names_are_the_model_service_and_the_suffix():
    assert child_name("llama", "decode") == "llama-decode"
    assert child_name("Llama_8B", "sa") == "llama-8b-sa"


def test_long_names_keep_their_suffix_before_the_hash():
    names = ChildNames(LONG)
    children = {
        "decode": names.decode_deployment,
        "prefill": names.prefill_deployment,
        "service-decode": names.decode_service,
        "sa": names.service_account,
        "epp-sa": names.epp_service_account,
        "epp-rolebinding": names.epp_role_binding,
    }
    for suffix, name in children.items():
        assert len(name) <= MAX_NAME, name
        head, _, digest = name.rpartition("-")
        assert head.endswith(f"-{suffix}"), name
        assert len(digest) == 8 and int(digest, 16) >= 0, name
        assert name.startswith("a-very-long-model-service-name"), name
    assert len(set(children.values())) == len(children)


def test_long_names_are_stable_and_differ_when_the_model_service_does():
    assert child_name(LONG, "decode") == child_name(LONG, "decode")
    assert child_name(LONG, "decode") != child_name(LONG + "-2", "decode")
    other = LONG[:-1] + "x"  # same cut prefix, different whole name
    assert child_name(LONG, "decode") != child_name(other, "decode")
