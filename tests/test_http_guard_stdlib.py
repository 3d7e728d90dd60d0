"""The stdlib guard: http.client connection classes and the urllib.request opener (loopback only).

The policy allows 127.0.0.1 on the public server's port only. The "internal" server
listens on 127.0.0.2 on the same port where it can (so only the address differs) and
counts its accepts, which must stay 0 whatever the public server or DNS says.
"""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
import trustme

from http_fixtures import (
    DISGUISED_HOSTS,
    CountingResolver,
    CountingServer,
    client_context,
    policy_for,
    server_context,
    serving,
)
from netbasics import DestinationPolicy, UnsafeDestination, UnsafeReason
from netbasics.http_guard import GuardedHTTPConnection, GuardedHTTPSConnection, guarded_opener

pytestmark = pytest.mark.integration


@pytest.fixture
def public() -> Iterator[CountingServer]:
    with serving(CountingServer(greeting=b"ok public")) as server:
        yield server


@pytest.fixture
def internal(public: CountingServer) -> Iterator[CountingServer]:
    try:
        server = CountingServer("127.0.0.2", public.port, greeting=b"ok internal")  # same port, other address
    except OSError:
        server = CountingServer("127.0.0.2", greeting=b"ok internal")
    with serving(server):
        yield server


@pytest.fixture
def resolver() -> CountingResolver:
    return CountingResolver({"public.test": [["127.0.0.1"]], "internal.test": [["127.0.0.2"]]})


# --- http.client -----------------------------------------------------------------------------------


def test_connection_resolves_once_per_new_connection(public: CountingServer, resolver: CountingResolver) -> None:
    conn = GuardedHTTPConnection("public.test", public.port, policy=policy_for(public.port), resolver=resolver)
    try:
        for _ in range(3):  # keep-alive: one connection, one resolution
            conn.request("GET", "/")
            assert conn.getresponse().read() == b"ok public"
        assert conn.sock is not None
        assert conn.sock.getpeername() == ("127.0.0.1", public.port)
        assert (resolver.calls, public.accepts) == (["public.test"], 1)
        conn.close()
        conn.request("GET", "/")  # a new connection: resolved again
        assert conn.getresponse().read() == b"ok public"
        assert (resolver.calls, public.accepts) == (["public.test"] * 2, 2)
    finally:
        conn.close()


def test_connection_dns_rebinding(public: CountingServer, internal: CountingServer) -> None:
    resolver = CountingResolver({"rebind.test": [["127.0.0.1"], ["127.0.0.2"]]})
    policy = DestinationPolicy(allow=["127.0.0.1"], allowed_ports=[public.port, internal.port])
    first = GuardedHTTPConnection("rebind.test", public.port, policy=policy, resolver=resolver, timeout=5)
    first.request("GET", "/")
    assert first.getresponse().read() == b"ok public"
    first.close()
    second = GuardedHTTPConnection("rebind.test", internal.port, policy=policy, resolver=resolver, timeout=5)
    with pytest.raises(UnsafeDestination) as info:
        second.request("GET", "/")
    assert (info.value.reason, str(info.value.address)) == (UnsafeReason.LOOPBACK, "127.0.0.2")
    assert internal.accepts == 0


def test_connection_refuses_literal_forms(public: CountingServer) -> None:
    for host in ("127.1", "2130706433", "::ffff:127.0.0.1", "[::ffff:7f00:1]"):
        conn = GuardedHTTPConnection(host, public.port, policy=policy_for(public.port))
        with pytest.raises(UnsafeDestination):
            conn.request("GET", "/")
    assert public.accepts == 0


def test_connection_bad_policy_type() -> None:
    with pytest.raises(TypeError):
        GuardedHTTPConnection("example.com", policy=None)  # type: ignore[arg-type]


# --- TLS -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_public(ca: trustme.CA) -> Iterator[CountingServer]:
    with serving(CountingServer(tls=server_context(ca), greeting=b"ok tls")) as server:
        yield server


def test_tls_uses_the_name_for_sni_and_certificate(
    tls_public: CountingServer, ca: trustme.CA, resolver: CountingResolver
) -> None:
    policy = policy_for(tls_public.port)
    resolver.answers["other.test"] = [["127.0.0.1"]]
    conn = GuardedHTTPSConnection(
        "public.test", tls_public.port, policy=policy, resolver=resolver, context=client_context(ca), timeout=5
    )
    conn.request("GET", "/")
    assert conn.getresponse().read() == b"ok tls"
    conn.close()
    opener = guarded_opener(policy, resolver=resolver, context=client_context(ca))
    with opener.open(tls_public.url("/", host="public.test"), timeout=5) as response:
        assert response.read() == b"ok tls"
    assert tls_public.sni == ["public.test", "public.test"]  # the name, never the address
    # The certificate names public.test: the same address under another name fails.
    with pytest.raises(urllib.error.URLError) as info:
        opener.open(tls_public.url("/", host="other.test"), timeout=5)
    assert isinstance(info.value.reason, ssl.SSLCertVerificationError)


