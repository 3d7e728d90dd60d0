"""Endpoints and host:port parsing: tables of RFC 3986 forms, round trips, every error path."""

from __future__ import annotations

import copy
import ipaddress
import pickle
import socket

import pytest
from hypothesis import given
from hypothesis import strategies as st

import netbasics
from netbasics import Endpoint, EndpointError, HostPort, IPv4Address, IPv6Address, parse_endpoint, parse_host_port
from netbasics.endpoints import coerce_target

# (text, address text, port, str() of the result)
VALID = [
    ("1.2.3.4:80", "1.2.3.4", 80, "1.2.3.4:80"),
    ("0.0.0.0:0", "0.0.0.0", 0, "0.0.0.0:0"),
    ("255.255.255.255:65535", "255.255.255.255", 65535, "255.255.255.255:65535"),
    ("[2001:db8::1]:443", "2001:db8::1", 443, "[2001:db8::1]:443"),
    ("[2001:DB8:0:0:0:0:0:1]:443", "2001:db8::1", 443, "[2001:db8::1]:443"),
    ("[::]:8080", "::", 8080, "[::]:8080"),
    ("[fe80::1%eth0]:80", "fe80::1%eth0", 80, "[fe80::1%eth0]:80"),
    ("[::ffff:1.2.3.4]:1", "::ffff:1.2.3.4", 1, "[::ffff:1.2.3.4]:1"),
]

INVALID = [
    ("2001:db8::1:80", "ambiguous IPv6 endpoint '2001:db8::1:80': write it as '[2001:db8::1]:80'"),
    ("1.2.3.4", "missing ':PORT'"),
    ("1.2.3.4:", "bad port"),
    ("1.2.3.4:65536", "bad port"),
    ("1.2.3.4:080", "bad port"),
    ("1.2.3.4:+80", "bad port"),
    (":80", "missing host"),
    ("[2001:db8::1]", "expected ':PORT' after ']'"),
    ("[2001:db8::1:80", "missing ']'"),
    ("[2001:db8::1]80", "expected ':PORT' after ']'"),
    ("[1.2.3.4]:80", "bad address"),
    ("010.0.0.1:80", "leading zero"),
    ("localhost:80", "'localhost' in 'localhost:80' is a host name, not an IP address"),
    ("1.2.3.x:80", "is a host name, not an IP address"),
    ("1.2.3.999:80", "bad address in endpoint"),
    ("", "missing ':PORT'"),
]


@pytest.mark.parametrize(("text", "address", "port", "canonical"), VALID)
def test_parse_valid(text: str, address: str, port: int, canonical: str) -> None:
    ep = parse_endpoint(text)
    assert str(ep.address) == address
    assert ep.port == port
    assert str(ep) == canonical
    # Invariants on every row: parse is pure and str() round trips.
    assert parse_endpoint(canonical) == ep
    assert parse_endpoint(str(ep)) == ep
    assert eval(repr(ep), {"Endpoint": Endpoint}) == ep
    assert parse_endpoint(text) == ep
    assert parse_host_port(text).to_endpoint() == ep


@pytest.mark.parametrize(("text", "message"), INVALID)
def test_parse_invalid(text: str, message: str) -> None:
    with pytest.raises(EndpointError, match=message.replace("[", r"\[").replace("]", r"\]")) as info:
        parse_endpoint(text)
    assert isinstance(info.value, ValueError)
    if text:
        assert repr(text)[:20] in str(info.value) or text in str(info.value)


def test_parse_needs_str() -> None:
    with pytest.raises(TypeError):
        parse_endpoint(b"1.2.3.4:80")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        parse_host_port(80)  # type: ignore[arg-type]


@given(st.integers(0, 2**32 - 1), st.integers(0, 65535))
def test_v4_round_trip(ip: int, port: int) -> None:
    ep = Endpoint(IPv4Address(ip), port)
    assert parse_endpoint(str(ep)) == ep
    assert Endpoint.from_sockaddr(ep.sockaddr) == ep


@given(st.integers(0, 2**128 - 1), st.integers(0, 65535), st.sampled_from([None, "eth0", "3"]))
def test_v6_round_trip(ip: int, port: int, zone: str | None) -> None:
    ep = Endpoint(IPv6Address(ip, zone), port)
    assert parse_endpoint(str(ep)) == ep
    assert parse_host_port(str(ep)).to_endpoint() == ep
    # stdlib before 3.13 writes IPv4-mapped addresses in hex (::ffff:0:0); RFC 5952 section 5
    # and netbasics use the dotted form, so compare values, then the bracketed layout.
    text = str(IPv6Address(ip))
    assert ipaddress.IPv6Address(text) == ipaddress.IPv6Address(ip)
    assert str(ep) == f"[{text}{'%' + zone if zone else ''}]:{port}"


