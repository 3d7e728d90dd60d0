"""Parsing and formatting of address text: RFC 4291 forms, RFC 5952 output, strictness.

Table tests come from the RFCs; property tests check round trips over the whole 32- and
128-bit ranges and compare with stdlib ``ipaddress`` on valid, near-valid and random
text. The differences from stdlib are few, deliberate and listed in
``stdlib_accepts_but_we_do_not`` below (and in docs/addresses.md).
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import netbasics
from netbasics import AddressError, IPv4Address, IPv6Address, NetbasicsError, parse_address, parse_ipv4, parse_ipv6

V4_MAX = 2**32 - 1
V6_MAX = 2**128 - 1
MAPPED = 0xFFFF << 32

# --------------------------------------------------------------------------- strategies

v4_ints = st.integers(0, V4_MAX)
# Groups biased towards 0 so that zero runs of every length and position occur, and
# towards 0xffff so that IPv4-mapped addresses occur.
_group = st.one_of(st.just(0), st.just(0), st.just(0xFFFF), st.integers(0, 0xFFFF))


@st.composite
def v6_ints(draw: st.DrawFn) -> int:
    """A 128-bit int: uniform, or built from zero-heavy groups, or IPv4-mapped."""
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return draw(st.integers(0, V6_MAX))
    if kind == 1:
        return MAPPED | draw(v4_ints)
    value = 0
    for g in draw(st.lists(_group, min_size=8, max_size=8)):
        value = (value << 16) | g
    return value


@st.composite
def v6_spellings(draw: st.DrawFn, value: int) -> str:
    """Any RFC 4291 section 2.2 spelling of ``value``: padding, case, '::' anywhere legal, dotted tail."""
    groups = [(value >> (112 - 16 * i)) & 0xFFFF for i in range(8)]
    dotted = draw(st.booleans())
    n = 6 if dotted else 8
    words = []
    for g in groups[:n]:
        digits = "%x" % g
        width = draw(st.integers(len(digits), 4))
        words.append(digits.rjust(width, "0"))
    # Compress one run of zero groups, if there is one and the coin says so.
    runs = [(i, j) for i in range(n) for j in range(i + 1, n + 1) if all(groups[k] == 0 for k in range(i, j))]
    compress = draw(st.booleans())
    if runs and compress:
        i, j = draw(st.sampled_from(runs))
        text = ":".join(words[:i]) + "::" + ":".join(words[j:])
    else:
        text = ":".join(words)
    if dotted:
        v4 = value & V4_MAX
        text += ("" if text.endswith(":") else ":") + f"{v4 >> 24}.{(v4 >> 16) & 255}.{(v4 >> 8) & 255}.{v4 & 255}"
    if draw(st.booleans()):
        text = "".join(c.upper() if draw(st.booleans()) else c for c in text)
    return text


@st.composite
def valid_texts(draw: st.DrawFn) -> str:
    """Valid address text of either family, in any legal spelling, sometimes with a zone."""
    if draw(st.booleans()):
        return str(IPv4Address(draw(v4_ints)))
    text = draw(v6_spellings(draw(v6_ints())))
    if draw(st.integers(0, 5)) == 0:
        text += "%" + draw(st.sampled_from(["eth0", "1", "en0.10", "Wi-Fi", "lo"]))
    return text


# Characters that turn a valid address into an almost-valid one: separators, hex
# letters beyond f, signs, whitespace, zone and URL punctuation, and non-ASCII digits
# that int() would accept (Arabic-Indic, fullwidth, superscript).
_NEAR_CHARS = "0123456789abcdefABCDEFgG:.%xX+-_ \t\n/[]\u0663\uff11\u00b2\u0130\u212a"


@st.composite
def near_valid_texts(draw: st.DrawFn) -> str:
    """A valid text with a few random edits: insert, delete, duplicate, replace, swap."""
    text = draw(valid_texts())
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.integers(0, 4))
        pos = draw(st.integers(0, len(text)))
        ch = draw(st.sampled_from(_NEAR_CHARS))
        if op == 0:
            text = text[:pos] + ch + text[pos:]
        elif op == 1 and text:
            text = text[:pos] + text[pos + 1 :]
        elif op == 2 and pos < len(text):
            text = text[:pos] + text[pos] + text[pos:]
        elif op == 3 and pos < len(text):
            text = text[:pos] + ch + text[pos + 1 :]
        elif op == 4 and pos + 1 < len(text):
            text = text[:pos] + text[pos + 1] + text[pos] + text[pos + 2 :]
    return text


any_texts = st.one_of(near_valid_texts(), valid_texts(), st.text(alphabet=_NEAR_CHARS, max_size=50), st.text())


def stdlib_parse(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


_BAD_ZONE_CHARS = re.compile(r"[\s%/\[\]]")


def stdlib_accepts_but_we_do_not(text: str) -> bool:
    """The documented strictness cases where stdlib accepts text that we reject.

    Only zones: stdlib accepts any zone text without '%'; we refuse whitespace, '/',
    '[', ']' and unprintable characters in a zone (they would break URLs, endpoints
    and log lines). Python 3.9.5+ already rejects leading zeros and non-ASCII digits.
    """
    _, sep, zone = text.partition("%")
    return bool(sep) and (bool(_BAD_ZONE_CHARS.search(zone)) or not zone.isprintable())


def expected_text(value: int, version: int) -> str:
    """Our canonical text computed from stdlib, with the one documented formatting difference."""
    if version == 4:
        return str(ipaddress.IPv4Address(value))
    if value >> 32 == 0xFFFF:
        # RFC 5952 section 5: IPv4-mapped keeps the dotted tail (stdlib < 3.13 prints hex).
        return "::ffff:" + str(ipaddress.IPv4Address(value & V4_MAX))
    return str(ipaddress.IPv6Address(value))


# --------------------------------------------------------------------------- properties


@given(v4_ints)
def test_ipv4_int_text_int_round_trip(value: int) -> None:
    text = str(IPv4Address(value))
    assert int(parse_ipv4(text)) == value
    assert int(parse_address(text)) == value
    assert text == str(ipaddress.IPv4Address(value))


@given(v6_ints())
def test_ipv6_int_text_int_round_trip(value: int) -> None:
    addr = IPv6Address(value)
    for text in (str(addr), addr.exploded, addr.compressed):
        assert int(parse_ipv6(text)) == value
        assert int(parse_address(text)) == value
    assert str(addr) == expected_text(value, 6)


@given(st.integers(0, V6_MAX))
def test_parse_address_int_matches_stdlib(value: int) -> None:
    ours, theirs = parse_address(value), ipaddress.ip_address(value)
    assert (ours.version, int(ours)) == (theirs.version, int(theirs))


@given(st.data())
def test_every_spelling_parses_to_the_same_value(data: st.DataObject) -> None:
    value = data.draw(v6_ints())
    text = data.draw(v6_spellings(value))
    assert int(parse_address(text)) == value
    assert int(ipaddress.IPv6Address(text)) == value  # the strategy itself is sound


@given(valid_texts())
def test_str_is_a_fixed_point(text: str) -> None:
    addr = parse_address(text)
    canonical = str(addr)
    again = parse_address(canonical)
    assert again == addr
    assert str(again) == canonical
    address_part = canonical.partition("%")[0]
    assert address_part == address_part.lower()


@given(valid_texts())
def test_exploded_and_compressed_parse_to_the_same_value(text: str) -> None:
    addr = parse_address(text)
    assert parse_address(addr.exploded) == addr
    assert parse_address(addr.compressed) == addr
    if addr.version == 6:
        assert re.fullmatch(r"([0-9a-f]{4}:){7}[0-9a-f]{4}(%.+)?", addr.exploded)


@given(any_texts)
@example("1.2.3.4")
@example("::ffff:1.2.3.4")
@example("fe80::1%eth0")
@example("fe80::1%eth 0")
@example("010.0.0.1")
@example("::1.2.3.4")
@example("1:2:3:4:5:6:7::")
@example("1:2:3:4::5:6:7:8")
def test_agrees_with_stdlib(text: str) -> None:
    """Same value and canonical text where stdlib accepts; rejection where stdlib rejects."""
    theirs = stdlib_parse(text)
    try:
        ours = parse_address(text)
    except AddressError:
        assert theirs is None or stdlib_accepts_but_we_do_not(text), f"stdlib accepts {text!r} as {theirs}"
        return
    assert theirs is not None, f"we accept {text!r} as {ours!r}; stdlib rejects it"
    assert (ours.version, int(ours)) == (theirs.version, int(theirs))
    assert ours.zone == getattr(theirs, "scope_id", None)
    suffix = "" if ours.zone is None else f"%{ours.zone}"
    assert str(ours) == expected_text(int(ours), ours.version) + suffix
    assert netbasics.is_valid_address(text)


@given(any_texts)
def test_family_parsers_agree_with_parse_address(text: str) -> None:
    try:
        addr = parse_address(text)
    except AddressError:
        for parser in (parse_ipv4, parse_ipv6, IPv4Address, IPv6Address):
            with pytest.raises(AddressError):
                parser(text)
        assert not netbasics.is_valid_address(text)
        return
    if addr.version == 4:
        assert parse_ipv4(text) == IPv4Address(text) == addr
        with pytest.raises(AddressError):
            parse_ipv6(text)
    else:
        assert parse_ipv6(text) == IPv6Address(text) == addr
        with pytest.raises(AddressError):
            parse_ipv4(text)


def _view(data: bytes) -> memoryview:
    return memoryview(data)


_anything = st.one_of(
    any_texts,
    st.binary(max_size=20),
    st.binary(min_size=4, max_size=4),
    st.binary(min_size=16, max_size=16),
    st.integers(),
    st.integers(-1, 2**129),
    st.none(),
    st.floats(allow_nan=True),
    st.booleans(),
    st.builds(bytearray, st.binary(max_size=20)),
    st.binary(max_size=20).map(_view),
    st.lists(st.integers(0, 255), max_size=5),
    st.text().map(lambda t: t * 50),  # long input: messages must stay short
)


@given(_anything)
@example(float("nan"))
@example(math.inf)
@example("1." * 5000)
@example("1.1.1." + "9" * 5000)
@example(":" * 5000)
@example("1:" * 4000 + "::")
def test_fuzz_only_address_error_or_type_error(value: object) -> None:
    funcs: list[Callable[[Any], object]] = [
        parse_address,
        parse_ipv4,
        parse_ipv6,
        netbasics.classify,
        IPv4Address,
        IPv6Address,
        IPv4Address.from_bytes,
        IPv6Address.from_bytes,
    ]
    for func in funcs:
        message = ""
        try:
            func(value)
        except AddressError as exc:
            message = str(exc)
        except TypeError:
            pass
        assert len(message) < 300, message
    result = netbasics.is_valid_address(value)  # never raises
    assert result is (isinstance(value, str) and stdlib_parse(value) is not None and not _zone_refused(value))


def _zone_refused(text: str) -> bool:
    return stdlib_accepts_but_we_do_not(text)


# --------------------------------------------------------------------------- RFC 4291 section 2.2


@pytest.mark.parametrize(
    ("text", "value"),
    [
        # Form 1: x:x:x:x:x:x:x:x, leading zeros optional.
        ("ABCD:EF01:2345:6789:ABCD:EF01:2345:6789", 0xABCDEF0123456789ABCDEF0123456789),
        ("2001:DB8:0:0:8:800:200C:417A", 0x20010DB80000000000080800200C417A),
        ("2001:0db8:0000:0000:0008:0800:200c:417a", 0x20010DB80000000000080800200C417A),
        # Form 2: '::' for one or more groups of zeros.
        ("2001:DB8::8:800:200C:417A", 0x20010DB80000000000080800200C417A),
        ("FF01::101", 0xFF010000000000000000000000000101),
        ("::1", 1),
        ("::", 0),
        ("1::", 1 << 112),
        ("1:2:3:4:5:6:7::", 0x00010002000300040005000600070000),
        ("::2:3:4:5:6:7:8", 0x00000002000300040005000600070008),
        ("1:0:0:0:0:0:0:8", 0x00010000000000000000000000000008),
        # Form 3: x:x:x:x:x:x:d.d.d.d.
        ("0:0:0:0:0:0:13.1.68.3", 0x0D014403),
        ("0:0:0:0:0:FFFF:129.144.52.38", 0xFFFF81903426),
        ("::13.1.68.3", 0x0D014403),
        ("::FFFF:129.144.52.38", 0xFFFF81903426),
        ("64:ff9b::192.0.2.33", 0x0064FF9B0000000000000000C0000221),
        ("1:2:3:4:5:6:1.2.3.4", 0x00010002000300040005000601020304),
        # The exploded form, which has a shortcut of its own.
        ("1234:5678:9abc:def0:1234:5678:9ABC:DEF0", 0x123456789ABCDEF0123456789ABCDEF0),
        ("0000:0000:0000:0000:0000:0000:0000:0000", 0),
        ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 2**128 - 1),
    ],
)
def test_rfc4291_text_forms(text: str, value: int) -> None:
    addr = parse_ipv6(text)
    assert int(addr) == value
    assert int(ipaddress.IPv6Address(text)) == value


# RFC 4291 section 2.3 and common mistakes: none of these is an IPv6 address.
@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty string"),
        (":", "leading single ':'"),
        (":::", "more than one '::'"),
        ("1:::2", "more than one '::'"),
        ("1::2::3", "more than one '::'"),
        ("1:2:3:4:5:6:7:8:9", "expected 8 groups, got 9"),
        ("1:2:3:4:5:6:7", "expected 8 groups, got 7"),
        ("1:2:3:4::5:6:7:8", "'::' must stand for at least one group"),
        ("::1:2:3:4:5:6:7:8", "'::' must stand for at least one group"),
        ("1::2:3:4:5:6:7:8", "'::' must stand for at least one group"),
        ("1:2:3:4:5:6:7:8::", "'::' must stand for at least one group"),
        ("::1:2:3:4:5:6:7:8:9", "'::' must stand for at least one group"),
        ("::1::", "more than one '::'"),
        (":1::2", "leading single ':'"),
        ("1::2:", "trailing single ':'"),
        # 39 characters, the length of the exploded form, but not in its shape.
        ("1:34:5678:9abc:def0:1234:5678:9abc:def0", "expected 8 groups, got 9"),
        ("12345:678:9abc:def0:1234:5678:9abc:def0", "more than 4 hex digits"),
        ("1234:5678:9abc:def0:1234:5678:9abc::ef0", "'::' must stand for at least one group"),
        ("1234:5678:9abc:def0:1234:5678:9abc:de f", "character ' ' is not allowed"),
        ("1234:5678:9abc:def0:1234:5678:9abc:deg0", "character 'g' is not allowed"),
        ("12345::", "group '12345' has more than 4 hex digits"),
        ("00000::1", "more than 4 hex digits"),
        ("1:2:3:4:5:6:7:", "trailing single ':'"),
        (":1:2:3:4:5:6:7", "leading single ':'"),
        ("1:2:3:4:5:6:7:g", "character 'g' is not allowed"),
        ("::0x1", "character 'x' is not allowed"),
        ("::-1", "character '-' is not allowed"),
        ("::+1", "character '+' is not allowed"),
        ("::1_0", "character '_' is not allowed"),
        (":: 1", "character ' ' is not allowed"),
        ("::1 ", "character ' ' is not allowed"),
        ("::\u0663", "is not allowed"),
        ("::\uff11", "is not allowed"),
        ("1:2:3:4:5:6:7:1.2.3.4", "expected 8 groups, got 9"),
        ("1:2:3:4:5:6::1.2.3.4", "'::' must stand for at least one group"),
        ("::1.2.3", "bad IPv4 tail '1.2.3'"),
        ("::1.2.3.04", "leading zero"),
        ("::1.2.3.256", "octet 256 out of range"),
        ("1.2.3.4::", "bad IPv4 tail ''"),
        ("::1.2.3.4:1", "bad IPv4 tail '1'"),
        (":1.2.3.4", "dotted IPv4 tail needs IPv6 groups before it"),
        ("1::%", "empty zone after '%'"),
        ("%eth0", "no address before '%'"),
        ("fe80::1%eth 0", "zone 'eth 0' contains a forbidden character"),
        ("fe80::1%a%b", "forbidden character"),
        ("fe80::1%a/64", "forbidden character"),
        ("fe80::1%a]", "forbidden character"),
        ("fe80::1%\x00", "forbidden character"),
    ],
)
def test_invalid_ipv6_text_is_rejected_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(AddressError) as info:
        parse_ipv6(text)
    assert reason in str(info.value)
    assert repr(text)[:20] in str(info.value) or not text


# --------------------------------------------------------------------------- RFC 5952 section 4


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        # 4.1: leading zeros are suppressed; a single 0 stays.
        ("2001:0db8::0001", "2001:db8::1"),
        ("2001:db8:0000:0:1::1", "2001:db8::1:0:0:1"),
        # 4.2.1: '::' is as long as possible.
        ("2001:db8:0:0:0:0:2:1", "2001:db8::2:1"),
        ("2001:db8::0:1", "2001:db8::1"),
        # 4.2.2: '::' never shortens a single 16-bit 0 field.
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
        ("2001:db8::1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
        # 4.2.3: the longest run is shortened; on a tie, the first one.
        ("2001:0:0:1:0:0:0:1", "2001:0:0:1::1"),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
        ("0:0:1:0:0:1:0:0", "::1:0:0:1:0:0"),
        ("1:0:0:1:0:0:1:1", "1::1:0:0:1:1"),
        # 4.3: lower case.
        ("2001:DB8::AAAA:BbBb:1", "2001:db8::aaaa:bbbb:1"),
        # Edges: all zeros, runs at either end, no zeros.
        ("0:0:0:0:0:0:0:0", "::"),
        ("0:0:0:0:0:0:0:1", "::1"),
        ("1:0:0:0:0:0:0:0", "1::"),
        ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"),
        ("0:1:2:3:4:5:6:7", "0:1:2:3:4:5:6:7"),
        ("1:2:3:4:5:6:7:0", "1:2:3:4:5:6:7:0"),
        # Section 5: IPv4-mapped addresses keep the dotted tail; other embeddings do not.
        ("::ffff:c000:0280", "::ffff:192.0.2.128"),
        ("0:0:0:0:0:ffff:0:0", "::ffff:0.0.0.0"),
        ("::ffff:255.255.255.255", "::ffff:255.255.255.255"),
        ("::192.0.2.128", "::c000:280"),
        ("64:ff9b::192.0.2.128", "64:ff9b::c000:280"),
        ("::ffff:0:192.0.2.128", "::ffff:0:c000:280"),
        ("1::ffff:1.2.3.4", "1::ffff:102:304"),
    ],
)
def test_rfc5952_canonical_text(text: str, canonical: str) -> None:
    addr = parse_ipv6(text)
    assert str(addr) == canonical
    assert addr.compressed == canonical
    assert repr(addr) == f"IPv6Address('{canonical}')"
    assert str(parse_ipv6(canonical)) == canonical


def test_exploded_ipv6() -> None:
    assert parse_ipv6("2001:db8::1").exploded == "2001:0db8:0000:0000:0000:0000:0000:0001"
    assert parse_ipv6("fe80::1%eth0").exploded == "fe80:0000:0000:0000:0000:0000:0000:0001%eth0"
    assert parse_ipv6("::ffff:1.2.3.4").exploded == "0000:0000:0000:0000:0000:ffff:0102:0304"


# --------------------------------------------------------------------------- IPv4 strictness


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("010.0.0.1", "octet '010' has a leading zero (ambiguous: octal or decimal?) in '010.0.0.1'"),
        ("1.2.3.00", "octet '00' has a leading zero"),
        ("1.2.3.256", "octet 256 out of range in '1.2.3.256'"),
        ("1.2.3.1000", "octet 1000 out of range"),
        ("1.2.3." + "9" * 5000, "out of range"),
        ("\uff11.2.3.4", "octet '\uff11' is not plain ASCII decimal"),
        ("\u0661.2.3.4", "is not plain ASCII decimal"),
        ("1.2.3.\u00b2", "is not plain ASCII decimal"),
        ("1.2.3", "expected 4 octets separated by '.', got 3 in '1.2.3'"),
        ("1.2.3.4.5", "expected 4 octets separated by '.', got 5"),
        ("1.2.3.4.", "expected 4 octets separated by '.', got 5"),
        ("1..3.4", "empty octet in '1..3.4'"),
        (".1.2.3", "empty octet"),
        (" 1.2.3.4", "octet ' 1' is not plain ASCII decimal"),
        ("1.2.3.4 ", "is not plain ASCII decimal"),
        ("1.2.3.4\n", "is not plain ASCII decimal"),
        ("+1.2.3.4", "octet '+1' is not plain ASCII decimal"),
        ("-1.2.3.4", "is not plain ASCII decimal"),
        ("0x1.2.3.4", "octet '0x1' is not plain ASCII decimal"),
        ("1_0.2.3.4", "is not plain ASCII decimal"),
        ("1.2.3.4%eth0", "is not plain ASCII decimal"),
        ("1.2.3.4/32", "is not plain ASCII decimal"),
        ("127.1", "expected 4 octets"),
        ("2130706433", "expected 4 octets separated by '.', got 1"),
        ("0x7f000001", "expected 4 octets"),
        ("", "empty string is not an IPv4 address"),
    ],
)
def test_ipv4_strictness(text: str, message: str) -> None:
    for parser in (parse_ipv4, parse_address, IPv4Address):
        with pytest.raises(AddressError) as info:
            parser(text)
        assert message in str(info.value)
    assert not netbasics.is_valid_address(text)


def test_ipv4_message_exact() -> None:
    with pytest.raises(AddressError, match=r"^octet 256 out of range in '1\.2\.3\.256'$"):
        parse_address("1.2.3.256")


@pytest.mark.parametrize("text", ["0.0.0.0", "255.255.255.255", "1.2.3.4", "10.0.0.1", "100.99.9.0", "199.9.99.255"])
def test_ipv4_valid(text: str) -> None:
    assert str(parse_ipv4(text)) == text
    assert int(parse_ipv4(text)) == int(ipaddress.IPv4Address(text))


def test_leading_zeros_stdlib_also_rejects() -> None:
    """Python 3.9.5+ rejects '010.0.0.1' too (bpo-36384); older versions read it as decimal."""
    assert stdlib_parse("010.0.0.1") is None
    assert stdlib_parse("\uff11.2.3.4") is None


# --------------------------------------------------------------------------- zones


@pytest.mark.parametrize(
    ("text", "address", "zone"),
    [
        ("fe80::1%eth0", "fe80::1", "eth0"),
        ("FE80::1%ETH0", "fe80::1", "ETH0"),  # the zone keeps its case
        ("fe80::1%1", "fe80::1", "1"),
        ("fe80::1%en0.10", "fe80::1", "en0.10"),
        ("ff02::1%Wi-Fi", "ff02::1", "Wi-Fi"),
        ("::ffff:1.2.3.4%x", "::ffff:1.2.3.4", "x"),
        ("fe80::1%\u00e9th0", "fe80::1", "\u00e9th0"),
    ],
)
def test_zones(text: str, address: str, zone: str) -> None:
    addr = parse_ipv6(text)
    assert addr.zone == zone
    assert str(addr) == f"{address}%{zone}"
    assert addr.without_zone() == parse_ipv6(address)
    assert addr != addr.without_zone()
    assert addr.packed == addr.without_zone().packed
    assert IPv6Address(address, zone) == addr
    assert str(addr.to_stdlib()) == str(ipaddress.IPv6Address(text))


def test_zone_given_twice_or_bad() -> None:
    with pytest.raises(AddressError, match="zone given twice"):
        IPv6Address("fe80::1%eth0", "eth1")
    with pytest.raises(AddressError, match="forbidden character"):
        IPv6Address("fe80::1", "a b")
    with pytest.raises(AddressError, match="empty zone"):
        IPv6Address("fe80::1", "")
    with pytest.raises(TypeError):
        IPv6Address("fe80::1", 3)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- errors


def test_errors_are_value_errors() -> None:
    assert issubclass(AddressError, ValueError)
    assert issubclass(AddressError, NetbasicsError)
    with pytest.raises(ValueError, match="leading zero"):
        parse_address("01.2.3.4")


@pytest.mark.parametrize("text", ["1.2.3.4" * 1000, "x" * 10_000, "::" + "1:" * 3000, "1.2.3." + "7" * 100_000])
def test_long_input_is_truncated_in_messages(text: str) -> None:
    with pytest.raises(AddressError) as info:
        parse_address(text)
    message = str(info.value)
    assert len(message) < 300
    assert text[:20] in message
    assert f"({len(text)} chars)" in message


def test_error_has_no_chained_context() -> None:
    with pytest.raises(AddressError) as info:
        parse_address("1.2.3.x")
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__


@pytest.mark.parametrize("value", [None, 1.0, True, False, [1, 2, 3, 4], object()])
def test_wrong_types_raise_type_error(value: object) -> None:
    for func in (parse_address, parse_ipv4, parse_ipv6, netbasics.classify):
        with pytest.raises(TypeError):
            func(value)  # type: ignore[arg-type]
    assert netbasics.is_valid_address(value) is False
