"""Loopback HTTP(S) servers, counting resolvers and the URL corpus for every HTTP guard test.

The stdlib guard's tests (``test_http_guard*.py``) and the adapters' (``test_http_adapters_*.py``)
share them. The "public" server is 127.0.0.1 on one port, the only destination the test policy
allows; "internal" listeners (127.0.0.2, or 127.0.0.1 on other ports) count their accepts,
which must stay 0. Names resolve through :class:`FakeResolver`, which counts its calls and
can change its answer between calls (DNS rebinding).

:class:`CountingServer` paths: ``/`` answers its ``greeting``; ``/redirect?to=URL`` (and
``code=``) redirects; ``/set-cookie?to=URL`` sets a cookie and redirects; ``/big`` sends 4 MB;
``/headers`` answers the request's headers as JSON (names in lower case); a request in
absolute form (a proxy request) answers ``proxied``. HTTP/1.1 keep-alive; HEAD too.
"""

from __future__ import annotations

import http.server
import json
import socket
import ssl
import threading
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import netbasics

NAME = "public.test"  # the name on the test certificate; resolves to the public server
OTHER_NAME = "other.test"  # resolves to the public server too, but is not on the certificate


class _Handler(http.server.BaseHTTPRequestHandler):
    server: CountingServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        # Recorded before the reply: once a client has its answer, the request is listed.
        self.server.targets.append(self.path)
        self.server.requests.append((url.path, {k.lower(): v for k, v in self.headers.items()}))
        if not self.path.startswith("/"):  # absolute form: a request sent to a proxy
            self._reply(200, b"proxied", {})
        elif url.path == "/redirect":
            self._reply(int(query.get("code", "302")), b"", {"Location": query["to"]})
        elif url.path == "/set-cookie":
            self._reply(302, b"", {"Set-Cookie": "session=secret; Path=/", "Location": query["to"]})
        elif url.path == "/big":  # held open until read: a client keeps the connection meanwhile
            self._reply(200, b"x" * 4_000_000, {"Content-Type": "application/octet-stream"})
        elif url.path == "/headers":
            body = json.dumps({k.lower(): v for k, v in self.headers.items()}).encode()
            self._reply(200, body, {"Content-Type": "application/json"})
        else:
            self._reply(200, self.server.greeting, {"Content-Type": "text/plain"})

    do_HEAD = do_GET

    def _reply(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class CountingServer(http.server.ThreadingHTTPServer):
    """An HTTP server that counts the connections it accepts and records each request.

    ``requests`` lists each request's path and headers, ``targets`` its target as sent;
    with ``tls``, ``sni`` lists the server names clients sent. Run it with :func:`serving`.
    """

    daemon_threads = True
    block_on_close = False

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, tls: ssl.SSLContext | None = None, greeting: bytes = b"public"
    ) -> None:
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.accepts = 0
        self.greeting = greeting
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.targets: list[str] = []
        self.tls = tls
        self.sni: list[str | None] = []
        super().__init__((host, port), _Handler)
        if tls is not None:
            tls.sni_callback = self._record_sni

    def _record_sni(self, sock: ssl.SSLObject | ssl.SSLSocket, name: str | None, ctx: ssl.SSLContext) -> None:
        self.sni.append(name)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, addr = self.socket.accept()
        self.accepts += 1
        if self.tls is not None:
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client refusing the certificate resets the handshake: expected in the tests

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def url(self, path: str = "/", host: str | None = None) -> str:
        scheme = "http" if self.tls is None else "https"
        address = str(self.server_address[0])
        shown = host if host is not None else (f"[{address}]" if ":" in address else address)
        return f"{scheme}://{shown}:{self.port}{path}"


