"""The plugin contract: stage order, adding and replacing stages, and every hook exercised."""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest
from support import (
    BUNDLED,
    DEPLOYMENT,
    base_config,
    by_component,
    fresh_renderer,
    model_service,
    preset,
    renderer_call,
    sample,
)

from ms_engine import (
    ModelScheme,
    ModelSource,
    PluginError,
    RenderContext,
    Renderer,
    RenderError,
    Stage,
    fail,
    hookimpl,
)
from ms_engine import hookspecs as specs
from ms_engine.api import load_model_service, parse_base_config
from ms_engine.pipeline import CORE_STAGES, Pipeline
from ms_engine.plugins import ENTRY_POINT_GROUP, make_plugin_manager


def test_core_stages_run_in_their_fixed_order(renderer):
    assert renderer.pipeline.stage_names == list(CORE_STAGES)
    assert CORE_STAGES == (
        "template",
        "merge",
        "model-source",
        "workload",
        "routing",
        "rbac",
        "validate",
        "apply",
    )


def test_bundled_plugins_are_found_through_the_entry_point_group():
    found = {entry.name: entry.value for entry in entry_points(group=ENTRY_POINT_GROUP)}
    assert found == {
        "huggingface": "ms_plugins.huggingface",
        "pvc": "ms_plugins.pvc",
        "oci": "ms_plugins.oci",
        "gie": "ms_plugins.gie",
        "gotemplate": "ms_plugins.gotemplate",
    }
    manager = make_plugin_manager()
    assert {"huggingface", "pvc", "oci", "gie"} <= {name for name, _ in manager.list_name_plugin()}


def test_the_allow_list_limits_entry_point_plugins(monkeypatch):
    monkeypatch.setenv("MODELSERVICE_PLUGINS", "pvc")
    names = {name for name, _ in make_plugin_manager().list_name_plugin()}
    assert "pvc" in names and "huggingface" not in names


def test_the_allow_list_naming_an_unknown_plugin_is_an_error(monkeypatch):
    monkeypatch.setenv("MODELSERVICE_PLUGINS", "pvc,s4")
    with pytest.raises(PluginError, match=r"MODELSERVICE_PLUGINS names 's4', which no installed"):
        make_plugin_manager()


def test_without_the_gie_plugin_routing_keys_are_an_error_not_silently_dropped():
    renderer = Renderer(make_plugin_manager(load_entry_points=False, plugins=BUNDLED[:3]))
    with pytest.raises(PluginError, match=r"no router plugin answered ms_router.*inferencePool"):
        renderer.render(sample("pd-nixl"), preset("pd-nixl"))


def test_run_until_stops_after_the_named_stage(renderer):
    context = renderer.pipeline.new_context(
        load_model_service(model_service()),
        parse_base_config(base_config(decodeDeployment=DEPLOYMENT)),
    )
    renderer.pipeline.run(context, until="merge")
    assert set(context.documents) == {"decodeDeployment"} and len(context.objects) == 0
    renderer.pipeline.run(context, until="workload")
    assert "decodeDeployment" in context.objects


class AddsAnnotation:
    @hookimpl
    def ms_stages(self):
        return [Stage("annotate", self.run, after="workload")]

    @staticmethod
    def run(context: RenderContext) -> None:
        for desired in context.objects:
            desired.body["metadata"].setdefault("annotations", {})["example.com/seen"] = "yes"


def test_hook_ms_stages_a_plugin_adds_a_stage_after_another():
    renderer = fresh_renderer(("annotate", AddsAnnotation()))
    assert (
        renderer.pipeline.stage_names.index("annotate")
        == renderer.pipeline.stage_names.index("workload") + 1
    )
    result = renderer_call(renderer)(model_service(), base_config(decodeDeployment=DEPLOYMENT))
    decode = by_component(result)["decodeDeployment"]
    assert decode["metadata"]["annotations"] == {"example.com/seen": "yes"}
    assert (
        "annotations" not in by_component(result)["pdServiceAccount"]["metadata"]
    )  # rbac runs later


class ReplacesRbac:
    @hookimpl
    def ms_stages(self):
        return [Stage("my-rbac", lambda context: None, replaces="rbac")]


def test_a_plugin_replaces_a_core_stage_under_its_name():
    renderer = fresh_renderer(("no-rbac", ReplacesRbac()))
    assert renderer.pipeline.stage_names == list(CORE_STAGES)
    assert renderer.pipeline.stage("rbac").provider == "no-rbac"
    result = renderer_call(renderer)(model_service(), base_config(decodeDeployment=DEPLOYMENT))
    assert "pdServiceAccount" not in by_component(result)


