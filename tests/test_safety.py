"""Destination safety (SSRF guard): bypass table, properties, resolver stubs."""

from __future__ import annotations

import socket

import pytest
from hypothesis import given
from hypothesis import strategies as st

import netbasics
from netbasics import (
    AddressError,
    AddressSet,
    DestinationPolicy,
    EndpointError,
    IPv4Address,
    IPv6Address,
    NetbasicsError,
    ResolveError,
    UnsafeDestination,
    UnsafeReason,
    check_destination,
    is_safe_destination,
    is_valid_address,
    parse_address,
    parse_endpoint,
    resolve,
)

# (destination, expected fragment of the reason). Every row must be refused by default.
BYPASSES: list[tuple[str, str]] = [
    # loopback in every spelling that parses as an address
    ("127.0.0.1", "loopback (RFC 1122"),
    ("127.1.2.3", "loopback"),
    ("127.255.255.254", "loopback"),
    ("::1", "loopback address (RFC 4291)"),
    ("0:0:0:0:0:0:0:1", "loopback address"),
    ("::ffff:127.0.0.1", "IPv4-mapped address (RFC 4291 section 2.5.5.2) embeds 127.0.0.1 (loopback"),
    ("::ffff:7f00:1", "IPv4-mapped address (RFC 4291 section 2.5.5.2) embeds 127.0.0.1"),
    ("0:0:0:0:0:ffff:7f00:1", "embeds 127.0.0.1"),
    ("::FFFF:127.0.0.1", "embeds 127.0.0.1"),
    ("::127.0.0.1", "deprecated IPv4-compatible address (RFC 4291 section 2.5.5.1) embeds 127.0.0.1"),
    ("::7f00:1", "IPv4-compatible address (RFC 4291 section 2.5.5.1) embeds 127.0.0.1"),
    # unspecified / this network
    ("0.0.0.0", '"this host on this network" (RFC 1122'),
    ("0.1.2.3", '"this network" (RFC 791'),
    ("::", "unspecified address (RFC 4291)"),
    ("::ffff:0.0.0.0", "embeds 0.0.0.0"),
    # cloud metadata and link-local
    ("169.254.169.254", "cloud metadata service; link local (RFC 3927)"),
    ("::ffff:169.254.169.254", "embeds 169.254.169.254 (cloud metadata service; link local, RFC 3927)"),
    ("fe80::1", "link-local unicast (RFC 4291)"),
    ("fe80::1%eth0", "scoped address with zone %eth0"),
    ("fe80::a9fe:a9fe%1", "zone %1"),
    ("fd00:ec2::254", "cloud metadata service; unique-local (RFC 4193, RFC 8190)"),
    ("fd00:ec2::253", "unique-local (RFC 4193, RFC 8190)"),
    ("64:ff9b::a9fe:a9fe", "NAT64 address (RFC 6052) embeds 169.254.169.254"),
    # private-use, shared, benchmarking, documentation
    ("10.0.0.1", "private-use (RFC 1918)"),
    ("172.16.0.1", "private-use (RFC 1918)"),
    ("172.31.255.255", "private-use"),
    ("192.168.1.1", "private-use"),
    ("100.64.0.1", "shared address space (RFC 6598)"),
    ("100.127.255.255", "shared address space"),
    ("198.18.0.1", "benchmarking (RFC 2544)"),
    ("192.0.2.1", "documentation (test-net-1) (RFC 5737)"),
    ("198.51.100.7", "documentation (test-net-2)"),
    ("203.0.113.9", "documentation (test-net-3)"),
    ("2001:db8::1", "documentation (RFC 3849)"),
    ("3fff::1", "documentation (RFC 9637)"),
    ("fc00::1", "unique-local"),
    ("fec0::1", "deprecated site-local address, RFC 3879"),
    ("feff::1", "site-local"),
    # reserved, broadcast, multicast
    ("240.0.0.1", "reserved (RFC 1112 section 4)"),
    ("255.255.255.255", "limited broadcast (RFC 8190, RFC 919 section 7)"),
    ("224.0.0.1", "multicast (RFC 5771)"),
    ("239.255.255.250", "multicast"),
    ("ff02::1", "multicast (RFC 4291 section 2.7)"),
    ("ff0e::1", "multicast"),
    ("192.0.0.8", "ipv4 dummy address (RFC 7600)"),
    ("192.0.0.170", "nat64/dns64 discovery"),
    ("192.88.99.1", "deprecated (6to4 relay anycast) (RFC 7526)"),
    # IPv6 wrappers of private and loopback IPv4
    ("64:ff9b::7f00:1", "NAT64 address (RFC 6052) embeds 127.0.0.1 (loopback"),
    ("64:ff9b::10.0.0.1", "NAT64 address (RFC 6052) embeds 10.0.0.1 (private-use, RFC 1918)"),
    ("64:ff9b::c0a8:101", "embeds 192.168.1.1"),
    ("64:ff9b:1::a00:1", "local-use NAT64 address (RFC 8215) embeds 10.0.0.1"),
    ("64:ff9b:1::808:808", "ipv4-ipv6 translat. (RFC 8215), not globally reachable"),
    ("2002:7f00:1::1", "6to4 address (RFC 3056) embeds 127.0.0.1"),
    ("2002:a00:1::1", "6to4 address (RFC 3056) embeds 10.0.0.1 (private-use, RFC 1918)"),
    ("2002:a9fe:a9fe::", "embeds 169.254.169.254"),
    ("2002:808:808::1", "6to4 (RFC 3056), globally reachable: N/A"),
    # Teredo: server 65.54.227.120 (public), client 127.0.0.1 obfuscated as 80ff:fffe
    ("2001:0:4136:e378:8000:63bf:80ff:fffe", "Teredo address (RFC 4380) with client embeds 127.0.0.1"),
    ("2001:0:a00:1::", "Teredo address (RFC 4380) with server embeds 10.0.0.1"),
    ("2001:0:4136:e378:8000:63bf:f7f7:f7f7", "teredo (RFC 4380, RFC 8190), globally reachable: N/A"),
    # ISATAP interface identifiers under a global prefix
    ("2001:4860::5efe:7f00:1", "ISATAP interface identifier (RFC 5214) embeds 127.0.0.1"),
    ("2001:4860::200:5efe:a00:1", "ISATAP interface identifier (RFC 5214) embeds 10.0.0.1"),
    ("fe80::5efe:a9fe:a9fe", "embeds 169.254.169.254"),
    # IPv6 outside global unicast and other special blocks
    ("100::1", "discard-only address block (RFC 6666)"),
    ("2001:2::1", "benchmarking (RFC 5180"),
    ("2001:10::1", "deprecated (previously orchid) (RFC 4843)"),
    ("5f00::1", "segment routing (srv6) sids (RFC 9602)"),
    ("4000::1", "outside global unicast 2000::/3"),
    ("1::1", "outside global unicast 2000::/3"),
    ("::2", "IPv4-compatible address (RFC 4291 section 2.5.5.1) embeds 0.0.0.2"),
]

