"""Integration tests for netbasics.udp on loopback (127.0.0.1 and ::1), against real peers.

Peers are our own sockets and servers, and ``socat`` (``UDP-LISTEN`` as an echo server,
``socat - UDP:`` as a client); socat tests are skipped with the reason when the binary
is missing. Every test runs twice, once for each server loop: ``batched`` (Linux
recvmmsg/sendmmsg, the default with one worker) and ``plain`` (one datagram per system
call: other systems, more workers, or ``NETBASICS_NO_MMSG=1``). Every blocking call has
a timeout, every server is stopped, and an autouse fixture checks that no thread or file
descriptor is left behind. Broadcast and multicast
stay on the loopback interface and are skipped, with the reason, where the kernel does
not allow them there.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import logging
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator

import pytest

import netbasics
from netbasics import _udp_fixtures, udp
from netbasics._io import mmsg as _mmsg
from netbasics.addresses import IPv4Address
from netbasics.endpoints import Endpoint
from netbasics.errors import (
    BindError,
    ConnectError,
    DatagramTooLarge,
    NetbasicsError,
    NetTimeoutError,
)
from netbasics.safety import UnsafeDestination
from netbasics.udp import MAX_UDP_PAYLOAD_IPV4, MAX_UDP_PAYLOAD_IPV6, Datagram, UDPServer

pytestmark = pytest.mark.integration

# The fixtures netbasics.testing will export, used here under their own names.
udp_echo_server = _udp_fixtures.udp_echo_server
udp_echo_server_v6 = _udp_fixtures.udp_echo_server_v6

SOCAT = shutil.which("socat")
needs_socat = pytest.mark.skipif(SOCAT is None, reason="socat is not installed (apt-get install socat)")
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux-specific kernel behaviour")

LOOPBACK = {4: "127.0.0.1", 6: "::1"}
# IP_RECVERR from <linux/in.h>; the socket module does not export it.
IP_RECVERR = 11


def _host(family: int) -> str:
    return LOOPBACK[family] if family == 4 else f"[{LOOPBACK[family]}]"


@pytest.fixture(autouse=True, params=["batched", "plain"])
def io_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Which UDPServer loop servers created in the test use (read when a server is created)."""
    path: str = request.param
    if path == "batched":
        monkeypatch.delenv(_mmsg.ENV_SWITCH, raising=False)
        if not _mmsg.available():  # pragma: no cover - Linux
            pytest.skip("recvmmsg/sendmmsg not available here")
    else:
        monkeypatch.setenv(_mmsg.ENV_SWITCH, "1")
    return path


def _open_fds() -> int | None:
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:  # pragma: no cover - not Linux
        return None


@pytest.fixture(autouse=True)
def no_leaks() -> Iterator[None]:
    """Fail the test if it leaves a server thread or a file descriptor behind."""
    fds = _open_fds()
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        extra = [t for t in threading.enumerate() if t not in before and t.name.startswith("UDPServer")]
        if not extra:
            break
        time.sleep(0.01)
    assert not extra, f"threads left running: {extra}"
    if fds is not None:
        assert _open_fds() == fds, "file descriptors leaked"


def _bound(family: int, timeout: float = 2.0) -> udp.UDPSocket:
    return netbasics.open_udp(bind=f"{_host(family)}:0", timeout=timeout)


def _free_port(family: int) -> int:
    af = socket.AF_INET if family == 4 else socket.AF_INET6
    with socket.socket(af, socket.SOCK_DGRAM) as probe:
        probe.bind((LOOPBACK[family], 0))
        port: int = probe.getsockname()[1]
    return port


def server_threads(server: UDPServer) -> list[threading.Thread]:
    """The server's threads still alive: the serving thread and its workers, found by their names."""
    name = server.name
    return [t for t in threading.enumerate() if t.name == name or t.name.startswith(f"{name} worker")]


def _wait_for(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.005)
    return predicate()


# -- sockets talking to sockets -----------------------------------------------------------


def test_send_to_and_recv_from(family: int) -> None:
    with _bound(family) as a, _bound(family) as b:
        b.send_to(b"hello", a.local)
        got = a.recv_from()
        assert got == Datagram(b"hello", b.local)
        a.send_to(b"", got.sender)  # empty datagrams are datagrams too
        assert b.recv_from().data == b""
        assert a.local.version == family


def test_connected_send_recv(family: int) -> None:
    with _bound(family) as a, netbasics.open_udp(connect=a.local, timeout=2.0) as b:
        assert b.remote == a.local
        assert "remote=" in repr(b)
        b.send(b"ping")
        d = a.recv_from()
        a.send_to(b"pong", d.sender)
        assert b.recv() == b"pong"


