"""The httpx adapter: netbasics.http_guard.httpx, sync and async (the shared cases, and httpx's own)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

pytest.importorskip("httpx")
pytest.importorskip("trustme")

import httpx

import netbasics
from http_adapter_cases import *  # noqa: F403
from http_adapter_cases import Driver, Opening, client_loop
from http_fixtures import CountingServer, FakeResolver, Refusals, client_context, policy_for
from netbasics.http_guard.httpx import (
    GuardedAsyncTransport,
    GuardedTransport,
    guarded_async_client,
    guarded_client,
)


class _SyncSession:
    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def get(self, url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        response = self.client.get(url, headers=headers)
        return response.status_code, response.content


class _AsyncSession:
    def __init__(self, client: httpx.AsyncClient, loop: asyncio.AbstractEventLoop) -> None:
        self.client = client
        self.loop = loop

    def get(self, url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        response = self.loop.run_until_complete(self.client.get(url, headers=headers))
        return response.status_code, response.content


def _options(ca: Any, trust_env: bool) -> dict[str, Any]:
    options: dict[str, Any] = {"timeout": 10}
    if ca is not None:
        options["verify"] = client_context(ca)
    if trust_env:
        # A client with a transport reads no proxy from the environment: the opt-in is proxy=.
        options["proxy"] = os.environ["HTTP_PROXY"]
    return options


class HttpxDriver(Driver):
    def __init__(self, mode: str) -> None:
        self.mode = mode

    @contextmanager
    def session(self, opening: Opening) -> Iterator[_SyncSession | _AsyncSession]:
        options = _options(opening.ca, opening.trust_env)
        if self.mode == "sync":
            with guarded_client(opening.policy, **opening.guard, **options) as client:
                yield _SyncSession(client)
            return
        with client_loop() as loop:
            aclient = guarded_async_client(opening.policy, **opening.guard, **options)
            try:
                yield _AsyncSession(aclient, loop)
            finally:
                loop.run_until_complete(aclient.aclose())


@pytest.fixture(params=["sync", "async"])
def driver(request: pytest.FixtureRequest) -> HttpxDriver:
    return HttpxDriver(request.param)


def test_the_transports_on_plain_clients(public: CountingServer) -> None:
    refusals = Refusals()
    transport = GuardedTransport(policy_for(public.port), on_refusal=refusals)
    with httpx.Client(transport=transport) as client:
        assert client.get(public.url()).status_code == 200
        with pytest.raises(netbasics.UnsafeDestination):
            client.get(f"http://127.0.0.1:{public.port + 1}/")

    async def main() -> None:
        transport = GuardedAsyncTransport(policy_for(public.port), on_refusal=refusals)
        async with httpx.AsyncClient(transport=transport) as client:
            assert (await client.get(public.url())).status_code == 200
            with pytest.raises(netbasics.UnsafeDestination):
                await client.get(f"http://[::1]:{public.port}/")

    asyncio.run(main())
    assert len(refusals.seen) == 2
    assert public.accepts == 2


def test_a_refused_connection_is_httpxs_own_error() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        with (
            guarded_client(netbasics.DestinationPolicy(allow=["127.0.0.1"])) as client,
            pytest.raises(httpx.ConnectError),
        ):
            client.get(f"http://127.0.0.1:{port}/")

        async def main() -> None:
            async with guarded_async_client(netbasics.DestinationPolicy(allow=["127.0.0.1"])) as client:
                with pytest.raises(httpx.ConnectError):
                    await client.get(f"http://127.0.0.1:{port}/")

        asyncio.run(main())


def test_the_socket_is_connected_to_a_checked_address(public: CountingServer) -> None:
    resolver = FakeResolver({"public.test": [["127.0.0.1"]]})
    url = public.url(host="public.test")
    with guarded_client(policy_for(public.port), resolver=resolver) as client, client.stream("GET", url) as response:
        stream = response.extensions["network_stream"]
        assert stream.get_extra_info("server_addr") == ("127.0.0.1", public.port)

    async def main() -> None:
        async with (
            guarded_async_client(policy_for(public.port), resolver=resolver) as client,
            client.stream("GET", url) as response,
        ):
            stream = response.extensions["network_stream"]
            assert stream.get_extra_info("server_addr") == ("127.0.0.1", public.port)

    asyncio.run(main())
    assert resolver.calls == ["public.test", "public.test"]