SAFE = [
    "8.8.8.8",
    "1.1.1.1",
    "93.184.216.34",
    "2606:4700:4700::1111",
    "2001:4860:4860::8888",
    "64:ff9b::808:808",  # NAT64 of a public address: registry says globally reachable
    "::ffff:8.8.8.8",
    "192.0.0.9",  # PCP anycast, globally reachable per the registry
    "2001:1::1",
    "192.31.196.1",  # AS112
    "2001:4860::5efe:808:808",  # ISATAP identifier embedding a public address
]


@pytest.mark.parametrize(("destination", "reason"), BYPASSES)
def test_bypass_forms_are_refused_with_reason(destination: str, reason: str) -> None:
    assert not is_safe_destination(destination)
    with pytest.raises(UnsafeDestination) as info:
        check_destination(destination)
    message = str(info.value)
    assert reason.lower() in message.lower(), message
    assert message.startswith(str(parse_address(destination)) + ": ")
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, NetbasicsError)


def test_bypass_table_is_large() -> None:
    assert len(BYPASSES) >= 60
    assert len({d for d, _ in BYPASSES}) == len(BYPASSES)


@pytest.mark.parametrize("destination", SAFE)
def test_public_destinations_are_safe(destination: str) -> None:
    assert is_safe_destination(destination)
    check_destination(destination)


