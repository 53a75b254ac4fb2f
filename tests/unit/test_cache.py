"""The controller's caches: a synced cache answers even when it holds nothing yet."""

from __future__ import annotations

from ms_controller.cache import Caches
from ms_controller.reflector import Reflector, Resource


def test_an_empty_synced_cache_of_all_namespaces_is_used():
    # An empty cache is falsy (it has a length); the lookup once fell through to "no cache"
    # and sent every read of a kind nobody had created yet to the API server.
    reflector = Reflector(None, Resource("v1", "configmaps"))  # type: ignore[arg-type]
    reflector.synced.set()
    caches = Caches()
    caches.add("ConfigMap", None, reflector)
    assert caches.of("v1", "ConfigMap", "team-a") is reflector
    assert reflector.select("team-a", {}) == []
