"""The behaviour every guarded HTTP client adapter must have, as tests over a ``driver``.

Each ``tests/test_http_adapters_<client>.py`` defines a ``driver`` fixture (a
:class:`Driver`) and imports these tests, so all four clients are held to the same cases.
Everything is loopback: the public server on 127.0.0.1 (the only allowed address, on its
own port only), internal listeners on 127.0.0.2 or other ports, whose accepts stay 0.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import pytest

import netbasics
from http_fixtures import (
    CORPUS_NAMES,
    NAME,
    OTHER_NAME,
    CountingServer,
    FakeResolver,
    Refusals,
    corpus,
    listening,
    policy_for,
    serving,
    tls_setup,
)
from netbasics import UnsafeDestination, UnsafeReason

pytestmark = pytest.mark.integration


class Session(Protocol):
    def get(self, url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]: ...


@dataclass(frozen=True)
class Opening:
    """What a case asks of a driver: the guard's settings, a test CA to trust, proxies or not."""

    policy: netbasics.DestinationPolicy
    resolver: FakeResolver | None = None
    on_refusal: Refusals | None = None
    ca: Any = None
    trust_env: bool = False

    @property
    def guard(self) -> dict[str, Any]:
        """The guard's keyword arguments, for any adapter's constructor."""
        return {"resolver": self.resolver, "on_refusal": self.on_refusal}


class Driver:
    """One HTTP client, guarded: ``open`` gives a session (one connection pool).

    Each client's driver implements :meth:`session`; the cases call :meth:`open`.
    """

    def open(
        self,
        policy: netbasics.DestinationPolicy,
        *,
        resolver: FakeResolver | None = None,
        on_refusal: Refusals | None = None,
        ca: Any = None,
        trust_env: bool = False,
    ) -> AbstractContextManager[Session]:
        return self.session(Opening(policy, resolver, on_refusal, ca, trust_env))

    def session(self, opening: Opening) -> AbstractContextManager[Session]:
        raise NotImplementedError


@contextmanager
def client_loop() -> Iterator[asyncio.AbstractEventLoop]:
    """A new event loop for an async client's session; closed after its worker threads."""
    loop = asyncio.new_event_loop()
    try:
        yield loop
    finally:
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()


@pytest.fixture
def public() -> Iterator[CountingServer]:
    with serving(CountingServer()) as server:
        yield server


@pytest.fixture
def second() -> Iterator[CountingServer]:
    with serving(CountingServer()) as server:
        yield server


def test_request_through_the_guard(driver: Driver, public: CountingServer) -> None:
    with driver.open(policy_for(public.port)) as session:
        assert session.get(public.url()) == (200, b"public")
    assert public.accepts == 1


def test_one_resolution_per_new_connection(driver: Driver, public: CountingServer) -> None:
    resolver = FakeResolver({NAME: [["127.0.0.1"]]})
    for _ in range(2):
        with driver.open(policy_for(public.port), resolver=resolver) as session:
            for _ in range(3):  # keep-alive: the pooled connection is reused, not resolved again
                assert session.get(public.url(host=NAME)) == (200, b"public")
    assert public.accepts == 2
    assert resolver.calls == [NAME, NAME]


def test_dns_rebinding_never_reaches_the_internal_listener(driver: Driver, public: CountingServer) -> None:
    resolver = FakeResolver({NAME: [["127.0.0.1"], ["127.0.0.2"]]})
    refusals = Refusals()
    with listening("127.0.0.2", public.port) as internal:
        with driver.open(policy_for(public.port), resolver=resolver, on_refusal=refusals) as session:
            assert session.get(public.url(host=NAME)) == (200, b"public")
        with (
            driver.open(policy_for(public.port), resolver=resolver, on_refusal=refusals) as session,
            pytest.raises(UnsafeDestination) as info,
        ):
            session.get(public.url(host=NAME))
        assert internal.accepts == 0
    assert info.value.host == NAME
    assert str(info.value.address) == "127.0.0.2"
    assert info.value.reason is UnsafeReason.LOOPBACK
    assert refusals.seen == [info.value]
    assert resolver.calls == [NAME, NAME]