def test_accepts_every_address_form() -> None:
    assert not is_safe_destination(IPv4Address("127.0.0.1"))
    assert not is_safe_destination(0x7F000001)
    assert not is_safe_destination(b"\x7f\x00\x00\x01")
    import ipaddress

    assert not is_safe_destination(ipaddress.ip_address("10.0.0.1"))
    assert is_safe_destination(IPv6Address("2606:4700::1"))


def test_names_are_not_addresses() -> None:
    # Issue 23: text that is not a strict address is never safe, and every refusal is an
    # UnsafeDestination with a reason, so one except clause covers what attackers send.
    assert not is_safe_destination("localhost")
    with pytest.raises(UnsafeDestination) as info:
        check_destination("localhost")
    assert info.value.reason is UnsafeReason.INVALID
    with pytest.raises(UnsafeDestination) as info:
        check_destination("127.1")
    assert (info.value.reason, info.value.address, info.value.host) == (
        UnsafeReason.LEGACY_NUMERIC,
        IPv4Address("127.0.0.1"),
        "127.1",
    )
    assert str(info.value).startswith("'127.1': legacy numeric form of 127.0.0.1")
    # Wrong types are still the caller's bug; numbers and bytes are addresses or AddressError.
    with pytest.raises(TypeError):
        is_safe_destination(1.5)  # type: ignore[arg-type]
    with pytest.raises(AddressError):
        is_safe_destination(2**129)


LEGACY = ["127.1", "2130706433", "0x7f.1", "017700000001", "0x7f000001", "0177.0.0.1", "127.0.0.1.", "1.2.3.04"]
JUNK = ["", "[example.com]", "[]", "%31%32%37.0.0.1", "a b", "1.2.3.4.5", "0x100000000", "exa mple.com", "-x.com"]


@pytest.mark.parametrize("text", LEGACY)
def test_legacy_numeric_forms_are_refused_with_a_reason(text: str) -> None:
    assert not is_safe_destination(text, policy=DestinationPolicy(allow=["0.0.0.0/0", "::/0"]))
    with pytest.raises(UnsafeDestination) as info:
        check_destination(text)
    assert info.value.reason is UnsafeReason.LEGACY_NUMERIC
    for call in (
        lambda: resolve(text, 80, policy=DestinationPolicy()),
        lambda: netbasics.connect_tcp(f"{text}:80", policy=DestinationPolicy()),
        lambda: netbasics.connect_tcp((text, 80), policy=DestinationPolicy()),
    ):
        with pytest.raises(UnsafeDestination) as info:
            call()
        assert info.value.reason is UnsafeReason.LEGACY_NUMERIC
        assert info.value.host == text


@pytest.mark.parametrize("text", JUNK)
def test_junk_is_refused_as_invalid(text: str) -> None:
    assert not is_safe_destination(text)
    with pytest.raises(UnsafeDestination) as info:
        check_destination(text)
    assert info.value.reason is UnsafeReason.INVALID
    with pytest.raises(UnsafeDestination) as info:
        resolve(text, 80, policy=DestinationPolicy())
    assert info.value.reason is UnsafeReason.INVALID
    with pytest.raises(UnsafeDestination):
        netbasics.connect_tcp((text, 80), policy=DestinationPolicy())


def test_without_a_policy_bad_text_is_still_a_parse_error() -> None:
    with pytest.raises(EndpointError):
        resolve("127.1", 80)
    with pytest.raises(EndpointError):
        netbasics.connect_tcp("127.1:80")


@given(st.text(max_size=40))
def test_is_safe_destination_answers_for_any_text(text: str) -> None:
    # Never raises for text; True only for a strict, global address.
    if is_safe_destination(text):
        assert is_valid_address(text)


# --- policies ---------------------------------------------------------------------------


def test_policy_switches() -> None:
    dev = DestinationPolicy(allow_loopback=True, allow_private=True, allow_link_local=True)
    for address in ["127.0.0.1", "::1", "10.1.2.3", "fd00::1", "169.254.1.1", "fe80::1", "::ffff:127.0.0.1"]:
        assert is_safe_destination(address, policy=dev), address
    # the switches do not open anything else
    for address in ["100.64.0.1", "192.0.2.1", "224.0.0.1", "fe80::1%eth0", "2002:7f00:1::1", "fec0::1"]:
        assert not is_safe_destination(address, policy=dev), address


