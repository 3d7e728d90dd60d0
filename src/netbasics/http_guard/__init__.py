"""The SSRF guard where HTTP requests are made: stdlib clients here, adapters beside.

Everything goes through :func:`connect_guarded`: the host is resolved once, every answer
is checked with a :class:`~netbasics.DestinationPolicy`, and only checked addresses are
connected to, while TLS still verifies the host name. The standard-library pieces need
nothing else: :class:`GuardedHTTPConnection` and :class:`GuardedHTTPSConnection` for
:mod:`http.client`, :func:`guarded_opener` for :mod:`urllib.request`. Adapters for
requests, urllib3, httpx and aiohttp live in submodules that import their client lazily.

This package is not imported by ``import netbasics``; import it by name.
"""

from __future__ import annotations

from ._connect import LOGGER as LOGGER
from ._connect import RefusalHook as RefusalHook
from ._connect import connect_guarded as connect_guarded
from ._stdlib import ALLOWED_SCHEMES as ALLOWED_SCHEMES
from ._stdlib import GuardedHTTPConnection as GuardedHTTPConnection
from ._stdlib import GuardedHTTPSConnection as GuardedHTTPSConnection
from ._stdlib import guarded_opener as guarded_opener

__all__ = [
    "ALLOWED_SCHEMES",
    "LOGGER",
    "GuardedHTTPConnection",
    "GuardedHTTPSConnection",
    "RefusalHook",
    "connect_guarded",
    "guarded_opener",
]
