"""Unix domain sockets against real peers, both ways: socat (UNIX-LISTEN/UNIX-CONNECT,
UNIX-RECVFROM/UNIX-SENDTO) and OpenBSD nc (-U, -lU, -uU). Installed by .ci/run."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from netbasics import Reply, UnixDatagram, UnixDatagramServer, UnixServer, connect_unix, open_unix_datagram
from netbasics.testing import echo_handler
from peers import need

pytestmark = pytest.mark.integration


@pytest.fixture
def sockdir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="nb", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def wait_for(path: Path, proc: subprocess.Popen[bytes]) -> None:
    """Wait until a peer process has created its socket file (bounded: 10 s)."""
    deadline = time.monotonic() + 10
    while not path.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"{proc.args!r} did not create {path} (exit {proc.returncode})")
        time.sleep(0.01)


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:  # pragma: no cover - socat and nc exit on SIGTERM
        proc.kill()
        proc.wait()


def shout(datagram: UnixDatagram, reply: Reply) -> None:
    reply(datagram.data.upper())


# --- stream ---------------------------------------------------------------------------


@pytest.mark.parametrize("client", ["socat", "nc"])
def test_socat_and_nc_as_clients_of_our_stream_server(sockdir: Path, client: str, baseline: None) -> None:
    path = sockdir / "echo.sock"
    if client == "socat":
        argv = [need("socat"), "-t", "5", "-", f"UNIX-CONNECT:{path}"]
    else:
        argv = [need("nc"), "-U", "-N", "-w", "5", str(path)]
    data = b"hello over a unix socket\n" * 1000
    with UnixServer(f"unix:{path}", echo_handler):
        result = subprocess.run(argv, input=data, capture_output=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout == data


def test_our_client_against_socat_unix_listen(sockdir: Path) -> None:
    path = sockdir / "socat.sock"
    proc = subprocess.Popen([need("socat"), f"UNIX-LISTEN:{path},fork", "PIPE"], stderr=subprocess.DEVNULL)
    try:
        wait_for(path, proc)
        for _ in range(2):  # fork: each connection gets its own echo
            with connect_unix(f"unix:{path}", timeout=5) as conn:
                conn.send_all(b"ping\n")
                assert conn.recv_until(b"\n") == b"ping\n"
                conn.shutdown_write()
                assert conn.recv() == b""
    finally:
        stop(proc)


def test_our_client_against_nc_listen(sockdir: Path) -> None:
    path = sockdir / "nc.sock"
    proc = subprocess.Popen(
        [need("nc"), "-lU", "-N", str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    try:
        wait_for(path, proc)
        assert proc.stdin is not None
        proc.stdin.write(b"from nc\n")
        proc.stdin.close()
        with connect_unix(f"unix:{path}", timeout=5) as conn:
            assert conn.recv_until(b"\n") == b"from nc\n"
            conn.send_all(b"from netbasics\n")
            conn.shutdown_write()
            conn.recv(timeout=5)  # nc closes once its stdin is done and ours is shut
        assert proc.stdout is not None
        assert proc.stdout.read() == b"from netbasics\n"  # until nc exits
    finally:
        stop(proc)
        for pipe in (proc.stdin, proc.stdout):
            if pipe is not None:
                pipe.close()


# --- datagram -------------------------------------------------------------------------


def test_socat_sendto_our_datagram_server(sockdir: Path, baseline: None) -> None:
    path = sockdir / "d.sock"
    with UnixDatagramServer(f"unix:{path}", shout):
        result = subprocess.run(
            [need("socat"), "-t", "1", "-", f"UNIX-SENDTO:{path},bind={sockdir / 'socat-client.sock'}"],
            input=b"hello socat",
            capture_output=True,
            timeout=30,
            check=False,
        )
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"HELLO SOCAT"


def test_nc_datagram_client_of_our_server(sockdir: Path) -> None:
    path = sockdir / "nc-d.sock"
    with UnixDatagramServer(f"unix:{path}", shout):
        result = subprocess.run(
            [need("nc"), "-uU", "-w", "1", str(path)], input=b"hello nc\n", capture_output=True, timeout=30, check=False
        )
    assert result.stdout == b"HELLO NC\n"


def test_our_datagram_client_against_socat_recvfrom(sockdir: Path) -> None:
    path = sockdir / "socat-d.sock"
    proc = subprocess.Popen(
        [need("socat"), f"UNIX-RECVFROM:{path},fork", "SYSTEM:tr a-z A-Z"], stderr=subprocess.DEVNULL
    )
    try:
        wait_for(path, proc)
        # socat answers to the sender's address: the automatic (autobind) one here.
        with open_unix_datagram(connect=f"unix:{path}", timeout=5) as client:
            client.send(b"shout this")
            assert client.recv() == b"SHOUT THIS"
    finally:
        stop(proc)