def test_two_plugins_replacing_one_stage_is_an_error():
    class Other(ReplacesRbac):
        pass

    with pytest.raises(PluginError, match="both replace 'rbac'"):
        fresh_renderer(("a", ReplacesRbac()), ("b", Other()))


def test_a_stage_after_an_unknown_stage_is_an_error():
    class Lost:
        @hookimpl
        def ms_stages(self):
            return [Stage("lost", lambda context: None, after="nowhere")]

    with pytest.raises(PluginError, match="after unknown stages"):
        fresh_renderer(("lost", Lost()))


def test_a_misspelt_hook_is_refused_when_loading():
    class Typo:
        @hookimpl
        def ms_template_variables(self):
            return {}

    with pytest.raises(PluginError, match="ms_template_variables"):
        make_plugin_manager(load_entry_points=False, plugins=[("typo", Typo())])


class ClusterDomain:
    @hookimpl
    def ms_template_vars(self, context: RenderContext):
        return {"ClusterDomain": "cluster.local"}

    @hookimpl
    def ms_template_filters(self):
        return {"shout": lambda text: str(text).upper()}


def test_hook_ms_template_vars_and_ms_template_filters_reach_templates():
    render = renderer_call(fresh_renderer(("domain", ClusterDomain())))
    template = "- metadata: {name: c}\n  data: {host: '{{ ModelServiceName | shout }}.{{ ClusterDomain }}'}\n"
    result = render(model_service(), base_config(decodeDeployment=DEPLOYMENT, configMaps=template))
    assert by_component(result)["configMaps/c"]["data"] == {"host": "DEMO.cluster.local"}


def test_hook_ms_template_vars_cannot_shadow_a_core_variable():
    class Shadow:
        @hookimpl
        def ms_template_vars(self, context):
            return {"ModelName": "evil"}

    with pytest.raises(PluginError, match="'ModelName' is defined twice"):
        renderer_call(fresh_renderer(("shadow", Shadow())))(
            model_service(), base_config(decodeDeployment=DEPLOYMENT)
        )


class S3Source:
    @hookimpl
    def ms_model_schemes(self):
        return ["s3"]

    @hookimpl
    def ms_model_source(self, uri, artifacts):
        if uri.scheme != "s3":
            return None
        return ModelSource(
            scheme="s3",
            volume={
                "csi": {"driver": "s3.csi.example.com", "volumeAttributes": {"bucket": uri.rest}}
            },
            mount={"mountPath": "/model-cache", "readOnly": True},
            template_vars={"MountedModelPath": "/model-cache"},
        )


def test_hook_ms_model_source_and_ms_model_schemes_a_third_party_scheme():
    renderer = fresh_renderer(("s3", S3Source()))
    result = renderer_call(renderer)(
        model_service(modelArtifacts={"uri": "s3://bucket/llama"}),
        base_config(decodeDeployment=DEPLOYMENT),
    )
    volumes = by_component(result)["decodeDeployment"]["spec"]["template"]["spec"]["volumes"]
    assert {
        "name": "model-storage",
        "csi": {"driver": "s3.csi.example.com", "volumeAttributes": {"bucket": "bucket/llama"}},
    } in volumes
    with pytest.raises(RenderError, match=r"loaded schemes: hf, oci, pvc, s3\)"):
        renderer_call(renderer)(model_service(modelArtifacts={"uri": "gs://x"}))


def test_hook_ms_validate_findings_become_warnings():
    class NoLatest:
        @hookimpl
        def ms_validate(self, context):
            from ms_engine import Problem

            return [
                Problem("uses a :latest image", f"Deployment/{d.body['metadata']['name']}")
                for d in context.objects
                if ":latest" in str(d.body)
            ]

    render = renderer_call(fresh_renderer(("no-latest", NoLatest())))
    ms = model_service(decode={"containers": [{"name": "vllm", "image": "vllm:latest"}]})
    result = render(ms, base_config(decodeDeployment=DEPLOYMENT))
    assert [str(w) for w in result.warnings] == ["Deployment/demo-decode: uses a :latest image"]


def test_every_hook_has_a_test_here_or_in_test_routing():
    from pathlib import Path

    hooks = [name for name in dir(specs) if name.startswith("ms_")]
    tests = "".join(path.read_text() for path in Path(__file__).parent.glob("test_*.py"))
    missing = [
        hook for hook in hooks if f"test_hook_{hook}" not in tests and f"_and_{hook}" not in tests
    ]
    assert missing == []


