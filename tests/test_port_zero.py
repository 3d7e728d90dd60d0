"""Port 0 is never a destination: every client refuses it with one EndpointError (issue 23)."""

from __future__ import annotations

import asyncio
import errno
from collections.abc import Callable
from typing import Any

import pytest

import netbasics
from netbasics import ConnectError, DestinationPolicy, Endpoint, EndpointError, UnsafeDestination, aio

REASON = "port 0 cannot be a destination"


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


async def _aio_send_to(target: object) -> None:
    async with await aio.open_udp(family=4, timeout=1) as sock:
        await sock.send_to(b"x", target)  # type: ignore[arg-type]


def _sync_send_to(target: object) -> None:
    with netbasics.open_udp(family=4) as sock:
        sock.send_to(b"x", target)  # type: ignore[arg-type]


CASES: list[tuple[str, Callable[[object], object]]] = [
    ("udp_request", lambda t: netbasics.udp_request(t, b"x", timeout=0.2, retries=0)),  # type: ignore[arg-type]
    ("open_udp", lambda t: netbasics.open_udp(connect=t).close()),  # type: ignore[arg-type]
    ("send_to", _sync_send_to),
    ("connect_tcp", lambda t: netbasics.connect_tcp(t, connect_timeout=1).close()),  # type: ignore[arg-type]
    ("port_open", lambda t: netbasics.port_open(t, timeout=0.5)),  # type: ignore[arg-type]
    ("aio.udp_request", lambda t: _run(aio.udp_request(t, b"x", timeout=0.2, retries=0))),  # type: ignore[arg-type]
    ("aio.open_udp", lambda t: _run(_aio_open_close(t))),
    ("aio.send_to", lambda t: _run(_aio_send_to(t))),
    ("aio.connect_tcp", lambda t: _run(_aio_connect_close(t))),
]


async def _aio_open_close(target: object) -> None:
    sock = await aio.open_udp(connect=target)  # type: ignore[arg-type]
    sock.close()


async def _aio_connect_close(target: object) -> None:
    conn = await aio.connect_tcp(target, connect_timeout=1)  # type: ignore[arg-type]
    conn.close()


@pytest.mark.parametrize(
    "target", ["127.0.0.1:0", "[::1]:0", "localhost:0", ("127.0.0.1", 0), Endpoint("127.0.0.1", 0)]
)
@pytest.mark.parametrize(("name", "call"), CASES, ids=[name for name, _ in CASES])
def test_port_zero_is_refused_everywhere(name: str, call: Callable[[object], object], target: object) -> None:
    if name.endswith("send_to") and "::1" in str(target):
        target = "127.0.0.1:0"  # the IPv4 socket: the refusal must come before the family check
    with pytest.raises(EndpointError) as info:
        call(target)
    err = info.value
    assert err.reason == REASON
    assert REASON in str(err)
    shown = target if isinstance(target, str) else str(Endpoint("127.0.0.1", 0))
    assert err.input == shown, str(err)
    assert len(str(err)) <= 300


def test_with_a_policy_port_zero_is_a_refused_destination() -> None:
    with pytest.raises(UnsafeDestination, match=REASON):
        netbasics.connect_tcp("127.0.0.1:0", policy=DestinationPolicy())


def test_bind_port_zero_still_picks_a_port() -> None:
    with netbasics.open_udp(bind="127.0.0.1:0") as sock:
        assert sock.local.port != 0


def test_any_send_error_is_translated() -> None:
    """An errno with no better meaning (EINVAL here) still comes out as a library error, errno kept."""
    with netbasics.open_udp(family=4) as sock, pytest.raises(ConnectError) as info:
        sock._send_to(b"x", ("127.0.0.1", 0), Endpoint("127.0.0.1", 0))  # past the checks, to the kernel
    err = info.value
    assert err.errno == errno.EINVAL
    assert "127.0.0.1:0" in str(err)
    assert isinstance(err, OSError)  # still caught as the builtin
