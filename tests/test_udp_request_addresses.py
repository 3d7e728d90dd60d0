"""udp_request (and its asyncio twin) try a name's addresses in order (issue 23).

A server on ``[::1]`` only, or on ``127.0.0.1`` only, answers a request to
``localhost:PORT``; a refused address is left at once, a silent one after its own
schedule. Loopback only; every wait is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import netbasics
from netbasics import ConnectError, Datagram, Endpoint, NetTimeoutError, UDPServer, aio

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ICMP port unreachable on loopback: Linux"),
]

LOOPBACK = {4: "127.0.0.1", 6: "::1"}
Request = Callable[..., Datagram]


def _sync(target: object, data: bytes, **kwargs: Any) -> Datagram:
    return netbasics.udp_request(target, data, **kwargs)  # type: ignore[arg-type]


def _aio(target: object, data: bytes, **kwargs: Any) -> Datagram:
    return asyncio.run(aio.udp_request(target, data, **kwargs))  # type: ignore[arg-type]


@pytest.fixture(params=[_sync, _aio], ids=["sync", "aio"])
def request_fn(request: pytest.FixtureRequest) -> Request:
    fn: Request = request.param
    return fn


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


needs_ipv6 = pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback here")


def _free_on(family: int, port: int) -> bool:
    af = socket.AF_INET if family == 4 else socket.AF_INET6
    with socket.socket(af, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind((LOOPBACK[family], port))
        except OSError:
            return False
    return True


def _echo(d: Datagram, reply: netbasics.Reply) -> None:
    reply(b"re:" + d.data)


@contextlib.contextmanager
def _server_on(family: int) -> Iterator[UDPServer]:
    """An echo server on one loopback address whose port is free on the other."""
    other = 6 if family == 4 else 4
    for _ in range(20):
        host = LOOPBACK[family] if family == 4 else f"[{LOOPBACK[family]}]"
        server = UDPServer(f"{host}:0", _echo)
        if _free_on(other, server.endpoint.port):
            with server:
                yield server
            return
        server.stop()
    pytest.skip("no port free on both loopback addresses")


def _resolver(order: list[str]) -> Callable[..., list[Any]]:
    """A getaddrinfo stand-in answering ``order`` (loopback addresses), in that order."""

    def lookup(host: str, port: int, family: int = 0, type: int = 0, *_: Any) -> list[Any]:
        infos: list[Any] = []
        for text in order:
            if ":" in text:
                infos.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (text, port, 0, 0)))
            else:
                infos.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (text, port)))
        return infos

    return lookup


@needs_ipv6
def test_server_on_ipv6_only_answers_localhost(request_fn: Request) -> None:
    with _server_on(6) as server:
        start = time.monotonic()
        got = request_fn(f"localhost:{server.endpoint.port}", b"q", timeout=5.0, retries=0)
        # 127.0.0.1 (first) was refused and left at once, not after its 5 s attempt.
        assert time.monotonic() - start < 2.5
    assert got.data == b"re:q"
    assert got.sender == Endpoint("::1", server.endpoint.port)


@needs_ipv6
def test_server_on_ipv4_only_answers_localhost(request_fn: Request) -> None:
    with _server_on(4) as server:
        got = request_fn(f"localhost:{server.endpoint.port}", b"q", timeout=5.0, retries=0)
    assert got.sender == Endpoint("127.0.0.1", server.endpoint.port)


@needs_ipv6
def test_addresses_are_tried_in_the_resolvers_order(request_fn: Request) -> None:
    with _server_on(4) as server:
        lookup = _resolver(["::1", "127.0.0.1"])  # IPv6 first, where nothing listens
        got = request_fn(f"svc.test:{server.endpoint.port}", b"q", timeout=5.0, retries=0, resolver=lookup)
    assert got.sender == Endpoint("127.0.0.1", server.endpoint.port)


@needs_ipv6
def test_a_silent_address_is_left_after_its_schedule(request_fn: Request) -> None:
    with _server_on(6) as server:
        port = server.endpoint.port
        # Bound, so no ICMP error: 127.0.0.1 just never answers.
        with netbasics.open_udp(bind=f"127.0.0.1:{port}", timeout=2.0) as silent:
            got = request_fn(f"localhost:{port}", b"q", timeout=0.05, retries=1, backoff=2.0)
            heard = [silent.recv_from().data for _ in range(2)]  # its whole schedule: 2 attempts
    assert got.sender == Endpoint("::1", port)
    assert heard == [b"q", b"q"]


@needs_ipv6
def test_nothing_listening_anywhere_is_refused(request_fn: Request) -> None:
    with _server_on(6) as server:
        port = server.endpoint.port
    with pytest.raises(ConnectError, match=r"request to localhost:\d+ failed: refused by all 2 addresses"):
        request_fn(f"localhost:{port}", b"q", timeout=0.05, retries=1)


@needs_ipv6
def test_silence_everywhere_times_out_naming_the_target(request_fn: Request) -> None:
    with netbasics.open_udp(bind="[::1]:0") as v6:
        port = v6.local.port
        if not _free_on(4, port):
            pytest.skip("port taken on 127.0.0.1")
        with netbasics.open_udp(bind=f"127.0.0.1:{port}") as v4:
            start = time.monotonic()
            with pytest.raises(NetTimeoutError, match=r"no reply after 1 attempt\(s\) to each of 2 addresses") as info:
                request_fn(f"localhost:{port}", b"q", timeout=0.05, retries=0)
            assert time.monotonic() - start < 0.1 + 2.0  # the two budgets, one after the other
            assert v4.socket.fileno() >= 0
    assert f"localhost:{port}" in str(info.value)
