"""netbasics: typed, zero-dependency basics of network programming.

Strict IPv4/IPv6 parsing and IANA classification, networks and address sets, ports,
endpoints, framing, and small TCP/UDP clients and servers. Every public name is
imported from here (``netbasics.connect_tcp``, ``netbasics.parse_address``); the
submodules are implementation detail and their layout may change.

>>> import netbasics
>>> netbasics.parse_address("192.168.1.10").is_private
True
"""

from __future__ import annotations

from ._classify import AddressInfo as AddressInfo
from ._classify import classify as classify
from ._data.registry import REGISTRY_DATE as REGISTRY_DATE
from ._data.registry import AddressCategory as AddressCategory
from ._data.registry import RegistryEntry as RegistryEntry
from ._io.message_loop import Responder as Responder
from ._urls import check_url as check_url
from .addresses import Address as Address
from .addresses import IPv4Address as IPv4Address
from .addresses import IPv6Address as IPv6Address
from .addresses import is_valid_address as is_valid_address
from .addresses import parse_address as parse_address
from .addresses import parse_ipv4 as parse_ipv4
from .addresses import parse_ipv6 as parse_ipv6
from .endpoints import Endpoint as Endpoint
from .endpoints import EndpointLike as EndpointLike
from .endpoints import HostPort as HostPort
from .endpoints import parse_endpoint as parse_endpoint
from .endpoints import parse_host_port as parse_host_port
from .errors import AddressError as AddressError
from .errors import BindError as BindError
from .errors import CIDRError as CIDRError
from .errors import ClosedLocally as ClosedLocally
from .errors import ConnectError as ConnectError
from .errors import ConnectionClosed as ConnectionClosed
from .errors import DatagramTooLarge as DatagramTooLarge
from .errors import EndpointError as EndpointError
from .errors import FrameTooLarge as FrameTooLarge
from .errors import NetbasicsError as NetbasicsError
from .errors import NetTimeoutError as NetTimeoutError
from .errors import PeerClosed as PeerClosed
from .errors import PortError as PortError
from .errors import ResolveError as ResolveError
from .framing import ErrorPendingFramer as ErrorPendingFramer
from .framing import Framer as Framer
from .framing import HeaderFramer as HeaderFramer
from .framing import LengthPrefixFramer as LengthPrefixFramer
from .framing import LineFramer as LineFramer
from .interfaces import Interface as Interface
from .interfaces import IPv4Interface as IPv4Interface
from .interfaces import IPv6Interface as IPv6Interface
from .interfaces import parse_interface as parse_interface
from .networks import AddressRange as AddressRange
from .networks import IPv4Network as IPv4Network
from .networks import IPv6Network as IPv6Network
from .networks import Network as Network
from .networks import collapse as collapse
from .networks import exclude as exclude
from .networks import parse_network as parse_network
from .networks import parse_range as parse_range
from .networks import summarize_range as summarize_range
from .ports import SERVICES_DATE as SERVICES_DATE
from .ports import PortCategory as PortCategory
from .ports import Service as Service
from .ports import find_service as find_service
from .ports import parse_port as parse_port
from .ports import port_category as port_category
from .ports import services_for_port as services_for_port
from .ports import validate_port as validate_port
from .receive_buffer import ReceiveBuffer as ReceiveBuffer
from .resolver import Resolver as Resolver
from .resolver import resolve as resolve
from .safety import DestinationPolicy as DestinationPolicy
from .safety import UnsafeDestination as UnsafeDestination
from .safety import UnsafeReason as UnsafeReason
from .safety import check_destination as check_destination
from .safety import is_safe_destination as is_safe_destination
from .sets import AddressSet as AddressSet
from .stream import StreamConnection as StreamConnection
from .tcp import DEFAULT_CONNECT_TIMEOUT as DEFAULT_CONNECT_TIMEOUT
from .tcp import DEFAULT_IDLE_TIMEOUT as DEFAULT_IDLE_TIMEOUT
from .tcp import DEFAULT_MAX_CONNECTIONS as DEFAULT_MAX_CONNECTIONS
from .tcp import ConnectionHandler as ConnectionHandler
from .tcp import TCPServer as TCPServer
from .tcp import connect_tcp as connect_tcp
from .tcp import port_open as port_open
from .udp import MAX_UDP_PAYLOAD_IPV4 as MAX_UDP_PAYLOAD_IPV4
from .udp import MAX_UDP_PAYLOAD_IPV6 as MAX_UDP_PAYLOAD_IPV6
from .udp import Datagram as Datagram
from .udp import DatagramHandler as DatagramHandler
from .udp import Reply as Reply
from .udp import UDPServer as UDPServer
from .udp import UDPSocket as UDPSocket
from .udp import open_udp as open_udp
from .udp import udp_request as udp_request
from .unix_addresses import PeerCredentials as PeerCredentials
from .unix_addresses import UnixAddress as UnixAddress
from .unix_addresses import UnixAddressLike as UnixAddressLike
from .unix_addresses import parse_unix_address as parse_unix_address
from .unix_datagram import UnixDatagram as UnixDatagram
from .unix_datagram import UnixDatagramHandler as UnixDatagramHandler
from .unix_datagram import UnixDatagramServer as UnixDatagramServer
from .unix_datagram import UnixDatagramSocket as UnixDatagramSocket
from .unix_datagram import open_unix_datagram as open_unix_datagram
from .unix_stream import UnixResponder as UnixResponder
from .unix_stream import UnixServer as UnixServer
from .unix_stream import connect_unix as connect_unix