def test_sockaddr_forms() -> None:
    assert parse_endpoint("1.2.3.4:5").sockaddr == ("1.2.3.4", 5)
    assert parse_endpoint("[::1]:5").sockaddr == ("::1", 5, 0, 0)
    assert Endpoint.from_sockaddr(("::1", 5, 0, 0)) == Endpoint("::1", 5)
    assert Endpoint.from_sockaddr(("fe80::1", 5, 0, 7)) == parse_endpoint("[fe80::1%7]:5")
    assert Endpoint.from_sockaddr(("fe80::1%lo", 5, 0, 1)) == parse_endpoint("[fe80::1%lo]:5")


def test_from_real_socket() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        ep = Endpoint.from_sockaddr(sock.getsockname())
        assert ep.address == IPv4Address("127.0.0.1")
        assert ep.port == sock.getsockname()[1]


@pytest.mark.parametrize("bad", [("1.2.3.4",), ("1.2.3.4", 1, 2), ("nope", 5), ("1.2.3.4", -1)])
def test_from_sockaddr_rejects(bad: object) -> None:
    with pytest.raises(EndpointError):
        Endpoint.from_sockaddr(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [(1, 2), "1.2.3.4:5", (b"1.2.3.4", 5), None, ("1.2.3.4", 80.0)])
def test_from_sockaddr_wrong_types(bad: object) -> None:
    with pytest.raises(TypeError):
        Endpoint.from_sockaddr(bad)  # type: ignore[arg-type]


def test_constructor_and_values() -> None:
    ep = Endpoint("127.0.0.1", 80)
    assert ep == Endpoint(IPv4Address("127.0.0.1"), 80)
    assert ep == Endpoint(ipaddress.ip_address("127.0.0.1"), 80)
    assert ep.version == 4
    assert Endpoint("::1", 1).version == 6
    assert ep.with_port(81) == Endpoint("127.0.0.1", 81)
    assert hash(ep) == hash(Endpoint("127.0.0.1", 80))
    assert ep != "127.0.0.1:80"
    assert sorted([Endpoint("::1", 1), Endpoint("10.0.0.1", 2), Endpoint("10.0.0.1", 1)]) == [
        Endpoint("10.0.0.1", 1),
        Endpoint("10.0.0.1", 2),
        Endpoint("::1", 1),
    ]
    assert Endpoint("10.0.0.1", 1) <= Endpoint("10.0.0.1", 1) < Endpoint("10.0.0.2", 0)
    assert Endpoint("10.0.0.2", 0) >= Endpoint("10.0.0.1", 1) > Endpoint("10.0.0.1", 0)
    assert pickle.loads(pickle.dumps(ep)) == ep
    assert copy.deepcopy(ep) == ep
    with pytest.raises(AttributeError):
        ep.port = 1  # type: ignore[misc]
    with pytest.raises(EndpointError, match="bad address"):
        Endpoint("1.2.3", 80)
    with pytest.raises(EndpointError, match="bad port"):
        Endpoint("1.2.3.4", 70000)
    with pytest.raises(TypeError, match="is a bool"):
        Endpoint("1.2.3.4", True)
    with pytest.raises(TypeError, match="needs a port"):
        Endpoint(IPv4Address(1))


# --- HostPort -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "host", "port", "is_literal"),
    [
        ("localhost:8080", "localhost", 8080, False),
        ("Example.COM:443", "example.com", 443, False),
        ("example.com.:443", "example.com.", 443, False),
        ("_sip._tcp.example.com:5060", "_sip._tcp.example.com", 5060, False),
        ("a-b.c1:1", "a-b.c1", 1, False),
        ("x.0x10:1", "x.0x10", 1, False),
        ("10.0.0.1:22", "10.0.0.1", 22, True),
        ("[::1]:80", "::1", 80, True),
        ("[fe80::1%eth0]:80", "fe80::1%eth0", 80, True),
    ],
)
def test_hostport_valid(text: str, host: str, port: int, is_literal: bool) -> None:
    hp = parse_host_port(text)
    assert (hp.host, hp.port, hp.address is not None) == (host, port, is_literal)
    assert parse_host_port(str(hp)) == hp
    assert eval(repr(hp), {"HostPort": HostPort}) == hp
    assert pickle.loads(pickle.dumps(hp)) == hp
    assert hash(hp) == hash(parse_host_port(str(hp)))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-bad.example:80", "bad host name label"),
        ("bad-.example:80", "bad host name label"),
        ("a..b:80", "bad host name label"),
        ("ex ample:80", "bad host name label"),
        ("exämple.com:80", "not ASCII"),
        (("a" * 64) + ".com:80", "bad host name label"),
        (".:80", "1 to 253 characters"),
        ("[nope]:80", "bad address"),
        ("2001:db8::1:80", "ambiguous"),
        # Legacy inet_aton() spellings are not names: the resolver would read them as addresses.
        ("127.1:80", "neither a host name nor a valid IPv4 address"),
        ("2130706433:80", "neither a host name nor a valid IPv4 address"),
        ("0x7f.1:80", "neither a host name nor a valid IPv4 address"),
        ("010.0.0.1:80", "leading zero"),
        ("1.2.3.4.5:80", "neither a host name"),
        ("example.123:80", "neither a host name"),
        ("example.com:http", "bad port"),
    ],
)
def test_hostport_invalid(text: str, message: str) -> None:
    with pytest.raises(EndpointError, match=message):
        parse_host_port(text)


