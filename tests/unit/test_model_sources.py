"""Model-source plugins: what each scheme puts on the pods, and how bad URIs are reported."""

from __future__ import annotations

import pytest
from support import (
    DEPLOYMENT,
    base_config,
    by_component,
    container,
    docs_example,
    model_service,
    pod_spec,
)

from ms_engine import Renderer, RenderError
from ms_engine.plugins import make_plugin_manager
from ms_engine.problems import Reason

BC = base_config(decodeDeployment=DEPLOYMENT)


def decode(render, **artifacts):
    ms = model_service(modelArtifacts=artifacts)
    return by_component(render(ms, BC))["decodeDeployment"]


def variables(render, uri: str) -> dict:
    template = "- metadata: {name: v}\n  data:\n    path: {{ MountedModelPath | tojson }}\n    model: {{ ModelPath | tojson }}\n"
    result = render(
        model_service(modelArtifacts={"uri": uri}),
        base_config(decodeDeployment=DEPLOYMENT, configMaps=template),
    )
    return by_component(result)["configMaps/v"]["data"]


def test_hf_downloads_into_an_empty_dir_with_token_and_home(render):
    deployment = decode(
        render, uri="hf://meta-llama/Llama-3.1-8B", authSecretName="hf-secret", size="40Gi"
    )
    assert {"name": "model-storage", "emptyDir": {"sizeLimit": "40Gi"}} in pod_spec(deployment)[
        "volumes"
    ]
    vllm = container(deployment, "vllm")
    assert vllm["volumeMounts"] == [{"name": "model-storage", "mountPath": "/model-cache"}]
    assert vllm["env"] == [
        {
            "name": "HF_TOKEN",
            "valueFrom": {"secretKeyRef": {"name": "hf-secret", "key": "HF_TOKEN"}},
        },
        {"name": "HF_HOME", "value": "/model-cache"},
    ]


def test_hf_without_secret_or_size_sets_only_hf_home(render):
    deployment = decode(render, uri="hf://facebook/opt-125m")
    assert {"name": "model-storage", "emptyDir": {}} in pod_spec(deployment)["volumes"]
    assert container(deployment, "vllm")["env"] == [{"name": "HF_HOME", "value": "/model-cache"}]


def test_hf_keeps_the_containers_own_env_before_its_own(render):
    ms = model_service(
        decode={
            "containers": [
                {
                    "name": "vllm",
                    "mountModelVolume": True,
                    "env": [{"name": "LOG", "value": "debug"}],
                }
            ]
        }
    )
    deployment = by_component(render(ms, BC))["decodeDeployment"]
    assert [e["name"] for e in container(deployment, "vllm")["env"]] == ["LOG", "HF_HOME"]


@pytest.mark.parametrize(
    ("uri", "claim", "mounted", "path"),
    [
        ("pvc://weights/models/llama", "weights", "/model-cache/models/llama", "models/llama"),
        ("pvc://weights", "weights", "/model-cache", ""),
    ],
)
def test_pvc_mounts_the_claim_read_only(render, uri, claim, mounted, path):
    deployment = decode(render, uri=uri)
    assert {
        "name": "model-storage",
        "persistentVolumeClaim": {"claimName": claim, "readOnly": True},
    } in pod_spec(deployment)["volumes"]
    vllm = container(deployment, "vllm")
    assert vllm["volumeMounts"] == [
        {"name": "model-storage", "mountPath": "/model-cache", "readOnly": True}
    ]
    assert "env" not in vllm
    assert variables(render, uri) == {"path": mounted, "model": path}


@pytest.mark.parametrize(
    ("uri", "reference", "mounted"),
    [
        (
            "oci://quay.io/org/granite:1.0::/models/granite",
            "quay.io/org/granite:1.0",
            "/model-cache/models/granite",
        ),
        (
            "oci://registry.local:5000/m@sha256:abcd",
            "registry.local:5000/m@sha256:abcd",
            "/model-cache",
        ),
    ],
)
def test_oci_uses_a_read_only_image_volume(render, uri, reference, mounted):
    deployment = decode(render, uri=uri)
    assert {
        "name": "model-storage",
        "image": {"reference": reference, "pullPolicy": "IfNotPresent"},
    } in pod_spec(deployment)["volumes"]
    assert container(deployment, "vllm")["volumeMounts"] == [
        {"name": "model-storage", "mountPath": "/model-cache", "readOnly": True}
    ]
    assert variables(render, uri)["path"] == mounted


def test_only_containers_asking_for_the_model_get_it(render):
    ms = model_service(
        decode={
            "containers": [
                {"name": "vllm", "mountModelVolume": True},
                {"name": "proxy", "image": "p"},
            ]
        }
    )
    deployment = by_component(render(ms, BC))["decodeDeployment"]
    assert "volumeMounts" not in container(deployment, "proxy")
    assert "volumeMounts" in container(deployment, "vllm")