def test_policy_allow_and_deny_lists() -> None:
    policy = DestinationPolicy(allow=["10.1.2.0/24", "fd00::/64"], deny=["8.8.8.0/24", "10.1.2.3"])
    assert is_safe_destination("10.1.2.4", policy=policy)
    assert is_safe_destination("fd00::5", policy=policy)
    assert not is_safe_destination("10.1.3.4", policy=policy)
    assert not is_safe_destination("10.1.2.3", policy=policy)  # deny wins over allow
    with pytest.raises(UnsafeDestination, match="denied by policy"):
        check_destination("8.8.8.8", policy=policy)
    assert is_safe_destination("8.8.4.4", policy=policy)
    assert isinstance(policy.allow, AddressSet)


def test_policy_ports() -> None:
    policy = DestinationPolicy(allowed_ports=[80, 443], denied_ports=[443])
    assert is_safe_destination(parse_endpoint("8.8.8.8:80"), policy=policy)
    with pytest.raises(UnsafeDestination, match="port 22 is not allowed by policy"):
        check_destination(parse_endpoint("8.8.8.8:22"), policy=policy)
    with pytest.raises(UnsafeDestination, match="port 443 is denied"):
        check_destination(parse_endpoint("[2606:4700::1]:443"), policy=policy)
    # an unsafe address is refused for its address, whatever the port
    with pytest.raises(UnsafeDestination, match="loopback"):
        check_destination(parse_endpoint("127.0.0.1:80"), policy=policy)
    with pytest.raises(ValueError, match="65536"):
        DestinationPolicy(allowed_ports=[65536])


def test_policy_is_immutable_and_hashable_free() -> None:
    policy = DestinationPolicy(allow_loopback=True)
    with pytest.raises(AttributeError):
        policy.allow_loopback = False  # type: ignore[misc]


# --- properties ---------------------------------------------------------------------------

_M32 = 0xFFFFFFFF


def _all_embedded(address: IPv6Address) -> list[IPv4Address]:
    """An independent, obviously complete list of the IPv4 addresses a v6 address may carry."""
    ip = int(address)
    out: list[IPv4Address] = []
    if ip >> 32 in (0xFFFF, 0) and ip > 1:
        out.append(IPv4Address(ip & _M32))
    if ip >> 32 == 0x0064FF9B << 64 or ip >> 80 == 0x0064FF9B0001:
        out.append(IPv4Address(ip & _M32))
    if ip >> 112 == 0x2002:
        out.append(IPv4Address((ip >> 80) & _M32))
    if ip >> 96 == 0x20010000:
        out += [IPv4Address((ip >> 64) & _M32), IPv4Address((ip & _M32) ^ _M32)]
    if (ip >> 32) & 0xFFFFFFFF in (0x5EFE, 0x02005EFE) and ip >> 32 not in (0, 0xFFFF):
        out.append(IPv4Address(ip & _M32))
    return out


def _interesting_v6() -> st.SearchStrategy[IPv6Address]:
    v4 = st.integers(0, _M32)
    return st.one_of(
        st.integers(0, 2**128 - 1).map(IPv6Address),
        v4.map(lambda v: IPv6Address(0xFFFF << 32 | v)),
        v4.map(lambda v: IPv6Address(v)),
        v4.map(lambda v: IPv6Address(0x0064FF9B << 96 | v)),
        st.tuples(v4, st.integers(0, 2**80 - 1)).map(lambda t: IPv6Address(0x2002 << 112 | t[0] << 80 | t[1])),
        st.tuples(v4, v4, st.integers(0, 2**32 - 1)).map(
            lambda t: IPv6Address(0x20010000 << 96 | t[0] << 64 | t[2] << 32 | t[1])
        ),
        st.tuples(st.integers(0, 2**64 - 1), v4, st.sampled_from([0x5EFE, 0x02005EFE])).map(
            lambda t: IPv6Address(t[0] << 64 | t[2] << 32 | t[1])
        ),
    )


