"""netbasics.aio connections and clients: deadlines, framing, cancellation, Happy Eyeballs, real peers."""

from __future__ import annotations

import asyncio
import gc
import io
import socket
import subprocess
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import netbasics.aio as aio
from aio_loops import loop_kind, run
from leaks import fd_count, settle
from netbasics import (
    ConnectError,
    ConnectionClosed,
    DestinationPolicy,
    FrameTooLarge,
    LengthPrefixFramer,
    LineFramer,
    NetTimeoutError,
    UnsafeDestination,
)
from netbasics.aio._stream import StreamConnection, open_connection
from peers import need

pytestmark = pytest.mark.integration
__all__ = ["loop_kind"]  # the fixture, imported for the tests below

SLACK = 0.1  # a deadline raises within timeout + this


@pytest.fixture
def silent() -> Iterator[socket.socket]:
    """A listening socket nobody accepts on: connects succeed (the kernel queues them), nothing is ever sent."""
    sock = socket.create_server(("127.0.0.1", 0))
    yield sock
    sock.close()


def _pair_connection(timeout: float | None = 5) -> Callable[[], Awaitable[tuple[StreamConnection, socket.socket]]]:
    async def make() -> tuple[StreamConnection, socket.socket]:
        a, b = socket.socketpair()
        b.setblocking(False)
        return await open_connection(a, timeout=timeout), b

    return make


# --- deadlines --------------------------------------------------------------------------------

READS: dict[str, Callable[[StreamConnection, Any], Awaitable[object]]] = {
    "recv": lambda c, kw: c.recv(**kw),
    "recv_exactly": lambda c, kw: c.recv_exactly(10, **kw),
    "recv_until": lambda c, kw: c.recv_until(b"\n", **kw),
    "recv_message": lambda c, kw: c.recv_message(LengthPrefixFramer(), **kw),
    "recv_into": lambda c, kw: c.recv_into(bytearray(10), **kw),
    "lines": lambda c, kw: c.lines(**kw).__anext__(),
    "messages": lambda c, kw: c.messages(LineFramer(), **kw).__anext__(),
}


@pytest.mark.parametrize("read", sorted(READS))
def test_every_read_has_the_default_deadline(loop_kind: str, silent: socket.socket, read: str) -> None:
    async def main() -> float:
        async with await aio.connect_tcp(silent.getsockname(), timeout=0.2) as conn:
            start = time.monotonic()
            with pytest.raises(NetTimeoutError):
                await READS[read](conn, {})
            return time.monotonic() - start

    elapsed = run(loop_kind, main())
    assert 0.19 <= elapsed < 0.2 + SLACK


@pytest.mark.parametrize("read", sorted(READS))
def test_a_per_call_timeout_overrides_the_default(loop_kind: str, silent: socket.socket, read: str) -> None:
    async def main() -> float:
        async with await aio.connect_tcp(silent.getsockname(), timeout=30) as conn:
            start = time.monotonic()
            with pytest.raises(NetTimeoutError):
                await READS[read](conn, {"timeout": 0.15})
            return time.monotonic() - start

    elapsed = run(loop_kind, main())
    assert 0.14 <= elapsed < 0.15 + SLACK


def test_send_all_to_a_peer_that_does_not_read_times_out(loop_kind: str, silent: socket.socket) -> None:
    async def main() -> float:
        async with await aio.connect_tcp(silent.getsockname(), timeout=0.3) as conn:
            start = time.monotonic()

            async def flood() -> None:
                for _ in range(1000):
                    await conn.send_all(b"x" * 1024 * 1024)

            with pytest.raises(NetTimeoutError):
                await flood()
            elapsed = time.monotonic() - start
            conn.abort()
            return elapsed

    assert run(loop_kind, main()) < 0.3 * 2 + SLACK  # the wait that timed out began after the previous one


def test_a_deadline_covers_the_whole_call_however_slowly_bytes_trickle(loop_kind: str) -> None:
    async def main() -> float:
        conn, peer = await _pair_connection(timeout=0.3)()
        loop = asyncio.get_running_loop()

        async def trickle() -> None:
            for _ in range(20):
                await loop.sock_sendall(peer, b"x")
                await asyncio.sleep(0.05)

        task = loop.create_task(trickle())
        start = time.monotonic()
        with pytest.raises(NetTimeoutError):
            await conn.recv_exactly(100)
        elapsed = time.monotonic() - start
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        # What arrived stays buffered.
        assert len(await conn.recv(1000, timeout=0)) >= 5
        await conn.aclose() if hasattr(conn, "aclose") else conn.close()
        peer.close()
        return elapsed

    assert run(loop_kind, main()) < 0.3 + SLACK


