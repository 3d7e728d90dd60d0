"""The errors rule of API 1.0, checked against every public parse, validate and classify entry.

Errors about data are ``NetbasicsError`` subclasses that are also ``ValueError``; a wrong
type is a plain ``TypeError``; a wrong argument value (framer settings) a plain
``ValueError``. Whatever the input (ints too wide to print, megabytes of text, objects
whose ``repr()`` raises), an entry point raises only its documented types, and the
message quotes the input cut short: never more than ``MAX_MESSAGE`` characters.
"""

from __future__ import annotations

import enum
import ipaddress
from collections.abc import Callable
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

import netbasics
from netbasics import (
    AddressError,
    AddressRange,
    AddressSet,
    CIDRError,
    Endpoint,
    EndpointError,
    HostPort,
    IPv4Address,
    IPv4Network,
    IPv6Address,
    IPv6Network,
    LengthPrefixFramer,
    LineFramer,
    NetbasicsError,
    PortError,
)
from netbasics.errors import quote

MAX_MESSAGE = 300
HUGE = 10**5000  # str() of this raises: it has more than sys.int_max_str_digits digits


class HugeEnum(enum.IntEnum):
    BIG = HUGE


class BadRepr:
    """An object whose repr() and str() fail: a message quoting it must still be built."""

    def __repr__(self) -> str:
        raise RuntimeError("no repr")

    __str__ = __repr__


class TextSubclass(str):
    pass


# Inputs no entry point accepts, or accepts only to refuse as data.
NASTY: list[object] = [
    HUGE,
    -HUGE,
    2**200,
    -1,
    HugeEnum.BIG,
    True,
    None,
    1.5,
    float("nan"),
    80j,
    Decimal("1e5000"),
    b"1.2.3.4",
    bytearray(b"\xff" * 100_000),
    memoryview(b"\x00" * 7),
    "",
    "1" * 1_000_000,
    "a" * 1_000_000,
    "1:" * 500_000 + "80",
    "[" + "1:" * 500_000 + "]:80",
    "1.2.3.4:" + "9" * 100_000,
    "1.2.3.4/" + "9" * 100_000,
    "10.0.0.1-" + "x" * 1_000_000,
    "\x00" * 100_000,
    "\u0668" * 100_000,  # Arabic-Indic digit eight: isdigit(), not ASCII
    "fe80::1%" + "z" * 100_000,
    "x." * 200_000 + "com:80",
    TextSubclass("9" * 100_000),
    [HUGE],
    (HUGE, HUGE),
    ("1.2.3.4", HUGE),
    ("1.2.3.4", "9" * 100_000),
    (HUGE, 8),
    ("a" * 1_000_000, 80),
    ("::1", 80, 0, HUGE),
    {"a": HUGE},
    object(),
    BadRepr(),
    [BadRepr()],
    ipaddress.ip_address("fe80::1%eth0"),
]

# Every entry point that reads a value, with the exception types its docs promise.
DATA = (NetbasicsError, TypeError)  # NetbasicsError subclasses here are all ValueErrors
ARGUMENT = (TypeError, ValueError)  # plain builtins: bad settings are the caller's bug

