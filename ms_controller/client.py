"""Building the manager's API client: kubeconfig or in-cluster, a connection pool as large as
the threads that share it, a client-side rate limit, and request counting.

The Python client has no rate limiter of its own (client-go's defaults are QPS 5, burst 10);
without one a controller catching up on 1000 ModelServices would hit the API server as fast as
its workers can, and with client-go's defaults it would take ten minutes. The token bucket here
is sized by `--qps/--burst`; the API server's priority and fairness still pushes back (429 with
Retry-After, retried by `kube.KubeCluster`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from ms_controller.metrics import ControllerMetrics


class TokenBucket:
    """`qps` tokens a second, at most `burst` saved up; `acquire` waits for one."""

    def __init__(
        self, qps: float, burst: int, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if qps <= 0 or burst < 1:
            raise ValueError(f"--qps must be > 0 and --burst >= 1 (got {qps}, {burst})")
        self.qps = qps
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._last = clock()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Take a token, sleeping until one is there; returns the seconds waited."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.qps)
            self._last = now
            self._tokens -= 1
            wait = -self._tokens / self.qps if self._tokens < 0 else 0.0
        if wait > 0:
            time.sleep(wait)
        return wait


def load_configuration(kubeconfig: str | None, context: str | None) -> client.Configuration:
    """From `kubeconfig` (or $KUBECONFIG, ~/.kube/config), else the in-cluster ServiceAccount."""
    configuration = client.Configuration()
    try:
        config.load_kube_config(  # type: ignore[no-untyped-call]
            config_file=kubeconfig, context=context, client_configuration=configuration
        )
    except config.ConfigException:
        if kubeconfig:
            raise
        config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
    return configuration


def make_api_client(
    configuration: client.Configuration,
    *,
    pool_size: int,
    limiter: TokenBucket | None = None,
    metrics: ControllerMetrics | None = None,
) -> client.ApiClient:
    """An ApiClient whose every request takes a token (watches excepted: they are long-lived
    and few) and is counted in `rest_client_requests_total`."""
    configuration.connection_pool_maxsize = pool_size
    api = client.ApiClient(configuration)
    host = urlparse(configuration.host).netloc
    original = api.call_api

    def call_api(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        if limiter is not None and "watch=true" not in url:
            limiter.acquire()
        code = "<error>"
        try:
            response = original(method, url, *args, **kwargs)
            code = str(response.status)
            return response
        except ApiException as error:
            code = str(error.status)
            raise
        finally:
            if metrics is not None:
                metrics.rest_requests.labels(code, method, host).inc()

    api.call_api = call_api  # type: ignore[method-assign]
    return api