@given(st.integers(0, _M32).map(IPv4Address))
def test_ipv4_safe_iff_globally_reachable_unicast(address: IPv4Address) -> None:
    expected = address.is_global and not address.is_multicast and not address.is_broadcast
    assert is_safe_destination(address) == expected


@given(_interesting_v6())
def test_ipv6_safe_only_if_it_and_everything_it_embeds_are_global(address: IPv6Address) -> None:
    safe = is_safe_destination(address)
    if safe:
        assert address.is_global
        assert not address.is_multicast
        for inner in _all_embedded(address):
            assert inner.is_global, (address, inner)
    else:
        embedded_bad = any(not is_safe_destination(inner) for inner in _all_embedded(address))
        assert embedded_bad or not address.is_global or address.is_multicast


@given(_interesting_v6(), st.sampled_from(["eth0", "1", "lo"]))
def test_any_zone_is_unsafe(address: IPv6Address, zone: str) -> None:
    assert not is_safe_destination(IPv6Address(int(address), zone))


# --- resolve(policy=...) with a stubbed resolver ----------------------------------------------------


_Info = tuple[socket.AddressFamily, socket.SocketKind, int, str, tuple[str, int] | tuple[str, int, int, int]]


class FakeDNS(dict[str, list[str]]):
    """A name -> answers table that is also a :class:`netbasics.Resolver` (pass it as ``resolver=``)."""

    def __call__(
        self, host: str, port: int | None, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0
    ) -> list[_Info]:
        if host not in self:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        out: list[_Info] = []
        for text in self[host]:
            if ":" in text:
                out.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (text, port or 0, 0, 0)))
            else:
                out.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (text, port or 0)))
        return out


@pytest.fixture
def fake_dns() -> FakeDNS:
    return FakeDNS()


def test_resolve_policy_all_public(fake_dns: FakeDNS) -> None:
    fake_dns["example.test"] = ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"]
    endpoints = resolve("example.test", 443, policy=DestinationPolicy(), resolver=fake_dns)
    assert [str(e) for e in endpoints] == ["93.184.216.34:443", "[2606:2800:220:1:248:1893:25c8:1946]:443"]


@pytest.mark.parametrize(
    ("answers", "bad"),
    [
        (["93.184.216.34", "10.0.0.5"], "10.0.0.5"),
        (["127.0.0.1", "93.184.216.34"], "127.0.0.1"),
        (["2606:4700::1", "::ffff:169.254.169.254"], "169.254.169.254"),
        (["2606:4700::1", "fd12::1"], "fd12::1"),
    ],
)
def test_resolve_policy_one_bad_answer_refuses_the_name(fake_dns: FakeDNS, answers: list[str], bad: str) -> None:
    fake_dns["mixed.test"] = answers
    with pytest.raises(UnsafeDestination, match=r"mixed\.test resolves to an unsafe address") as info:
        resolve("mixed.test", 80, policy=DestinationPolicy(), resolver=fake_dns)
    assert bad in str(info.value)


def test_resolve_policy_policy_and_ports(fake_dns: FakeDNS) -> None:
    fake_dns["internal.test"] = ["10.0.0.5"]
    policy = DestinationPolicy(allow_private=True, allowed_ports=[443])
    assert resolve("internal.test", 443, policy=policy, resolver=fake_dns) == [parse_endpoint("10.0.0.5:443")]
    with pytest.raises(UnsafeDestination, match="port 8080 is not allowed"):
        resolve("internal.test", 8080, policy=policy, resolver=fake_dns)


def test_resolve_policy_unknown_name(fake_dns: FakeDNS) -> None:
    with pytest.raises(ResolveError):
        resolve("nowhere.test", 80, policy=DestinationPolicy(), resolver=fake_dns)


def test_resolve_policy_literals_and_localhost() -> None:
    with pytest.raises(UnsafeDestination, match="localhost resolves to an unsafe address"):
        resolve("localhost", 80, policy=DestinationPolicy())
    with pytest.raises(UnsafeDestination, match="loopback"):
        resolve("[::1]", 80, policy=DestinationPolicy())
    assert resolve("localhost", 80, policy=DestinationPolicy(allow_loopback=True))


