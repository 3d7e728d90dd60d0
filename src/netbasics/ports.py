"""Port numbers: strict validation, the RFC 6335 ranges, and IANA service names.

One function per question: :func:`validate_port` (is this a port number?),
:func:`parse_port` (a number or a service name, as typed by a user -> port),
:func:`services_for_port` (port -> registry rows), :func:`find_service` (name -> registry
row) and :func:`port_category` (port -> RFC 6335 range).

Validation is strict in the same way as address parsing: an ``int`` in 0-65535, or a
``str`` of plain ASCII decimal digits without sign, spaces or leading zeros. A value of
an accepted type that is no port (``-1``, ``'٨٠'``, ``'0x50'``, ``'080'``) raises
:class:`PortError`, which is a :class:`ValueError`; a value of another type (``bool``,
``float`` even when whole, ``bytes``, ``None``) raises :class:`TypeError`.

Service names come from the IANA registry bundled in ``_services`` (never from
``/etc/services``). Its lookup dicts are built on the first service lookup, not at
``import netbasics``: the table has over 6,000 rows and most programs never ask.
"""

from __future__ import annotations

import enum
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from typing import Final

from ._parse import exact_str
from .errors import PortError, quote

__all__ = [
    "SERVICES_DATE",
    "PortCategory",
    "Service",
    "find_service",
    "parse_port",
    "port_category",
    "services_for_port",
    "validate_port",
]

MAX_PORT: Final = 65535

#: Date of the bundled IANA service-name registry snapshot (kept equal to the data
#: module's by a test; defined here so that ``import netbasics`` does not load the table).
SERVICES_DATE: Final = "2024-08-25"

#: Transport protocols the registry assigns ports for, in the order results list them.
PROTOCOLS: Final = ("tcp", "udp", "sctp", "dccp")
_PROTOCOL_SET: Final = frozenset(PROTOCOLS)


# --- validation -------------------------------------------------------------------------


def validate_port(value: object) -> int:
    """Return ``value`` as a port number (an ``int`` in 0-65535), or raise :class:`PortError`.

    Accepted: an ``int`` (or ``int`` subclass such as an ``IntEnum``; the result is a
    plain ``int``), or a ``str`` of plain ASCII decimal digits: ``"0"`` or a number
    without leading zeros, no sign, no spaces. :class:`PortError` (a ``ValueError``),
    with a message that quotes the input and says why, for negative numbers, numbers
    above 65535, ``""``, ``" 80"``, ``"+80"``, ``"0x50"``, non-ASCII digits such as
    ``"٨٠"`` (which ``int()`` would accept) and leading zeros (``"080"``: octal or
    decimal? The same rule as IPv4 octets). :class:`TypeError` for every other type:
    ``bool``, ``float`` (even ``80.0``), ``bytes``, ``None``. Service names are not
    port numbers here: :func:`parse_port` takes either.

    >>> validate_port("8080")
    8080
    >>> validate_port("080")
    Traceback (most recent call last):
    ...
    netbasics.PortError: port '080' has a leading zero (ambiguous: octal or decimal?)
    >>> validate_port(80.0)
    Traceback (most recent call last):
    ...
    TypeError: port 80.0 is a float, not an int
    """
    # Fast paths first: exact int and exact str cover nearly every call.
    if type(value) is int:
        if 0 <= value <= MAX_PORT:
            return value
    elif (
        type(value) is str
        and 0 < len(value) <= 5
        and value.isascii()
        and value.isdigit()
        and (value[0] != "0" or value == "0")
    ):
        port = int(value)
        if port <= MAX_PORT:
            return port
    elif isinstance(value, int) and not isinstance(value, bool):
        port = int(value)  # an int subclass such as IntEnum: hand back a plain int
        if 0 <= port <= MAX_PORT:
            return port
    checked = _check_port_type(value)
    if checked is not value:  # a str subclass, now its exact value: check that
        return validate_port(checked)
    shown = int(checked) if isinstance(checked, int) else checked  # an IntEnum as its number
    raise PortError(shown, _port_reason(checked))


