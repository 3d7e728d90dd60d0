"""The IANA special-purpose address registries, as data, and fast lookup tables.

Sources (both as of the newest row, dated 2025-04):

* IANA IPv4 Special-Purpose Address Registry (iana-ipv4-special-registry), 25 records.
* IANA IPv6 Special-Purpose Address Registry (iana-ipv6-special-registry), 25 records.

RFC 6890 section 2.1 defines the columns. "Globally Reachable" takes three values:
True, False and N/A (Teredo, 6to4); N/A is stored as ``None`` and treated as not
globally reachable, as every careful implementation does. Terminated rows (192.88.99.0/24,
2001:10::/28) have empty cells, also stored as ``None``; their still-live children
(192.88.99.2/32) stay.

Rows from outside these two registries are added and marked by ``registry``:
multicast (RFC 5771, RFC 4291 section 2.7), the deprecated IPv6 site-local block
(RFC 3879) and IPv6 global unicast 2000::/3 (RFC 4291 section 2.4, IANA IPv6 address
space registry).

Lookups use the most specific matching row. At import the rows are flattened into
disjoint, sorted intervals so that a lookup is one ``bisect`` on a list of ints. These
interval tables are the only place classification is computed: the address properties,
``classify`` and ``Network.entry``/``Network.category`` all read them (the top-byte
caches in front of the address properties are derived from them too).
"""

from __future__ import annotations

import enum
from bisect import bisect_right
from dataclasses import dataclass
from typing import TypeVar

from .._core import MAPPED_LAST, MAPPED_PREFIX
from .._parse import parse_ipv4_int, parse_ipv6_int

__all__ = ["IPV4_ENTRIES", "IPV6_ENTRIES", "REGISTRY_DATE", "AddressCategory", "RegistryEntry"]

_T = TypeVar("_T")

#: Date of the newest row in the bundled IANA registries.
REGISTRY_DATE = "2025-04"


class AddressCategory(enum.Enum):
    """What kind of address block an address belongs to.

    The category names the purpose of the most specific registry row; whether the
    address is reachable from the public Internet is a separate fact
    (:attr:`AddressInfo.is_global`), because a few special-purpose blocks
    (anycast services, AS112, ORCHIDv2) are globally reachable.
    """

    PUBLIC = "public"
    PRIVATE = "private"
    SHARED = "shared"
    LOOPBACK = "loopback"
    LINK_LOCAL = "link-local"
    SITE_LOCAL = "site-local"
    MULTICAST = "multicast"
    UNSPECIFIED = "unspecified"
    THIS_NETWORK = "this-network"
    BROADCAST = "broadcast"
    DOCUMENTATION = "documentation"
    BENCHMARKING = "benchmarking"
    PROTOCOL_ASSIGNMENT = "protocol-assignment"
    TRANSLATION = "translation"
    TUNNEL = "tunnel"
    IPV4_MAPPED = "ipv4-mapped"
    DISCARD = "discard"
    RESERVED = "reserved"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class RegistryEntry:
    """One row of a special-purpose address registry (RFC 6890 section 2.1 columns).

    Boolean columns are ``None`` where the registry says N/A or leaves the cell empty
    (terminated rows). ``registry`` says where the row comes from:
    ``"iana-ipv4-special"``, ``"iana-ipv6-special"``, ``"multicast"`` (RFC 5771 /
    RFC 4291), ``"site-local"`` (RFC 3879) or ``"global-unicast"`` (RFC 4291).
    """

    prefix: str
    name: str
    rfc: str
    category: AddressCategory
    allocated: str
    terminated: str | None
    source: bool | None
    destination: bool | None
    forwardable: bool | None
    globally_reachable: bool | None
    reserved_by_protocol: bool | None
    registry: str

    @property
    def version(self) -> int:
        """4 or 6."""
        return 6 if ":" in self.prefix else 4

    def __str__(self) -> str:
        return f"{self.prefix} {self.name} ({self.rfc})"


C = AddressCategory
T, F, E = True, False, None  # E: N/A or an empty cell
_V4 = "iana-ipv4-special"
_V6 = "iana-ipv6-special"

