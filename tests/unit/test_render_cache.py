"""What makes the controller render a ModelService again (ms_controller.render_cache)."""

from __future__ import annotations

from typing import Any

from support import fresh_renderer, preset, sample

from ms_controller.render_cache import RenderCache, RenderInputs
from ms_engine import Problem, RenderOptions, StashKey

MARK: StashKey[bool] = StashKey("test-mark")


def live_model_service() -> dict[str, Any]:
    body = sample("sim")
    body["metadata"].update(
        namespace="ns", uid="u-1", generation=3, resourceVersion="100", managedFields=[{"m": 1}]
    )
    return body


def live_base_config(version: str = "7") -> dict[str, Any]:
    body = preset("sim")
    body["metadata"].update(namespace="ns", uid="c-1", resourceVersion=version)
    return body


def inputs(
    model_service: dict[str, Any] | None = None,
    base_config: dict[str, Any] | None = None,
    options: RenderOptions | None = None,
) -> RenderInputs:
    return RenderInputs.of(
        model_service or live_model_service(),
        base_config or live_base_config(),
        options or RenderOptions(),
    )


def test_a_status_write_changes_nothing_a_render_reads():
    written = live_model_service()
    written["metadata"].update(resourceVersion="101", managedFields=[{"m": 2}])
    written["status"] = {"observedGeneration": 3, "conditions": [{"type": "Ready"}]}
    assert inputs(written) == inputs()


def test_spec_labels_annotations_baseconfig_and_options_each_change_the_inputs():
    changed_spec = live_model_service()
    changed_spec["spec"]["decode"]["replicas"] = 5
    labelled = live_model_service()
    labelled["metadata"]["labels"] = {"team": "search"}
    annotated = live_model_service()
    annotated["metadata"]["annotations"] = {"note": "x"}
    recreated = live_model_service()
    recreated["metadata"]["uid"] = "u-2"
    variants = [
        inputs(changed_spec),
        inputs(labelled),
        inputs(annotated),
        inputs(recreated),
        inputs(base_config=live_base_config("8")),
        inputs(options=RenderOptions(pd_pull_secrets=("regcred",))),
    ]
    assert all(variant != inputs() for variant in variants)
    assert len(set(map(repr, variants))) == len(variants)


def test_the_cluster_in_the_options_is_not_an_input():
    assert inputs(options=RenderOptions(cluster=object())) == inputs()  # type: ignore[arg-type]


def test_the_cache_returns_a_render_only_for_equal_inputs_and_forgets_a_deleted_one():
    heard: list[bool] = []
    cache = RenderCache(on_lookup=heard.append)
    rendered = fresh_renderer().render(live_model_service(), live_base_config(), until="validate")
    assert cache.get("ns/sim-pd", inputs()) is None
    cache.put("ns/sim-pd", inputs(), rendered)
    hit = cache.get("ns/sim-pd", inputs())
    assert hit is not None and hit.bodies == rendered.bodies
    assert [o.component for o in hit.objects] == [o.component for o in rendered.objects]
    assert hit.warnings == rendered.warnings
    assert cache.get("ns/sim-pd", inputs(base_config=live_base_config("8"))) is None
    assert cache.get("ns/other", inputs()) is None
    cache.drop("ns/sim-pd")
    assert cache.get("ns/sim-pd", inputs()) is None and len(cache) == 0
    assert heard == [False, True, False, False, False]


def test_every_hit_is_a_copy_a_pass_may_change():
    cache = RenderCache()
    rendered = fresh_renderer().render(live_model_service(), live_base_config(), until="validate")
    cache.put("ns/sim-pd", inputs(), rendered)
    first = cache.get("ns/sim-pd", inputs())
    assert first is not None
    first.bodies[0]["metadata"]["name"] = "changed"
    first.context.stash[MARK] = True
    first.context.problems.clear()
    second = cache.get("ns/sim-pd", inputs())
    assert second is not None and second.bodies == rendered.bodies
    assert MARK not in second.context.stash


def test_a_render_that_is_not_json_is_not_kept():
    cache = RenderCache()
    rendered = fresh_renderer().render(live_model_service(), live_base_config(), until="validate")
    rendered.objects[0].body["metadata"]["annotations"] = {"odd": object()}
    cache.put("ns/sim-pd", inputs(), rendered)
    assert len(cache) == 0


def test_what_the_pass_adds_after_the_render_is_not_kept():
    """The apply stage stashes its report (every live child) in the context it was given."""
    cache = RenderCache()
    rendered = fresh_renderer().render(live_model_service(), live_base_config(), until="validate")
    cache.put("ns/sim-pd", inputs(), rendered)
    rendered.context.stash[MARK] = True
    rendered.context.problems.append(Problem("added later", "spec"))
    hit = cache.get("ns/sim-pd", inputs())
    assert hit is not None
    assert MARK not in hit.context.stash
    assert hit.context.problems == list(rendered.warnings)
