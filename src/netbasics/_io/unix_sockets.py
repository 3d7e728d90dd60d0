"""Unix domain socket plumbing: bind with stale-file handling and exact permissions, cleanup, peer credentials.

What a server on a path must get right, and how:

* **Stale files.** A process that crashed leaves its socket file behind, and ``bind``
  then fails with ``EADDRINUSE``. The file is replaced only when it is a socket *and* a
  connect to it is refused (nobody listens); a live listener gives :class:`BindError`
  "already in use"; anything that is not a socket (a regular file, a directory) is never
  deleted.
* **Permissions without a window.** ``bind`` creates the file with the socket's own
  mode masked by the umask (``0777 & ~umask`` for a new socket), and ``chmod`` after
  ``bind`` would leave a moment in which the file has the wider mode; changing the umask
  is process-wide (other threads create files too). On Linux the socket's mode can be
  set *before* ``bind`` (``fchmod`` on the socket), and the kernel creates the file with
  ``mode & ~umask``: never wider than asked. A ``chmod`` then adds back what the umask
  removed. The socket is bound at its own path, so the name it reports (``getsockname``,
  and what its peers see as its address) is the path asked for. Elsewhere the socket is
  bound inside a fresh directory only its owner can enter (``mkdtemp``, 0700) next to
  the target, given its mode there, and then hard-linked into place (``link`` fails if
  anything exists at the target, so it never replaces a file either); there the socket
  keeps reporting its private name.
* **Cleanup.** On stop the file is removed only if it is still the one this server
  created (same device and inode): another server may have replaced it since.
"""

from __future__ import annotations

import errno
import functools
import os
import socket
import stat
import struct
import sys
import tempfile
from collections.abc import Callable, Collection
from typing import Any, Final

from ..errors import BindError, ConnectError, quote
from ..unix_addresses import SUN_PATH_SIZE, PeerCredentials, UnixAddress
from .server_core import logger
from .sockets import MIN_WAIT, set_io_timeout, translate_os_error

__all__ = [
    "UNIX_PEERS",
    "FileIdentity",
    "UnixPeers",
    "bind_unix",
    "check_uids",
    "connect_unix_socket",
    "peer_credentials",
    "remove_socket_file",
    "socket_file_remover",
    "uid_gate",
    "unix_address_error",
    "unix_name",
]

# User ids are 32-bit (uid_t); (uid_t)-1 means "no user" to the kernel, never a peer's uid.
_MAX_UID: Final = 2**32 - 2

#: (st_dev, st_ino) of the socket file a server created.
FileIdentity = tuple[int, int]

# struct ucred of SO_PEERCRED: pid_t, uid_t, gid_t (three 32-bit ints on Linux).
_UCRED: Final = struct.Struct("=iII")
_SO_PEERCRED: Final = getattr(socket, "SO_PEERCRED", None)
# Attempts at replacing a stale file before giving up (each loses only to a concurrent
# process doing the same thing at the same moment).
_STALE_ATTEMPTS: Final = 3
# Whether the socket's mode, set before bind, becomes the mode of the file bind creates.
_MODE_BEFORE_BIND: Final = sys.platform.startswith("linux") and hasattr(os, "O_PATH")


