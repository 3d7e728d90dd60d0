"""The shared integer core: constants, network text to ints, and the interval algorithms.

Private, and shared on purpose. ``addresses``, ``networks``, ``sets``, ``endpoints`` and
``safety`` all work on plain ints; what more than one of them needs lives here, under
names without a leading underscore, so that no module imports another module's private
names. It imports nothing from the value modules (they import it), and no I/O.

Two interval algorithms are shared by :mod:`netbasics.networks` and :mod:`netbasics.sets`:

* *Summarise* ``[first, last]`` into the fewest CIDR blocks: repeatedly take the
  largest block that starts at ``first`` (limited by the alignment of ``first``, i.e.
  its lowest set bit) and fits in what is left of the range (the bit length of the
  remaining size), then move ``first`` past it. Each step fixes one bit, so a range
  yields at most ``2 * bits`` blocks. (The loop itself is in ``networks``, which builds
  the network objects in place.)
* *Merge* many prefixes into disjoint intervals: encode each prefix as one int
  ``start << 8 | host_bits``, sort those ints (far cheaper than sorting tuples or
  objects), then sweep once, joining every interval that overlaps or touches the
  current one. The result is a flat, strictly increasing list of half-open bounds
  ``[s0, e0, s1, e1, ...]``, in which an address ``x`` is covered exactly when
  ``bisect_right(bounds, x)`` is odd.
"""

from __future__ import annotations

from typing import Final

from ._parse import format_ipv4, format_ipv6, parse_ipv4_int, parse_ipv6_int
from .errors import AddressError, CIDRError, quote, reason_of

__all__ = [
    "DIFFERENCE",
    "INTERSECTION",
    "MAPPED_LAST",
    "MAPPED_MASK",
    "MAPPED_PREFIX",
    "SYMMETRIC_DIFFERENCE",
    "UNION",
    "V4_MAX",
    "V6_MAX",
    "combine",
    "merge_keys",
    "merge_spans",
    "parse_network_text",
]

V4_MAX: Final = (1 << 32) - 1
V6_MAX: Final = (1 << 128) - 1
#: ::ffff:0:0/96, RFC 4291 section 2.5.5.2: addresses here are classified as their IPv4 address.
MAPPED_PREFIX: Final = 0xFFFF << 32
MAPPED_LAST: Final = MAPPED_PREFIX | V4_MAX
MAPPED_MASK: Final = V6_MAX ^ V4_MAX


# --- network text to ints ----------------------------------------------------------------

# Every valid prefix-length spelling maps to its value: plain ASCII decimal, no sign, no
# spaces, no leading zero (as for IPv4 octets: '08' is rejected, '0' is fine).
_PLEN4: dict[str, int] = {str(i): i for i in range(33)}
_PLEN6: dict[str, int] = {str(i): i for i in range(129)}
# IPv4 masks written as addresses: contiguous netmasks and their inverse, hostmasks.
_NETMASK4: dict[int, int] = {V4_MAX ^ ((1 << (32 - p)) - 1): p for p in range(33)}
_HOSTMASK4: dict[int, int] = {(1 << (32 - p)) - 1: p for p in range(33)}


def parse_network_text(text: str, strict: bool) -> tuple[int, int, int]:
    """Parse network text to ``(version, network int, prefixlen)``; the hot path of every parser of networks."""
    addr, sep, length = text.partition("/")
    if ":" in addr:
        if "%" in addr:
            raise CIDRError(f"zones are not allowed in networks: {quote(text)}")
        try:
            ip = parse_ipv6_int(addr)[0]
        except AddressError as exc:
            raise CIDRError(f"bad address in network {quote(text)}: {reason_of(exc)}") from None
        if not sep:
            return 6, ip, 128
        plen = _PLEN6.get(length)
        if plen is None:
            plen = _bad_length(text, length, 128)
        host = 128 - plen
        version = 6
    else:
        try:
            ip = parse_ipv4_int(addr)
        except AddressError as exc:
            if not text:
                raise CIDRError("empty string is not a network") from None
            raise CIDRError(f"bad address in network {quote(text)}: {reason_of(exc)}") from None
        if not sep:
            return 4, ip, 32
        plen = _PLEN4.get(length)
        if plen is None:
            plen = _mask_length(text, length)
        host = 32 - plen
        version = 4
    if ip & ((1 << host) - 1):
        ip = ip >> host << host
        if strict:
            fixed = f"{format_ipv4(ip) if version == 4 else format_ipv6(ip)}/{plen}"
            raise CIDRError(f"{quote(text)} has host bits set; did you mean {quote(fixed)}?")
    return version, ip, plen


