"""Strict text-to-integer parsing for IPv4 and IPv6 addresses (no objects, no sockets).

The fast paths do the common case with as few Python operations as possible and leave
all diagnosis to a slow path that runs only when the fast path fails: an error message
can afford a second look at the input, a valid address should not pay for one.
"""

from __future__ import annotations

import os
import re
from binascii import a2b_hex
from socket import AF_INET, AF_INET6, inet_pton
from typing import Final

from .errors import AddressError, quote

__all__ = [
    "OCTET0",
    "OCTET8",
    "OCTET16",
    "OCTET24",
    "PTON",
    "exact_str",
    "format_ipv4",
    "format_ipv6",
    "hex_groups_int",
    "ipv4_error",
    "ipv6_error",
    "parse_ipv4_int",
    "parse_ipv6_int",
    "pure_ipv4_int",
    "pure_ipv6_int",
]

# Every valid octet spelling maps to its value; anything else (leading zeros as in
# CVE-2021-29921, signs, spaces, non-ASCII digits that int() would accept) is absent.
# One dict lookup replaces isdigit/int/range checks; the shifted copies save the shifts.
OCTET0: dict[str, int] = {str(i): i for i in range(256)}
OCTET8: dict[str, int] = {str(i): i << 8 for i in range(256)}
OCTET16: dict[str, int] = {str(i): i << 16 for i in range(256)}
OCTET24: dict[str, int] = {str(i): i << 24 for i in range(256)}

# "%4s" right-aligns each group in four columns; the spaces then become zeros, so eight
# groups of 1-4 hex digits turn into the 32 hex digits of the address in one C call.
_FMT8 = "%4s" * 8
_ZERO_GROUPS: tuple[tuple[str, ...], ...] = tuple(("0",) * n for n in range(9))  # n zero groups at index n
_from_bytes = int.from_bytes
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
# Zone ids are interface names or numbers; keep characters that could end or confuse
# a URL, an endpoint or a shell word out of them.
_BAD_ZONE = re.compile(r"[\s%/\[\]]")
#: The longest zone accepted after '%', in characters. A zone names an interface (RFC 4007
#: section 11) or gives its index in decimal. Interface names are short: Linux allows 15
#: characters (IFNAMSIZ is 16 with the NUL), the BSDs and macOS the same; Windows zones are
#: numeric; an index is a 32-bit number (10 digits). 64 leaves room for any real name while
#: keeping every message that quotes an address short (issue 19: megabyte zones).
MAX_ZONE = 64


def exact_str(text: str) -> str:
    """``text`` as an exact ``str``: the value of a ``str`` subclass, without calling any of its methods.

    Every public parser reads its text through this, so a subclass that overrides
    ``__str__``, ``split``, ``__getitem__`` or anything else can neither break a parse
    halfway nor change its result: it is parsed as the string it holds.
    """
    return text if type(text) is str else str.__str__(text)


def pure_ipv4_int(text: str) -> int:
    """Parse dotted-quad text to an int in pure Python; raise AddressError with the reason.

    The reference implementation of the IPv4 text rules; :func:`parse_ipv4_int` uses the
    C library instead when it has been shown to agree with this function.
    """
    try:
        a, b, c, d = text.split(".")
        return OCTET24[a] | OCTET16[b] | OCTET8[c] | OCTET0[d]
    except (ValueError, KeyError):
        pass
    raise ipv4_error(text) from None


def ipv4_error(text: str) -> AddressError:
    """The :class:`AddressError` saying why ``text`` is not strict dotted-quad IPv4 (slow path)."""
    reason, at = _ipv4_fault(text)
    return AddressError(text, reason or "not a valid IPv4 address", at=at)


def _ipv4_fault(text: str) -> tuple[str, int | None]:
    """Why ``text`` is not strict dotted-quad IPv4, and the index of the fault; ``""`` if it is valid."""
    if not text:
        return "empty string is not an IPv4 address", None
    parts = text.split(".")
    if len(parts) != 4:
        return f"expected 4 octets separated by '.', got {len(parts)}", None
    at = 0
    for part in parts:
        if not part:
            return "empty octet", at
        if not (part.isascii() and part.isdigit()):
            return f"octet {quote(part)} is not plain ASCII decimal", at
        if len(part) > 1 and part[0] == "0":
            return f"octet {quote(part)} has a leading zero (ambiguous: octal or decimal?)", at
        if len(part) > 3 or int(part) > 255:  # int() of a huge digit string would itself fail
            return f"octet {part if len(part) <= 12 else quote(part)} out of range", at
        at += len(part) + 1
    return "", None  # valid: the caller wanted to know (an IPv6 dotted tail)


