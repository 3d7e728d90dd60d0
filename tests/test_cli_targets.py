"""The command line's one token recogniser: every kind, its edge cases, and what each command makes of it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import netbasics
from cli_run import run
from netbasics import Endpoint, HostPort, IPv4Address, IPv6Address, UnixAddress, UnsafeDestination, parse_address
from netbasics._cli.targets import Kind, recognise
from netbasics.cli import build_parser, main
from netbasics.errors import AddressError, CIDRError, EndpointError

KINDS: list[tuple[str, Kind]] = [
    # addresses, both families, with a zone, IPv4-mapped
    ("192.0.2.1", Kind.ADDRESS),
    ("2001:DB8::1", Kind.ADDRESS),
    ("fe80::1%eth0", Kind.ADDRESS),
    ("fe80::1%1", Kind.ADDRESS),
    ("::ffff:192.0.2.1", Kind.ADDRESS),
    ("2001:db8::1:80", Kind.ADDRESS),  # a valid address, not an unbracketed endpoint
    # an address in brackets, without a port
    ("[::1]", Kind.BRACKETED),
    ("[fe80::1%eth0]", Kind.BRACKETED),
    ("[192.0.2.1]", Kind.BRACKETED),
    # endpoints: an IP literal and a port
    ("192.0.2.1:80", Kind.ENDPOINT),
    ("192.0.2.1:0", Kind.ENDPOINT),
    ("[::1]:443", Kind.ENDPOINT),
    ("[fe80::1%eth0]:80", Kind.ENDPOINT),
    ("[::ffff:192.0.2.1]:80", Kind.ENDPOINT),
    # a name and a port
    ("localhost:8080", Kind.HOST_PORT),
    ("Example.COM:443", Kind.HOST_PORT),
    ("example.com:https", Kind.HOST_PORT),
    ("192.0.2.1:https", Kind.ENDPOINT),
    ("[::1]:domain", Kind.ENDPOINT),
    # networks (host bits allowed: the kind, not the strictness, is recognised)
    ("10.0.0.0/8", Kind.NETWORK),
    ("10.1.2.3/8", Kind.NETWORK),
    ("2001:db8::/32", Kind.NETWORK),
    ("::/0", Kind.NETWORK),
    # URLs, with userinfo, port, IPv6 host, or broken
    ("http://169.254.169.254/latest/meta-data", Kind.URL),
    ("https://user:pw@192.0.2.1:8443/x", Kind.URL),
    ("http://user@example.com/", Kind.URL),
    ("http://[::1]:8080/", Kind.URL),
    ("HTTP://192.0.2.1", Kind.URL),
    ("http://", Kind.URL),
    ("http://[::1", Kind.URL),
    ("http://host:99999/", Kind.URL),
    ("://", Kind.URL),
    # Unix sockets: the prefix decides, valid or not; it wins over '://'
    ("unix:/run/app.sock", Kind.UNIX),
    ("unix:@abstract", Kind.UNIX),
    ("unix:./relative", Kind.UNIX),
    ("unix:relative", Kind.UNIX),
    ("unix:", Kind.UNIX),
    ("unix:@", Kind.UNIX),
    ("unix://x", Kind.UNIX),
    ("unix:" + "p" * 200, Kind.UNIX),
    # no colon, none of the above: a name to resolve, or junk
    ("localhost", Kind.NAME),
    ("example.com", Kind.NAME),
    ("bad host name!", Kind.NAME),
    ("1.2.3.256", Kind.NAME),
    ("10.0.0.0/33", Kind.NAME),
    ("/etc/passwd", Kind.NAME),
    ("", Kind.NAME),
    ("\x00", Kind.NAME),
    ("\udcff\udcfe", Kind.NAME),
    # a colon but no endpoint
    ("UNIX:/x", Kind.OTHER),
    ("http:/x", Kind.OTHER),
    (":80", Kind.OTHER),
    ("[::1]:", Kind.OTHER),
    ("[::1", Kind.OTHER),
    ("[::g]:80", Kind.OTHER),
    ("192.0.2.1:99999", Kind.OTHER),
    ("192.0.2.1:-1", Kind.OTHER),
    ("192.0.2.1:abc", Kind.OTHER),
    ("192.0.2.1:no-such-service", Kind.OTHER),
    ("a:b:c", Kind.OTHER),
    ("fe80::1%", Kind.OTHER),
    ("10.0.0.0/8:80", Kind.OTHER),
    ("é.example:80", Kind.OTHER),
]


@pytest.mark.parametrize(("text", "kind"), KINDS)
def test_kind(text: str, kind: Kind) -> None:
    token = recognise(text)
    assert token.kind is kind
    assert token.text == text


def test_every_kind_has_a_row() -> None:
    assert {kind for _, kind in KINDS} == set(Kind)


def test_what_is_parsed_on_the_way() -> None:
    assert recognise("fe80::1%eth0").address == IPv6Address("fe80::1%eth0")
    assert recognise("[::1]").address == IPv6Address("::1")
    assert recognise("[fe80::1%eth0]:80").endpoint == Endpoint(IPv6Address("fe80::1%eth0"), 80)
    assert recognise("localhost:8080").endpoint == HostPort("localhost", 8080)
    assert str(recognise("10.1.2.3/8").network) == "10.0.0.0/8"
    assert recognise("unix:@abstract").unix == UnixAddress("abstract", abstract=True)
    assert recognise("unix:./relative").unix == UnixAddress("./relative")
    assert isinstance(recognise("unix:").error, EndpointError)
    assert recognise("unix:").unix is None


# --- what each command makes of a token ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("192.0.2.1:80", Endpoint(IPv4Address("192.0.2.1"), 80)),
        ("[fe80::1%eth0]:80", Endpoint(IPv6Address("fe80::1%eth0"), 80)),
        ("localhost:8080", HostPort("localhost", 8080)),
        ("unix:@abstract", UnixAddress("abstract", abstract=True)),
        ("unix:./relative", UnixAddress("./relative")),
        # a service name for the port, as nc takes one
        ("localhost:https", HostPort("localhost", 443)),
        ("192.0.2.1:SSH", Endpoint(IPv4Address("192.0.2.1"), 22)),
        ("[fe80::1%eth0]:http", Endpoint(IPv6Address("fe80::1%eth0"), 80)),
    ],
)
def test_connect_target(text: str, expected: object) -> None:
    assert recognise(text).connect_target() == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "https://user:pw@192.0.2.1:8443/x",
            "'https://user:pw@192.0.2.1:8443/x' is a URL; give HOST:PORT (for example 192.0.2.1:8443)",
        ),
        ("http://[::1]/", "'http://[::1]/' is a URL; give HOST:PORT (for example [::1]:80)"),
        ("foo://bar", "'foo://bar' is a URL; give HOST:PORT (for example bar:PORT)"),
        ("http://", "'http://' is a URL; give HOST:PORT (for example HOST:PORT)"),
        ("unix:", "empty Unix socket path"),
        ("localhost", "missing ':PORT' in 'localhost'"),
        ("192.0.2.1:99999", "bad port in '192.0.2.1:99999': port '99999' is out of range (0 to 65535)"),
        (
            "192.0.2.1:nosuch",
            "bad port in '192.0.2.1:nosuch': port 'nosuch' is neither a port number nor a known tcp service name",
        ),
        ("http:/x", "bad port in 'http:/x': port '/x' is neither a port number nor a known tcp service name"),
        ("bad host:https", "bad host in 'bad host:https': bad host name label 'bad host' in 'bad host'"),
        ("[::g]:http", "bad address in '[::g]:http': character 'g' is not allowed"),
        # an address without a port: the hint brackets IPv6, never splits it at a colon
        ("192.0.2.1", "'192.0.2.1' has no port: give ADDRESS:PORT (for example 192.0.2.1:PORT)"),
        ("::1", "'::1' has no port: give ADDRESS:PORT (for example [::1]:PORT)"),
        ("fe80::1%eth0", "'fe80::1%eth0' has no port: give ADDRESS:PORT (for example [fe80::1%eth0]:PORT)"),
        ("[::1]", "'[::1]' has no port: give ADDRESS:PORT (for example [::1]:PORT)"),
        ("2001:db8::/32", "'2001:db8::/32' is a network (CIDR prefix), not HOST:PORT"),
        ("10.0.0.0/8", "'10.0.0.0/8' is a network (CIDR prefix), not HOST:PORT"),
        # a bad IPv6 address is reported as one, not as an endpoint to bracket ('[fe80:]:1%')
        ("fe80::1%", "empty zone after '%' in 'fe80::1%'"),
        ("a:b:c", "expected 8 groups, got 3 in 'a:b:c'"),
        ("::1:99999", "ambiguous IPv6 endpoint '::1:99999': write it as '[::1]:99999'"),
    ],
)
def test_connect_target_refuses(text: str, message: str) -> None:
    with pytest.raises(EndpointError) as info:
        recognise(text).connect_target()
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("192.0.2.1", IPv4Address("192.0.2.1")),
        ("fe80::1%eth0", IPv6Address("fe80::1%eth0")),
        ("[::1]", IPv6Address("::1")),
        ("[192.0.2.1]", IPv4Address("192.0.2.1")),
        ("[::1]:443", Endpoint(IPv6Address("::1"), 443)),
        ("example.com:443", HostPort("example.com", 443)),
        ("example.com", "example.com"),  # a bare name: resolved without a port
        ("https://user:pw@192.0.2.1:8443/x", Endpoint(IPv4Address("192.0.2.1"), 8443)),
        ("http://user@example.com/", HostPort("example.com", 80)),
        ("wss://[2001:db8::1]/", Endpoint(IPv6Address("2001:db8::1"), 443)),
        ("ftp://192.0.2.1/", Endpoint(IPv4Address("192.0.2.1"), 21)),
        # RFC 6874: the zone delimiter is written '%25' in a URL
        ("http://[fe80::1%25eth0]:8080/", Endpoint(IPv6Address("fe80::1%eth0"), 8080)),
    ],
)
def test_destination(text: str, expected: object) -> None:
    assert recognise(text).destination() == expected


@pytest.mark.parametrize(
    ("text", "error", "message"),
    [
        ("10.1.2.3/8", CIDRError, "'10.1.2.3/8' is a network, not a destination: check one address, e.g. 10.0.0.0"),
        ("http://", EndpointError, "URL 'http://' has no host"),
        ("http://[::1", EndpointError, "bad URL 'http://[::1': Invalid IPv6 URL"),
        ("foo://bar", EndpointError, "URL 'foo://bar' has no port and 'foo' has no default port"),
        ("a:b:c", EndpointError, "expected 8 groups, got 3 in 'a:b:c'"),
        (
            "unix:/run/app.sock",
            EndpointError,
            "'unix:/run/app.sock' is a Unix socket, not a network destination: check takes ADDRESS, HOST[:PORT] or URL",
        ),
        (
            "unix://x",
            EndpointError,
            "'unix://x' is a Unix socket, not a network destination: check takes ADDRESS, HOST[:PORT] or URL",
        ),
    ],
)
def test_destination_refuses(text: str, error: type[Exception], message: str) -> None:
    with pytest.raises(error) as info:
        recognise(text).destination()
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1", Endpoint(IPv4Address("127.0.0.1"), 0)),
        ("::1", Endpoint(IPv6Address("::1"), 0)),
        ("[::1]", Endpoint(IPv6Address("::1"), 0)),
        ("[fe80::1%eth0]", Endpoint(IPv6Address("fe80::1%eth0"), 0)),
        ("[::1]:8080", Endpoint(IPv6Address("::1"), 8080)),
        ("unix:@abstract", UnixAddress("abstract", abstract=True)),
        ("unix:./relative", UnixAddress("./relative")),
    ],
)
def test_bind_endpoint(text: str, expected: object) -> None:
    assert recognise(text).bind_endpoint() == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("unix:", "empty Unix socket path"),
        ("[::1]:", "expected ':PORT' after ']' in '[::1]:'"),
        ("garbage", "'garbage' is a host name; bind to an IP address"),
        ("localhost:8080", "'localhost' in 'localhost:8080' is a host name; bind to an IP address"),
        ("example.com:https", "'example.com' in 'example.com:https' is a host name; bind to an IP address"),
        ("1.2.3.256", "octet 256 out of range in '1.2.3.256'"),
        ("http://[::1]:8080/", "'http://[::1]:8080/' is a URL, not an endpoint"),
        ("10.0.0.0/8", "'10.0.0.0/8' is a network (CIDR prefix), not an endpoint"),
        ("fe80::1%", "empty zone after '%' in 'fe80::1%'"),
        ("bad host:80", "bad host name label 'bad host' in 'bad host'"),
        (
            "127.0.0.1:nosuch",
            "bad port in '127.0.0.1:nosuch': port 'nosuch' is neither a port number nor a known tcp service name",
        ),
    ],
)
def test_bind_endpoint_refuses(text: str, message: str) -> None:
    with pytest.raises(EndpointError) as info:
        recognise(text).bind_endpoint()
    assert str(info.value) == f"{message} (give ADDRESS, ADDRESS:PORT or unix:PATH)"


def _why(text: str) -> str:
    with pytest.raises(AddressError) as info:
        parse_address(text)
    return recognise(text).not_an_address(info.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "https://user:pw@192.0.2.1:8443/x",
            "'https://user:pw@192.0.2.1:8443/x' is a URL, not an address: netbasics check takes URLs; "
            "classify its host: netbasics classify 192.0.2.1",
        ),
        ("http://user@example.com/", "'http://user@example.com/' is a URL, not an address: netbasics check takes URLs"),
        ("http://[::1", "'http://[::1' is a URL, not an address: netbasics check takes URLs"),
        ("10.1.2.3/8", "'10.1.2.3/8' is a network (CIDR prefix), not an address: use netbasics net 10.0.0.0/8"),
        (
            "[fe80::1%eth0]:80",
            "'[fe80::1%eth0]:80' is an endpoint (address:port), not an address: classify its address "
            "(netbasics classify fe80::1%eth0), or check it (netbasics check [fe80::1%eth0]:80)",
        ),
        ("[::1]", "'[::1]' is an address in brackets: classify it without them (netbasics classify ::1)"),
        (
            "[fe80::1%eth0]",
            "'[fe80::1%eth0]' is an address in brackets: classify it without them (netbasics classify fe80::1%eth0)",
        ),
        (
            "localhost:8080",
            "'localhost:8080' is a host name and port, not an address: check it (netbasics check localhost:8080)",
        ),
        ("unix:@abstract", "'unix:@abstract' is a Unix socket address, not an IP address"),
        ("unix:./relative", "'unix:./relative' is a Unix socket address, not an IP address"),
        (
            "http://[fe80::1%25eth0]/",
            "'http://[fe80::1%25eth0]/' is a URL, not an address: netbasics check takes URLs; "
            "classify its host: netbasics classify fe80::1%eth0",
        ),
        ("bogus", "expected 4 octets separated by '.', got 1 in 'bogus'"),
        ("localhost", "expected 4 octets separated by '.', got 1 in 'localhost'"),  # names: no guessing
        ("1.2.3.256", "octet 256 out of range in '1.2.3.256'"),
    ],
)
def test_not_an_address(text: str, message: str) -> None:
    assert _why(text) == message


_TOKEN = st.one_of(
    st.text(max_size=40),
    st.text(alphabet="0123456789abcdefhlnptsux:.[]%/@+- ", max_size=30),
    st.sampled_from([text for text, _ in KINDS]).flatmap(
        lambda text: st.integers(0, len(text)).map(lambda cut: text[:cut])
    ),
)


@settings(max_examples=500)
@given(_TOKEN)
def test_never_raises_and_messages_stay_short(text: str) -> None:
    """Any text gets a kind; every answer is a value or a short error that names no library function."""
    token = recognise(text)
    for answer in (token.connect_target, token.destination, token.bind_endpoint):
        message = ""
        try:
            answer()
        except (EndpointError, CIDRError, UnsafeDestination) as exc:  # URLs: ambiguous or legacy hosts
            message = str(exc)
        assert len(message) < 600
        # No library function is named (the input, quoted back, may contain anything).
        leaked = [name for name in netbasics.__all__ if f"{name}()" in message and f"{name}()" not in text]
        assert not leaked, message


# --- through the command line ------------------------------------------------------------------


def test_probe_and_send_say_the_port_is_missing() -> None:
    code, out, err = run(["probe", "::1", "10.0.0.0/8"])
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        "netbasics probe: argument: '::1' has no port: give ADDRESS:PORT (for example [::1]:PORT)",
        "netbasics probe: argument: '10.0.0.0/8' is a network (CIDR prefix), not HOST:PORT",
    ]
    code, out, err = run(["send", "tcp", "fe80::1%eth0", "x"])
    assert (code, out) == (1, "")
    assert err == "netbasics send: 'fe80::1%eth0' has no port: give ADDRESS:PORT (for example [fe80::1%eth0]:PORT)\n"


def test_check_takes_bracketed_addresses_and_url_zones() -> None:
    code, out, _ = run(["check", "--allow-loopback", "[::1]", "[127.0.0.1]"])
    assert (code, out) == (0, "[::1]: safe\n[127.0.0.1]: safe\n")
    code, out, _ = run(["check", "--json", "http://[fe80::1%25eth0]:8080/"])
    record = json.loads(out)
    assert (code, record["safe"], record["addresses"]) == (1, False, ["fe80::1%eth0"])


def test_check_refuses_unix_sockets_in_cli_words() -> None:
    code, out, err = run(["check", "unix:/run/app.sock"])
    assert (code, out) == (1, "")
    assert err == (
        "netbasics check: argument: 'unix:/run/app.sock' is a Unix socket, not a network destination: "
        "check takes ADDRESS, HOST[:PORT] or URL\n"
    )
    assert "connect_unix" not in err  # no library names in a command's message


def test_classify_hints_for_brackets_names_with_ports_and_unix() -> None:
    code, out, err = run(["classify", "[::1]", "localhost:8080", "unix:@bus", "::1"])
    assert code == 1
    assert out.split()[0] == "::1"
    assert err.splitlines() == [
        "netbasics classify: argument: '[::1]' is an address in brackets: classify it without them "
        "(netbasics classify ::1)",
        "netbasics classify: argument: 'localhost:8080' is a host name and port, not an address: check it "
        "(netbasics check localhost:8080)",
        "netbasics classify: argument: 'unix:@bus' is a Unix socket address, not an IP address",
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("http://127.0.0.1:8080/", "'http://127.0.0.1:8080/' is a URL, not an endpoint"),
        ("localhost:8080", "'localhost' in 'localhost:8080' is a host name; bind to an IP address"),
        ("10.0.0.0/8", "'10.0.0.0/8' is a network (CIDR prefix), not an endpoint"),
    ],
)
def test_serve_bind_says_what_it_was_given(value: str, message: str) -> None:
    code, out, err = run(["serve", "tcp", "--bind", value])
    assert (code, out) == (2, "")
    assert err == (
        f"netbasics serve: argument --bind: {message} (give ADDRESS, ADDRESS:PORT or unix:PATH) "
        "(see 'netbasics serve --help')\n"
    )


def test_net_contains_before_the_network_says_so() -> None:
    code, out, err = run(["net", "--contains", "10.1.1.1", "10.0.0.0/8"])
    assert (code, out) == (2, "")
    assert err == (
        "netbasics net: give exactly one network (CIDR), got 0; "
        "put it before --contains, which takes every argument after it\n"
    )


# --- help and version --------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["classify", "check", "port", "net", "probe", "serve", "send"])
def test_every_subcommand_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    out, err = capsys.readouterr()
    assert out.startswith(f"usage: netbasics {command} ")
    assert err == ""
    positionals = out.split("positional arguments:\n")[1].split("\n\n")[0]
    for line in positionals.splitlines():
        assert len(line.split()) > 1 or not line.startswith("  {"), line  # every positional is explained


def test_top_level_help_names_every_command() -> None:
    parser = build_parser()
    description = parser.description or ""
    for word in ("classify", "check", "ports", "networks", "probe", "send", "serve"):
        assert word in description
    help_text = parser.format_help()
    for command in ("classify", "check", "port", "net", "probe", "serve", "send"):
        assert f"\n    {command} " in help_text


def test_serve_help_names_the_default_mode_and_unix(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "send back what arrives (the default)" in text
    assert "With --bind unix:PATH, tcp serves a Unix stream socket" in text


def test_help_and_version_as_a_real_process() -> None:
    for argv, first in [(["--help"], b"usage: netbasics "), (["--version"], b"netbasics ")]:
        proc = subprocess.run([sys.executable, "-m", "netbasics", *argv], capture_output=True, timeout=60, check=False)
        assert (proc.returncode, proc.stderr) == (0, b"")
        assert proc.stdout.startswith(first)
    assert proc.stdout.decode().strip() == f"netbasics {netbasics.__version__}"


def test_ports_may_be_service_names() -> None:
    code, out, err = run(["check", "--allow-loopback", "--ports", "443", "127.0.0.1:https", "[::1]:ssh"])
    assert code == 1
    assert out.splitlines() == [
        "127.0.0.1:https: safe",
        "[::1]:ssh: unsafe (port-not-allowed): port 22 is not allowed by policy (allowed: 443)",
    ]
    code, out, err = run(["probe", "127.0.0.1:no-such-service"])
    assert (code, out) == (1, "")
    assert err == (
        "netbasics probe: argument: bad port in '127.0.0.1:no-such-service': "
        "port 'no-such-service' is neither a port number nor a known tcp service name\n"
    )
    assert "parse_port" not in err


def test_check_refuses_urls_parsers_split() -> None:
    # Issue 21: urllib reads 8.8.8.8, WHATWG parsers 127.0.0.1; check used to say "safe".
    code, out, _ = run(["check", "http://127.0.0.1\\@8.8.8.8/"])
    assert code == 1
    assert out.startswith("http://127.0.0.1\\@8.8.8.8/: unsafe (ambiguous-url): backslash in the authority")
    code, out, _ = run(["check", "--json", "http://127.1/", "127.1"])
    assert code == 1
    assert [json.loads(line)["reason"] for line in out.splitlines()] == ["legacy-numeric-form"] * 2
