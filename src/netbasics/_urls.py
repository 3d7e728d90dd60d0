"""URLs read the way fetchers read them: refuse a URL whose host depends on the parser.

``urllib.parse`` (and so urllib, requests and most Python fetchers) and WHATWG-style
parsers (browsers, ``ada``, Node's ``URL``, curl in places) split some URLs differently:
``http://127.0.0.1\\@8.8.8.8/`` is host 8.8.8.8 to ``urlsplit`` and 127.0.0.1 to a
browser, because WHATWG ends the authority at a backslash. A check made with one reading
and a fetch made with the other is an SSRF bypass. Rather than model every parser, the
check accepts only URLs whose authority every reading splits alike, and names the
construct that would split them:

* whitespace or control characters anywhere (WHATWG removes tabs and newlines and
  strips the ends; older ``urlsplit`` keeps them);
* no ``//`` after the scheme (``http:/evil``, ``http:\\\\evil``: WHATWG skips any mix of
  slashes and backslashes after a special scheme);
* a backslash in the authority (WHATWG ends the host there, ``urlsplit`` does not);
* more than one ``@`` in the authority (parsers differ on which one ends the userinfo);
* a ``%`` in the host (WHATWG percent-decodes hosts, ``urlsplit`` does not), except
  an IPv6 zone (``[fe80::1%25eth0]``, RFC 6874), which every policy refuses anyway;
* in a non-ASCII host, an IDNA deviation character (``ß``, ``ς``, ZWJ, ZWNJ), which
  IDNA 2003 (Python's codec) and UTS 46 (WHATWG) map to different names; and any
  non-ASCII host under a scheme WHATWG does not call special (it percent-encodes those).

The tests compare this reading with ``urllib.parse`` and the real WHATWG parser ``ada``
over the known splitting forms and generated ones.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final
from urllib.parse import urlsplit

from .addresses import Address
from .endpoints import Endpoint
from .resolver import Resolver, resolve
from .safety import DestinationPolicy, UnsafeDestination, UnsafeReason, check_destination, destination_host

__all__ = ["DEFAULT_PORTS", "check_url", "read_url"]

#: Default ports of the schemes WHATWG calls special (and every HTTP fetcher knows).
DEFAULT_PORTS: Final = {"http": 80, "https": 443, "ws": 80, "wss": 443, "ftp": 21}

_DEVIATIONS: Final = frozenset("\u00df\u03c2\u200c\u200d")
_KEPT: Final = 255


def _ambiguous(url: str, why: str) -> UnsafeDestination:
    return UnsafeDestination(
        None, UnsafeReason.AMBIGUOUS_URL, f"{why}; parsers disagree on its host"[:250], host=url[:_KEPT]
    )


def _invalid(url: str, why: str) -> UnsafeDestination:
    return UnsafeDestination(None, UnsafeReason.INVALID, why[:250], host=url[:_KEPT])


def _whatwg_authority(url: str) -> str:
    """The authority as WHATWG reads it for a special scheme (for messages): ends at / \\ ? #."""
    rest = url.partition(":")[2].lstrip("/\\")
    for i, c in enumerate(rest):
        if c in "/\\?#":
            return rest[:i]
    return rest


