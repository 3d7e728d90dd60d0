"""Strict text-to-integer parsing for IPv4 and IPv6 addresses (no objects, no sockets).

The fast paths do the common case with as few Python operations as possible and leave
all diagnosis to a slow path that runs only when the fast path fails: an error message
can afford a second look at the input, a valid address should not pay for one.
"""

from __future__ import annotations

import re

from .errors import AddressError, quote

__all__ = ["format_ipv4", "format_ipv6", "parse_ipv4_int", "parse_ipv6_int"]

# Every valid octet spelling maps to its value; anything else (leading zeros as in
# CVE-2021-29921, signs, spaces, non-ASCII digits that int() would accept) is absent.
# One dict lookup replaces isdigit/int/range checks.
_OCTETS: dict[str, int] = {str(i): i for i in range(256)}

# After lower-casing, an IPv6 address (zone and dotted tail removed) holds only these.
_HEX_COLON = re.compile(r"[0-9a-f:]+")
_FMT8 = "%4s" * 8
# Zone ids are interface names or numbers; keep characters that could end or confuse
# a URL, an endpoint or a shell word out of them.
_BAD_ZONE = re.compile(r"[\s%/\[\]]")


def parse_ipv4_int(text: str) -> int:
    """Parse dotted-quad text to an int; raise AddressError with the reason."""
    try:
        a, b, c, d = text.split(".")
        return (_OCTETS[a] << 24) | (_OCTETS[b] << 16) | (_OCTETS[c] << 8) | _OCTETS[d]
    except (ValueError, KeyError):
        pass
    raise AddressError(_ipv4_reason(text)) from None


def _ipv4_reason(text: str) -> str:
    q = quote(text)
    if not text:
        return "empty string is not an IPv4 address"
    parts = text.split(".")
    if len(parts) != 4:
        return f"expected 4 octets separated by '.', got {len(parts)} in {q}"
    for part in parts:
        if not part:
            return f"empty octet in {q}"
        if not (part.isascii() and part.isdigit()):
            return f"octet {part!r} is not plain ASCII decimal in {q}"
        if len(part) > 1 and part[0] == "0":
            return f"octet {part!r} has a leading zero (ambiguous: octal or decimal?) in {q}"
        if int(part) > 255:
            return f"octet {part} out of range in {q}"
    return f"not a valid IPv4 address: {q}"  # pragma: no cover - unreachable


def parse_ipv6_int(text: str) -> tuple[int, str | None]:
    """Parse IPv6 text (RFC 4291 section 2.2, optional %zone) to ``(int, zone)``."""
    zone: str | None = None
    s = text
    if "%" in s:
        # RFC 4007 section 11: the zone follows the address after a '%'.
        s, _, zone = s.partition("%")
        if not zone:
            raise AddressError(f"empty zone after '%' in {quote(text)}")
        if _BAD_ZONE.search(zone) or not zone.isprintable():
            raise AddressError(f"zone {zone!r} contains a forbidden character in {quote(text)}")
    s = s.lower()
    if "." in s:
        # RFC 4291 section 2.2 form 3: the low 32 bits written as dotted IPv4.
        head, sep, tail = s.rpartition(":")
        if not sep or not head:
            raise AddressError(f"dotted IPv4 tail needs IPv6 groups before it in {quote(text)}")
        try:
            v4 = parse_ipv4_int(tail)
        except AddressError as exc:
            raise AddressError(f"bad IPv4 tail {tail!r} in {quote(text)}: {exc}") from None
        s = f"{head}:{v4 >> 16:x}:{v4 & 0xFFFF:x}"
    if not _HEX_COLON.fullmatch(s):
        raise AddressError(_ipv6_reason(text, s))
    if "::" in s:
        # RFC 4291 section 2.2 form 2: one '::' stands for one or more zero groups.
        head, _, tail = s.partition("::")
        if "::" in tail or tail.startswith(":"):
            raise AddressError(f"more than one '::' in {quote(text)}")
        hg = head.split(":") if head else []
        tg = tail.split(":") if tail else []
        missing = 8 - len(hg) - len(tg)
        if missing < 1:
            raise AddressError(f"'::' must stand for at least one group; too many groups in {quote(text)}")
        groups = hg + ["0"] * missing + tg
    else:
        groups = s.split(":")
        if len(groups) != 8:
            raise AddressError(f"expected 8 groups, got {len(groups)} in {quote(text)}")
    padded = _FMT8 % tuple(groups)
    if len(padded) != 32 or "" in groups:
        raise AddressError(_ipv6_reason(text, s))
    return int(padded.replace(" ", "0"), 16), zone


def _ipv6_reason(text: str, s: str) -> str:
    q = quote(text)
    if not s:
        return "empty string is not an IPv6 address"
    for ch in s:
        if ch not in "0123456789abcdef:":
            return f"character {ch!r} is not allowed in {q}"
    if s.startswith(":") and not s.startswith("::"):
        return f"leading single ':' in {q}"
    if s.endswith(":") and not s.endswith("::"):
        return f"trailing single ':' in {q}"
    for group in s.replace("::", ":").split(":"):
        if len(group) > 4:
            return f"group {group!r} has more than 4 hex digits in {q}"
    return f"empty group in {q}"


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
