"""The aiohttp adapter: netbasics.http_guard.aiohttp (the shared cases, and aiohttp's own)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

pytest.importorskip("aiohttp")
pytest.importorskip("trustme")

import aiohttp

import netbasics
from http_adapter_cases import *  # noqa: F403
from http_adapter_cases import Driver, Opening, client_loop
from http_fixtures import NAME, OTHER_NAME, CountingServer, FakeResolver, Refusals, client_context, policy_for
from netbasics.http_guard.aiohttp import GuardedConnector, guarded_session


class _Session:
    def __init__(self, session: aiohttp.ClientSession, loop: asyncio.AbstractEventLoop) -> None:
        self.session = session
        self.loop = loop

    def get(self, url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        async def fetch() -> tuple[int, bytes]:
            async with self.session.get(url, headers=headers) as response:
                return response.status, await response.read()

        return self.loop.run_until_complete(fetch())


class AiohttpDriver(Driver):
    @contextmanager
    def session(self, opening: Opening) -> Iterator[_Session]:
        connector_args = {"ssl": client_context(opening.ca)} if opening.ca is not None else {}

        async def make() -> aiohttp.ClientSession:
            return guarded_session(
                opening.policy,
                **opening.guard,
                connector_args=connector_args,
                trust_env=opening.trust_env,
                timeout=aiohttp.ClientTimeout(total=10),
            )

        with client_loop() as loop:
            session = loop.run_until_complete(make())
            try:
                yield _Session(session, loop)
            finally:
                loop.run_until_complete(session.close())


@pytest.fixture
def driver() -> AiohttpDriver:
    return AiohttpDriver()


def test_literal_hosts_are_checked_without_a_resolver(public: CountingServer) -> None:
    resolver = FakeResolver()
    refusals = Refusals()

    async def main() -> None:
        connector = GuardedConnector(policy_for(public.port), resolver=resolver, on_refusal=refusals)
        async with aiohttp.ClientSession(connector=connector) as session:
            async with session.get(public.url()) as response:
                assert response.status == 200
            with pytest.raises(netbasics.UnsafeDestination):
                await session.get(f"http://[::1]:{public.port}/")

    asyncio.run(main())
    assert resolver.calls == []
    assert len(refusals.seen) == 1


def test_cookies_given_to_the_request_stay_with_its_origin(public: CountingServer, second: CountingServer) -> None:
    resolver = FakeResolver({NAME: [["127.0.0.1"]], OTHER_NAME: [["127.0.0.1"]]})

    async def main() -> None:
        async with guarded_session(policy_for(public.port, second.port), resolver=resolver) as session:
            target = second.url("/headers", host=OTHER_NAME)
            async with session.get(public.url(f"/redirect?to={target}", host=NAME), cookies={"t": "secret"}) as r:
                assert "secret" not in (await r.json()).get("cookie", "")

    asyncio.run(main())


def test_the_connector_refuses_a_dns_cache() -> None:
    async def main() -> None:
        with pytest.raises(TypeError, match="use_dns_cache"):
            GuardedConnector(netbasics.DestinationPolicy(), use_dns_cache=True)

    asyncio.run(main())


def test_the_socket_is_connected_to_a_checked_address(public: CountingServer) -> None:
    resolver = FakeResolver({NAME: [["127.0.0.1"]]})

    async def main() -> None:
        async with (
            guarded_session(policy_for(public.port), resolver=resolver) as session,
            session.get(public.url("/big", host=NAME)) as response,
        ):
            assert response.connection is not None
            assert response.connection.transport is not None
            assert response.connection.transport.get_extra_info("peername")[:2] == ("127.0.0.1", public.port)
            await response.read()

    asyncio.run(main())
    assert resolver.calls == [NAME]
