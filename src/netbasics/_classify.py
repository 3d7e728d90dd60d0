"""Classification of addresses against the IANA special-purpose registries."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from ._data.registry import AddressCategory, RegistryEntry
from .addresses import Address, parse_address

__all__ = ["AddressInfo", "classify"]


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
    return AddressInfo(addr, addr.category, addr.entry, addr.is_global)