def test_a_name_with_a_safe_and_an_unsafe_answer_is_refused(driver: Driver, public: CountingServer) -> None:
    resolver = FakeResolver({NAME: [["127.0.0.1", "127.0.0.2"]]})
    with driver.open(policy_for(public.port), resolver=resolver) as session, pytest.raises(UnsafeDestination) as info:
        session.get(public.url(host=NAME))
    assert str(info.value.address) == "127.0.0.2"
    assert public.accepts == 0


def test_tls_uses_the_name_for_sni_and_the_certificate(driver: Driver) -> None:
    ca, server_ctx = tls_setup()
    resolver = FakeResolver({NAME: [["127.0.0.1"]], OTHER_NAME: [["127.0.0.1"]]})
    with serving(CountingServer(tls=server_ctx)) as server:
        with driver.open(policy_for(server.port), resolver=resolver, ca=ca) as session:
            assert session.get(server.url(host=NAME)) == (200, b"public")
        assert server.sni == [NAME]
        with (
            driver.open(policy_for(server.port), resolver=resolver, ca=ca) as session,
            pytest.raises(Exception) as info,  # noqa: PT011 - each client has its own certificate error
        ):
            session.get(server.url(host=OTHER_NAME))
        assert not isinstance(info.value, UnsafeDestination)
        assert server.sni == [NAME, OTHER_NAME]


def test_a_redirect_from_http_to_https_is_checked_and_verified(driver: Driver, public: CountingServer) -> None:
    ca, server_ctx = tls_setup()
    resolver = FakeResolver({NAME: [["127.0.0.1"]], OTHER_NAME: [["127.0.0.1"]]})
    with serving(CountingServer(tls=server_ctx)) as tls, listening("127.0.0.2") as internal:
        policy = policy_for(public.port, tls.port)
        with driver.open(policy, resolver=resolver, ca=ca) as session:
            assert session.get(public.url(f"/redirect?to={tls.url(host=NAME)}")) == (200, b"public")
        assert tls.sni == [NAME]
        with (
            driver.open(policy, resolver=resolver, ca=ca) as session,
            pytest.raises(Exception) as info,  # noqa: PT011 - each client has its own certificate error
        ):
            session.get(public.url(f"/redirect?to={tls.url(host=OTHER_NAME)}"))
        assert not isinstance(info.value, UnsafeDestination)
        with driver.open(policy, resolver=resolver, ca=ca) as session, pytest.raises(UnsafeDestination):
            session.get(public.url(f"/redirect?to=https://127.0.0.2:{internal.port}/"))
        assert internal.accepts == 0
    assert resolver.calls == [NAME, OTHER_NAME]


@pytest.mark.parametrize("where", ["port", "address", "name"])
def test_redirect_to_a_denied_destination(driver: Driver, public: CountingServer, where: str) -> None:
    refusals = Refusals()
    resolver = FakeResolver({"internal.test": [["127.0.0.2"]]})
    host, port = {"port": ("127.0.0.1", 0), "address": ("127.0.0.2", public.port), "name": ("127.0.0.2", 0)}[where]
    with listening(host, port) as internal:
        shown = "internal.test" if where == "name" else host
        target = f"http://{shown}:{internal.port}/"
        policy = policy_for(public.port, internal.port) if where == "name" else policy_for(public.port)
        with (
            driver.open(policy, resolver=resolver, on_refusal=refusals) as session,
            pytest.raises(UnsafeDestination) as info,
        ):
            session.get(public.url(f"/redirect?to={target}"))
        assert internal.accepts == 0
    expected = UnsafeReason.PORT_NOT_ALLOWED if where == "port" else UnsafeReason.LOOPBACK
    assert info.value.reason is expected
    assert info.value.port == internal.port
    assert refusals.seen == [info.value]
    assert [path for path, _ in public.requests] == ["/redirect"]


@pytest.mark.parametrize("target", ["file:///etc/passwd", "ftp://127.0.0.1:21/", "gopher://127.0.0.1:70/"])
def test_redirect_to_a_denied_scheme(driver: Driver, public: CountingServer, target: str) -> None:
    refusals = Refusals()
    with driver.open(policy_for(public.port), on_refusal=refusals) as session, pytest.raises(UnsafeDestination) as info:
        session.get(public.url(f"/redirect?to={target}"))
    assert info.value.reason is UnsafeReason.SCHEME
    assert target.split(":")[0] in str(info.value)
    assert refusals.seen == [info.value]