def _check_port_type(value: object) -> int | str:
    """Return ``value`` if it is an int (not bool) or a str; raise TypeError otherwise."""
    if isinstance(value, bool):
        raise TypeError(f"port {value!r} is a bool, not a port number")
    if isinstance(value, float):
        raise TypeError(f"port {quote(value)} is a float, not an int")
    if not isinstance(value, (int, str)):
        raise TypeError(f"port must be an int or a str of decimal digits, got {type(value).__name__} {quote(value)}")
    return exact_str(value) if isinstance(value, str) else value


def _port_reason(value: int | str) -> str:
    """Why ``value`` is not a port number, to follow ``port <value>`` (the slow path)."""
    if isinstance(value, int):
        return f"is out of range (0 to {MAX_PORT})"
    if not value:
        return "empty string is not a port number"
    if value.strip() != value:
        return "has leading or trailing whitespace"
    if value[0] in "+-" and value[1:].isdigit():
        return "has a sign; write plain decimal digits"
    if not (value.isascii() and value.isdigit()):
        if value.isascii() and value[0].isalpha() and value.replace("-", "").isalnum():
            # Looks like a service name: point at the function that takes one.
            return "is not a number (parse_port() also accepts service names)"
        return "is not plain ASCII decimal"
    if value[0] == "0" and len(value) > 1:
        return "has a leading zero (ambiguous: octal or decimal?)"
    return f"is out of range (0 to {MAX_PORT})"


# --- RFC 6335 ranges --------------------------------------------------------------------


class PortCategory(enum.Enum):
    """The three port ranges of RFC 6335 section 6, with their first and last port.

    ==============  ===========  ==========================================
    member          ports        RFC 6335 name
    ==============  ===========  ==========================================
    ``WELL_KNOWN``  0-1023       System Ports (assigned by IETF process)
    ``REGISTERED``  1024-49151   User Ports (assigned by IANA on request)
    ``DYNAMIC``     49152-65535  Dynamic and/or Private Ports (never assigned)
    ==============  ===========  ==========================================

    ``port in PortCategory.X`` tests membership (``False`` for anything that is not an
    ``int``). The older names (well-known, registered, dynamic) are RFC 1700's and
    IANA's registry page's; RFC 6335 keeps the same boundaries.

    >>> r = PortCategory.REGISTERED
    >>> r.first, r.last, 8080 in r, str(r), r.rfc6335_name
    (1024, 49151, True, 'registered', 'User Ports')
    """

    WELL_KNOWN = "well-known"
    REGISTERED = "registered"
    DYNAMIC = "dynamic"

    @property
    def first(self) -> int:
        """The lowest port in the range."""
        return _BOUNDS[self][0]

    @property
    def last(self) -> int:
        """The highest port in the range (inclusive)."""
        return _BOUNDS[self][1]

    @property
    def rfc6335_name(self) -> str:
        """The range's name in RFC 6335 section 6: ``'System Ports'``, ``'User Ports'``, ..."""
        return _RFC6335_NAMES[self]

    def __contains__(self, port: object) -> bool:
        if isinstance(port, bool) or not isinstance(port, int):
            return False
        first, last = _BOUNDS[self]
        return first <= port <= last

    def __str__(self) -> str:
        return self.value


# RFC 6335 section 6: "the System Ports, also known as the Well Known Ports, from 0-1023
# ...; the User Ports, also known as the Registered Ports, from 1024-49151 ...; and the
# Dynamic Ports, also known as the Private or Ephemeral Ports, from 49152-65535".
_BOUNDS: Final[dict[PortCategory, tuple[int, int]]] = {
    PortCategory.WELL_KNOWN: (0, 1023),
    PortCategory.REGISTERED: (1024, 49151),
    PortCategory.DYNAMIC: (49152, MAX_PORT),
}
_RFC6335_NAMES: Final[dict[PortCategory, str]] = {
    PortCategory.WELL_KNOWN: "System Ports",
    PortCategory.REGISTERED: "User Ports",
    PortCategory.DYNAMIC: "Dynamic and/or Private Ports",
}
_LAST_WELL_KNOWN: Final = 1023
_LAST_REGISTERED: Final = 49151