def test_names_resolve_to_loopback() -> None:
    with (
        netbasics.open_udp(bind="localhost:0", family=4, timeout=2.0) as a,
        netbasics.open_udp(family=4, timeout=2.0) as b,
    ):
        b.send_to(b"x", ("localhost", a.local.port))
        assert a.recv_from().data == b"x"


def test_ipv4_target_from_dual_stack_ipv6_socket() -> None:
    if _udp_fixtures.ipv6_loopback_problem() is not None:
        pytest.skip("IPv6 loopback unavailable")
    with _bound(4) as a, netbasics.open_udp(family=6, timeout=2.0) as b:
        b.send_to(b"mapped", a.local)  # sent to ::ffff:127.0.0.1
        assert a.recv_from().data == b"mapped"


@pytest.mark.parametrize("size", [0, 1, 1400, 8193, 65000])
def test_sizes_round_trip(family: int, size: int) -> None:
    payload = bytes(range(256)) * (size // 256) + bytes(size % 256)
    with _bound(family) as a, _bound(family) as b:
        b.send_to(payload, a.local)
        assert a.recv_from().data == payload


def test_maximum_size_datagrams(family: int) -> None:
    limit = MAX_UDP_PAYLOAD_IPV4 if family == 4 else MAX_UDP_PAYLOAD_IPV6
    payload = bytes(i % 251 for i in range(limit))
    with _bound(family) as a, _bound(family) as b:
        b.send_to(payload, a.local)
        got = a.recv_from()
        assert len(got) == limit
        assert got.data == payload
        with pytest.raises(DatagramTooLarge):
            b.send_to(payload + b"!", a.local)


def test_truncated_receive_is_reported(family: int) -> None:
    with _bound(family) as a, _bound(family) as b:
        b.send_to(b"x" * 5000, a.local)
        with pytest.raises(DatagramTooLarge, match=r"larger than the receive buffer of 100 bytes") as info:
            a.recv_from(100)
        assert str(b.local) in str(info.value)
        if sys.platform.startswith("linux"):
            assert "was 5000 bytes" in str(info.value)  # MSG_TRUNC gives the real size
        # Exactly max_bytes fits; the socket is still usable.
        b.send_to(b"y" * 100, a.local)
        assert a.recv_from(100).data == b"y" * 100


def test_recv_timeout(family: int) -> None:
    with _bound(family, timeout=0.05) as a:
        start = time.monotonic()
        with pytest.raises(NetTimeoutError, match=r"timed out after 0\.05 s") as info:
            a.recv_from()
        assert isinstance(info.value, TimeoutError)
        assert time.monotonic() - start < 1.0


@linux_only
def test_connected_recv_reports_port_unreachable(family: int) -> None:
    port = _free_port(family)
    with netbasics.open_udp(connect=f"{_host(family)}:{port}", timeout=2.0) as sock:
        sock.send(b"anyone?")
        with pytest.raises(ConnectError, match="ICMP port unreachable"):
            sock.recv()


def test_bind_in_use_is_a_bind_error(family: int) -> None:
    with _bound(family) as a, pytest.raises(BindError):
        netbasics.open_udp(bind=a.local)


# -- the server ----------------------------------------------------------------------------


def test_echo_fixture_v4(udp_echo_server: UDPServer) -> None:
    assert udp_echo_server.endpoint.address == IPv4Address("127.0.0.1")
    assert netbasics.udp_request(udp_echo_server.endpoint, b"abc", timeout=2.0).data == b"abc"


def test_echo_fixture_v6(udp_echo_server_v6: UDPServer) -> None:
    assert udp_echo_server_v6.endpoint.version == 6
    assert netbasics.udp_request(udp_echo_server_v6.endpoint, b"abc", timeout=2.0).data == b"abc"


def test_server_echoes_maximum_size(family: int) -> None:
    limit = MAX_UDP_PAYLOAD_IPV4 if family == 4 else MAX_UDP_PAYLOAD_IPV6
    payload = os.urandom(limit)
    with UDPServer(f"{_host(family)}:0", _udp_fixtures.udp_echo_handler) as server:
        got = netbasics.udp_request(server.endpoint, payload, timeout=2.0)
    assert got.data == payload  # all of it: not cut to 8,192 bytes like socketserver


def test_server_drops_oversized_and_logs(family: int, caplog: pytest.LogCaptureFixture) -> None:
    echo = _udp_fixtures.udp_echo_handler
    with UDPServer(f"{_host(family)}:0", echo, max_datagram=100) as server, _bound(family) as c:
        c.send_to(b"x" * 101, server.endpoint)
        c.send_to(b"y" * 100, server.endpoint)
        assert c.recv_from().data == b"y" * 100  # only the one that fits comes back
    warnings = [r for r in caplog.records if r.name == "netbasics" and r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "larger than the receive buffer of 100 bytes" in warnings[0].getMessage()
    if sys.platform.startswith("linux"):
        assert "101 bytes" in warnings[0].getMessage()


def test_handler_exception_is_logged_and_server_continues(caplog: pytest.LogCaptureFixture) -> None:
    def handler(d: Datagram, reply: netbasics.Reply) -> None:
        if d.data == b"boom":
            raise RuntimeError("handler exploded")
        reply(d.data)

    with UDPServer("127.0.0.1:0", handler) as server, netbasics.open_udp(connect=server.endpoint, timeout=2.0) as c:
        c.send(b"boom")
        c.send(b"still here")
        assert c.recv() == b"still here"
    errors = [r for r in caplog.records if r.name == "netbasics" and r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "handler failed" in errors[0].getMessage()
    assert errors[0].exc_info is not None
    assert "handler exploded" in str(errors[0].exc_info[1])


def test_reply_errors_reach_the_handler() -> None:
    seen: list[BaseException] = []

    def handler(d: Datagram, reply: netbasics.Reply) -> None:
        try:
            reply(b"x" * (MAX_UDP_PAYLOAD_IPV4 + 1))
        except DatagramTooLarge as exc:
            seen.append(exc)
        reply(b"ok")

    with UDPServer("127.0.0.1:0", handler) as server:
        assert netbasics.udp_request(server.endpoint, b"?", timeout=2.0).data == b"ok"
    assert len(seen) == 1
    assert "65508 bytes" in str(seen[0])


def _require_icmp_errors() -> None:
    """Skip unless an unconnected socket with IP_RECVERR reports ICMP port unreachable here.

    With IP_RECVERR an unconnected Linux socket reports an ICMP port unreachable for an
    earlier send as ConnectionRefusedError on its next receive (or send).
    """
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.setsockopt(socket.IPPROTO_IP, IP_RECVERR, 1)
        probe.settimeout(2.0)
        probe.sendto(b"x", ("127.0.0.1", _free_port(4)))
        try:
            probe.recvfrom(10)
        except ConnectionRefusedError:
            pass
        except OSError as exc:  # pragma: no cover - depends on the kernel
            pytest.skip(f"kernel does not report ICMP errors with IP_RECVERR here: {exc}")


@linux_only
def test_icmp_port_unreachable_does_not_stop_the_server() -> None:
    # First show that the kernel reports ICMP errors here, then that the server survives them.
    _require_icmp_errors()

    replied = threading.Event()

    def late_echo(d: Datagram, reply: netbasics.Reply) -> None:
        if d.data == b"gone":
            time.sleep(0.05)  # the sender closes first, so this reply meets a closed port
            reply(b"too late")
            replied.set()
        else:
            reply(d.data)

    with UDPServer("127.0.0.1:0", late_echo) as server:
        server._sock.setsockopt(socket.IPPROTO_IP, IP_RECVERR, 1)
        with netbasics.open_udp(family=4) as gone:
            gone.send_to(b"gone", server.endpoint)
        assert replied.wait(2.0)
        time.sleep(0.1)  # let the ICMP error arrive and be reported to the server
        # The worker's receive took the error (ConnectionRefusedError) off the socket and
        # carried on; unreported, it would still be pending here (SO_ERROR 111).
        assert server._sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0
        for i in range(3):
            assert netbasics.udp_request(server.endpoint, b"%d" % i, timeout=2.0).data == b"%d" % i
        assert server.serving


def test_stop_is_prompt_and_joins_every_worker() -> None:
    with UDPServer("127.0.0.1:0", _udp_fixtures.udp_echo_handler, workers=8) as server:
        threads = server_threads(server)
        assert len(threads) == 8
        assert all(t.is_alive() for t in threads)
        start = time.monotonic()
    assert time.monotonic() - start < 1.0
    assert not any(t.is_alive() for t in threads)
    assert server._sock.fileno() == -1


def test_stop_from_inside_the_handler() -> None:
    holder: list[UDPServer] = []

    def stopper(d: Datagram, reply: netbasics.Reply) -> None:
        holder[0].stop()

    server = UDPServer("127.0.0.1:0", stopper, workers=3)
    holder.append(server)
    server.start()
    with netbasics.open_udp(family=4) as c:
        c.send_to(b"stop", server.endpoint)
    assert _wait_for(lambda: not any(t.is_alive() for t in server_threads(server)), 2.0)
    assert not server.serving


def test_serve_forever_until_stopped() -> None:
    server = UDPServer("127.0.0.1:0", _udp_fixtures.udp_echo_handler)
    runner = threading.Thread(target=server.serve_forever)
    runner.start()
    try:
        assert _wait_for(lambda: server.serving, 2.0)
        assert netbasics.udp_request(server.endpoint, b"x", timeout=2.0).data == b"x"
    finally:
        server.stop()
        runner.join(2.0)
    assert not runner.is_alive()


def test_many_servers_leave_nothing_behind() -> None:
    for _ in range(20):
        with UDPServer("127.0.0.1:0", _udp_fixtures.udp_echo_handler, workers=2) as server:
            assert netbasics.udp_request(server.endpoint, b"x", timeout=2.0).data == b"x"


def test_workers_share_the_load() -> None:
    names: set[str] = set()
    gate = threading.Barrier(4, timeout=2.0)

    def slow(d: Datagram, reply: netbasics.Reply) -> None:
        names.add(threading.current_thread().name)
        gate.wait()  # four handlers must run at the same time to pass
        reply(d.data)

    with UDPServer("127.0.0.1:0", slow, workers=4) as server, netbasics.open_udp(family=4, timeout=3.0) as c:
        for i in range(4):
            c.send_to(b"%d" % i, server.endpoint)
        assert sorted(c.recv_from().data for _ in range(4)) == [b"0", b"1", b"2", b"3"]
    assert len(names) == 4


# -- batches: datagrams queued before the server starts arrive in one recvmmsg -------------------


def _queued_server(
    family: int, handler: netbasics.DatagramHandler, sends: list[bytes], max_datagram: int = 65535
) -> tuple[UDPServer, udp.UDPSocket]:
    """A server not yet started, with ``sends`` already queued on its socket from one client.

    Started after this, a batched server takes them all with one recvmmsg call. The client
    (2 s timeout, 4 MiB receive buffer asked for) is returned for reading the replies.
    """
    server = UDPServer(f"{_host(family)}:0", handler, receive_buffer=4 << 20, max_datagram=max_datagram)
    try:
        client = netbasics.open_udp(bind=f"{_host(family)}:0", timeout=2.0, receive_buffer=4 << 20)
        for data in sends:
            client.send_to(data, server.endpoint)
    except BaseException:
        server.stop()
        raise
    return server, client


def test_server_uses_the_loop_asked_for(io_path: str) -> None:
    with UDPServer("127.0.0.1:0", _udp_fixtures.udp_echo_handler) as one:
        assert one.batches is (io_path == "batched")
        assert netbasics.udp_request(one.endpoint, b"which", timeout=2.0).data == b"which"
    with UDPServer("127.0.0.1:0", _udp_fixtures.udp_echo_handler, workers=2) as two:
        assert not two.batches  # several workers never batch: an idle one takes the next datagram


def test_batch_of_maximum_size_datagrams(family: int) -> None:
    limit = MAX_UDP_PAYLOAD_IPV4 if family == 4 else MAX_UDP_PAYLOAD_IPV6
    sends = [os.urandom(limit), b"", b"small", os.urandom(limit - 1)]
    server, client = _queued_server(family, _udp_fixtures.udp_echo_handler, sends)
    with server, client:
        got = [client.recv_from() for _ in sends]
    assert [d.data for d in got] == sends  # all of it, in order
    assert all(d.sender == server.endpoint for d in got)


def test_batch_drops_oversized_next_to_good_ones(family: int, caplog: pytest.LogCaptureFixture) -> None:
    sends = [b"a" * 100, b"b" * 101, b"c", b"d" * 5000, b""]
    server, client = _queued_server(family, _udp_fixtures.udp_echo_handler, sends, max_datagram=100)
    me = str(client.local)
    with server, client:
        assert [client.recv_from().data for _ in range(3)] == [b"a" * 100, b"c", b""]
        client.settimeout(0.1)
        with pytest.raises(NetTimeoutError):
            client.recv_from()
    warnings = [r.getMessage() for r in caplog.records if r.name == "netbasics" and r.levelno == logging.WARNING]
    assert len(warnings) == 2
    assert all("larger than the receive buffer of 100 bytes" in w for w in warnings)
    assert me in warnings[0]
    if sys.platform.startswith("linux"):
        assert "101 bytes" in warnings[0]
        assert "5000 bytes" in warnings[1]


def test_batch_replies_keep_their_order(family: int) -> None:
    def twice(d: Datagram, reply: netbasics.Reply) -> None:
        reply(d.data)
        reply(d.data + b"!")

    sends = [b"%d" % i for i in range(150)]  # more than one batch
    server, client = _queued_server(family, twice, sends)
    with server, client:
        got = [client.recv_from().data for _ in range(2 * len(sends))]
        assert got == [r for data in sends for r in (data, data + b"!")]
        assert netbasics.udp_request(server.endpoint, b"live", timeout=2.0).data == b"live"  # and then one at a time


def test_many_replies_to_one_datagram_go_out_while_the_handler_runs(family: int) -> None:
    # A handler that answers one datagram with a stream of them: the batched loop sends
    # its queue whenever a batch's worth has built up, so the queue stays bounded and the
    # peer sees the first replies before the handler is done.
    first_seen = threading.Event()

    def stream(d: Datagram, reply: netbasics.Reply) -> None:
        for i in range(200):
            reply(d.data + b"%d" % i)
        first_seen.wait(5.0)  # until the client has read a reply
        for i in range(200, 300):
            reply(d.data + b"%d" % i)

    server, client = _queued_server(family, stream, [b"a"])
    with server, client:
        got = [client.recv_from().data]
        first_seen.set()
        got += [client.recv_from().data for _ in range(299)]
    assert got == [b"a%d" % i for i in range(300)]


def test_handler_exception_in_the_middle_of_a_batch(caplog: pytest.LogCaptureFixture) -> None:
    def handler(d: Datagram, reply: netbasics.Reply) -> None:
        if d.data.startswith(b"boom"):
            reply(b"before " + d.data)  # made before the exception: still sent
            raise RuntimeError(f"handler exploded on {d.data!r}")
        reply(d.data)

    sends = [b"a", b"boom1", b"b", b"boom2", b"c"]
    server, client = _queued_server(4, handler, sends)
    with server, client:
        got = [client.recv_from().data for _ in sends]
    assert got == [b"a", b"before boom1", b"b", b"before boom2", b"c"]
    errors = [r for r in caplog.records if r.name == "netbasics" and r.levelno == logging.ERROR]
    assert len(errors) == 2
    assert all("handler failed" in r.getMessage() and r.exc_info is not None for r in errors)
    assert "boom1" in str(errors[0].exc_info[1])  # type: ignore[index]


@linux_only
def test_icmp_port_unreachable_inside_a_batch() -> None:
    # The first reply of the batch goes to a closed port; the ICMP error it causes is
    # reported on the server socket's next system call, a receive or (batched) the
    # sendmmsg carrying the other replies. Either way the others arrive.
    _require_icmp_errors()
    with netbasics.open_udp(bind="127.0.0.1:0") as gone:
        server, client = _queued_server(4, _udp_fixtures.udp_echo_handler, [])
        server._sock.setsockopt(socket.IPPROTO_IP, IP_RECVERR, 1)
        gone.send_to(b"gone", server.endpoint)
    for i in range(3):
        client.send_to(b"%d" % i, server.endpoint)
    with server, client:
        assert sorted(client.recv_from().data for _ in range(3)) == [b"0", b"1", b"2"]
        time.sleep(0.05)
        for i in range(3):
            assert netbasics.udp_request(server.endpoint, b"again %d" % i, timeout=2.0).data == b"again %d" % i
        assert server.serving


def test_reply_after_the_handler_returned_is_sent_at_once(family: int) -> None:
    kept: list[tuple[Datagram, netbasics.Reply]] = []
    got_one = threading.Event()

    def keep(d: Datagram, reply: netbasics.Reply) -> None:
        kept.append((d, reply))
        got_one.set()

    with UDPServer(f"{_host(family)}:0", keep) as server, _bound(family) as client:
        client.send_to(b"later please", server.endpoint)
        assert got_one.wait(2.0)
        datagram, reply = kept[0]
        replier = threading.Thread(target=reply, args=(b"from another thread",))
        replier.start()
        replier.join(2.0)
        assert client.recv_from().data == b"from another thread"  # not left in a queue
        reply(b"from the test")
        got = client.recv_from()
        assert (got.data, got.sender) == (b"from the test", server.endpoint)
        assert datagram.sender == client.local


def test_reply_takes_a_snapshot_of_buffers(family: int) -> None:
    seen: list[BaseException] = []

    def handler(d: Datagram, reply: netbasics.Reply) -> None:
        buf = bytearray(d.data)
        reply(buf)
        buf[:] = b"changed"  # after reply(): must not change what is sent
        reply(memoryview(b"view of " + d.data)[:11])
        try:
            reply("text")  # type: ignore[arg-type]
        except TypeError as exc:
            seen.append(exc)

    with UDPServer(f"{_host(family)}:0", handler) as server, _bound(family) as client:
        client.send_to(b"original", server.endpoint)
        assert client.recv_from().data == b"original"
        assert client.recv_from().data == b"view of ori"
    assert len(seen) == 1


def test_stop_from_a_handler_sends_its_replies() -> None:
    holder: list[UDPServer] = []

    def stopper(d: Datagram, reply: netbasics.Reply) -> None:
        reply(b"bye")
        holder[0].stop()

    server, client = _queued_server(4, stopper, [b"stop", b"never handled"])
    holder.append(server)
    with client:
        server.start()
        assert client.recv_from().data == b"bye"
        assert _wait_for(lambda: not any(t.is_alive() for t in server_threads(server)), 2.0)
        client.settimeout(0.1)
        with pytest.raises(NetTimeoutError):
            client.recv_from()  # the second datagram was not handled after stop()
    assert not server.serving
    assert server._sock.fileno() == -1


def test_stop_while_idle_is_prompt() -> None:
    server = UDPServer("127.0.0.1:0", _udp_fixtures.udp_echo_handler).start()
    time.sleep(0.05)  # blocked in its receive
    start = time.monotonic()
    server.stop()
    assert time.monotonic() - start < 1.0
    assert not any(t.is_alive() for t in server_threads(server))


def test_reply_send_errors_are_raised_or_logged(io_path: str, caplog: pytest.LogCaptureFixture) -> None:
    # After shutdown(SHUT_WR) every send from the server socket fails with EPIPE.
    seen: list[BaseException] = []
    handled = threading.Event()

    def handler(d: Datagram, reply: netbasics.Reply) -> None:
        with contextlib.suppress(OSError):
            server._sock.shutdown(socket.SHUT_WR)  # Linux reports ENOTCONN but shuts down
        try:
            reply(b"cannot")
        except NetbasicsError as exc:
            seen.append(exc)
        handled.set()

    server = UDPServer("127.0.0.1:0", handler)
    with server, netbasics.open_udp(family=4) as client:
        client.send_to(b"x", server.endpoint)
        assert handled.wait(2.0)
        time.sleep(0.05)  # let the worker finish the batch
    errors = [r.getMessage() for r in caplog.records if r.name == "netbasics" and r.levelno == logging.ERROR]
    if io_path == "batched":
        assert seen == []  # queued: the send happens after the handler has returned...
        assert len(errors) == 1  # ...so its error is logged, translated
        assert "reply not sent: send to 127.0.0.1:" in errors[0]
    else:
        assert len(seen) == 1  # sent at once: the translated error reaches the handler
        assert isinstance(seen[0].__cause__, BrokenPipeError)
        assert errors == []


# -- request/response -------------------------------------------------------------------------


def test_request_retries_past_drops(family: int) -> None:
    received = itertools.count()
    drops = 2

    def lossy(d: Datagram, reply: netbasics.Reply) -> None:
        if next(received) >= drops:  # the peer "loses" the first two datagrams
            reply(b"re:" + d.data)

    with UDPServer(f"{_host(family)}:0", lossy) as server:
        start = time.monotonic()
        got = netbasics.udp_request(server.endpoint, b"q", timeout=0.05, retries=3, backoff=2.0)
        elapsed = time.monotonic() - start
    assert got.data == b"re:q"
    assert got.sender == server.endpoint
    assert next(received) == drops + 1  # three datagrams sent: two lost, one answered
    assert 0.05 + 0.1 <= elapsed < 2.0  # waited out the first two attempts


def test_request_gives_up_in_bounded_time(family: int) -> None:
    with _bound(family) as silent:  # bound, so no ICMP error: it just never answers
        start = time.monotonic()
        with pytest.raises(NetTimeoutError, match=r"timed out after 0.35 s: no reply after 3 attempt\(s\)"):
            netbasics.udp_request(silent.local, b"hello?", timeout=0.05, retries=2, backoff=2.0)
        assert 0.3 <= time.monotonic() - start < 2.0
        got = [silent.recv_from().data for _ in range(3)]
    assert got == [b"hello?"] * 3


@linux_only
def test_request_to_a_closed_port_is_refused(family: int) -> None:
    port = _free_port(family)
    with pytest.raises(ConnectError, match="refused 2 times"):
        netbasics.udp_request(f"{_host(family)}:{port}", b"x", timeout=0.05, retries=1)


def test_request_ignores_other_senders(family: int) -> None:
    def handler(d: Datagram, reply: netbasics.Reply) -> None:
        # A stranger writes to the requester's port first; only the real reply counts.
        with _bound(family) as stranger:
            stranger.send_to(b"spoof", d.sender)
        time.sleep(0.01)
        reply(b"genuine")

    with UDPServer(f"{_host(family)}:0", handler) as server:
        assert netbasics.udp_request(server.endpoint, b"q", timeout=2.0).data == b"genuine"


def test_request_accept_skips_stale_replies() -> None:
    def handler(d: Datagram, reply: netbasics.Reply) -> None:
        reply(b"id=0 stale")
        reply(b"id=7 fresh")

    with UDPServer("127.0.0.1:0", handler) as server:
        got = netbasics.udp_request(server.endpoint, b"id=7", timeout=2.0, accept=lambda d: d.data.startswith(b"id=7"))
    assert got.data == b"id=7 fresh"


def test_request_reply_too_large_for_max_bytes() -> None:
    with UDPServer("127.0.0.1:0", _udp_fixtures.udp_echo_handler) as server, pytest.raises(DatagramTooLarge):
        netbasics.udp_request(server.endpoint, b"x" * 200, timeout=2.0, max_bytes=100)


# -- a storm --------------------------------------------------------------------------------


def test_storm_of_10000_datagrams_counts_loss() -> None:
    total = 10_000
    counter = itertools.count()

    def count(d: Datagram, reply: netbasics.Reply) -> None:
        next(counter)
        reply(d.data)

    start = time.monotonic()
    with UDPServer("127.0.0.1:0", count) as server, netbasics.open_udp(family=4, timeout=0.5) as client:
        payload = b"s" * 64
        for _ in range(total):
            client.send_to(payload, server.endpoint)
        echoed = 0
        while True:  # read echoes until half a second of silence: bounded, never a hang
            try:
                client.recv_from()
            except NetTimeoutError:
                break
            echoed += 1
            assert time.monotonic() - start < 60, "storm did not settle"
    handled = next(counter)
    elapsed = time.monotonic() - start
    print(
        f"\nstorm: sent {total}, server handled {handled} (lost {total - handled}), echoed {echoed} in {elapsed:.2f} s"
    )
    assert 0 < handled <= total
    assert 0 < echoed <= handled
    assert elapsed < 60


@pytest.mark.parametrize("workers", [1, 2])
def test_stop_during_a_storm_is_prompt(workers: int) -> None:
    stop_sending = threading.Event()
    server = UDPServer("127.0.0.1:0", _udp_fixtures.udp_echo_handler, workers=workers)
    server.start()

    def flood() -> None:
        with netbasics.open_udp(family=4) as c:
            while not stop_sending.is_set():
                try:
                    c.send_to(b"f" * 512, server.endpoint)
                except OSError:
                    pass

    flooder = threading.Thread(target=flood)
    flooder.start()
    try:
        time.sleep(0.2)
        start = time.monotonic()
        server.stop()
        assert time.monotonic() - start < 1.0
        assert not any(t.is_alive() for t in server_threads(server))
    finally:
        stop_sending.set()
        flooder.join(2.0)


# -- broadcast and multicast -----------------------------------------------------------------


@linux_only
def test_broadcast_on_loopback() -> None:
    # 127.255.255.255 is the broadcast address of 127.0.0.0/8 on lo: a receiver bound to
    # it gets broadcasts, and nothing leaves the host.
    try:
        receiver = netbasics.open_udp(bind="127.255.255.255:0", timeout=2.0)
    except BindError as exc:
        pytest.skip(f"cannot bind the loopback broadcast address 127.255.255.255: {exc}")
    with receiver, netbasics.open_udp(family=4, timeout=2.0) as plain:
        target = receiver.local
        with pytest.raises(UnsafeDestination, match="broadcast=True"):
            plain.send_to(b"no", target)  # the kernel's EACCES, translated
        with netbasics.open_udp(family=4, broadcast=True, timeout=2.0) as caster:
            try:
                caster.send_to(b"to all", target)
            except OSError as exc:  # pragma: no cover - depends on the kernel
                pytest.skip(f"broadcast on loopback not permitted here: {exc}")
            assert receiver.recv_from().data == b"to all"


def test_multicast_ipv4_on_loopback() -> None:
    group = "239.255.42.99"  # administratively scoped (RFC 2365): never routed off-site
    try:
        receiver = netbasics.open_udp(bind=f"{group}:0", timeout=2.0, reuse_address=True)
    except (BindError, OSError) as exc:
        pytest.skip(f"cannot bind a multicast group address here: {exc}")
    with receiver, netbasics.open_udp(family=4, timeout=2.0) as sender:
        try:
            receiver.join_group(group, interface="127.0.0.1")
            sender.set_multicast_interface("127.0.0.1")  # out of lo, never another interface
        except OSError as exc:
            pytest.skip(f"IPv4 multicast on loopback not allowed by this kernel: {exc}")
        sender.multicast_ttl = 0  # belt and braces: a TTL of 0 cannot leave the host
        sender.multicast_loopback = True
        assert (sender.multicast_ttl, sender.multicast_loopback) == (0, True)
        try:
            sender.send_to(b"to the group", receiver.local)
            got = receiver.recv_from()
        except (OSError, TimeoutError) as exc:
            pytest.skip(f"IPv4 multicast on loopback not delivered here: {exc}")
        assert got.data == b"to the group"
        assert got.sender.port == sender.local.port  # sender.local is 0.0.0.0: bound on first send
        receiver.leave_group(group, interface="127.0.0.1")
        with pytest.raises(OSError, match=r"leave group 239\.255\.42\.99: "):
            receiver.leave_group(group, interface="127.0.0.1")  # no longer a member


@linux_only
def test_multicast_membership_by_interface_name_and_index() -> None:
    # struct ip_mreqn (Linux) for IPv4; struct ipv6_mreq for IPv6. Membership only: no traffic.
    lo = socket.if_nametoindex("lo")
    with netbasics.open_udp(family=4) as sock4:
        for interface in ("lo", lo):
            try:
                sock4.join_group("239.255.42.98", interface=interface)
            except OSError as exc:
                pytest.skip(f"IPv4 multicast membership on lo not allowed: {exc}")
            sock4.leave_group("239.255.42.98", interface=interface)
    if _udp_fixtures.ipv6_loopback_problem() is not None:
        return
    with netbasics.open_udp(family=6) as sock6:
        for interface in ("lo", lo):
            try:
                sock6.join_group("ff01::4243", interface=interface)
            except OSError as exc:
                pytest.skip(f"IPv6 multicast membership on lo not allowed: {exc}")
            sock6.leave_group("ff01::4243", interface=interface)


def test_multicast_ipv6_on_loopback() -> None:
    if _udp_fixtures.ipv6_loopback_problem() is not None:
        pytest.skip("IPv6 loopback unavailable")
    group = "ff01::4242"  # interface-local scope (RFC 4291 section 2.7): never leaves the interface
    try:
        lo = socket.if_nametoindex("lo")
    except OSError as exc:
        pytest.skip(f"no interface named 'lo': {exc}")
    with netbasics.open_udp(family=6, timeout=1.0) as sender:
        try:
            with netbasics.open_udp(bind="[::1]:0", timeout=1.0) as receiver:
                receiver.join_group(group, interface=lo)
                sender.set_multicast_interface(lo)
                sender.multicast_ttl = 0
                sender.send_to(b"six", Endpoint(group, receiver.local.port))
                assert receiver.recv_from().data == b"six"
        except (OSError, TimeoutError) as exc:
            pytest.skip(f"IPv6 multicast on loopback not allowed by this kernel: {exc}")


# -- socat peers ------------------------------------------------------------------------------


@pytest.fixture
def socat_echo(family: int) -> Iterator[Endpoint]:
    """``socat UDP-LISTEN ... PIPE``: a real echo peer on loopback, killed after the test."""
    if SOCAT is None:
        pytest.skip("socat is not installed (apt-get install socat)")
    port = _free_port(family)
    listen = f"UDP4-LISTEN:{port},bind=127.0.0.1" if family == 4 else f"UDP6-LISTEN:{port},bind=[::1]"
    proc = subprocess.Popen(
        [SOCAT, "-T", "10", "-b", "65536", listen, "PIPE"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        yield Endpoint(LOOPBACK[family], port)
    finally:
        proc.kill()
        proc.wait(5)
        assert proc.stderr is not None
        proc.stderr.close()


@needs_socat
def test_request_to_socat_echo(socat_echo: Endpoint) -> None:
    # socat may not be listening yet: request() retries through the ICMP refusals.
    got = netbasics.udp_request(socat_echo, b"hello socat", timeout=0.1, retries=20, backoff=1.2)
    assert got.data == b"hello socat"
    assert got.sender == socat_echo


@needs_socat
def test_maximum_size_through_socat(socat_echo: Endpoint) -> None:
    # socat UDP-LISTEN serves the first peer only, so one connected socket does it all.
    limit = MAX_UDP_PAYLOAD_IPV4 if socat_echo.version == 4 else MAX_UDP_PAYLOAD_IPV6
    payload = os.urandom(limit)
    with netbasics.open_udp(connect=socat_echo, timeout=0.1) as sock:
        deadline = time.monotonic() + 5.0
        while True:  # until socat listens: ICMP refusals and silence are both retried
            assert time.monotonic() < deadline, "socat did not answer"
            try:
                sock.send(b"warm-up")
                if sock.recv() == b"warm-up":
                    break
            except (ConnectError, NetTimeoutError):
                time.sleep(0.02)
        sock.settimeout(2.0)
        sock.send(payload)
        assert sock.recv() == payload


@needs_socat
def test_socat_client_to_server(family: int) -> None:
    assert SOCAT is not None

    def shout(d: Datagram, reply: netbasics.Reply) -> None:
        reply(d.data.upper())

    with UDPServer(f"{_host(family)}:0", shout) as server:
        address = f"UDP4:127.0.0.1:{server.endpoint.port}" if family == 4 else f"UDP6:[::1]:{server.endpoint.port}"
        result = subprocess.run(
            [SOCAT, "-t", "1", "-", address], input=b"hello from socat\n", capture_output=True, timeout=10, check=True
        )
    assert result.stdout == b"HELLO FROM SOCAT\n"


def test_errno_of_broadcast_refusal_is_eacces() -> None:
    # The kernel fact _translate relies on, checked without sending anything anywhere:
    # Linux refuses the send itself, so no packet is built.
    if not sys.platform.startswith("linux"):
        pytest.skip("Linux-specific kernel behaviour")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s, pytest.raises(PermissionError) as info:
        s.sendto(b"x", ("127.255.255.255", 9))
    assert info.value.errno == errno.EACCES
