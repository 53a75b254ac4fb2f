"""The manager's HTTP endpoints: `/metrics` (Prometheus text), `/healthz` and `/readyz`.

`--metrics-addr` and `--health-addr` may name one address or two; each `Endpoints` serves the
routes given to it from a daemon thread, and `close` stops it. Port 0 picks a free port (tests).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

Check = Callable[[], tuple[bool, str]]
"""A probe: (passing, one line saying why)."""

Route = Callable[[], tuple[int, str, bytes]]


def probe_route(check: Check) -> Route:
    def route() -> tuple[int, str, bytes]:
        try:
            passing, reason = check()
        except Exception as error:  # a probe that breaks reports failure, never kills the server
            passing, reason = False, f"check failed: {error!r}"
        status = 200 if passing else 503
        return status, "text/plain; charset=utf-8", f"{'ok' if passing else reason}\n".encode()

    return route


def metrics_route(registry: CollectorRegistry) -> Route:
    def route() -> tuple[int, str, bytes]:
        return 200, CONTENT_TYPE_LATEST, generate_latest(registry)

    return route


def parse_address(address: str) -> tuple[str, int]:
    """`:8080` → ("0.0.0.0", 8080); `127.0.0.1:0` → ("127.0.0.1", 0)."""
    host, _, port = address.rpartition(":")
    if not port.isdigit():
        raise ValueError(f"{address!r} is not HOST:PORT (e.g. :8080 or 127.0.0.1:8080)")
    return host.strip("[]") or "0.0.0.0", int(port)


class Endpoints:
    def __init__(self, address: str, routes: Mapping[str, Route]) -> None:
        host, port = parse_address(address)
        table = dict(routes)

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                route = table.get(self.path.split("?", 1)[0])
                if route is None:
                    status, content_type, body = 404, "text/plain", b"not found\n"
                else:
                    status, content_type, body = route()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass  # probes every few seconds would drown the reconcile log

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self.host, self.port = host, int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"http-{self.port}", daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
