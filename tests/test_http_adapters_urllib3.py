"""The urllib3 2.x adapter: netbasics.http_guard.urllib3 (the shared cases, and urllib3's own)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

pytest.importorskip("urllib3", minversion="2")
pytest.importorskip("trustme")

import urllib3

import netbasics
from http_adapter_cases import *  # noqa: F403
from http_adapter_cases import Driver, Opening
from http_fixtures import CountingServer, FakeResolver, Refusals, client_context, policy_for
from netbasics.http_guard.urllib3 import GuardedPoolManager, guarded_pool_classes


class _Session:
    def __init__(self, manager: urllib3.PoolManager) -> None:
        self.manager = manager

    def get(self, url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        response = self.manager.request(
            "GET", url, headers=headers, retries=urllib3.Retry(total=5, connect=0, read=0, other=0)
        )
        return response.status, response.data


class Urllib3Driver(Driver):
    @contextmanager
    def session(self, opening: Opening) -> Iterator[_Session]:
        kwargs: dict[str, Any] = {"ssl_context": client_context(opening.ca)} if opening.ca is not None else {}
        if opening.trust_env:
            # urllib3 never reads proxies from the environment: the opt-in is a ProxyManager
            # whose connection to the proxy goes through the guard.
            import urllib.request

            proxy = urllib.request.getproxies()["http"]
            manager: urllib3.PoolManager = urllib3.ProxyManager(proxy, **kwargs)
            manager.pool_classes_by_scheme = guarded_pool_classes(opening.policy, **opening.guard)
        else:
            manager = GuardedPoolManager(opening.policy, **opening.guard, **kwargs)
        try:
            yield _Session(manager)
        finally:
            manager.clear()


@pytest.fixture
def driver() -> Urllib3Driver:
    return Urllib3Driver()


def test_the_socket_is_connected_to_a_checked_address(public: CountingServer) -> None:
    resolver = FakeResolver({"public.test": [["127.0.0.1"]]})
    manager = GuardedPoolManager(policy_for(public.port), resolver=resolver)
    pool = manager.connection_from_url(public.url(host="public.test"))
    conn = pool._get_conn()
    assert isinstance(conn, urllib3.connection.HTTPConnection)
    try:
        conn.connect()
        assert conn.sock is not None
        assert conn.sock.getpeername() == ("127.0.0.1", public.port)
    finally:
        conn.close()
        manager.clear()


def test_a_refusal_is_not_retried(public: CountingServer) -> None:
    refusals = Refusals()
    manager = GuardedPoolManager(policy_for(public.port), on_refusal=refusals)
    with pytest.raises(netbasics.UnsafeDestination):
        manager.request("GET", f"http://127.0.0.1:{public.port + 1}/", retries=urllib3.Retry(3))
    assert len(refusals.seen) == 1


def test_a_refused_connection_is_urllib3s_own_error() -> None:
    manager = GuardedPoolManager(netbasics.DestinationPolicy(allow=["127.0.0.1"]))
    with (
        netbasics.testing_free_port() if hasattr(netbasics, "testing_free_port") else _closed_port() as port,
        pytest.raises(urllib3.exceptions.MaxRetryError) as info,
    ):
        manager.request("GET", f"http://127.0.0.1:{port}/", retries=urllib3.Retry(0))
    assert isinstance(info.value.reason, urllib3.exceptions.NewConnectionError)


@contextmanager
def _closed_port() -> Iterator[int]:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]
