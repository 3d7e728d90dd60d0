"""The SSRF guard for aiohttp: a connector that resolves and checks every host, literals too.

>>> import asyncio
>>> from netbasics import DestinationPolicy
>>> from netbasics.http_guard.aiohttp import guarded_session
>>> async def main() -> None:
...     async with guarded_session(DestinationPolicy()) as session:
...         await session.get("http://127.0.0.1:1/")
>>> asyncio.run(main())
Traceback (most recent call last):
...
netbasics.UnsafeDestination: 127.0.0.1...

aiohttp sends a literal IP host straight to the connection, never to its resolver, so a
resolver alone cannot guard it; :class:`GuardedConnector` takes over the connector's host
resolution instead: every new connection (first request, each redirect hop aiohttp
follows, the proxy when ``trust_env=True`` or ``proxy=`` names one) resolves its host once
in a worker thread, checks every answer, and hands aiohttp only the checked addresses, which
it connects to (Happy Eyeballs) with the host name kept for SNI and the certificate. There
is no DNS cache: a cached answer would outlive the check. :func:`guarded_session` adds a
redirect check refusing schemes other than http and https. aiohttp drops ``Authorization``
and cookies on a redirect to another origin. Supports aiohttp 3.10 and later 3.x.
"""

from __future__ import annotations

import asyncio
import inspect
import socket
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any, Final

import aiohttp
from aiohttp.abc import ResolveResult
from yarl import URL

from ..safety import DestinationPolicy
from ._adapters import Guard, GuardedClient, OnRefusal, Resolver, require, uses

__all__ = ["GuardedConnector", "guarded_session", "redirect_guard"]

SUPPORTED: Final = "aiohttp 3.10 and later 3.x (tested with 3.14)"

_resolve_host = getattr(aiohttp.TCPConnector, "_resolve_host", None)
# TCPConnector._create_direct_connection asks self._resolve_host(host, port, traces=...) for
# the addresses of every connection, literal hosts included, and connects only to those.
require(
    "aiohttp",
    SUPPORTED,
    [
        ("aiohttp 3.x", aiohttp.__version__.split(".")[0] == "3"),
        ("TCPConnector._resolve_host", _resolve_host is not None and inspect.iscoroutinefunction(_resolve_host)),
        (
            "TCPConnector._resolve_host(host, port, traces)",
            _resolve_host is not None
            and list(inspect.signature(_resolve_host).parameters)[:4] == ["self", "host", "port", "traces"],
        ),
        (
            "TCPConnector._create_direct_connection calling _resolve_host",
            uses(aiohttp.TCPConnector, "_create_direct_connection", "_resolve_host"),
        ),
    ],
)

_FAMILIES: Final = {4: socket.AF_INET, 6: socket.AF_INET6}


class GuardedConnector(GuardedClient, aiohttp.TCPConnector):
    """An aiohttp ``TCPConnector`` that connects only where ``policy`` allows.

    Takes the ``TCPConnector`` arguments after the guard's own (``use_dns_cache`` and
    ``resolver`` excepted: the guard resolves every new connection itself, through
    ``resolver`` with ``socket.getaddrinfo``'s signature).
    """

    def _netbasics_client_args(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        for refused in ("use_dns_cache", "resolver"):
            if refused in kwargs:
                raise TypeError(f"GuardedConnector resolves by itself: {refused}= is not accepted")
        return {"use_dns_cache": False, **kwargs}

    async def _resolve_host(self, host: str, port: int, traces: Sequence[Any] | None = None) -> list[ResolveResult]:
        loop = asyncio.get_running_loop()
        endpoints = await loop.run_in_executor(None, self._netbasics_guard.checked_endpoints, host, port)
        wanted = int(self._family)
        results: list[ResolveResult] = []
        for endpoint in endpoints:
            family = _FAMILIES[endpoint.address.version]
            if wanted and wanted != family:
                continue
            results.append(
                {
                    "hostname": host,
                    "host": str(endpoint.address),
                    "port": endpoint.port,
                    "family": family,
                    "proto": 0,
                    "flags": socket.AI_NUMERICHOST,
                }
            )
        if not results:
            raise OSError(f"{host} has no address of the connector's family")
        return results


def redirect_guard(policy: DestinationPolicy, *, on_refusal: OnRefusal | None = None) -> aiohttp.TraceConfig:
    """A ``TraceConfig`` that refuses a redirect to a scheme other than http and https.

    aiohttp refuses those itself with its own error; this raises
    :class:`~netbasics.UnsafeDestination` instead, through ``on_refusal``, like every other refusal.
    """
    guard = Guard(policy, None, on_refusal)

    async def on_redirect(session: aiohttp.ClientSession, context: SimpleNamespace, params: Any) -> None:
        response: aiohttp.ClientResponse = params.response
        location = response.headers.get("Location") or response.headers.get("URI") or ""
        try:
            scheme = URL(location).scheme
        except ValueError:
            return  # aiohttp refuses it as an invalid URL
        if scheme:
            try:
                guard.check_scheme(scheme, location)
            except BaseException:
                response.close()
                raise

    config = aiohttp.TraceConfig()
    config.on_request_redirect.append(on_redirect)
    return config


def guarded_session(
    policy: DestinationPolicy,
    *,
    resolver: Resolver | None = None,
    on_refusal: OnRefusal | None = None,
    connector_args: dict[str, Any] | None = None,
    **kwargs: Any,
) -> aiohttp.ClientSession:
    """An ``aiohttp.ClientSession`` on a :class:`GuardedConnector`, with :func:`redirect_guard`.

    Call it in a coroutine (aiohttp needs the running loop). ``connector_args`` go to the
    connector (e.g. ``{"ssl": context}``), the rest to the session; ``trust_env`` stays off
    unless given, and a proxy is then checked like any destination.
    """
    connector = GuardedConnector(policy, resolver=resolver, on_refusal=on_refusal, **(connector_args or {}))
    traces = [*(kwargs.pop("trace_configs", None) or ()), redirect_guard(policy, on_refusal=on_refusal)]
    return aiohttp.ClientSession(connector=connector, trace_configs=traces, **kwargs)