# --- reads and framing ---------------------------------------------------------------------


def test_reads_share_one_buffer(loop_kind: str) -> None:
    async def main() -> None:
        conn, peer = await _pair_connection()()
        framer = LengthPrefixFramer()
        peer.sendall(b"line one\nABCDtail\n" + framer.encode(b"msg"))
        assert await conn.recv_until() == b"line one\n"
        assert await conn.recv_exactly(4) == b"ABCD"
        buf = bytearray(2)
        assert await conn.recv_into(buf) == 2
        assert bytes(buf) == b"ta"
        assert await conn.recv(3) == b"il\n"
        assert await conn.recv_message(framer) == b"msg"
        peer.close()
        assert await conn.recv() == b""
        conn.close()
        await conn.wait_closed()

    run(loop_kind, main())


def test_async_for_lines_and_messages(loop_kind: str) -> None:
    async def main() -> None:
        conn, peer = await _pair_connection()()
        peer.sendall(b"a\nbb\nccc\n")
        peer.shutdown(socket.SHUT_WR)
        assert [line async for line in conn] == [b"a", b"bb", b"ccc"]
        conn.close()
        peer.close()
        conn2, peer2 = await _pair_connection()()
        framer = LengthPrefixFramer(2)
        peer2.sendall(framer.encode(b"x") + framer.encode(b"yy"))
        peer2.close()
        assert [m async for m in conn2.messages(framer)] == [b"x", b"yy"]
        conn2.close()
        await conn2.wait_closed()

    run(loop_kind, main())


def test_peer_closing_mid_message_keeps_the_partial(loop_kind: str) -> None:
    async def main() -> None:
        conn, peer = await _pair_connection()()
        peer.sendall(b"unfinished")
        peer.close()
        with pytest.raises(ConnectionClosed) as info:
            await conn.recv_exactly(100)
        assert info.value.partial == b"unfinished"
        conn.close()
        await conn.wait_closed()

    run(loop_kind, main())


def test_using_a_closed_connection_raises(loop_kind: str) -> None:
    async def main() -> None:
        conn, peer = await _pair_connection()()
        conn.close()
        with pytest.raises(ConnectionClosed):
            await conn.recv()
        with pytest.raises(ConnectionClosed):
            await conn.send_all(b"x")
        await conn.wait_closed()
        peer.close()

    run(loop_kind, main())


@settings(max_examples=60)
@given(
    limit=st.integers(1, 300),
    cuts=st.lists(st.integers(1, 400), max_size=8),
    how=st.sampled_from(["until", "lines", "message"]),
)
def test_limit_plus_one_raises_frame_too_large_however_chunked(limit: int, cuts: list[int], how: str) -> None:
    """A line of exactly ``limit`` bytes passes; ``limit + 1`` raises FrameTooLarge, whatever the chunking."""

    async def main() -> None:
        for size, ok in ((limit, True), (limit + 1, False)):
            conn, peer = await _pair_connection()()
            data = b"x" * size + b"\n"
            pieces, rest = [], data
            for cut in cuts:
                pieces.append(rest[:cut])
                rest = rest[cut:]
            pieces.append(rest)
            loop = asyncio.get_running_loop()

            async def feed(
                pieces: list[bytes] = pieces, peer: socket.socket = peer, loop: asyncio.AbstractEventLoop = loop
            ) -> None:
                for piece in pieces:
                    if piece:
                        await loop.sock_sendall(peer, piece)
                        await asyncio.sleep(0)

            task = loop.create_task(feed())
            read: Awaitable[bytes]
            try:
                if how == "until":
                    read = conn.recv_until(b"\n", max_size=limit)
                elif how == "lines":
                    read = conn.lines(max_size=limit).__anext__()
                else:
                    read = conn.recv_message(LineFramer(max_size=limit))
                if ok:
                    assert (await read).rstrip(b"\n") == b"x" * size
                else:
                    with pytest.raises(FrameTooLarge):
                        await read
            finally:
                await task
                conn.close()
                peer.close()
                await conn.wait_closed()

    run("asyncio", main())


# --- cancellation ---------------------------------------------------------------------------