# fmt: off
# (prefix, name, RFC, category, allocated, terminated, src, dst, fwd, global, reserved)
_IPV4_ROWS: list[tuple[str, str, str, AddressCategory, str, str | None, bool | None, bool | None, bool | None, bool | None, bool | None]] = [
    ("0.0.0.0/8", '"This network"', "RFC 791 section 3.2", C.THIS_NETWORK, "1981-09", None, T, F, F, F, T),
    ("0.0.0.0/32", '"This host on this network"', "RFC 1122 section 3.2.1.3", C.UNSPECIFIED, "1981-09", None, T, F, F, F, T),
    ("10.0.0.0/8", "Private-Use", "RFC 1918", C.PRIVATE, "1996-02", None, T, T, T, F, F),
    ("100.64.0.0/10", "Shared Address Space", "RFC 6598", C.SHARED, "2012-04", None, T, T, T, F, F),
    ("127.0.0.0/8", "Loopback", "RFC 1122 section 3.2.1.3", C.LOOPBACK, "1981-09", None, F, F, F, F, T),
    ("169.254.0.0/16", "Link Local", "RFC 3927", C.LINK_LOCAL, "2005-05", None, T, T, F, F, T),
    ("172.16.0.0/12", "Private-Use", "RFC 1918", C.PRIVATE, "1996-02", None, T, T, T, F, F),
    ("192.0.0.0/24", "IETF Protocol Assignments", "RFC 6890 section 2.1", C.PROTOCOL_ASSIGNMENT, "2010-01", None, F, F, F, F, F),
    ("192.0.0.0/29", "IPv4 Service Continuity Prefix", "RFC 7335", C.PROTOCOL_ASSIGNMENT, "2011-06", None, T, T, T, F, F),
    ("192.0.0.8/32", "IPv4 dummy address", "RFC 7600", C.PROTOCOL_ASSIGNMENT, "2015-03", None, T, F, F, F, F),
    ("192.0.0.9/32", "Port Control Protocol Anycast", "RFC 7723", C.PROTOCOL_ASSIGNMENT, "2015-10", None, T, T, T, T, F),
    ("192.0.0.10/32", "Traversal Using Relays around NAT Anycast", "RFC 8155", C.PROTOCOL_ASSIGNMENT, "2017-02", None, T, T, T, T, F),
    ("192.0.0.170/32", "NAT64/DNS64 Discovery", "RFC 8880, RFC 7050 section 2.2", C.PROTOCOL_ASSIGNMENT, "2013-02", None, F, F, F, F, T),
    ("192.0.0.171/32", "NAT64/DNS64 Discovery", "RFC 8880, RFC 7050 section 2.2", C.PROTOCOL_ASSIGNMENT, "2013-02", None, F, F, F, F, T),
    ("192.0.2.0/24", "Documentation (TEST-NET-1)", "RFC 5737", C.DOCUMENTATION, "2010-01", None, F, F, F, F, F),
    ("192.31.196.0/24", "AS112-v4", "RFC 7535", C.PROTOCOL_ASSIGNMENT, "2014-12", None, T, T, T, T, F),
    ("192.52.193.0/24", "AMT", "RFC 7450", C.PROTOCOL_ASSIGNMENT, "2014-12", None, T, T, T, T, F),
    ("192.88.99.0/24", "Deprecated (6to4 Relay Anycast)", "RFC 7526", C.RESERVED, "2001-06", "2015-03", E, E, E, E, E),
    ("192.88.99.2/32", "6a44-relay anycast address", "RFC 6751", C.TUNNEL, "2012-10", None, T, T, T, F, F),
    ("192.168.0.0/16", "Private-Use", "RFC 1918", C.PRIVATE, "1996-02", None, T, T, T, F, F),
    ("192.175.48.0/24", "Direct Delegation AS112 Service", "RFC 7534", C.PROTOCOL_ASSIGNMENT, "1996-01", None, T, T, T, T, F),
    ("198.18.0.0/15", "Benchmarking", "RFC 2544", C.BENCHMARKING, "1999-03", None, T, T, T, F, F),
    ("198.51.100.0/24", "Documentation (TEST-NET-2)", "RFC 5737", C.DOCUMENTATION, "2010-01", None, F, F, F, F, F),
    ("203.0.113.0/24", "Documentation (TEST-NET-3)", "RFC 5737", C.DOCUMENTATION, "2010-01", None, F, F, F, F, F),
    ("240.0.0.0/4", "Reserved", "RFC 1112 section 4", C.RESERVED, "1989-08", None, F, F, F, F, T),
    ("255.255.255.255/32", "Limited Broadcast", "RFC 8190, RFC 919 section 7", C.BROADCAST, "1984-10", None, F, T, F, F, T),
]

