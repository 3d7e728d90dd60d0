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
import pickle
import re
import socket
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import netbasics
from cli_run import run
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
from netbasics._parse import MAX_ZONE
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


# --- fields (CONTRACTS section 1, issue 20 section 4) --------------------------------------


@pytest.mark.parametrize(
    ("text", "at"), [("1::2::3", 4), ("::1::", 3), ("1:::3", 2), ("a::b::1.2.3.4", 4), ("fe80::1::%eth0", 7)]
)
def test_second_double_colon_is_located(text: str, at: int) -> None:
    # The position is where the second '::' begins (for ':::', its middle colon).
    with pytest.raises(AddressError) as info:
        netbasics.parse_address(text)
    assert (info.value.reason, info.value.at) == ("more than one '::'", at)
    assert text[at : at + 2] == "::"


def test_address_error_fields() -> None:
    with pytest.raises(AddressError) as info:
        netbasics.parse_address("1.2.3.256")
    err = info.value
    assert (err.input, err.reason, err.at) == ("1.2.3.256", "octet 256 out of range", 6)
    assert str(err) == "octet 256 out of range in '1.2.3.256'"
    with pytest.raises(AddressError) as info:
        netbasics.parse_address("2001:db8::g1")
    assert info.value.at == 10
    assert "2001:db8::g1"[info.value.at] == "g"
    with pytest.raises(AddressError) as info:
        netbasics.parse_address("::ffff:1.2.3.999")
    assert info.value.at is not None
    assert "::ffff:1.2.3.999"[info.value.at :] == "999"
    # The input is kept cut short: an exception never holds a megabyte.
    with pytest.raises(AddressError) as info:
        netbasics.parse_address("1." * 500_000)
    assert info.value.input == ("1." * 30)
    assert len(str(info.value)) <= MAX_MESSAGE
    # Non-text inputs are kept as they are.
    with pytest.raises(AddressError) as info:
        IPv4Address(2**32)
    assert info.value.input == 2**32
    assert str(info.value) == "out of range for IPv4Address (0 to 4294967295): 4294967296"


def test_wrapping_errors_carry_fields_and_do_not_quote_twice() -> None:
    with pytest.raises(CIDRError) as info:
        netbasics.parse_interface("1.2.3/24")
    assert info.value.input == "1.2.3/24"
    assert info.value.reason.startswith("bad address in interface: expected 4 octets")
    assert str(info.value).count("'1.2.3/24'") == 1
    with pytest.raises(EndpointError) as endpoint_info:
        Endpoint("1.2.3.999", 80)
    assert endpoint_info.value.input == "1.2.3.999"
    assert endpoint_info.value.at == 6


def test_the_one_message_form_still_works() -> None:
    # Callers' own framers and code may raise these with a message, as before.
    err = CIDRError("my own message")
    assert (str(err), err.input, err.reason, err.at) == ("my own message", None, "my own message", None)
    frame = netbasics.FrameTooLarge("record too long")
    assert (str(frame), frame.size, frame.limit) == ("record too long", None, None)
    assert str(netbasics.ConnectError("no route")) == "no route"
    assert netbasics.ConnectError("no route").attempts == ()


def test_frame_too_large_fields() -> None:
    with pytest.raises(netbasics.FrameTooLarge) as info:
        LengthPrefixFramer(max_size=100).feed(b"\x00\x00\x01\x00")
    assert (info.value.size, info.value.limit, info.value.at_least) == (256, 100, False)
    with pytest.raises(netbasics.FrameTooLarge) as info:
        LineFramer(max_size=4).feed(b"abcdefgh")
    assert (info.value.size, info.value.limit, info.value.at_least) == (8, 4, True)
    assert str(info.value) == "line of at least 8 bytes is longer than max_size=4"
    with pytest.raises(netbasics.FrameTooLarge) as info:
        LineFramer(max_size=4).encode(b"abcdefgh")
    assert (info.value.size, info.value.limit, info.value.at_least) == (8, 4, False)


def _dead_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_connect_error_lists_every_attempt() -> None:
    port = _dead_port()
    with pytest.raises(netbasics.ConnectError) as info:
        netbasics.connect_tcp(("127.0.0.1", port), connect_timeout=5)
    ((where, exc),) = info.value.attempts
    assert where == Endpoint("127.0.0.1", port)
    assert isinstance(exc, ConnectionRefusedError)
    assert info.value.operation == f"connect to 127.0.0.1:{port}"


def test_connect_unix_error_names_the_attempt(tmp_path: Path) -> None:
    target = netbasics.UnixAddress(str(tmp_path / "nobody.sock"))
    with pytest.raises(netbasics.ConnectError) as info:
        netbasics.connect_unix(target)
    ((where, exc),) = info.value.attempts
    assert where == target
    assert isinstance(exc, FileNotFoundError)


def test_timeout_fields() -> None:
    a, b = socket.socketpair()
    with netbasics.StreamConnection(a) as conn, b:
        with pytest.raises(netbasics.NetTimeoutError) as info:
            conn.recv(timeout=0.05)
        assert info.value.timeout == 0.05
        assert info.value.operation.startswith("recv from")
        assert str(info.value).endswith("timed out after 0.05 s")