ENTRY_POINTS: dict[str, tuple[Callable[..., object], tuple[type[Exception], ...]]] = {
    "parse_address": (netbasics.parse_address, DATA),
    "parse_ipv4": (netbasics.parse_ipv4, DATA),
    "parse_ipv6": (netbasics.parse_ipv6, DATA),
    "IPv4Address": (IPv4Address, DATA),
    "IPv6Address": (IPv6Address, DATA),
    "is_valid_address": (netbasics.is_valid_address, ()),
    "classify": (netbasics.classify, DATA),
    "is_safe_destination": (netbasics.is_safe_destination, DATA),
    "parse_network": (netbasics.parse_network, DATA),
    "IPv4Network": (IPv4Network, DATA),
    "IPv6Network": (IPv6Network, DATA),
    "parse_range": (netbasics.parse_range, DATA),
    "AddressRange(x, x)": (lambda v: AddressRange(v, v), DATA),
    "summarize_range": (lambda v: netbasics.summarize_range(v, v), DATA),
    "collapse": (lambda v: netbasics.collapse([v]), DATA),
    "exclude": (lambda v: netbasics.exclude("10.0.0.0/8", v), DATA),
    "AddressSet": (lambda v: AddressSet([v]), DATA),
    "AddressSet.from_lines": (lambda v: AddressSet.from_lines([v]), DATA),
    "validate_port": (netbasics.validate_port, DATA),
    "parse_port": (netbasics.parse_port, DATA),
    "port_category": (netbasics.port_category, DATA),
    "services_for_port": (netbasics.services_for_port, DATA),
    "find_service": (netbasics.find_service, DATA),
    "parse_endpoint": (netbasics.parse_endpoint, DATA),
    "parse_host_port": (netbasics.parse_host_port, DATA),
    "Endpoint(x)": (Endpoint, DATA),
    "Endpoint(address, x)": (lambda v: Endpoint("192.0.2.1", v), DATA),
    "Endpoint(x, port)": (lambda v: Endpoint(v, 80), DATA),
    "Endpoint.from_sockaddr": (Endpoint.from_sockaddr, DATA),
    "HostPort(x)": (HostPort, DATA),
    "HostPort(host, x)": (lambda v: HostPort("example.com", v), DATA),
    "LineFramer(delimiter=x)": (lambda v: LineFramer(delimiter=v), ARGUMENT),
    "LineFramer(max_size=x)": (lambda v: LineFramer(max_size=v), ARGUMENT),
    "LengthPrefixFramer(header_size=x)": (lambda v: LengthPrefixFramer(header_size=v), ARGUMENT),
    "LengthPrefixFramer(max_size=x)": (lambda v: LengthPrefixFramer(max_size=v), ARGUMENT),
}


def _check(name: str, value: object) -> None:
    """Call one entry point; any exception must be documented, with a short message."""
    call, allowed = ENTRY_POINTS[name]
    try:
        call(value)
    except Exception as exc:  # the point is to see every exception type
        caught: Exception = exc
    else:
        return
    assert isinstance(caught, allowed), f"{name}({quote(value)}) raised {type(caught).__name__}: {caught}"
    if isinstance(caught, NetbasicsError):
        assert isinstance(caught, ValueError), f"{name}: data errors here are ValueErrors"
    elif allowed is DATA:
        assert type(caught) is TypeError, f"{name}: only a wrong type may raise a plain builtin"
    message = str(caught)
    assert message, f"{name}({quote(value)}) raised {type(caught).__name__} with no message"
    assert len(message) <= MAX_MESSAGE, f"{name}({quote(value)}): {len(message)}-character message"
    assert "int_max_str_digits" not in message


@pytest.mark.parametrize("name", list(ENTRY_POINTS))
@pytest.mark.parametrize("value", NASTY, ids=lambda v: f"{type(v).__name__}:{quote(v)[:20]}")
def test_nasty_inputs(name: str, value: object) -> None:
    _check(name, value)


SOME_INPUT = st.one_of(
    st.integers(),
    st.integers(min_value=2**100).map(lambda n: n**40),  # far past the str() digit limit
    st.text(max_size=300),
    st.text(alphabet="0123456789abcdef:.[]%/-", max_size=400),
    st.binary(max_size=40),
    st.floats(),
    st.none(),
    st.booleans(),
    st.tuples(st.text(alphabet="0123456789.:", max_size=50), st.integers()),
    st.tuples(st.integers(), st.integers()),
    st.lists(st.integers(), max_size=3),
)


@given(st.sampled_from(list(ENTRY_POINTS)), SOME_INPUT)
def test_any_input_raises_only_documented_errors(name: str, value: object) -> None:
    _check(name, value)