def port_category(value: int | str) -> PortCategory:
    """Return the RFC 6335 range of a port; ``value`` is checked by :func:`validate_port` first.

    Raises what :func:`validate_port` raises: :class:`PortError` for a value that is no
    port, :class:`TypeError` for a value of another type.

    >>> port_category(443), port_category("5432")
    (<PortCategory.WELL_KNOWN: 'well-known'>, <PortCategory.REGISTERED: 'registered'>)
    >>> port_category(50000)
    <PortCategory.DYNAMIC: 'dynamic'>
    """
    port = validate_port(value)
    if port <= _LAST_WELL_KNOWN:
        return PortCategory.WELL_KNOWN
    if port <= _LAST_REGISTERED:
        return PortCategory.REGISTERED
    return PortCategory.DYNAMIC


# --- IANA service names -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Service:
    """One row of the IANA service-name registry: a service and the port it is assigned.

    ``protocols`` lists the transport protocols the port is assigned for (a subset of
    ``('tcp', 'udp', 'sctp', 'dccp')``, in that order); ``aliases`` are other names that
    :func:`find_service` and :func:`parse_port` accept for it; ``description`` is the
    registry's (sometimes empty). ``str()`` gives one line for display.

    >>> print(find_service("https"))
    https 443/tcp/udp/sctp: http protocol over TLS/SSL
    """

    name: str
    port: int
    protocols: tuple[str, ...]
    aliases: tuple[str, ...]
    description: str

    def __str__(self) -> str:
        text = f"{self.name} {self.port}/{'/'.join(self.protocols)}"
        return f"{text}: {self.description}" if self.description else text


_Row = tuple[str, int, str, str, str]


class _Index:
    """Lookup tables over rows shaped like ``_services.SERVICES`` (sorted by port)."""

    __slots__ = ("by_name", "ports", "rows")

    def __init__(self, rows: tuple[_Row, ...], preferred: dict[str, int]) -> None:
        self.rows = rows
        # Rows are sorted by port, so all rows of one port are a slice found by bisect.
        self.ports = [row[1] for row in rows]
        # Per protocol: lower-case name or alias -> row index.
        self.by_name: dict[str, dict[str, int]] = {p: {} for p in PROTOCOLS}
        for i, (name, _port, protocols, _aliases, _desc) in enumerate(rows):
            key = name.lower()
            for proto in protocols.split():
                # First row wins: the lowest port of a name the registry gives to several
                # ports (mit-ml-dev 83, 85), unless ``preferred`` picks another (http-alt:
                # 8080, not 591).
                self.by_name[proto].setdefault(key, i)
        for i, (name, port, protocols, _aliases, _desc) in enumerate(rows):
            if preferred.get(name) == port:
                for proto in protocols.split():
                    self.by_name[proto][name.lower()] = i
        # Aliases last, so that no alias can shadow a primary name.
        for i, (_name, _port, protocols, aliases, _desc) in enumerate(rows):
            if aliases:
                for proto in protocols.split():
                    names = self.by_name[proto]
                    for alias in aliases.split():
                        names.setdefault(alias.lower(), i)

    def service(self, i: int) -> Service:
        name, port, protocols, aliases, description = self.rows[i]
        return Service(name, port, tuple(protocols.split()), tuple(aliases.split()), description)


_index: _Index | None = None


def _get_index() -> _Index:
    """Build the index on first use: the table is large, and most programs never ask.

    Two threads racing here both build an index and one wins; both are identical.
    """
    global _index
    if _index is None:
        from ._data.services import PREFERRED_PORTS, SERVICES

        _index = _Index(SERVICES, PREFERRED_PORTS)
    return _index


def _protocol(protocol: object) -> str:
    """Return the canonical (lower-case) protocol name; a bad one is a programmer's error."""
    if type(protocol) is str and protocol in _PROTOCOL_SET:
        return protocol
    if not isinstance(protocol, str):
        raise TypeError(f"protocol must be a str, got {type(protocol).__name__} {quote(protocol)}")
    protocol = exact_str(protocol)
    if protocol.isascii():
        lowered = protocol.lower()
        if lowered in _PROTOCOL_SET:
            return lowered
    raise ValueError(f"unknown protocol {quote(protocol)}: expected 'tcp', 'udp', 'sctp' or 'dccp'")


