"""Templates run in bounded time and memory, each failure one error naming the key and line; the
compiled-template cache may be shared by threads."""

from __future__ import annotations

import threading
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor

import pytest
from support import DEPLOYMENT, base_config, model_service

from ms_engine.problems import RenderError
from ms_engine.template_limits import MAX_OUTPUT_CHARS, MAX_STEPS
from ms_engine.templating import TemplateEngine

HOSTILE = {
    "string times a billion": "{{ 'a' * 10**9 }}",
    "list times a billion": "{{ [1, 2] * 10**9 }}",
    "lipsum": "{{ lipsum(10**5) }}",
    "nested ranges": "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "nested loops over a variable": "{% set s = 'a' * 50000 %}{% for a in s %}{% for b in s %}{% endfor %}{% endfor %}",
    "doubling with ~": "{% set ns = namespace(s='a') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
    "doubling with +": "{% set ns = namespace(s='a') %}{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}{% endfor %}",
    "huge %-width": "{{ '%1000000000s' % 'a' }}",
    "huge format width": "{{ '{:>1000000000}'.format(1) }}",
    "huge center": "{{ 'a' | center(10**9) }}",
    "huge str.center": "{{ 'a'.center(10**9) }}",
    "huge indent": "{{ 'a' | indent(10**9, true) }}",
    "huge replace": "{{ ('a' * 900000).replace('', 'bb') }}",
    "huge slice": "{{ [1] | slice(10**9) | list }}",
    "huge power": "{{ 7 ** (10**9) }}",
    "endless recursion": "{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}",
    "too much output": "{% for i in range(99999) %}xxxxxxxxxxxxxxxxxxxx{% endfor %}",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_templates_fail_fast_in_bounded_memory_naming_the_key(name: str):
    engine = TemplateEngine()
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(RenderError) as caught:
            engine.render("decodeDeployment", "x: 1\ny: " + HOSTILE[name], {})
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert time.perf_counter() - start < 5
    assert peak < 50_000_000
    problem = caught.value.problem
    assert problem.where == "decodeDeployment"
    assert "\n" not in str(problem)
    if name != "too much output":
        assert problem.line == 2


def test_output_with_a_lone_surrogate_is_an_error_not_a_crash_at_printing():
    with pytest.raises(RenderError) as caught:
        TemplateEngine().render("spec.decode.containers[0].args[0]", "{{ '\\ud800' }}", {})
    assert "lone surrogate" in str(caught.value.problem)
    assert str(caught.value.problem).isascii()


def test_the_limits_leave_ordinary_templates_alone():
    engine = TemplateEngine()
    source = (
        "{% for i in range(3) %}{{ loop.index }}{{ 'x' ~ i }}{% endfor %} {{ 'ab' * 3 }} "
        "{{ 2 ** 64 }} {{ '%5s' % 'a' }} {{ 'a b' | replace('a', 'c') }} {{ 'x' | center(5) }}"
    )
    assert engine.render("k", source, {}) == "1x02x13x2 ababab 18446744073709551616     a c b   x  "


def test_loops_up_to_the_step_limit_run():
    engine = TemplateEngine()
    text = engine.render("k", f"{{% for i in range({MAX_STEPS // 2}) %}}{{% endfor %}}ok", {})
    assert text == "ok"
    assert len(engine.render("k", f"{{{{ 'a' * {MAX_OUTPUT_CHARS} }}}}", {})) == MAX_OUTPUT_CHARS


def test_the_budget_is_per_render_not_per_engine():
    engine = TemplateEngine()
    source = f"{{% for i in range({MAX_STEPS - 10}) %}}{{% endfor %}}"
    for _ in range(3):
        engine.render("k", source, {})


@pytest.mark.parametrize(
    "expression", ["{{ ModelNme | tojson }}", "{{ {'a': ModelNme} | tojson }}"]
)
def test_tojson_of_an_undefined_variable_names_it(render, expression):
    template = DEPLOYMENT.replace(
        "args: [", f"env: [{{name: a, value: {expression}}}]\n        args: ["
    )
    with pytest.raises(RenderError) as caught:
        render(model_service(), base_config(decodeDeployment=template))
    assert str(caught.value.problem) == "decodeDeployment: line 9: 'ModelNme' is undefined"


def test_one_engine_renders_correctly_from_many_threads():
    """The controller runs several workers on one Renderer: the template cache and the limits'
    budget must not mix renders up."""
    engine = TemplateEngine()
    sources = [
        f"{{{{ name }}}}-{index}-{{% for i in range(50) %}}{{% endfor %}}" for index in range(40)
    ]
    barrier = threading.Barrier(8)
    failures: list[str] = []

    def work(worker: int) -> None:
        barrier.wait()
        for round_ in range(30):
            for index, source in enumerate(sources):
                name = f"w{worker}r{round_}"
                text = engine.render(f"key{index}", source, {"name": name})
                if text != f"{name}-{index}-":
                    failures.append(text)
            # A hostile template in one thread must not spend another thread's budget.
            with pytest.raises(RenderError):
                engine.render(
                    "bomb",
                    "{% for i in range(100000) %}{% for j in range(100) %}{% endfor %}{% endfor %}",
                    {},
                )

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(work, range(8)))
    assert failures == []
    assert len(engine._compiled) == len(sources) + 1


def test_the_cache_stays_bounded_and_consistent_under_threads(monkeypatch):
    monkeypatch.setattr("ms_engine.templating._CACHE_SIZE", 16)
    engine = TemplateEngine()

    def work(worker: int) -> None:
        for index in range(200):
            source = f"{{{{ {worker} + {index} }}}}"
            assert engine.render(f"k{worker}-{index}", source, {}) == str(worker + index)

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(work, range(6)))
    assert len(engine._compiled) <= 16
