"""Which API server answers are retried (bounded) and which are not: no server needed."""

from __future__ import annotations

import pytest
from kubernetes.client.exceptions import ApiException

from ms_controller import kube
from ms_engine.cluster import ApplyRefused, Unavailable


class Response:
    def __init__(self, status: int, body: str = "{}", headers: dict | None = None) -> None:
        self.status, self.reason, self.data = status, "reason", body.encode()
        self.headers = headers or {}

    def getheaders(self) -> dict:
        return self.headers


def failing(*statuses: int, headers: dict | None = None):
    calls = []

    def call(*args, **kwargs):
        calls.append(kwargs)
        status = statuses[min(len(calls) - 1, len(statuses) - 1)]
        if status == 200:
            return Response(200, '{"ok": true}')
        raise ApiException(http_resp=Response(status, '{"message": "m"}', headers))

    return call, calls


@pytest.fixture()
def cluster(monkeypatch) -> kube.KubeCluster:
    monkeypatch.setattr(kube, "_BACKOFF", lambda state: 0.0)
    return kube.KubeCluster.__new__(kube.KubeCluster)


def test_429_and_5xx_are_retried_then_succeed(cluster):
    call, calls = failing(429, 503, 200, headers={"Retry-After": "0"})
    assert cluster._call("x", call) == {"ok": True}
    assert len(calls) == 3 and calls[0]["_preload_content"] is False


def test_retries_are_bounded(cluster):
    call, calls = failing(503)
    with pytest.raises(Unavailable):
        cluster._call("x", call)
    assert len(calls) == 5


@pytest.mark.parametrize("status", [400, 403, 409, 422])
def test_permanent_refusals_are_not_retried(cluster, status):
    call, calls = failing(status)
    with pytest.raises(ApplyRefused) as refused:
        cluster._call("apply Service/x", call)
    assert len(calls) == 1 and refused.value.status == status
    assert str(refused.value) == "apply Service/x: m"


def test_retry_after_is_honoured(cluster):
    error = ApiException(http_resp=Response(429, headers={"Retry-After": "3"}))

    class State:
        class outcome:
            @staticmethod
            def exception():
                return error

    assert kube._wait(State()) == 3.0


def test_a_schema_refusal_sent_as_500_is_not_retried(cluster):
    calls = []

    def call(*args, **kwargs):
        calls.append(1)
        body = '{"message": "failed to create typed patch object (x): .spec.y: field not declared"}'
        raise ApiException(http_resp=Response(500, body))

    with pytest.raises(ApplyRefused):
        cluster._call("apply", call)
    assert len(calls) == 1
