"""Unix domain socket addresses (``unix:/run/app.sock``, ``unix:@name``) and peer credentials.

Pure values and parsing; nothing here touches a socket. A Unix endpoint is a filesystem
path, or on Linux an *abstract* name that lives in the kernel rather than in a directory
(no file to clean up, no permissions: anyone in the network namespace can connect).

The kernel keeps the address in ``struct sockaddr_un``, whose ``sun_path`` field is a
fixed array: 108 bytes on Linux, 104 on macOS and the BSDs. A path has to fit in it with
its terminating NUL, an abstract name with its leading NUL, so both are limited to one
byte less than the array (107 on Linux). Lengths count the *encoded* bytes
(``os.fsencode``), not characters.
"""

from __future__ import annotations

import os
import sys
from typing import Final, Union

from ._parse import exact_str
from .errors import EndpointError, quote

__all__ = ["PeerCredentials", "UnixAddress", "UnixAddressLike", "is_unix_target", "parse_unix_address"]

#: The prefix of the text form, as socat and systemd spell it.
_PREFIX: Final = "unix:"
#: Size of ``sockaddr_un.sun_path``: 108 on Linux, 104 on macOS and the BSDs.
SUN_PATH_SIZE: Final = 108 if sys.platform.startswith("linux") else 104
#: Abstract names are a Linux feature (the leading NUL byte marks them).
_ABSTRACT_SUPPORTED: Final = sys.platform.startswith("linux")
_KIND_PATH: Final = 0
_KIND_ABSTRACT: Final = 1
_KIND_UNNAMED: Final = 2


def _encoded(text: str, what: str) -> bytes:
    try:
        return os.fsencode(text)
    except UnicodeError:
        raise EndpointError(f"{what} {quote(text)} cannot be encoded for the file system") from None


