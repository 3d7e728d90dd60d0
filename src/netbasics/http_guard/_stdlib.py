"""The guard for the standard library's HTTP clients: http.client and urllib.request.

:mod:`http.client` opens its socket in one place, ``HTTPConnection.connect``, through
the instance attribute ``_create_connection`` (``socket.create_connection``); TLS is
wrapped afterwards by ``HTTPSConnection.connect`` with ``server_hostname`` set to the
host name. The guarded classes replace only that attribute with
:func:`connect_guarded`, so TLS, SNI, certificate checks, proxies' ``CONNECT`` tunnels
and keep-alive stay the standard library's own. The attribute exists from 3.4 to 3.13
at least; its presence is checked when this module is imported.

:func:`guarded_opener` builds a :class:`urllib.request.OpenerDirector` by hand, not with
``build_opener``: only http and https handlers (no ftp, file or data), no proxies from
the environment, a redirect handler that refuses other schemes on every hop and drops
credentials when a redirect leaves the origin.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import urllib.request
from collections.abc import Callable
from functools import partial
from typing import Any, Final
from urllib.parse import urljoin, urlsplit

from ..endpoints import Endpoint
from ..resolver import Resolver
from ..safety import DestinationPolicy, UnsafeDestination, UnsafeReason, check_destination, destination_host
from ._connect import RefusalHook, connect_guarded, report_refusal

__all__ = ["ALLOWED_SCHEMES", "GuardedHTTPConnection", "GuardedHTTPSConnection", "guarded_opener"]

#: The schemes the guarded opener fetches, on the first request and on every redirect.
ALLOWED_SCHEMES: Final = frozenset({"http", "https"})

# Headers that carry credentials: not sent to another origin after a redirect.
# urllib.request.Request stores header names with str.capitalize().
_CREDENTIALS: Final = frozenset({"Authorization", "Cookie", "Proxy-authorization"})

_DEFAULT_PORTS: Final = {"http": 80, "https": 443}

# OpenerDirector.open's default timeout: the socket module's "not given" sentinel.
_DEFAULT_TIMEOUT: Final[Any] = urllib.request.OpenerDirector.open.__defaults__[-1]  # type: ignore[index]


def _check_support() -> None:
    probe = http.client.HTTPConnection("example.invalid")
    if not hasattr(probe, "_create_connection"):  # pragma: no cover - every supported CPython has it
        raise ImportError(
            "netbasics.http_guard needs http.client.HTTPConnection._create_connection "
            "(CPython 3.10 to 3.13 have it); this Python's http.client has changed"
        )


_check_support()


def _timeout(value: object) -> float | None:
    # http.client and urllib pass socket._GLOBAL_DEFAULT_TIMEOUT (an object) for "no
    # timeout given": that means the process default, as socket.create_connection reads it.
    if value is None or isinstance(value, (int, float)):
        return value
    return socket.getdefaulttimeout()


class _Guard:
    """What a guarded connection checks with; one per connection, set by its constructor."""

    __slots__ = ("on_refusal", "policy", "refusal", "resolver")

    def __init__(
        self,
        policy: object,
        resolver: Resolver | None,
        on_refusal: RefusalHook | None,
        refusal: UnsafeDestination | None = None,
    ) -> None:
        if not isinstance(policy, DestinationPolicy):
            raise TypeError(f"policy must be a DestinationPolicy, got {type(policy).__name__}")
        self.policy = policy
        self.resolver = resolver
        self.on_refusal = on_refusal
        self.refusal = refusal  # the host text given to the constructor is refused

    def connect(
        self, tunnel: tuple[str, int] | None, address: tuple[str, int], timeout: object, source: object = None
    ) -> socket.socket:
        if self.refusal is not None:
            report_refusal(self.refusal, self.on_refusal)
            raise self.refusal
        if tunnel is not None:
            # Through a proxy's CONNECT tunnel the proxy resolves the target; what can be
            # checked here is the target's spelling and, for a literal, its address.
            check_literal_target(tunnel[0], tunnel[1], self.policy, self.on_refusal)
        host, port = address
        return connect_guarded(
            host,
            port,
            policy=self.policy,
            timeout=_timeout(timeout),
            source_address=source,  # type: ignore[arg-type]  # http.client's (host, port) or None
            resolver=self.resolver,
            on_refusal=self.on_refusal,
        )


def _bracket_refusal(hostport: object) -> UnsafeDestination | None:
    """Why a bracketed host is refused (``[example.com]``), else None.

    http.client (and urllib.parse on Python 3.10) strip brackets from any text, so
    ``[example.com]`` would be connected to as ``example.com``: brackets hold IPv6 only.
    """
    if not isinstance(hostport, str) or not hostport.startswith("["):
        return None
    end = hostport.find("]")
    bracketed = hostport if end < 0 else hostport[: end + 1]
    found = destination_host(bracketed.replace("%25", "%", 1))
    return found if isinstance(found, UnsafeDestination) else None


def check_literal_target(host: str, port: int, policy: DestinationPolicy, on_refusal: RefusalHook | None) -> None:
    """Refuse a target host that is a legacy numeric form, junk, or a refused literal address.

    Names pass: they are resolved and checked where the connection is made. Used where
    something else (a proxy) will resolve the name.
    """
    found = destination_host(host)
    try:
        if isinstance(found, UnsafeDestination):
            raise UnsafeDestination(
                found.address, found.reason, found.detail, embedded=found.embedded, port=port, host=found.host
            )
        if not isinstance(found, str):
            check_destination(Endpoint(found, port), policy=policy)
    except UnsafeDestination as exc:
        report_refusal(exc, on_refusal)
        raise


class _GuardedConnection(http.client.HTTPConnection):
    """What both guarded connection classes share: the guard's arguments, and the hook.

    Listed first among the bases, so its ``super().__init__`` is ``HTTPSConnection``'s in
    :class:`GuardedHTTPSConnection` (and ``default_port`` that class's 443).
    """

    def __init__(
        self,
        host: str,
        port: int | None = None,
        *,
        policy: DestinationPolicy,
        resolver: Resolver | None = None,
        on_refusal: RefusalHook | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(host, port, **kwargs)
        self._guard = _Guard(policy, resolver, on_refusal, _bracket_refusal(host))
        self._create_connection = self._guarded_create_connection

    def _guarded_create_connection(
        self, address: tuple[str, int], timeout: object = None, source_address: object = None
    ) -> socket.socket:
        tunnel_host: str | None = getattr(self, "_tunnel_host", None)
        tunnel = None if not tunnel_host else (tunnel_host, getattr(self, "_tunnel_port", None) or self.default_port)
        return self._guard.connect(tunnel, address, timeout, source_address)


class GuardedHTTPConnection(_GuardedConnection):
    """An :class:`http.client.HTTPConnection` that connects only where ``policy`` allows.

    Takes the arguments of :class:`~http.client.HTTPConnection` plus keyword-only
    ``policy`` (a :class:`~netbasics.DestinationPolicy`), ``resolver`` and
    ``on_refusal``. Each new connection (the first request, and again after the server
    closed a keep-alive connection) goes through :func:`connect_guarded`: one resolution,
    every answer checked, only checked addresses connected to. A refusal raises
    :class:`~netbasics.UnsafeDestination` from the request call.

    >>> from netbasics import DestinationPolicy
    >>> conn = GuardedHTTPConnection("169.254.169.254", policy=DestinationPolicy())
    >>> conn.request("GET", "/latest/meta-data/")
    Traceback (most recent call last):
    ...
    netbasics.UnsafeDestination: 169.254.169.254:80: cloud metadata service; ...
    """


class GuardedHTTPSConnection(_GuardedConnection, http.client.HTTPSConnection):
    """An :class:`http.client.HTTPSConnection` that connects only where ``policy`` allows.

    As :class:`GuardedHTTPConnection`; TLS is the standard library's, so the host name
    (never the address connected to) is sent as SNI and checked against the
    certificate. Pass ``context=`` to trust another CA.
    """


# --- urllib.request ------------------------------------------------------------------------------


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return scheme, (parts.hostname or ""), port or _DEFAULT_PORTS.get(scheme)


def _scheme_refusal(url: str, scheme: str) -> UnsafeDestination:
    why = f"scheme {scheme or '(none)'!r} is not allowed (http and https only)"
    return UnsafeDestination(None, UnsafeReason.SCHEME, why, host=url[:255])


def _check_url_text(url: str, on_refusal: RefusalHook | None) -> None:
    """Refuse a URL urllib cannot even split (bad brackets or port), or brackets around no IPv6, as INVALID."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  # urlsplit checks brackets at once (3.11+), the port lazily
    except ValueError as error:
        exc = UnsafeDestination(None, UnsafeReason.INVALID, f"not a valid URL: {error}"[:200], host=url[:255])
        report_refusal(exc, on_refusal)
        raise exc from error
    refusal = _bracket_refusal(parts.netloc.rpartition("@")[2])
    if refusal is not None:
        report_refusal(refusal, on_refusal)
        raise refusal


class _GuardedOpener(urllib.request.OpenerDirector):
    """An opener whose URL text is checked before urllib builds a request from it."""

    def __init__(self, on_refusal: RefusalHook | None) -> None:
        super().__init__()
        self._on_refusal = on_refusal

    def open(
        self, fullurl: str | urllib.request.Request, data: Any = None, timeout: float | None = _DEFAULT_TIMEOUT
    ) -> Any:
        if isinstance(fullurl, str):
            _check_url_text(fullurl, self._on_refusal)
        return super().open(fullurl, data, timeout)


class _Checks(urllib.request.BaseHandler):
    """Before any handler opens a request: the scheme, and the target's spelling (for proxies)."""

    handler_order = 0  # before ProxyHandler (100) swaps the host for the proxy's

    def __init__(self, policy: DestinationPolicy, on_refusal: RefusalHook | None) -> None:
        self._policy = policy
        self._on_refusal = on_refusal

    def default_open(self, req: urllib.request.Request) -> None:
        url = req.full_url
        _check_url_text(url, self._on_refusal)
        scheme, host, port = _origin(url)
        if scheme not in ALLOWED_SCHEMES:
            exc = _scheme_refusal(url, scheme)
            report_refusal(exc, self._on_refusal)
            raise exc
        # Without a proxy the connection checks this again, after resolving; through a
        # proxy this is the only check of the target there is.
        check_literal_target(host, port or 0, self._policy, self._on_refusal)
        return


class _Redirects(urllib.request.HTTPRedirectHandler):
    """urllib's redirect handling, refusing other schemes and keeping credentials in their origin.

    urllib itself allows redirects to ftp and copies every header set with ``headers=``
    (``Authorization`` and ``Cookie`` among them) to the next request, whatever its origin.
    """

    def __init__(self, on_refusal: RefusalHook | None) -> None:
        self._on_refusal = on_refusal

    def http_error_302(self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any) -> Any:
        location = headers.get("location") or headers.get("uri")
        if location is not None:
            target = urljoin(req.full_url, location.strip())
            scheme = urlsplit(target).scheme.lower()
            if scheme not in ALLOWED_SCHEMES:
                fp.close()
                exc = _scheme_refusal(target, scheme)
                report_refusal(exc, self._on_refusal)
                raise exc
        return super().http_error_302(req, fp, code, msg, headers)

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302

    def redirect_request(
        self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any, newurl: str
    ) -> urllib.request.Request | None:
        # Python 3.10's handler refuses 308, which means what 307 means (RFC 9110 15.4.9).
        new = super().redirect_request(req, fp, 307 if code == 308 else code, msg, headers, newurl)
        if new is None:
            return None
        # A proxy's credentials are added again by ProxyHandler where a proxy is used.
        drop = _CREDENTIALS if _origin(req.full_url) != _origin(new.full_url) else {"Proxy-authorization"}
        for name in drop:
            new.headers.pop(name, None)
            new.unredirected_hdrs.pop(name, None)
        return new


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, connection: Callable[..., http.client.HTTPConnection]) -> None:
        super().__init__()
        self._connection = connection

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(self._connection, req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, connection: Callable[..., http.client.HTTPSConnection], context: ssl.SSLContext | None) -> None:
        super().__init__(context=context)
        self._connection = connection
        self._guarded_context = context

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(self._connection, req, context=self._guarded_context)


