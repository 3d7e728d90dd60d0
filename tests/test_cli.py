"""The netbasics command line: classify, check, port, net (in-process and as a real process)."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest

import netbasics
from cli_run import run
from netbasics import Endpoint, TCPServer, UDPServer, parse_endpoint
from netbasics.cli import main

# --- classify --------------------------------------------------------------------------------


def test_classify_lines() -> None:
    code, out, err = run(["classify", "192.168.1.10", "8.8.8.8", "::1", "::ffff:10.0.0.1"])
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 4
    assert lines[0].split()[:4] == ["192.168.1.10", "IPv4", "private", "not-global"]
    assert "192.168.0.0/16 Private-Use (RFC 1918)" in lines[0]
    assert lines[1].split() == ["8.8.8.8", "IPv4", "public", "global", "-"]
    assert lines[2].split()[:4] == ["::1", "IPv6", "loopback", "not-global"]
    assert lines[3].split()[:3] == ["::ffff:10.0.0.1", "IPv6", "private"]


def test_classify_json() -> None:
    code, out, _ = run(["classify", "--json", "100.64.1.1", "2001:DB8::1"])
    assert code == 0
    first, second = (json.loads(line) for line in out.splitlines())
    assert first == {
        "input": "100.64.1.1",
        "address": "100.64.1.1",
        "version": 4,
        "category": "shared",
        "is_global": False,
        "entry": {
            "prefix": "100.64.0.0/10",
            "name": "Shared Address Space",
            "rfc": "RFC 6598",
            "registry": "iana-ipv4-special",
        },
    }
    assert second["address"] == "2001:db8::1"
    assert second["category"] == "documentation"


def test_classify_bad_input_continues_and_exits_1() -> None:
    code, out, err = run(["classify", "-"], stdin="10.0.0.1\n1.2.3.256\n\n# comment\n010.0.0.1\n::1\n")
    assert code == 1
    assert [line.split()[0] for line in out.splitlines()] == ["10.0.0.1", "::1"]
    errors = err.splitlines()
    assert errors == [
        "netbasics classify: stdin line 2: octet 256 out of range in '1.2.3.256'",
        "netbasics classify: stdin line 5: octet '010' has a leading zero (ambiguous: octal or decimal?) "
        "in '010.0.0.1'",
    ]


def test_classify_summary() -> None:
    code, out, _ = run(["classify", "--summary", "-"], stdin="10.0.0.1\n10.2.3.4\n8.8.8.8\n::1\n")
    assert code == 0
    assert [line.split() for line in out.splitlines()] == [["2", "private"], ["1", "loopback"], ["1", "public"]]
    code, out, _ = run(["classify", "--summary", "--json", "10.0.0.1", "8.8.8.8"])
    assert json.loads(out) == {"private": 1, "public": 1}


def test_usage_errors_exit_2() -> None:
    for argv in (["classify"], ["no-such-command"]):
        code, out, err = run(argv)
        assert (code, out) == (2, "")
        assert len(err.splitlines()) == 1


def test_classify_streams_a_large_input_as_a_real_process() -> None:
    """A real process reads 200,000 lines through a pipe and writes one line each."""
    count = 200_000
    data = "".join(f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}\n" for i in range(count)).encode()
    proc = subprocess.run(
        [sys.executable, "-m", "netbasics", "classify", "-"],
        input=data,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count(b"\n") == count
    assert proc.stderr == b""


def test_broken_pipe_is_quiet() -> None:
    data = b"10.0.0.1\n" * 50_000
    proc = subprocess.run(
        f"{sys.executable} -m netbasics classify - | head -n 1",
        shell=True,
        input=data,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert proc.stdout.count(b"\n") == 1
    assert b"Traceback" not in proc.stderr


# --- check -----------------------------------------------------------------------------------


def test_check_addresses() -> None:
    code, out, _ = run(["check", "8.8.8.8", "169.254.169.254", "[::ffff:127.0.0.1]:80"])
    assert code == 1
    assert out.splitlines() == [
        "8.8.8.8: safe",
        "169.254.169.254: unsafe (metadata): cloud metadata service; link local (RFC 3927), not globally reachable",
        "[::ffff:127.0.0.1]:80: unsafe (loopback): IPv4-mapped address (RFC 4291 section 2.5.5.2) embeds 127.0.0.1 "
        "(loopback, RFC 1122 section 3.2.1.3)",
    ]
    code, out, _ = run(["check", "8.8.8.8", "2606:4700::1"])
    assert code == 0


def test_check_names_and_policy_flags() -> None:
    code, out, _ = run(["check", "localhost:8080"])
    assert code == 1
    assert out.startswith("localhost:8080: unsafe (loopback): resolves to 127.0.0.1: loopback")
    code, out, _ = run(["check", "--allow-loopback", "localhost:8080"])
    assert code == 0, out
    code, out, _ = run(["check", "--ports", "80,443", "8.8.8.8:22", "8.8.8.8:443"])
    assert code == 1
    assert (
        out.splitlines()[0]
        == "8.8.8.8:22: unsafe (port-not-allowed): port 22 is not allowed by policy (allowed: 80, 443)"
    )
    assert out.splitlines()[1] == "8.8.8.8:443: safe"


def test_check_json() -> None:
    code, out, _ = run(["check", "--json", "10.0.0.1"])
    assert code == 1
    assert json.loads(out) == {
        "input": "10.0.0.1",
        "safe": False,
        "reason": "private",
        "detail": "private-use (RFC 1918), not globally reachable",
        "embedded": None,
        "addresses": ["10.0.0.1"],
    }


def test_check_bad_input() -> None:
    code, _, err = run(["check", "bad host name!"])
    assert code == 1
    assert err.startswith("netbasics check: argument: ")


# --- port ------------------------------------------------------------------------------------


def test_port_numbers_and_names() -> None:
    code, out, _ = run(["port", "443", "https", "50000"])
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["443", "well-known", "https"]
    assert lines[1].split() == ["https", "443/tcp/udp/sctp", "well-known"]
    assert lines[2].split() == ["50000", "dynamic", "-"]


def test_port_errors_and_json() -> None:
    code, _, err = run(["port", "65536", "no-such-service"])
    assert code == 1
    assert len(err.splitlines()) == 2
    code, out, _ = run(["port", "--json", "--protocol", "udp", "53"])
    record = json.loads(out)
    assert record["port"] == 53
    assert record["range"] == "well-known"
    assert record["services"][0]["name"] == "domain"


# --- net -------------------------------------------------------------------------------------


def test_net_facts() -> None:
    code, out, _ = run(["net", "10.1.0.0/16"])
    assert code == 0
    facts = dict(line.split(":", 1) for line in out.splitlines())
    assert facts["first"].strip() == "10.1.0.0"
    assert facts["last"].strip() == "10.1.255.255"
    assert facts["size"].strip() == "65536"
    assert facts["netmask"].strip() == "255.255.0.0"
    assert facts["category"].strip() == "private"
    code, out, _ = run(["net", "--json", "2001:db8::/32"])
    assert json.loads(out)["category"] == "documentation"


def test_net_host_bits_error() -> None:
    code, out, err = run(["net", "10.1.2.3/8"])
    assert code == 1
    assert err == "netbasics net: '10.1.2.3/8' has host bits set; did you mean '10.0.0.0/8'?\n"
    code, out, _ = run(["net", "--no-strict", "10.1.2.3/8"])
    assert code == 0
    assert out.startswith("network:   10.0.0.0/8")


def test_net_modes() -> None:
    assert run(["net", "10.0.0.0/24", "--subnets", "26"])[1].split() == [
        "10.0.0.0/26",
        "10.0.0.64/26",
        "10.0.0.128/26",
        "10.0.0.192/26",
    ]
    assert run(["net", "192.168.0.0/30", "--hosts"])[1].split() == ["192.168.0.1", "192.168.0.2"]
    assert run(["net", "192.168.0.0/31", "--hosts"])[1].split() == ["192.168.0.0", "192.168.0.1"]
    code, out, _ = run(["net", "10.0.0.0/8", "--contains", "10.1.1.1", "11.1.1.1"])
    assert code == 1
    assert out.splitlines() == ["10.1.1.1: in 10.0.0.0/8", "11.1.1.1: not in 10.0.0.0/8"]
    assert run(["net", "--summarize", "10.0.0.1", "10.0.0.9"])[1].split() == [
        "10.0.0.1/32",
        "10.0.0.2/31",
        "10.0.0.4/30",
        "10.0.0.8/31",
    ]
    code, out, err = run(["net", "--collapse", "-"], stdin="10.0.0.0/25\n10.0.0.128/25\n# c\nbad\n::/1\n")
    assert code == 1
    assert out.split() == ["10.0.0.0/24", "::/1"]
    assert "stdin line 4" in err


def test_python_dash_m() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "netbasics", "classify", "127.0.0.1"],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0
    assert proc.stdout.split()[:3] == [b"127.0.0.1", b"IPv4", b"loopback"]


# --- probe, send, serve --------------------------------------------------------------------


def test_probe_open_and_closed(tcp_echo_server: TCPServer, free_port: int) -> None:
    host = tcp_echo_server.endpoint
    closed = Endpoint(host.address, free_port)
    code, out, _ = run(["probe", str(host), str(closed), "--timeout", "2"])
    assert code == 1
    first, second = out.splitlines()
    assert first.startswith(f"{host}: open ({host}) in ")
    assert second.startswith(f"{closed}: closed: ")
    assert "refused" in second
    code, out, _ = run(["probe", "--json", str(host)])
    assert code == 0
    record = json.loads(out)
    assert record["open"] is True
    assert record["address"] == str(host)


def test_send_tcp_and_udp(tcp_echo_server: TCPServer, udp_echo_server: UDPServer) -> None:
    # DATA is sent as a line (as `echo DATA | nc` does); stdin and --raw go as they are.
    code, out, _ = run(["send", "tcp", str(tcp_echo_server.endpoint), "hello over tcp"])
    assert (code, out) == (0, "hello over tcp\n")
    code, out, _ = run(["send", "tcp", str(tcp_echo_server.endpoint), "--raw", "raw"])
    assert (code, out) == (0, "raw")
    code, out, _ = run(["send", "udp", str(udp_echo_server.endpoint), "-"], stdin="hello over udp")
    assert (code, out) == (0, "hello over udp")
    code, out, _ = run(["send", "udp", str(udp_echo_server.endpoint), "line"])
    assert (code, out) == (0, "line\n")


def test_send_reaches_a_line_based_server() -> None:
    import netbasics

    def respond(line: bytes, peer: object) -> bytes:
        return b"got " + line

    with netbasics.TCPServer.for_messages("127.0.0.1:0", respond, framer=netbasics.LineFramer()) as server:
        code, out, _ = run(["send", "tcp", str(server.endpoint), "hello", "--timeout", "1"])
    assert (code, out) == (0, "got hello\n")


def test_undecodable_input_is_escaped_as_valid_utf8() -> None:
    code, out, err = run(["classify", "--json", "-"], stdin_bytes=b"\xff\xfe\n")
    assert code == 1
    record = json.loads(out)
    assert record["input"] == "\\xff\\xfe"
    record["input"].encode("utf-8")  # what a consumer does: no lone surrogates
    err.encode("utf-8")
    assert "xff" in err  # quoted as the message quotes any text: '\\xff\\xfe'


def test_send_errors_are_one_line(free_port: int) -> None:
    code, out, err = run(["send", "tcp", f"127.0.0.1:{free_port}", "x", "--timeout", "1"])
    assert code == 1
    assert out == ""
    assert err.startswith("netbasics send: connect to 127.0.0.1:")
    assert len(err.splitlines()) == 1


@contextlib.contextmanager
def _serving(*argv: str) -> Iterator[tuple[subprocess.Popen[bytes], Endpoint]]:
    """Run `netbasics serve ARGV` as a real process; yield it and its bound endpoint; always reap it."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "netbasics", "serve", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().decode()
        # The first line is the bound endpoint and nothing else, so scripts can read it.
        yield proc, parse_endpoint(line.rstrip("\n"))
    finally:
        proc.kill()
        proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