@pytest.mark.parametrize("name", ["2130706433", "0x7f.1", "017700000001", "127.1", "0x7f000001", "0177.0.0.1"])
def test_numeric_names_are_refused(name: str) -> None:
    """Legacy numeric spellings never reach a connection.

    System resolvers read these as 127.0.0.1 (inet_aton). netbasics refuses them as host
    names outright, and if one ever got through, the check on the resolved address would
    refuse 127.0.0.1.
    """
    with pytest.raises(ValueError, match=r"127\.0\.0\.1|neither a host name") as info:
        resolve(name, 80, policy=DestinationPolicy())
    assert isinstance(info.value, (EndpointError, UnsafeDestination))
    assert name in str(info.value) or "127.0.0.1" in str(info.value)


def test_resolved_addresses_are_checked_not_names(fake_dns: FakeDNS) -> None:
    """A harmless-looking name whose record points at loopback (DNS rebinding) is refused."""
    fake_dns["rebind.test"] = ["127.0.0.1"]
    with pytest.raises(UnsafeDestination, match=r"rebind\.test resolves to an unsafe address: 127\.0\.0\.1: loopback"):
        resolve("rebind.test", 80, policy=DestinationPolicy(), resolver=fake_dns)
    fake_dns["mapped.test"] = ["::ffff:127.0.0.1"]
    with pytest.raises(UnsafeDestination, match=r"embeds 127\.0\.0\.1"):
        resolve("mapped.test", 80, policy=DestinationPolicy(), resolver=fake_dns)


def test_exported() -> None:
    for name in ["DestinationPolicy", "check_destination", "is_safe_destination", "UnsafeReason"]:
        assert name in netbasics.__all__
    for gone in ["destination_verdict", "resolve_safe"]:
        assert gone not in netbasics.__all__
        assert not hasattr(netbasics, gone)


# --- netbasics.connect_tcp(policy=...) ------------------------------------------------------------------


def test_connect_with_policy_refuses_before_sending() -> None:
    import threading

    from netbasics import TCPServer

    accepted: list[object] = []
    reached = threading.Event()

    def handler(conn: object) -> None:
        accepted.append(conn)
        reached.set()

    with TCPServer("127.0.0.1:0", handler) as server:
        with pytest.raises(UnsafeDestination, match="loopback"):
            netbasics.connect_tcp(server.endpoint, policy=DestinationPolicy())
        with pytest.raises(UnsafeDestination, match="localhost resolves to an unsafe address"):
            netbasics.connect_tcp(("localhost", server.endpoint.port), policy=DestinationPolicy())
        with netbasics.connect_tcp(server.endpoint, policy=DestinationPolicy(allow_loopback=True), timeout=5) as conn:
            assert conn.remote == server.endpoint
            assert reached.wait(5)  # the allowed connection reaches the handler
        server.stop(timeout=2)
    assert len(accepted) == 1  # and it is the only one that did


def test_connect_with_policy_uses_only_checked_addresses(fake_dns: FakeDNS) -> None:
    """DNS rebinding: the name is resolved once; a second, different answer is never used."""
    from netbasics import TCPServer

    with TCPServer("127.0.0.1:0", lambda conn: None) as server:
        port = server.endpoint.port
        answers = iter([["127.0.0.1"], ["10.9.9.9"]])

        def rebinding(
            host: str, port: int | None, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0
        ) -> list[_Info]:
            fake_dns[host] = next(answers)
            return fake_dns(host, port, family, type)

        policy = DestinationPolicy(allow_loopback=True)
        with netbasics.connect_tcp(("rebind.test", port), policy=policy, timeout=5, resolver=rebinding) as conn:
            assert str(conn.remote).rpartition(":")[0] == "127.0.0.1"  # remote is Endpoint | UnixAddress
        with pytest.raises(UnsafeDestination, match=r"10\.9\.9\.9: private-use"):
            netbasics.connect_tcp(("rebind.test", port), policy=policy, resolver=rebinding)


# --- structured verdicts ----------------------------------------------------------------------

