"""netbasics.aio mirrors the synchronous API: every async name has the signature of its synchronous twin."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

import netbasics
import netbasics.aio as aio

# (async object, synchronous twin); methods are compared by name below.
TWINS: list[tuple[Any, Any]] = [
    (aio.connect_tcp, netbasics.connect_tcp),
    (aio.connect_unix, netbasics.connect_unix),
    (aio.port_open, netbasics.port_open),
    (aio.resolve, netbasics.resolve),
    (aio.TCPServer.__init__, netbasics.TCPServer.__init__),
    (aio.TCPServer.for_messages, netbasics.TCPServer.for_messages),
    (aio.UnixServer.__init__, netbasics.UnixServer.__init__),
    (aio.UnixServer.for_messages, netbasics.UnixServer.for_messages),
    (aio.TCPServer.stop, netbasics.TCPServer.stop),
    (aio.UnixServer.stop, netbasics.UnixServer.stop),
    (aio.TCPServer.serve_forever, netbasics.TCPServer.serve_forever),
]
CONNECTION_METHODS = [
    "recv",
    "recv_exactly",
    "recv_until",
    "recv_into",
    "recv_message",
    "messages",
    "lines",
    "send_all",
    "send_message",
    "send_file",
    "shutdown_write",
    "close",
    "fileno",
]
TWINS += [(getattr(aio.StreamConnection, m), getattr(netbasics.StreamConnection, m)) for m in CONNECTION_METHODS]
# The same properties on both connections and servers.
PROPERTIES = {
    (aio.StreamConnection, netbasics.StreamConnection): ["local", "remote", "timeout", "closed", "peer_credentials"],
    (aio.TCPServer, netbasics.TCPServer): ["endpoint", "name", "serving", "active_connections"],
    (aio.UnixServer, netbasics.UnixServer): ["endpoint", "name", "serving", "active_connections"],
}


def _shape(func: Any) -> list[tuple[str, Any, Any]]:
    sig = inspect.signature(func)
    return [(p.name, p.kind, p.default) for p in sig.parameters.values()]


@pytest.mark.parametrize(("mine", "twin"), TWINS, ids=lambda f: getattr(f, "__qualname__", str(f)))
def test_signature_matches_the_synchronous_twin(mine: Any, twin: Any) -> None:
    assert _shape(mine) == _shape(twin)


@pytest.mark.parametrize(("mine", "twin"), TWINS, ids=lambda f: getattr(f, "__qualname__", str(f)))
def test_blocking_calls_are_coroutines(mine: Any, twin: Any) -> None:
    """What blocks in the synchronous API is awaited in netbasics.aio; the rest stays plain."""
    plain = {"close", "fileno", "shutdown_write", "__init__", "for_messages"}
    name = mine.__name__
    if name in plain:
        assert not inspect.iscoroutinefunction(mine)
    elif name in ("messages", "lines"):
        assert inspect.isasyncgenfunction(mine)
    else:
        assert inspect.iscoroutinefunction(mine), name


@pytest.mark.parametrize(("pair", "names"), list(PROPERTIES.items()))
def test_same_properties(pair: tuple[type, type], names: list[str]) -> None:
    mine, twin = pair
    for name in names:
        assert isinstance(getattr(twin, name), property), name
        assert isinstance(getattr(mine, name), property), name


def test_every_public_name_is_exported_and_documented() -> None:
    assert len(set(aio.__all__)) == len(aio.__all__)
    for name in aio.__all__:
        obj = getattr(aio, name)
        if callable(obj):
            assert obj.__doc__, name
