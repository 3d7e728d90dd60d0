"""netbasics: typed, zero-dependency basics of network programming.

Strict IPv4/IPv6 parsing and IANA classification, networks and address sets, ports,
endpoints, framing, and small TCP/UDP clients and servers. Every public name is
importable from here; the submodules are implementation detail.

>>> import netbasics
>>> netbasics.parse_address("192.168.1.10").is_private
True
"""

from __future__ import annotations

from ._registry import REGISTRY_DATE as REGISTRY_DATE
from ._registry import AddressCategory as AddressCategory
from ._registry import RegistryEntry as RegistryEntry
from .addresses import Address as Address
from .addresses import IPv4Address as IPv4Address
from .addresses import IPv6Address as IPv6Address
from .addresses import is_valid_address as is_valid_address
from .addresses import parse_address as parse_address
from .addresses import parse_ipv4 as parse_ipv4
from .addresses import parse_ipv6 as parse_ipv6
from .classify import AddressInfo as AddressInfo
from .classify import classify as classify
from .errors import AddressError as AddressError
from .errors import ConnectError as ConnectError
from .errors import ConnectionClosed as ConnectionClosed
from .errors import DatagramTooLarge as DatagramTooLarge
from .errors import EndpointError as EndpointError
from .errors import FrameTooLarge as FrameTooLarge
from .errors import NetbasicsError as NetbasicsError
from .errors import NetTimeoutError as NetTimeoutError
from .errors import NetworkError as NetworkError
from .errors import PortError as PortError
from .errors import ResolveError as ResolveError
from .errors import UnsafeDestination as UnsafeDestination

__version__ = "0.1.0.dev0"

__all__ = [
    "REGISTRY_DATE",
    "Address",
    "AddressCategory",
    "AddressError",
    "AddressInfo",
    "ConnectError",
    "ConnectionClosed",
    "DatagramTooLarge",
    "EndpointError",
    "FrameTooLarge",
    "IPv4Address",
    "IPv6Address",
    "NetTimeoutError",
    "NetbasicsError",
    "NetworkError",
    "PortError",
    "RegistryEntry",
    "ResolveError",
    "UnsafeDestination",
    "classify",
    "is_valid_address",
    "parse_address",
    "parse_ipv4",
    "parse_ipv6",
]


def _claim_public_names() -> None:
    # Public objects report ``netbasics`` as their module, so reprs, tracebacks and
    # pickles name the flat public path rather than a private submodule.
    for name in __all__:
        obj = globals()[name]
        if getattr(obj, "__module__", "").startswith("netbasics."):
            try:
                obj.__module__ = "netbasics"
            except (AttributeError, TypeError):  # pragma: no cover - e.g. typing aliases
                pass


_claim_public_names()
del _claim_public_names