def guarded_opener(
    policy: DestinationPolicy,
    *,
    resolver: Resolver | None = None,
    on_refusal: RefusalHook | None = None,
    proxies: dict[str, str] | None = None,
    context: ssl.SSLContext | None = None,
) -> urllib.request.OpenerDirector:
    """A :mod:`urllib.request` opener that fetches http and https URLs only where ``policy`` allows.

    Use it like ``urllib.request.urlopen``: ``guarded_opener(policy).open(url, timeout=10)``.
    Every connection, on the first request and on every redirect hop, goes through
    :func:`connect_guarded` (one resolution, every answer checked, only checked
    addresses connected to); a refusal raises :class:`~netbasics.UnsafeDestination`
    from ``open()``, with the reason in its fields.

    * Schemes: http and https only; anything else (``ftp``, ``file``, ``data``) is
      refused with reason ``SCHEME``, on the first URL and on redirects.
    * Redirects: followed as urllib does (at most 10), each hop checked; ``Authorization``,
      ``Cookie`` and ``Proxy-Authorization`` are not carried to another origin (scheme,
      host, port).
    * Proxies: ``HTTP_PROXY``/``HTTPS_PROXY`` from the environment are ignored. Pass
      ``proxies={"http": ..., "https": ...}`` to use one: the connection to the proxy is
      checked with ``policy`` like any other (allow its address and port), and the
      target's spelling and literal address are checked before the request; a target
      *name* is resolved by the proxy, which must guard it.
    * TLS: ``context`` (an :class:`ssl.SSLContext`) as for ``urlopen``; the host name is
      used for SNI and certificate checks.

    ``resolver`` answers for names; ``on_refusal`` is called with every refusal (also
    logged to ``netbasics.http_guard``). No cookie jar and no authentication handler are
    installed; add them with ``opener.add_handler``.
    """
    if not isinstance(policy, DestinationPolicy):
        raise TypeError(f"policy must be a DestinationPolicy, got {type(policy).__name__}")
    opener = _GuardedOpener(on_refusal)
    for handler in (
        _Checks(policy, on_refusal),
        urllib.request.ProxyHandler(dict(proxies) if proxies else {}),
        urllib.request.UnknownHandler(),
        _HTTPHandler(partial(GuardedHTTPConnection, policy=policy, resolver=resolver, on_refusal=on_refusal)),
        _HTTPSHandler(
            partial(GuardedHTTPSConnection, policy=policy, resolver=resolver, on_refusal=on_refusal), context
        ),
        urllib.request.HTTPDefaultErrorHandler(),
        _Redirects(on_refusal),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    return opener
