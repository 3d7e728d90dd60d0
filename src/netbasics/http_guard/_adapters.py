"""What the HTTP client adapters share: the guard settings, the version checks, async resolution.

Each adapter (``requests``, ``urllib3``, ``httpx``, ``aiohttp``) hooks its client where the
client opens a TCP connection, so every new connection (first request, each redirect hop,
the proxy itself) goes through one resolution whose answers are all checked by the
destination policy, and connects only to those checked addresses. This module imports no
third-party package.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable
from typing import Any, Final

from ..addresses import parse_address
from ..endpoints import Endpoint
from ..errors import ResolveError
from ..safety import DestinationPolicy, UnsafeDestination, UnsafeReason, check_destination

# The resolver seam: socket.getaddrinfo's signature (netbasics.resolver.Resolver).
Resolver = Callable[..., Any]

__all__ = ["Guard", "OnRefusal", "check_scheme", "require"]

#: Called with every refusal before it is raised: count denials per reason, log them.
OnRefusal = Callable[[UnsafeDestination], object]

#: The schemes an adapter lets a request or a redirect use.
HTTP_SCHEMES: Final = frozenset({"http", "https"})


def require(client: str, supported: str, checks: Iterable[tuple[str, bool]]) -> None:
    """Raise ImportError naming ``supported`` unless every check holds.

    Each check is ``(what, holds)``, ``what`` naming the non-public attribute an adapter
    relies on, so a client release that moves it fails at import, not at the first request.
    """
    missing = [what for what, holds in checks if not holds]
    if missing:
        raise ImportError(
            f"netbasics' {client} adapter supports {supported}; the installed {client} lacks " + ", ".join(missing)
        )


def uses(function: object, *names: str) -> bool:
    """True if ``function``'s code refers to every attribute name in ``names``."""
    code = getattr(function, "__code__", None)
    return code is not None and all(name in code.co_names for name in names)


class Guard:
    """The policy, resolver and refusal hook one adapter instance applies to every connection."""

    __slots__ = ("on_refusal", "policy", "resolver")

    def __init__(
        self,
        policy: DestinationPolicy,
        resolver: Resolver | None = None,
        on_refusal: OnRefusal | None = None,
    ) -> None:
        if not isinstance(policy, DestinationPolicy):
            raise TypeError(f"policy must be a DestinationPolicy, not {type(policy).__name__}")
        if on_refusal is not None and not callable(on_refusal):
            raise TypeError(f"on_refusal must be callable, not {type(on_refusal).__name__}")
        self.policy = policy
        self.resolver = resolver
        self.on_refusal = on_refusal

    def refuse(self, exc: UnsafeDestination) -> UnsafeDestination:
        """Hand ``exc`` to the refusal hook; return it for the caller to raise."""
        if self.on_refusal is not None:
            self.on_refusal(exc)
        return exc

    def check_scheme(self, scheme: str, url: object) -> None:
        """Refuse a scheme other than http and https (a request or a redirect hop)."""
        problem = check_scheme(scheme, url)
        if problem is not None:
            raise self.refuse(problem)

    def connect(
        self, host: str, port: int, timeout: float | None, source_address: tuple[str, int] | None = None
    ) -> socket.socket:
        """A TCP socket connected to a checked address of ``host``: the blocking adapters' hook."""
        from . import connect_guarded

        return connect_guarded(
            host,
            port,
            policy=self.policy,
            timeout=timeout,
            source_address=source_address,
            resolver=self.resolver,
            on_refusal=self.on_refusal,
        )

    def checked_endpoints(self, host: str, port: int) -> list[Endpoint]:
        """Resolve ``host`` once and check every answer; blocking (async adapters run it in a thread).

        An IP literal is checked as it is, without a resolver. One unsafe answer refuses the
        name, as :func:`netbasics.resolve` does with a policy: a name that can point inside is
        not safe, whichever answer a client would pick.
        """
        try:
            literal = parse_address(host.strip("[]"))
        except ValueError:
            literal = None
        if literal is not None:
            endpoints, name = [Endpoint(literal, port)], None
        else:
            endpoints, name = self._resolve(host, port), host
        for endpoint in endpoints:
            try:
                check_destination(endpoint, policy=self.policy)
            except UnsafeDestination as exc:
                if name is not None:
                    exc = UnsafeDestination(
                        exc.address, exc.reason, exc.detail, embedded=exc.embedded, port=exc.port, host=name
                    )
                raise self.refuse(exc) from None
        return endpoints

    def _resolve(self, host: str, port: int) -> list[Endpoint]:
        lookup: Any = socket.getaddrinfo if self.resolver is None else self.resolver
        try:
            infos = lookup(host, port, 0, socket.SOCK_STREAM)
        except OSError as exc:
            raise ResolveError(f"resolve {host}: {exc}") from exc
        found: list[Endpoint] = []
        for family, _type, _proto, _name, sockaddr in infos:
            if family not in (socket.AF_INET, socket.AF_INET6):
                continue
            endpoint = Endpoint.from_sockaddr(tuple(sockaddr))
            if endpoint not in found:
                found.append(endpoint)
        if not found:
            raise ResolveError(f"resolve {host}: no IP address")
        return found


def check_scheme(scheme: str, url: object) -> UnsafeDestination | None:
    """The refusal for a URL scheme other than http and https, or None."""
    if scheme.lower() in HTTP_SCHEMES:
        return None
    shown = str(url)[:80]
    return UnsafeDestination(
        None,
        UnsafeReason.DENIED,
        f"scheme {scheme!r} is not allowed (only http and https): {shown}",
    )
