"""resolve(): literals and localhost without lookups, getaddrinfo (stubbed) for names."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import pytest

from netbasics import Endpoint, EndpointError, HostPort, ResolveError, Resolver, parse_endpoint, resolve

Info = tuple[socket.AddressFamily, socket.SocketKind, int, str, tuple[Any, ...]]


def _stub(result: list[Info] | OSError) -> Callable[..., list[Info]]:
    calls: list[tuple[object, ...]] = []

    def fake(*args: object) -> list[Info]:
        calls.append(args)
        if isinstance(result, OSError):
            raise result
        return result

    fake.calls = calls  # type: ignore[attr-defined]
    return fake


V4 = (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.0.2.1", 443))
V6 = (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("2001:db8::1", 443, 0, 0))
LL = (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("fe80::1%eth0", 443, 0, 2))


@pytest.fixture
def no_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if the system resolver is asked anything."""

    def forbidden(*args: object) -> list[Info]:
        raise AssertionError(f"getaddrinfo called with {args}")

    # The default resolver is socket.getaddrinfo, looked up at each call.
    monkeypatch.setattr(socket, "getaddrinfo", forbidden)


@pytest.mark.usefixtures("no_dns")
def test_literals_are_not_looked_up() -> None:
    assert resolve("192.0.2.7", 80) == [Endpoint("192.0.2.7", 80)]
    assert resolve("::1", 80) == [Endpoint("::1", 80)]
    assert resolve("[2001:db8::5]", 1) == [Endpoint("2001:db8::5", 1)]
    assert resolve(HostPort("10.0.0.1", 5)) == [Endpoint("10.0.0.1", 5)]
    assert resolve(HostPort("10.0.0.1", 5), 6) == [Endpoint("10.0.0.1", 6)]
    with pytest.raises(ResolveError, match="is an IPv4 address, not IPv6"):
        resolve("10.0.0.1", 5, family=6)


@pytest.mark.usefixtures("no_dns")
@pytest.mark.parametrize("name", ["localhost", "LOCALHOST", "localhost.", "api.localhost"])
def test_localhost_without_dns(name: str) -> None:
    # RFC 6761 section 6.3: localhost names resolve to loopback, never via DNS.
    found = resolve(name, 8080)
    assert Endpoint("127.0.0.1", 8080) in found
    assert all(ep.address.is_loopback for ep in found)
    assert resolve(name, 1, family=4) == [Endpoint("127.0.0.1", 1)]
    assert resolve(name, 1, family=socket.AF_INET) == [Endpoint("127.0.0.1", 1)]
    if socket.has_ipv6:
        assert resolve(name, 1, family=6) == [Endpoint("::1", 1)]


def test_names_use_getaddrinfo_in_order_without_duplicates() -> None:
    fake = _stub([V6, V4, V6, LL])
    assert resolve("example.com", 443, resolver=fake) == [
        Endpoint("2001:db8::1", 443),
        Endpoint("192.0.2.1", 443),
        parse_endpoint("[fe80::1%eth0]:443"),
    ]
    assert fake.calls[0][:3] == ("example.com", 443, socket.AF_UNSPEC)  # type: ignore[attr-defined]
    assert resolve("example.com", 443, family=4, resolver=fake) == [Endpoint("192.0.2.1", 443)]


def test_family_filter_and_non_ip_results() -> None:
    odd = (socket.AF_UNIX, socket.SOCK_STREAM, 0, "", ("/tmp/x",))
    assert resolve("example.com", 1, resolver=_stub([odd, V4])) == [Endpoint("192.0.2.1", 443)]
    with pytest.raises(ResolveError, match="no IPv6 address"):
        resolve("example.com", 443, family=6, resolver=_stub([V4]))
    with pytest.raises(ResolveError, match="no IP address"):
        resolve("example.com", 443, resolver=_stub([]))


def test_lookup_failure_is_resolve_error() -> None:
    failure = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    with pytest.raises(ResolveError, match=r"no-such\.example: Name or service not known") as info:
        resolve("no-such.example", 80, resolver=_stub(failure))
    assert info.value.__cause__ is failure
    assert isinstance(info.value, OSError)
    with pytest.raises(ResolveError, match="weird"):
        resolve("example.com", 80, resolver=_stub(OSError(5, "weird")))


def test_system_getaddrinfo_is_a_resolver() -> None:
    # The Protocol's shape is getaddrinfo's: mypy checks this assignment.
    system: Resolver = socket.getaddrinfo
    assert resolve("localhost", 1, resolver=system)[0].address.is_loopback


@pytest.mark.usefixtures("no_dns")
def test_injected_resolver_is_the_only_one_asked() -> None:
    fake = _stub([V4])
    assert resolve("example.com", 80, resolver=fake) == [Endpoint("192.0.2.1", 443)]
    assert len(fake.calls) == 1  # type: ignore[attr-defined]
    # Literals and localhost never reach it.
    resolve("192.0.2.9", 80, resolver=fake)
    resolve("localhost", 80, resolver=fake)
    assert len(fake.calls) == 1  # type: ignore[attr-defined]


@pytest.mark.usefixtures("no_dns")
def test_bad_input() -> None:
    with pytest.raises(ValueError, match="family must be"):
        resolve("localhost", 1, family=5)
    with pytest.raises(EndpointError):
        resolve("bad host", 1)
    with pytest.raises(EndpointError, match="neither a host name"):
        resolve("127.1", 80)  # would be 127.0.0.1 to getaddrinfo
    with pytest.raises(EndpointError, match="bad port"):
        resolve("localhost", 70000)


def _loopback(
    host: str, port: int | None, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0
) -> list[Info]:
    return [(socket.AF_INET, socket.SOCK_DGRAM, 17, "", ("127.0.0.1", port or 0))]


@pytest.mark.usefixtures("no_dns")
def test_udp_takes_a_resolver() -> None:
    import threading

    from netbasics import open_udp, udp_request

    with open_udp(bind="svc.test:0", resolver=_loopback, timeout=5) as server:
        assert str(server.local).startswith("127.0.0.1:")
        port = server.local.port

        def answer() -> None:
            got = server.recv_from()
            server.send_to(got.data.upper(), got.sender)

        thread = threading.Thread(target=answer)
        thread.start()
        try:
            with open_udp(connect=f"svc.test:{port}", resolver=_loopback) as client:
                assert client.remote == Endpoint("127.0.0.1", port)
            reply = udp_request(f"svc.test:{port}", b"hi", timeout=2, retries=0, resolver=_loopback)
        finally:
            thread.join(5)
    assert reply.data == b"HI"