__version__ = "1.0.0"

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_IDLE_TIMEOUT",
    "DEFAULT_MAX_CONNECTIONS",
    "MAX_UDP_PAYLOAD_IPV4",
    "MAX_UDP_PAYLOAD_IPV6",
    "REGISTRY_DATE",
    "SERVICES_DATE",
    "Address",
    "AddressCategory",
    "AddressError",
    "AddressInfo",
    "AddressRange",
    "AddressSet",
    "BindError",
    "CIDRError",
    "ClosedLocally",
    "ConnectError",
    "ConnectionClosed",
    "ConnectionHandler",
    "Datagram",
    "DatagramHandler",
    "DatagramTooLarge",
    "DestinationPolicy",
    "Endpoint",
    "EndpointError",
    "EndpointLike",
    "ErrorPendingFramer",
    "FrameTooLarge",
    "Framer",
    "HeaderFramer",
    "HostPort",
    "IPv4Address",
    "IPv4Interface",
    "IPv4Network",
    "IPv6Address",
    "IPv6Interface",
    "IPv6Network",
    "Interface",
    "LengthPrefixFramer",
    "LineFramer",
    "NetTimeoutError",
    "NetbasicsError",
    "Network",
    "PeerClosed",
    "PeerCredentials",
    "PortCategory",
    "PortError",
    "ReceiveBuffer",
    "RegistryEntry",
    "Reply",
    "ResolveError",
    "Resolver",
    "Responder",
    "Service",
    "StreamConnection",
    "TCPServer",
    "UDPServer",
    "UDPSocket",
    "UnixAddress",
    "UnixAddressLike",
    "UnixDatagram",
    "UnixDatagramHandler",
    "UnixDatagramServer",
    "UnixDatagramSocket",
    "UnixResponder",
    "UnixServer",
    "UnsafeDestination",
    "UnsafeReason",
    "check_destination",
    "check_url",
    "classify",
    "collapse",
    "connect_tcp",
    "connect_unix",
    "exclude",
    "find_service",
    "is_safe_destination",
    "is_valid_address",
    "open_udp",
    "open_unix_datagram",
    "parse_address",
    "parse_endpoint",
    "parse_host_port",
    "parse_interface",
    "parse_ipv4",
    "parse_ipv6",
    "parse_network",
    "parse_port",
    "parse_range",
    "parse_unix_address",
    "port_category",
    "port_open",
    "resolve",
    "services_for_port",
    "summarize_range",
    "udp_request",
    "validate_port",
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
