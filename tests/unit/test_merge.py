"""Strategic merge (DESIGN §5): examples, properties, and agreement with jsonmerge itself."""

from __future__ import annotations

import copy
from typing import Any

import jsonmerge
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonmerge.strategies import ArrayStrategy
from support import args

from ms_engine.flags import merge_args
from ms_engine.merge import (
    CONTAINER,
    FLAGS,
    POD_TEMPLATE_OWNER,
    SERVICE,
    DuplicateKey,
    merge,
)


def deployment(pod_spec: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {"spec": {**spec, "template": {"spec": pod_spec}}}


def test_overlay_values_win_even_when_falsy():
    base = {"spec": {"replicas": 3, "paused": True, "minReadySeconds": 5, "label": "x"}}
    head = {"spec": {"replicas": 0, "paused": False, "label": ""}}
    assert merge(base, head) == {
        "spec": {"replicas": 0, "paused": False, "minReadySeconds": 5, "label": ""}
    }


def test_containers_merge_by_name_keeping_order_and_appending_new_ones():
    base = deployment(
        {"containers": [{"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"}]}
    )
    head = deployment(
        {"containers": [{"name": "c", "image": "c:1"}, {"name": "a", "image": "a:2"}]}
    )
    merged = merge(base, head, POD_TEMPLATE_OWNER)
    assert merged["spec"]["template"]["spec"]["containers"] == [
        {"name": "a", "image": "a:2"},
        {"name": "b", "image": "b:1"},
        {"name": "c", "image": "c:1"},
    ]


def test_env_value_replaces_value_from_and_back():
    base = {
        "env": [
            {"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "x"}}},
            {"name": "B", "value": "1"},
        ]
    }
    head = {
        "env": [
            {"name": "A", "value": "v"},
            {"name": "B", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
        ]
    }
    assert merge(base, head, CONTAINER)["env"] == head["env"]


def test_new_args_go_first_and_command_is_replaced():
    base = {"command": ["vllm", "serve"], "args": ["--port", "8000"]}
    head = {"command": ["python"], "args": ["--max-model-len", "2048"]}
    merged = merge(base, head, CONTAINER)
    assert merged == {"command": ["python"], "args": ["--max-model-len", "2048", "--port", "8000"]}


def test_volumes_are_replaced_by_name_and_mounts_keyed_by_path():
    base = deployment(
        {
            "volumes": [{"name": "model-storage", "emptyDir": {}}, {"name": "shm", "emptyDir": {}}],
            "containers": [{"name": "c", "volumeMounts": [{"name": "x", "mountPath": "/m"}]}],
        }
    )
    head = deployment(
        {
            "volumes": [{"name": "model-storage", "persistentVolumeClaim": {"claimName": "p"}}],
            "containers": [
                {"name": "c", "volumeMounts": [{"name": "model-storage", "mountPath": "/m"}]}
            ],
        }
    )
    pod = merge(base, head, POD_TEMPLATE_OWNER)["spec"]["template"]["spec"]
    assert pod["volumes"] == [
        {"name": "model-storage", "persistentVolumeClaim": {"claimName": "p"}},
        {"name": "shm", "emptyDir": {}},
    ]
    assert pod["containers"][0]["volumeMounts"] == [{"name": "model-storage", "mountPath": "/m"}]


def test_service_ports_merge_by_port_and_other_lists_are_replaced():
    base = {"spec": {"ports": [{"port": 80, "name": "http"}], "externalIPs": ["1.1.1.1"]}}
    head = {"spec": {"ports": [{"port": 80, "protocol": "TCP"}], "externalIPs": ["2.2.2.2"]}}
    assert merge(base, head, SERVICE)["spec"] == {
        "ports": [{"port": 80, "name": "http", "protocol": "TCP"}],
        "externalIPs": ["2.2.2.2"],
    }


def test_a_doubled_key_in_the_base_is_reported_with_its_path():
    base = deployment({"containers": [{"name": "a"}, {"name": "a"}]})
    with pytest.raises(DuplicateKey) as caught:
        merge(base, deployment({"containers": [{"name": "a", "image": "x"}]}), POD_TEMPLATE_OWNER)
    assert caught.value.path == "spec.template.spec.containers" and caught.value.key == "a"


def test_a_doubled_key_in_a_list_only_the_overlay_has_is_reported():
    with pytest.raises(DuplicateKey):
        merge({}, deployment({"containers": [{"name": "a"}, {"name": "a"}]}), POD_TEMPLATE_OWNER)


def test_inputs_are_not_modified():
    base = deployment(
        {"containers": [{"name": "a", "args": ["x"], "env": [{"name": "E", "value": "1"}]}]}
    )
    head = deployment(
        {"containers": [{"name": "a", "args": ["y"], "env": [{"name": "E", "value": "2"}]}]}
    )
    before = copy.deepcopy((base, head))
    merge(base, head, POD_TEMPLATE_OWNER)
    assert (base, head) == before


# -- properties ---------------------------------------------------------------------------------

names = st.sampled_from(["vllm", "sidecar", "init", "proxy"])
words = st.sampled_from(["--a", "--b", "1", "x", ""])
env_var = st.one_of(
    st.fixed_dictionaries({"name": st.sampled_from("ABCD"), "value": words}),
    st.fixed_dictionaries(
        {"name": st.sampled_from("ABCD"), "valueFrom": st.just({"fieldRef": {"fieldPath": "p"}})}
    ),
)


def unique_by(key: str, items: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[list[Any]]:
    return st.lists(items, max_size=4, unique_by=lambda item: item[key])


container = st.fixed_dictionaries(
    {"name": names},
    optional={
        "image": st.sampled_from(["a:1", "b:2", ""]),
        "args": args,
        "command": st.lists(words, min_size=1, max_size=2),
        "env": unique_by("name", env_var),
        "ports": unique_by(
            "containerPort",
            st.fixed_dictionaries(
                {"containerPort": st.sampled_from([8000, 8200, 9002])},
                optional={"name": st.sampled_from(["http", "grpc"])},
            ),
        ),
        "volumeMounts": unique_by(
            "mountPath",
            st.fixed_dictionaries(
                {"mountPath": st.sampled_from(["/a", "/b"]), "name": st.sampled_from(["v", "w"])}
            ),
        ),
    },
)
pod_spec = st.fixed_dictionaries(
    {},
    optional={
        "containers": unique_by("name", container),
        "initContainers": unique_by("name", container),
        "volumes": unique_by(
            "name",
            st.one_of(
                st.fixed_dictionaries(
                    {"name": st.sampled_from(["v", "w"]), "emptyDir": st.just({})}
                ),
                st.fixed_dictionaries(
                    {"name": st.sampled_from(["v", "w"]), "configMap": st.just({"name": "c"})}
                ),
            ),
        ),
        "serviceAccountName": st.sampled_from(["a", ""]),
    },
)
deployments = st.builds(
    lambda pod, replicas: {"spec": {"template": {"spec": pod}, **replicas}},
    pod_spec,
    st.fixed_dictionaries({}, optional={"replicas": st.integers(0, 3)}),
)

KEYED = {
    ("containers",): "name",
    ("initContainers",): "name",
    ("volumes",): "name",
    ("env",): "name",
    ("ports",): "containerPort",
    ("volumeMounts",): "mountPath",
}


def keys_are_unique(value: Any) -> bool:
    if isinstance(value, dict):
        for field, items in value.items():
            key = KEYED.get((field,))
            if key and isinstance(items, list):
                seen = [item[key] for item in items]
                if len(seen) != len(set(seen)):
                    return False
        return all(keys_are_unique(item) for item in value.values())
    if isinstance(value, list):
        return all(keys_are_unique(item) for item in value)
    return True


class FlagAware(ArrayStrategy):
    """Our args rule as a jsonmerge strategy, so the reference checks the schema interpreter
    (the rule itself has its own properties in test_flags)."""

    def _merge(self, walk, base, head, schema, **kwargs):
        base.val = merge_args(base.val, head.val)
        return base

    def get_schema(self, walk, schema, **kwargs):
        return schema


REFERENCE = jsonmerge.Merger(POD_TEMPLATE_OWNER, strategies={FLAGS: FlagAware()})
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(deployments)
def test_the_empty_overlay_changes_nothing(base):
    assert merge(base, {}, POD_TEMPLATE_OWNER) == base


@FAST
@given(deployments, deployments)
def test_merging_the_same_overlay_twice_equals_once(base, head):
    once = merge(base, head, POD_TEMPLATE_OWNER)
    assert merge(once, head, POD_TEMPLATE_OWNER) == once


@FAST
@given(deployments, deployments)
def test_keyed_lists_never_hold_a_key_twice(base, head):
    assert keys_are_unique(merge(base, head, POD_TEMPLATE_OWNER))


@FAST
@given(deployments, deployments)
def test_agrees_with_jsonmerge_on_the_same_schema(base, head):
    assert merge(base, head, POD_TEMPLATE_OWNER) == REFERENCE.merge(base, head)