def hex_groups_int(s: str) -> int:
    """Value of colon-hex IPv6 text with no zone and no dotted tail (RFC 4291 section 2.2).

    Raises ValueError or TypeError, without a message, when ``s`` is malformed: the
    caller asks :func:`ipv6_error` why. Case-insensitive.
    """
    if len(s) == 39 and s[4::5] == ":::::::":
        # Form 1 with four digits in every group (the exploded form): nothing to pad.
        h = s.replace(":", "")
        if len(h) != 32:
            raise ValueError
        return _from_bytes(a2b_hex(h), "big")
    parts = s.split(":")
    if "::" in s:
        # Form 2: one '::' stands for one or more zero groups. It leaves two empty
        # parts at either end of the text, one empty part inside it. Any other empty
        # part left over (a second '::', a lone ':' at either end) fails below.
        n = len(parts)
        if not parts[0]:
            if not parts[-1]:
                if s == "::":
                    return 0
                raise ValueError
            missing = 10 - n
            if missing < 1:
                raise ValueError
            parts[0:2] = _ZERO_GROUPS[missing]
        elif not parts[-1]:
            missing = 10 - n
            if missing < 1:
                raise ValueError
            parts[n - 2 :] = _ZERO_GROUPS[missing]
        else:
            missing = 9 - n
            if missing < 1:
                raise ValueError
            i = parts.index("")
            parts[i : i + 1] = _ZERO_GROUPS[missing]
    # Not exactly 8 groups: '%' raises TypeError. A group longer than 4 digits makes the
    # text longer than 32; an empty group leaves four spaces; a space in the input would
    # be mistaken for padding, so it is refused before the spaces become zeros.
    h = _FMT8 % tuple(parts)
    if len(h) != 32 or "    " in h or " " in s:
        raise ValueError
    # a2b_hex accepts exactly [0-9a-fA-F] pairs: no signs, '_', '0x', whitespace or
    # non-ASCII digits, all of which int(h, 16) would let through.
    return _from_bytes(a2b_hex(h.replace(" ", "0")), "big")


def pure_ipv6_int(text: str) -> tuple[int, str | None]:
    """Parse IPv6 text (RFC 4291 section 2.2, optional %zone) to ``(int, zone)`` in pure Python.

    The reference implementation of the IPv6 text rules; :func:`parse_ipv6_int` uses the
    C library for zone-less text when it has been shown to agree with this function.
    """
    s = text
    zone: str | None = None
    try:
        if "%" in s:
            # RFC 4007 section 11: the zone follows the address after a '%'.
            s, _, zone = s.partition("%")
            if not zone or len(zone) > MAX_ZONE or _BAD_ZONE.search(zone) or not zone.isprintable():
                raise ValueError
        if "." in s:
            # RFC 4291 section 2.2 form 3: the low 32 bits written as dotted IPv4.
            head, _, tail = s.rpartition(":")
            if not head:
                raise ValueError
            v4 = pure_ipv4_int(tail)
            s = "%s:%x:%x" % (head, v4 >> 16, v4 & 0xFFFF)
        return hex_groups_int(s), zone
    except (ValueError, TypeError):  # AddressError is a ValueError
        pass
    raise ipv6_error(text) from None


def ipv6_error(text: str) -> AddressError:
    """The :class:`AddressError` saying why ``text`` is not valid IPv6 text (slow path)."""
    at = _endpoint_colon(text)
    if at is not None:
        return AddressError(text, ENDPOINT_HINT, at=at)
    reason, at = _ipv6_fault(text)
    return AddressError(text, reason, at=at)


#: The reason given for ``1.2.3.4:80`` or ``[::1]:80``: an endpoint where an address was
#: expected (the CLI's classify says the same in its own words).
ENDPOINT_HINT: Final = "looks like an endpoint (address:port), which parse_endpoint() reads, not an address"


def _endpoint_colon(text: str) -> int | None:
    """The index of the port's ``:`` if ``text`` is an IPv4 address or bracketed IPv6 address, ``:``, ASCII digits."""
    head, sep, port = text.rpartition(":")
    if not sep or not port or len(port) > 5 or not (port.isascii() and port.isdigit()):
        return None
    try:
        if head.startswith("[") and head.endswith("]"):
            pure_ipv6_int(head[1:-1])
        else:
            pure_ipv4_int(head)
    except ValueError:
        return None
    return len(head)


