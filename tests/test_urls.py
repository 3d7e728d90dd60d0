"""check_url / read_url: a URL is accepted only when urllib.parse and a WHATWG parser read its host alike.

The two readings are the real parsers: ``urllib.parse.urlsplit`` and ``ada`` (the WHATWG
URL parser behind Node.js), over the forms issue 21 lists and generated ones.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import ada_url
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from netbasics import (
    Address,
    DestinationPolicy,
    Endpoint,
    UnsafeDestination,
    UnsafeReason,
    check_url,
    parse_address,
)
from netbasics._urls import DEFAULT_PORTS, read_url

Host = Address | str


def _norm(host: str) -> Host:
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        return parse_address(bare)
    except ValueError:
        return host.lower()


def whatwg(url: str) -> tuple[Host, int | None] | None:
    """ada's reading: (host, port), or None when it rejects the URL."""
    try:
        parsed = ada_url.URL(url)
    except ValueError:
        return None
    scheme = parsed.protocol.rstrip(":")
    port = int(parsed.port) if parsed.port else DEFAULT_PORTS.get(scheme)
    return _norm(parsed.hostname), port


def python(url: str) -> tuple[Host, int | None] | None:
    """urllib.parse's reading, as http.client would get it (IDNA applied like the socket module)."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    if not host:
        return None
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    return _norm(host), port if port is not None else DEFAULT_PORTS.get(parts.scheme.lower())


def ours(url: str) -> tuple[Host, int | None] | None:
    try:
        _scheme, host, port = read_url(url)
    except UnsafeDestination:
        return None
    if getattr(host, "zone", None) is not None:
        return None  # every policy refuses an address with a zone (WHATWG refuses the URL)
    return host, port


# --- the forms from the issue that split the two readings --------------------------------------------------

SPLITTING = [
    "http://127.0.0.1\\@8.8.8.8/",
    "http://8.8.8.8\\@127.0.0.1/",
    "http://127.0.0.1:80\\@8.8.8.8/",
    "http://[::1]\\@8.8.8.8/",
    "http://evil.example\\.allowed.example/",
    "http://allowed.example\\@evil.example/",
    "http:/\\127.0.0.1/",
    "http:\\\\127.0.0.1/",
    "http:\\/127.0.0.1/",
    "http:127.0.0.1/",
    "http:/127.0.0.1/",
    "https:///127.0.0.1/",
    "http://%31%32%37.0.0.1/",
    "http://a%40b@127%2e0.0.1/",
    "http://127%2E0%2E0%2E1/",
    "http://a@b@127.0.0.1/",
    "http://user@evil.example@allowed.example/",
    " http://127.0.0.1/",
    "http://127.0.0.1/ ",
    "http://127.0.0.1\t@8.8.8.8/",
    "http://8.8.8.8\n@127.0.0.1/",
    "ht\ttp://127.0.0.1/",
    "http://127.0.\r0.1/",
    "http://\x00127.0.0.1/",
    "http://fa\u00df.example/",
    "http://\u03c2.example/",
    "http://a\u200db.example/",
    "h.ttp://b\u00fccher.example/",
    "http://[127.0.0.1]/",
    "wss://user@.[::1]/",
    "wss://[::1]%2f/",
]


@pytest.mark.parametrize("url", SPLITTING)
def test_splitting_forms_are_refused_naming_why(url: str) -> None:
    with pytest.raises(UnsafeDestination) as info:
        read_url(url)
    assert info.value.reason in (UnsafeReason.AMBIGUOUS_URL, UnsafeReason.INVALID)
    assert info.value.host is not None
    assert info.value.host in url  # the URL, or for a refused host the host as written
    assert len(str(info.value)) <= 300


def test_the_issue_example_splits_in_the_real_parsers() -> None:
    url = "http://127.0.0.1\\@8.8.8.8/"
    assert python(url) == (parse_address("8.8.8.8"), 80)
    assert whatwg(url) == (parse_address("127.0.0.1"), 80)
    with pytest.raises(UnsafeDestination, match=r"backslash in the authority: urllib reads host '8\.8\.8\.8'"):
        check_url(url)


AGREEING = [
    ("http://example.com/", "example.com", 80),
    ("HTTPS://Example.COM:8443/a?b#c", "example.com", 8443),
    ("http://user:pw@example.com/", "example.com", 80),
    ("http://example.com#@127.0.0.1/", "example.com", 80),
    ("http://example.com?@127.0.0.1/", "example.com", 80),
    ("http://example.com/\\@127.0.0.1/", "example.com", 80),
    ("http://127.0.0.1%2f@8.8.8.8/", None, None),  # percent in the userinfo only: both read 8.8.8.8
    ("http://[2001:db8::1]:8080/", "2001:db8::1", 8080),
    ("ws://example.com/", "example.com", 80),
    ("http://b\u00fccher.example/", "xn--bcher-kva.example", 80),
    ("http://example.com./", "example.com.", 80),
]


@pytest.mark.parametrize(("url", "host", "port"), AGREEING)
def test_ordinary_urls_are_read_alike(url: str, host: str | None, port: int | None) -> None:
    got = ours(url)
    assert got is not None
    assert got == python(url) == whatwg(url)
    if host is not None:
        assert got == (_norm(host), port)


# --- generated URLs: whenever the check accepts one, both real parsers read its host alike -----------------

_PIECES = [
    "\\",
    "@",
    "%2f",
    "%40",
    "%2e",
    "%25",
    "#",
    "?",
    "/",
    ":",
    "\t",
    "\n",
    " ",
    ".",
    "[",
    "]",
    "\u00df",
    "\uff0e",
]
_HOSTS = [
    "example.com",
    "127.0.0.1",
    "8.8.8.8",
    "[::1]",
    "[::ffff:127.0.0.1]",
    "127.1",
    "0x7f.1",
    "2130706433",
    "EXAMPLE.com",
    "b\u00fccher.example",
    "\uff11\uff12\uff17.0.0.1",
    "exa_mple.com",
    "a-b.example.",
    "",
]
_label = st.text(alphabet="abcxyz0189-_.", min_size=1, max_size=8)


@st.composite
def urls(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["http", "https", "HTTP", "ws", "wss", "ftp"]))
    sep = draw(st.sampled_from(["//"] * 8 + ["/", "", "\\\\", "/\\", "\\/", "///"]))
    user = draw(st.sampled_from(["", "", "user@", "u:p@", "a@b@", "127.0.0.1\\@", "x%40y@", "8.8.8.8@"]))
    host = draw(st.one_of(st.sampled_from(_HOSTS), _label))
    port = draw(st.sampled_from(["", "", ":80", ":8080", ":", ":0x50", ":65536", ":08"]))
    rest = draw(st.sampled_from(["", "/", "/p", "?q", "#f", "\\x", "/a\\b", "#@127.0.0.1", "?@127.0.0.1/"]))
    url = f"{scheme}:{sep}{user}{host}{port}{rest}"
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 2]))):
        at = draw(st.integers(0, len(url)))
        url = url[:at] + draw(st.sampled_from(_PIECES)) + url[at:]
    return url


@settings(max_examples=1500, deadline=None)
@given(urls())
@example("http://127.0.0.1\\@8.8.8.8/")
@example("http://[::1]:80@8.8.8.8/")
@example("http://8.8.8.8:@127.0.0.1/")
@example("h.ttp://b\u00fccher.example")
@example("wss://user@.[::1]")
@example("wss://[::1]%2f")
def test_accepted_urls_read_alike_in_both_parsers(url: str) -> None:
    got = ours(url)
    if got is None:
        return
    assert whatwg(url) == got, "WHATWG (ada) reads another host or port"
    assert python(url) == got, "urllib.parse reads another host or port"


# --- check_url: the policy after the reading ---------------------------------------------------------------


Info = tuple[int, int, int, str, tuple[Any, ...]]


def _table(
    host: str, port: int | None, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0
) -> Sequence[Info]:
    answers = {"public.test": "93.184.216.34", "internal.test": "10.0.0.5"}
    if host not in answers:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], port or 0))]


def test_check_url_resolves_and_checks() -> None:
    assert check_url("https://public.test/x", resolver=_table) == [Endpoint("93.184.216.34", 443)]
    with pytest.raises(UnsafeDestination, match=r"internal\.test resolves to an unsafe address: 10\.0\.0\.5"):
        check_url("https://internal.test/", resolver=_table)
    with pytest.raises(UnsafeDestination) as info:
        check_url("http://127.1/")
    assert info.value.reason is UnsafeReason.LEGACY_NUMERIC
    with pytest.raises(UnsafeDestination) as info:
        check_url("http://8.8.8.8:22/", policy=DestinationPolicy(allowed_ports=[80, 443]))
    assert info.value.reason is UnsafeReason.PORT_NOT_ALLOWED
    # No port and no default: only the address rules apply.
    assert check_url("gopher://8.8.8.8/", policy=DestinationPolicy(allowed_ports=[80])) == [Endpoint("8.8.8.8", 0)]
    with pytest.raises(TypeError):
        check_url(b"http://x/")  # type: ignore[arg-type]