@pytest.mark.integration
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_tcp_echo_stops_cleanly_on_signals(sig: signal.Signals) -> None:
    with _serving("tcp", "--echo") as (proc, endpoint):
        with netbasics.connect_tcp(endpoint, timeout=5.0) as conn:
            conn.send_all(b"ping\n")
            assert conn.recv_until(b"\n") == b"ping\n"
            # an idle client is still connected while the server is told to stop
            proc.send_signal(sig)
            assert proc.wait(timeout=10) == 0
        assert proc.stderr is not None
        assert b"Traceback" not in proc.stderr.read()


@pytest.mark.integration
def test_serve_udp_print() -> None:
    with _serving("udp", "--print", "--bind", "127.0.0.1:0") as (proc, endpoint):
        with netbasics.open_udp(connect=endpoint) as sock:
            sock.send(b"printed line\n")
        assert proc.stdout is not None
        assert proc.stdout.readline() == b"printed line\n"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0


@pytest.mark.integration
def test_serve_tcp_with_a_real_peer() -> None:
    """socat as the client of `netbasics serve tcp --echo`."""
    socat = shutil.which("socat")
    if socat is None:
        pytest.skip("socat is not installed (.ci/run installs it)")
    with _serving("tcp", "--echo") as (proc, endpoint):
        done = subprocess.run(
            [socat, "-t", "2", "-", f"TCP:{endpoint.address}:{endpoint.port}"],
            input=b"through socat\n",
            capture_output=True,
            timeout=30,
            check=True,
        )
        assert done.stdout == b"through socat\n"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    import netbasics

    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out == f"netbasics {netbasics.__version__}\n"


