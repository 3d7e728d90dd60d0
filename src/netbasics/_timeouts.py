"""The one rule for every timeout-like argument in netbasics (pure: no sockets).

Every ``timeout=``, ``connect_timeout=``, ``idle_timeout=``, ``attempt_delay=``, the
``timeout`` of ``stop()`` and the ``timeout`` property setters go through
:func:`check_timeout`; multipliers such as ``udp_request(backoff=)`` through
:func:`check_factor`:

* ``None`` and ``float("inf")`` mean no deadline: wait as long as it takes.
* A finite value longer than :data:`LONGEST_WAIT` (about 23 days) also means no
  deadline. The operating system cannot wait that long in one call (``epoll`` and
  ``poll`` count milliseconds in a C int, up to 24.8 days; a ``timeval`` or the monotonic
  clock overflow at ``1e308`` or ``2**64``), and no caller needs a deadline that far out.
* ``nan`` and negative values are a plain :class:`ValueError` naming the parameter;
  so is zero where the call cannot use it (``zero=False``).
* Anything but an ``int`` or ``float`` (text, ``bool``, ``Decimal``) is a :class:`TypeError`.
"""

from __future__ import annotations

from typing import Final

from .errors import quote

__all__ = ["LONGEST_WAIT", "check_factor", "check_timeout"]

#: Timeouts above this many seconds (about 23 days) mean no deadline: it is below the
#: 2**31 - 1 milliseconds that epoll/poll take in one wait, so any finite timeout the
#: library passes on can be waited for.
LONGEST_WAIT: Final = 2_000_000.0


def _number(value: object, what: str) -> float | int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{what} must be seconds (int or float) or None, got {quote(value)}")
    return value


def check_timeout(timeout: object, what: str = "timeout", *, zero: bool = True) -> float | None:
    """``timeout`` as float seconds, or ``None`` for no deadline (see the module docs).

    ``what`` names the parameter in the error. ``zero=False`` refuses 0 as well.

    >>> check_timeout(2), check_timeout(float("inf")), check_timeout(2**64)
    (2.0, None, None)
    >>> check_timeout(-1, "idle_timeout")
    Traceback (most recent call last):
    ...
    ValueError: idle_timeout must be >= 0 seconds, got -1
    """
    if timeout is None:
        return None
    value = _number(timeout, what)
    if value != value or value < 0 or (not zero and value == 0):
        raise ValueError(f"{what} must be {'>=' if zero else '>'} 0 seconds, got {quote(value)}")
    if value > LONGEST_WAIT:  # an int too large for a float compares exactly, no overflow
        return None
    return float(value)


def check_factor(value: object, what: str, low: float = 1.0) -> float:
    """A multiplier such as a backoff factor: a number ``>= low``; huge values are capped.

    A factor above :data:`LONGEST_WAIT` is :data:`LONGEST_WAIT`, so that products of it
    stay finite floats (anything longer than that is no deadline anyway).

    >>> check_factor(2, "backoff"), check_factor(float("inf"), "backoff")
    (2.0, 2000000.0)
    """
    number = _number(value, what)
    if number != number or number < low:
        raise ValueError(f"{what} must be >= {low:g}, got {quote(number)}")
    return LONGEST_WAIT if number > LONGEST_WAIT else float(number)
