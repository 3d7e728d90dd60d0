"""Classification of addresses against the IANA special-purpose registries."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from ._data.registry import IPV4_TABLE, IPV6_MAPPED_TABLE, AddressCategory, RegistryEntry
from .addresses import Address, IPv4Address, parse_address

__all__ = ["AddressInfo", "classify", "registry_entry"]


@dataclass(frozen=True, slots=True)
class AddressInfo:
    """What the registries say about one address.

    ``entry`` is the most specific registry row covering the address (``None`` for
    ordinary public IPv4). For an IPv4-mapped IPv6 address the facts are those of the
    IPv4 address it carries, and ``entry`` is that address's row.

    >>> print(classify("100.64.1.1"))
    100.64.1.1: shared (Shared Address Space, RFC 6598), not globally reachable
    """

    address: Address
    category: AddressCategory
    entry: RegistryEntry | None
    is_global: bool

    def __str__(self) -> str:
        where = f" ({self.entry.name}, {self.entry.rfc})" if self.entry is not None else ""
        mapped = self.address.ipv4_mapped
        via = f" as IPv4-mapped {mapped}" if mapped is not None else ""
        reach = "globally reachable" if self.is_global else "not globally reachable"
        return f"{self.address}{via}: {self.category}{where}, {reach}"


def registry_entry(address: Address) -> RegistryEntry | None:
    """The most specific registry row covering ``address`` (IPv4-mapped unwrapped), or None.

    Read from the same interval tables as ``address.category`` and ``address.is_global``;
    the IPv6 table holds the IPv4 rows inside ::ffff:0:0/96, so a mapped address finds
    its IPv4 row without being unwrapped.
    """
    table = IPV4_TABLE if isinstance(address, IPv4Address) else IPV6_MAPPED_TABLE
    return table.entries[table.index(int(address))]


def classify(
    address: str | int | bytes | bytearray | memoryview | Address | ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> AddressInfo:
    """Classify an address (anything :func:`parse_address` accepts) by the IANA registries.

    Raises :class:`AddressError` for malformed input.

    >>> info = classify("::ffff:192.168.0.1")
    >>> info.category, info.is_global
    (<AddressCategory.PRIVATE: 'private'>, False)
    """
    addr = parse_address(address)
    return AddressInfo(addr, addr.category, registry_entry(addr), addr.is_global)
