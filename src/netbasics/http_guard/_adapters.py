"""What the HTTP client adapters share: the guard settings, the version checks, async resolution.

Each adapter (``requests``, ``urllib3``, ``httpx``, ``aiohttp``) hooks its client where the
client opens a TCP connection, so every new connection (first request, each redirect hop,
the proxy itself) goes through one resolution whose answers are all checked by the
destination policy, and connects only to those checked addresses. This module imports no
third-party package.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable
from typing import Any, Final

from ..endpoints import Endpoint
from ..resolver import Resolver
from ..safety import DestinationPolicy, UnsafeDestination, UnsafeReason
from ._connect import RefusalHook, checked_endpoints, connect_guarded, report_refusal

__all__ = ["Guard", "GuardedClient", "OnRefusal", "Resolver", "check_scheme", "require", "uses"]

#: Called with every refusal before it is raised: count denials per reason, log them.
OnRefusal = RefusalHook

#: The schemes an adapter lets a request or a redirect use.
HTTP_SCHEMES: Final = frozenset({"http", "https"})


def require(client: str, supported: str, checks: Iterable[tuple[str, bool]]) -> None:
    """Raise ImportError naming ``supported`` unless every check holds.

    Each check is ``(what, holds)``, ``what`` naming the non-public attribute an adapter
    relies on, so a client release that moves it fails at import, not at the first request.
    """
    missing = ", ".join(what for what, holds in checks if not holds)
    if missing:
        if len(missing) > 160:  # the message stays short however much moved
            missing = missing[:157] + "..."
        raise ImportError(f"netbasics' {client} adapter supports {supported}; the installed {client} lacks {missing}")


def uses(owner: object, method: str, *names: str) -> bool:
    """True if ``owner.method`` exists and its code refers to every attribute name in ``names``.

    Reads the compiled code, so it also checks instance attributes (``self._pool``), which a
    class has no trace of until an instance is made.
    """
    code = getattr(getattr(owner, method, None), "__code__", None)
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
        """Report ``exc`` (the ``netbasics.http_guard`` logger, the hook); return it to raise."""
        report_refusal(exc, self.on_refusal)
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
        """Resolve ``host`` once and check every answer, as :func:`connect_guarded` does.

        Blocking: the async adapters run it in a worker thread, then connect only to the
        endpoints it returns. Refusals are reported before they are raised.
        """
        try:
            return checked_endpoints(host, port, self.policy, self.resolver)
        except UnsafeDestination as exc:
            raise self.refuse(exc) from None


class GuardedClient:
    """A base for a guarded client class: the guard's arguments first, the client's after.

    ``GuardedX(policy, *, resolver=None, on_refusal=None, **kwargs)`` sets
    ``self._netbasics_guard`` before the client class's ``__init__`` runs (requests' adapter
    builds its pools there), passes it ``kwargs`` (through :meth:`_netbasics_client_args`),
    then calls :meth:`_netbasics_install` to hook the guard into what that ``__init__`` built.
    List it first among the bases, before the client class.
    """

    _netbasics_guard: Guard

    # Guard's three arguments again, on purpose: this is the adapters' public constructor
    # (what help() and the docs show): keyword-only after policy, then the client's own.
    def __init__(
        self,
        policy: DestinationPolicy,
        *,
        resolver: Resolver | None = None,
        on_refusal: OnRefusal | None = None,
        **kwargs: Any,
    ) -> None:
        self._netbasics_guard = Guard(policy, resolver, on_refusal)
        super().__init__(**self._netbasics_client_args(kwargs))
        self._netbasics_install()

    def _netbasics_client_args(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        """The arguments for the client class's ``__init__``: ``kwargs`` as given, by default."""
        return kwargs

    def _netbasics_install(self) -> None:
        """Hook the guard into the client once its ``__init__`` has run: nothing, by default."""


def check_scheme(scheme: str, url: object) -> UnsafeDestination | None:
    """The refusal for a URL scheme other than http and https, or None."""
    if scheme.lower() in HTTP_SCHEMES:
        return None
    return UnsafeDestination(
        None,
        UnsafeReason.SCHEME,
        f"scheme {scheme[:20]!r} is not allowed (only http and https)",
        host=str(url)[:255],
    )
