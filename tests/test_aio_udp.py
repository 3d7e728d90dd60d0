"""netbasics.aio UDP: open_udp, udp_request and UDPServer, on loopback, on asyncio's loop and on uvloop.

Every test runs its coroutine with ``aio_loops.run`` on a fresh loop of each kind
(uvloop skipped with the reason when it is not installed); peers are our own sockets,
the synchronous API, and socat both ways. Deadline assertions only ("within timeout +
100 ms"); the ``baseline`` fixture fails a test that leaves a thread or a descriptor.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from typing import Any

import pytest

import netbasics
from aio_loops import loop_kind as loop_kind  # the fixture, under its own name
from aio_loops import run, same_signature, until
from netbasics import aio
from netbasics.endpoints import Endpoint
from netbasics.errors import (
    ConnectError,
    ConnectionClosed,
    DatagramTooLarge,
    EndpointError,
    NetTimeoutError,
    ResolveError,
)
from netbasics.safety import DestinationPolicy, UnsafeDestination
from netbasics.udp import MAX_UDP_PAYLOAD_IPV4, Datagram
from peers import need

pytestmark = pytest.mark.integration

LOOPBACK = {4: "127.0.0.1", 6: "::1"}


def _host(family: int) -> str:
    return LOOPBACK[family] if family == 4 else f"[{LOOPBACK[family]}]"


# --- the API mirrors the synchronous one ----------------------------------------------------


@pytest.mark.parametrize(
    ("async_fn", "sync_fn"),
    [
        (aio.udp_request, netbasics.udp_request),
        (aio.open_udp, netbasics.open_udp),
        (aio.UDPServer.__init__, netbasics.UDPServer.__init__),
        (aio.UDPServer.stop, netbasics.UDPServer.stop),
        (aio.UDPServer.start, netbasics.UDPServer.start),
        (aio.UDPServer.serve_forever, netbasics.UDPServer.serve_forever),
        (aio.UDPSocket.__init__, netbasics.UDPSocket.__init__),
        (aio.UDPSocket.send_to, netbasics.UDPSocket.send_to),
        (aio.UDPSocket.send, netbasics.UDPSocket.send),
        (aio.UDPSocket.recv_from, netbasics.UDPSocket.recv_from),
        (aio.UDPSocket.recv, netbasics.UDPSocket.recv),
        (aio.UDPSocket.settimeout, netbasics.UDPSocket.settimeout),
        (aio.UDPSocket.join_group, netbasics.UDPSocket.join_group),
        (aio.UDPSocket.leave_group, netbasics.UDPSocket.leave_group),
        (aio.UDPSocket.set_multicast_interface, netbasics.UDPSocket.set_multicast_interface),
        (aio.UDPSocket.close, netbasics.UDPSocket.close),
    ],
    ids=lambda f: f.__qualname__,
)
def test_signatures_equal_the_synchronous_twins(async_fn: Callable[..., Any], sync_fn: Callable[..., Any]) -> None:
    same_signature(async_fn, sync_fn)


def test_the_coroutines_are_coroutines() -> None:
    for fn in (aio.udp_request, aio.open_udp, aio.UDPSocket.recv_from, aio.UDPSocket.send_to, aio.UDPServer.stop):
        assert inspect.iscoroutinefunction(fn), fn
    for name in ("local", "remote", "family", "broadcast", "timeout", "closed", "multicast_ttl", "multicast_loopback"):
        assert isinstance(getattr(aio.UDPSocket, name), property), name


def test_signature_check_notices_a_difference() -> None:
    def a(x: int, *, timeout: float = 2.0) -> None: ...
    def b(x: int, *, timeout: float = 1.0) -> None: ...

    with pytest.raises(AssertionError):
        same_signature(a, b)


# --- sockets ----------------------------------------------------------------------------------


def test_open_udp_round_trip_and_values(loop_kind: str, family: int, baseline: None) -> None:
    async def main() -> None:
        async with (
            await aio.open_udp(bind=f"{_host(family)}:0", timeout=5) as a,
            await aio.open_udp(connect=a.local, timeout=5) as b,
        ):
            assert b.remote == a.local
            assert b.family == family
            assert not b.broadcast
            await b.send(b"ping")
            got = await a.recv_from()
            assert isinstance(got, Datagram)
            assert got.data == b"ping"
            assert got.sender == b.local
            await a.send_to(b"pong", got.sender)
            assert await b.recv() == b"pong"
            assert "aio.UDPSocket" in repr(b)
        assert a.closed
        assert b.closed
        assert a.fileno() == -1

    run(loop_kind, main())


def test_send_to_a_name_resolves_without_blocking(loop_kind: str, baseline: None) -> None:
    async def main() -> None:
        async with await aio.open_udp(bind="127.0.0.1:0", timeout=5) as a, await aio.open_udp(timeout=5) as b:
            await b.send_to(b"by name", ("localhost", a.local.port))
            assert (await a.recv_from()).data == b"by name"

    run(loop_kind, main())


def test_recv_deadline(loop_kind: str, baseline: None) -> None:
    async def main() -> None:
        async with await aio.open_udp(bind="127.0.0.1:0", timeout=0.2) as sock:
            start = time.monotonic()
            with pytest.raises(NetTimeoutError, match=r"timed out after 0\.2 s"):
                await sock.recv_from()
            assert time.monotonic() - start < 0.2 + 0.1
            sock.settimeout(0)  # never waits
            with pytest.raises(NetTimeoutError):
                await sock.recv_from()

    run(loop_kind, main())


def test_receive_truncation_rules(loop_kind: str, baseline: None) -> None:
    async def main() -> None:
        async with (
            await aio.open_udp(bind="127.0.0.1:0", timeout=5) as a,
            await aio.open_udp(connect=a.local, timeout=5) as b,
        ):
            await b.send(b"x" * 11)
            await b.send(b"y" * 10)
            with pytest.raises(DatagramTooLarge, match="11 bytes"):
                await a.recv_from(10)  # discarded, never cut
            assert (await a.recv_from(10)).data == b"y" * 10  # exactly the limit fits

    run(loop_kind, main())


def test_send_size_limit_before_sending(loop_kind: str, baseline: None) -> None:
    async def main() -> None:
        async with (
            await aio.open_udp(bind="127.0.0.1:0", timeout=5) as a,
            await aio.open_udp(connect=a.local, timeout=5) as b,
        ):
            with pytest.raises(DatagramTooLarge, match="65507"):
                await b.send(b"x" * (MAX_UDP_PAYLOAD_IPV4 + 1))
            await b.send(b"x" * MAX_UDP_PAYLOAD_IPV4)
            assert len((await a.recv_from()).data) == MAX_UDP_PAYLOAD_IPV4
            with pytest.raises(UnsafeDestination):
                await a.send_to(b"x", "255.255.255.255:9")  # broadcast=False, as in the sync API
            with pytest.raises(EndpointError):
                await a.send(b"x")  # not connected

    run(loop_kind, main())


def test_concurrent_receivers_each_get_a_datagram(loop_kind: str, baseline: None) -> None:
    async def main() -> None:
        async with await aio.open_udp(bind="127.0.0.1:0", timeout=5) as a:
            tasks = [asyncio.ensure_future(a.recv_from()) for _ in range(3)]
            await asyncio.sleep(0.01)
            async with await aio.open_udp(connect=a.local, timeout=5) as b:
                for i in range(3):
                    await b.send(b"%d" % i)
                got = await asyncio.gather(*tasks)
            assert sorted(d.data for d in got) == [b"0", b"1", b"2"]

    run(loop_kind, main())


def test_cancelled_receive_and_close_leave_nothing(loop_kind: str, baseline: None) -> None:
    async def main() -> None:
        sock = await aio.open_udp(bind="127.0.0.1:0")
        task = asyncio.ensure_future(sock.recv_from())
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # the socket is still usable: nothing was consumed
        async with await aio.open_udp(connect=sock.local, timeout=5) as b:
            await b.send(b"after")
        sock.settimeout(5)
        assert (await sock.recv_from()).data == b"after"
        # closing wakes a waiting receiver, which fails instead of hanging
        waiting = asyncio.ensure_future(sock.recv_from())
        await asyncio.sleep(0.01)
        sock.close()
        with pytest.raises(ConnectionClosed, match="closed on this side"):
            await asyncio.wait_for(waiting, 2)

    run(loop_kind, main())


# --- udp_request --------------------------------------------------------------------------------


def test_request_against_a_silent_peer_retries_with_backoff(loop_kind: str, family: int, baseline: None) -> None:
    async def main() -> None:
        async with await aio.open_udp(bind=f"{_host(family)}:0", timeout=5) as silent:
            start = time.monotonic()
            with pytest.raises(NetTimeoutError, match=r"timed out after 0.35 s: no reply after 3 attempt\(s\)"):
                await aio.udp_request(silent.local, b"hello?", timeout=0.05, retries=2, backoff=2.0)
            assert 0.35 - 0.02 <= time.monotonic() - start < 0.35 + 0.1
            for _ in range(3):
                assert (await silent.recv_from()).data == b"hello?"
            silent.settimeout(0)
            with pytest.raises(NetTimeoutError):
                await silent.recv_from()  # exactly retries + 1 datagrams were sent

    run(loop_kind, main())


def test_request_answered_on_the_second_try(loop_kind: str, family: int, baseline: None) -> None:
    seen: list[bytes] = []

    def second_time(d: Datagram, reply: netbasics.Reply) -> None:
        seen.append(d.data)
        if len(seen) == 2:
            reply(b"re:" + d.data)

    async def main() -> None:
        async with aio.UDPServer(f"{_host(family)}:0", second_time) as server:
            start = time.monotonic()
            got = await aio.udp_request(server.endpoint, b"q", timeout=0.1, retries=3, backoff=2.0)
            elapsed = time.monotonic() - start
        assert got.data == b"re:q"
        assert got.sender == server.endpoint
        assert seen == [b"q", b"q"]
        assert 0.1 - 0.02 <= elapsed < 0.1 + 0.2 + 0.1  # waited out the first attempt only

    run(loop_kind, main())


def test_request_ignores_other_senders_and_refused_replies(loop_kind: str, family: int, baseline: None) -> None:
    async def handler(d: Datagram, reply: netbasics.Reply) -> None:
        # A stranger writes to the requester's port first; only the real reply counts.
        async with await aio.open_udp(bind=f"{_host(family)}:0") as stranger:
            await stranger.send_to(b"spoof", d.sender)
        await asyncio.sleep(0.01)
        reply(b"id=0 stale")
        reply(b"id=7 genuine")

    async def main() -> None:
        async with aio.UDPServer(f"{_host(family)}:0", handler) as server:
            got = await aio.udp_request(server.endpoint, b"id=7", timeout=2.0, accept=lambda d: b"id=7" in d.data)
        assert got.data == b"id=7 genuine"

    run(loop_kind, main())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux reports ICMP errors on connected UDP sockets")
def test_request_to_a_closed_port_is_refused(loop_kind: str, baseline: None) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    async def main() -> None:
        with pytest.raises(ConnectError, match="refused 2 times"):
            await aio.udp_request(f"127.0.0.1:{port}", b"x", timeout=0.05, retries=1)

    run(loop_kind, main())


def test_request_size_limits(loop_kind: str, baseline: None) -> None:
    async def main() -> None:
        echo = lambda d, reply: reply(d.data)  # noqa: E731
        async with aio.UDPServer("127.0.0.1:0", echo) as server:
            with pytest.raises(DatagramTooLarge):
                await aio.udp_request(server.endpoint, b"x" * (MAX_UDP_PAYLOAD_IPV4 + 1))
            with pytest.raises(DatagramTooLarge):
                await aio.udp_request(server.endpoint, b"x" * 200, timeout=2.0, max_bytes=100)
            assert len((await aio.udp_request(server.endpoint, b"x" * 100, max_bytes=100)).data) == 100

    run(loop_kind, main())


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"timeout": 0}, ValueError),
        ({"timeout": "1"}, TypeError),
        ({"retries": -1}, ValueError),
        ({"backoff": 0.5}, ValueError),
        ({"max_bytes": 0}, ValueError),
        ({"family": "4"}, TypeError),
    ],
)
def test_request_arguments_are_checked_as_in_the_sync_api(kwargs: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        netbasics.udp_request("127.0.0.1:9", b"x", **kwargs)
    with pytest.raises(error):
        asyncio.run(aio.udp_request("127.0.0.1:9", b"x", **kwargs))


def test_request_with_a_policy_refuses_before_sending(loop_kind: str, baseline: None) -> None:
    def fake(
        host: str, port: int | None, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0
    ) -> list[tuple[Any, ...]]:
        assert host == "intranet.test"
        return [(socket.AF_INET, socket.SOCK_DGRAM, 17, "", ("10.0.0.5", port))]

    async def main() -> None:
        async with await aio.open_udp(bind="127.0.0.1:0", timeout=5) as target:
            with pytest.raises(UnsafeDestination, match="loopback"):
                await aio.udp_request(target.local, b"x", policy=DestinationPolicy())
            with pytest.raises(UnsafeDestination, match="localhost"):
                await aio.udp_request(("localhost", target.local.port), b"x", policy=DestinationPolicy())
            with pytest.raises(UnsafeDestination, match=r"intranet\.test"):
                await aio.udp_request("intranet.test:53", b"x", policy=DestinationPolicy(), resolver=fake)
            with pytest.raises(UnsafeDestination):
                await aio.open_udp(connect=target.local, policy=DestinationPolicy())
            target.settimeout(0)
            with pytest.raises(NetTimeoutError):
                await target.recv_from()  # nothing was sent

    run(loop_kind, main())


def test_request_through_an_injected_resolver(loop_kind: str, baseline: None) -> None:
    asked: list[tuple[Any, ...]] = []

    async def main() -> None:
        async with aio.UDPServer("127.0.0.1:0", lambda d, reply: reply(b"ok")) as server:
            server_port = server.endpoint.port

            def fake(
                host: str, port: int | None, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0
            ) -> list[tuple[Any, ...]]:
                asked.append((host, port, family))
                return [
                    (socket.AF_UNIX, socket.SOCK_DGRAM, 0, "", "/not/ip"),  # skipped: not IP
                    (socket.AF_INET, socket.SOCK_DGRAM, 17, "", ("127.0.0.1", port)),
                ]

            got = await aio.udp_request(f"service.test:{server_port}", b"q", resolver=fake)
            assert got.data == b"ok"

            def nothing(
                host: str, port: int | None, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0
            ) -> list[tuple[Any, ...]]:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

            with pytest.raises(ResolveError, match=r"nowhere\.test"):
                await aio.udp_request("nowhere.test:53", b"q", resolver=nothing)

    run(loop_kind, main())
    assert asked == [("service.test", asked[0][1], socket.AF_UNSPEC)]  # asked once, in a worker thread


# --- UDPServer ------------------------------------------------------------------------------------


def test_server_sync_and_async_handlers_reply(loop_kind: str, family: int, baseline: None) -> None:
    def plain(d: Datagram, reply: netbasics.Reply) -> None:
        reply(d.data.upper())

    async def coroutine(d: Datagram, reply: netbasics.Reply) -> None:
        await asyncio.sleep(0)
        reply(d.data[::-1])

    async def main() -> None:
        async with aio.UDPServer(f"{_host(family)}:0", plain) as a, aio.UDPServer(f"{_host(family)}:0", coroutine) as b:
            assert a.serving
            assert a.endpoint.version == family
            assert (await aio.udp_request(a.endpoint, b"hi", timeout=2)).data == b"HI"
            assert (await aio.udp_request(b.endpoint, b"abc", timeout=2)).data == b"cba"
            assert "aio.UDPServer" in repr(a)
            assert a.name.startswith("UDPServer ")
        assert not a.serving

    run(loop_kind, main())


def test_server_survives_a_failing_handler(loop_kind: str, caplog: pytest.LogCaptureFixture, baseline: None) -> None:
    async def handler(d: Datagram, reply: netbasics.Reply) -> None:
        if d.data == b"boom":
            raise RuntimeError("handler blew up")
        reply(b"ok")

    async def main() -> None:
        async with (
            aio.UDPServer("127.0.0.1:0", handler) as server,
            await aio.open_udp(connect=server.endpoint, timeout=2) as client,
        ):
            await client.send(b"boom")
            await client.send(b"fine")
            assert await client.recv() == b"ok"

    with caplog.at_level(logging.ERROR, logger="netbasics"):
        run(loop_kind, main())
    failures = [r for r in caplog.records if "handler failed" in r.getMessage()]
    assert len(failures) == 1
    assert failures[0].exc_info is not None
    assert "handler blew up" in str(failures[0].exc_info[1])


def test_server_drops_oversized_datagrams_with_a_warning(
    loop_kind: str, caplog: pytest.LogCaptureFixture, baseline: None
) -> None:
    async def main() -> None:
        async with (
            aio.UDPServer("127.0.0.1:0", lambda d, reply: reply(d.data), max_datagram=16) as server,
            await aio.open_udp(connect=server.endpoint, timeout=2) as client,
        ):
            await client.send(b"x" * 17)
            await client.send(b"y" * 16)
            assert await client.recv() == b"y" * 16  # the first was never handled, never cut

    with caplog.at_level(logging.WARNING, logger="netbasics"):
        run(loop_kind, main())
    assert any("17 bytes" in r.getMessage() for r in caplog.records)


def test_stop_returns_within_grace_and_cancels_busy_handlers(loop_kind: str, baseline: None) -> None:
    cancelled: list[bool] = []

    async def stuck(d: Datagram, reply: netbasics.Reply) -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    async def main() -> None:
        server = aio.UDPServer("127.0.0.1:0", stuck, workers=2)
        await server.start()
        with pytest.raises(RuntimeError):
            await server.start()
        async with await aio.open_udp(connect=server.endpoint) as client:
            await client.send(b"x")
            await asyncio.sleep(0.05)
            start = time.monotonic()
            await server.stop(0.2)
            assert time.monotonic() - start < 0.2 + 0.1
        assert cancelled == [True]
        assert not server.serving
        await server.stop()  # again: nothing to do

    run(loop_kind, main())


def test_stop_lets_a_busy_handler_finish_within_grace(loop_kind: str, baseline: None) -> None:
    async def slow(d: Datagram, reply: netbasics.Reply) -> None:
        await asyncio.sleep(0.05)
        reply(b"finished")

    async def main() -> None:
        server = await aio.UDPServer("127.0.0.1:0", slow).start()
        async with await aio.open_udp(connect=server.endpoint, timeout=2) as client:
            await client.send(b"x")
            await asyncio.sleep(0.01)
            await server.stop(2)
            assert await client.recv() == b"finished"  # replied before the socket closed

    run(loop_kind, main())


def test_serve_forever_until_stopped_from_a_handler_or_cancelled(loop_kind: str, baseline: None) -> None:
    async def main() -> None:
        holder: list[aio.UDPServer] = []

        async def stop_me(d: Datagram, reply: netbasics.Reply) -> None:
            reply(b"bye")
            await holder[0].stop()

        server = aio.UDPServer("127.0.0.1:0", stop_me)
        holder.append(server)
        serving = asyncio.ensure_future(server.serve_forever())
        assert (await aio.udp_request(server.endpoint, b"stop", timeout=2)).data == b"bye"
        await asyncio.wait_for(serving, 2)

        other = aio.UDPServer("127.0.0.1:0", lambda d, reply: None)
        task = asyncio.ensure_future(other.serve_forever())
        await asyncio.sleep(0.01)
        assert other.serving
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not other.serving

    run(loop_kind, main())


def test_server_arguments_are_checked() -> None:
    with pytest.raises(TypeError):
        aio.UDPServer("127.0.0.1:0", "not callable")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="workers"):
        aio.UDPServer("127.0.0.1:0", print, workers=0)
    with pytest.raises(ValueError, match="max_datagram"):
        aio.UDPServer("127.0.0.1:0", print, max_datagram=65536)
    with pytest.raises(TypeError, match="name"):
        aio.UDPServer("127.0.0.1:0", print, name=3)  # type: ignore[arg-type]


# --- real peers -------------------------------------------------------------------------------------


def test_request_to_socat_echo(loop_kind: str, family: int) -> None:
    socat = need("socat")
    with socket.socket(socket.AF_INET if family == 4 else socket.AF_INET6, socket.SOCK_DGRAM) as probe:
        probe.bind((LOOPBACK[family], 0))
        port = probe.getsockname()[1]
    listen = f"UDP4-LISTEN:{port},bind=127.0.0.1" if family == 4 else f"UDP6-LISTEN:{port},bind=[::1]"
    proc = subprocess.Popen([socat, "-T", "10", listen, "PIPE"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:

        async def main() -> Datagram:
            # socat may not be listening yet: udp_request retries through the ICMP refusals.
            return await aio.udp_request(Endpoint(LOOPBACK[family], port), b"hi socat", timeout=0.1, retries=20)

        got = run(loop_kind, main())
        assert got.data == b"hi socat"
        assert got.sender == Endpoint(LOOPBACK[family], port)
    finally:
        proc.kill()
        proc.wait(5)


def test_socat_client_to_our_server(loop_kind: str, family: int, baseline: None) -> None:
    socat = need("socat")

    async def main() -> bytes:
        async with aio.UDPServer(f"{_host(family)}:0", lambda d, reply: reply(d.data.upper())) as server:
            port = server.endpoint.port
            address = f"UDP4:127.0.0.1:{port}" if family == 4 else f"UDP6:[::1]:{port}"
            proc = await asyncio.create_subprocess_exec(
                socat, "-t", "1", "-", address, stdin=subprocess.PIPE, stdout=subprocess.PIPE
            )
            out, _ = await asyncio.wait_for(proc.communicate(b"hello from socat\n"), 10)
            return out

    assert run(loop_kind, main()) == b"HELLO FROM SOCAT\n"


# --- nothing left behind --------------------------------------------------------------------------------


def test_no_resource_warning(tmp_path: Any) -> None:
    script = textwrap.dedent(
        """
        import asyncio, gc, tempfile
        from netbasics import aio

        async def main():
            async with aio.UDPServer("127.0.0.1:0", lambda d, reply: reply(d.data)) as server:
                assert (await aio.udp_request(server.endpoint, b"x")).data == b"x"
                sock = await aio.open_udp(connect=server.endpoint, timeout=1)
                await sock.send(b"y")
                await sock.recv()
                sock.close()
            stopped = aio.UDPServer("127.0.0.1:0", print)
            await stopped.stop()
            with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
                echo = lambda d, reply: reply(d.data)
                async with aio.UnixDatagramServer(f"unix:{tmp}/s", echo) as server, \\
                        await aio.open_unix_datagram(connect=server.endpoint, timeout=1) as client:
                    await client.send(b"z")
                    await client.recv()
            gc.collect()

        asyncio.run(main())
        gc.collect()
        print("done")
        """
    )
    env = {**os.environ, "PYTHONWARNINGS": "error::ResourceWarning"}
    result = subprocess.run(
        [sys.executable, "-X", "dev", "-W", "error::ResourceWarning", "-c", script],
        capture_output=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout == b"done\n"
    assert b"ResourceWarning" not in result.stderr, result.stderr
    assert b"Exception ignored" not in result.stderr, result.stderr


def test_wrapping_a_socket_and_the_options(loop_kind: str, baseline: None) -> None:
    async def main() -> None:
        raw = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        raw.bind(("127.0.0.1", 0))
        async with aio.UDPSocket(raw, broadcast=True) as sock:
            assert sock.broadcast
            assert sock.socket is raw
            assert raw.gettimeout() == 0.0  # non-blocking: waits happen on the loop
            assert sock.timeout is None
            sock.timeout = 1.5
            assert sock.timeout == 1.5
            sock.multicast_ttl = 3
            assert sock.multicast_ttl == 3
            sock.multicast_loopback = False
            assert not sock.multicast_loopback
            sock.set_multicast_interface(None)
            try:
                sock.join_group("239.255.42.42", "127.0.0.1")
                joined = True
            except OSError:  # no multicast on loopback here
                joined = False
            if joined:
                sock.leave_group("239.255.42.42", "127.0.0.1")
            with pytest.raises(TypeError):
                sock.timeout = "1"  # type: ignore[assignment]
        assert raw.fileno() == -1

    run(loop_kind, main())


def test_open_udp_checks_family_and_arguments(loop_kind: str) -> None:
    async def main() -> None:
        with pytest.raises(EndpointError, match="is IPv4, but the socket is IPv6"):
            await aio.open_udp(bind="127.0.0.1:0", family=6)
        with pytest.raises(TypeError, match="accept"):
            await aio.udp_request("127.0.0.1:9", b"x", accept=3)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="timeout"):
            await aio.open_udp(timeout=-1)

    run(loop_kind, main())


def test_a_burst_is_served_in_order_without_starving_the_loop(loop_kind: str, baseline: None) -> None:
    seen: list[int] = []

    def count(d: Datagram, reply: netbasics.Reply) -> None:
        seen.append(int(d.data))

    async def main() -> None:
        async with aio.UDPServer("127.0.0.1:0", count, receive_buffer=1 << 20) as server:
            async with await aio.open_udp(connect=server.endpoint, timeout=2) as client:
                for i in range(300):
                    await client.send(b"%d" % i)
            await until(lambda: len(seen) == 300, 200)
        assert seen == list(range(300))

    run(loop_kind, main())


def test_concurrent_stops_and_a_handler_that_ignores_cancellation(
    loop_kind: str, caplog: pytest.LogCaptureFixture, baseline: None
) -> None:
    finished: list[bool] = []

    async def stubborn(d: Datagram, reply: netbasics.Reply) -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            await asyncio.sleep(0.2)  # refuses to stop at once
            finished.append(True)

    async def main() -> None:
        server = await aio.UDPServer("127.0.0.1:0", stubborn).start()
        async with await aio.open_udp(connect=server.endpoint) as client:
            await client.send(b"x")
            await asyncio.sleep(0.05)
            start = time.monotonic()
            await asyncio.gather(server.stop(0.05), server.stop(0.05))
            assert time.monotonic() - start < 0.05 + 0.1
        await asyncio.sleep(0.3)  # let the stubborn handler end
        assert finished == [True]

    with caplog.at_level(logging.WARNING, logger="netbasics"):
        run(loop_kind, main())
    assert any("ignored cancellation" in r.getMessage() for r in caplog.records)