def test_closed_by_the_peer_and_closed_here_are_two_errors() -> None:
    a, b = socket.socketpair()
    with netbasics.StreamConnection(a) as conn:
        b.sendall(b"abc")
        b.close()
        with pytest.raises(netbasics.PeerClosed) as peer:
            conn.recv_exactly(10)
        assert peer.value.partial == b"abc"
        assert isinstance(peer.value, netbasics.ConnectionClosed)
        conn.close()
        with pytest.raises(netbasics.ClosedLocally) as here:
            conn.recv()
        assert not isinstance(here.value, netbasics.PeerClosed)
        assert isinstance(here.value, netbasics.ConnectionClosed)
        assert here.value.operation == "recv from"
    with netbasics.open_unix_datagram() as sock:
        target = sock.local
    with pytest.raises(netbasics.ClosedLocally):
        sock.send_to(b"x", target)


def test_the_library_never_reads_its_own_messages() -> None:
    # Decisions are made on fields (errno, .reason, the class), never on an error's text
    # or on what it was chained from (issue 20 section 4).
    source = Path(netbasics.__file__).parent
    pattern = re.compile(r"__cause__|__context__|str\((exc|err|error)\)\.(remove|starts|ends|split|partition|find)")
    hits = [
        f"{path.relative_to(source)}:{n}"
        for path in sorted(source.rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert hits == []


# --- every message at every nesting is short (issue 19 item 1) ------------------------------

ZONED = "fe80::1%" + "x" * 10**6


def _chain(exc: BaseException | None) -> Iterator[BaseException]:
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def _send_too_large(target: str) -> None:
    with netbasics.open_udp(family=6) as sock:
        sock.send_to(b"x" * 70_000, target)


def _error_of(call: Callable[[], object]) -> BaseException:
    """The error ``call`` raises, or the one it returns (for constructors)."""
    try:
        result = call()
    except Exception as exc:
        return exc
    assert isinstance(result, BaseException), result
    return result


@pytest.mark.parametrize(
    "call",
    [
        lambda: netbasics.check_destination(ZONED),
        lambda: netbasics.parse_address(ZONED),
        lambda: netbasics.parse_interface("::ffff:" + "1." * 500_000),
        lambda: netbasics.parse_interface(ZONED + "/64"),
        lambda: netbasics.parse_endpoint(f"[{ZONED}]:80"),
        lambda: netbasics.parse_host_port(f"[{ZONED}]:80"),
        lambda: netbasics.parse_network("::ffff:" + "1." * 500_000 + "/96"),
        lambda: netbasics.parse_range(ZONED + "-" + ZONED),
        lambda: IPv6Address("fe80::1", zone="y" * 10**6),
        lambda: netbasics.AddressSet.from_lines(["::ffff:" + "1." * 500_000]),
        lambda: _send_too_large(f"[fe80::1%{'x' * 64}]:9"),
        lambda: _send_too_large(f"[fe80::1%{'x' * 10**6}]:9"),
        lambda: netbasics.ConnectError("x" * 10_000),
        lambda: CIDRError("y" * 10_000, "z" * 10_000),
    ],
)
def test_messages_stay_short_at_every_nesting(call: Callable[[], object]) -> None:
    for exc in _chain(_error_of(call)):
        assert len(str(exc)) <= MAX_MESSAGE, type(exc)


def test_zones_are_bounded_at_parse() -> None:
    longest = "z" * MAX_ZONE
    assert IPv6Address(f"fe80::1%{longest}").zone == longest
    assert IPv6Address("fe80::1%4294967295").zone == "4294967295"  # a 32-bit numeric zone
    with pytest.raises(AddressError, match="zone of 65 characters is longer than 64") as info:
        IPv6Address(f"fe80::1%{longest}z")
    assert info.value.at == len("fe80::1%")
    with pytest.raises(AddressError, match="longer than 64"):
        IPv6Address("fe80::1", zone=longest + "z")


def test_cli_classify_lines_stay_short() -> None:
    for argv, stdin in (
        (["classify", ZONED], ""),
        (["classify"], ZONED + "\n"),
        (["classify", "::ffff:" + "1." * 500_000], ""),
        (["check", ZONED], ""),
    ):
        code, _, err = run(argv, stdin)
        assert code != 0
        assert err
        assert all(len(line) <= 2 * MAX_MESSAGE for line in err.splitlines()), [len(x) for x in err.splitlines()]


# --- str subclasses (issue 19 item 8) ------------------------------------------------------


class Hostile(str):
    """A str whose every method misbehaves: parsers must read only its value."""

    def _boom(self, *args: object, **kwargs: object) -> Any:
        raise RuntimeError("hostile str method called")

    __str__ = __repr__ = __format__ = __getitem__ = __len__ = __contains__ = __iter__ = _boom
    split = rsplit = partition = rpartition = find = rfind = index = strip = lower = upper = _boom
    encode = isdigit = isascii = isprintable = startswith = endswith = count = replace = _boom
    __add__ = __radd__ = __mod__ = __eq__ = __lt__ = _boom
    __hash__ = _boom


STR_ENTRY_POINTS: list[tuple[str, Callable[[Any], object]]] = [
    ("parse_address", netbasics.parse_address),
    ("parse_ipv4", netbasics.parse_ipv4),
    ("parse_ipv6", netbasics.parse_ipv6),
    ("IPv4Address", IPv4Address),
    ("IPv6Address", IPv6Address),
    ("IPv6Address(zone=)", lambda v: IPv6Address("fe80::1", zone=v)),
    ("parse_network", netbasics.parse_network),
    ("IPv4Network", IPv4Network),
    ("IPv6Network", IPv6Network),
    ("parse_interface", netbasics.parse_interface),
    ("parse_range", netbasics.parse_range),
    ("parse_endpoint", netbasics.parse_endpoint),
    ("Endpoint", Endpoint),
    ("parse_host_port", netbasics.parse_host_port),
    ("HostPort", HostPort),
    ("parse_port", netbasics.parse_port),
    ("validate_port", netbasics.validate_port),
    ("find_service", netbasics.find_service),
    ("classify", netbasics.classify),
    ("is_safe_destination", netbasics.is_safe_destination),
    ("check_destination", netbasics.check_destination),
    ("AddressSet", lambda v: AddressSet([v])),
    ("parse_unix_address", netbasics.parse_unix_address),
]
STR_TEXTS = ["10.0.0.1", "8.8.8.8", "fe80::1%eth0", "2001:db8::1", "10.0.0.0/8", "10.0.0.1:80", "[::1]:443"]
STR_TEXTS += ["80", "https", "example.com:443", "1.2.3.4-1.2.3.9", "unix:/tmp/x.sock", "eth0", "bogus", ""]


def _outcome(call: Callable[[Any], object], value: object) -> tuple[str, object]:
    try:
        result = call(value)
    except Exception as exc:
        return type(exc).__name__, str(exc)
    return "ok", result


@pytest.mark.parametrize(("name", "call"), STR_ENTRY_POINTS, ids=[n for n, _ in STR_ENTRY_POINTS])
def test_str_subclasses_are_parsed_by_their_value(name: str, call: Callable[[Any], object]) -> None:
    # The rule (errors module docs): a str subclass is read as the string it holds; none of
    # its methods run, so it cannot break a parse halfway or change the result.
    for text in STR_TEXTS:
        assert _outcome(call, Hostile(text)) == _outcome(call, text), text


@pytest.mark.parametrize(
    "error",
    [
        AddressError("1.2.3.256", "octet 256 out of range", at=6),
        CIDRError("plain message"),
        netbasics.FrameTooLarge(10, 4, at_least=True, what="line"),
        netbasics.ConnectError("connect to x:1", "refused", attempts=((Endpoint("127.0.0.1", 1), None),)),
        netbasics.NetTimeoutError("recv from x:1", 2.5, detail="more"),
        netbasics.PeerClosed("x closed the connection", partial=b"ab"),
        netbasics.ClosedLocally("recv from"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_errors_pickle_with_their_fields(error: BaseException) -> None:
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert copy.__dict__ == error.__dict__


def test_port_error_fields() -> None:
    with pytest.raises(PortError) as info:
        netbasics.validate_port("080")
    assert (info.value.input, info.value.reason) == ("080", "has a leading zero (ambiguous: octal or decimal?)")
    assert str(info.value) == "port '080' has a leading zero (ambiguous: octal or decimal?)"
    with pytest.raises(PortError) as info:
        netbasics.parse_port("htps")
    assert info.value.input == "htps"
    assert str(info.value) == "port 'htps' is neither a port number nor a known tcp service name"
    # Wrapped, a port error keeps its subject: its reason does not read alone.
    with pytest.raises(EndpointError, match=r"bad port in '1\.2\.3\.4:080': port '080' has a leading zero"):
        netbasics.parse_endpoint("1.2.3.4:080")


def test_closed_locally_names_the_call_that_was_made() -> None:
    import socket

    from netbasics import ClosedLocally, LineFramer, StreamConnection

    a, b = socket.socketpair()
    with b:
        conn = StreamConnection(a, timeout=1.0)
        conn.close()
        calls: list[tuple[Callable[[], object], str]] = [
            (lambda: conn.recv(), "recv from"),
            (lambda: conn.recv_until(b"\n"), "recv from"),
            (lambda: conn.recv_exactly(3), "recv from"),
            (lambda: conn.recv_message(LineFramer()), "recv from"),
            (lambda: conn.recv(timeout=0.5), "recv from"),
            (lambda: conn.send_all(b"x"), "send to"),
            (lambda: conn.send_all(b"x", timeout=0.5), "send to"),
        ]
        for call, operation in calls:
            with pytest.raises(ClosedLocally) as info:
                call()
            assert info.value.operation == operation