# (destination, reason, embedded IPv4 or None): the fields a caller reads instead of the text.
VERDICTS: list[tuple[str, UnsafeReason, str | None]] = [
    ("127.0.0.1", UnsafeReason.LOOPBACK, None),
    ("::1", UnsafeReason.LOOPBACK, None),
    ("::ffff:127.0.0.1", UnsafeReason.LOOPBACK, "127.0.0.1"),
    ("10.0.0.1", UnsafeReason.PRIVATE, None),
    ("64:ff9b::10.0.0.1", UnsafeReason.PRIVATE, "10.0.0.1"),
    ("2002:a00:1::1", UnsafeReason.PRIVATE, "10.0.0.1"),
    ("2001:0:a00:1::", UnsafeReason.PRIVATE, "10.0.0.1"),
    ("2001:0:4136:e378:8000:63bf:80ff:fffe", UnsafeReason.LOOPBACK, "127.0.0.1"),
    ("2001:4860::5efe:7f00:1", UnsafeReason.LOOPBACK, "127.0.0.1"),
    ("100.64.0.1", UnsafeReason.SHARED, None),
    ("169.254.1.1", UnsafeReason.LINK_LOCAL, None),
    ("fe80::1", UnsafeReason.LINK_LOCAL, None),
    ("169.254.169.254", UnsafeReason.METADATA, None),
    ("::ffff:169.254.169.254", UnsafeReason.METADATA, "169.254.169.254"),
    ("fd00:ec2::254", UnsafeReason.METADATA, None),
    ("100.100.100.200", UnsafeReason.METADATA, None),
    ("fec0::1", UnsafeReason.SITE_LOCAL, None),
    ("224.0.0.1", UnsafeReason.MULTICAST, None),
    ("ff02::1", UnsafeReason.MULTICAST, None),
    ("255.255.255.255", UnsafeReason.BROADCAST, None),
    ("::", UnsafeReason.UNSPECIFIED, None),
    ("0.1.2.3", UnsafeReason.THIS_NETWORK, None),
    ("192.0.2.1", UnsafeReason.DOCUMENTATION, None),
    ("2001:db8::1", UnsafeReason.DOCUMENTATION, None),
    ("198.18.0.1", UnsafeReason.BENCHMARKING, None),
    ("192.0.0.8", UnsafeReason.PROTOCOL_ASSIGNMENT, None),
    ("64:ff9b:1::808:808", UnsafeReason.TRANSLATION, None),
    ("2002:808:808::1", UnsafeReason.TUNNEL, None),
    ("100::1", UnsafeReason.DISCARD, None),
    ("240.0.0.1", UnsafeReason.RESERVED, None),
    ("4000::1", UnsafeReason.RESERVED, None),
    ("fe80::1%eth0", UnsafeReason.ZONE, None),
]


@pytest.mark.parametrize(("destination", "reason", "embedded"), VERDICTS)
def test_verdict_fields(destination: str, reason: UnsafeReason, embedded: str | None) -> None:
    with pytest.raises(UnsafeDestination) as info:
        check_destination(destination)
    exc = info.value
    assert exc.reason is reason
    assert exc.address == parse_address(destination)
    assert exc.embedded == (None if embedded is None else IPv4Address(embedded))
    assert exc.port is None
    assert exc.host is None
    # The message is built from the fields: subject, then the rule in words.
    assert str(exc) == f"{exc.address}: {exc.detail}"


def test_every_address_reason_is_reachable() -> None:
    reached = {reason for _, reason, _ in VERDICTS}
    policy_only = {UnsafeReason.DENIED, UnsafeReason.PORT_DENIED, UnsafeReason.PORT_NOT_ALLOWED}
    policy_only |= {UnsafeReason.LEGACY_NUMERIC, UnsafeReason.INVALID}  # about text: tested above
    policy_only |= {UnsafeReason.AMBIGUOUS_URL, UnsafeReason.SCHEME}  # about URLs: test_http_guard
    # NOT_GLOBAL is the fallback for a non-global row outside the named categories.
    assert set(UnsafeReason) - reached - policy_only <= {UnsafeReason.NOT_GLOBAL}