def _ipv6_fault(text: str) -> tuple[str, int | None]:
    """Why ``text`` is not valid IPv6 text, and the index of the fault where it is known."""
    s, sep, zone = text.partition("%")
    if sep:
        if not zone:
            return "empty zone after '%'", len(s)
        if len(zone) > MAX_ZONE:
            return f"zone of {len(zone)} characters is longer than {MAX_ZONE}", len(s) + 1
        if _BAD_ZONE.search(zone) or not zone.isprintable():
            return f"zone {quote(zone)} contains a forbidden character", len(s) + 1
    if not s:
        return ("empty string is not an IPv6 address", None) if not sep else ("no address before '%'", 0)
    if "." in s:
        head, sep, tail = s.rpartition(":")
        if not sep or not head:
            return "dotted IPv4 tail needs IPv6 groups before it", None
        reason, at = _ipv4_fault(tail)
        if reason:
            where = None if at is None else len(head) + 1 + at
            return f"bad IPv4 tail {quote(tail)}: {reason}", where
        s = head + ":0:0"  # the tail stands for two groups
    for i, ch in enumerate(s):
        if ch != ":" and ch not in _HEX_DIGITS:
            return f"character {ch!r} is not allowed", i
    if ":::" in s:
        return "more than one '::'", s.index(":::") + 1  # the second '::' starts at its middle colon
    if s.count("::") > 1:
        return "more than one '::'", s.index("::", s.index("::") + 2)
    if s.startswith(":") and not s.startswith("::"):
        return "leading single ':'", 0
    if s.endswith(":") and not s.endswith("::"):
        return "trailing single ':'", len(s) - 1
    at = 0
    for group in s.split(":"):
        if len(group) > 4:
            return f"group {quote(group)} has more than 4 hex digits", at
        at += len(group) + 1
    if "::" in s:
        head, _, tail = s.partition("::")
        count = len(head.split(":") if head else []) + len(tail.split(":") if tail else [])
        if count > 7:
            return "'::' must stand for at least one group; too many groups", None
    else:
        count = len(s.split(":"))
        if count != 8:
            return f"expected 8 groups, got {count}", None
    return "empty group", None  # pragma: no cover - every other failure is named above


# --- the fast path: the C library's inet_pton, trusted only where it agrees -----------------
#
# inet_pton(3) parses exactly the forms RFC 4291 section 2.2 and strict dotted-quad allow,
# in C, three to four times faster than the best pure-Python parse. POSIX leaves corners
# open (leading zeros, "::" standing for one group, dotted tails), and C libraries have
# differed there, so it is used only after it has parsed every case below exactly as the
# pure parsers do; otherwise, or with NETBASICS_PURE_PARSER=1, the pure parsers run. The
# test suite checks the two paths agree on generated near-valid text as well. No socket is
# created: inet_pton is a pure text-to-bytes function.

_AGREEMENT_CASES = (
    # IPv4: valid edges, then every way to be lenient
    "0.0.0.0",
    "255.255.255.255",
    "1.2.3.4",
    "10.0.0.1",
    "01.2.3.4",
    "1.2.3.04",
    "00.0.0.0",
    "1.2.3",
    "1.2.3.4.",
    ".1.2.3.4",
    "1..2.3",
    "127.1",
    "1.2.3.256",
    "256.0.0.0",
    "1.2.3.-1",
    "+1.2.3.4",
    "0x1.2.3.4",
    "1.2.3.0x4",
    " 1.2.3.4",
    "1.2.3.4 ",
    "1.2.3.4\n",
    "1.2.3.4\t",
    "1.2.3.\u0664",
    "\uff11.2.3.4",
    "1.2.3.4/8",
    "",
    ".",
    "1.2.3.4.5",
    "4294967295",
    "1.2.3.0004",
    # IPv6: the three RFC 4291 forms, then malformed ones
    "::",
    "::1",
    "1::",
    "1:2:3:4:5:6:7:8",
    "1:2:3:4:5:6:7::",
    "::2:3:4:5:6:7:8",
    "1::8",
    "FFFF:ffff:FfFf:0:0:0:0:1",
    "0000:0000:0000:0000:0000:0000:0000:0000",
    "::ffff:1.2.3.4",
    "::1.2.3.4",
    "1::1.2.3.4",
    "1:2:3:4:5:6:1.2.3.4",
    "1:2:3:4:5::1.2.3.4",
    "1:2:3:4:5:6:7:8::",
    "::1:2:3:4:5:6:7:8",
    "1:2:3:4::5:6:7:8",
    ":::",
    "1:::2",
    "1::2::3",
    "12345::",
    "::12345",
    "::g",
    " ::1",
    "::1 ",
    ":1::",
    "1::1:",
    ":1:2:3:4:5:6:7:8",
    "1:2:3:4:5:6:7:8:",
    "1:2:3:4:5:6:7",
    "1:2:3:4:5:6:7:8:9",
    "::01.2.3.4",
    "::1.2.3",
    "::1.2.3.4.5",
    "::1.2.3.256",
    "1:2:3:4:5:6:7:1.2.3.4",
    "1:2:3:4:5:6::1.2.3.4",
    "::1.2.3.4:1",
    "1.2.3.4::",
    "::ffff:1.2.3.4:",
    "0x1::",
    "::+1",
    "::-1",
    "::1_0",
    "1:2",
    "::\u0661",
    "::ffff:1.2.3.0x4",
    ":",
    "",
    "::00000",
    "::0000",
    "1:2:3:4:5:6:7:08",
)


