"""What ``udp_request`` does without I/O: its settings, retry schedule and final error.

:func:`netbasics.udp_request` (blocking) and :func:`netbasics.aio.udp_request` (asyncio)
follow one rule, so they share this bookkeeping; each keeps its own sends, waits and
receive loop (a blocking call there, an ``await`` here), which this module never touches.

Each address gets ``retries + 1`` attempts; the first waits ``timeout`` seconds for a
reply, each later one ``backoff`` times longer (RFC 8085 section 3.1.3). ``total``
counts the seconds given to attempts, for the :class:`~netbasics.NetTimeoutError`; an
address that refuses at once (ICMP port unreachable, not the last address) gives its
current attempt back. An address whose every attempt was refused keeps
``refused_everywhere`` true; one silent or answering address makes it false.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from typing import Protocol, TypeVar

from .._timeouts import check_factor, check_timeout
from ..endpoints import Endpoint, EndpointLike, coerce_target
from ..errors import ConnectError, NetbasicsError, NetTimeoutError
from .sockets import check_int

__all__ = ["RequestSchedule", "is_reply"]


class _Received(Protocol):
    @property
    def sender(self) -> Endpoint: ...


D = TypeVar("D", bound=_Received)


def is_reply(answer: D, peer: Endpoint, accept: Callable[[D], bool] | None) -> bool:
    """Whether a datagram received while waiting on ``peer`` is its reply: sent from there and ``accept``-ed.

    The sender is compared without zones, which may be spelt differently.
    """
    sender = answer.sender
    if int(sender.address) != int(peer.address) or sender.port != peer.port:
        return False  # someone else
    return accept is None or accept(answer)


class RequestSchedule:
    """One ``udp_request`` call's checked settings and its bookkeeping across addresses."""

    __slots__ = ("_factor", "_first", "_refused", "attempts", "refused_everywhere", "total")

    def __init__(self, timeout: float, retries: int, backoff: float) -> None:
        # The checks, in the order the callers documented them: timeout, retries, backoff.
        self._first = check_timeout(timeout, "timeout", zero=False)  # None: no deadline
        check_int(retries, "retries", 0)
        self._factor = check_factor(backoff, "backoff")
        self.attempts = retries + 1
        self.total = 0.0
        self.refused_everywhere = True
        self._refused = 0  # attempts refused at the current address

    def waits(self) -> Iterator[float | None]:
        """Each attempt's wait at the next address, in seconds (``None``: no deadline), counted into ``total``."""
        self._refused = 0
        wait = self._first
        factor = self._factor
        for _attempt in range(self.attempts):
            self.total += math.inf if wait is None else wait
            yield wait
            wait = None if wait is None else check_timeout(wait * factor)

    def refused(self, wait: float | None, last: bool) -> bool:
        """An attempt of ``wait`` seconds met an ICMP port unreachable; True: leave the address at once.

        Any address but the ``last`` is left (its attempt is not counted into ``total``);
        the last keeps its schedule, as a server there may be starting.
        """
        self._refused += 1
        if last:
            return False
        self.total -= math.inf if wait is None else wait
        return True

    def address_done(self) -> None:
        """The current address's schedule ran out without a reply."""
        if self._refused < self.attempts:
            self.refused_everywhere = False

    def failure(self, target: EndpointLike, peers: Sequence[Endpoint]) -> NetbasicsError:
        """The error once every address in ``peers`` (what ``target`` gave) was tried without a reply."""
        attempts = self.attempts
        if len(peers) == 1:
            shown: object = peers[0]
            how = f"refused {attempts} times"
            tried = f"{attempts} attempt(s)"
        else:
            shown = target if isinstance(target, str) else coerce_target(target)
            how = f"refused by all {len(peers)} addresses"
            tried = f"{attempts} attempt(s) to each of {len(peers)} addresses"
        if self.refused_everywhere:
            return ConnectError(f"request to {shown}", f"{how} (ICMP port unreachable: nothing listening)")
        return NetTimeoutError(f"request to {shown}", self.total, detail=f"no reply after {tried}")