def test_policy_verdict_fields() -> None:
    policy = DestinationPolicy(deny=["8.8.8.0/24"], allowed_ports=[443], denied_ports=[8443])
    with pytest.raises(UnsafeDestination) as info:
        check_destination("8.8.8.8", policy=policy)
    assert info.value.reason is UnsafeReason.DENIED
    with pytest.raises(UnsafeDestination) as info:
        check_destination(parse_endpoint("[2606:4700::1]:22"), policy=policy)
    exc = info.value
    assert (exc.reason, exc.port, str(exc.address)) == (UnsafeReason.PORT_NOT_ALLOWED, 22, "2606:4700::1")
    assert str(exc) == "[2606:4700::1]:22: port 22 is not allowed by policy (allowed: 443)"
    with pytest.raises(UnsafeDestination) as info:
        check_destination(parse_endpoint("1.1.1.1:8443"), policy=policy)
    assert info.value.reason is UnsafeReason.PORT_DENIED


def test_resolve_verdict_names_the_host(fake_dns: FakeDNS) -> None:
    fake_dns["mixed.test"] = ["93.184.216.34", "::ffff:10.1.2.3"]
    with pytest.raises(UnsafeDestination) as info:
        resolve("mixed.test", 80, policy=DestinationPolicy(), resolver=fake_dns)
    exc = info.value
    assert (exc.host, exc.reason, exc.port) == ("mixed.test", UnsafeReason.PRIVATE, 80)
    assert exc.embedded == IPv4Address("10.1.2.3")
    # a literal is its own subject: no "resolves to"
    with pytest.raises(UnsafeDestination) as info:
        resolve("127.0.0.1", 80, policy=DestinationPolicy())
    assert info.value.host is None
    assert str(info.value).startswith("127.0.0.1:80: loopback")


def test_metadata_is_not_opened_by_the_switches() -> None:
    dev = DestinationPolicy(allow_loopback=True, allow_private=True, allow_link_local=True)
    for address in ["169.254.169.254", "::ffff:169.254.169.254", "fd00:ec2::254", "169.254.170.2"]:
        assert not is_safe_destination(address, policy=dev), address
    # an explicit allow-list entry does open it
    assert is_safe_destination("169.254.169.254", policy=DestinationPolicy(allow=["169.254.169.254"]))


def test_verdict_survives_pickle_and_stays_short() -> None:
    import pickle

    with pytest.raises(UnsafeDestination) as info:
        check_destination(parse_endpoint("10.0.0.1:80"))
    copy = pickle.loads(pickle.dumps(info.value))
    assert (copy.reason, copy.address, copy.port, str(copy)) == (
        info.value.reason,
        info.value.address,
        80,
        str(info.value),
    )
    long_host = UnsafeDestination(parse_address("10.0.0.1"), UnsafeReason.PRIVATE, "private", host="a" * 10_000)
    assert len(str(long_host)) < 300


def test_safety_policy_does_no_io() -> None:
    """The policy module is pure: it imports no resolver or socket I/O (resolving is resolver's job)."""
    import ast
    from pathlib import Path

    tree = ast.parse(Path(netbasics.safety.__file__).read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert not imported & {"resolver", "tcp", "udp", "socket", "_io", "_io.sockets"}, imported


def test_broadcast_send_refusal_is_structured() -> None:
    """The UDP layer's refusal of a broadcast send is the same structured verdict."""
    with netbasics.open_udp() as sock, pytest.raises(UnsafeDestination) as info:
        sock.send_to(b"x", "255.255.255.255:9")
    exc = info.value
    assert (exc.reason, str(exc.address), exc.port) == (UnsafeReason.BROADCAST, "255.255.255.255", 9)
    assert str(exc) == "send to 255.255.255.255:9: broadcast address needs broadcast=True (SO_BROADCAST)"


def test_allow_list_entry_does_not_open_wrappers_of_it() -> None:
    # Found by the HTTP guard's corpus: allowing 127.0.0.1 let 64:ff9b::7f00:1 through,
    # an address a NAT64 translator delivers to, not this host.
    policy = DestinationPolicy(allow=["127.0.0.1"])
    assert is_safe_destination("127.0.0.1", policy=policy)
    for wrapped in ("64:ff9b::7f00:1", "64:ff9b:1::7f00:1", "2002:7f00:1::", "::127.0.0.1"):
        assert not is_safe_destination(wrapped, policy=policy), wrapped
    # An explicit entry for the wrapper itself still allows it.
    assert is_safe_destination("64:ff9b::7f00:1", policy=DestinationPolicy(allow=["64:ff9b::/96"]))