def read_url(url: str) -> tuple[str, Address | str, int | None]:
    """``(scheme, host, port)`` of ``url`` when every parser reads its host alike, else a refusal.

    ``host`` is an :class:`Address` or a host name (IDNA-encoded, lower case); ``port``
    is the URL's port, the scheme's default (:data:`DEFAULT_PORTS`) or ``None``. Raises
    :class:`UnsafeDestination` with reason ``AMBIGUOUS_URL`` for a URL whose host differs
    between ``urllib.parse`` and a WHATWG reading, ``INVALID`` for one with no valid host
    and ``LEGACY_NUMERIC`` for a legacy numeric host (``http://127.1/``).

    >>> read_url("https://Example.COM/path")
    ('https', 'example.com', 443)
    >>> read_url("http://127.0.0.1\\\\@8.8.8.8/")
    Traceback (most recent call last):
    ...
    netbasics.UnsafeDestination: 'http://127.0.0.1\\\\@8.8.8.8/': backslash in the authority: ...
    """
    if not isinstance(url, str):
        raise TypeError(f"url must be str, got {type(url).__name__}")
    for c in url:
        if c <= " " or c == "\x7f":
            return_why = "tab or newline" if c in "\t\n\r" else "whitespace or a control character"
            raise _ambiguous(url, f"{return_why} ({c!r}) in the URL: WHATWG parsers remove or strip it")
    scheme, colon, rest = url.partition(":")
    if not colon or not scheme or not (scheme[0].isascii() and scheme[0].isalpha()):
        raise _invalid(url, "not an absolute URL (no scheme)")
    scheme = scheme.lower()
    if not rest.startswith("//"):
        if rest[:1] in ("/", "\\") or scheme in DEFAULT_PORTS:
            raise _ambiguous(url, f"no '//' after {scheme}: (WHATWG skips slashes and backslashes there)")
        raise _invalid(url, "no authority ('//host') in the URL")
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        port = parts.port
        host_text = parts.hostname
    except ValueError as exc:
        raise _invalid(url, f"not a valid URL: {exc}") from None
    if "\\" in netloc:
        whatwg = _whatwg_authority(url).rpartition("@")[2]
        raise _ambiguous(
            url, f"backslash in the authority: urllib reads host {parts.hostname!r}, WHATWG {whatwg.lower()!r}"
        )
    if netloc.count("@") > 1:
        raise _ambiguous(url, "more than one '@' in the authority")
    hostport = netloc.rpartition("@")[2]
    if hostport.startswith("["):
        end = hostport.find("]")
        after = hostport[end + 1 :]
        if end < 0 or not (after == "" or (after[0] == ":" and (after == ":" or after[1:].isdigit()))):
            raise _ambiguous(url, "text after the bracketed address in the authority")
        # RFC 6874: a zone is written %25 in a URL. WHATWG parsers refuse zones, and every
        # policy refuses an address with one, so the readings cannot lead to a connection.
        host_text = f"[{hostport[1:end].replace('%25', '%', 1)}]"
    elif "%" in hostport:
        raise _ambiguous(url, "percent sign in the host: WHATWG decodes it, urllib does not")
    elif "[" in hostport or "]" in hostport:
        raise _ambiguous(url, "bracket inside the host: urllib reads the bracketed part alone")
    if not host_text:
        raise _invalid(url, "URL has no host")
    if not host_text.isascii() and scheme not in DEFAULT_PORTS:
        raise _ambiguous(url, f"non-ASCII host under scheme {scheme!r}: WHATWG percent-encodes it, urllib does not")
    if not host_text.isascii() and _DEVIATIONS.intersection(host_text.lower()):
        raise _ambiguous(url, "IDNA deviation character (\u00df, \u03c2, ZWJ or ZWNJ) in the host")
    found = destination_host(host_text)
    if isinstance(found, UnsafeDestination):
        raise UnsafeDestination(
            found.address, found.reason, found.detail, embedded=found.embedded, port=port, host=found.host
        )
    return scheme, found, port if port is not None else DEFAULT_PORTS.get(scheme)


def check_url(url: str, *, policy: DestinationPolicy | None = None, resolver: Resolver | None = None) -> list[Endpoint]:
    """Check ``url`` as a fetcher would connect for it; returns the checked endpoints.

    The URL must read alike in ``urllib.parse`` and WHATWG parsers (see :func:`read_url`);
    then its host is checked with ``policy`` (default: strict), a name resolved once with
    every answer checked, as ``resolve(host, port, policy=...)`` does. Raises
    :class:`UnsafeDestination` (reasons ``AMBIGUOUS_URL``, ``INVALID``,
    ``LEGACY_NUMERIC`` or an address rule) or :class:`ResolveError`. Without a port or a
    scheme default, only the address rules apply.

    The check is for reporting and pre-flight validation; a fetch must still connect
    only to what was checked (:mod:`netbasics.http_guard`), or DNS can answer
    differently the second time.

    >>> check_url("http://127.0.0.1\\\\@8.8.8.8/")
    Traceback (most recent call last):
    ...
    netbasics.UnsafeDestination: 'http://127.0.0.1\\\\@8.8.8.8/': backslash in the authority: ...
    >>> check_url("http://[::ffff:169.254.169.254]/")
    Traceback (most recent call last):
    ...
    netbasics.UnsafeDestination: [::ffff:169.254.169.254]:80: IPv4-mapped address ... embeds 169.254.169.254 ...
    """
    pol = DestinationPolicy() if policy is None else policy
    _scheme, host, port = read_url(url)
    if port is None:
        pol = replace(pol, allowed_ports=None, denied_ports=frozenset())
    if isinstance(host, str):
        return resolve(host, port or 0, policy=pol, resolver=resolver)
    endpoint = Endpoint(host, port or 0)
    check_destination(endpoint if port is not None else host, policy=pol)
    return [endpoint]
