"""The library under network faults, through the fault-injecting relay of ``tests/faults.py``.

This kernel has no ``netem``, so the faults come from a loopback relay between client and
server: UDP loss, duplication, reordering and forged replies for ``udp_request``; 1-byte
splits, stalls and mid-stream resets for TCP clients and both server modes; and, for Happy
Eyeballs, an address that never answers next to one that does.

Every test is bounded in time, runs on 127.0.0.1 and ::1 where the family matters (the
``loopback_host`` fixture skips ::1 where it cannot be bound) and leaves no thread or
descriptor behind (the ``baseline`` fixture). Select with ``-m integration``.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import netbasics
from faults import RelayStats, TcpRelay, UdpRelay, blackhole
from leaks import settle
from netbasics import (
    ConnectionClosed,
    Endpoint,
    LengthPrefixFramer,
    LineFramer,
    NetTimeoutError,
    StreamConnection,
    TCPServer,
    UDPServer,
)
from netbasics import resolver as resolver_module
from netbasics._io.happy_eyeballs import ATTEMPT_DELAY
from netbasics.framing import Framer
from netbasics.testing import echo_handler, ipv6_loopback_available, udp_echo_handler
from netbasics.udp import Datagram, Reply

pytestmark = [pytest.mark.integration, pytest.mark.timeout(30)]

# A deadline "fires within timeout + 100 ms"; SO_RCVTIMEO counts in jiffies, so it may
# also fire a hair early.
SLACK = 0.1
EARLY = 0.02

FRAMERS = [pytest.param(LineFramer, id="lines"), pytest.param(LengthPrefixFramer, id="length-prefix")]


def udp_echo(host: str) -> UDPServer:
    return UDPServer((host, 0), udp_echo_handler)


def tcp_echo(host: str) -> TCPServer:
    return TCPServer((host, 0), echo_handler, idle_timeout=10.0)


class Watch:
    """Records what must not happen on a server: records above DEBUG on ``netbasics``, and
    exceptions that reach ``threading.excepthook`` (a dying thread)."""

    def __init__(self, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
        self.caplog = caplog
        self.hooked: list[threading.ExceptHookArgs] = []
        monkeypatch.setattr(threading, "excepthook", self.hooked.append)
        caplog.set_level(logging.DEBUG, logger="netbasics")

    def loud(self) -> list[str]:
        records = [r for r in self.caplog.records if r.name.startswith("netbasics") and r.levelno > logging.DEBUG]
        return [r.getMessage() for r in records] + [f"excepthook: {h.exc_value!r}" for h in self.hooked]

    def tracebacks(self) -> list[logging.LogRecord]:
        return [r for r in self.caplog.records if r.name.startswith("netbasics") and r.exc_info]


@pytest.fixture
def watch(caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> Watch:
    return Watch(caplog, monkeypatch)


# --- the relay itself ---------------------------------------------------------------------


def test_udp_relay_faults_are_reproducible_from_the_seed(baseline: None) -> None:
    def run(seed: int) -> tuple[list[bytes], RelayStats]:
        with (
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sink,
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as source,
        ):
            sink.bind(("127.0.0.1", 0))
            with UdpRelay(Endpoint.from_sockaddr(sink.getsockname()), drop=0.3, duplicate=0.3, seed=seed) as relay:
                for i in range(60):
                    source.sendto(b"%d" % i, relay.endpoint.sockaddr)
                stats = relay.stats
                assert settle(lambda: stats.dropped + stats.up == 60 + stats.duplicated)
            sink.settimeout(0.05)
            got = []
            with contextlib.suppress(TimeoutError):
                while True:
                    got.append(sink.recv(100))
            return got, stats

    (first, stats), (second, _), (other, _) = run(7), run(7), run(8)
    # The seed fixes which datagrams are dropped and which are copied; a copy goes out
    # dup_gap after its original, so where it lands among later datagrams depends on how
    # fast the sender was (slower under coverage): compare what arrived, not the order.
    assert sorted(first) == sorted(second)
    assert sorted(first) != sorted(other)
    assert 0 < stats.dropped < 60
    assert stats.duplicated > 0
    assert len(first) == stats.up == 60 - stats.dropped + stats.duplicated


def test_tcp_relay_splits_writes_into_one_byte_reads(loopback_host: str, baseline: None) -> None:
    with (
        tcp_echo(loopback_host) as server,
        TcpRelay(server.endpoint, split=True, split_pause=0.05, direction="down") as relay,
    ):
        with socket.create_connection(relay.endpoint.sockaddr[:2], timeout=5) as sock:
            sock.sendall(b"abcd")
            reads = [sock.recv(100) for _ in range(4)]
        assert reads == [b"a", b"b", b"c", b"d"]
        assert settle(lambda: relay.stats.up == relay.stats.down == 4), relay.stats


def test_relays_close_everything_with_traffic_in_flight(loopback_host: str, baseline: None) -> None:
    with (
        tcp_echo(loopback_host) as tcp_server,
        udp_echo(loopback_host) as udp_server,
        TcpRelay(tcp_server.endpoint, stall_after=0, stall_for=None) as tcp_relay,
        UdpRelay(udp_server.endpoint, delay=30.0) as udp_relay,
    ):
        conn = netbasics.connect_tcp(tcp_relay.endpoint, timeout=5)
        conn.send_all(b"stuck forever\n")
        with netbasics.open_udp(connect=udp_relay.endpoint) as udp:
            udp.send(b"late")
            assert settle(lambda: tcp_relay.stats.stalls == 1)
            assert tcp_relay.active == 1
        tcp_relay.close()  # the relay's sockets go; ours sees the end of the stream
        assert conn.recv(timeout=2) == b""
        conn.close()
    assert tcp_relay.stats.up == tcp_relay.stats.down == 0
    assert udp_relay.stats.up == 0


def test_tcp_relay_reset_reaches_both_peers(loopback_host: str, baseline: None) -> None:
    with socket.create_server((loopback_host, 0), family=_family(loopback_host)) as listener:
        target = Endpoint.from_sockaddr(listener.getsockname())
        with TcpRelay(target, reset_after=3, direction="up") as relay:
            with socket.create_connection(relay.endpoint.sockaddr[:2], timeout=5) as client:
                server, _ = listener.accept()
                with server:
                    server.settimeout(5)
                    client.sendall(b"abcdef")
                    assert server.recv(100) == b"abc"
                    with pytest.raises(ConnectionResetError):
                        server.recv(100)
                    with pytest.raises(ConnectionResetError):
                        client.recv(100)
            assert relay.stats.resets == 1


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


# --- udp_request under loss, duplication, reordering and forgery -------------------------


def test_udp_request_succeeds_under_30_percent_loss(loopback_host: str, baseline: None) -> None:
    # 30% loss each way: an attempt succeeds with probability 0.49. With 16 attempts a
    # request fails with probability 0.51**16 (2e-5); the seed makes the run repeatable.
    with udp_echo(loopback_host) as server, UdpRelay(server.endpoint, drop=0.3, seed=19) as relay:
        for i in range(100):
            payload = b"request %d" % i
            reply = netbasics.udp_request(relay.endpoint, payload, timeout=0.02, retries=15, backoff=1.2)
            assert reply.data == payload
            assert reply.sender == relay.endpoint
        stats = relay.stats
    sent = stats.up + stats.down + stats.dropped
    assert 0.2 < stats.dropped / sent < 0.4, stats
    assert stats.up > 100  # requests were resent


def test_udp_request_returns_its_own_reply_under_duplication_and_reordering(loopback_host: str, baseline: None) -> None:
    # Copies of replies, some held back past an attempt's timeout, arrive while later
    # attempts wait. Every call has its own socket (its own port), so a late reply to an
    # earlier call never reaches a later one, even without an ``accept`` check.
    with (
        udp_echo(loopback_host) as server,
        UdpRelay(server.endpoint, duplicate=0.5, reorder=0.5, reorder_delay=0.03, jitter=0.005, seed=5) as relay,
    ):
        for i in range(60):
            payload = b"id=%d" % i
            assert netbasics.udp_request(relay.endpoint, payload, timeout=0.02, retries=8).data == payload
        stats = relay.stats
    assert stats.duplicated > 0
    assert stats.reordered > 0


def test_udp_request_accept_skips_replies_to_other_requests(loopback_host: str, baseline: None) -> None:
    # The server answers every request twice: a reply that belongs to another request,
    # then the right one; the relay duplicates and reorders both.
    def confused(datagram: Datagram, reply: Reply) -> None:
        reply(b"id=other")
        reply(datagram.data)

    with (
        UDPServer((loopback_host, 0), confused) as server,
        UdpRelay(server.endpoint, duplicate=0.3, reorder=0.5, reorder_delay=0.01, seed=11) as relay,
    ):
        for i in range(40):
            payload = b"id=%d" % i

            def matches(answer: Datagram, wanted: bytes = payload) -> bool:
                return answer.data == wanted

            reply = netbasics.udp_request(relay.endpoint, payload, timeout=0.5, retries=2, accept=matches)
            assert reply.data == payload
        assert relay.stats.reordered > 0


def test_udp_request_ignores_a_datagram_from_another_source(loopback_host: str, baseline: None) -> None:
    # Before each real reply, a stranger (the relay's address, another port) sends the
    # client a forged one. It arrives first, and must not be taken as the reply.
    with udp_echo(loopback_host) as server, UdpRelay(server.endpoint, forge=True, delay=0.002) as relay:
        for i in range(20):
            payload = b"genuine %d" % i
            reply = netbasics.udp_request(relay.endpoint, payload, timeout=1.0, retries=0)
            assert reply.data == payload
            assert reply.sender == relay.endpoint
        assert relay.stats.forged == 20


def test_udp_request_gives_up_on_time_when_everything_is_lost(loopback_host: str, baseline: None) -> None:
    with udp_echo(loopback_host) as server, UdpRelay(server.endpoint, drop=1.0) as relay:
        started = time.monotonic()
        with pytest.raises(NetTimeoutError):
            netbasics.udp_request(relay.endpoint, b"void", timeout=0.05, retries=2, backoff=2.0)
        elapsed = time.monotonic() - started
        assert relay.stats.dropped == 3
    assert 0.35 - EARLY <= elapsed < 0.35 + SLACK, elapsed


# --- TCP clients under 1-byte splits, stalls and resets ----------------------------------


def test_client_reads_keep_their_framing_under_one_byte_splits(loopback_host: str, baseline: None) -> None:
    lengths = LengthPrefixFramer()
    stream = (
        b"alpha\nbeta\r\n"
        + b"exactly"
        + lengths.encode(b"framed message")
        + lengths.encode(b"")
        + lengths.encode(b"x" * 20)
        + b"gamma\n"
    )
    with (
        tcp_echo(loopback_host) as server,
        TcpRelay(server.endpoint, split=True, direction="down") as relay,
        netbasics.connect_tcp(relay.endpoint, timeout=5) as conn,
    ):
        conn.send_all(stream)
        assert conn.recv_until(b"\n") == b"alpha\n"
        assert conn.recv_until(b"\r\n") == b"beta\r\n"
        assert conn.recv_exactly(7) == b"exactly"
        assert conn.recv_message(lengths) == b"framed message"
        assert conn.recv_message(lengths) == b""
        assert conn.recv_message(lengths) == b"x" * 20
        assert conn.recv_message(LineFramer()) == b"gamma"
        assert settle(lambda: relay.stats.down == len(stream)), relay.stats


@pytest.mark.parametrize("make", FRAMERS)
def test_threaded_server_keeps_framing_under_one_byte_splits(
    loopback_host: str, baseline: None, watch: Watch, make: Callable[[], Framer]
) -> None:
    def shout(conn: StreamConnection) -> None:
        framer = make()
        for message in conn.messages(framer):
            conn.send_message(message.upper(), framer)

    check_server_under_splits(TCPServer((loopback_host, 0), shout, idle_timeout=10.0), make)
    assert watch.loud() == []


@pytest.mark.parametrize("make", FRAMERS)
def test_message_server_keeps_framing_under_one_byte_splits(
    loopback_host: str, baseline: None, watch: Watch, make: Callable[[], Framer]
) -> None:
    server = TCPServer.for_messages((loopback_host, 0), lambda m, peer: m.upper(), framer=make(), idle_timeout=10.0)
    check_server_under_splits(server, make)
    assert watch.loud() == []


def check_server_under_splits(server: TCPServer, make: Callable[[], Framer]) -> None:
    framer = make()
    messages = [b"one", b"", b"three and more", b"four"]
    with (
        server,
        TcpRelay(server.endpoint, split=True, direction="up") as relay,
        netbasics.connect_tcp(relay.endpoint, timeout=5) as conn,
    ):
        conn.send_all(b"".join(framer.encode(m) for m in messages))
        assert [conn.recv_message(framer) for _ in messages] == [m.upper() for m in messages]
        assert settle(lambda: relay.stats.up == sum(len(framer.encode(m)) for m in messages)), relay.stats


@contextlib.contextmanager
def reset_after_four(host: str) -> Iterator[tuple[TcpRelay, StreamConnection]]:
    """A client connected to an echo server through a relay that resets it after 4 bytes from the server."""
    with (
        tcp_echo(host) as server,
        TcpRelay(server.endpoint, reset_after=4, direction="down") as relay,
        netbasics.connect_tcp(relay.endpoint, timeout=5) as conn,
    ):
        yield relay, conn


READERS: list[Any] = [
    pytest.param(lambda conn, **kw: conn.recv_until(b"\n", **kw), b"hello\n", id="recv_until"),
    pytest.param(lambda conn, **kw: conn.recv_exactly(6, **kw), b"hello\n", id="recv_exactly"),
    pytest.param(
        lambda conn, **kw: conn.recv_message(LengthPrefixFramer(), **kw),
        LengthPrefixFramer().encode(b"hello"),
        id="recv_message",
    ),
]


@pytest.mark.parametrize(("read", "data"), READERS)
@pytest.mark.parametrize("given", ["call", "connection"])
def test_client_deadline_fires_on_time_during_a_stall(
    loopback_host: str, baseline: None, read: Callable[..., bytes], data: bytes, given: str
) -> None:
    timeout = 0.3
    with (
        tcp_echo(loopback_host) as server,
        TcpRelay(server.endpoint, stall_after=3, direction="down") as relay,
        netbasics.connect_tcp(relay.endpoint, timeout=timeout if given == "connection" else 5.0) as conn,
    ):
        conn.send_all(data)
        started = time.monotonic()
        with pytest.raises(NetTimeoutError):
            read(conn) if given == "connection" else read(conn, timeout=timeout)
        elapsed = time.monotonic() - started
        assert relay.stats.stalls == 1
    assert timeout - EARLY <= elapsed < timeout + SLACK, elapsed


@pytest.mark.parametrize("given", ["call", "connection"])
def test_client_send_deadline_fires_on_time_during_a_stall(loopback_host: str, baseline: None, given: str) -> None:
    # The relay stops forwarding at once and stops reading after 1 MiB; the socket
    # buffers fill up and send_all must give up at its deadline.
    timeout = 0.3
    with (
        tcp_echo(loopback_host) as server,
        TcpRelay(server.endpoint, stall_after=0, direction="up") as relay,
        netbasics.connect_tcp(relay.endpoint, timeout=timeout if given == "connection" else 5.0) as conn,
    ):
        data = b"x" * (64 << 20)
        started = time.monotonic()
        with pytest.raises(NetTimeoutError):
            conn.send_all(data) if given == "connection" else conn.send_all(data, timeout=timeout)
        elapsed = time.monotonic() - started
        assert relay.stats.up == 0
    assert timeout - EARLY <= elapsed < timeout + SLACK, elapsed


def test_client_read_survives_a_stall_shorter_than_its_deadline(loopback_host: str, baseline: None) -> None:
    with (
        tcp_echo(loopback_host) as server,
        TcpRelay(server.endpoint, stall_after=2, stall_for=0.2, direction="down") as relay,
        netbasics.connect_tcp(relay.endpoint, timeout=2.0) as conn,
    ):
        conn.send_all(b"resumed\n")
        started = time.monotonic()
        assert conn.recv_until(b"\n") == b"resumed\n"
        assert time.monotonic() - started >= 0.2 - EARLY
        assert relay.stats.stalls == 1


@pytest.mark.parametrize(("read", "data"), READERS)
def test_client_keeps_partial_bytes_when_reset_mid_message(
    loopback_host: str, baseline: None, read: Callable[..., bytes], data: bytes
) -> None:
    with reset_after_four(loopback_host) as (relay, conn):
        conn.send_all(data)
        with pytest.raises(ConnectionClosed) as info:
            read(conn)
        assert relay.stats.resets == 1
    assert info.value.partial == data[:4]


@pytest.mark.parametrize(("read", "data"), READERS)
def test_client_sees_connection_closed_when_reset_mid_message(
    loopback_host: str, baseline: None, read: Callable[..., bytes], data: bytes
) -> None:
    with reset_after_four(loopback_host) as (relay, conn):
        conn.send_all(data)
        started = time.monotonic()
        with pytest.raises(ConnectionClosed):
            read(conn)
        assert time.monotonic() - started < 1.0  # the reset, not the 5 s timeout
        assert relay.stats.resets == 1


def test_reset_error_names_the_peer(loopback_host: str, baseline: None) -> None:
    with reset_after_four(loopback_host) as (relay, conn):
        conn.send_all(b"hello\n")
        with pytest.raises(ConnectionClosed) as info:
            conn.recv_until(b"\n")
    assert str(relay.endpoint) in str(info.value)


def test_reset_error_names_the_peer_aio(loopback_host: str, baseline: None) -> None:
    import asyncio

    from netbasics import aio

    async def main(target: netbasics.Endpoint) -> BaseException:
        conn = await aio.connect_tcp(target, timeout=5)
        try:
            await conn.send_all(b"hello\n")
            with pytest.raises(ConnectionClosed) as info:
                await conn.recv_until(b"\n")
            return info.value
        finally:
            conn.close()

    with tcp_echo(loopback_host) as server, TcpRelay(server.endpoint, reset_after=4, direction="down") as relay:
        error = asyncio.run(main(relay.endpoint))
    assert str(relay.endpoint) in str(error)


def test_server_side_reset_error_names_the_client(loopback_host: str, baseline: None) -> None:
    seen: list[BaseException] = []
    done = threading.Event()

    def handler(conn: StreamConnection) -> None:
        try:
            conn.recv_until(b"\n")
        except BaseException as exc:
            seen.append(exc)
        finally:
            done.set()

    with TCPServer((loopback_host, 0), handler) as server:
        client = socket.create_connection((loopback_host, server.endpoint.port), timeout=5)
        local = netbasics.Endpoint.from_sockaddr(client.getsockname())
        client.sendall(b"partial")
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        client.close()  # linger 0: a reset
        assert done.wait(5)
    assert len(seen) == 1
    assert isinstance(seen[0], ConnectionClosed)
    assert str(local) in str(seen[0])


# --- both server modes under stalls and resets -------------------------------------------


def test_threaded_server_read_deadline_fires_on_time_during_a_stall(
    loopback_host: str, baseline: None, watch: Watch
) -> None:
    idle = 0.3
    seen: list[tuple[type[BaseException], float]] = []

    def handler(conn: StreamConnection) -> None:
        started = time.monotonic()
        try:
            conn.recv_until(b"\n")
        except BaseException as exc:
            seen.append((type(exc), time.monotonic() - started))
            raise

    with (
        TCPServer((loopback_host, 0), handler, idle_timeout=idle) as server,
        TcpRelay(server.endpoint, stall_after=3, direction="up") as relay,
        netbasics.connect_tcp(relay.endpoint, timeout=5) as conn,
    ):
        conn.send_all(b"hello\n")
        assert conn.recv(timeout=idle + 1.0) == b""  # the server gave up and closed
        assert settle(lambda: server.active_connections == 0)
    [(kind, elapsed)] = seen
    assert kind is NetTimeoutError
    assert idle - EARLY <= elapsed < idle + SLACK, elapsed
    assert watch.loud() == []


@pytest.mark.parametrize("make", FRAMERS)
def test_message_server_idle_deadline_fires_on_time_during_a_stall(
    loopback_host: str, baseline: None, watch: Watch, make: Callable[[], Framer]
) -> None:
    idle = 0.3
    framer = make()
    with (
        TCPServer.for_messages((loopback_host, 0), lambda m, peer: m, framer=make(), idle_timeout=idle) as server,
        TcpRelay(server.endpoint, stall_after=3, direction="up") as relay,
    ):
        started = time.monotonic()  # the server's clock starts a little later, at its accept
        with netbasics.connect_tcp(relay.endpoint, timeout=5) as conn:
            conn.send_all(framer.encode(b"first") + framer.encode(b"second"))
            assert conn.recv(timeout=idle + 1.0) == b""
            elapsed = time.monotonic() - started
        assert relay.stats.up == 3
    assert idle - EARLY <= elapsed < idle + SLACK, elapsed
    assert watch.loud() == []


def test_threaded_server_logs_no_traceback_when_reset_mid_message(
    loopback_host: str, baseline: None, watch: Watch, capfd: pytest.CaptureFixture[str]
) -> None:
    errors: list[BaseException] = []

    def handler(conn: StreamConnection) -> None:
        try:
            conn.recv_until(b"\n")
        except BaseException as exc:
            errors.append(exc)
            raise

    with TCPServer((loopback_host, 0), handler, idle_timeout=5.0) as server:
        reset_mid_message(server, b"hello world\n")
        assert settle(lambda: len(errors) == 3)
    assert all(isinstance(e, ConnectionClosed) for e in errors), errors
    assert watch.loud() == []
    assert watch.tracebacks() == []
    assert "Traceback" not in capfd.readouterr().err


@pytest.mark.parametrize("make", FRAMERS)
def test_message_server_logs_no_traceback_when_reset_mid_message(
    loopback_host: str, baseline: None, watch: Watch, make: Callable[[], Framer], capfd: pytest.CaptureFixture[str]
) -> None:
    framer = make()
    with TCPServer.for_messages((loopback_host, 0), lambda m, peer: m, framer=make(), idle_timeout=5.0) as server:
        reset_mid_message(server, framer.encode(b"hello world"))
        with netbasics.connect_tcp(server.endpoint, timeout=5) as conn:  # still serving
            conn.send_message(b"after", framer)
            assert conn.recv_message(framer) == b"after"
    assert watch.loud() == []
    assert watch.tracebacks() == []
    assert "Traceback" not in capfd.readouterr().err


def reset_mid_message(server: TCPServer, message: bytes) -> None:
    """Three clients whose message is cut by a reset after 1, 3 and 5 bytes."""
    for cut in (1, 3, 5):
        with TcpRelay(server.endpoint, reset_after=cut, direction="up") as relay:
            with netbasics.connect_tcp(relay.endpoint, timeout=5) as conn:
                conn.send_all(message)
                with pytest.raises(ConnectionClosed):
                    conn.recv_exactly(1)
            assert relay.stats.resets == 1
            assert relay.stats.up == cut
        assert settle(lambda: server.active_connections == 0)


def test_threaded_server_handler_keeps_partial_bytes_when_reset_mid_message(loopback_host: str, baseline: None) -> None:
    partials: list[bytes] = []

    def handler(conn: StreamConnection) -> None:
        try:
            conn.recv_until(b"\n")
        except ConnectionClosed as exc:
            partials.append(exc.partial)

    with (
        TCPServer((loopback_host, 0), handler, idle_timeout=5.0) as server,
        TcpRelay(server.endpoint, reset_after=5, direction="up") as relay,
        netbasics.connect_tcp(relay.endpoint, timeout=5) as conn,
    ):
        conn.send_all(b"hello world\n")
        assert settle(lambda: len(partials) == 1)
    assert partials == [b"hello"]


# --- Happy Eyeballs past an address that never answers -----------------------------------
#
# A relay cannot make a TCP connect hang: the kernel completes the handshake before
# accept() returns. An address that never answers a SYN on loopback is a listener whose
# accept queue is full (``faults.blackhole``): Linux drops further SYNs, and the connect
# stays pending as it would towards a firewalled address.


@pytest.fixture
def fake_names(monkeypatch: pytest.MonkeyPatch) -> Callable[[str, list[Endpoint]], dict[str, Any]]:
    """Make a name resolve to chosen endpoints; returns the keywords to pass to ``connect_tcp``.

    The one place this file stubs name resolution: today ``resolver._getaddrinfo``; once
    ``connect_tcp`` takes ``resolver=``, that keyword (the stub stays harmless until then).
    """
    names: dict[str, list[Endpoint]] = {}

    def fake(
        host: str, port: object, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0
    ) -> list[tuple[int, int, int, str, tuple[Any, ...]]]:
        if host not in names:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (socket.AF_INET6 if ep.version == 6 else socket.AF_INET, socket.SOCK_STREAM, 6, "", ep.sockaddr)
            for ep in names[host]
            if family in (0, socket.AF_UNSPEC) or family == (socket.AF_INET6 if ep.version == 6 else socket.AF_INET)
        ]

    if hasattr(resolver_module, "_getaddrinfo"):
        monkeypatch.setattr(resolver_module, "_getaddrinfo", fake)
    takes_resolver = "resolver" in inspect.signature(netbasics.connect_tcp).parameters

    def define(name: str, endpoints: list[Endpoint]) -> dict[str, Any]:
        names[name] = endpoints
        return {"resolver": fake} if takes_resolver else {}

    return define


HOSTS = [
    pytest.param("127.0.0.1", "127.0.0.1", id="dead-v4-live-v4"),
    pytest.param("::1", "127.0.0.1", id="dead-v6-live-v4"),
    pytest.param("127.0.0.1", "::1", id="dead-v4-live-v6"),
    pytest.param("::1", "::1", id="dead-v6-live-v6"),
]


@pytest.mark.parametrize(("dead", "live"), HOSTS)
@pytest.mark.parametrize("delay", [ATTEMPT_DELAY, 0.1])
def test_happy_eyeballs_connects_past_an_address_that_never_answers(
    fake_names: Callable[[str, list[Endpoint]], dict[str, Any]], baseline: None, dead: str, live: str, delay: float
) -> None:
    if "::1" in (dead, live) and not ipv6_loopback_available():
        pytest.skip("IPv6 loopback ::1 cannot be bound on this machine")
    with blackhole(dead) as silent, socket.create_server((live, 0), family=_family(live)) as listener:
        working = Endpoint.from_sockaddr(listener.getsockname())
        extra = fake_names("service.test", [silent, working])
        started = time.monotonic()
        with netbasics.connect_tcp(
            f"service.test:{working.port}", connect_timeout=5, attempt_delay=delay, **extra
        ) as conn:
            elapsed = time.monotonic() - started
            assert conn.remote == working
        listener.accept()[0].close()
    assert delay - EARLY <= elapsed < delay + SLACK, elapsed


def test_fake_names_resolve_only_what_was_defined(
    fake_names: Callable[[str, list[Endpoint]], dict[str, Any]], baseline: None
) -> None:
    extra = fake_names("known.test", [Endpoint("127.0.0.1", 9)])
    with pytest.raises(netbasics.ResolveError):
        netbasics.connect_tcp("unknown.test:9", connect_timeout=1, **extra)