_IPV4_EXTRA = [
    # RFC 5771: the IPv4 multicast block; its own IANA registry, not the special-purpose one.
    ("224.0.0.0/4", "Multicast", "RFC 5771", C.MULTICAST, "1986-08", None, F, T, T, F, F, "multicast"),
]

_IPV6_ROWS: list[tuple[str, str, str, AddressCategory, str, str | None, bool | None, bool | None, bool | None, bool | None, bool | None]] = [
    ("::1/128", "Loopback Address", "RFC 4291", C.LOOPBACK, "2006-02", None, F, F, F, F, T),
    ("::/128", "Unspecified Address", "RFC 4291", C.UNSPECIFIED, "2006-02", None, T, F, F, F, T),
    ("::ffff:0:0/96", "IPv4-mapped Address", "RFC 4291", C.IPV4_MAPPED, "2006-02", None, F, F, F, F, T),
    ("64:ff9b::/96", "IPv4-IPv6 Translat.", "RFC 6052", C.TRANSLATION, "2010-10", None, T, T, T, T, F),
    ("64:ff9b:1::/48", "IPv4-IPv6 Translat.", "RFC 8215", C.TRANSLATION, "2017-06", None, T, T, T, F, F),
    ("100::/64", "Discard-Only Address Block", "RFC 6666", C.DISCARD, "2012-06", None, T, T, T, F, F),
    ("100:0:0:1::/64", "Dummy IPv6 Prefix", "RFC 9780", C.PROTOCOL_ASSIGNMENT, "2025-04", None, T, F, F, F, F),
    ("2001::/23", "IETF Protocol Assignments", "RFC 2928", C.PROTOCOL_ASSIGNMENT, "2000-09", None, F, F, F, F, F),
    ("2001::/32", "TEREDO", "RFC 4380, RFC 8190", C.TUNNEL, "2006-01", None, T, T, T, E, F),
    ("2001:1::1/128", "Port Control Protocol Anycast", "RFC 7723", C.PROTOCOL_ASSIGNMENT, "2015-10", None, T, T, T, T, F),
    ("2001:1::2/128", "Traversal Using Relays around NAT Anycast", "RFC 8155", C.PROTOCOL_ASSIGNMENT, "2017-02", None, T, T, T, T, F),
    ("2001:1::3/128", "DNS-SD Service Registration Protocol Anycast", "RFC 9665", C.PROTOCOL_ASSIGNMENT, "2024-04", None, T, T, T, T, F),
    ("2001:2::/48", "Benchmarking", "RFC 5180, RFC Errata 1752", C.BENCHMARKING, "2008-04", None, T, T, T, F, F),
    ("2001:3::/32", "AMT", "RFC 7450", C.PROTOCOL_ASSIGNMENT, "2014-12", None, T, T, T, T, F),
    ("2001:4:112::/48", "AS112-v6", "RFC 7535", C.PROTOCOL_ASSIGNMENT, "2014-12", None, T, T, T, T, F),
    ("2001:10::/28", "Deprecated (previously ORCHID)", "RFC 4843", C.RESERVED, "2007-03", "2014-03", E, E, E, E, E),
    ("2001:20::/28", "ORCHIDv2", "RFC 7343", C.PROTOCOL_ASSIGNMENT, "2014-07", None, T, T, T, T, F),
    ("2001:30::/28", "Drone Remote ID Protocol Entity Tags (DETs) Prefix", "RFC 9374", C.PROTOCOL_ASSIGNMENT, "2022-12", None, T, T, T, T, F),
    ("2001:db8::/32", "Documentation", "RFC 3849", C.DOCUMENTATION, "2004-07", None, F, F, F, F, F),
    ("2002::/16", "6to4", "RFC 3056", C.TUNNEL, "2001-02", None, T, T, T, E, F),
    ("2620:4f:8000::/48", "Direct Delegation AS112 Service", "RFC 7534", C.PROTOCOL_ASSIGNMENT, "2011-05", None, T, T, T, T, F),
    ("3fff::/20", "Documentation", "RFC 9637", C.DOCUMENTATION, "2024-07", None, F, F, F, F, F),
    ("5f00::/16", "Segment Routing (SRv6) SIDs", "RFC 9602", C.PROTOCOL_ASSIGNMENT, "2024-04", None, T, T, T, F, F),
    ("fc00::/7", "Unique-Local", "RFC 4193, RFC 8190", C.PRIVATE, "2005-10", None, T, T, T, F, F),
    ("fe80::/10", "Link-Local Unicast", "RFC 4291", C.LINK_LOCAL, "2006-02", None, T, T, F, F, T),
]