def _name_key(name: object) -> str | None:
    """The lookup key of a service name: lower-cased ASCII, or None if it cannot be one."""
    if not isinstance(name, str):
        raise TypeError(f"service name must be a str, got {type(name).__name__} {quote(name)}")
    name = exact_str(name)
    # Only ASCII is lowered: str.lower() maps e.g. KELVIN SIGN to 'k', and a name that
    # is not ASCII is no registry name (RFC 6335 section 5.1).
    return name.lower() if name.isascii() else None


def _lookup(key: str | None, protocols: tuple[str, ...]) -> int | None:
    """The row index a name key selects: the first of ``protocols`` that knows it wins."""
    if key is None:
        return None
    by_name = (_index or _get_index()).by_name
    for proto in protocols:
        i = by_name[proto].get(key)
        if i is not None:
            return i
    return None


def parse_port(value: int | str, protocol: str = "tcp") -> int:
    """Return a port given as a number or as a service name; raise :class:`PortError` if neither.

    Digits go through :func:`validate_port` (so ``'080'`` and ``'٨٠'`` are errors, not
    names); any other string is a service name or alias of ``protocol`` (``'tcp'``,
    ``'udp'``, ``'sctp'`` or ``'dccp'``), matched case-insensitively, with the port
    :func:`find_service` gives. Meant for command lines and ``host:port`` text, where
    ``'https'`` and ``'443'`` mean the same. A value of another type raises
    :class:`TypeError`, an unknown protocol :class:`ValueError`.

    >>> parse_port("https"), parse_port("8443"), parse_port(25), parse_port("NTP", "udp")
    (443, 8443, 25, 123)
    >>> parse_port("no-such-service")
    Traceback (most recent call last):
    ...
    netbasics.PortError: port 'no-such-service' is neither a port number nor a known tcp service name
    """
    proto = _protocol(protocol)
    if isinstance(value, str):
        value = exact_str(value)
    if not isinstance(value, str) or not value or value.isdigit():
        return validate_port(value)
    i = _lookup(_name_key(value), (proto,))
    if i is None:
        raise PortError(value, f"is neither a port number nor a known {proto} service name")
    return (_index or _get_index()).rows[i][1]


def services_for_port(port: int | str, protocol: str | None = None) -> tuple[Service, ...]:
    """Return the registry rows for a port (for one protocol, or all when ``None``).

    Rows come in registry order, and for each protocol **the first row carrying it is
    the preferred name** of the port: ``services_for_port(p, "udp")[0].name`` is the
    name to show for ``p``/udp. The tuple is empty when nothing is assigned. Raises
    what :func:`validate_port` raises for a bad port, :class:`ValueError` for an unknown
    protocol.

    >>> [s.name for s in services_for_port(514)]
    ['shell', 'syslog']
    >>> services_for_port(514, "udp")
    (Service(name='syslog', port=514, protocols=('udp',), aliases=(), description=''),)
    >>> services_for_port(6379, "udp")
    ()
    """
    number = validate_port(port)
    proto = None if protocol is None else _protocol(protocol)
    index = _index or _get_index()
    lo = bisect_left(index.ports, number)
    hi = bisect_right(index.ports, number, lo)
    return tuple(index.service(i) for i in range(lo, hi) if proto is None or proto in index.rows[i][2].split())


def find_service(name: str, protocol: str | None = None) -> Service | None:
    """Return the registry row for a service name or alias, or ``None`` if unknown.

    Names and aliases match case-insensitively (``'HTTP'``, ``'www'``). With
    ``protocol=None`` (default) the first of tcp, udp, sctp, dccp that knows the name
    answers; otherwise only that protocol. A name the registry gives to several ports
    finds the lowest (``http-alt`` excepted: 8080, not FileMaker's 591). Numeric strings
    are never service names (RFC 6335 section 5.1 requires a letter), so
    ``find_service('80')`` is ``None``: use :func:`parse_port` to accept either. Raises
    :class:`TypeError` for a name that is not a ``str``, :class:`ValueError` for an
    unknown protocol.

    >>> s = find_service("postgres")
    >>> s.name, s.port, s.protocols, s.aliases
    ('postgresql', 5432, ('tcp', 'udp'), ('postgres',))
    >>> find_service("WWW").port, find_service("nope")
    (80, None)
    """
    i = _lookup(_name_key(name), PROTOCOLS if protocol is None else (_protocol(protocol),))
    return None if i is None else (_index or _get_index()).service(i)