# --- urllib.request: redirects -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.2:{port}/",  # denied address, allowed port
        "http://internal.test:{port}/",  # a name for the denied address
        "http://127.0.0.1:{other}/",  # allowed address, denied port
        "http://[::ffff:127.0.0.2]:{port}/",
        "http://127.2:{port}/",  # legacy form
        "ftp://127.0.0.1:{port}/",  # denied scheme
        "file:///etc/passwd",
        "data:text/plain,hello",
        "gopher://127.0.0.2:{port}/",
    ],
)
@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
def test_redirect_hops_are_checked(
    public: CountingServer, internal: CountingServer, resolver: CountingResolver, target: str, code: int
) -> None:
    location = target.format(port=internal.port, other=internal.port + 1 if internal.port != public.port else 1)
    refused: list[UnsafeDestination] = []
    opener = guarded_opener(policy_for(public.port), resolver=resolver, on_refusal=refused.append)
    from urllib.parse import quote

    with pytest.raises(UnsafeDestination) as info:
        opener.open(public.url(f"/redirect?code={code}&to={quote(location, safe='')}"), timeout=5)
    assert refused == [info.value]
    assert public.targets == [f"/redirect?code={code}&to={quote(location, safe='')}"]
    assert internal.accepts == 0


def test_redirect_within_policy_is_followed(public: CountingServer, resolver: CountingResolver) -> None:
    opener = guarded_opener(policy_for(public.port), resolver=resolver)
    with opener.open(public.url("/redirect?to=/"), timeout=5) as response:
        assert response.read() == b"ok public"


def _headers_after_redirect(public: CountingServer, resolver: CountingResolver, to: str) -> dict[str, str]:
    opener = guarded_opener(policy_for(public.port), resolver=resolver)
    from urllib.parse import quote

    request = urllib.request.Request(
        public.url(f"/redirect?to={quote(to, safe='')}"),
        headers={
            "Authorization": "Bearer secret",
            "Cookie": "session=1",
            "Proxy-Authorization": "Basic x",
            "X-Ok": "1",
        },
    )
    with opener.open(request, timeout=5) as response:
        headers: dict[str, str] = json.loads(response.read())
    return {k.lower(): v for k, v in headers.items()}


def test_credentials_stay_in_their_origin(public: CountingServer, resolver: CountingResolver) -> None:
    # Another origin (another host name for the same address): credentials dropped.
    other = _headers_after_redirect(public, resolver, public.url("/headers", host="public.test"))
    assert "authorization" not in other
    assert "cookie" not in other
    assert "proxy-authorization" not in other
    assert other["x-ok"] == "1"
    # The same origin keeps them (but never a proxy's credentials).
    same = _headers_after_redirect(public, resolver, "/headers")
    assert (same["authorization"], same["cookie"]) == ("Bearer secret", "session=1")
    assert "proxy-authorization" not in same


# --- urllib.request: the corpus, schemes and proxies ----------------------------------------------------


CORPUS = [
    *DISGUISED_HOSTS,
    "0x7f.1",
    "allowed@127.0.0.2",
    "public.test@127.0.0.2",
    "\uff11\uff12\uff17.\uff10.\uff10.\uff12",  # fullwidth 127.0.0.2
    "internal.test",
]


@pytest.mark.parametrize("host", CORPUS)
def test_corpus_refused_before_any_connection(host: str, public: CountingServer, internal: CountingServer) -> None:
    resolver = CountingResolver(
        {"public.test": [["127.0.0.1"]], "internal.test": [["127.0.0.2"]], "xn--bcher-kva.test": [["127.0.0.2"]]}
    )
    # Every host spells (or resolves to) 127.0.0.x on the allowed port: only the guard refuses it.
    url = f"http://{host}:{public.port}/"
    refused: list[UnsafeDestination] = []
    opener = guarded_opener(policy_for(public.port), resolver=resolver, on_refusal=refused.append)
    with pytest.raises(UnsafeDestination) as info:
        opener.open(url, timeout=5)
    assert refused == [info.value]
    assert public.accepts == 0
    assert internal.accepts == 0


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/", "file:///etc/passwd", "data:,x", "gopher://127.0.0.1/"])
def test_only_http_and_https(url: str) -> None:
    with pytest.raises(UnsafeDestination) as info:
        guarded_opener(DestinationPolicy()).open(url, timeout=5)
    assert info.value.reason is UnsafeReason.SCHEME