def _mask_length(text: str, length: str) -> int:
    """The prefix length of an IPv4 netmask or hostmask written after '/', or raise."""
    if "." not in length:
        return _bad_length(text, length, 32)
    try:
        mask = parse_ipv4_int(length)
    except AddressError as exc:
        raise CIDRError(f"bad netmask in {quote(text)}: {reason_of(exc)}") from None
    # A mask that is both (0.0.0.0, 255.255.255.255) is read as a netmask, as stdlib does.
    plen = _NETMASK4.get(mask)
    if plen is None:
        plen = _HOSTMASK4.get(mask)
    if plen is None:
        raise CIDRError(text, f"mask {quote(length)} is neither a contiguous netmask nor a hostmask")
    return plen


def _bad_length(text: str, length: str, maximum: int) -> int:
    """Raise the reason a prefix length is not valid (never returns)."""
    if not length:
        raise CIDRError(text, "missing prefix length after '/'")
    if maximum == 128 and ":" in length:
        raise CIDRError(text, "IPv6 networks take a prefix length, not a netmask")
    if not (length.isascii() and length.isdigit()):
        raise CIDRError(text, f"prefix length {quote(length)} is not plain ASCII decimal")
    if len(length) > 1 and length[0] == "0":
        raise CIDRError(text, f"prefix length {quote(length)} has a leading zero")
    raise CIDRError(text, f"prefix length {quote(length)} is out of range (0 to {maximum})")


# --- the interval algorithms (see the module docstring) --------------------------------


def merge_keys(keys: list[int]) -> list[int]:
    """Sort prefix keys ``start << 8 | host_bits`` (in place) and merge them into flat half-open bounds.

    >>> merge_keys([10 << 8 | 1, 8 << 8 | 1, 12 << 8 | 0])
    [8, 13]
    """
    keys.sort()
    bounds: list[int] = []
    append = bounds.append
    start = end = -1
    for key in keys:
        s = key >> 8
        if s <= end:  # overlaps or touches the current interval
            e = s + (1 << (key & 255))
            if e > end:
                end = e
        else:
            if end >= 0:
                append(start)
                append(end)
            start = s
            end = s + (1 << (key & 255))
    if end >= 0:
        append(start)
        append(end)
    return bounds


def merge_spans(spans: list[tuple[int, int]]) -> list[int]:
    """Sort half-open ``(start, end)`` spans (in place) and merge them into flat bounds.

    >>> merge_spans([(5, 7), (1, 3), (3, 4)])
    [1, 4, 5, 7]
    """
    spans.sort()
    bounds: list[int] = []
    start = end = -1
    for s, e in spans:
        if s <= end:
            if e > end:
                end = e
        else:
            if end >= 0:
                bounds += (start, end)
            start, end = s, e
    if end >= 0:
        bounds += (start, end)
    return bounds


# Truth tables for combine, indexed by ``in_a * 2 + in_b``.
UNION: Final = 0b1110
INTERSECTION: Final = 0b1000
DIFFERENCE: Final = 0b0100
SYMMETRIC_DIFFERENCE: Final = 0b0110


def combine(a: list[int], b: list[int], table: int) -> list[int]:
    """Combine two flat bound lists by a truth table in one linear sweep.

    >>> combine([0, 10], [5, 20], INTERSECTION), combine([0, 10], [5, 20], DIFFERENCE)
    ([5, 10], [0, 5])
    """
    if not b:
        return list(a) if table & 0b0100 else []
    if not a:
        return list(b) if table & 0b0010 else []
    out: list[int] = []
    i = j = 0
    la, lb = len(a), len(b)
    in_a = in_b = inside = 0
    while i < la or j < lb:
        if j == lb or (i < la and a[i] < b[j]):
            x = a[i]
            i += 1
            in_a ^= 1
        elif i == la or b[j] < a[i]:
            x = b[j]
            j += 1
            in_b ^= 1
        else:  # both lists have a bound here
            x = a[i]
            i += 1
            j += 1
            in_a ^= 1
            in_b ^= 1
        now = (table >> (in_a * 2 + in_b)) & 1
        if now != inside:
            out.append(x)
            inside = now
    return out
