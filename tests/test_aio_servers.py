"""netbasics.aio servers: limits, idle deadline, failing handlers, prompt stop, Unix socket files, message mode."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import netbasics.aio as aio
from aio_loops import loop_kind, run
from leaks import fd_count, settle
from netbasics import (
    BindError,
    ConnectionClosed,
    LengthPrefixFramer,
    LineFramer,
    NetTimeoutError,
    UnixAddress,
    UnixServer,
)
from netbasics.aio import StreamConnection
from peers import need

pytestmark = pytest.mark.integration
__all__ = ["loop_kind"]

SLACK = 0.1


@pytest.fixture
def sock_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(dir="/tmp") as name:  # socket paths must be short
        yield Path(name)


async def _echo_lines(conn: StreamConnection) -> None:
    async for line in conn:
        await conn.send_all(line + b"\n")


def test_max_connections_makes_the_next_client_wait(loop_kind: str) -> None:
    async def main() -> None:
        running = 0
        most = 0
        release = asyncio.Event()

        async def hold(conn: StreamConnection) -> None:
            nonlocal running, most
            running += 1
            most = max(most, running)
            await conn.send_all(b"in\n")
            await release.wait()
            running -= 1

        async with aio.TCPServer("127.0.0.1:0", hold, max_connections=2) as server:
            conns = [await aio.connect_tcp(server.endpoint, timeout=5) for _ in range(3)]
            assert await conns[0].recv_until() == b"in\n"
            assert await conns[1].recv_until() == b"in\n"
            with pytest.raises(NetTimeoutError):
                await conns[2].recv_until(timeout=0.2)  # waits in the backlog
            assert server.active_connections == 2
            release.set()
            assert await conns[2].recv_until() == b"in\n"
            assert most == 2
            for conn in conns:
                conn.close()
                await conn.wait_closed()

    run(loop_kind, main())


def test_idle_deadline_closes_a_silent_client(loop_kind: str) -> None:
    async def main() -> float:
        async with (
            aio.TCPServer("127.0.0.1:0", _echo_lines, idle_timeout=0.2) as server,
            await aio.connect_tcp(server.endpoint, timeout=5) as conn,
        ):
            start = time.monotonic()
            assert await conn.recv() == b""  # the server gave up on us
            return time.monotonic() - start

    assert 0.15 < run(loop_kind, main()) < 0.2 + 0.3


def test_handler_exception_is_logged_and_closes_only_that_connection(
    loop_kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def main() -> None:
        async def handler(conn: StreamConnection) -> None:
            line = await conn.recv_until()
            if line == b"boom\n":
                raise RuntimeError("handler bug")
            await conn.send_all(line)
            await conn.send_all(await conn.recv_until())

        async with aio.TCPServer("127.0.0.1:0", handler) as server:
            good = await aio.connect_tcp(server.endpoint, timeout=5)
            bad = await aio.connect_tcp(server.endpoint, timeout=5)
            await good.send_all(b"one\n")
            assert await good.recv_until() == b"one\n"
            await bad.send_all(b"boom\n")
            assert await bad.recv() == b""
            await good.send_all(b"two\n")
            assert await good.recv_until() == b"two\n"
            for conn in (good, bad):
                conn.close()
                await conn.wait_closed()

    with caplog.at_level(logging.ERROR, logger="netbasics"):
        run(loop_kind, main())
    records = [r for r in caplog.records if "handler failed" in r.getMessage()]
    assert len(records) == 1
    assert records[0].exc_info is not None


@pytest.mark.parametrize("message_mode", [False, True], ids=["handler", "messages"])
def test_stop_returns_within_grace_with_idle_clients(loop_kind: str, message_mode: bool) -> None:
    before = fd_count()

    async def main() -> float:
        if message_mode:
            server = aio.TCPServer.for_messages("127.0.0.1:0", lambda m, p: m, framer=LineFramer())
        else:
            server = aio.TCPServer("127.0.0.1:0", _echo_lines)
        await server.start()
        clients = [await aio.connect_tcp(server.endpoint, timeout=5) for _ in range(5)]
        await clients[0].send_all(b"half a line")  # one client in the middle of a message
        await asyncio.sleep(0.05)
        start = time.monotonic()
        await server.stop(0.3)
        elapsed = time.monotonic() - start
        assert not server.serving
        for conn in clients:
            assert await conn.recv() == b""  # each was closed
            conn.close()
            await conn.wait_closed()
        return elapsed

    elapsed = run(loop_kind, main())
    assert elapsed < 0.3 + SLACK
    gc.collect()
    assert settle(lambda: fd_count() == before)


def test_serve_forever_until_stop(loop_kind: str) -> None:
    async def main() -> None:
        server = aio.TCPServer("127.0.0.1:0", _echo_lines)
        task = asyncio.get_running_loop().create_task(server.serve_forever())
        await asyncio.sleep(0.01)
        assert server.serving
        async with await aio.connect_tcp(server.endpoint, timeout=5) as conn:
            await conn.send_all(b"x\n")
            assert await conn.recv_until() == b"x\n"
        await server.stop(1)
        await asyncio.wait_for(task, 1)
        with pytest.raises(RuntimeError):
            await server.start()

    run(loop_kind, main())


def test_message_mode_sync_and_async_respond_keep_order(loop_kind: str) -> None:
    async def main() -> None:
        async def respond(message: bytes, peer: object) -> bytes | None:
            if message.startswith(b"slow"):
                await asyncio.sleep(0.02)
            if message == b"quiet":
                return None
            return message.upper()

        def sync_respond(message: bytes, peer: object) -> bytes:
            return b"%s from %s" % (message, str(peer).encode())

        framer = LengthPrefixFramer(2)
        async with (
            aio.TCPServer.for_messages("127.0.0.1:0", respond, framer=framer) as server,
            await aio.connect_tcp(server.endpoint, timeout=5) as conn,
        ):
            for m in (b"slow1", b"a", b"quiet", b"slow2", b"b"):
                await conn.send_message(m, framer)
            got = [await conn.recv_message(framer) for _ in range(4)]
            assert got == [b"SLOW1", b"A", b"SLOW2", b"B"]
        async with (
            aio.TCPServer.for_messages("127.0.0.1:0", sync_respond, framer=LineFramer()) as server,
            await aio.connect_tcp(server.endpoint, timeout=5) as conn,
        ):
            await conn.send_all(b"hi\n")
            assert (await conn.recv_until()).startswith(b"hi from 127.0.0.1:")

    run(loop_kind, main())


def test_message_mode_oversized_message_closes_that_connection(
    loop_kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def main() -> None:
        async with (
            aio.TCPServer.for_messages("127.0.0.1:0", lambda m, p: m, framer=LineFramer(max_size=10)) as server,
            await aio.connect_tcp(server.endpoint, timeout=5) as conn,
        ):
            await conn.send_all(b"x" * 11)
            assert await conn.recv() == b""

    with caplog.at_level(logging.WARNING, logger="netbasics"):
        run(loop_kind, main())
    assert any("closed connection" in r.getMessage() for r in caplog.records)


def test_message_mode_idle_deadline(loop_kind: str) -> None:
    async def main() -> float:
        server = aio.TCPServer.for_messages("127.0.0.1:0", lambda m, p: m, framer=LineFramer(), idle_timeout=0.2)
        async with server, await aio.connect_tcp(server.endpoint, timeout=5) as conn:
            start = time.monotonic()
            await conn.send_all(b"x\n")
            assert await conn.recv_until() == b"x\n"
            assert await conn.recv() == b""
            return time.monotonic() - start

    assert 0.15 < run(loop_kind, main()) < 0.2 + 0.3


# --- Unix -------------------------------------------------------------------------------------


def test_unix_server_round_trip_and_file_removed(loop_kind: str, sock_dir: Path) -> None:
    path = sock_dir / "a.sock"

    async def main() -> None:
        async def whoami(conn: StreamConnection) -> None:
            await conn.send_all(b"uid %d\n" % conn.peer_credentials.uid)

        async with aio.UnixServer(f"unix:{path}", whoami, mode=0o600) as server:
            assert path.exists()
            assert oct(path.stat().st_mode & 0o777) == oct(0o600)
            async with await aio.connect_unix(server.endpoint, timeout=5) as conn:
                assert await conn.recv_until() == b"uid %d\n" % os.getuid()
        assert not path.exists()

    run(loop_kind, main())


linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="peer credentials are read on Linux")


@linux_only
@pytest.mark.parametrize("message_mode", [False, True], ids=["handler", "messages"])
def test_allowed_uids_refuses_before_the_handler(
    loop_kind: str, sock_dir: Path, message_mode: bool, caplog: pytest.LogCaptureFixture
) -> None:
    # The same gate as the synchronous UnixServer: a client whose uid is not listed is
    # closed before any of the application's code sees it, with one warning naming it.
    ran: list[bytes] = []
    path = f"unix:{sock_dir / 'r.sock'}"
    other = os.geteuid() + 1

    async def handler(conn: StreamConnection) -> None:
        ran.append(b"handler")

    def respond(message: bytes, peer: UnixAddress) -> bytes:
        ran.append(message)
        return message

    async def main() -> None:
        server = (
            aio.UnixServer.for_messages(path, respond, framer=LineFramer(), allowed_uids=[other])
            if message_mode
            else aio.UnixServer(path, handler, allowed_uids={other})
        )
        async with server:
            async with await aio.connect_unix(path, timeout=5) as conn:
                try:
                    await conn.send_all(b"let me in\n")
                    assert await conn.recv() == b""  # closed without an answer
                except ConnectionClosed:
                    pass  # closed before the request was even sent: as good
            await asyncio.sleep(0.05)  # a handler that did start would have run by now
            assert server.active_connections == 0

    caplog.set_level(logging.DEBUG, logger="netbasics")
    run(loop_kind, main())
    assert ran == []
    refusals = [r for r in caplog.records if "refused a connection" in r.getMessage()]
    assert len(refusals) == 1
    assert refusals[0].levelno == logging.WARNING
    assert f"uid {os.geteuid()}" in refusals[0].getMessage()
    assert not [r for r in caplog.records if r.exc_info]  # no traceback


@linux_only
@pytest.mark.parametrize("message_mode", [False, True], ids=["handler", "messages"])
def test_allowed_uids_admits_listed_users(loop_kind: str, sock_dir: Path, message_mode: bool) -> None:
    path = f"unix:{sock_dir / 'ok.sock'}"
    uids = [os.geteuid(), 12345]

    async def main() -> None:
        server = (
            aio.UnixServer.for_messages(
                path, lambda message, peer: message.upper(), framer=LineFramer(), allowed_uids=uids
            )
            if message_mode
            else aio.UnixServer(path, _echo_lines, allowed_uids=uids)
        )
        async with server, await aio.connect_unix(path, timeout=5) as conn:
            await conn.send_all(b"me\n")
            assert await conn.recv_until() == (b"ME\n" if message_mode else b"me\n")

    run(loop_kind, main())


@linux_only
def test_allowed_uids_refuses_when_credentials_cannot_be_read(
    loop_kind: str, sock_dir: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A gate that cannot read the peer's credentials refuses (fails closed) and says why.
    import netbasics._io.unix_sockets as unix_sockets

    def unreadable(sock: socket.socket) -> object:
        raise OSError(95, "Operation not supported")

    monkeypatch.setattr(unix_sockets, "peer_credentials", unreadable)
    path = f"unix:{sock_dir / 'c.sock'}"
    ran: list[bool] = []

    async def handler(conn: StreamConnection) -> None:
        ran.append(True)

    async def main() -> None:
        async with (
            aio.UnixServer(path, handler, allowed_uids=[os.geteuid()]),
            await aio.connect_unix(path, timeout=5) as conn,
        ):
            try:
                assert await conn.recv() == b""
            except ConnectionClosed:
                pass

    caplog.set_level(logging.WARNING, logger="netbasics")
    run(loop_kind, main())
    assert ran == []
    assert any("cannot read its peer credentials" in r.getMessage() for r in caplog.records)


def test_unix_file_not_removed_when_no_longer_ours(loop_kind: str, sock_dir: Path) -> None:
    path = sock_dir / "b.sock"

    async def main() -> None:
        server = aio.UnixServer(f"unix:{path}", _echo_lines)
        path.unlink()
        other = socket.socket(socket.AF_UNIX)
        other.bind(str(path))  # someone else's socket now
        await server.stop()
        assert path.exists()
        other.close()

    run(loop_kind, main())


def test_unix_stale_live_and_regular_file_rules(loop_kind: str, sock_dir: Path) -> None:
    path = sock_dir / "c.sock"

    async def main() -> None:
        stale = socket.socket(socket.AF_UNIX)
        stale.bind(str(path))
        stale.close()  # a socket file nobody listens on
        async with aio.UnixServer(f"unix:{path}", _echo_lines) as server:
            with pytest.raises(BindError):
                aio.UnixServer(f"unix:{path}", _echo_lines)  # live
            with pytest.raises(BindError):
                UnixServer(f"unix:{path}", lambda conn: None)  # the sync server agrees
            async with await aio.connect_unix(server.endpoint, timeout=5) as conn:
                await conn.send_all(b"ok\n")
                assert await conn.recv_until() == b"ok\n"
        regular = sock_dir / "file"
        regular.write_text("keep me")
        with pytest.raises(BindError):
            aio.UnixServer(f"unix:{regular}", _echo_lines)
        assert regular.read_text() == "keep me"

    run(loop_kind, main())


def test_unix_message_mode_and_socat(loop_kind: str, sock_dir: Path) -> None:
    socat = need("socat")
    path = sock_dir / "d.sock"

    async def main() -> None:
        async with aio.UnixServer.for_messages(f"unix:{path}", lambda m, p: m.upper(), framer=LineFramer()):
            proc = await asyncio.create_subprocess_exec(
                socat, "-t", "2", "-", f"UNIX-CONNECT:{path}", stdin=subprocess.PIPE, stdout=subprocess.PIPE
            )
            out, _ = await asyncio.wait_for(proc.communicate(b"via socat\n"), 10)
            assert out == b"VIA SOCAT\n"

    run(loop_kind, main())


def test_our_unix_client_against_socat(loop_kind: str, sock_dir: Path) -> None:
    socat = need("socat")
    path = sock_dir / "e.sock"
    proc = subprocess.Popen([socat, f"UNIX-LISTEN:{path}", "EXEC:cat"])
    try:

        async def main() -> None:
            deadline = time.monotonic() + 5
            while not path.exists():
                assert time.monotonic() < deadline
                await asyncio.sleep(0.02)
            async with await aio.connect_unix(f"unix:{path}", timeout=5) as conn:
                await conn.send_all(b"through cat\n")
                assert await conn.recv_until() == b"through cat\n"

        run(loop_kind, main())
    finally:
        proc.kill()
        proc.wait()


def test_no_resource_warning_when_a_server_is_dropped_unstarted() -> None:
    server = aio.TCPServer("127.0.0.1:0", _echo_lines)
    del server
    gc.collect()  # filterwarnings=error: a ResourceWarning would fail the test


def test_a_handler_finishing_during_stop_still_delivers_its_reply(loop_kind: str) -> None:
    size = 2 * 1024 * 1024

    async def main() -> int:
        started = asyncio.Event()

        async def big_reply(conn: StreamConnection) -> None:
            await conn.recv_until()
            started.set()
            await asyncio.sleep(0.1)  # stop() begins meanwhile
            await conn.send_all(b"x" * size)

        server = aio.TCPServer("127.0.0.1:0", big_reply)
        await server.start()
        conn = await aio.connect_tcp(server.endpoint, timeout=5)
        await conn.send_all(b"go\n")
        await started.wait()
        stopping = asyncio.get_running_loop().create_task(server.stop(5))
        got = 0
        while chunk := await conn.recv():
            got += len(chunk)
            await asyncio.sleep(0.001)  # a slow reader: the reply is still queued when the handler returns
        await stopping
        conn.close()
        await conn.wait_closed()
        return got

    assert run(loop_kind, main()) == size


@pytest.mark.parametrize("client", ["socat", "nc"])
def test_command_line_clients_against_our_servers(loop_kind: str, client: str) -> None:
    async def main() -> tuple[bytes, bytes]:
        async def upper(conn: StreamConnection) -> None:
            async for line in conn:
                await conn.send_all(line.upper() + b"\n")

        outs = []
        async with (
            aio.TCPServer("127.0.0.1:0", upper) as a,
            aio.TCPServer.for_messages("127.0.0.1:0", lambda m, p: m.upper(), framer=LineFramer()) as b,
        ):
            for server in (a, b):
                ep = server.endpoint
                if client == "socat":
                    argv = [need("socat"), "-t", "2", "-", f"TCP:{ep}"]
                else:
                    argv = [need("nc"), "-N", "-w", "5", str(ep.address), str(ep.port)]
                proc = await asyncio.create_subprocess_exec(*argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
                out, _ = await asyncio.wait_for(proc.communicate(b"abc\ndef\n"), 10)
                outs.append(out)
        return outs[0], outs[1]

    assert run(loop_kind, main()) == (b"ABC\nDEF\n", b"ABC\nDEF\n")


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
def test_message_mode_closes_after_the_replies_when_the_client_half_closes(loop_kind: str, use_async: bool) -> None:
    async def slow(message: bytes, peer: object) -> bytes:
        await asyncio.sleep(0.05)
        return message.upper()

    def fast(message: bytes, peer: object) -> bytes:
        return message.upper()

    async def main() -> tuple[bytes, float]:
        respond = slow if use_async else fast
        server = aio.TCPServer.for_messages("127.0.0.1:0", respond, framer=LineFramer())
        async with server, await aio.connect_tcp(server.endpoint, timeout=5) as conn:
            await conn.send_all(b"a\nb\n")
            conn.shutdown_write()
            start = time.monotonic()
            got = b""
            while chunk := await conn.recv():
                got += chunk
            return got, time.monotonic() - start

    got, elapsed = run(loop_kind, main())
    assert got == b"A\nB\n"
    assert elapsed < 1  # closed after the replies, not at the idle deadline


def test_accepted_tcp_connections_have_nodelay(loop_kind: str) -> None:
    """As with the synchronous servers: small replies are not held back by Nagle's algorithm."""

    async def main() -> None:
        seen: list[int] = []

        async def handler(conn: StreamConnection) -> None:
            sock = conn.transport.get_extra_info("socket")
            seen.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            await conn.send_all(b"ok\n")

        async with (
            aio.TCPServer("127.0.0.1:0", handler) as server,
            await aio.connect_tcp(server.endpoint, timeout=5) as conn,
        ):
            assert await conn.recv_until() == b"ok\n"
        assert len(seen) == 1
        assert seen[0] != 0

    run(loop_kind, main())
