"""connect_guarded: one resolution, every answer checked, only checked addresses connected to.

Loopback only. The policy allows loopback on one test port ("public"); a second
listener on another port is "internal" and counts the connections it accepts, which
must stay 0 for every refused destination.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator

import pytest

from http_fixtures import DISGUISED_HOSTS, CountingResolver, Listener, listening
from netbasics import DestinationPolicy, ResolveError, UnsafeDestination, UnsafeReason
from netbasics.http_guard import connect_guarded

pytestmark = pytest.mark.integration


@pytest.fixture
def public() -> Iterator[Listener]:
    with listening() as listener:
        yield listener


@pytest.fixture
def internal() -> Iterator[Listener]:
    with listening() as listener:
        yield listener


def loopback_on(port: int) -> DestinationPolicy:
    """Loopback allowed on one port only: everything else is refused."""
    return DestinationPolicy(allow_loopback=True, allowed_ports=[port])


def test_one_resolution_and_only_checked_addresses(public: Listener, internal: Listener) -> None:
    resolver = CountingResolver({"public.test": [["127.0.0.1"]]})
    for _ in range(3):
        sock = connect_guarded(
            "public.test", public.port, policy=loopback_on(public.port), resolver=resolver, timeout=5
        )
        with sock:
            assert sock.getpeername() == ("127.0.0.1", public.port)
            assert sock.gettimeout() == 5
            assert sock.getblocking()
    assert resolver.calls == ["public.test"] * 3  # one resolution per new connection
    assert internal.accepts == 0


def test_dns_rebinding_never_reaches_the_internal_listener(public: Listener, internal: Listener) -> None:
    # The first answer is allowed; the second points at the internal listener's address.
    # With one port allowed, the internal port is refused too; allow it to show that the
    # address (10.x) decides, not the port.
    resolver = CountingResolver({"rebind.test": [["127.0.0.1"], ["10.0.0.7"]]})
    policy = DestinationPolicy(allow_loopback=True, allowed_ports=[public.port, internal.port])
    with connect_guarded("rebind.test", public.port, policy=policy, resolver=resolver, timeout=5):
        pass
    with pytest.raises(UnsafeDestination) as info:
        connect_guarded("rebind.test", internal.port, policy=policy, resolver=resolver, timeout=5)
    assert (info.value.reason, info.value.host) == (UnsafeReason.PRIVATE, "rebind.test")
    assert internal.accepts == 0
    assert resolver.calls == ["rebind.test", "rebind.test"]


@pytest.mark.parametrize(
    "answers",
    [["127.0.0.1", "10.0.0.1"], ["10.0.0.1", "127.0.0.1"], ["::ffff:10.0.0.1", "127.0.0.1"]],
)
def test_mixed_answers_refuse_the_name(public: Listener, answers: list[str]) -> None:
    resolver = CountingResolver({"mixed.test": [answers]})
    with pytest.raises(UnsafeDestination) as info:
        connect_guarded("mixed.test", public.port, policy=loopback_on(public.port), resolver=resolver)
    assert info.value.host == "mixed.test"
    assert public.accepts == 0


CORPUS = [
    *DISGUISED_HOSTS,
    "0x7f.1",
    "0177.0.0.1",
    "::ffff:127.0.0.1",
    "fe80::1%lo",
    "",
    "allowed@127.0.0.1",
    "\uff11\uff12\uff17.\uff10.\uff10.\uff11",  # fullwidth digits: IDNA makes them 127.0.0.1
    "[::1]",
    "localhost",
    "internal.test",  # a name resolving to an internal address
]


@pytest.mark.parametrize("host", CORPUS)
def test_corpus_is_refused_before_any_connection(host: str, internal: Listener) -> None:
    # Loopback is allowed on the internal port: only the spelling can refuse these.
    # (The policy denies only by spelling, zone, embedding and resolution.)
    resolver = CountingResolver({"internal.test": [["10.1.2.3"]], "xn--bcher-kva.test": [["192.168.0.1"]]})
    policy = DestinationPolicy(allowed_ports=[internal.port])
    refused: list[UnsafeDestination] = []
    with pytest.raises(UnsafeDestination) as info:
        connect_guarded(host, internal.port, policy=policy, resolver=resolver, on_refusal=refused.append)
    assert refused == [info.value]
    assert internal.accepts == 0


def test_literal_v6_with_and_without_brackets(public: Listener) -> None:
    policy = loopback_on(public.port)
    resolver = CountingResolver({})
    with connect_guarded("127.0.0.1", public.port, policy=policy, timeout=5, resolver=resolver) as sock:
        assert sock.getpeername()[1] == public.port
    for literal in ("[::1]", "::1", "127.1", "[::ffff:127.0.0.1]"):
        with pytest.raises(UnsafeDestination):
            connect_guarded(literal, 1, policy=policy, resolver=resolver)
    assert resolver.calls == []  # literals (in any form) never reach the resolver
    with pytest.raises(UnsafeDestination, match="port"):
        connect_guarded("[::1]", public.port + 1 if public.port < 65535 else 1, policy=policy)


def test_refusals_are_logged_and_hooked(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[UnsafeDestination] = []
    with caplog.at_level(logging.WARNING, logger="netbasics.http_guard"), pytest.raises(UnsafeDestination):
        connect_guarded("169.254.169.254", 80, policy=DestinationPolicy(), on_refusal=seen.append)
    assert [r.unsafe_destination for r in caplog.records] == seen  # type: ignore[attr-defined]
    assert seen[0].reason is UnsafeReason.METADATA
    assert seen[0].port == 80


def test_unresolvable_and_bad_types() -> None:
    with pytest.raises(ResolveError):
        connect_guarded("nowhere.test", 80, policy=DestinationPolicy(), resolver=CountingResolver({}))
    with pytest.raises(TypeError):
        connect_guarded(b"example.com", 80, policy=DestinationPolicy())  # type: ignore[arg-type]


def test_connect_failures_are_connect_errors(public: Listener) -> None:
    from netbasics import ConnectError

    dead = socket.socket()
    dead.bind(("127.0.0.1", 0))
    port = dead.getsockname()[1]
    dead.close()  # nothing listens there now
    policy = DestinationPolicy(allow_loopback=True)
    with pytest.raises(ConnectError, match=f"127.0.0.1:{port}"):
        connect_guarded("127.0.0.1", port, policy=policy, timeout=5)
    resolver = CountingResolver({"two.test": [["127.0.0.1", "::1"]]})
    with pytest.raises(ConnectError):
        connect_guarded("two.test", port, policy=policy, timeout=5, resolver=resolver)
    with connect_guarded("127.0.0.1", public.port, policy=policy, source_address=("127.0.0.1", 0), timeout=5) as sock:
        assert sock.getsockname()[0] == "127.0.0.1"


def test_refusals_print_nothing_without_a_logging_setup() -> None:
    # Python's last-resort handler prints WARNING records to stderr when no handler is found.
    import subprocess
    import sys

    code = (
        "import netbasics\n"
        "from netbasics.http_guard import connect_guarded\n"
        "try:\n"
        "    connect_guarded('127.0.0.1', 80, policy=netbasics.DestinationPolicy())\n"
        "except netbasics.UnsafeDestination:\n"
        "    print('refused')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout == "refused\n"
    assert done.stderr == ""
