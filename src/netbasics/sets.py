"""AddressSet: an immutable set of IPv4 and IPv6 addresses stored as merged intervals.

Each family is one flat, strictly increasing list of half-open bounds
``[s0, e0, s1, e1, ...]`` (see :mod:`netbasics.networks`): an address ``x`` is in the
set exactly when ``bisect_right(bounds, x)`` is odd. So membership is one binary
search over plain ints, set algebra is one linear sweep over two such lists, and a
set built from a million prefixes holds a few million ints rather than a million
objects.

Building never makes a network object per entry: text is parsed straight to ints,
each prefix becomes one sortable int key (``start << 8 | host_bits``), and the sorted
keys are merged in one pass.
"""

from __future__ import annotations

import ipaddress
import os
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from typing import Union

from ._core import DIFFERENCE, INTERSECTION, SYMMETRIC_DIFFERENCE, UNION, combine, merge_keys, merge_spans
from ._core import parse_network_text as _parse_parts
from ._parse import exact_str, parse_ipv4_int, parse_ipv6_int
from .addresses import Address, IPv4Address, IPv6Address, address_int
from .errors import AddressError, CIDRError, quote
from .networks import (
    AddressRange,
    IPv4Network,
    IPv6Network,
    Network,
    networks_from_bounds,
    parse_network,
    parse_range,
    prefix_key,
    range_from_ints,
    range_span,
)

__all__ = ["AddressSet"]

_set = object.__setattr__

_SetItem = Union[
    str,
    Address,
    Network,
    AddressRange,
    "AddressSet",
    ipaddress.IPv4Address,
    ipaddress.IPv6Address,
    ipaddress.IPv4Network,
    ipaddress.IPv6Network,
]
# Things that are one entry even though some of them can be iterated.
_SINGLE = (
    str,
    IPv4Address,
    IPv6Address,
    IPv4Network,
    IPv6Network,
    AddressRange,
    ipaddress.IPv4Address,
    ipaddress.IPv6Address,
    ipaddress.IPv4Network,
    ipaddress.IPv6Network,
)


class _Builder:
    """Collects entries as int keys and spans, then merges them into bounds."""

    __slots__ = ("keys4", "keys6", "sets", "spans4", "spans6", "strict")

    def __init__(self, strict: bool) -> None:
        self.strict = strict
        self.keys4: list[int] = []
        self.keys6: list[int] = []
        self.spans4: list[tuple[int, int]] = []
        self.spans6: list[tuple[int, int]] = []
        self.sets: list[AddressSet] = []

    def add_text(self, text: str) -> None:
        try:
            version, ip, plen = _parse_parts(text, self.strict)
        except CIDRError:
            if "-" not in text:
                raise
            self.add_range(parse_range(text))
            return
        if version == 4:
            self.keys4.append(ip << 8 | (32 - plen))
        else:
            self.keys6.append(ip << 8 | (128 - plen))

    def add_range(self, r: AddressRange) -> None:
        version, first, end = range_span(r)
        (self.spans4 if version == 4 else self.spans6).append((first, end))

    def add(self, item: object) -> None:
        cls = item.__class__
        if cls is str:
            self.add_text(item)  # type: ignore[arg-type]
        elif isinstance(item, AddressRange):
            self.add_range(item)
        elif isinstance(item, AddressSet):
            self.sets.append(item)
        elif isinstance(item, str):
            self.add_text(exact_str(item))
        else:
            try:
                net = parse_network(item)  # type: ignore[arg-type]
            except TypeError:
                raise TypeError(f"cannot add {type(item).__name__} {quote(item)} to an AddressSet") from None
            (self.keys4 if net.version == 4 else self.keys6).append(prefix_key(net))

    def build(self) -> AddressSet:
        v4 = merge_keys(self.keys4)
        v6 = merge_keys(self.keys6)
        if self.spans4:
            v4 = combine(v4, merge_spans(self.spans4), UNION)
        if self.spans6:
            v6 = combine(v6, merge_spans(self.spans6), UNION)
        for other in self.sets:
            v4 = combine(v4, other._v4, UNION)
            v6 = combine(v6, other._v6, UNION)
        return AddressSet._from_bounds(v4, v6)