class UnixAddress:
    """The address of a Unix domain socket: a filesystem path or (Linux) an abstract name.

    Immutable and hashable; equal when kind and text are equal (a relative path is kept
    as given, not resolved: ``./app.sock`` means the working directory at bind or connect
    time). ``str()`` gives the text form :func:`parse_unix_address` reads back:
    ``unix:/run/app.sock``, ``unix:./app.sock`` or ``unix:@name``.

    ``UnixAddress(path)`` takes a path; ``UnixAddress(name, abstract=True)`` an abstract
    name (Linux only). A path or name longer than ``sun_path`` allows raises
    :class:`EndpointError` saying how long it is.

    The address of an unbound client socket (the peer a server sees for most
    connections) is *unnamed*: :attr:`is_unnamed` is true and ``str()`` is ``unix:``;
    only :meth:`from_sockaddr` makes one.

    >>> a = UnixAddress("/run/app.sock")
    >>> a, str(a), a.path, a.sockaddr
    (UnixAddress('/run/app.sock'), 'unix:/run/app.sock', '/run/app.sock', '/run/app.sock')
    >>> b = parse_unix_address("unix:@app")
    >>> b, b.name, b.is_abstract, b.sockaddr
    (UnixAddress('app', abstract=True), 'app', True, b'\\x00app')
    """

    __slots__ = ("_kind", "_text")
    _kind: int
    _text: str

    def __init__(self, path: str | os.PathLike[str], *, abstract: bool = False) -> None:
        if isinstance(path, os.PathLike):
            path = os.fspath(path)
        if not isinstance(path, str):
            raise TypeError(f"a Unix socket path must be str or os.PathLike[str], got {type(path).__name__}")
        what = "abstract Unix socket name" if abstract else "Unix socket path"
        if not path:
            raise EndpointError(f"empty {what}")
        if "\0" in path:
            raise EndpointError(f"{what} {quote(path)} contains a NUL character")
        if abstract and not _ABSTRACT_SUPPORTED:
            raise EndpointError(f"abstract Unix socket names exist only on Linux, not on {sys.platform}: {quote(path)}")
        size = len(_encoded(path, what))
        limit = SUN_PATH_SIZE - 1
        if size > limit:
            platform = "Linux" if sys.platform.startswith("linux") else sys.platform
            extra = "leading" if abstract else "terminating"
            raise EndpointError(
                f"{what} {quote(path)} is {size} bytes long; sun_path holds {SUN_PATH_SIZE} bytes on {platform}, "
                f"so at most {limit} plus the {extra} NUL"
            )
        object.__setattr__(self, "_kind", _KIND_ABSTRACT if abstract else _KIND_PATH)
        object.__setattr__(self, "_text", path)

    @classmethod
    def from_sockaddr(cls, sockaddr: str | bytes | None) -> UnixAddress:
        """Build from what the socket module returns for an ``AF_UNIX`` address.

        That is a path (``str``), an abstract name (``bytes`` with a leading NUL), or
        ``''`` or ``None`` for an unbound socket (unnamed).

        >>> UnixAddress.from_sockaddr(b"\\x00app"), UnixAddress.from_sockaddr("").is_unnamed
        (UnixAddress('app', abstract=True), True)
        """
        if sockaddr is None:  # recvfrom() from an unbound sender
            return _make(_KIND_UNNAMED, "")
        if isinstance(sockaddr, bytes):
            if sockaddr.startswith(b"\0"):
                name = sockaddr[1:]
                if name:
                    return _make(_KIND_ABSTRACT, os.fsdecode(name))
                return _make(_KIND_UNNAMED, "")
            sockaddr = os.fsdecode(sockaddr.rstrip(b"\0"))
        if not isinstance(sockaddr, str):
            raise EndpointError(f"not a Unix socket address: {quote(sockaddr)}")
        if not sockaddr:
            return _make(_KIND_UNNAMED, "")
        if sockaddr.startswith("\0"):
            return _make(_KIND_ABSTRACT, sockaddr[1:])
        return _make(_KIND_PATH, sockaddr)

    @property
    def path(self) -> str | None:
        """The filesystem path, or ``None`` for an abstract or unnamed address."""
        return self._text if self._kind == _KIND_PATH else None

    @property
    def name(self) -> str | None:
        """The abstract name (without the leading NUL), or ``None`` for a path or unnamed address."""
        return self._text if self._kind == _KIND_ABSTRACT else None

    @property
    def is_abstract(self) -> bool:
        """True for a Linux abstract name (``unix:@name``)."""
        return self._kind == _KIND_ABSTRACT

    @property
    def is_unnamed(self) -> bool:
        """True for the address of an unbound socket (no path, no name): it cannot be sent to."""
        return self._kind == _KIND_UNNAMED

    @property
    def sockaddr(self) -> str | bytes:
        """What the socket module takes: the path as ``str``, an abstract name as ``bytes`` with a leading NUL."""
        if self._kind == _KIND_ABSTRACT:
            return b"\0" + os.fsencode(self._text)
        return self._text

    def __str__(self) -> str:
        if self._kind == _KIND_ABSTRACT:
            return f"{_PREFIX}@{self._text}"
        if self._text.startswith("@"):
            return f"{_PREFIX}./{self._text}"  # 'unix:@...' would read as an abstract name
        return _PREFIX + self._text

    def __repr__(self) -> str:
        if self._kind == _KIND_ABSTRACT:
            return f"UnixAddress({self._text!r}, abstract=True)"
        if self._kind == _KIND_UNNAMED:
            return "UnixAddress.from_sockaddr('')"
        return f"UnixAddress({self._text!r})"

    def __hash__(self) -> int:
        return hash((UnixAddress, self._kind, self._text))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, UnixAddress):
            return self._kind == other._kind and self._text == other._text
        return NotImplemented

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("UnixAddress is immutable")

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        if self._kind == _KIND_UNNAMED:
            return (UnixAddress.from_sockaddr, ("",))
        return (_unix_address, (self._text, self._kind == _KIND_ABSTRACT))


def _unix_address(text: str, abstract: bool) -> UnixAddress:
    # A plain function for pickle: __reduce__ cannot pass keyword arguments.
    return UnixAddress(text, abstract=abstract)


def _make(kind: int, text: str) -> UnixAddress:
    """A UnixAddress from the kernel's answer, without the checks a user's text gets."""
    obj = object.__new__(UnixAddress)
    object.__setattr__(obj, "_kind", kind)
    object.__setattr__(obj, "_text", text)
    return obj