def test_version_is_single_sourced() -> None:
    # The installed metadata (what pip and PyPI show) is built from __version__.
    import importlib.metadata

    assert importlib.metadata.version("netbasics") == netbasics.__version__


# --- issue 14 reproductions ------------------------------------------------------------------------


def test_options_before_and_after_positionals(tcp_echo_server: TCPServer) -> None:
    target = str(tcp_echo_server.endpoint)
    assert run(["send", "tcp", target, "--timeout", "2", "hello"])[:2] == (0, "hello\n")
    assert run(["send", "--timeout", "2", "tcp", target, "hi"])[:2] == (0, "hi\n")
    code, out, _ = run(["classify", "10.0.0.1", "--json", "::1"])
    assert code == 0
    assert [json.loads(line)["address"] for line in out.splitlines()] == ["10.0.0.1", "::1"]


def test_classify_recognises_pasted_things() -> None:
    code, _, err = run(["classify", "1.2.3.4:80", "10.0.0.0/8", "http://169.254.169.254/latest/meta-data", "[::1]:443"])
    assert code == 1
    lines = err.splitlines()
    assert "'1.2.3.4:80' is an endpoint (address:port), not an address" in lines[0]
    assert "netbasics classify 1.2.3.4" in lines[0]
    assert "'10.0.0.0/8' is a network (CIDR prefix), not an address: use netbasics net 10.0.0.0/8" in lines[1]
    assert (
        "is a URL, not an address: netbasics check takes URLs; classify its host: netbasics classify 169.254.169.254"
        in lines[2]
    )
    assert "'[::1]:443' is an endpoint" in lines[3]