class AddressSet:
    """An immutable set of IPv4 and/or IPv6 addresses, stored as merged intervals.

    Build it from an iterable of any mix of addresses, networks, :class:`AddressRange`
    objects, other sets, stdlib ``ipaddress`` objects, and text: ``"10.0.0.0/8"``,
    ``"192.0.2.1"``, ``"10.0.0.0/255.0.0.0"``, ``"2001:db8::/32"`` or a range
    ``"10.0.0.1-10.0.0.9"``. A single entry may be given on its own. Text follows
    :func:`parse_network`; with ``strict=False`` host bits are masked instead of
    refused. Use :meth:`from_file` for a list file.

    ``addr in s`` takes an address object, address text (parsed by the fast parsers)
    or a stdlib address and costs one binary search; a network, range or set is "in"
    when all of it is. Families are separate: ``::ffff:10.0.0.1`` is not in a set of
    IPv4 networks. Zones are ignored in membership tests.

    Iterating yields the fewest networks covering the set (IPv4 first), never single
    addresses; :attr:`num_addresses` counts addresses. Set algebra (``|``, ``&``,
    ``-``, ``^``, comparisons) works on the intervals and takes linear time.

    >>> s = AddressSet(["10.0.0.0/24", "10.0.1.0/24", "192.0.2.7", "2001:db8::/48"])
    >>> "10.0.1.200" in s, "10.0.2.1" in s, "2001:db8::1" in s
    (True, False, True)
    >>> [str(n) for n in s]
    ['10.0.0.0/23', '192.0.2.7/32', '2001:db8::/48']
    """

    __slots__ = ("_hash", "_v4", "_v6")
    _v4: list[int]
    _v6: list[int]
    _hash: int | None

    def __init__(self, items: Iterable[_SetItem] | _SetItem = (), *, strict: bool = True) -> None:
        if isinstance(items, (*_SINGLE, AddressSet)):
            items = (items,)
        builder = _Builder(strict)
        add = builder.add
        for item in items:
            add(item)
        built = builder.build()
        _set(self, "_v4", built._v4)
        _set(self, "_v6", built._v6)
        _set(self, "_hash", None)

    @classmethod
    def _from_bounds(cls, v4: list[int], v6: list[int]) -> AddressSet:
        obj = object.__new__(cls)
        _set(obj, "_v4", v4)
        _set(obj, "_v6", v6)
        _set(obj, "_hash", None)
        return obj

    @classmethod
    def from_lines(cls, lines: Iterable[str], *, strict: bool = True, name: str | None = None) -> AddressSet:
        """Build a set from lines of text, one entry per line.

        Anything after ``#`` is a comment; surrounding whitespace and blank lines are
        ignored. An entry is an address, a network or a ``first-last`` range, as for the
        constructor. A bad line raises :class:`CIDRError` naming its line number (and
        ``name``, e.g. the file name) and quoting its text.

        >>> AddressSet.from_lines(["# office", "192.0.2.0/24  # LAN", "", "2001:db8::/32"])
        AddressSet(['192.0.2.0/24', '2001:db8::/32'])
        >>> AddressSet.from_lines(["10.0.0.0/8", "10.0.0.1/33"], name="allow.txt")
        Traceback (most recent call last):
        ...
        netbasics.CIDRError: line 2 of 'allow.txt': prefix length '33' is out of range (0 to 32) in '10.0.0.1/33'
        """
        builder = _Builder(strict)
        add_text = builder.add_text
        lineno = 0
        try:
            for lineno, line in enumerate(lines, 1):
                if not isinstance(line, str):
                    raise TypeError(f"line {lineno} is {type(line).__name__} {quote(line)}, not str")
                if "#" in line:
                    line = line[: line.index("#")]
                text = line.strip()
                if text:
                    add_text(text)
        except CIDRError as exc:
            # The name is not bad input: give it whole, unlike quoted text.
            where = f"line {lineno}" if name is None else f"line {lineno} of {name!r}"
            raise CIDRError(f"{where}: {exc}") from None  # the whole message: nothing else quotes the line
        return builder.build()

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], *, strict: bool = True, encoding: str = "utf-8") -> AddressSet:
        """Build a set from a list file: one entry per line, ``#`` comments, blank lines ignored.

        See :meth:`from_lines` for the line format and errors. The file is read as it
        is parsed, never held whole in memory; bytes that are not valid in ``encoding``
        make their line a bad line. ``OSError`` (e.g. a missing file) propagates.
        """
        with open(path, encoding=encoding, errors="surrogateescape") as f:
            return cls.from_lines(f, strict=strict, name=os.fspath(path))

    # --- membership -------------------------------------------------------------------

    def __contains__(self, item: object) -> bool:
        cls = item.__class__
        if cls is IPv4Address:
            return (bisect_right(self._v4, address_int(item)) & 1) == 1  # type: ignore[arg-type]
        if cls is str:
            try:
                if ":" in item:  # type: ignore[operator]
                    return (bisect_right(self._v6, parse_ipv6_int(item)[0]) & 1) == 1  # type: ignore[arg-type]
                return (bisect_right(self._v4, parse_ipv4_int(item)) & 1) == 1  # type: ignore[arg-type]
            except AddressError:
                if "/" not in item and "-" not in item:  # type: ignore[operator]
                    raise
                return self._covers(AddressSet(item))  # type: ignore[arg-type]
        if cls is IPv6Address:
            return (bisect_right(self._v6, address_int(item)) & 1) == 1  # type: ignore[arg-type]
        return self._contains_other(item)

    def _contains_other(self, item: object) -> bool:
        if isinstance(item, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
            bounds = self._v4 if item.version == 4 else self._v6
            return (bisect_right(bounds, int(item)) & 1) == 1
        if isinstance(item, AddressSet):
            return self._covers(item)
        if isinstance(
            item, (str, IPv4Network, IPv6Network, AddressRange, ipaddress.IPv4Network, ipaddress.IPv6Network)
        ):
            return self._covers(AddressSet(item))
        raise TypeError(
            f"'in <AddressSet>' takes an address, network, range or set, not {type(item).__name__} {quote(item)}"
        )

    def _covers(self, other: AddressSet) -> bool:
        return not combine(other._v4, self._v4, DIFFERENCE) and not combine(other._v6, self._v6, DIFFERENCE)

    # --- set algebra ------------------------------------------------------------------

    def _op(self, others: tuple[Iterable[_SetItem] | _SetItem, ...], table: int) -> AddressSet:
        v4, v6 = self._v4, self._v6
        for other in others:
            o = other if isinstance(other, AddressSet) else AddressSet(other)
            v4 = combine(v4, o._v4, table)
            v6 = combine(v6, o._v6, table)
        return AddressSet._from_bounds(v4, v6)

    def union(self, *others: Iterable[_SetItem] | _SetItem) -> AddressSet:
        """The addresses in this set or any of ``others`` (sets, or anything the constructor takes)."""
        return self._op(others, UNION)

    def intersection(self, *others: Iterable[_SetItem] | _SetItem) -> AddressSet:
        """The addresses in this set and in every one of ``others``."""
        return self._op(others, INTERSECTION)

    def difference(self, *others: Iterable[_SetItem] | _SetItem) -> AddressSet:
        """The addresses in this set and in none of ``others``."""
        return self._op(others, DIFFERENCE)

    def symmetric_difference(self, other: Iterable[_SetItem] | _SetItem) -> AddressSet:
        """The addresses in exactly one of this set and ``other``."""
        return self._op((other,), SYMMETRIC_DIFFERENCE)

    def issubset(self, other: Iterable[_SetItem] | _SetItem) -> bool:
        """True if every address of this set is in ``other``."""
        o = other if isinstance(other, AddressSet) else AddressSet(other)
        return o._covers(self)

    def issuperset(self, other: Iterable[_SetItem] | _SetItem) -> bool:
        """True if every address of ``other`` is in this set."""
        o = other if isinstance(other, AddressSet) else AddressSet(other)
        return self._covers(o)

    def isdisjoint(self, other: Iterable[_SetItem] | _SetItem) -> bool:
        """True if this set and ``other`` share no address."""
        return not self._op((other,), INTERSECTION)

    def __or__(self, other: object) -> AddressSet:
        if not isinstance(other, AddressSet):
            return NotImplemented
        return self._op((other,), UNION)

    def __and__(self, other: object) -> AddressSet:
        if not isinstance(other, AddressSet):
            return NotImplemented
        return self._op((other,), INTERSECTION)

    def __sub__(self, other: object) -> AddressSet:
        if not isinstance(other, AddressSet):
            return NotImplemented
        return self._op((other,), DIFFERENCE)

    def __xor__(self, other: object) -> AddressSet:
        if not isinstance(other, AddressSet):
            return NotImplemented
        return self._op((other,), SYMMETRIC_DIFFERENCE)

    def __le__(self, other: object) -> bool:
        if not isinstance(other, AddressSet):
            return NotImplemented
        return other._covers(self)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, AddressSet):
            return NotImplemented
        return self != other and other._covers(self)

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, AddressSet):
            return NotImplemented
        return self._covers(other)

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, AddressSet):
            return NotImplemented
        return self != other and self._covers(other)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AddressSet):
            return NotImplemented
        return self._v4 == other._v4 and self._v6 == other._v6

    def __hash__(self) -> int:
        if self._hash is None:
            _set(self, "_hash", hash((AddressSet, tuple(self._v4), tuple(self._v6))))
        return self._hash  # type: ignore[return-value]

    def __bool__(self) -> bool:
        return bool(self._v4 or self._v6)

    # --- contents ---------------------------------------------------------------------

    @property
    def num_addresses(self) -> int:
        """How many addresses the set holds (both families)."""
        total = 0
        for bounds in (self._v4, self._v6):
            total += sum(bounds[1::2]) - sum(bounds[0::2])
        return total

    def __iter__(self) -> Iterator[Network]:
        """The fewest networks covering the set, in order, IPv4 first; produced lazily."""
        for version, bounds in ((4, self._v4), (6, self._v6)):
            # A chunk of intervals at a time: lazy, without a function call per network.
            for k in range(0, len(bounds), 1024):
                yield from networks_from_bounds(bounds[k : k + 1024], version)

    def to_networks(self) -> list[Network]:
        """The fewest networks covering exactly the set, sorted, IPv4 first.

        ``AddressSet(s.to_networks()) == s`` always holds.
        """
        return networks_from_bounds(self._v4, 4) + networks_from_bounds(self._v6, 6)

    def to_ranges(self) -> list[AddressRange]:
        """The set as sorted, disjoint, non-adjacent ranges, IPv4 first."""
        out: list[AddressRange] = []
        for version, bounds in ((4, self._v4), (6, self._v6)):
            for k in range(0, len(bounds), 2):
                out.append(range_from_ints(version, bounds[k], bounds[k + 1] - 1))
        return out

    def __repr__(self) -> str:
        count = (len(self._v4) + len(self._v6)) // 2
        if count > 8:
            return f"<AddressSet of {count} ranges, {self.num_addresses} addresses>"
        return f"AddressSet({[str(n) for n in self]!r})"

    def __reduce__(self) -> tuple[object, tuple[list[int], list[int]]]:
        return (_restore, (self._v4, self._v6))

    def __copy__(self) -> AddressSet:
        return self

    def __deepcopy__(self, memo: object) -> AddressSet:
        return self

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("AddressSet is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("AddressSet is immutable")


def _restore(v4: list[int], v6: list[int]) -> AddressSet:
    """Unpickle an AddressSet from its bounds."""
    return AddressSet._from_bounds(list(v4), list(v6))