def test_pipeline_build_needs_every_core_stage():
    manager = make_plugin_manager(load_entry_points=False, plugins=BUNDLED)
    manager.unregister(name="core-stages")
    with pytest.raises(PluginError, match="core stages missing"):
        Pipeline.build(manager)


def test_a_plugin_cannot_take_a_core_stage_by_its_name_alone():
    class Sneaky:
        @hookimpl
        def ms_stages(self):
            return [Stage("routing", lambda context: None)]

    with pytest.raises(PluginError, match="'routing' is offered by core-stages and sneaky"):
        fresh_renderer(("sneaky", Sneaky()))


def test_routing_is_replaced_only_through_ms_router():
    class RoutingStage:
        @hookimpl
        def ms_stages(self):
            return [Stage("my-routing", lambda context: None, replaces="routing")]

    with pytest.raises(PluginError, match="replaces 'routing': answer the ms_router hook"):
        fresh_renderer(("mine", RoutingStage()))


def test_run_until_documents_that_it_always_starts_from_the_template_stage():
    assert "from the first (`template`)" in (Pipeline.run.__doc__ or "")


# -- hook mechanics and plugin errors -------------------------------------------------------------


class Broken:
    """A model source whose answers are configurable per test."""

    def __init__(self, answer):
        self.answer = answer

    @hookimpl
    def ms_model_schemes(self):
        return ["s3"]

    @hookimpl
    def ms_model_source(self, uri):
        return self.answer()


def s3_render(*plugins):
    return renderer_call(fresh_renderer(*plugins))(
        model_service(modelArtifacts={"uri": "s3://bucket/m"}),
        base_config(decodeDeployment=DEPLOYMENT),
    )


def test_a_hook_returning_the_wrong_type_names_the_plugin_the_hook_and_both_types():
    with pytest.raises(PluginError) as caught:
        s3_render(("s3", Broken(lambda: {"scheme": "s3"})))
    assert (
        str(caught.value)
        == "plugin 's3' (hook ms_model_source): returned dict, expected ModelSource"
    )


def test_a_hook_that_raises_names_the_plugin_the_hook_and_the_exception():
    def explode():
        raise KeyError("x")

    with pytest.raises(PluginError) as caught:
        s3_render(("s3", Broken(explode)))
    assert str(caught.value) == "plugin 's3' (hook ms_model_source): raised KeyError: 'x'"


def test_a_render_error_raised_on_purpose_by_a_plugin_stays_an_input_error():
    def refuse():
        raise fail("expected s3://<bucket>/<path>", "spec.modelArtifacts.uri")

    with pytest.raises(RenderError) as caught:
        s3_render(("s3", Broken(refuse)))
    assert str(caught.value) == "spec.modelArtifacts.uri: expected s3://<bucket>/<path>"


def test_a_stage_that_raises_names_the_stage_and_its_plugin():
    class Faulty:
        @hookimpl
        def ms_stages(self):
            return [Stage("cost-center", lambda context: [][1], after="rbac")]

    with pytest.raises(PluginError) as caught:
        renderer_call(fresh_renderer(("cost", Faulty())))(model_service(), base_config())
    assert str(caught.value) == (
        "stage 'cost-center' (plugin 'cost'): raised IndexError: list index out of range"
    )


def test_stages_of_the_wrong_type_are_refused_naming_the_plugin():
    class NotStages:
        @hookimpl
        def ms_stages(self):
            return ["annotate"]

    with pytest.raises(
        PluginError,
        match=r"plugin 'odd' \(hook ms_stages\): returned list, expected a list of Stage",
    ):
        fresh_renderer(("odd", NotStages()))


BROKEN_PLUGIN = "import does_not_exist_anywhere\n"


def test_a_plugin_that_fails_to_import_is_named_and_the_others_still_load(install_plugin):
    from click.testing import CliRunner

    from ms_cli.main import main

    install_plugin("s3", "broken_s3_source", BROKEN_PLUGIN)
    listing = CliRunner().invoke(main, ["plugins"])
    assert listing.exit_code == 0, listing.stderr
    assert "huggingface" in listing.stdout and "gie" in listing.stdout
    assert (
        "broken: plugin 's3' (entry point s3 = broken_s3_source) failed to load: "
        "ModuleNotFoundError: No module named 'does_not_exist_anywhere'"
    ) in listing.stdout
    with pytest.raises(PluginError, match=r"^plugin 's3' \(entry point s3 = broken_s3_source\)"):
        Renderer().render(model_service(), base_config(decodeDeployment=DEPLOYMENT))


