"""Unix domain sockets: stream and datagram servers and clients, what a server on a path must get right.

Socket files live in short directories under /tmp (pytest's tmp_path can be longer than
sun_path allows). Peer-credential refusal is tested with allowed_uids that leave out the
test's own uid, and permissions with a real unprivileged client where the test runs as
root (``nobody`` connecting through ``subprocess(user=...)``).
"""

from __future__ import annotations

import logging
import os
import pickle
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import netbasics
from netbasics import (
    BindError,
    ConnectError,
    ConnectionClosed,
    EndpointError,
    LineFramer,
    NetTimeoutError,
    PeerCredentials,
    Reply,
    StreamConnection,
    UnixAddress,
    UnixDatagram,
    UnixDatagramServer,
    UnixServer,
    connect_unix,
    open_unix_datagram,
)
from netbasics._io.datagrams import received_factory
from netbasics.testing import echo_handler

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux-only feature")


@pytest.fixture
def sockdir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="nb", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def unix(path: Path) -> str:
    return f"unix:{path}"


def stale_socket(path: Path) -> None:
    """Leave a socket file nobody listens on, as a crashed server does."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    sock.close()  # the file stays


# --- stream: basics -------------------------------------------------------------------


def test_echo_over_a_path(sockdir: Path, baseline: None) -> None:
    path = sockdir / "echo.sock"
    with UnixServer(unix(path), echo_handler) as server:
        assert server.endpoint == UnixAddress(str(path))
        assert path.exists()
        assert repr(server).startswith(f"<UnixServer unix:{path} serving")
        with connect_unix(unix(path), timeout=5) as conn:
            assert isinstance(conn, StreamConnection)
            conn.send_all(b"line one\nline two\n")
            assert conn.recv_until(b"\n") == b"line one\n"
            assert conn.recv_exactly(9) == b"line two\n"
            assert conn.remote == UnixAddress(str(path))
            assert conn.local.is_unnamed  # type: ignore[union-attr]
    assert not path.exists()  # removed on stop


def test_path_objects_and_relative_paths(sockdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(sockdir)
    with UnixServer("unix:./rel.sock", echo_handler) as server:
        assert server.endpoint.path == "./rel.sock"
        with connect_unix(sockdir / "rel.sock", timeout=5) as conn:
            conn.send_all(b"x")
            assert conn.recv() == b"x"
        monkeypatch.chdir("/")  # a working directory that changes later does not matter at stop
    assert not (sockdir / "rel.sock").exists()


def test_framing_and_file_objects_over_unix(sockdir: Path) -> None:
    framer = LineFramer()

    def handler(conn: StreamConnection) -> None:
        for message in conn.messages(framer):
            conn.send_message(message[::-1], framer)

    with UnixServer(unix(sockdir / "f.sock"), handler) as server, connect_unix(server.endpoint, timeout=5) as conn:
        out = conn.makefile("w")
        out.write("abc\nxyz\n")
        out.flush()
        reader = conn.makefile("r")
        assert reader.readline() == "cba\n"
        assert reader.readline() == "zyx\n"


def test_message_mode(sockdir: Path, baseline: None) -> None:
    peers: list[UnixAddress] = []

    def respond(message: bytes, peer: UnixAddress) -> bytes:
        peers.append(peer)
        return message.upper()

    path = sockdir / "m.sock"
    with UnixServer.for_messages(unix(path), respond, framer=LineFramer()) as server:
        with connect_unix(server.endpoint, timeout=5) as conn:
            conn.send_all(b"hello\nworld\n")
            assert conn.recv_until(b"\n") == b"HELLO\n"
            assert conn.recv_until(b"\n") == b"WORLD\n"
        assert server.active_connections in (0, 1)
    assert peers
    assert all(p.is_unnamed for p in peers)
    assert not path.exists()


def test_read_timeout_and_connect_errors(sockdir: Path) -> None:
    gate = threading.Event()

    def silent(conn: StreamConnection) -> None:
        gate.wait(5)

    with UnixServer(unix(sockdir / "s.sock"), silent) as server, connect_unix(server.endpoint, timeout=0.05) as conn:
        with pytest.raises(NetTimeoutError, match=r"unix:.*s\.sock"):
            conn.recv()
        gate.set()
    with pytest.raises(ConnectError, match="no such socket file") as info:
        connect_unix(unix(sockdir / "missing.sock"))
    assert isinstance(info.value, ConnectionError)
    stale_socket(sockdir / "stale.sock")
    with pytest.raises(ConnectError, match="refused"):
        connect_unix(unix(sockdir / "stale.sock"))
    with pytest.raises(EndpointError):
        connect_unix("/no/prefix.sock")


# --- what a server on a path must get right ---------------------------------------------


def test_stale_socket_file_is_replaced(sockdir: Path) -> None:
    path = sockdir / "stale.sock"
    stale_socket(path)
    assert stat.S_ISSOCK(path.lstat().st_mode)
    with UnixServer(unix(path), echo_handler), connect_unix(unix(path), timeout=5) as conn:
        conn.send_all(b"alive")
        assert conn.recv() == b"alive"


def test_live_listener_gives_already_in_use(sockdir: Path) -> None:
    path = sockdir / "live.sock"
    with UnixServer(unix(path), echo_handler):
        before = path.lstat()
        with pytest.raises(BindError, match="already in use") as info:
            UnixServer(unix(path), echo_handler)
        assert info.value.errno == 98 or info.value.errno is not None
        with pytest.raises(BindError, match="already in use"):
            UnixDatagramServer(unix(path), lambda d, r: None)
        after = path.lstat()
        assert (before.st_ino, before.st_dev) == (after.st_ino, after.st_dev)  # untouched
        with connect_unix(unix(path), timeout=5) as conn:  # the first server still serves
            conn.send_all(b"still here")
            assert conn.recv() == b"still here"


@pytest.mark.parametrize("kind", ["file", "directory", "symlink"])
def test_path_that_is_not_a_socket_is_never_deleted(sockdir: Path, kind: str) -> None:
    path = sockdir / "precious"
    if kind == "file":
        path.write_bytes(b"important data")
        expected = "a regular file"
    elif kind == "directory":
        path.mkdir()
        (path / "inside").write_text("x")
        expected = "a directory"
    else:
        stale_socket(sockdir / "target.sock")
        path.symlink_to(sockdir / "target.sock")
        expected = "a symbolic link"
    for mode in (None, 0o600):
        with pytest.raises(BindError, match=f"is {expected}, not a socket; not removing it"):
            UnixServer(unix(path), echo_handler, mode=mode)
    with pytest.raises(BindError, match="not a socket"):
        UnixDatagramServer(unix(path), lambda d, r: None)
    if kind == "file":
        assert path.read_bytes() == b"important data"
    elif kind == "directory":
        assert (path / "inside").read_text() == "x"
    else:
        assert path.is_symlink()
    assert sorted(p.name for p in sockdir.iterdir()) == sorted(
        ["precious"] + (["target.sock"] if kind == "symlink" else [])
    )  # no private directory left behind either


def test_socket_file_removed_on_stop_only_if_still_ours(sockdir: Path) -> None:
    path = sockdir / "mine.sock"
    server = UnixServer(unix(path), echo_handler).start()
    path.unlink()
    path.write_text("someone else's file now")  # another process took the path
    server.stop()
    assert path.read_text() == "someone else's file now"
    path.unlink()
    server = UnixServer(unix(path), echo_handler).start()
    path.unlink()
    other = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    other.bind(str(path))  # another server's socket, same path, another inode
    other.listen()
    try:
        server.stop()
        assert stat.S_ISSOCK(path.lstat().st_mode)
    finally:
        other.close()


def test_socket_file_removed_when_never_started_and_on_serve_forever_error(sockdir: Path) -> None:
    path = sockdir / "a.sock"
    UnixServer(unix(path), echo_handler).stop()
    assert not path.exists()

    def boom(datagram: UnixDatagram, reply: Reply) -> None:
        raise KeyboardInterrupt

    server = UnixDatagramServer(unix(path), boom)
    raised: list[BaseException] = []

    def serve() -> None:
        try:
            server.serve_forever()
        except KeyboardInterrupt as exc:
            raised.append(exc)

    thread = threading.Thread(target=serve)
    thread.start()
    with open_unix_datagram(connect=unix(path), timeout=5) as client:
        client.send(b"stop please")
    thread.join(5)
    assert not thread.is_alive()
    assert raised
    assert not path.exists()


@pytest.mark.parametrize("mode", [0o600, 0o660, 0o666, 0o700])
def test_mode_sets_exact_permissions(sockdir: Path, mode: int) -> None:
    old = os.umask(0o077)  # would strip group and other bits from a plain bind
    try:
        path = sockdir / "p.sock"
        with UnixServer(unix(path), echo_handler, mode=mode):
            assert stat.S_IMODE(path.lstat().st_mode) == mode
            assert sorted(p.name for p in sockdir.iterdir()) == ["p.sock"]  # the private directory is gone
        with UnixDatagramServer(unix(path), lambda d, r: None, mode=mode):
            assert stat.S_IMODE(path.lstat().st_mode) == mode
    finally:
        os.umask(old)


def test_mode_has_no_window_with_wider_permissions(sockdir: Path) -> None:
    """Watch the path while servers bind with mode=0o600: it never shows up with another mode."""
    path = sockdir / "w.sock"
    seen: set[int] = set()
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            try:
                seen.add(stat.S_IMODE(os.lstat(path).st_mode))
            except FileNotFoundError:
                pass

    old = os.umask(0)  # a plain bind would create the file 0o777
    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        for _ in range(50):
            UnixServer(unix(path), echo_handler, mode=0o600).stop()
    finally:
        done.set()
        watcher.join()
        os.umask(old)
    assert seen <= {0o600}


def _nobody() -> int | None:
    if os.geteuid() != 0:
        return None
    try:
        import pwd

        return pwd.getpwnam("nobody").pw_uid
    except (ImportError, KeyError):  # pragma: no cover - every Linux has nobody
        return None


def _connect_as(uid: int, path: Path) -> str:
    """What nc, run as user ``uid``, gets back for "hi" from the echo server at ``path``; "denied" if refused."""
    nc = shutil.which("nc")
    if nc is None:
        pytest.skip("nc is not installed (.ci/run installs it with apt-get)")
    result = subprocess.run(
        [nc, "-U", "-N", "-w", "5", str(path)], user=uid, input=b"hi", capture_output=True, timeout=20, check=False
    )
    if b"Permission denied" in result.stderr:
        return "denied"
    return result.stdout.decode()


def test_mode_is_enforced_for_another_user(sockdir: Path) -> None:
    uid = _nobody()
    if uid is None:
        pytest.skip("needs root to run a client as another user")
    sockdir.chmod(0o711)  # others may traverse the directory; the socket's own mode decides
    path = sockdir / "guarded.sock"
    with UnixServer(unix(path), echo_handler, mode=0o600):
        assert _connect_as(uid, path) == "denied"
    with UnixServer(unix(path), echo_handler, mode=0o666):
        assert _connect_as(uid, path) == "hi"


def test_mode_arguments(sockdir: Path) -> None:
    with pytest.raises(ValueError, match="permission bits"):
        UnixServer(unix(sockdir / "x.sock"), echo_handler, mode=0o1777)
    with pytest.raises(TypeError, match="mode must be an int"):
        UnixServer(unix(sockdir / "x.sock"), echo_handler, mode="0600")  # type: ignore[arg-type]
    if sys.platform.startswith("linux"):
        with pytest.raises(ValueError, match="abstract name"):
            UnixServer("unix:@netbasics-test-mode", echo_handler, mode=0o600)
    assert list(sockdir.iterdir()) == []


def test_long_paths(sockdir: Path) -> None:
    limit = netbasics.unix_addresses.SUN_PATH_SIZE - 1
    deep = sockdir / ("d" * 40) / ("e" * 40)
    deep.mkdir(parents=True)
    room = limit - len(str(deep)) - 1
    longest = deep / ("s" * room)
    assert len(os.fsencode(str(longest))) == limit
    for mode in (None, 0o600):  # with mode, the private directory does not fit: bound through /proc
        with UnixServer(unix(longest), echo_handler, mode=mode), connect_unix(unix(longest), timeout=5) as conn:
            conn.send_all(b"long")
            assert conn.recv() == b"long"
        assert not longest.exists()
    too_long = deep / ("s" * (room + 1))
    with pytest.raises(EndpointError, match=f"is {limit + 1} bytes long; sun_path holds {limit + 1} bytes"):
        UnixServer(unix(too_long), echo_handler)
    with pytest.raises(EndpointError, match="bytes long"):
        connect_unix(unix(too_long))


@linux_only
def test_abstract_names(sockdir: Path, baseline: None) -> None:
    name = f"netbasics-test-{os.getpid()}"
    with UnixServer(f"unix:@{name}", echo_handler) as server:
        assert server.endpoint.is_abstract
        with connect_unix(f"unix:@{name}", timeout=5) as conn:
            conn.send_all(b"abstract")
            assert conn.recv() == b"abstract"
            assert conn.remote == UnixAddress(name, abstract=True)
        with pytest.raises(BindError, match="already in use"):
            UnixServer(f"unix:@{name}", echo_handler)
    with pytest.raises(ConnectError, match="refused"):
        connect_unix(f"unix:@{name}")  # gone with its socket: no file to clean up
    assert list(sockdir.iterdir()) == []


# --- peer credentials -------------------------------------------------------------------


@linux_only
def test_peer_credentials_both_ways(sockdir: Path) -> None:
    seen: list[PeerCredentials] = []

    def record(conn: StreamConnection) -> None:
        seen.append(conn.peer_credentials)
        conn.send_all(b"ok")

    with UnixServer(unix(sockdir / "c.sock"), record) as server, connect_unix(server.endpoint, timeout=5) as conn:
        assert conn.recv() == b"ok"
        me = PeerCredentials(os.getpid(), os.geteuid(), os.getegid())
        assert conn.peer_credentials == me  # the server's side: same process here
    assert seen == [me]


@linux_only
@pytest.mark.parametrize("mode", ["threaded", "messages"])
def test_allowed_uids_refuses_before_the_handler(
    sockdir: Path, mode: str, caplog: pytest.LogCaptureFixture, baseline: None
) -> None:
    ran: list[bytes] = []

    def handler(conn: StreamConnection) -> None:
        ran.append(b"handler")

    def respond(message: bytes, peer: UnixAddress) -> bytes:
        ran.append(message)
        return message

    other = os.geteuid() + 1
    path = unix(sockdir / "r.sock")
    caplog.set_level(logging.DEBUG, logger="netbasics")
    server = (
        UnixServer(path, handler, allowed_uids={other})
        if mode == "threaded"
        else UnixServer.for_messages(path, respond, framer=LineFramer(), allowed_uids=[other])
    )
    with server, connect_unix(path, timeout=5) as conn:
        try:
            conn.send_all(b"let me in\n")
            assert conn.recv() == b""  # closed without an answer
        except ConnectionClosed:
            pass  # closed before the request was even sent: as good
    assert ran == []
    refusals = [r for r in caplog.records if "refused a connection" in r.getMessage()]
    assert len(refusals) == 1
    assert refusals[0].levelno == logging.WARNING
    assert f"uid {os.geteuid()}" in refusals[0].getMessage()
    assert refusals[0].exc_info is None  # no traceback
    assert not [r for r in caplog.records if r.exc_info]


@linux_only
def test_allowed_uids_admits_listed_users(sockdir: Path) -> None:
    with (
        UnixServer(unix(sockdir / "ok.sock"), echo_handler, allowed_uids=[os.geteuid(), 12345]) as server,
        connect_unix(server.endpoint, timeout=5) as conn,
    ):
        conn.send_all(b"me")
        assert conn.recv() == b"me"


def test_allowed_uids_arguments(sockdir: Path) -> None:
    path = unix(sockdir / "a.sock")
    with pytest.raises(ValueError, match="empty"):
        UnixServer(path, echo_handler, allowed_uids=[])
    with pytest.raises(TypeError, match="ints"):
        UnixServer(path, echo_handler, allowed_uids=["root"])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="collection"):
        UnixServer(path, echo_handler, allowed_uids=0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="from 0 to"):
        UnixServer(path, echo_handler, allowed_uids={-1})
    assert list(sockdir.iterdir()) == []  # nothing bound by a refused constructor


@pytest.mark.parametrize("uids", [[], ["root"], 0, {-1}, {2**32 - 1}, {2**40}])
def test_allowed_uids_checked_alike_by_the_asyncio_server(sockdir: Path, uids: Any) -> None:
    # One check for both Unix stream servers: the asyncio one refuses what the threaded one refuses.
    from netbasics import aio

    async def handler(conn: aio.StreamConnection) -> None:
        pass

    path = unix(sockdir / "a.sock")
    with pytest.raises((TypeError, ValueError)) as sync_error:
        UnixServer(path, echo_handler, allowed_uids=uids)
    with pytest.raises(sync_error.type, match=str(sync_error.value)[:20]):
        aio.UnixServer(path, handler, allowed_uids=uids)
    assert list(sockdir.iterdir()) == []


# --- datagrams --------------------------------------------------------------------------


def test_datagram_server_replies(sockdir: Path, baseline: None) -> None:
    path = sockdir / "d.sock"
    senders: list[UnixAddress] = []

    def shout(datagram: UnixDatagram, reply: Reply) -> None:
        senders.append(datagram.sender)
        reply(datagram.data.upper())

    with UnixDatagramServer(unix(path), shout) as server:
        assert repr(server).startswith("<UnixDatagramServer")
        with open_unix_datagram(connect=server.endpoint, timeout=5) as client:
            client.send(b"one")
            assert client.recv() == b"ONE"
            client.send(b"two")
            assert client.recv_from() == UnixDatagram(b"TWO", server.endpoint)
        bound = sockdir / "client.sock"
        with open_unix_datagram(bind=unix(bound), timeout=5) as client:
            client.send_to(b"three", server.endpoint)
            assert client.recv() == b"THREE"
        assert not bound.exists()  # the client's own file went with it
    assert senders[-1] == UnixAddress(str(bound))
    if sys.platform.startswith("linux"):
        assert senders[0].is_abstract  # autobind
    assert not path.exists()


def test_datagram_reply_to_unnamed_sender_is_logged(sockdir: Path, caplog: pytest.LogCaptureFixture) -> None:
    got = threading.Event()

    def handler(datagram: UnixDatagram, reply: Reply) -> None:
        got.set()
        assert datagram.sender.is_unnamed
        reply(b"where to?")

    with UnixDatagramServer(unix(sockdir / "u.sock"), handler) as server:
        with open_unix_datagram(autobind=False) as client:
            client.send_to(b"anonymous", server.endpoint)
        assert got.wait(5)
        with open_unix_datagram(connect=server.endpoint, timeout=5) as client:  # still serving
            client.send(b"again")
    assert any("sender is unnamed" in r.getMessage() or "unnamed" in str(r.exc_info) for r in caplog.records)


def test_datagram_sizes_and_errors(sockdir: Path) -> None:
    with (
        open_unix_datagram(bind=unix(sockdir / "big.sock"), timeout=5) as server,
        open_unix_datagram(connect=server.local, timeout=5) as client,
    ):
        client.send(b"x" * 100_000)  # larger than any UDP datagram
        assert server.recv(max_bytes=100_000) == b"x" * 100_000
        client.send(b"y" * 10)
        with pytest.raises(netbasics.DatagramTooLarge, match="larger than max_bytes=5"):
            server.recv_from(max_bytes=5)
        server.timeout = 0.05
        with pytest.raises(NetTimeoutError):
            server.recv_from()
    with open_unix_datagram() as lone:
        with pytest.raises(ConnectError, match="no such socket file"):
            lone.send_to(b"x", unix(sockdir / "nobody.sock"))
        with pytest.raises(EndpointError, match="connected"):
            lone.send(b"x")
    with pytest.raises(ConnectError, match="no such socket file"):
        open_unix_datagram(connect=unix(sockdir / "nobody.sock"))
    with UnixServer(unix(sockdir / "stream.sock"), echo_handler), pytest.raises(ConnectError, match="stream socket"):
        open_unix_datagram(connect=unix(sockdir / "stream.sock"))


def test_datagram_stale_file_replaced(sockdir: Path) -> None:
    path = sockdir / "ds.sock"
    old = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    old.bind(str(path))
    old.close()
    with (
        UnixDatagramServer(unix(path), lambda d, reply: reply(d.data)) as server,
        open_unix_datagram(connect=server.endpoint, timeout=5) as client,
    ):
        client.send(b"fresh")
        assert client.recv() == b"fresh"


@linux_only
def test_datagram_abstract(baseline: None) -> None:
    name = f"unix:@netbasics-dgram-{os.getpid()}"
    with (
        UnixDatagramServer(name, lambda d, reply: reply(d.data[::-1])),
        open_unix_datagram(connect=name, timeout=5) as client,
    ):
        client.send(b"abc")
        assert client.recv() == b"cba"


def test_unix_datagram_value() -> None:
    d = UnixDatagram(b"x", UnixAddress("/run/a.sock"))
    assert d == UnixDatagram(b"x", UnixAddress("/run/a.sock"))
    assert hash(d) == hash(UnixDatagram(b"x", UnixAddress("/run/a.sock")))
    assert len(d) == 1
    with pytest.raises(AttributeError):
        d.data = b"y"  # type: ignore[misc]
    with pytest.raises(TypeError):
        UnixDatagram("x", UnixAddress("/a"))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        UnixDatagram(b"x", "/a")  # type: ignore[arg-type]


def test_connect_timeout_when_the_backlog_is_full(sockdir: Path) -> None:
    path = sockdir / "full.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(0)  # never accepts
    waiting: list[socket.socket] = []
    try:
        while True:  # fill the backlog
            client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            client.setblocking(False)
            waiting.append(client)
            try:
                client.connect(str(path))
            except BlockingIOError:
                break
        with pytest.raises(NetTimeoutError, match=r"timed out after 0\.05 s"):
            connect_unix(unix(path), connect_timeout=0.05)
        with pytest.raises(BindError, match="already in use"):  # busy is not stale
            UnixServer(unix(path), echo_handler)
    finally:
        for sock in [listener, *waiting]:
            sock.close()


def test_datagram_server_workers_stop_promptly(sockdir: Path, baseline: None) -> None:
    with (
        UnixDatagramServer(unix(sockdir / "w.sock"), lambda d, reply: reply(d.data), workers=3) as server,
        open_unix_datagram(connect=server.endpoint, timeout=5) as client,
    ):
        for i in range(10):
            client.send(b"%d" % i)
            assert client.recv() == b"%d" % i
    # the context exit joined every worker: baseline checks that no thread is left


def test_datagram_client_that_never_reads_cannot_stall_the_server(sockdir: Path, baseline: None) -> None:
    with (
        UnixDatagramServer(unix(sockdir / "q.sock"), lambda d, reply: reply(d.data)) as server,
        open_unix_datagram(timeout=5) as greedy,  # not connected: the kernel's queue limit applies
        open_unix_datagram(connect=server.endpoint, timeout=5) as polite,
    ):
        for _ in range(200):  # far more replies than a receive queue holds (10 by default)
            greedy.send_to(b"never read", server.endpoint)
        polite.send(b"still there?")
        assert polite.recv() == b"still there?"


@pytest.mark.parametrize("mode", ["threaded", "messages"])
def test_many_connections_leave_no_threads_or_fds(sockdir: Path, mode: str, baseline: None) -> None:
    path = unix(sockdir / "many.sock")
    server = (
        UnixServer(path, echo_handler)
        if mode == "threaded"
        else UnixServer.for_messages(path, lambda message, peer: message, framer=LineFramer())
    )
    with server:
        for i in range(2000):
            with connect_unix(path, timeout=5) as conn:
                conn.send_all(b"%d\n" % i)
                assert conn.recv_until(b"\n") == b"%d\n" % i


@pytest.mark.parametrize(
    "call",
    [
        lambda: netbasics.connect_tcp("unix:/tmp/x.sock"),
        lambda: netbasics.TCPServer("unix:/tmp/x.sock", echo_handler),
        lambda: netbasics.open_udp(connect="unix:@x"),
        lambda: netbasics.UDPServer("unix:@x", lambda d, r: None),
    ],
)
def test_ip_functions_point_unix_addresses_to_the_unix_ones(call: Callable[[], object]) -> None:
    with pytest.raises(EndpointError, match="is a Unix socket address, not host:port: use connect_unix"):
        call()


# --- smaller paths: argument checks, accessors, errors ----------------------------------


def test_datagram_socket_accessors_and_errors(sockdir: Path) -> None:
    with pytest.raises(ValueError, match="AF_UNIX SOCK_DGRAM"), socket.socket() as tcp:
        netbasics.UnixDatagramSocket(tcp)
    with pytest.raises(ValueError, match="mode= needs bind="):
        open_unix_datagram(mode=0o600)
    path = sockdir / "acc.sock"
    with open_unix_datagram(bind=unix(path), timeout=5) as server:
        assert server.remote is None
        assert server.socket.family == socket.AF_UNIX
        assert server.fileno() >= 0
        assert server.timeout == 5
        assert repr(server) == f"<UnixDatagramSocket unix:{path}>"
        with pytest.raises(EndpointError, match="unnamed"):
            server.send_to(b"x", UnixAddress.from_sockaddr(""))
        with pytest.raises(ValueError, match="max_bytes"):
            server.recv(max_bytes=0)
        with open_unix_datagram(connect=server.local, timeout=5) as client:
            assert client.remote == server.local
            assert "->" in repr(client)
    assert repr(server) == "<UnixDatagramSocket closed>"
    assert not path.exists()
    with pytest.raises(netbasics.ConnectionClosed, match="closed on this side"):
        server.recv()  # closed: a translated error, not a bare OSError
    with pytest.raises(netbasics.ConnectionClosed, match="closed on this side"):
        server.send_to(b"x", unix(path))
    stale = sockdir / "stale-d.sock"
    old = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    old.bind(str(stale))
    old.close()
    with open_unix_datagram() as lone, pytest.raises(ConnectError, match="refused"):
        lone.send_to(b"x", unix(stale))


def test_unix_datagram_value_comparisons() -> None:
    d = UnixDatagram(b"x", UnixAddress("/a"))
    assert d != "x"
    assert d.__eq__("x") is NotImplemented
    assert pickle.loads(pickle.dumps(d)) == d


def test_server_arguments(sockdir: Path) -> None:
    path = unix(sockdir / "args.sock")
    with pytest.raises(TypeError, match="handler must be callable"):
        UnixServer(path, "echo")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="handler must be callable"):
        UnixDatagramServer(path, "echo")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="name must be a str"):
        UnixDatagramServer(path, lambda d, r: None, name=5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="workers"):
        UnixDatagramServer(path, lambda d, r: None, workers=0)
    with pytest.raises(ValueError, match="max_connections"):
        UnixServer(path, echo_handler, max_connections=0)
    with pytest.raises(TypeError, match="name must be a str"):
        UnixServer(path, echo_handler, name=5)  # type: ignore[arg-type]
    assert list(sockdir.iterdir()) == []  # a refused server leaves no file behind


def test_bind_helpers_refuse_unnamed_and_report_fifos(sockdir: Path) -> None:
    from netbasics._io.unix_sockets import bind_unix, connect_unix_socket

    unnamed = UnixAddress.from_sockaddr("")
    with pytest.raises(ValueError, match="unnamed"):
        bind_unix(unnamed, socket.SOCK_STREAM)
    with pytest.raises(ValueError, match="unnamed"):
        connect_unix_socket(unnamed, socket.SOCK_STREAM, None)
    fifo = sockdir / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(BindError, match="is a FIFO, not a socket"):
        UnixServer(unix(fifo), echo_handler)
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_name_and_serving(sockdir: Path) -> None:
    server = UnixServer(unix(sockdir / "n.sock"), echo_handler, name="my-ipc")
    assert server.name == "my-ipc"
    states = [server.serving]
    with server:
        states.append(server.serving)
    states.append(server.serving)
    assert states == [False, True, False]


@pytest.mark.parametrize("kind", [socket.SOCK_STREAM, socket.SOCK_DGRAM])
def test_one_errno_table_for_connects_and_sends(kind: socket.SocketKind) -> None:
    # A stream connect and a datagram connect or send translate the same errnos the same way.
    import errno

    from netbasics._io.unix_sockets import unix_address_error

    address = UnixAddress("/run/app.sock")
    reasons = {
        errno.ENOENT: "no such socket file",
        errno.ECONNREFUSED: "connection refused",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.ENOTDIR: "a path component is not a directory",
    }
    for code, reason in reasons.items():
        err = unix_address_error(OSError(code, "x"), "send to", address, None, kind)
        assert isinstance(err, ConnectError)
        assert str(err).startswith(f"send to unix:/run/app.sock failed: {reason}")
        assert err.errno == code
    wrong = unix_address_error(OSError(errno.EPROTOTYPE, "x"), "connect to", address, None, kind)
    mine, other = ("stream", "datagram") if kind == socket.SOCK_STREAM else ("datagram", "stream")
    assert str(wrong) == f"connect to unix:/run/app.sock failed: the socket there is a {other} socket, not a {mine} one"
    timed_out = unix_address_error(TimeoutError("timed out"), "connect to", address, 0.5, kind)
    assert isinstance(timed_out, NetTimeoutError)
    other_error = OSError(errno.ENOBUFS, "no buffers")
    assert unix_address_error(other_error, "send to", address, None, kind) is other_error


def test_datagram_send_through_a_file_is_a_connect_error(sockdir: Path) -> None:
    (sockdir / "file").write_bytes(b"")
    with open_unix_datagram() as sock, pytest.raises(ConnectError, match="not a directory") as info:
        sock.send_to(b"x", unix(sockdir / "file" / "s.sock"))
    assert isinstance(info.value.__cause__, NotADirectoryError)


# -- what Unix datagrams share with UDP's (one base each for the value and the socket) ------


@pytest.mark.parametrize(
    ("cls", "sender", "sockaddr"),
    [
        (netbasics.Datagram, netbasics.Endpoint("127.0.0.1", 9), ("127.0.0.1", 9)),
        (UnixDatagram, UnixAddress("/run/a.sock"), "/run/a.sock"),
        (UnixDatagram, UnixAddress("app", abstract=True), b"\0app"),
        (UnixDatagram, UnixAddress.from_sockaddr(None), None),
    ],
)
def test_datagram_values_behave_alike(cls: Any, sender: object, sockaddr: object) -> None:
    # cls is Datagram or UnixDatagram: typed Any so that one body can misuse both.
    d = cls(b"ab", sender)
    received = received_factory(cls)(b"ab", sockaddr)  # as a socket or a server builds it: sender decoded lazily
    assert received == d
    assert hash(received) == hash(d)
    assert received.sender == sender
    assert received.data == b"ab"
    assert len(received) == 2
    assert repr(received) == f"{cls.__name__}(b'ab', {sender!r})"
    assert pickle.loads(pickle.dumps(received)) == d
    assert type(pickle.loads(pickle.dumps(received))) is cls
    with pytest.raises(AttributeError):
        d.data = b"y"
    with pytest.raises(AttributeError):
        d.extra = 1
    with pytest.raises(TypeError, match="data must be bytes, got str"):
        cls("ab", sender)
    with pytest.raises(TypeError, match=r"sender must be an? (Endpoint|UnixAddress), got tuple"):
        cls(b"ab", ("127.0.0.1", 9))
    assert d != cls(b"ba", sender)


def test_a_udp_and_a_unix_datagram_are_never_equal() -> None:
    udp_datagram = netbasics.Datagram(b"x", netbasics.Endpoint("127.0.0.1", 9))
    unix_datagram = UnixDatagram(b"x", UnixAddress("/a"))
    assert udp_datagram != unix_datagram
    assert unix_datagram != udp_datagram


def test_datagram_sockets_share_their_lifetime_and_timeout(sockdir: Path) -> None:
    for sock in (netbasics.open_udp(bind="127.0.0.1:0"), open_unix_datagram(bind=unix(sockdir / "t.sock"))):
        with sock as same:
            assert same is sock
            assert not sock.closed
            assert sock.fileno() == sock.socket.fileno() >= 0
            assert sock.remote is None
            assert sock.timeout is None
            sock.timeout = 0.05
            assert sock.timeout == sock.socket.gettimeout() == 0.05
            with pytest.raises(NetTimeoutError, match=r"receive on .* timed out after 0\.05 s"):
                sock.recv_from()
            with pytest.raises(ValueError, match="max_bytes"):
                sock.recv_from(0)
            with pytest.raises(TypeError, match="timeout must be seconds"):
                sock.timeout = "1"  # type: ignore[assignment]
        assert (sock.closed, sock.fileno()) == (True, -1)
        sock.close()  # again: nothing happens


def test_datagram_socket_bound_with_mode_names_and_removes_its_file(tmp_path: Path) -> None:
    # With mode= the socket is bound in a private directory and linked into place; local
    # and close() must use the path asked for, not the one the kernel remembers.
    path = tmp_path / "m.sock"
    with open_unix_datagram(bind=f"unix:{path}", mode=0o600) as sock:
        assert sock.local == UnixAddress(str(path))
        assert path.stat().st_mode & 0o777 == 0o600
    assert not path.exists()