def _kind_name(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISREG(mode):
        return "a regular file"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    return "not a socket"


def _probe_live(path: str, kind: socket.SocketKind) -> bool:
    """True if something answers at the socket file ``path`` (a connect succeeds or is not simply refused)."""
    with socket.socket(socket.AF_UNIX, kind) as probe:
        probe.setblocking(False)  # never wait: a full backlog answers EAGAIN at once, and that is a live server
        try:
            probe.connect(path)
        except ConnectionRefusedError:
            return False  # a socket file nobody listens on: stale
        except FileNotFoundError:
            return False  # removed meanwhile: nothing to replace
        except OSError as exc:
            # EAGAIN: a live server with a full backlog. EPROTOTYPE: a live socket of the
            # other type. Either way, something owns this path.
            if exc.errno in (errno.EAGAIN, errno.EPROTOTYPE):
                return True
            raise
        return True


def _replace_stale(address: UnixAddress, path: str, kind: socket.SocketKind) -> None:
    """Remove ``path`` if it is a stale socket file; raise BindError if it is live or not a socket."""
    try:
        before = os.lstat(path)
    except FileNotFoundError:
        return  # gone meanwhile: just bind again
    except OSError as exc:
        raise translate_os_error(exc, "bind", address) from exc
    if not stat.S_ISSOCK(before.st_mode):
        raise BindError(
            f"bind {address}: the path exists and is {_kind_name(before.st_mode)}, not a socket; "
            "not removing it (delete it yourself if it is not needed)"
        )
    try:
        live = _probe_live(path, kind)
    except OSError as exc:
        raise translate_os_error(exc, "bind", address) from exc
    if live:
        raise _in_use(address, " (a server is listening on it)")
    try:
        # Only the very file that was probed: if another process replaced it meanwhile,
        # leave the new one alone and let the next bind attempt see it.
        now = os.lstat(path)
        if (now.st_dev, now.st_ino) == (before.st_dev, before.st_ino):
            os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise translate_os_error(exc, "bind", address) from exc


def _in_use(address: UnixAddress, detail: str = "") -> BindError:
    err = BindError(f"bind {address}: address already in use{detail}")
    err.errno = errno.EADDRINUSE
    return err


def _bind_error(exc: OSError, address: UnixAddress) -> BaseException:
    if exc.errno == errno.EADDRINUSE:
        return _in_use(address)
    return translate_os_error(exc, "bind", address)


def _check_mode(mode: object) -> int:
    if isinstance(mode, bool) or not isinstance(mode, int):
        raise TypeError(f"mode must be an int such as 0o660, got {quote(mode)}")
    if not 0 <= mode <= 0o777:
        raise ValueError(f"mode must be permission bits from 0o000 to 0o777, got {oct(mode)}")
    return mode


def bind_unix(
    address: UnixAddress,
    kind: socket.SocketKind,
    *,
    mode: int | None = None,
    backlog: int | None = None,
) -> tuple[socket.socket, FileIdentity | None]:
    """A new ``AF_UNIX`` socket of ``kind`` bound to ``address`` (and listening, when ``backlog`` is given).

    Returns the socket and the identity of the socket file it created (``None`` for an
    abstract name). A stale socket file is replaced; a live one or a file that is not a
    socket gives :class:`BindError`. With ``mode`` the file gets exactly those
    permission bits (the umask does not apply), and nobody can reach it before it has
    them: see the module documentation. Raises :class:`BindError` for every failure.
    """
    if mode is not None:
        mode = _check_mode(mode)
    if address.is_unnamed:
        raise ValueError("cannot bind to an unnamed Unix address")
    path = address.path
    if path is None:  # abstract: no file, no permissions, no stale state
        if mode is not None:
            raise ValueError(f"mode= applies to socket files, not to the abstract name {address}")
        sock = _new_socket(address, kind)
        try:
            sock.bind(address.sockaddr)
            if backlog is not None:
                sock.listen(max(1, backlog))
        except OSError as exc:
            sock.close()
            raise _bind_error(exc, address) from exc
        return sock, None
    for attempt in range(_STALE_ATTEMPTS):
        sock = _new_socket(address, kind)
        try:
            if mode is None:
                sock.bind(path)
            elif _MODE_BEFORE_BIND:
                _bind_with_mode(sock, path, mode)
            else:  # pragma: no cover - Linux
                _bind_private_then_link(sock, path, mode, backlog)
            if backlog is not None and (mode is None or _MODE_BEFORE_BIND):
                sock.listen(max(1, backlog))
            st = os.lstat(path)
            return sock, (st.st_dev, st.st_ino)
        except OSError as exc:
            sock.close()
            if exc.errno not in (errno.EADDRINUSE, errno.EEXIST):
                raise _bind_error(exc, address) from exc
            _replace_stale(address, path, kind)  # raises for a live socket or a file that is not one
            if attempt == _STALE_ATTEMPTS - 1:
                raise _in_use(address) from exc  # another process keeps putting a file there
        except BaseException:
            sock.close()
            raise
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


def _new_socket(address: UnixAddress, kind: socket.SocketKind) -> socket.socket:
    try:
        return socket.socket(socket.AF_UNIX, kind)
    except OSError as exc:
        raise translate_os_error(exc, "bind", address) from exc


def _bind_with_mode(sock: socket.socket, path: str, mode: int) -> None:
    """Bind ``sock`` at ``path`` with a file of exactly ``mode``, never wider on the way (Linux)."""
    # Linux creates the socket file with the socket inode's mode minus the umask
    # (unix_bind_bsd in net/unix/af_unix.c): set it first, so the file is born narrow.
    os.fchmod(sock.fileno(), mode)
    sock.bind(path)
    # Now add back what the umask took away. By descriptor, not by name: opened without
    # following a symbolic link, and checked to be a socket, so a file swapped in at the
    # path meanwhile is never the one changed.
    fd = os.open(path, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        st = os.fstat(fd)
        if not stat.S_ISSOCK(st.st_mode):
            raise OSError(errno.ENOTSOCK, "the socket file was replaced as it was bound", path)
        if stat.S_IMODE(st.st_mode) != mode:
            os.chmod(f"/proc/self/fd/{fd}", mode)
    finally:
        os.close(fd)


def _bind_private_then_link(sock: socket.socket, path: str, mode: int, backlog: int | None) -> None:
    """Bind in a 0700 directory next to ``path``, chmod, listen, then hard-link the file to ``path``."""
    parent = os.path.dirname(path) or "."
    private = tempfile.mkdtemp(prefix=".nb", dir=parent)  # 0700, same file system as the target
    dir_fd: int | None = None
    try:
        inner = os.path.join(private, "s")
        if len(os.fsencode(inner)) >= SUN_PATH_SIZE and sys.platform.startswith("linux"):
            # The private directory added a few bytes a path near the sun_path limit has
            # no room for; the directory's /proc/self/fd link is always short.
            dir_fd = os.open(private, os.O_RDONLY | os.O_DIRECTORY)
            sock.bind(f"/proc/self/fd/{dir_fd}/s")
        else:
            sock.bind(inner)
        os.chmod(inner, mode)
        if backlog is not None:
            sock.listen(max(1, backlog))  # clients that connect the moment the path appears are queued
        os.link(inner, path)  # EEXIST if anything is there: never replaces a file
    finally:
        if dir_fd is not None:
            os.close(dir_fd)
        try:
            os.unlink(os.path.join(private, "s"))
        except FileNotFoundError:
            pass
        os.rmdir(private)


def remove_socket_file(path: str, identity: FileIdentity | None) -> bool:
    """Remove the socket file at ``path`` if it is still the one with ``identity``; True if removed."""
    if identity is None:
        return False
    try:
        st = os.lstat(path)
        if not stat.S_ISSOCK(st.st_mode) or (st.st_dev, st.st_ino) != identity:
            return False  # replaced by someone else since: theirs now
        os.unlink(path)
    except OSError:
        return False
    return True


def connect_unix_socket(address: UnixAddress, kind: socket.SocketKind, timeout: float | None) -> socket.socket:
    """A new ``AF_UNIX`` socket of ``kind`` connected to ``address``, errors translated.

    A missing file, a refused connect (a stale file: nobody listens) and a permission
    problem are :class:`ConnectError` naming the address and the reason.
    """
    if address.is_unnamed:
        raise ValueError("cannot connect to an unnamed Unix address")
    try:
        sock = socket.socket(socket.AF_UNIX, kind)
    except OSError as exc:
        raise translate_os_error(exc, "connect", address) from exc
    try:
        # A Unix connect waits only while the server's backlog is full, and it waits up
        # to SO_SNDTIMEO. A Python socket timeout would not help: on a non-blocking
        # socket that connect fails at once with EAGAIN instead of waiting.
        if timeout is not None and kind == socket.SOCK_STREAM:
            set_io_timeout(sock, socket.SO_SNDTIMEO, timeout or MIN_WAIT)
        sock.connect(address.sockaddr)
        if timeout is not None and kind == socket.SOCK_STREAM:
            set_io_timeout(sock, socket.SO_SNDTIMEO, 0.0)  # the connection sets its own
    except OSError as exc:
        sock.close()
        raise unix_address_error(exc, "connect to", address, timeout, kind) from exc
    except BaseException:
        sock.close()
        raise
    return sock


# Why an operation aimed at a Unix socket address failed, by errno: the one table for a
# stream connect and a datagram connect or send. EPROTOTYPE depends on the kind of socket
# (see unix_address_error).
_REASONS: Final = {
    errno.ENOENT: "no such socket file",
    errno.ECONNREFUSED: "connection refused (no socket is listening or bound there)",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ENOTDIR: "a path component is not a directory",
}


def unix_address_error(
    exc: OSError, operation: str, address: UnixAddress, timeout: float | None, kind: socket.SocketKind
) -> BaseException:
    """The error for an ``OSError`` from ``operation`` (``"connect to"``, ``"send to"``) aimed at ``address``.

    The errors that say something about the address (no such file, nobody there,
    permission, the other kind of socket) are a :class:`ConnectError` that names it
    and the reason and keeps the ``errno``; any other goes to ``translate_os_error``.
    ``kind`` is the kind of socket that was used.
    """
    code = exc.errno or 0
    reason = _REASONS.get(code)
    if code == errno.EPROTOTYPE:
        mine, other = ("stream", "datagram") if kind == socket.SOCK_STREAM else ("datagram", "stream")
        reason = f"the socket there is a {other} socket, not a {mine} one"
    if reason is None:
        return translate_os_error(exc, operation, address, timeout)
    err = ConnectError(f"{operation} {address}", reason, attempts=((address, exc),))
    err.errno = code
    return err


def unix_name(sock: socket.socket, peer: bool = False) -> UnixAddress:
    """The address an ``AF_UNIX`` socket is bound to (``peer=True``: the address of its peer)."""
    return UnixAddress.from_sockaddr(sock.getpeername() if peer else sock.getsockname())


def peer_credentials(sock: socket.socket) -> PeerCredentials:
    """The pid, uid and gid of the process at the other end of a connected ``AF_UNIX`` socket.

    Linux answers with ``SO_PEERCRED``. Elsewhere :class:`NotImplementedError` says so
    (``getpeereid``/``LOCAL_PEERCRED`` are not wired up). A socket of another family
    raises :class:`ValueError`.
    """
    if sock.family != socket.AF_UNIX:
        raise ValueError(f"peer credentials exist only for Unix domain sockets, not {sock.family.name}")
    if _SO_PEERCRED is None:  # pragma: no cover - Linux
        raise NotImplementedError(f"peer credentials are not supported on {sys.platform} by netbasics")
    try:
        raw = sock.getsockopt(socket.SOL_SOCKET, _SO_PEERCRED, _UCRED.size)
    except OSError as exc:
        raise translate_os_error(exc, "getsockopt SO_PEERCRED") from exc
    pid, uid, gid = _UCRED.unpack(raw)
    return PeerCredentials(pid or None, uid, gid)


class UnixPeers:
    """The Unix kind of ``_io.peers.PeerKind``: peers are :class:`UnixAddress` values.

    Most Unix clients never bind, so their address is unnamed; a log record then names
    the process by its pid and uid (``SO_PEERCRED``), or says "an unnamed peer".
    """

    __slots__ = ()

    unnamed_senders = True  # a datagram from an unbound socket comes with no address

    def peer(self, sockaddr: Any) -> UnixAddress:
        """See ``PeerKind.peer``."""
        return UnixAddress.from_sockaddr(sockaddr)

    def describe(self, sockaddr: Any, sock: socket.socket | None = None) -> str:
        """See ``PeerKind.describe``: the address, else the pid and uid, else "an unnamed peer"."""
        try:
            address = UnixAddress.from_sockaddr(sockaddr)
        except Exception:
            return repr(sockaddr)
        if not address.is_unnamed:
            return str(address)
        if sock is not None and sock.family == socket.AF_UNIX and sock.type == socket.SOCK_STREAM:
            try:
                creds = peer_credentials(sock)
            except (OSError, NotImplementedError):
                pass
            else:
                pid = f"pid {creds.pid}" if creds.pid is not None else "an unknown pid"
                return f"{pid} (uid {creds.uid})"
        return "an unnamed peer"


#: The one instance of :class:`UnixPeers`.
UNIX_PEERS: Final = UnixPeers()


def socket_file_remover(address: UnixAddress, identity: FileIdentity | None) -> Callable[[], object] | None:
    """What a server calls once its socket is closed: remove the socket file it created, if still its own.

    ``None`` for an abstract address (the name goes with the socket) or a file the
    server did not create. The path is made absolute now, so a relative one means the
    same file whatever the working directory at stop.
    """
    if identity is None or address.path is None:
        return None
    return functools.partial(remove_socket_file, os.path.abspath(address.path), identity)


def check_uids(allowed_uids: object) -> frozenset[int] | None:
    """A Unix stream server's ``allowed_uids``, checked: ``None`` (everyone) or a non-empty set of user ids."""
    if allowed_uids is None:
        return None
    if isinstance(allowed_uids, (str, bytes)) or not isinstance(allowed_uids, Collection):
        raise TypeError(f"allowed_uids must be a collection of ints (user ids) or None, got {quote(allowed_uids)}")
    uids = frozenset(allowed_uids)
    for uid in uids:
        if isinstance(uid, bool) or not isinstance(uid, int):
            raise TypeError(f"allowed_uids must hold ints (user ids), got {quote(uid)}")
        if not 0 <= uid <= _MAX_UID:
            raise ValueError(f"a user id is from 0 to {_MAX_UID} (32 bits), got {uid} in allowed_uids")
    if not uids:
        raise ValueError("allowed_uids is empty: every client would be refused (None allows everyone)")
    if not hasattr(socket, "SO_PEERCRED"):  # pragma: no cover - Linux
        raise NotImplementedError(f"allowed_uids needs peer credentials, which netbasics cannot read on {sys.platform}")
    return uids


def uid_gate(server: object, allowed: frozenset[int]) -> Callable[[socket.socket, object], bool]:
    """A Unix stream server's ``admit(sock, address)`` for ``allowed_uids`` (from :func:`check_uids`).

    Other users are refused before any handler runs, with one warning naming ``server``;
    credentials that cannot be read refuse too (fail closed). The threaded and asyncio
    servers share it.
    """

    def admit(sock: socket.socket, address: object) -> bool:
        try:
            creds = peer_credentials(sock)
        except (OSError, NotImplementedError) as exc:
            logger.warning("%s: refused a connection: cannot read its peer credentials (%s)", server, exc)
            return False
        if creds.uid in allowed:
            return True
        logger.warning(
            "%s: refused a connection from pid %s (uid %d, gid %d): uid not in allowed_uids",
            server,
            creds.pid,
            creds.uid,
            creds.gid,
        )
        return False

    return admit