def _pton_value(family: int, text: str) -> int | None:
    try:
        return int.from_bytes(inet_pton(family, text), "big")
    except (OSError, ValueError):
        return None


def _pure_value(family: int, text: str) -> int | None:
    try:
        return pure_ipv4_int(text) if family == AF_INET else pure_ipv6_int(text)[0]
    except AddressError:
        return None


# Zoned text: the fast paths try inet_pton first and look for a zone only when it fails,
# so inet_pton must refuse every one of these rather than parse the part before '%'.
_ZONED_CASES = ("fe80::1%eth0", "::1%1", "::%", "1.2.3.4%0", "::ffff:1.2.3.4%lo")


def _pton_agrees() -> bool:
    if os.environ.get("NETBASICS_PURE_PARSER"):
        return False
    for text in _AGREEMENT_CASES:
        for family in (AF_INET, AF_INET6):
            if "%" in text or _pton_value(family, text) != _pure_value(family, text):
                return False
    return all(_pton_value(family, text) is None for text in _ZONED_CASES for family in (AF_INET, AF_INET6))


#: True when parse_ipv4_int/parse_ipv6_int use the C library's inet_pton (see above).
PTON: bool = _pton_agrees()
# The byte order stays spelled out: leaving it to 3.11's default saves ~8 ns there but
# needs a wrapper on 3.10 that costs ~40 ns, and every supported Python should be fast.
_fb = int.from_bytes


def parse_ipv4_int(text: str) -> int:
    """Parse strict dotted-quad text to an int; raise AddressError with the reason."""
    if PTON:
        try:
            return _fb(inet_pton(AF_INET, text), "big")
        except (OSError, ValueError):
            raise ipv4_error(text) from None
    return pure_ipv4_int(text)


def parse_ipv6_int(text: str) -> tuple[int, str | None]:
    """Parse IPv6 text (RFC 4291 section 2.2, optional %zone) to ``(int, zone)``."""
    if PTON:
        try:
            return _fb(inet_pton(AF_INET6, text), "big"), None
        except (OSError, ValueError):
            if "%" not in text:
                raise ipv6_error(text) from None
    return pure_ipv6_int(text)


def format_ipv4(value: int) -> str:
    """Dotted-quad text for a 32-bit int."""
    return f"{value >> 24}.{(value >> 16) & 255}.{(value >> 8) & 255}.{value & 255}"


def format_ipv6(value: int) -> str:
    """RFC 5952 canonical text for a 128-bit int (no zone)."""
    groups = [(value >> shift) & 0xFFFF for shift in range(112, -16, -16)]
    # RFC 5952 section 4.2: '::' replaces the longest run of two or more zero groups,
    # the first one on a tie.
    best_start, best_len, start = -1, 1, -1
    for i, group in enumerate(groups):
        if group == 0:
            if start < 0:
                start = i
            if i - start + 1 > best_len:
                best_start, best_len = start, i - start + 1
        else:
            start = -1
    if groups[5] == 0xFFFF and best_start == 0 and best_len == 5:
        # RFC 5952 section 5: IPv4-mapped addresses keep the dotted tail.
        return "::ffff:" + format_ipv4(value & 0xFFFFFFFF)
    if best_start < 0:
        return "%x:%x:%x:%x:%x:%x:%x:%x" % tuple(groups)
    head = ":".join("%x" % g for g in groups[:best_start])
    tail = ":".join("%x" % g for g in groups[best_start + best_len :])
    return f"{head}::{tail}"