#: What the Unix socket functions accept: a :class:`UnixAddress`, a path object
#: (``pathlib.Path``), or text ``"unix:/path"`` / ``"unix:@name"``.
UnixAddressLike = Union[UnixAddress, os.PathLike[str], str]


def parse_unix_address(target: UnixAddressLike) -> UnixAddress:
    """A :class:`UnixAddress` from ``unix:PATH`` or ``unix:@NAME`` text, a path object, or a ``UnixAddress``.

    Text must start with ``unix:`` (so that it cannot be mistaken for ``host:port``);
    after it comes an absolute or relative path, or ``@`` and an abstract name (Linux).
    A relative path that starts with ``@`` is written ``unix:./@file``. A
    ``pathlib.Path`` needs no prefix. Raises :class:`EndpointError` for bad text (empty,
    a NUL byte, longer than ``sun_path`` allows) and :class:`TypeError` for other types.

    >>> parse_unix_address("unix:./app.sock")
    UnixAddress('./app.sock')
    >>> parse_unix_address("/run/app.sock")
    Traceback (most recent call last):
    ...
    netbasics.EndpointError: expected 'unix:PATH' or 'unix:@NAME', got '/run/app.sock'
    """
    if isinstance(target, UnixAddress):
        return target
    if isinstance(target, str):
        target = exact_str(target)
        if not target.startswith(_PREFIX):
            raise EndpointError(f"expected 'unix:PATH' or 'unix:@NAME', got {quote(target)}")
        rest = target[len(_PREFIX) :]
        if rest.startswith("@"):
            return UnixAddress(rest[1:], abstract=True)
        return UnixAddress(rest)
    if isinstance(target, os.PathLike):
        return UnixAddress(target)
    raise TypeError(f"expected a UnixAddress, a path or 'unix:PATH' text, got {quote(target)}")


def is_unix_target(target: object) -> bool:
    """True if ``target`` names a Unix socket: a :class:`UnixAddress`, a path object, or text starting with ``unix:``.

    Functions that take either kind of endpoint use it to choose; it does not check
    that the rest of the text is valid.

    >>> is_unix_target("unix:/run/app.sock"), is_unix_target("127.0.0.1:80")
    (True, False)
    """
    return isinstance(target, (UnixAddress, os.PathLike)) or (isinstance(target, str) and target.startswith(_PREFIX))


class PeerCredentials:
    """Who is on the other end of a Unix domain connection: process id, user id and group id.

    The kernel records them when the peer called ``connect()`` (or ``listen()``, for the
    client's view of a server); they cannot be forged by the peer. ``pid`` is ``None``
    where the platform does not report it.

    >>> PeerCredentials(1234, 1000, 1000)
    PeerCredentials(pid=1234, uid=1000, gid=1000)
    """

    __slots__ = ("_gid", "_pid", "_uid")
    _pid: int | None
    _uid: int
    _gid: int

    def __init__(self, pid: int | None, uid: int, gid: int) -> None:
        for label, value in (("uid", uid), ("gid", gid), ("pid", pid)):
            if value is None and label == "pid":
                continue
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{label} must be an int, got {quote(value)}")
        object.__setattr__(self, "_pid", pid)
        object.__setattr__(self, "_uid", uid)
        object.__setattr__(self, "_gid", gid)

    @property
    def pid(self) -> int | None:
        """The peer's process id (``None`` where the platform does not say)."""
        return self._pid

    @property
    def uid(self) -> int:
        """The peer's effective user id."""
        return self._uid

    @property
    def gid(self) -> int:
        """The peer's effective group id."""
        return self._gid

    def __repr__(self) -> str:
        return f"PeerCredentials(pid={self._pid}, uid={self._uid}, gid={self._gid})"

    def __hash__(self) -> int:
        return hash((self._pid, self._uid, self._gid))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PeerCredentials):
            return (self._pid, self._uid, self._gid) == (other._pid, other._uid, other._gid)
        return NotImplemented

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("PeerCredentials is immutable")

    def __reduce__(self) -> tuple[type[PeerCredentials], tuple[int | None, int, int]]:
        return (PeerCredentials, (self._pid, self._uid, self._gid))
