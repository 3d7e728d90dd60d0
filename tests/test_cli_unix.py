"""The command line with Unix endpoints: serve, send and probe, stream (tcp) and datagram (udp)."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli_run import run
from netbasics import Reply, UnixDatagram, UnixDatagramServer, UnixServer, connect_unix, open_unix_datagram
from netbasics.testing import echo_handler


@pytest.fixture
def sockdir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="nb", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def echo_datagram(datagram: UnixDatagram, reply: Reply) -> None:
    reply(datagram.data)


def test_send_stream_and_datagram(sockdir: Path) -> None:
    stream, dgram = f"unix:{sockdir}/s.sock", f"unix:{sockdir}/d.sock"
    with UnixServer(stream, echo_handler), UnixDatagramServer(dgram, echo_datagram):
        assert run(["send", "tcp", stream, "over a unix stream"])[:2] == (0, "over a unix stream\n")
        assert run(["send", "udp", dgram, "-"], stdin="over unix datagrams")[:2] == (0, "over unix datagrams")


def test_send_errors(sockdir: Path) -> None:
    code, out, err = run(["send", "tcp", f"unix:{sockdir}/missing.sock", "x"])
    assert (code, out) == (1, "")
    assert "no such socket file" in err
    assert len(err.splitlines()) == 1


def test_probe(sockdir: Path) -> None:
    path = f"unix:{sockdir}/p.sock"
    with UnixServer(path, echo_handler):
        code, out, _ = run(["probe", path, f"unix:{sockdir}/closed.sock"])
        assert code == 1
        first, second = out.splitlines()
        assert first.startswith(f"{path}: open ")
        assert "no such socket file" in second
        code, out, _ = run(["probe", "--json", path])
        assert code == 0
        assert json.loads(out)["open"] is True


def _serve(*argv: str) -> tuple[subprocess.Popen[bytes], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "netbasics", "serve", *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().decode()
    return proc, line.split()[-1]  # the bound endpoint ends the first line


def _reap(proc: subprocess.Popen[bytes]) -> bytes:
    proc.send_signal(signal.SIGTERM)
    try:
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()
        proc.wait()
    assert proc.stderr is not None
    errors = proc.stderr.read()
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()
    return errors


@pytest.mark.integration
def test_serve_stream_and_datagram_on_paths(sockdir: Path) -> None:
    stream_path, dgram_path = sockdir / "serve.sock", sockdir / "serve-d.sock"
    stream, endpoint = _serve("tcp", "--echo", "--bind", f"unix:{stream_path}")
    try:
        assert endpoint == f"unix:{stream_path}"
        with connect_unix(endpoint, timeout=5) as conn:
            conn.send_all(b"ping\n")
            assert conn.recv_until(b"\n") == b"ping\n"
    finally:
        assert b"Traceback" not in _reap(stream)
    assert not stream_path.exists()  # removed on stop
    dgram, endpoint = _serve("udp", "--echo", "--bind", f"unix:{dgram_path}")
    try:
        with open_unix_datagram(connect=endpoint, timeout=5) as client:
            client.send(b"datagram")
            assert client.recv() == b"datagram"
    finally:
        assert b"Traceback" not in _reap(dgram)
    assert not dgram_path.exists()
