"""Tests for netbasics.ports: validation, RFC 6335 ranges and the bundled IANA service table."""

from __future__ import annotations

import enum
import itertools
import re
import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import netbasics
from netbasics import (
    PortCategory,
    PortError,
    Service,
    find_service,
    parse_port,
    port_category,
    ports,
    services_for_port,
    validate_port,
)
from netbasics._data import services as _services


def primary_name(port: int | str, protocol: str) -> str | None:
    """The preferred name of a port: the first row services_for_port() lists, if any."""
    rows = services_for_port(port, protocol)
    return rows[0].name if rows else None


def port_of(name: str, protocol: str) -> int | None:
    """The port find_service() gives a name, or None."""
    service = find_service(name, protocol)
    return None if service is None else service.port


# --- reference model ------------------------------------------------------------------

# Obviously-correct spelling of the rule, independent of the implementation: "0", or a
# non-zero ASCII digit followed by at most four more, with value at most 65535.
_PORT_TEXT = re.compile(r"0|[1-9][0-9]{0,4}", re.ASCII)


def reference_port(value: object) -> int | None:
    """What validate_port should return for ``value``, or None where it must raise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return int(value) if 0 <= value <= 65535 else None
    if isinstance(value, str):
        if _PORT_TEXT.fullmatch(value) and int(value) <= 65535:
            return int(value)
        return None
    return None


class Color(enum.IntEnum):
    HTTP = 80
    BIG = 70000


# --- validate_port: table -------------------------------------------------------------

# RFC 6335 section 6 boundaries and the ends of the 16-bit field (RFC 9293, RFC 768).
VALID = [
    (0, 0),
    (1, 1),
    (1023, 1023),
    (1024, 1024),
    (49151, 49151),
    (49152, 49152),
    (65535, 65535),
    ("0", 0),
    ("80", 80),
    ("1023", 1023),
    ("49152", 49152),
    ("65535", 65535),
    (Color.HTTP, 80),
]

INVALID = [
    (-1, "out of range"),
    (65536, "out of range"),
    (-(2**70), "out of range"),
    (2**70, "out of range"),
    # No repr for these (int_max_str_digits): the message must not leak a ValueError.
    pytest.param(10**5000, "out of range", id="10**5000"),
    pytest.param(-(10**5000), "out of range", id="-10**5000"),
    (Color.BIG, "out of range"),
    ("", "empty string"),
    ("65536", "out of range"),
    ("99999", "out of range"),
    ("100000", "out of range"),
    pytest.param("9" * 10_000, "out of range", id="'9'*10000"),
    ("080", "leading zero"),
    ("00", "leading zero"),
    ("00080", "leading zero"),
    (" 80", "whitespace"),
    ("80 ", "whitespace"),
    ("80\n", "whitespace"),
    ("+80", "sign"),
    ("-1", "sign"),
    ("-0", "sign"),
    ("0x50", "not plain ASCII decimal"),
    ("8_0", "not plain ASCII decimal"),
    ("80.0", "not plain ASCII decimal"),
    ("1e3", "not plain ASCII decimal"),
    ("ssh", "not a number (parse_port() also accepts service names)"),
    ("\u0668\u0660", "not plain ASCII decimal"),  # Arabic-Indic 80: int() accepts it
    ("\uff18\uff10", "not plain ASCII decimal"),  # fullwidth 80
    ("\u00b2", "not plain ASCII decimal"),  # superscript two: isdigit() but not decimal
    ("http", "parse_port"),
]

# Values of a type that is never a port: a TypeError, as for any other wrong type.
WRONG_TYPE = [
    (True, "is a bool"),
    (False, "is a bool"),
    (80.0, "is a float"),
    (float("nan"), "is a float"),
    (float("inf"), "is a float"),
    (None, "got NoneType"),
    (b"80", "got bytes"),
    (bytearray(b"80"), "got bytearray"),
    (Decimal(80), "got Decimal"),
    (Fraction(80), "got Fraction"),
    (80j, "got complex"),
    ([80], "got list"),
    pytest.param([10**5000], "got list", id="[10**5000]"),
]


@pytest.mark.parametrize(("value", "expected"), VALID)
def test_validate_port_accepts(value: object, expected: int) -> None:
    port = validate_port(value)
    assert port == expected
    assert type(port) is int


@pytest.mark.parametrize(("value", "reason"), INVALID)
def test_validate_port_rejects_with_reason(value: object, reason: str) -> None:
    with pytest.raises(PortError, match=re.escape(reason)) as info:
        validate_port(value)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, netbasics.NetbasicsError)
    assert len(str(info.value)) < 200  # quoted input is truncated


@pytest.mark.parametrize(("value", "reason"), WRONG_TYPE)
def test_validate_port_wrong_type_is_type_error(value: object, reason: str) -> None:
    calls: list[Callable[[], object]] = [
        lambda: validate_port(value),
        lambda: parse_port(value),  # type: ignore[arg-type]
        lambda: port_category(value),  # type: ignore[arg-type]
        lambda: services_for_port(value),  # type: ignore[arg-type]
    ]
    for call in calls:
        with pytest.raises(TypeError, match=re.escape(reason)) as info:
            call()
        assert not isinstance(info.value, netbasics.NetbasicsError)
        assert len(str(info.value)) < 200


@pytest.mark.parametrize("text", ["080", " 80", "+80", "\u0668\u0660", "65536", "0x50"])
def test_validate_port_message_quotes_input(text: str) -> None:
    with pytest.raises(PortError) as info:
        validate_port(text)
    assert repr(text) in str(info.value)


# --- validate_port: properties --------------------------------------------------------


@given(st.integers())
def test_validate_port_ints_agree_with_reference(n: int) -> None:
    expected = reference_port(n)
    if expected is None:
        with pytest.raises(PortError):
            validate_port(n)
    else:
        assert validate_port(n) == expected


_DIGITISH = st.text(alphabet="0123456789+- _.x\u0660\u0668\uff10\u00b2\n", max_size=8)


@given(st.one_of(st.text(), _DIGITISH, st.integers(0, 70000).map(str)))
def test_validate_port_text_agrees_with_reference(text: str) -> None:
    expected = reference_port(text)
    if expected is None:
        with pytest.raises(PortError):
            validate_port(text)
    else:
        assert validate_port(text) == expected


@given(st.integers(0, 65535))
def test_decimal_text_round_trips(n: int) -> None:
    assert validate_port(str(n)) == n
    assert validate_port(validate_port(n)) == n


ANYTHING = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(),
    st.binary(),
    st.decimals(),
    st.fractions(),
    st.complex_numbers(),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@given(ANYTHING, st.one_of(ANYTHING, st.sampled_from(["tcp", "UDP", "sctp", "dccp", "icmp"])))
def test_arbitrary_input_raises_only_documented_errors(value: object, protocol: object) -> None:
    # PortError for bad port data; TypeError for a wrong type; plain ValueError only for
    # an unknown protocol (a bad argument, not bad data).
    calls: list[Callable[[], object]] = [
        lambda: validate_port(value),
        lambda: port_category(value),  # type: ignore[arg-type]
        lambda: parse_port(value, protocol),  # type: ignore[arg-type]
        lambda: services_for_port(value, protocol),  # type: ignore[arg-type]
        lambda: find_service(value, protocol),  # type: ignore[arg-type]
        lambda: value in PortCategory.WELL_KNOWN,
    ]
    for call in calls:
        try:
            call()
        except PortError:
            continue
        except (TypeError, ValueError) as exc:
            caught: Exception = exc
        else:
            continue
        assert not isinstance(caught, netbasics.NetbasicsError)
        assert isinstance(caught, TypeError) or "unknown protocol" in str(caught), caught


# --- RFC 6335 ranges ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("port", "expected"),
    [
        (0, PortCategory.WELL_KNOWN),
        (1023, PortCategory.WELL_KNOWN),
        (1024, PortCategory.REGISTERED),
        (49151, PortCategory.REGISTERED),
        (49152, PortCategory.DYNAMIC),
        (65535, PortCategory.DYNAMIC),
        ("443", PortCategory.WELL_KNOWN),
    ],
)
def test_classify_port_boundaries(port: int | str, expected: PortCategory) -> None:
    assert port_category(port) is expected


@pytest.mark.parametrize("bad", [-1, 65536, "080", ""])
def test_classify_port_validates_first(bad: object) -> None:
    with pytest.raises(PortError):
        port_category(bad)  # type: ignore[arg-type]


def test_ranges_match_rfc_6335_section_6() -> None:
    assert [(r.first, r.last) for r in PortCategory] == [(0, 1023), (1024, 49151), (49152, 65535)]
    assert [r.rfc6335_name for r in PortCategory] == ["System Ports", "User Ports", "Dynamic and/or Private Ports"]
    assert [str(r) for r in PortCategory] == ["well-known", "registered", "dynamic"]


def test_ranges_partition_the_port_space() -> None:
    members = list(PortCategory)
    assert members[0].first == 0
    assert members[-1].last == 65535
    for lower, upper in itertools.pairwise(members):
        assert lower.last + 1 == upper.first
    # Exhaustive: every port is in exactly one range, and port_category names it.
    for port in range(65536):
        holders = [r for r in members if port in r]
        assert holders == [port_category(port)]


@pytest.mark.parametrize("thing", [-1, 65536, True, False, 80.0, "80", None, b"80"])
def test_range_membership_is_false_for_non_ports(thing: object) -> None:
    assert not any(thing in r for r in PortCategory)


def test_range_membership_accepts_int_subclasses() -> None:
    assert Color.HTTP in PortCategory.WELL_KNOWN
    assert Color.BIG not in PortCategory.DYNAMIC


# --- the bundled table ----------------------------------------------------------------

ROWS = _services.SERVICES
_NAME_CHARS = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-()]*")


def test_table_rows_are_well_formed() -> None:
    assert len(ROWS) > 6000
    previous = -1
    for name, port, protocols, aliases, description in ROWS:
        assert _NAME_CHARS.fullmatch(name), name
        assert 0 <= port <= 49151, name  # IANA assigns nothing in the dynamic range
        assert port >= previous, "rows are sorted by port"
        previous = port
        protos = protocols.split()
        assert protos, name
        assert protos == [p for p in ports.PROTOCOLS if p in protos], name
        assert all(a and not a.isspace() for a in aliases.split()), name
        assert description == description.strip()
        assert name.isascii()
        assert aliases.isascii()
        assert description.isascii()


def test_block_assignments_are_one_row_per_port() -> None:
    assert [primary_name(p, "udp") for p in (5999, 6000, 6063, 6064)] == ["cvsup", "x11", "x11", "ndl-ahp-svc"]
    assert primary_name(6667, "tcp") == "ircu"
    assert parse_port("ircu") == 6665


def test_table_covers_the_well_known_range() -> None:
    well_known = {port for _n, port, _p, _a, _d in ROWS if port <= 1023}
    # The registry leaves some System Ports unassigned or reserved (4, 6, 8, ...); in the
    # 2024-08-25 snapshot 690 of the 1024 are named.
    assert len(well_known) >= 690


def test_date_constants_agree() -> None:
    assert netbasics.SERVICES_DATE == _services.SERVICES_DATE
    assert _services.__doc__ is not None
    assert _services.SERVICES_DATE in _services.__doc__


def test_table_is_not_loaded_by_import() -> None:
    code = "import sys, netbasics; print('netbasics._data.services' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_never_reads_etc_services() -> None:
    source = Path(ports.__file__).read_text(encoding="utf-8") + Path(_services.__file__).read_text(encoding="utf-8")
    assert "open(" not in source
    assert "import socket" not in source
    assert "getservbyname(" not in source


# Well-known services, and the common registered ones, with what the registry calls them.
# Where software squats on a port the registry gives to someone else (Oracle on 1521,
# Kubernetes on 6443, Kafka on 9092, Elasticsearch on 9200), the registry name is reported.
SERVICE_TABLE = [
    (7, "tcp", "echo"),
    (20, "tcp", "ftp-data"),
    (21, "tcp", "ftp"),
    (22, "tcp", "ssh"),
    (23, "tcp", "telnet"),
    (25, "tcp", "smtp"),
    (43, "tcp", "nicname"),
    (53, "tcp", "domain"),
    (53, "udp", "domain"),
    (67, "udp", "bootps"),
    (69, "udp", "tftp"),
    (80, "tcp", "http"),
    (80, "sctp", "http"),
    (88, "udp", "kerberos"),
    (110, "tcp", "pop3"),
    (113, "tcp", "auth"),
    (123, "udp", "ntp"),
    (143, "tcp", "imap"),
    (161, "udp", "snmp"),
    (179, "tcp", "bgp"),
    (389, "tcp", "ldap"),
    (443, "tcp", "https"),
    (443, "udp", "https"),
    (445, "tcp", "microsoft-ds"),
    (465, "tcp", "submissions"),
    (465, "udp", "igmpv3lite"),
    (500, "udp", "isakmp"),
    (512, "tcp", "exec"),
    (512, "udp", "comsat"),
    (514, "tcp", "shell"),
    (514, "udp", "syslog"),
    (587, "tcp", "submission"),
    (636, "tcp", "ldaps"),
    (853, "tcp", "domain-s"),
    (873, "tcp", "rsync"),
    (993, "tcp", "imaps"),
    (995, "tcp", "pop3s"),
    (1021, "dccp", "exp1"),
    (1433, "tcp", "ms-sql-s"),
    (1521, "tcp", "ncube-lm"),
    (1883, "tcp", "mqtt"),
    (2049, "tcp", "nfs"),
    (2049, "sctp", "nfs"),
    (3306, "tcp", "mysql"),
    (3389, "tcp", "ms-wbt-server"),
    (5060, "udp", "sip"),
    (5061, "tcp", "sips"),
    (5222, "tcp", "xmpp-client"),
    (5353, "udp", "mdns"),
    (5432, "tcp", "postgresql"),
    (5672, "tcp", "amqp"),
    (5900, "tcp", "rfb"),
    (6000, "tcp", "x11"),
    (6379, "tcp", "redis"),
    (6443, "tcp", "sun-sr-https"),
    (6514, "dccp", "syslog-tls"),
    (8080, "tcp", "http-alt"),
    (8443, "tcp", "pcsync-https"),
    (8883, "tcp", "secure-mqtt"),
    (9092, "tcp", "XmlIpcRegSvc"),
    (9200, "tcp", "wap-wsp"),
    (11211, "tcp", "memcache"),
    (27017, "tcp", "mongodb"),
]


@pytest.mark.parametrize(("port", "protocol", "name"), SERVICE_TABLE)
def test_preferred_name_table(port: int, protocol: str, name: str) -> None:
    assert primary_name(port, protocol) == name
    assert primary_name(str(port), protocol.upper()) == name
    assert port_of(name, protocol) == port
    assert port_of(name.upper(), protocol) == port
    assert parse_port(name, protocol) == port
    assert parse_port(name.upper(), protocol.upper()) == port


@pytest.mark.parametrize(
    ("port", "protocol"),
    [(0, "tcp"), (4, "tcp"), (6379, "udp"), (22, "dccp"), (49152, "tcp"), (65535, "udp"), (143, "udp")],
)
def test_unassigned_port(port: int, protocol: str) -> None:
    assert services_for_port(port, protocol) == ()


@pytest.mark.parametrize(
    ("name", "protocol", "port"),
    [
        ("www", "tcp", 80),
        ("WWW-HTTP", "tcp", 80),
        ("whois", "tcp", 43),
        ("postgres", "tcp", 5432),
        ("imap2", "tcp", 143),
        ("ident", "tcp", 113),
        ("smtps", "tcp", 465),
        ("sip-tls", "udp", 5061),
        ("x11-1", "tcp", 6001),
        ("jabber-client", "tcp", 5222),
        ("whois++", "tcp", 63),
        ("mit-ml-dev", "tcp", 83),  # the registry gives this name to 83 and 85: lowest wins
        ("http-alt", "udp", 8080),  # ... except http-alt: 591, 8008 and 8080 -> 8080
        ("x11", "udp", 6000),  # a block of ports (6000-6063): the first
    ],
)
def test_aliases_and_case(name: str, protocol: str, port: int) -> None:
    assert port_of(name, protocol) == port
    assert parse_port(name, protocol) == port


@pytest.mark.parametrize(
    ("name", "protocol"),
    [
        ("80", "tcp"),  # numeric strings are never service names (RFC 6335 section 5.1)
        ("", "tcp"),
        ("no-such-service", "tcp"),
        ("redis", "udp"),
        ("fsp", "udp"),  # a netbase name for a different service on 21/udp: left out
        ("\u212aerberos", "tcp"),  # KELVIN SIGN lower-cases to ASCII 'k': must not match
        ("http ", "tcp"),
    ],
)
def test_unknown_name(name: str, protocol: str) -> None:
    assert find_service(name, protocol) is None


@pytest.mark.parametrize("protocol", ["icmp", "", "tcp ", "ip", "TCP6", "\u0074cp\u0301"])
def test_bad_protocol(protocol: str) -> None:
    # The protocol is the caller's choice, not data: a plain ValueError.
    calls: list[Callable[[], object]] = [
        lambda: parse_port("80", protocol),
        lambda: parse_port("http", protocol),
        lambda: services_for_port(80, protocol),
        lambda: find_service("http", protocol),
    ]
    for call in calls:
        with pytest.raises(ValueError, match="unknown protocol") as info:
            call()
        assert type(info.value) is ValueError


@pytest.mark.parametrize("protocol", [None, 6, b"tcp"])
def test_protocol_of_wrong_type(protocol: object) -> None:
    with pytest.raises(TypeError, match="protocol must be a str"):
        parse_port(80, protocol)  # type: ignore[arg-type]
    if protocol is not None:  # None means every protocol here
        with pytest.raises(TypeError, match="protocol must be a str"):
            services_for_port(80, protocol)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", [None, 80, b"http", ["http"]])
def test_find_service_needs_a_str(name: object) -> None:
    with pytest.raises(TypeError, match="service name must be a str"):
        find_service(name)  # type: ignore[arg-type]


def _first_rows() -> dict[tuple[int, str], str]:
    first: dict[tuple[int, str], str] = {}
    for name, port, protocols, _a, _d in ROWS:
        for proto in protocols.split():
            first.setdefault((port, proto), name)
    return first


def test_round_trip_for_every_row() -> None:
    # Every row's primary name resolves to its own port, except names the registry gives
    # to several ports, which resolve to the lowest of them (and are listed here).
    first = _first_rows()
    lowest: dict[tuple[str, str], int] = {}
    for name, port, protocols, _a, _d in ROWS:
        for proto in protocols.split():
            lowest.setdefault((name.lower(), proto), port)
            if _services.PREFERRED_PORTS.get(name) == port:
                lowest[name.lower(), proto] = port
    for name, port, protocols, _a, _d in ROWS:
        for proto in protocols.split():
            assert parse_port(name, proto) == lowest[name.lower(), proto]
            assert primary_name(parse_port(name, proto), proto) is not None
            if first[port, proto] == name and lowest[name.lower(), proto] == port:
                assert primary_name(port, proto) == name


def test_aliases_never_shadow_primary_names() -> None:
    primaries: dict[str, dict[str, int]] = {p: {} for p in ports.PROTOCOLS}
    for name, port, protocols, _a, _d in ROWS:
        for proto in protocols.split():
            primaries[proto].setdefault(name.lower(), port)
            if _services.PREFERRED_PORTS.get(name) == port:
                primaries[proto][name.lower()] = port
    for _name, port, protocols, aliases, _d in ROWS:
        for proto in protocols.split():
            for alias in aliases.split():
                expected = primaries[proto].get(alias.lower(), None)
                got = port_of(alias, proto)
                assert got == (port if expected is None else expected)


def test_index_precedence_on_a_synthetic_table() -> None:
    # The real table has no clashes left for these rules to settle; this one has all of them.
    rows = (
        ("alpha", 10, "tcp", "beta", ""),  # alias 'beta' collides with a primary below
        ("gamma", 10, "tcp udp", "", ""),  # second name on 10/tcp: not the primary
        ("beta", 20, "tcp", "", ""),
        ("dup", 30, "tcp", "", ""),
        ("dup", 40, "tcp", "", ""),
        ("pref", 50, "udp", "", ""),
        ("pref", 60, "udp", "", ""),
        ("zeta", 70, "udp", "ALPHA", ""),  # alias equal to a primary of another protocol
    )
    index = ports._Index(rows, {"pref": 60})
    port_of = {proto: {name: rows[i][1] for name, i in names.items()} for proto, names in index.by_name.items()}
    assert port_of["tcp"] == {"alpha": 10, "gamma": 10, "beta": 20, "dup": 30}
    assert port_of["udp"] == {"gamma": 10, "pref": 60, "zeta": 70, "alpha": 70}


@given(st.integers(0, 65535), st.sampled_from(ports.PROTOCOLS))
def test_preferred_name_agrees_with_table_scan(port: int, protocol: str) -> None:
    expected = next((n for n, p, pr, _a, _d in ROWS if p == port and protocol in pr.split()), None)
    assert primary_name(port, protocol) == expected


@given(st.sampled_from(ROWS))
def test_service_objects_mirror_rows(row: tuple[str, int, str, str, str]) -> None:
    name, port, protocols, aliases, description = row
    service = find_service(name, protocols.split()[0])
    assert service is not None
    assert service.name.lower() == name.lower()
    assert service in services_for_port(service.port)
    hit = next(s for s in services_for_port(port) if s.name == name)
    assert hit == Service(name, port, tuple(protocols.split()), tuple(aliases.split()), description)
    assert hash(hit) == hash(Service(name, port, tuple(protocols.split()), tuple(aliases.split()), description))


def test_services_for_port_lists_every_protocol() -> None:
    assert [(s.name, s.protocols) for s in services_for_port(512)] == [("exec", ("tcp",)), ("comsat", ("udp",))]
    assert [s.name for s in services_for_port(465)] == ["submissions", "urd", "igmpv3lite"]
    assert [s.name for s in services_for_port(465, "tcp")] == ["submissions", "urd"]
    assert services_for_port("443")[0].protocols == ("tcp", "udp", "sctp")


def test_find_service_any_protocol() -> None:
    syslog = find_service("syslog")
    assert syslog is not None
    assert (syslog.port, syslog.protocols) == (514, ("udp",))
    assert find_service("syslog", "tcp") is None
    assert str(find_service("ssh")) == "ssh 22/tcp/udp/sctp: The Secure Shell (SSH) Protocol"


def test_service_is_immutable() -> None:
    service = find_service("http")
    assert service is not None
    with pytest.raises(AttributeError):
        service.port = 8080  # type: ignore[misc]


# --- parse_port ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "protocol", "port"),
    [
        (443, "tcp", 443),
        ("443", "tcp", 443),
        ("https", "tcp", 443),
        ("HTTPS", "udp", 443),
        ("domain", "udp", 53),
        ("www", "tcp", 80),
        ("0", "tcp", 0),
    ],
)
def test_parse_port(value: int | str, protocol: str, port: int) -> None:
    assert parse_port(value, protocol) == port


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("080", "leading zero"),  # digits are numbers, never names
        ("\u0668\u0660", "not plain ASCII decimal"),
        ("65536", "out of range"),
        ("", "empty string"),
        ("nope", "neither a port number nor a known tcp service name"),
        ("+80", "neither a port number nor a known tcp service name"),
        ("x" * 10_000, "(10000 chars) is neither a port number"),
    ],
)
def test_parse_port_errors(value: object, reason: str) -> None:
    with pytest.raises(PortError, match=re.escape(reason)):
        parse_port(value)  # type: ignore[arg-type]


@given(st.integers(0, 65535))
def test_parse_port_of_a_number_is_validate_port(n: int) -> None:
    assert parse_port(n) == parse_port(str(n)) == n


def test_one_way_per_question() -> None:
    # Issue 15: the asymmetric look-ups are gone; each question has one function.
    for name in ("service_name", "service_port", "lookup_port", "classify_port"):
        assert not hasattr(netbasics, name)
        assert not hasattr(ports, name)