class Listener:
    """A bare TCP listener that counts accepts and closes each connection (internal, proxy)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(16)
        self.sock.settimeout(0.05)
        self.port = int(self.sock.getsockname()[1])
        self.accepts = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.accepts += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()


@contextmanager
def serving(server: CountingServer) -> Iterator[CountingServer]:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@contextmanager
def listening(host: str = "127.0.0.1", port: int = 0) -> Iterator[Listener]:
    listener = Listener(host, port)
    try:
        yield listener
    finally:
        listener.close()


_AddrInfo = tuple[int, int, int, str, tuple[Any, ...]]


class FakeResolver:
    """A resolver with ``socket.getaddrinfo``'s signature that counts its calls.

    ``answers`` maps a name to the addresses of each successive call (the last repeats);
    other names go to the system resolver (which turns ``2130706433`` into 127.0.0.1), or
    fail as unknown where ``system`` is false (:class:`CountingResolver`).
    """

    system = True

    def __init__(self, answers: dict[str, Sequence[Sequence[str]]] | None = None) -> None:
        self.answers = {k.lower(): list(v) for k, v in (answers or {}).items()}
        self.calls: list[str] = []

    def __call__(
        self, host: str, port: int | None, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0
    ) -> list[_AddrInfo]:
        self.calls.append(host)
        queue = self.answers.get(host.lower().rstrip("."))
        if queue is None:
            if not self.system:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
            return list(socket.getaddrinfo(host, port, family, type or socket.SOCK_STREAM, proto, flags))
        addresses = queue.pop(0) if len(queue) > 1 else queue[0]
        infos: list[_AddrInfo] = []
        for address in addresses:
            if ":" in address:
                infos.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port or 0, 0, 0)))
            else:
                infos.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port or 0)))
        return infos


class CountingResolver(FakeResolver):
    """A :class:`FakeResolver` that knows only its table: any other name fails to resolve."""

    system = False


def policy_for(*ports: int) -> netbasics.DestinationPolicy:
    """The test policy: 127.0.0.1 only, on ``ports`` only."""
    return netbasics.DestinationPolicy(allow=["127.0.0.1"], allowed_ports=ports)


class Refusals:
    """An ``on_refusal`` hook that keeps what it is given."""

    def __init__(self) -> None:
        self.seen: list[netbasics.UnsafeDestination] = []

    def __call__(self, exc: netbasics.UnsafeDestination) -> None:
        self.seen.append(exc)


#: Hosts that spell a loopback address in disguise, or name one (the last two resolve to an
#: internal address through each test's resolver): every guard refuses them all before any
#: connection. Each test suite adds the forms its own entry point takes.
DISGUISED_HOSTS: tuple[str, ...] = (
    "2130706433",
    "0x7f000001",
    "017700000001",
    "127.1",
    "127.0.0.1.",
    "[::ffff:127.0.0.1]",
    "[::127.0.0.1]",
    "[64:ff9b::7f00:1]",
    "[2002:7f00:1::]",
    "[2001:0:4136:e378:8000:63bf:80ff:fffe]",  # Teredo, client 127.0.0.1 obfuscated
    "[fe80::1%25lo]",
    "[example.com]",
    "[]",
    "%31%32%37.0.0.1",
    "xn--bcher-kva.test",  # an IDNA name, resolving to an internal address
    "b\u00fccher.test",  # the same name in Unicode
)


def corpus(port: int) -> list[str]:
    """URLs that name an internal address in some disguise, all on ``port``.

    Each must be refused before any connection, under the strict default policy.
    """
    hosts = [
        *DISGUISED_HOSTS,
        "127.0.0.1",
        "localhost",
        "[::1]",
        "allowed@127.0.0.1",
        "allowed:pw@127.0.0.1",
        "localhost.",
        "internal.test.",
    ]
    return [f"http://{host}:{port}/" for host in hosts] + [f"http://[::ffff:7f00:1]:{port}/x"]


#: Names the corpus uses that only the fake resolver knows, all internal.
CORPUS_NAMES: dict[str, Sequence[Sequence[str]]] = {
    "internal.test": [["127.0.0.1"]],
    "xn--bcher-kva.test": [["127.0.0.1"]],
    "bücher.test": [["127.0.0.1"]],
}


def tls_setup() -> tuple[Any, ssl.SSLContext]:
    """A trustme CA and a server context with a certificate for :data:`NAME`."""
    import trustme

    ca = trustme.CA()
    return ca, server_context(ca)


def server_context(ca: Any) -> ssl.SSLContext:
    """A server context with a certificate from ``ca`` for :data:`NAME`."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(NAME).configure_cert(context)
    return context


def client_context(ca: Any) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)
    return ctx


Fetch = Callable[..., Any]