def test_issue_examples() -> None:
    # The calls issue 15 reported as leaking Python's int-to-str ValueError.
    for call in (
        lambda: netbasics.parse_address(HUGE),
        lambda: IPv4Address(HUGE),
        lambda: netbasics.classify(HUGE),
        lambda: netbasics.is_safe_destination(HUGE),
        lambda: Endpoint("1.2.3.4", HUGE),
        lambda: netbasics.parse_network(("1.2.3.4", HUGE)),  # type: ignore[arg-type]
    ):
        with pytest.raises(NetbasicsError) as info:
            call()
        assert "out of range" in str(info.value)
        assert len(str(info.value)) <= MAX_MESSAGE
    # ... and the hint that repeated a million-character host.
    with pytest.raises(EndpointError, match="ambiguous IPv6 endpoint") as info:
        netbasics.parse_endpoint("1:" * 500_000 + "80")
    assert len(str(info.value)) <= MAX_MESSAGE


@pytest.mark.parametrize(
    ("error", "builtin"),
    [
        (AddressError, ValueError),
        (CIDRError, ValueError),
        (PortError, ValueError),
        (EndpointError, ValueError),
        (netbasics.FrameTooLarge, ValueError),
        (netbasics.DatagramTooLarge, ValueError),
        (netbasics.UnsafeDestination, ValueError),
        (netbasics.ResolveError, OSError),
        (netbasics.BindError, OSError),
        (netbasics.ConnectError, ConnectionError),
        (netbasics.ConnectionClosed, ConnectionError),
        (netbasics.NetTimeoutError, TimeoutError),
    ],
)
def test_every_error_has_one_base_and_a_builtin(error: type[Exception], builtin: type[Exception]) -> None:
    assert issubclass(error, NetbasicsError)
    assert issubclass(error, builtin)


@pytest.mark.parametrize(
    "call",
    [
        lambda: LineFramer(delimiter=b""),
        lambda: LineFramer(max_size=-1),
        lambda: LengthPrefixFramer(header_size=3),
        lambda: LengthPrefixFramer(header_size=1, max_size=256),
        lambda: netbasics.parse_port(80, "icmp"),
        lambda: IPv4Network("10.0.0.0/8").subnets(new_prefix=4),
        lambda: IPv4Network("10.0.0.0/8").supernet(new_prefix=16),
    ],
)
def test_bad_argument_values_are_plain_value_errors(call: Callable[[], object]) -> None:
    with pytest.raises(ValueError, match=r"must|unknown|shorter|longer|fit") as info:
        call()
    assert type(info.value) is ValueError


@pytest.mark.parametrize(
    "call",
    [
        lambda: LineFramer(delimiter="\n"),  # type: ignore[arg-type]
        lambda: LineFramer(max_size=1.5),  # type: ignore[arg-type]
        lambda: LengthPrefixFramer(header_size=4.0),  # type: ignore[arg-type]
        lambda: netbasics.validate_port(80.0),
        lambda: netbasics.parse_port(80, protocol=6),  # type: ignore[arg-type]
        lambda: netbasics.find_service(80),  # type: ignore[arg-type]
        lambda: netbasics.parse_endpoint(("1.2.3.4", 80)),  # type: ignore[arg-type]
        lambda: netbasics.parse_range(5),  # type: ignore[arg-type]
        lambda: netbasics.parse_address(1.5),  # type: ignore[arg-type]
        lambda: IPv4Network("10.0.0.0/8").subnets(new_prefix="16"),  # type: ignore[arg-type]
    ],
)
def test_wrong_types_are_plain_type_errors(call: Callable[[], object]) -> None:
    with pytest.raises(TypeError) as info:
        call()
    assert type(info.value) is TypeError


# --- quote -----------------------------------------------------------------------------


@pytest.mark.parametrize("value", NASTY, ids=lambda v: f"{type(v).__name__}:{quote(v)[:20]}")
def test_quote_is_short_and_never_raises(value: object) -> None:
    assert len(quote(value)) <= 80


def test_quote_shapes() -> None:
    assert quote("abc") == "'abc'"
    assert quote(80) == "80"
    assert quote(HUGE) == "<16610-bit int>"
    assert quote(-HUGE) == "<-16610-bit int>"
    assert quote(BadRepr()).startswith("<BadRepr ")
    assert quote("x" * 100).endswith("...' (100 chars)")
    assert quote(b"x" * 100).endswith("...' (100 bytes)")
    assert quote([1] * 1000).endswith("...]")