def test_classify_json_has_a_record_for_every_row() -> None:
    code, out, err = run(["classify", "--json", "-"], stdin="10.0.0.1\nbogus\n# comment\n\n::1\n")
    assert code == 1
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["input"] for r in records] == ["10.0.0.1", "bogus", "::1"]
    assert records[1] == {"input": "bogus", "error": "expected 4 octets separated by '.', got 1 in 'bogus'"}
    assert err == "netbasics classify: stdin line 2: expected 4 octets separated by '.', got 1 in 'bogus'\n"


def test_entry_has_one_shape_everywhere() -> None:
    entry = {"prefix": "10.0.0.0/8", "name": "Private-Use", "rfc": "RFC 1918", "registry": "iana-ipv4-special"}
    assert json.loads(run(["classify", "--json", "10.1.2.3"])[1])["entry"] == entry
    assert json.loads(run(["net", "--json", "10.1.0.0/16"])[1])["entry"] == entry
    assert json.loads(run(["net", "--json", "8.8.8.0/24"])[1])["entry"] is None


def test_check_urls_and_service_ports() -> None:
    code, out, _ = run(["check", "http://169.254.169.254/latest/meta-data", "https://8.8.8.8/x", "http://[::1]:8080/"])
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith("http://169.254.169.254/latest/meta-data: unsafe (metadata): cloud metadata service")
    assert lines[1] == "https://8.8.8.8/x: safe"
    assert lines[2].startswith("http://[::1]:8080/: unsafe (loopback): ")
    # the URL's port (or its scheme's default) meets the policy's ports; names work in --ports
    code, out, _ = run(["check", "--ports", "80,https", "https://8.8.8.8/", "http://8.8.8.8:8080/", "8.8.8.8:443"])
    assert code == 1
    assert out.splitlines() == [
        "https://8.8.8.8/: safe",
        "http://8.8.8.8:8080/: unsafe (port-not-allowed): port 8080 is not allowed by policy (allowed: 80, 443)",
        "8.8.8.8:443: safe",
    ]
    code, _, err = run(["check", "--ports", "80,htps", "8.8.8.8"])
    assert code == 2
    assert "'htps' is not a port: give numbers 0 to 65535 or service names such as https" in err
    assert "parse_port" not in err