def test_hostport_details() -> None:
    assert HostPort("localhost", 1).is_localhost
    assert HostPort("api.localhost.", 1).is_localhost
    assert not HostPort("localhost.example", 1).is_localhost
    assert HostPort("[::1]", 5).address == IPv6Address(1)
    assert str(HostPort("::1", 5)) == "[::1]:5"
    with pytest.raises(EndpointError, match="resolve it first"):
        HostPort("example.com", 1).to_endpoint()
    with pytest.raises(EndpointError, match="bad IPv6 literal"):
        HostPort("[example.com]", 1)
    with pytest.raises(TypeError):
        HostPort(b"x", 1)  # type: ignore[arg-type]
    with pytest.raises(AttributeError):
        HostPort("x", 1).port = 2  # type: ignore[misc]
    assert HostPort("x", 1) != ("x", 1)


# --- one parser per type, and the package-internal target normaliser -------------------


def test_parsers_are_functions_not_classmethods() -> None:
    # Issue 15: module-level parse_* functions are the one way to read text.
    assert not hasattr(Endpoint, "parse")
    assert not hasattr(HostPort, "parse")
    assert netbasics.parse_endpoint is parse_endpoint
    assert netbasics.parse_host_port is parse_host_port
    # The text constructors stay, delegating, so that repr() evaluates back.
    assert Endpoint("[::1]:80") == parse_endpoint("[::1]:80")
    assert HostPort("example.com:80") == parse_host_port("example.com:80")


@pytest.mark.parametrize("value", [("127.0.0.1", 80), Endpoint("127.0.0.1", 80), HostPort("x", 1), 80, None])
def test_parse_endpoint_takes_only_text(value: object) -> None:
    with pytest.raises(TypeError, match="needs str"):
        parse_endpoint(value)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="needs str"):
        parse_host_port(value)  # type: ignore[arg-type]


def test_coerce_target_forms() -> None:
    ep = Endpoint("127.0.0.1", 80)
    assert coerce_target(ep) is ep
    assert coerce_target("127.0.0.1:80") == ep
    assert coerce_target(("127.0.0.1", 80)) == ep
    assert coerce_target((IPv4Address("127.0.0.1"), 80)) == ep
    assert coerce_target(("::1", 80, 0, 0)) == Endpoint("::1", 80)
    assert coerce_target(("localhost", 80)) == HostPort("localhost", 80)
    assert coerce_target(HostPort("10.0.0.1", 5)) == Endpoint("10.0.0.1", 5)
    with pytest.raises(TypeError, match="expected an Endpoint"):
        coerce_target(80)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        coerce_target(("a", 1, 2))  # type: ignore[arg-type]


# --- messages stay short whatever the input ----------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "1:" * 500_000 + "80",  # the ambiguous-IPv6 hint used to repeat the whole host
        "[" + "1:" * 500_000 + "]:80",
        "a" * 1_000_000 + ":80",
        ("a" * 63 + ".") * 3 + "a" * 250 + ":80",
        "x." * 100 + "-bad" + ":80",
        "1.2.3.4:" + "9" * 100_000,
        "1.2.3.4:" + "x" * 100_000,
    ],
    ids=lambda t: f"{t[:12]}...{len(t)}",
)
def test_huge_text_gives_a_short_message(text: str) -> None:
    for parse in (parse_endpoint, parse_host_port):
        with pytest.raises(EndpointError) as info:
            parse(text)
        assert len(str(info.value)) <= 300, str(info.value)[:400]


def test_huge_port_int() -> None:
    with pytest.raises(EndpointError, match="out of range") as info:
        Endpoint("1.2.3.4", 10**5000)
    assert len(str(info.value)) <= 300
    with pytest.raises(EndpointError) as info:
        HostPort("example.com", -(10**5000))
    assert len(str(info.value)) <= 300