def test_cancelling_a_read_loses_nothing(loop_kind: str) -> None:
    async def main() -> None:
        conn, peer = await _pair_connection()()
        task = asyncio.get_running_loop().create_task(conn.recv_exactly(6))
        await asyncio.sleep(0.05)
        peer.sendall(b"abc")
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        peer.sendall(b"def")
        assert await conn.recv_exactly(6) == b"abcdef"  # documented: usable, nothing lost
        conn.close()
        await conn.wait_closed()
        peer.close()

    run(loop_kind, main())


def test_cancelling_a_recv_whose_bytes_were_handed_over_loses_nothing(loop_kind: str) -> None:
    """A waiting recv() is handed the bytes directly; cancelled before it resumes, it puts them back first."""

    async def main() -> None:
        conn, peer = await _pair_connection()()
        task = asyncio.get_running_loop().create_task(conn.recv())
        await asyncio.sleep(0.05)  # waiting on an empty buffer
        conn._proto.data_received(b"abc")  # handed to the waiting recv()
        conn._proto.data_received(b"def")  # buffered behind it
        task.cancel()  # before the task runs again
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await conn.recv_exactly(6) == b"abcdef"
        conn.close()
        await conn.wait_closed()
        peer.close()

    run(loop_kind, main())


def test_recv_of_fewer_bytes_than_arrive_keeps_the_rest(loop_kind: str) -> None:
    async def main() -> None:
        conn, peer = await _pair_connection()()
        task = asyncio.get_running_loop().create_task(conn.recv(2))
        await asyncio.sleep(0.05)
        peer.sendall(b"abcdef")
        assert await task == b"ab"
        assert await conn.recv() == b"cdef"
        peer.sendall(b"xyz")
        assert await conn.recv(3) == b"xyz"  # exactly what it wants: handed over whole
        peer.close()
        assert await conn.recv() == b""
        conn.close()
        await conn.wait_closed()

    run(loop_kind, main())


def test_cancelling_send_all_leaves_the_data_queued_and_no_fd(loop_kind: str) -> None:
    before = fd_count()

    async def main() -> None:
        conn, peer = await _pair_connection()()
        big = b"y" * (4 * 1024 * 1024)
        task = asyncio.get_running_loop().create_task(conn.send_all(big))
        await asyncio.sleep(0.05)
        assert not task.done()  # waiting for the peer to read
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not conn.closed  # documented: still usable; the data stays queued and is sent
        loop = asyncio.get_running_loop()
        got = 0
        while got < len(big):
            got += len(await asyncio.wait_for(loop.sock_recv(peer, 1 << 20), 5))
        assert got == len(big)
        conn.close()
        await conn.wait_closed()
        peer.close()

    run(loop_kind, main())
    gc.collect()
    assert settle(lambda: fd_count() == before)


# --- connecting -----------------------------------------------------------------------------


def test_connect_tcp_and_policy(loop_kind: str) -> None:
    async def main() -> None:
        async def echo(conn: StreamConnection) -> None:
            await conn.send_all(await conn.recv())

        async with aio.TCPServer("127.0.0.1:0", echo) as server:
            async with await aio.connect_tcp(server.endpoint, timeout=5) as conn:
                await conn.send_all(b"ping")
                assert await conn.recv() == b"ping"
                assert conn.remote == server.endpoint
            with pytest.raises(UnsafeDestination):
                await aio.connect_tcp(server.endpoint, policy=DestinationPolicy())
            with pytest.raises(UnsafeDestination):
                await aio.connect_tcp(f"localhost:{server.endpoint.port}", policy=DestinationPolicy())
            assert await aio.port_open(server.endpoint)
        assert not await aio.port_open(server.endpoint, timeout=1)
        assert await aio.resolve("localhost", 80, family=4) == [server.endpoint.__class__("127.0.0.1:80")]

    run(loop_kind, main())


class FakeNames(dict[str, list[tuple[str, int]]]):
    """A resolver answering from a table, {name: [(address, port), ...]}, in that order."""

    def __call__(self, host: str, port: Any, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0) -> Any:
        out = []
        for address, p in self[host]:
            fam = socket.AF_INET6 if ":" in address else socket.AF_INET
            sockaddr = (address, p, 0, 0) if fam == socket.AF_INET6 else (address, p)
            out.append((fam, socket.SOCK_STREAM, 6, "", sockaddr))
        return out


@pytest.fixture
def fake_names() -> FakeNames:
    return FakeNames()