def test_check_json_error_record() -> None:
    code, out, err = run(["check", "--json", "10.0.0.0/8", "8.8.8.8"])
    assert code == 1
    first, second = (json.loads(line) for line in out.splitlines())
    assert first == {
        "input": "10.0.0.0/8",
        "error": "'10.0.0.0/8' is a network, not a destination: check one address, e.g. 10.0.0.0",
    }
    assert second["safe"] is True
    assert len(err.splitlines()) == 1


def test_port_protocols_and_signs() -> None:
    code, out, err = run(["port", "--protocol", "udp", "redis", "22"])
    assert code == 1
    assert err == "netbasics port: argument: 'redis' is port 6379 for tcp only, not udp (drop --protocol to see it)\n"
    assert out.split() == ["22", "well-known", "ssh", "(udp)"]
    code, out, err = run(["port", "--", "-1"])
    assert (code, out) == (1, "")
    assert err == "netbasics port: argument: '-1' is not a valid port: ports are 0 to 65535\n"
    code, out, _ = run(["port", "-"], stdin="22\nhttps\n")
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()] == ["22", "https"]


def test_net_collapse_is_strict_unless_told() -> None:
    code, out, err = run(["net", "--collapse", "10.1.2.3/8"])
    assert (code, out) == (1, "")
    assert err == "netbasics net: argument: '10.1.2.3/8' has host bits set; did you mean '10.0.0.0/8'?\n"
    code, out, err = run(["net", "--collapse", "-"], stdin="10.1.2.3/8\n")
    assert (code, out) == (1, "")
    assert "stdin line 1" in err
    code, out, _ = run(["net", "--collapse", "--no-strict", "10.1.2.3/8", "10.0.0.0/9"])
    assert (code, out) == (0, "10.0.0.0/8\n")
    code, out, _ = run(["net", "--collapse", "--json", "10.0.0.0/25", "10.0.0.128/25", "bogus"])
    assert code == 1
    assert [json.loads(line) for line in out.splitlines()] == [
        {
            "input": "bogus",
            "error": "bad address in network 'bogus': expected 4 octets separated by '.', got 1 in 'bogus'",
        },
        {"network": "10.0.0.0/24"},
    ]


def test_net_contains_reads_stdin_and_carries_on() -> None:
    code, out, err = run(["net", "10.0.0.0/8", "--contains", "garbage", "10.0.0.1"])
    assert code == 1
    assert out == "10.0.0.1: in 10.0.0.0/8\n"
    assert len(err.splitlines()) == 1
    code, out, _ = run(["net", "10.0.0.0/8", "--contains", "-"], stdin="10.9.9.9\n# c\n11.0.0.1\n")
    assert code == 1
    assert out.splitlines() == ["10.9.9.9: in 10.0.0.0/8", "11.0.0.1: not in 10.0.0.0/8"]
    code, out, _ = run(["net", "10.0.0.0/8", "--json", "--contains", "10.9.9.9", "x"])
    assert [json.loads(line) for line in out.splitlines()] == [
        {"input": "10.9.9.9", "network": "10.0.0.0/8", "contains": True},
        {"input": "x", "error": "expected 4 octets separated by '.', got 1 in 'x'"},
    ]


def test_probe_json_every_row(free_port: int) -> None:
    code, out, err = run(["probe", "--json", "--timeout", "2", "bogus", f"127.0.0.1:{free_port}"])
    assert code == 1
    bad, closed = (json.loads(line) for line in out.splitlines())
    assert set(bad) == {"input", "error"}
    assert closed["open"] is False
    assert closed["input"] == f"127.0.0.1:{free_port}"
    assert len(err.splitlines()) == 1