_IPV6_EXTRA = [
    # RFC 4291 section 2.4: everything outside these blocks that is not otherwise
    # special is global unicast only inside 2000::/3.
    ("2000::/3", "Global Unicast", "RFC 4291 section 2.4", C.PUBLIC, "1999-07", None, T, T, T, T, F, "global-unicast"),
    # RFC 3879 deprecated site-local addresses; they must still never be treated as global.
    ("fec0::/10", "Site-Local (deprecated)", "RFC 3879", C.SITE_LOCAL, "1995-12", "2004-09", T, T, F, F, F, "site-local"),
    # RFC 4291 section 2.7: multicast.
    ("ff00::/8", "Multicast", "RFC 4291 section 2.7", C.MULTICAST, "1995-12", None, F, T, T, F, F, "multicast"),
]
# fmt: on

IPV4_ENTRIES: tuple[RegistryEntry, ...] = tuple(
    [RegistryEntry(*row, registry=_V4) for row in _IPV4_ROWS] + [RegistryEntry(*row) for row in _IPV4_EXTRA]
)
IPV6_ENTRIES: tuple[RegistryEntry, ...] = tuple(
    [RegistryEntry(*row, registry=_V6) for row in _IPV6_ROWS] + [RegistryEntry(*row) for row in _IPV6_EXTRA]
)
del C, T, F, E


def prefix_bounds(entry: RegistryEntry) -> tuple[int, int, int]:
    """``(first, last, prefixlen)`` of an entry's block as ints."""
    text, _, length = entry.prefix.partition("/")
    plen = int(length)
    if entry.version == 4:
        first, bits = parse_ipv4_int(text), 32
    else:
        first, bits = parse_ipv6_int(text)[0], 128
    return first, first | ((1 << (bits - plen)) - 1), plen


# One interval: (start, most specific row, category, globally reachable, covering rows).
_Interval = tuple[int, "RegistryEntry | None", AddressCategory, bool, tuple[RegistryEntry, ...]]