def test_redirect_to_an_allowed_destination_is_followed(
    driver: Driver, public: CountingServer, second: CountingServer
) -> None:
    with driver.open(policy_for(public.port, second.port)) as session:
        assert session.get(public.url(f"/redirect?to={second.url()}")) == (200, b"public")
    assert second.accepts == 1


def test_credentials_do_not_cross_origins(driver: Driver, public: CountingServer, second: CountingServer) -> None:
    resolver = FakeResolver({NAME: [["127.0.0.1"]], OTHER_NAME: [["127.0.0.1"]]})
    headers = {"Authorization": "Bearer secret", "Cookie": "token=secret"}
    with driver.open(policy_for(public.port, second.port), resolver=resolver) as session:
        # Same origin: the credentials stay.
        status, body = session.get(public.url(f"/redirect?to={public.url('/headers', host=NAME)}", host=NAME), headers)
        seen = json.loads(body)
        assert status == 200
        assert seen.get("authorization") == "Bearer secret"
        # Another origin: neither the Authorization header nor any cookie follows.
        status, body = session.get(
            public.url(f"/redirect?to={second.url('/headers', host=OTHER_NAME)}", host=NAME), headers
        )
        seen = json.loads(body)
        assert status == 200
        assert "authorization" not in seen
        assert "secret" not in seen.get("cookie", "")
        # A cookie the first origin sets is not sent to the second one.
        status, body = session.get(public.url(f"/set-cookie?to={second.url('/headers', host=OTHER_NAME)}", host=NAME))
        assert "secret" not in json.loads(body).get("cookie", "")


def test_the_corpus_is_refused_before_any_connection(driver: Driver) -> None:
    refusals = Refusals()
    resolver = FakeResolver(dict(CORPUS_NAMES))
    with listening("127.0.0.1") as internal:
        with driver.open(netbasics.DestinationPolicy(), resolver=resolver, on_refusal=refusals) as session:
            for url in corpus(internal.port):
                with pytest.raises(Exception) as info:  # noqa: PT011 - the guard's, or the client's URL error
                    session.get(url)
                if isinstance(info.value, UnsafeDestination):
                    assert info.value in refusals.seen
        assert internal.accepts == 0
    # The disguised loopback forms reach the guard (and are refused there), at least these:
    assert len(refusals.seen) >= 12


def test_environment_proxies_get_no_connection(
    driver: Driver, public: CountingServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    with listening("127.0.0.1") as proxy:
        for var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
            monkeypatch.setenv(var, f"http://127.0.0.1:{proxy.port}")
        for var in ("NO_PROXY", "no_proxy"):
            monkeypatch.delenv(var, raising=False)
        # By default the adapters do not read proxies from the environment.
        with driver.open(policy_for(public.port)) as session:
            assert session.get(public.url()) == (200, b"public")
        # Opted in, the proxy is a destination like any other: refused unless the policy allows it.
        with driver.open(policy_for(public.port), trust_env=True) as session, pytest.raises(UnsafeDestination) as info:
            session.get(public.url())
        assert info.value.port == proxy.port
        assert proxy.accepts == 0
        with driver.open(policy_for(public.port, proxy.port), trust_env=True) as session, pytest.raises(Exception):  # noqa: PT011, B017 - the listener closes: each client has its own error
            session.get(public.url())
        assert proxy.accepts >= 1


__all__ = [
    "Driver",
    "Opening",
    "Session",
    "client_loop",
    "public",
    "second",
    "test_a_name_with_a_safe_and_an_unsafe_answer_is_refused",
    "test_a_redirect_from_http_to_https_is_checked_and_verified",
    "test_credentials_do_not_cross_origins",
    "test_dns_rebinding_never_reaches_the_internal_listener",
    "test_environment_proxies_get_no_connection",
    "test_one_resolution_per_new_connection",
    "test_redirect_to_a_denied_destination",
    "test_redirect_to_a_denied_scheme",
    "test_redirect_to_an_allowed_destination_is_followed",
    "test_request_through_the_guard",
    "test_the_corpus_is_refused_before_any_connection",
    "test_tls_uses_the_name_for_sni_and_the_certificate",
]
