"""Loopback HTTP(S) servers and a counting resolver for the HTTP guard's tests (any client).

* :class:`Server`: a ``ThreadingHTTPServer`` on loopback that counts the connections it
  accepts. Paths: ``/`` answers ``ok <name>``; ``/redirect?to=URL`` (and ``code=``)
  redirects; ``/headers`` answers the request's headers as JSON; anything with an
  absolute-form request line (a proxy request) answers ``proxied``. HTTP/1.1 keep-alive.
* :func:`tls_server`: the same over TLS with a ``trustme`` certificate for given names,
  recording the SNI names the clients sent.
* :class:`CountingResolver`: a :class:`netbasics.Resolver` from a table, counting calls;
  a name with several answer lists uses them in turn (DNS rebinding).
* :func:`loopback_policy`: loopback (127.0.0.1 only) allowed on one port only.
"""

from __future__ import annotations

import http.server
import json
import socket
import ssl
import threading
from collections.abc import Sequence
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

from netbasics import DestinationPolicy

Info = tuple[int, int, int, str, tuple[Any, ...]]
_S = TypeVar("_S", bound="Server")


class CountingResolver:
    """A name -> answers table that is a :class:`netbasics.Resolver`; ``calls`` lists every lookup."""

    def __init__(self, table: dict[str, list[list[str]]] | None = None) -> None:
        self.table = dict(table or {})
        self.calls: list[str] = []

    def __call__(
        self, host: str, port: int | None, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0
    ) -> Sequence[Info]:
        self.calls.append(host)
        answers = self.table.get(host)
        if not answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        current = answers[0] if len(answers) == 1 else answers.pop(0)
        out: list[Info] = []
        for text in current:
            if ":" in text:
                out.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (text, port or 0, 0, 0)))
            else:
                out.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (text, port or 0)))
        return out


def loopback_policy(port: int) -> DestinationPolicy:
    """127.0.0.1 on ``port`` only: every other address and port is refused."""
    return DestinationPolicy(allow=["127.0.0.1"], allowed_ports=[port])


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _CountingHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet tests

    def _send(self, code: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(code)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self) -> None:
        self.server.requests.append(self.path)
        if "://" in self.path:
            self._send(200, b"proxied")
            return
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        if parts.path == "/redirect":
            code = int(query.get("code", ["302"])[0])
            self._send(code, b"", {"Location": query["to"][0]})
        elif parts.path == "/headers":
            self._send(200, json.dumps(dict(self.headers.items())).encode())
        else:
            self._send(200, f"ok {self.server.name}".encode())

    do_HEAD = do_GET


class _CountingHTTPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], name: str) -> None:
        self.name = name
        self.accepts = 0
        self.requests: list[str] = []
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.address_family = family
        super().__init__(address, _Handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, peer = super().get_request()
        self.accepts += 1
        return sock, peer


class Server:
    """A loopback HTTP server in a thread; ``accepts`` counts its connections."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, name: str = "server", context: ssl.SSLContext | None = None
    ) -> None:
        self.httpd = _CountingHTTPServer((host, port), name)
        if context is not None:
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.host = host
        self.port: int = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    @property
    def accepts(self) -> int:
        return self.httpd.accepts

    @property
    def requests(self) -> list[str]:
        return self.httpd.requests

    def url(self, path: str = "/", host: str | None = None, scheme: str = "http") -> str:
        shown = host or (f"[{self.host}]" if ":" in self.host else self.host)
        return f"{scheme}://{shown}:{self.port}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(5)

    def __enter__(self: _S) -> _S:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class TLSServer(Server):
    """:class:`Server` over TLS; ``sni`` lists the server names clients sent."""

    def __init__(self, cert: Any, host: str = "127.0.0.1", name: str = "tls") -> None:
        self.sni: list[str | None] = []
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(context)

        def record(sslobj: ssl.SSLObject, server_name: str | None, ctx: ssl.SSLContext) -> None:
            self.sni.append(server_name)

        context.sni_callback = record
        super().__init__(host, 0, name, context)

    def url(self, path: str = "/", host: str | None = None, scheme: str = "https") -> str:
        return super().url(path, host, scheme)
