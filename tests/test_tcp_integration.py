"""TCP on loopback against real peers (socat, nc) and hostile clients; no thread or fd leaks.

Runs on 127.0.0.1 and ::1 (the ``loopback_host`` fixture of netbasics.testing skips ::1
with the reason where it cannot be bound). socat and nc (netcat-openbsd) are installed
by .ci/run; tests that need one skip, naming it, when it is missing. Every test is
bounded in time and stops every server, thread, process and socket it starts.

Select with ``-m integration``.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator

import pytest

import netbasics
from leaks import fd_count, settle
from netbasics import (
    ConnectionClosed,
    Endpoint,
    LengthPrefixFramer,
    StreamConnection,
    TCPServer,
    port_open,
)
from netbasics.testing import echo_handler, ipv6_loopback_available
from peers import need

pytestmark = pytest.mark.integration


def raw_client(endpoint: Endpoint) -> socket.socket:
    return socket.create_connection(endpoint.sockaddr[:2], timeout=5)


def reset(sock: socket.socket) -> None:
    """Close with an RST instead of a FIN (SO_LINGER with a zero timeout)."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    sock.close()


# --- real peers ---------------------------------------------------------------------


@pytest.fixture
def socat_echo(loopback_host: str) -> Iterator[Endpoint]:
    """socat as an echo server on the loopback address; the port is read from its log."""
    socat = need("socat")
    spec = "TCP4-LISTEN:0,bind=127.0.0.1" if loopback_host == "127.0.0.1" else "TCP6-LISTEN:0,bind=[::1]"
    proc = subprocess.Popen([socat, "-d", "-d", f"{spec},reuseaddr,fork", "PIPE"], stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        match = re.search(r"listening on .*:(\d+)\s*$", line)
        assert match, f"unexpected socat output: {line!r}"
        yield Endpoint(loopback_host, int(match.group(1)))
    finally:
        proc.terminate()
        proc.wait(5)
        if proc.stderr is not None:
            proc.stderr.close()


def test_our_client_against_socat_echo(socat_echo: Endpoint, baseline: None) -> None:
    with netbasics.connect_tcp(socat_echo, timeout=5) as conn:
        conn.send_all(b"hello socat\n")
        assert conn.recv_until(b"\n") == b"hello socat\n"
        payload = os.urandom(1 << 20)
        sender = threading.Thread(target=conn.send_all, args=(payload,))
        sender.start()
        assert conn.recv_exactly(len(payload)) == payload
        sender.join()
        framer = LengthPrefixFramer()
        for message in (b"", b"x", b"y" * 70000):
            conn.send_message(message, framer)
            assert conn.recv_message(framer) == message
        conn.shutdown_write()
        assert conn.recv() == b""  # socat saw our FIN and closed its side


def test_port_open_against_socat(socat_echo: Endpoint) -> None:
    assert port_open(socat_echo, timeout=2)


@pytest.mark.parametrize("client", ["socat", "nc"])
def test_socat_and_nc_as_clients_of_our_server(tcp_echo_server: TCPServer, client: str) -> None:
    ep = tcp_echo_server.endpoint
    if client == "socat":
        host = f"[{ep.address}]" if ep.version == 6 else str(ep.address)
        argv = [need("socat"), "-t", "5", "-", f"TCP:{host}:{ep.port}"]
    else:
        argv = [need("nc"), "-N", "-w", "5", str(ep.address), str(ep.port)]
    data = b"".join(b"line %d\n" % i for i in range(2000))
    result = subprocess.run(argv, input=data, capture_output=True, timeout=20, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout == data


def test_nc_zero_probe_and_line_server(loopback_host: str) -> None:
    nc = need("nc")

    def upper(conn: StreamConnection) -> None:
        for line in conn:
            conn.send_all(line.upper() + b"\n")

    with TCPServer((loopback_host, 0), upper) as server:
        ep = server.endpoint
        probe = subprocess.run([nc, "-z", "-w", "2", str(ep.address), str(ep.port)], timeout=10, check=False)
        assert probe.returncode == 0
        out = subprocess.run(
            [nc, "-N", "-w", "5", str(ep.address), str(ep.port)], input=b"abc\ndef\n", capture_output=True, timeout=10
        )
        assert out.stdout == b"ABC\nDEF\n"


def test_dual_stack_server_accepts_both_families(baseline: None) -> None:
    if not ipv6_loopback_available():
        pytest.skip("IPv6 loopback ::1 cannot be bound on this machine")
    with TCPServer("[::]:0", echo_handler) as server:
        port = server.endpoint.port
        for host in ("127.0.0.1", "::1"):
            with netbasics.connect_tcp((host, port), timeout=5) as conn:
                conn.send_all(b"dual")
                assert conn.recv_exactly(4) == b"dual"


# --- reliability --------------------------------------------------------------------


def test_200_concurrent_clients(loopback_host: str, baseline: None) -> None:
    errors: list[BaseException] = []

    def client(endpoint: Endpoint, n: int) -> None:
        try:
            with netbasics.connect_tcp(endpoint, timeout=20) as conn:
                for i in range(5):
                    message = b"client %d message %d\n" % (n, i)
                    conn.send_all(message)
                    assert conn.recv_until(b"\n") == message
        except BaseException as exc:  # collected and re-raised in the test thread
            errors.append(exc)

    with TCPServer((loopback_host, 0), echo_handler, max_connections=256) as server:
        threads = [threading.Thread(target=client, args=(server.endpoint, n)) for n in range(200)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert not errors, errors[:3]


def test_resets_mid_message_are_quiet(
    loopback_host: str, baseline: None, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    seen: list[ConnectionClosed] = []

    def handler(conn: StreamConnection) -> None:
        try:
            conn.recv_exactly(1000)
        except ConnectionClosed as exc:
            seen.append(exc)
            raise

    with caplog.at_level(logging.DEBUG, logger="netbasics"), TCPServer((loopback_host, 0), handler) as server:
        for _ in range(20):
            sock = raw_client(server.endpoint)
            sock.sendall(b"x" * 10)
            time.sleep(0.005)
            reset(sock)
        assert settle(lambda: len(seen) == 20)
        assert server.serving
        with netbasics.connect_tcp(server.endpoint, timeout=5) as conn:  # the server still works
            conn.send_all(b"y" * 1000)
    assert all(exc.partial == b"x" * 10 or exc.partial == b"" for exc in seen)
    assert [r for r in caplog.records if r.levelno > logging.DEBUG] == []
    assert "Traceback" not in capfd.readouterr().err


def test_silent_and_trickling_clients_are_cut_at_idle_timeout(loopback_host: str, baseline: None) -> None:
    def handler(conn: StreamConnection) -> None:
        conn.recv_until(b"\n")

    with TCPServer((loopback_host, 0), handler, idle_timeout=0.4, max_connections=2) as server:
        silent = raw_client(server.endpoint)
        trickler = raw_client(server.endpoint)
        started = time.monotonic()
        stop = threading.Event()

        def trickle() -> None:
            while not stop.is_set():
                try:
                    trickler.send(b"a")
                except OSError:
                    return
                time.sleep(0.05)

        thread = threading.Thread(target=trickle)
        thread.start()
        try:
            assert silent.recv(10) == b""  # the server closed it
            assert time.monotonic() - started < 2.0
            trickler.settimeout(3)
            try:
                while trickler.recv(10):
                    pass
            except ConnectionResetError:
                pass  # our trickled bytes were unread when it closed: an RST is fine too
            elapsed = time.monotonic() - started
            assert 0.3 < elapsed < 2.0, elapsed  # one byte every 50 ms does not extend the deadline
            # Both workers are free again: a third client is served.
            with netbasics.connect_tcp(server.endpoint, timeout=5) as conn:
                conn.send_all(b"done\n")
        finally:
            stop.set()
            thread.join()
            silent.close()
            trickler.close()


def test_oversized_frame_is_refused_at_the_header(
    loopback_host: str, baseline: None, caplog: pytest.LogCaptureFixture
) -> None:
    framer_limit = 1 << 16

    def handler(conn: StreamConnection) -> None:
        framer = LengthPrefixFramer(max_size=framer_limit)
        for message in conn.messages(framer):
            conn.send_message(message, framer)

    with (
        caplog.at_level(logging.DEBUG, logger="netbasics"),
        TCPServer((loopback_host, 0), handler) as server,
        netbasics.connect_tcp(server.endpoint, timeout=5) as conn,
    ):
        framer = LengthPrefixFramer()
        conn.send_message(b"fine", framer)
        assert conn.recv_message(framer) == b"fine"
        started = time.monotonic()
        conn.send_all(b"\xff\xff\xff\xff")  # announces 4 GiB
        assert conn.recv() == b""
        assert time.monotonic() - started < 1.0
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "4294967295" in warnings[0].getMessage()
    assert warnings[0].exc_info is None


def test_clients_wait_in_backlog_at_max_connections(loopback_host: str, baseline: None) -> None:
    release = threading.Event()
    started: list[float] = []

    def handler(conn: StreamConnection) -> None:
        started.append(time.monotonic())
        release.wait(10)
        conn.send_all(conn.recv_until(b"\n"))

    with TCPServer((loopback_host, 0), handler, max_connections=2) as server:
        conns = [netbasics.connect_tcp(server.endpoint, timeout=10) for _ in range(4)]
        try:
            for conn in conns:
                conn.send_all(b"hi\n")
            assert settle(lambda: len(started) == 2)
            time.sleep(0.2)
            assert len(started) == 2  # the other two wait, connected, in the backlog
            assert server.active_connections == 2
            release.set()
            for conn in conns:
                assert conn.recv_until(b"\n") == b"hi\n"  # and every one is served
            assert len(started) == 4
        finally:
            for conn in conns:
                conn.close()


def test_stop_returns_promptly_with_idle_and_busy_clients(loopback_host: str, baseline: None) -> None:
    entered = threading.Semaphore(0)

    def handler(conn: StreamConnection) -> None:
        entered.release()
        if conn.recv_until(b"\n") == b"flood\n":
            while True:  # busy: blocked in a write to a client that does not read
                conn.send_all(b"x" * 65536)
        for _ in conn:  # idle: blocked in a read
            pass

    server = TCPServer((loopback_host, 0), handler, idle_timeout=None).start()
    clients = [raw_client(server.endpoint) for _ in range(10)]
    try:
        for n, client in enumerate(clients):
            client.sendall(b"flood\n" if n % 2 else b"idle\n")
        for _ in clients:
            assert entered.acquire(timeout=5)
        time.sleep(0.2)  # let the floods fill the socket buffers
        started = time.monotonic()
        server.stop(timeout=0.3)
        elapsed = time.monotonic() - started
        assert 0.25 < elapsed < 0.3 + 0.1, elapsed  # grace period + 100 ms
        assert not port_open(server.endpoint, timeout=0.5)  # refused at once
        for client in clients:
            client.settimeout(2)
            while client.recv(1 << 20):  # the floods' queued bytes, then the end
                pass
    finally:
        for client in clients:
            client.close()


def test_stop_lets_running_handlers_finish(loopback_host: str, baseline: None) -> None:
    finished = threading.Event()

    def handler(conn: StreamConnection) -> None:
        conn.recv_until(b"\n")
        time.sleep(0.2)
        conn.send_all(b"done\n")
        finished.set()

    server = TCPServer((loopback_host, 0), handler).start()
    with netbasics.connect_tcp(server.endpoint, timeout=5) as conn:
        conn.send_all(b"work\n")
        time.sleep(0.05)
        server.stop(timeout=2)
        assert finished.is_set()
        assert conn.recv_until(b"\n") == b"done\n"


def test_stop_from_inside_a_handler_does_not_deadlock(loopback_host: str, baseline: None) -> None:
    stopped = threading.Event()
    holder: list[TCPServer] = []

    def handler(conn: StreamConnection) -> None:
        if conn.recv_until(b"\n") == b"stop\n":
            holder[0].stop(timeout=1)
            stopped.set()
            conn.send_all(b"bye\n")

    server = TCPServer((loopback_host, 0), handler)
    holder.append(server)
    thread = threading.Thread(target=server.serve_forever)  # the blocking form, in its own thread
    thread.start()
    try:
        idle = raw_client(server.endpoint)
        with netbasics.connect_tcp(server.endpoint, timeout=5) as conn:
            conn.send_all(b"stop\n")
            assert conn.recv_until(b"\n") == b"bye\n"
        assert stopped.wait(5)
        thread.join(5)
        assert not thread.is_alive()
        idle.settimeout(3)
        assert idle.recv(10) == b""
        idle.close()
    finally:
        server.stop(timeout=1)
        thread.join(5)


def _churn(endpoint: Endpoint, count: int, parallel: int) -> None:
    def worker(n: int) -> None:
        for _ in range(n):
            with netbasics.connect_tcp(endpoint, timeout=10) as conn:
                conn.send_all(b"p")
                assert conn.recv_exactly(1) == b"p"

    threads = [threading.Thread(target=worker, args=(count // parallel,)) for _ in range(parallel)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)


def test_no_thread_or_fd_leak_after_many_connections() -> None:
    """Issue 4: after 10,000 connections open and close, as many threads and fds as before."""
    count = 10_000
    threads, fds = threading.active_count(), fd_count()
    with TCPServer("127.0.0.1:0", echo_handler, max_connections=64) as server:
        _churn(server.endpoint, count, parallel=8)
        peak = threading.active_count()
    assert peak <= threads + 1 + 8 + 64  # accept thread, client threads, at most max_connections workers
    assert settle(lambda: threading.active_count() == threads)
    assert settle(lambda: fd_count() == fds), f"{fd_count() - fds} fds leaked"


def out_of_descriptors(server_setup: str, while_exhausted: Callable[[list[socket.socket]], None] | None = None) -> str:
    """Run a server in a child process whose descriptor limit 15 clients exceed; return its stderr.

    ``server_setup`` is Python that binds ``server`` (started). While accept() is failing
    with EMFILE, the child's CPU use is measured (it must not spin) and
    ``while_exhausted(clients)`` runs; then the clients close and the server is stopped.
    """
    script = textwrap.dedent(
        """
        import logging, os, resource, sys, time
        from netbasics import LineFramer, TCPServer
        logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(message)s")
        {setup}
        used = len(os.listdir("/proc/self/fd"))
        resource.setrlimit(resource.RLIMIT_NOFILE, (used + 5, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
        print(server.endpoint.port, flush=True)
        sys.stdin.readline()  # the parent has connected more clients than we have descriptors
        cpu = time.process_time()
        time.sleep(1.0)
        print("cpu %.3f" % (time.process_time() - cpu), flush=True)
        sys.stdin.readline()  # the parent closed its clients
        time.sleep(0.5)
        server.stop(timeout=1)
        print("stopped", flush=True)
        """
    ).replace("{setup}", textwrap.dedent(server_setup).strip())
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    clients: list[socket.socket] = []
    try:
        assert proc.stdout is not None
        assert proc.stdin is not None
        port = int(proc.stdout.readline())
        for _ in range(15):
            clients.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        proc.stdin.write("go\n")
        proc.stdin.flush()
        cpu = float(proc.stdout.readline().split()[1])
        assert cpu < 0.3, f"accept loop spun: {cpu} s of CPU in 1 s"
        if while_exhausted is not None:
            while_exhausted(clients)
        for client in clients:
            client.close()
        proc.stdin.write("go\n")
        proc.stdin.flush()
        assert proc.stdout.readline().strip() == "stopped"
        _, err = proc.communicate(timeout=10)
    finally:
        for client in clients:
            client.close()
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return err


def test_accept_out_of_descriptors_logs_once_and_backs_off() -> None:
    # In a child process with a tiny descriptor limit: accept() hits EMFILE while the
    # clients are connected. The server must log once, not spin, and recover.
    err = out_of_descriptors(
        """
        held = []
        def handler(conn):
            held.append(conn)
            conn.recv()
        server = TCPServer("127.0.0.1:0", handler, idle_timeout=None).start()
        """
    )
    assert err.count("accept failed") == 1, err
    assert "Too many open files" in err
    assert "Traceback" not in err
