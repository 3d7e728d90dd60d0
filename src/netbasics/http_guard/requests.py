"""The SSRF guard for requests: a transport adapter and a session that use it.

>>> from netbasics import DestinationPolicy
>>> from netbasics.http_guard.requests import guarded_session
>>> with guarded_session(DestinationPolicy()) as session:
...     session.get("http://127.0.0.1:1/")
Traceback (most recent call last):
...
netbasics.UnsafeDestination: 127.0.0.1...

The adapter's pools are urllib3 pools whose connections go through the guard (see
:mod:`netbasics.http_guard.urllib3`): every new connection, for the first request, each
redirect hop requests follows and the proxy (when one is used), resolves once, checks every
answer and connects only to the checked addresses; TLS keeps the host name for SNI and the
certificate. The session also refuses schemes other than http and https (a redirect to
``file:`` included), and on a redirect to another origin drops every cookie not scoped to
the new host (requests itself drops ``Authorization`` there, but would send cookies given
with ``cookies=`` to any host). Supports requests 2.32 and later with urllib3 2.x.
"""

from __future__ import annotations

import urllib.parse
from typing import Any, Final

import requests
import requests.adapters
import requests.cookies
import requests.models

from ..safety import DestinationPolicy
from ._adapters import Guard, GuardedClient, OnRefusal, Resolver, require, uses
from .urllib3 import GuardedPoolManager, guarded_pool_classes

__all__ = ["GuardedHTTPAdapter", "GuardedSession", "guarded_session"]

SUPPORTED: Final = "requests 2.32 and later with urllib3 2.x (tested with 2.34)"

# The adapter builds its pools in init_poolmanager (self.poolmanager) and proxy_manager_for;
# the session's redirect code re-prepares cookies from PreparedRequest._cookies before
# calling rebuild_auth, where the cross-origin cookie filter runs.
require(
    "requests",
    SUPPORTED,
    [
        ("HTTPAdapter.init_poolmanager", callable(getattr(requests.adapters.HTTPAdapter, "init_poolmanager", None))),
        ("HTTPAdapter.poolmanager", uses(requests.adapters.HTTPAdapter, "init_poolmanager", "poolmanager")),
        ("HTTPAdapter.proxy_manager_for", callable(getattr(requests.adapters.HTTPAdapter, "proxy_manager_for", None))),
        ("PreparedRequest._cookies", uses(requests.models.PreparedRequest, "prepare_cookies", "_cookies")),
        ("Session.rebuild_auth", callable(getattr(requests.Session, "rebuild_auth", None))),
        ("Session.resolve_redirects calling rebuild_auth", uses(requests.Session, "resolve_redirects", "rebuild_auth")),
    ],
)


class GuardedHTTPAdapter(GuardedClient, requests.adapters.HTTPAdapter):
    """A requests ``HTTPAdapter`` whose connections (to servers and proxies) are guarded.

    Mount it on a session for ``http://`` and ``https://`` (:class:`GuardedSession` does), or
    use it alone. Takes the ``HTTPAdapter`` arguments after the guard's own. SOCKS proxies
    are not supported through the guard (a ``requests.exceptions.InvalidProxyURL``).
    """

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any) -> None:
        # Called by HTTPAdapter.__init__: GuardedClient has set the guard before it.
        self._pool_connections = connections
        self._pool_maxsize = maxsize
        self._pool_block = block
        guard = self._netbasics_guard
        self.poolmanager = GuardedPoolManager(
            guard.policy,
            resolver=guard.resolver,
            on_refusal=guard.on_refusal,
            num_pools=connections,
            maxsize=maxsize,
            block=block,
            **pool_kwargs,
        )

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        if proxy.lower().startswith("socks"):
            raise requests.exceptions.InvalidProxyURL(f"SOCKS proxies are not supported by the guard: {proxy[:80]}")
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        guard = self._netbasics_guard
        manager.pool_classes_by_scheme = guarded_pool_classes(
            guard.policy, resolver=guard.resolver, on_refusal=guard.on_refusal
        )
        return manager


def _origin(url: str | None) -> tuple[str, str, int | None]:
    parts = urllib.parse.urlsplit(url or "")
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").rstrip("."), port or {"http": 80, "https": 443}.get(scheme)


class GuardedSession(requests.Session):
    """A requests ``Session`` with :class:`GuardedHTTPAdapter` mounted for http and https.

    ``trust_env`` is off by default: proxies from ``HTTP_PROXY``/``HTTPS_PROXY`` (and
    ``.netrc``) are not used unless you pass ``trust_env=True``; a proxy then is a
    destination like any other, refused unless the policy accepts its address and port.
    Behind an accepted proxy, the proxy resolves the target: checking it is the proxy's job.
    """

    def __init__(
        self,
        policy: DestinationPolicy,
        *,
        resolver: Resolver | None = None,
        on_refusal: OnRefusal | None = None,
        trust_env: bool = False,
    ) -> None:
        super().__init__()
        self._netbasics_guard = Guard(policy, resolver, on_refusal)
        self.trust_env = trust_env
        for prefix in ("http://", "https://"):
            self.mount(prefix, GuardedHTTPAdapter(policy, resolver=resolver, on_refusal=on_refusal))

    def get_adapter(self, url: str) -> requests.adapters.BaseAdapter:
        # Every request and every redirect hop picks its adapter here.
        self._netbasics_guard.check_scheme(urllib.parse.urlsplit(url).scheme, url)
        return super().get_adapter(url)

    def rebuild_auth(self, prepared_request: requests.PreparedRequest, response: requests.Response) -> None:
        super().rebuild_auth(prepared_request, response)
        if _origin(response.request.url) == _origin(prepared_request.url):
            return
        # Another origin: only cookies scoped to a domain may follow (the jar matches them
        # against the new host); a cookie without one (given with cookies=) stays behind.
        kept = requests.cookies.RequestsCookieJar()
        for cookie in prepared_request._cookies or ():
            if cookie.domain:
                kept.set_cookie(cookie)
        prepared_request.headers.pop("Cookie", None)
        prepared_request.prepare_cookies(kept)


def guarded_session(
    policy: DestinationPolicy,
    *,
    resolver: Resolver | None = None,
    on_refusal: OnRefusal | None = None,
    trust_env: bool = False,
) -> GuardedSession:
    """A :class:`GuardedSession`: requests that connect only where ``policy`` allows.

    ``resolver`` (``socket.getaddrinfo``'s signature) replaces the system resolver;
    ``on_refusal`` sees every :class:`~netbasics.UnsafeDestination` before it is raised.
    """
    return GuardedSession(policy, resolver=resolver, on_refusal=on_refusal, trust_env=trust_env)
