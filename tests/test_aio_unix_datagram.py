"""netbasics.aio Unix datagrams: open_unix_datagram and UnixDatagramServer, on asyncio's loop and uvloop.

Socket files live in a short private directory under /tmp; peers are our own sockets and
socat both ways. Deadline assertions only; ``baseline`` fails a test that leaves a
thread or a descriptor behind.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import netbasics
from aio_loops import loop_kind as loop_kind  # the fixture, under its own name
from aio_loops import run, same_signature, until
from netbasics import aio
from netbasics.errors import BindError, ConnectError, DatagramTooLarge, EndpointError, NetTimeoutError
from netbasics.unix_addresses import UnixAddress
from netbasics.unix_datagram import UnixDatagram
from peers import need

pytestmark = pytest.mark.integration


@pytest.fixture
def sockdir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="nb", dir="/tmp"))  # socket paths must be short
    yield path
    shutil.rmtree(path, ignore_errors=True)


def shout(datagram: UnixDatagram, reply: netbasics.Reply) -> None:
    reply(datagram.data.upper())


@pytest.mark.parametrize(
    ("async_fn", "sync_fn"),
    [
        (aio.open_unix_datagram, netbasics.open_unix_datagram),
        (aio.UnixDatagramServer.__init__, netbasics.UnixDatagramServer.__init__),
        (aio.UnixDatagramServer.stop, netbasics.UnixDatagramServer.stop),
        (aio.UnixDatagramSocket.__init__, netbasics.UnixDatagramSocket.__init__),
        (aio.UnixDatagramSocket.send_to, netbasics.UnixDatagramSocket.send_to),
        (aio.UnixDatagramSocket.send, netbasics.UnixDatagramSocket.send),
        (aio.UnixDatagramSocket.recv_from, netbasics.UnixDatagramSocket.recv_from),
        (aio.UnixDatagramSocket.recv, netbasics.UnixDatagramSocket.recv),
    ],
    ids=lambda f: f.__qualname__,
)
def test_signatures_equal_the_synchronous_twins(async_fn: Callable[..., Any], sync_fn: Callable[..., Any]) -> None:
    same_signature(async_fn, sync_fn)
    assert inspect.iscoroutinefunction(async_fn) or async_fn.__name__ == "__init__"


def test_round_trip_with_autobind(loop_kind: str, sockdir: Path, baseline: None) -> None:
    async def main() -> None:
        async with (
            await aio.open_unix_datagram(bind=f"unix:{sockdir}/s", timeout=5) as server,
            await aio.open_unix_datagram(connect=server.local, timeout=5) as client,
        ):
            assert client.remote == server.local
            await client.send(b"hi")
            got = await server.recv_from()
            assert isinstance(got, UnixDatagram)
            assert got.sender == client.local
            await server.send_to(got.data.upper(), got.sender)
            assert await client.recv() == b"HI"
            assert "aio.UnixDatagramSocket" in repr(client)
        assert not (sockdir / "s").exists()  # removed on close: it was ours

    run(loop_kind, main())


def test_truncation_and_errors(loop_kind: str, sockdir: Path, baseline: None) -> None:
    async def main() -> None:
        async with (
            await aio.open_unix_datagram(bind=f"unix:{sockdir}/s", timeout=0.2) as server,
            await aio.open_unix_datagram(connect=server.local, timeout=5) as client,
        ):
            await client.send(b"x" * 11)
            await client.send(b"y" * 10)
            with pytest.raises(DatagramTooLarge, match="max_bytes=10"):
                await server.recv_from(10)  # discarded, never cut
            assert (await server.recv_from(10)).data == b"y" * 10
            start = time.monotonic()
            with pytest.raises(NetTimeoutError):
                await server.recv_from()
            assert time.monotonic() - start < 0.2 + 0.1
            with pytest.raises(ConnectError, match="no such socket file"):
                await client.send_to(b"x", f"unix:{sockdir}/missing")
            with pytest.raises(EndpointError):
                await server.send(b"x")  # not connected

    run(loop_kind, main())


def test_a_full_receiver_makes_the_sender_wait_not_the_loop(loop_kind: str, sockdir: Path, baseline: None) -> None:
    async def main() -> None:
        async with (
            await aio.open_unix_datagram(bind=f"unix:{sockdir}/s", timeout=5) as server,
            await aio.open_unix_datagram(connect=server.local, timeout=0.2) as client,
        ):
            sent = 0
            start = time.monotonic()
            while True:  # fill the receiver's queue; then a send waits, up to the timeout
                try:
                    await client.send(b"x" * 1024)
                except NetTimeoutError:
                    break
                sent += 1
            assert time.monotonic() - start < 5
            ticks = 0

            async def tick() -> None:
                nonlocal ticks
                while True:
                    ticks += 1
                    await asyncio.sleep(0.001)

            ticker = asyncio.ensure_future(tick())
            client.settimeout(5)
            pending = asyncio.ensure_future(client.send(b"last"))
            await asyncio.sleep(0.05)
            assert not pending.done()
            assert ticks > 5  # the loop kept running while the send waited
            for _ in range(sent):
                await server.recv_from()
            await asyncio.wait_for(pending, 5)
            assert (await server.recv_from()).data == b"last"
            ticker.cancel()
            with pytest.raises(asyncio.CancelledError):
                await ticker

    run(loop_kind, main())


# --- UnixDatagramServer --------------------------------------------------------------------------------


def test_server_replies_sync_and_async(loop_kind: str, sockdir: Path, baseline: None) -> None:
    async def reverse(d: UnixDatagram, reply: netbasics.Reply) -> None:
        await asyncio.sleep(0)
        reply(d.data[::-1])

    async def main() -> None:
        async with (
            aio.UnixDatagramServer(f"unix:{sockdir}/a", shout) as a,
            aio.UnixDatagramServer(f"unix:{sockdir}/b", reverse, mode=0o600) as b,
            await aio.open_unix_datagram(timeout=5) as client,
        ):
            assert a.endpoint == UnixAddress(str(sockdir / "a"))
            assert (sockdir / "b").stat().st_mode & 0o777 == 0o600
            await client.send_to(b"hello", a.endpoint)
            assert await client.recv() == b"HELLO"
            await client.send_to(b"abc", b.endpoint)
            assert await client.recv() == b"cba"
            assert "aio.UnixDatagramServer" in repr(a)
        assert not (sockdir / "a").exists()
        assert not (sockdir / "b").exists()

    run(loop_kind, main())


def test_reply_to_an_unnamed_sender_raises_into_the_handler(
    loop_kind: str, sockdir: Path, caplog: pytest.LogCaptureFixture, baseline: None
) -> None:
    errors: list[BaseException] = []

    def handler(d: UnixDatagram, reply: netbasics.Reply) -> None:
        assert d.sender.is_unnamed
        try:
            reply(b"x")
        except EndpointError as exc:
            errors.append(exc)

    async def main() -> None:
        async with aio.UnixDatagramServer(f"unix:{sockdir}/s", handler) as server:
            async with await aio.open_unix_datagram(autobind=False, timeout=5) as client:
                await client.send_to(b"anonymous", server.endpoint)
            await until(lambda: errors, 100)

    run(loop_kind, main())
    assert len(errors) == 1


def test_handler_exception_logged_and_server_carries_on(
    loop_kind: str, sockdir: Path, caplog: pytest.LogCaptureFixture, baseline: None
) -> None:
    def handler(d: UnixDatagram, reply: netbasics.Reply) -> None:
        if d.data == b"boom":
            raise ValueError("bad datagram")
        reply(b"ok")

    async def main() -> None:
        async with (
            aio.UnixDatagramServer(f"unix:{sockdir}/s", handler) as server,
            await aio.open_unix_datagram(connect=server.endpoint, timeout=5) as client,
        ):
            await client.send(b"boom")
            await client.send(b"fine")
            assert await client.recv() == b"ok"

    with caplog.at_level(logging.ERROR, logger="netbasics"):
        run(loop_kind, main())
    assert [r.exc_info[1].args for r in caplog.records if r.exc_info and r.exc_info[1]] == [("bad datagram",)]


def test_stop_within_grace(loop_kind: str, sockdir: Path, baseline: None) -> None:
    async def stuck(d: UnixDatagram, reply: netbasics.Reply) -> None:
        await asyncio.sleep(60)

    async def main() -> None:
        server = await aio.UnixDatagramServer(f"unix:{sockdir}/s", stuck).start()
        async with await aio.open_unix_datagram(connect=server.endpoint, timeout=5) as client:
            await client.send(b"x")
            await asyncio.sleep(0.05)
            start = time.monotonic()
            await server.stop(0.1)
            assert time.monotonic() - start < 0.1 + 0.1
        assert not (sockdir / "s").exists()

    run(loop_kind, main())


def test_socket_file_removed_on_stop_only_if_ours(loop_kind: str, sockdir: Path, baseline: None) -> None:
    path = sockdir / "s"

    async def main() -> None:
        async with aio.UnixDatagramServer(f"unix:{path}", shout):
            # Someone else takes the path while we serve: their file must survive our stop.
            path.unlink()
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as theirs:
                theirs.bind(str(path))
                inode = path.stat().st_ino
        assert path.exists()
        assert path.stat().st_ino == inode
        path.unlink()

    run(loop_kind, main())


def test_stale_live_and_regular_files(loop_kind: str, sockdir: Path, baseline: None) -> None:
    async def main() -> None:
        stale = sockdir / "stale"
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as dead:
            dead.bind(str(stale))  # closed without unlinking: a stale file
        async with aio.UnixDatagramServer(f"unix:{stale}", shout):  # replaced
            with pytest.raises(BindError, match="in use"):
                aio.UnixDatagramServer(f"unix:{stale}", shout)  # live: refused
        regular = sockdir / "regular"
        regular.write_text("keep me")
        with pytest.raises(BindError):
            aio.UnixDatagramServer(f"unix:{regular}", shout)
        assert regular.read_text() == "keep me"

    run(loop_kind, main())


# --- real peers -------------------------------------------------------------------------------------


def test_socat_sendto_our_server(loop_kind: str, sockdir: Path, baseline: None) -> None:
    socat = need("socat")

    async def main() -> bytes:
        path = sockdir / "d.sock"
        async with aio.UnixDatagramServer(f"unix:{path}", shout):
            proc = await asyncio.create_subprocess_exec(
                socat,
                "-t",
                "1",
                "-",
                f"UNIX-SENDTO:{path},bind={sockdir / 'socat-client.sock'}",
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
            )
            out, _ = await asyncio.wait_for(proc.communicate(b"hello socat"), 20)
            return out

    assert run(loop_kind, main()) == b"HELLO SOCAT"


def test_our_client_against_socat_recvfrom(loop_kind: str, sockdir: Path) -> None:
    path = sockdir / "socat-d.sock"
    proc = subprocess.Popen(
        [need("socat"), f"UNIX-RECVFROM:{path},fork", "SYSTEM:tr a-z A-Z"], stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 10
        while not path.exists():
            assert proc.poll() is None, "socat exited"
            assert time.monotonic() < deadline, "socat did not bind"
            time.sleep(0.01)

        async def main() -> bytes:
            async with await aio.open_unix_datagram(connect=f"unix:{path}", timeout=5) as client:
                await client.send(b"shout this")
                return await client.recv()

        assert run(loop_kind, main()) == b"SHOUT THIS"
    finally:
        proc.terminate()
        proc.wait(10)


def test_wrapping_a_socket(loop_kind: str, sockdir: Path, baseline: None) -> None:
    async def main() -> None:
        raw = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        raw.bind(str(sockdir / "raw"))
        async with aio.UnixDatagramSocket(raw) as sock:
            assert sock.local == UnixAddress(str(sockdir / "raw"))
            assert sock.remote is None

    run(loop_kind, main())


def test_replies_to_a_client_that_never_reads_are_dropped(
    loop_kind: str, sockdir: Path, caplog: pytest.LogCaptureFixture, baseline: None
) -> None:
    handled: list[bytes] = []

    def echo(d: UnixDatagram, reply: netbasics.Reply) -> None:
        handled.append(d.data)
        reply(d.data)

    async def main() -> None:
        async with (
            aio.UnixDatagramServer(f"unix:{sockdir}/s", echo) as server,
            await aio.open_unix_datagram(connect=server.endpoint, timeout=5) as client,
        ):
            for i in range(300):  # far more than a Unix datagram queue holds (max_dgram_qlen)
                await client.send(b"%d" % i)
            await until(lambda: len(handled) == 300, 300)
        assert len(handled) == 300  # the server never stalled on the full client

    with caplog.at_level(logging.DEBUG, logger="netbasics"):
        run(loop_kind, main())
    assert any("dropped" in r.getMessage() for r in caplog.records)
