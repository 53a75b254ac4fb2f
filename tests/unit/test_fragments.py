"""A rendered BaseConfig object of the wrong shape is refused naming the key and path, before a
stage trips over it; RenderOptions refuse what the API server would refuse."""

from __future__ import annotations

import pytest
from support import DEPLOYMENT, base_config, model_service

from ms_engine import RenderOptions
from ms_engine.fragments import check_fragment
from ms_engine.problems import OPTIONS, RenderError


def error_of(key: str, document: object) -> str:
    with pytest.raises(RenderError) as caught:
        check_fragment(key, document)
    return str(caught.value.problem)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"kind": "Deployment", "spec": 5}, "decodeDeployment: spec: must be a mapping, got 5"),
        (
            {"kind": "Deployment", "spec": {"template": {"spec": {"containers": {}}}}},
            "spec.template.spec.containers: must be a list, got a mapping",
        ),
        (
            {"kind": "Deployment", "spec": {"template": {"spec": {"containers": [5]}}}},
            "spec.template.spec.containers[0]: must be a mapping, got 5",
        ),
        (
            {"kind": "Deployment", "spec": {"template": {"spec": {"containers": [None]}}}},
            "spec.template.spec.containers[0]: must not be null",
        ),
        (
            {"kind": "Deployment", "spec": {"replicas": "3"}},
            "spec.replicas: must be an integer, got '3'",
        ),
        (
            {"kind": "Deployment", "spec": {"template": {"metadata": {"labels": {"v": 1}}}}},
            "spec.template.metadata.labels.v: must be a string, got 1",
        ),
        (
            {
                "kind": "Deployment",
                "spec": {"template": {"spec": {"containers": [{"name": "a", "args": "--x"}]}}},
            },
            "containers[0].args: must be a list, got '--x'",
        ),
        (
            {
                "kind": "Deployment",
                "spec": {"template": {"spec": {"volumes": [{"name": "v"}, {"name": "v"}]}}},
            },
            "spec.template.spec.volumes holds 'v' twice",
        ),
        (
            {
                "kind": "Deployment",
                "spec": {
                    "template": {
                        "spec": {
                            "containers": [{"name": "c", "env": [{"name": "A"}, {"name": "A"}]}]
                        }
                    }
                },
            },
            "containers[0].env holds 'A' twice",
        ),
        (
            {"kind": "Service", "spec": {"ports": [{"port": 80}, {"port": 80}]}},
            "spec.ports holds 80 twice",
        ),
        (
            {"kind": "Service", "spec": {"selector": ["a"]}},
            "spec.selector: must be a mapping, got a list",
        ),
        (
            {"kind": "HTTPRoute", "spec": {"rules": [{"backendRefs": {}}]}},
            "spec.rules[0].backendRefs: must be a list",
        ),
        (
            {
                "kind": "Deployment",
                "spec": {"template": {"spec": {"volumes": [{"name": "c", "configMap": 5}]}}},
            },
            "volumes[0].configMap: must be a mapping, got 5",
        ),
        (
            {
                "kind": "Deployment",
                "spec": {
                    "template": {"spec": {"volumes": [{"name": "c", "configMap": {"name": [1]}}]}}
                },
            },
            "volumes[0].configMap.name: must be a string, got a list",
        ),
        (
            {"kind": "ConfigMap", "metadata": {"name": {"a": 1}}},
            "metadata.name: must be a string, got a mapping",
        ),
    ],
)
def test_a_wrong_shape_names_the_key_and_path(document, message):
    assert message in error_of("decodeDeployment", document)


def test_nulls_on_checked_paths_mean_absent():
    document = {"kind": "Deployment", "metadata": None, "spec": {"template": {"spec": None}}}
    check_fragment("decodeDeployment", document)
    assert document == {"kind": "Deployment", "spec": {"template": {}}}


def test_the_template_stage_refuses_a_wrong_shape_with_the_key(render):
    template = DEPLOYMENT.replace("spec:\n  template:", "spec:\n  replicas: many\n  template:")
    with pytest.raises(RenderError) as caught:
        render(model_service(), base_config(decodeDeployment=template))
    assert (
        str(caught.value.problem)
        == "decodeDeployment: spec.replicas: must be an integer, got 'many'"
    )


def test_a_base_config_without_kinds_is_checked_by_its_key(render):
    with pytest.raises(RenderError) as caught:
        render(model_service(), base_config(decodeService="spec:\n  ports: 80\n"))
    assert str(caught.value.problem) == "decodeService: spec.ports: must be a list, got 80"


@pytest.mark.parametrize(
    ("options", "where", "words"),
    [
        ({"namespace": "Bad_NS"}, "namespace", "'Bad_NS' is not a valid name"),
        ({"namespace": "x" * 64}, "namespace", "at most 63"),
        ({"pd_pull_secrets": ("a", "", "b")}, "pd_pull_secrets", "entry 2 is empty"),
        ({"epp_pull_secrets": ("UPPER",)}, "epp_pull_secrets", "'UPPER' is not a valid name"),
        ({"pd_pull_secrets": ("a", "a")}, "pd_pull_secrets", "'a' appears twice"),
        ({"pd_pull_secrets": "ab"}, "pd_pull_secrets", "got one string"),
        ({"epp_cluster_role": "a/b"}, "epp_cluster_role", "not a ClusterRole name"),
        ({"epp_cluster_role": ""}, "epp_cluster_role", "not a ClusterRole name"),
    ],
)
def test_render_options_refuse_bad_names_naming_the_option(options, where, words):
    with pytest.raises(RenderError) as caught:
        RenderOptions(**options)
    problem = caught.value.problem
    assert (problem.where, problem.document) == (where, OPTIONS)
    assert words in problem.message


def test_good_render_options_pass():
    RenderOptions(namespace="prod", pd_pull_secrets=("a.b", "c"), epp_cluster_role="system:epp")