def test_init_containers_can_mount_the_model(render):
    ms = model_service(
        decode={
            "initContainers": [{"name": "fetch", "image": "f", "mountModelVolume": True}],
            "containers": [{"name": "vllm"}],
        }
    )
    deployment = by_component(render(ms, BC))["decodeDeployment"]
    assert container(deployment, "fetch")["volumeMounts"][0]["mountPath"] == "/model-cache"


def test_a_base_config_model_storage_volume_is_replaced_not_doubled(render):
    template = DEPLOYMENT.replace(
        "      containers:",
        "      volumes:\n      - name: model-storage\n        hostPath: {path: /data}\n      containers:",
    )
    deployment = by_component(render(model_service(), base_config(decodeDeployment=template)))[
        "decodeDeployment"
    ]
    volumes = [v for v in pod_spec(deployment)["volumes"] if v["name"] == "model-storage"]
    assert volumes == [{"name": "model-storage", "emptyDir": {}}]


@pytest.mark.parametrize(
    ("uri", "fragment"),
    [
        ("hf://", "not a Hugging Face model"),
        ("hf://a/b/c", "not a Hugging Face model"),
        ("pvc://Bad_Claim/x", "not a PersistentVolumeClaim name"),
        ("pvc://claim/../etc", "may not contain '..'"),
        ("oci://", "not an image reference"),
        ("facebook/opt-125m", "not a model URI"),
    ],
)
def test_malformed_uris_name_the_field(render, uri, fragment):
    with pytest.raises(RenderError) as caught:
        render(model_service(modelArtifacts={"uri": uri}), BC)
    assert str(caught.value).startswith("spec.modelArtifacts.uri: ")
    assert fragment in str(caught.value)


def test_an_unknown_scheme_lists_the_loaded_schemes(render):
    with pytest.raises(RenderError) as caught:
        render(model_service(modelArtifacts={"uri": "s3://bucket/model"}), BC)
    assert caught.value.reason is Reason.UNKNOWN_MODEL_SOURCE
    assert (
        str(caught.value)
        == "spec.modelArtifacts.uri: no plugin serves the scheme 's3' (loaded schemes: hf, oci, pvc)"
    )


S3_EXAMPLE = "# s3_source/__init__.py"
POD_WITH_INIT = """\
apiVersion: apps/v1
kind: Deployment
spec:
  template:
    spec:
      initContainers:
      - {name: routing-proxy, image: proxy:1, restartPolicy: Always}
      containers:
      - {name: vllm, image: vllm:1}
"""


def s3_renderer(install_plugin) -> Renderer:
    install_plugin("s3", "s3_source", docs_example(S3_EXAMPLE))
    return Renderer(make_plugin_manager())


def test_the_docs_s3_example_installed_as_a_package_adds_its_downloader(install_plugin):
    renderer = s3_renderer(install_plugin)
    assert "s3" in renderer.pipeline.schemes and renderer.pipeline.schemes["s3"] == "s3"
    ms = model_service(
        modelArtifacts={"uri": "s3://models/llama/8b", "authSecretName": "aws", "size": "20Gi"}
    )
    result = renderer.render(ms, base_config(decodeDeployment=POD_WITH_INIT))
    spec = pod_spec(by_component(result)["decodeDeployment"])
    assert [c["name"] for c in spec["initContainers"]] == ["s3-download", "routing-proxy"]
    downloader = spec["initContainers"][0]
    assert downloader["args"] == [
        "s3",
        "sync",
        "--only-show-errors",
        "s3://models/llama/8b",
        "/model-cache/llama/8b",
    ]
    assert downloader["envFrom"] == [{"secretRef": {"name": "aws"}}]
    assert spec["volumes"] == [
        {"name": "model-storage", "emptyDir": {"sizeLimit": "20Gi"}},
        {"name": "s3-scratch", "emptyDir": {}},
    ]
    assert container(by_component(result)["decodeDeployment"], "vllm")["volumeMounts"] == [
        {"name": "model-storage", "mountPath": "/model-cache", "readOnly": True}
    ]


def test_a_model_source_init_container_named_like_the_pods_own_is_an_error(install_plugin):
    renderer = s3_renderer(install_plugin)
    clash = POD_WITH_INIT.replace("routing-proxy", "s3-download")
    with pytest.raises(RenderError) as caught:
        renderer.render(
            model_service(modelArtifacts={"uri": "s3://models/x"}),
            base_config(decodeDeployment=clash),
        )
    assert str(caught.value) == (
        "decodeDeployment.spec.template.spec.initContainers: the s3:// model source adds the "
        "init container 's3-download', which the pod already has: rename one"
    )