class _Table:
    """Disjoint intervals ``[starts[i], starts[i+1])`` each mapped to its most specific row.

    The one source of classification: every answer the package gives about an address
    or a network (``category``, ``is_global``, ``is_private``, ``classify().entry``,
    ``Network.entry``) is read from these lists. Besides the row (``entries``) each
    interval keeps the category, the reachability and the privacy the row gives, and
    ``chains``: every row covering the interval, most specific first, so the most
    specific row covering a span of intervals is found without scanning the registry.
    """

    __slots__ = ("categories", "chains", "entries", "globals", "privates", "shift", "starts")

    def __init__(
        self,
        bits: int,
        intervals: list[_Interval],
    ) -> None:
        # The top byte is what the per-byte caches of by_top_byte are indexed by.
        self.shift = bits - 8
        self.starts: list[int] = []
        self.entries: list[RegistryEntry | None] = []
        self.categories: list[AddressCategory] = []
        self.globals: list[bool] = []
        self.chains: list[tuple[RegistryEntry, ...]] = []
        for start, entry, category, global_, chain in intervals:
            if self.entries and self.chains[-1] == chain and self.categories[-1] is category:
                continue  # the same answer as the interval before: no cut needed
            self.starts.append(start)
            self.entries.append(entry)
            self.categories.append(category)
            self.globals.append(global_)
            self.chains.append(chain)
        self.privates: list[bool] = [c is AddressCategory.PRIVATE for c in self.categories]

    @classmethod
    def from_entries(cls, entries: tuple[RegistryEntry, ...], bits: int, default: AddressCategory) -> _Table:
        """Flatten possibly nested rows into disjoint intervals, each with its most specific row."""
        spans = [(*prefix_bounds(e), e) for e in entries]
        cuts = {0}
        for first, last, _, _ in spans:
            cuts.add(first)
            if last + 1 < (1 << bits):
                cuts.add(last + 1)
        # Outside every row: IPv4 unicast is public; IPv6 is public only inside 2000::/3,
        # which is itself a row, so the IPv6 default is reserved and not global.
        default_global = default is AddressCategory.PUBLIC
        intervals: list[_Interval] = []
        for cut in sorted(cuts):
            covering = sorted(((plen, e) for first, last, plen, e in spans if first <= cut <= last), key=_longest)
            chain = tuple(e for _, e in covering)
            if chain:
                best = chain[0]
                intervals.append((cut, best, best.category, best.globally_reachable is True, chain))
            else:
                intervals.append((cut, None, default, default_global, chain))
        return cls(bits, intervals)

    @classmethod
    def with_mapped(cls, v6: _Table, v4: _Table) -> _Table:
        """``v6`` with the intervals of ``v4`` moved into ::ffff:0:0/96 (RFC 4291 section 2.5.5.2).

        An IPv4-mapped address is classified as the IPv4 address it carries, so in this
        table it lands on its IPv4 row with the same single bisect as any other address.
        """
        prefix, last = MAPPED_PREFIX, MAPPED_LAST
        cuts = set(v6.starts) | {prefix | start for start in v4.starts} | {last + 1}
        intervals: list[_Interval] = []
        for cut in sorted(cuts):
            table, i = (v4, v4.index(cut - prefix)) if prefix <= cut <= last else (v6, v6.index(cut))
            intervals.append((cut, table.entries[i], table.categories[i], table.globals[i], table.chains[i]))
        return cls(128, intervals)

    def index(self, value: int) -> int:
        """The interval ``value`` falls in."""
        return bisect_right(self.starts, value) - 1

    def covering(self, i: int, j: int) -> RegistryEntry | None:
        """The most specific row covering every interval from ``i`` to ``j``.

        Rows are prefixes, so they nest or are disjoint: a row covering both ends covers
        everything between them.
        """
        last = self.chains[j]
        for entry in self.chains[i]:
            if entry in last:
                return entry
        return None

    def by_top_byte(self, values: list[_T]) -> list[_T | None]:
        """For each value of the top byte, ``values[i]`` if all its addresses share it, else None.

        ``values`` has one item per interval; the result is a cache in front of the bisect.
        """
        out: list[_T | None] = []
        for top in range(256):
            first = self.index(top << self.shift)
            last = self.index(((top + 1) << self.shift) - 1)
            # Values are bools and enum members: one distinct value means one answer.
            answers = {values[k] for k in range(first, last + 1)}
            out.append(values[first] if len(answers) == 1 else None)
        return out


def _longest(pair: tuple[int, RegistryEntry]) -> int:
    return -pair[0]


IPV4_TABLE = _Table.from_entries(IPV4_ENTRIES, 32, AddressCategory.PUBLIC)
IPV6_TABLE = _Table.from_entries(IPV6_ENTRIES, 128, AddressCategory.RESERVED)
IPV6_MAPPED_TABLE = _Table.with_mapped(IPV6_TABLE, IPV4_TABLE)