def test_send_tcp_streams_the_reply() -> None:
    """The first piece of the reply is printed while the peer still holds the connection open."""
    import threading

    first_seen = threading.Event()

    def handler(conn: netbasics.StreamConnection) -> None:
        assert conn.recv_exactly(1) == b"x"  # read the request, so closing sends FIN, not RST
        conn.send_all(b"first\n")
        first_seen.wait(20)  # the test reads "first" from the client's stdout before this returns
        conn.send_all(b"second\n")

    with TCPServer("127.0.0.1:0", handler) as server:
        proc = subprocess.Popen(
            [sys.executable, "-m", "netbasics", "send", "tcp", str(server.endpoint), "x", "--timeout", "30"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            assert proc.stdout is not None
            assert proc.stdout.readline() == b"first\n"
            first_seen.set()
            assert proc.stdout.readline() == b"second\n"
            assert proc.wait(timeout=30) == 0
        finally:
            first_seen.set()
            proc.kill()
            proc.wait()
            for stream in (proc.stdout, proc.stderr):
                if stream is not None:
                    stream.close()


@pytest.mark.integration
def test_serve_bind_without_port_and_second_signal() -> None:
    """--bind ADDRESS means a free port; one signal waits the grace for open connections, a second stops now."""
    with _serving("tcp", "--bind", "127.0.0.1", "--grace", "60") as (proc, endpoint):
        assert str(endpoint.address) == "127.0.0.1"
        assert endpoint.port != 0
        with netbasics.connect_tcp(endpoint, timeout=5.0) as conn:
            conn.send_all(b"ping\n")
            assert conn.recv_until(b"\n") == b"ping\n"
            assert proc.stderr is not None
            proc.send_signal(signal.SIGINT)
            line = proc.stderr.readline()
            assert (
                line == b"netbasics serve: stopping; waiting up to 60 s for 1 connection (signal again to stop now)\n"
            )
            proc.send_signal(signal.SIGINT)  # well inside the 60 s grace
            assert proc.wait(timeout=10) == 0
            assert proc.stderr.read() == b"netbasics serve: stopping now\n"


@pytest.mark.integration
def test_serve_grace_is_short_by_default() -> None:
    """With an idle client connected, one signal stops after the 0.5 s grace, not the 60 s idle timeout."""
    with _serving("tcp") as (proc, endpoint), netbasics.connect_tcp(endpoint, timeout=5.0) as conn:
        # A round trip first, so the server has accepted the connection the message counts.
        conn.send_all(b"ping\n")
        assert conn.recv_until(b"\n") == b"ping\n"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        assert proc.stderr is not None
        assert proc.stderr.read() == (
            b"netbasics serve: stopping; waiting up to 0.5 s for 1 connection (signal again to stop now)\n"
        )


@pytest.mark.parametrize("block", [1, 7, 64, 1 << 18])
def test_stdin_blocks_split_lines_exactly(monkeypatch: pytest.MonkeyPatch, block: int) -> None:
    """However reads cut the bytes, rows come out whole, numbered, with long lines cut and bad bytes kept."""
    from netbasics import cli

    monkeypatch.setattr(cli, "_BATCH_BYTES", block)
    monkeypatch.setattr(cli, "_LINE_LIMIT", 100)
    data = b"10.0.0.1\n\n::1\r\n" + b"x" * 250 + b"\n8.8.8.8\n\xff\xfe\nlast-without-newline"
    stdin = io.TextIOWrapper(io.BufferedReader(io.BytesIO(data)))
    rows = list(cli._rows(["-"], stdin))
    texts = [text for _, text in rows]
    # A line longer than the limit is cut when it spans reads (memory stays bounded).
    assert texts[2] in ("x" * 100, "x" * 250)
    assert texts[:2] + texts[3:] == ["10.0.0.1", "::1", "8.8.8.8", "\\xff\\xfe", "last-without-newline"]
    assert [where for where, _ in rows][:2] == ["stdin line 1", "stdin line 3"]
    assert rows[3][0] == "stdin line 5"


def test_check_name_without_port_meets_only_the_address_rules() -> None:
    code, out, _ = run(["check", "--ports", "443", "--allow-loopback", "localhost", "localhost:22", "localhost:443"])
    assert code == 1
    assert out.splitlines() == [
        "localhost: safe",
        "localhost:22: unsafe (port-not-allowed): port 22 is not allowed by policy (allowed: 443)",
        "localhost:443: safe",
    ]
    code, out, _ = run(["check", "--json", "localhost"])
    record = json.loads(out)
    assert (record["safe"], record["reason"], record["addresses"][0]) == (False, "loopback", "127.0.0.1")
    assert record["detail"].startswith("resolves to 127.0.0.1: loopback")