class Recorder:
    """A hook wrapper: it sees a call only if the engine calls hooks through pluggy."""

    def __init__(self):
        self.calls: list[str] = []

    @hookimpl(wrapper=True)
    def ms_model_source(self, uri):
        self.calls.append(f"ms_model_source {uri.scheme}")
        return (yield)

    @hookimpl(wrapper=True)
    def ms_stages(self):
        self.calls.append("ms_stages")
        return (yield)


def test_every_hook_call_goes_through_pluggy_so_wrappers_see_it():
    recorder = Recorder()
    render = renderer_call(fresh_renderer(("recorder", recorder)))
    render(model_service(), base_config(decodeDeployment=DEPLOYMENT))
    assert recorder.calls == ["ms_stages", "ms_model_source hf"]


def source_for(scheme: str, bucket_key: str):
    return ModelSource(scheme=scheme, volume={"emptyDir": {}}, mount={"mountPath": bucket_key})


class S3A:
    @hookimpl
    def ms_model_schemes(self):
        return ["s3"]

    @hookimpl
    def ms_model_source(self, uri):
        return source_for("s3", "/from-a")


class S3B(S3A):
    @hookimpl
    def ms_model_source(self, uri):
        return source_for("s3", "/from-b")


class S3BOverridesA(S3B):
    @hookimpl
    def ms_model_schemes(self):
        return [ModelScheme("s3", overrides="a")]


def mount_path(*plugins) -> str:
    result = s3_render(*plugins)
    return by_component(result)["decodeDeployment"]["spec"]["template"]["spec"]["containers"][0][
        "volumeMounts"
    ][0]["mountPath"]


@pytest.mark.parametrize("order", [1, -1], ids=["a-first", "b-first"])
def test_two_plugins_claiming_one_scheme_is_an_error_naming_both_in_either_order(order):
    plugins = [("a", S3A()), ("b", S3B())][::order]
    with pytest.raises(PluginError) as caught:
        fresh_renderer(*plugins)
    assert str(caught.value).startswith("URI scheme 's3' is served by plugins 'a' and 'b'")


@pytest.mark.parametrize("order", [1, -1], ids=["a-first", "b-first"])
def test_a_plugin_that_overrides_another_serves_the_scheme_in_either_order(order):
    plugins = [("a", S3A()), ("b", S3BOverridesA())][::order]
    assert mount_path(*plugins) == "/from-b"


def test_a_plugin_can_take_over_a_bundled_scheme():
    class Mirror:
        @hookimpl
        def ms_model_schemes(self):
            return [ModelScheme("hf", overrides="huggingface")]

        @hookimpl
        def ms_model_source(self, uri):
            return source_for("hf", "/mirror")

    result = renderer_call(fresh_renderer(("mirror", Mirror())))(
        model_service(), base_config(decodeDeployment=DEPLOYMENT)
    )
    vllm = by_component(result)["decodeDeployment"]["spec"]["template"]["spec"]["containers"][0]
    assert vllm["volumeMounts"][0]["mountPath"] == "/mirror"


def test_a_model_source_that_names_no_scheme_is_refused():
    class Silent:
        @hookimpl
        def ms_model_source(self, uri):
            return None

    with pytest.raises(
        PluginError, match="'silent' implements ms_model_source but names no scheme"
    ):
        fresh_renderer(("silent", Silent()))


def test_hook_ms_validate_may_yield_and_a_wrong_answer_is_named():
    class Yielding:
        @hookimpl
        def ms_validate(self):
            from ms_engine import Problem

            yield Problem("looked", "Deployment/x")

    class Wrong:
        @hookimpl
        def ms_validate(self):
            return {"Deployment/x": "looked"}

    render = renderer_call(fresh_renderer(("yielding", Yielding())))
    result = render(model_service(), base_config(decodeDeployment=DEPLOYMENT))
    assert [str(w) for w in result.warnings] == ["Deployment/x: looked"]
    with pytest.raises(PluginError) as caught:
        renderer_call(fresh_renderer(("wrong", Wrong())))(model_service(), base_config())
    assert str(caught.value) == (
        "plugin 'wrong' (hook ms_validate): returned dict, expected a list of Problem"
    )


def test_a_bug_in_an_engine_stage_is_not_blamed_on_a_plugin(renderer):
    from dataclasses import replace

    def boom(context):
        raise ZeroDivisionError("engine bug")

    pipeline = replace(renderer.pipeline, stages=(Stage("merge", boom, provider="core-stages"),))
    context = pipeline.new_context(load_model_service(model_service()), None)
    with pytest.raises(ZeroDivisionError):
        pipeline.run(context)