def test_environment_proxies_are_ignored(public: CountingServer, monkeypatch: pytest.MonkeyPatch) -> None:
    with serving(CountingServer(greeting=b"ok proxy")) as proxy:
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY"):
            monkeypatch.setenv(name, proxy.url())
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        opener = guarded_opener(policy_for(public.port))
        with opener.open(public.url(), timeout=5) as response:
            assert response.read() == b"ok public"
        assert (proxy.accepts, public.accepts) == (0, 1)
        # urllib's own default opener would have used it: the test is not vacuous.
        with urllib.request.urlopen(public.url(), timeout=5) as response:
            assert response.read() == b"proxied"
        assert proxy.accepts == 1


def test_explicit_proxy_is_checked(public: CountingServer) -> None:
    with serving(CountingServer(greeting=b"ok proxy")) as proxy:
        proxies = {"http": proxy.url()}
        # The policy allows the public port only: the proxy's port is refused.
        with pytest.raises(UnsafeDestination) as info:
            guarded_opener(policy_for(public.port), proxies=proxies).open(public.url(), timeout=5)
        assert info.value.port == proxy.port
        assert proxy.accepts == 0
        # Allowed explicitly, it is used.
        policy = DestinationPolicy(allow=["127.0.0.1"], allowed_ports=[public.port, proxy.port])
        with guarded_opener(policy, proxies=proxies).open(public.url(), timeout=5) as response:
            assert response.read() == b"proxied"
        assert proxy.accepts == 1
        # A literal internal target is refused before reaching the proxy.
        with pytest.raises(UnsafeDestination):
            guarded_opener(policy, proxies=proxies).open(f"http://127.0.0.2:{public.port}/", timeout=5)
        with pytest.raises(UnsafeDestination):
            guarded_opener(policy, proxies=proxies).open(f"http://127.1:{public.port}/", timeout=5)
        assert proxy.accepts == 1


def test_redirect_from_http_to_https_is_checked_and_verified(
    public: CountingServer, tls_public: CountingServer, ca: trustme.CA, resolver: CountingResolver
) -> None:
    from urllib.parse import quote

    policy = DestinationPolicy(allow=["127.0.0.1"], allowed_ports=[public.port, tls_public.port])
    opener = guarded_opener(policy, resolver=resolver, context=client_context(ca))
    to = quote(tls_public.url("/", host="public.test"), safe="")
    with opener.open(public.url(f"/redirect?to={to}"), timeout=5) as response:
        assert response.read() == b"ok tls"
    assert tls_public.sni == ["public.test"]
    # The same hop to a name for a refused address is refused before any connection.
    to = quote(tls_public.url("/", host="internal.test"), safe="")
    with pytest.raises(UnsafeDestination) as info:
        opener.open(public.url(f"/redirect?to={to}"), timeout=5)
    assert info.value.host == "internal.test"
    assert tls_public.accepts == 1


def test_mixed_answers_refuse_the_name_through_the_opener(public: CountingServer) -> None:
    resolver = CountingResolver({"mixed.test": [["127.0.0.1", "127.0.0.2"]]})
    with pytest.raises(UnsafeDestination) as info:
        guarded_opener(policy_for(public.port), resolver=resolver).open(public.url(host="mixed.test"), timeout=5)
    assert (info.value.host, str(info.value.address)) == ("mixed.test", "127.0.0.2")
    assert public.accepts == 0


def test_environment_https_proxy_is_ignored(
    tls_public: CountingServer, ca: trustme.CA, resolver: CountingResolver, monkeypatch: pytest.MonkeyPatch
) -> None:
    with serving(CountingServer(greeting=b"ok proxy")) as proxy:
        for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
            monkeypatch.setenv(name, proxy.url())
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        opener = guarded_opener(policy_for(tls_public.port), resolver=resolver, context=client_context(ca))
        with opener.open(tls_public.url("/", host="public.test"), timeout=5) as response:
            assert response.read() == b"ok tls"
        assert (proxy.accepts, tls_public.accepts) == (0, 1)


@pytest.mark.parametrize("host", ["[example.com]", "[public.test]", "[127.0.0.1]", "[]", "[::1"])
def test_connection_refuses_brackets_around_no_ipv6(
    host: str, public: CountingServer, resolver: CountingResolver
) -> None:
    # http.client strips the brackets of any host: "[public.test]" would be "public.test".
    policy = policy_for(public.port)
    conn = GuardedHTTPConnection(host, public.port, policy=policy, resolver=resolver)
    with pytest.raises(UnsafeDestination) as info:
        conn.request("GET", "/")
    assert info.value.reason is UnsafeReason.INVALID
    with pytest.raises(UnsafeDestination):
        guarded_opener(policy, resolver=resolver).open(f"http://{host}:{public.port}/", timeout=5)
    assert resolver.calls == []
    assert public.accepts == 0