def _ipv6_or_skip() -> None:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
    except OSError as exc:
        pytest.skip(f"no IPv6 loopback: {exc}")


@pytest.fixture
def hanging_v6() -> Iterator[int]:
    """A port on ::1 whose connects hang: its accept queue is full, so the kernel drops further SYNs."""
    _ipv6_or_skip()
    listener = socket.socket(socket.AF_INET6)
    listener.bind(("::1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(4):
        s = socket.socket(socket.AF_INET6)
        s.setblocking(False)
        s.connect_ex(("::1", port))
        fillers.append(s)
    time.sleep(0.05)
    probe = socket.socket(socket.AF_INET6)
    probe.settimeout(0.3)
    try:
        probe.connect(("::1", port))
        hangs = False
    except OSError:
        hangs = True
    finally:
        probe.close()
    if not hangs:
        for s in fillers:
            s.close()
        listener.close()
        pytest.skip("this kernel does not drop SYNs to a full accept queue")
    yield port
    for s in fillers:
        s.close()
    listener.close()


def test_happy_eyeballs_falls_back_to_ipv4_after_the_attempt_delay(
    loop_kind: str, fake_names: FakeNames, hanging_v6: int, silent: socket.socket
) -> None:
    fake_names["dual.test"] = [("::1", hanging_v6), ("127.0.0.1", silent.getsockname()[1])]

    async def main() -> float:
        start = time.monotonic()
        async with await aio.connect_tcp("dual.test:1", attempt_delay=0.25, resolver=fake_names) as conn:
            elapsed = time.monotonic() - start
            assert str(conn.remote).startswith("127.0.0.1:")
        return elapsed

    assert run(loop_kind, main()) < 0.25 + 0.05


def test_happy_eyeballs_keeps_the_resolver_order(loop_kind: str, fake_names: FakeNames) -> None:
    with socket.create_server(("127.0.0.1", 0)) as a, socket.create_server(("127.0.0.1", 0)) as b:
        fake_names["order.test"] = [("127.0.0.1", b.getsockname()[1]), ("127.0.0.1", a.getsockname()[1])]

        async def main() -> int:
            async with await aio.connect_tcp("order.test:1", resolver=fake_names) as conn:
                assert isinstance(conn.remote, type(conn.remote))
                return conn.remote.port  # type: ignore[union-attr]

        assert run(loop_kind, main()) == b.getsockname()[1]


def test_every_attempt_failing_names_each(loop_kind: str, fake_names: FakeNames) -> None:
    ports = []
    for _ in range(2):
        with socket.create_server(("127.0.0.1", 0)) as s:
            ports.append(s.getsockname()[1])  # closed again: refused
    fake_names["dead.test"] = [("127.0.0.1", ports[0]), ("127.0.0.1", ports[1])]

    async def main() -> None:
        with pytest.raises(ConnectError) as info:
            await aio.connect_tcp("dead.test:1", resolver=fake_names)
        for port in ports:
            assert f"127.0.0.1:{port}" in str(info.value)
        attempts = getattr(info.value, "attempts", None)
        if attempts:  # the errors branch's field (CONTRACTS section 1)
            assert [str(ep) for ep, _ in attempts] == [f"127.0.0.1:{p}" for p in ports]

    run(loop_kind, main())


def test_cancelling_a_connect_mid_race_leaves_no_fd(loop_kind: str, fake_names: FakeNames, hanging_v6: int) -> None:
    fake_names["slow.test"] = [("::1", hanging_v6), ("::1", hanging_v6)]
    before = fd_count()

    async def main() -> None:
        task = asyncio.get_running_loop().create_task(
            aio.connect_tcp("slow.test:1", attempt_delay=0.05, resolver=fake_names)
        )
        await asyncio.sleep(0.15)  # both attempts running
        assert fd_count() > before
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    run(loop_kind, main())
    gc.collect()
    assert settle(lambda: fd_count() == before, timeout=1)


def test_connect_timeout_bounds_the_race(loop_kind: str, hanging_v6: int) -> None:
    async def main() -> float:
        start = time.monotonic()
        with pytest.raises(NetTimeoutError):
            await aio.connect_tcp(f"[::1]:{hanging_v6}", connect_timeout=0.2)
        return time.monotonic() - start

    assert run(loop_kind, main()) < 0.2 + SLACK


# --- real peers -----------------------------------------------------------------------------


def test_stdlib_asyncio_server_as_peer(loop_kind: str) -> None:
    async def main() -> None:
        async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.write(await reader.readline())
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(echo, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with await aio.connect_tcp(("127.0.0.1", port), timeout=5) as conn:
            await conn.send_all(b"over asyncio\n")
            assert await conn.recv_until() == b"over asyncio\n"
            assert await conn.recv() == b""
        server.close()
        await server.wait_closed()

    run(loop_kind, main())


def test_stdlib_open_connection_as_client(loop_kind: str) -> None:
    async def main() -> None:
        async def upper(conn: StreamConnection) -> None:
            async for line in conn:
                await conn.send_all(line.upper() + b"\n")

        async with aio.TCPServer("127.0.0.1:0", upper) as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.endpoint.port)
            writer.write(b"hello\n")
            assert await reader.readline() == b"HELLO\n"
            writer.close()
            await writer.wait_closed()

    run(loop_kind, main())


def test_socat_client_against_our_server(loop_kind: str) -> None:
    socat = need("socat")

    async def main() -> None:
        async def upper(conn: StreamConnection) -> None:
            await conn.send_all((await conn.recv_until()).upper())

        async with aio.TCPServer("127.0.0.1:0", upper) as server:
            proc = await asyncio.create_subprocess_exec(
                socat, "-t", "2", "-", f"TCP:127.0.0.1:{server.endpoint.port}",
                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            )  # fmt: skip
            out, _ = await asyncio.wait_for(proc.communicate(b"from socat\n"), 10)
            assert out == b"FROM SOCAT\n"

    run(loop_kind, main())


def test_our_client_against_nc(loop_kind: str) -> None:
    nc = need("nc")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen([nc, "-l", "127.0.0.1", str(port)], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert proc.stdin is not None
        assert proc.stdout is not None
        proc.stdin.write(b"from nc\n")
        proc.stdin.flush()

        async def main() -> None:
            for _ in range(100):
                if await aio.port_open(("127.0.0.1", port), timeout=0.05) is False:
                    await asyncio.sleep(0.02)
                    continue
                break
            async with await aio.connect_tcp(("127.0.0.1", port), timeout=5) as conn:
                assert await conn.recv_until() == b"from nc\n"
                await conn.send_all(b"to nc\n")

        # port_open's probe is nc's one connection with some nc versions: use a real connect only.
        async def main_direct() -> None:
            deadline = time.monotonic() + 5
            while True:
                try:
                    conn = await aio.connect_tcp(("127.0.0.1", port), timeout=5)
                    break
                except ConnectError:
                    if time.monotonic() > deadline:
                        raise
                    await asyncio.sleep(0.02)
            async with conn:
                assert await conn.recv_until() == b"from nc\n"
                await conn.send_all(b"to nc\n")

        del main
        run(loop_kind, main_direct())
        assert proc.stdout.readline() == b"to nc\n"
    finally:
        proc.kill()
        proc.wait()
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                stream.close()


def test_send_file(loop_kind: str, tmp_path: Any) -> None:
    path = tmp_path / "data.bin"
    path.write_bytes(bytes(range(256)) * 1000)

    async def main() -> None:
        got = bytearray()

        async def collect(conn: StreamConnection) -> None:
            while chunk := await conn.recv():
                got.extend(chunk)

        async with aio.TCPServer("127.0.0.1:0", collect) as server:
            async with await aio.connect_tcp(server.endpoint, timeout=5) as conn:
                with open(path, "rb") as f:
                    assert await conn.send_file(f, 100, 200_000) == 200_000
                    assert f.tell() == 200_100
                await conn.send_file(io.BytesIO(b"tail"))
            await asyncio.sleep(0)
            for _ in range(100):
                if len(got) >= 200_004:
                    break
                await asyncio.sleep(0.01)
        assert bytes(got) == path.read_bytes()[100:200_100] + b"tail"

    run(loop_kind, main())


def test_wait_closed_aborts_when_queued_data_is_not_taken(loop_kind: str, silent: socket.socket) -> None:
    """close() sends what is queued first; wait_closed() gives up after the default timeout and aborts."""

    async def main() -> float:
        conn = await aio.connect_tcp(silent.getsockname(), timeout=0.2)
        conn.transport.write(b"z" * (16 * 1024 * 1024))  # more than the peer's buffers take
        conn.close()
        start = time.monotonic()
        await conn.wait_closed()
        return time.monotonic() - start

    assert run(loop_kind, main()) < 0.2 + SLACK
