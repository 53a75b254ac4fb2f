"""A minimal HTTPS client for the launcher's own calls: readiness, /version and fake nodes.

The launcher needs a handful of requests before anything else can trust the plane, so it uses
the standard library with the admin client certificate rather than a full Kubernetes client.
"""

from __future__ import annotations

import http.client
import json
import ssl
from dataclasses import dataclass
from typing import Any

from ms_devcluster._pki import CertPair


@dataclass(frozen=True, kw_only=True)
class Response:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class ApiClient:
    """Requests to one API server on 127.0.0.1, authenticated by a client certificate."""

    def __init__(self, *, port: int, ca: CertPair, client: CertPair, timeout: float = 5.0) -> None:
        self.port = port
        self.timeout = timeout
        self._context = ssl.create_default_context(cafile=str(ca.cert))
        self._context.load_cert_chain(str(client.cert), str(client.key))

    def request(self, method: str, path: str, body: object | None = None) -> Response:
        """One request; raises OSError (including ssl and connection errors) when it cannot."""
        conn = http.client.HTTPSConnection(
            "127.0.0.1", self.port, context=self._context, timeout=self.timeout
        )
        try:
            headers = {"Accept": "application/json"}
            data = None
            if body is not None:
                data = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
            return Response(status=resp.status, body=resp.read())
        except http.client.HTTPException as exc:
            raise OSError(f"{method} {path}: {exc!r}") from exc
        finally:
            conn.close()


def probe(url: str, *, timeout: float = 2.0) -> int | None:
    """Status code of an unauthenticated GET (TLS not verified: a component's own self-signed
    health endpoint on 127.0.0.1), or None when nothing answers."""
    scheme, _, rest = url.partition("://")
    hostport, _, path = rest.partition("/")
    host, _, port = hostport.rpartition(":")
    conn: http.client.HTTPConnection
    if scheme == "https":
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection(host, int(port), context=context, timeout=timeout)
    else:
        conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request("GET", "/" + path)
        return conn.getresponse().status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()
