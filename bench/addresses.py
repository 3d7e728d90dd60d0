"""Benchmark: parsing and classifying addresses with netbasics, stdlib ipaddress and inet_pton.

Run by hand from the repository root::

    python bench/addresses.py [--size 100000] [--repeats 9] [--seed 2024]

For each data set (random IPv4, random IPv6 as stdlib formats them, and a mix of
special-purpose addresses) it times, in one process and one run:

* parse: text to an address object (netbasics ``parse_address``, stdlib ``ip_address``)
  or to an int (the floor: ``int.from_bytes(socket.inet_pton(...))``);
* parse + ``is_global`` + ``is_private`` (the floor does parse only).

A second table times the everyday operations on objects already built, netbasics against
stdlib in the same run (interleaved the same way), in nanoseconds per result:

* ``a + 1`` for each of ``--size`` random addresses (IPv4, then IPv6);
* iterating every address of a /16 (``10.0.0.0/16``) and of the IPv6 network of the same
  size (``2001:db8::/112``): ``for a in net``;
* indexing: ``net[i]`` for ``--size`` random indices, negative ones included, into
  ``10.0.0.0/8`` and ``2001:db8::/32``.

Each timing is the median of ``--repeats`` passes over the whole data set, taken
round-robin across the five measurements of a data set so that load on the machine hits
them alike, reported in nanoseconds per address, with the ratios stdlib/netbasics and
netbasics/floor. The floor makes the same two C calls as netbasics's fast path
(``inet_pton`` and ``int.from_bytes(..., "big")``) and nothing else. The
output is a Markdown table, followed by ``sys.getsizeof`` of each address type.
"""

from __future__ import annotations

import argparse
import gc
import ipaddress
import random
import socket
import statistics
import sys
import time
from collections.abc import Callable, Sized
from typing import Any, TypeVar

import netbasics
from netbasics._data.registry import IPV4_ENTRIES, IPV6_ENTRIES

_T = TypeVar("_T", bound=Sized)

# Special-purpose blocks to sample from: every registry row, multicast, and IPv4-mapped.
_SPECIAL_PREFIXES = [e.prefix for e in IPV4_ENTRIES + IPV6_ENTRIES]


def random_ipv4(rng: random.Random, n: int) -> list[str]:
    """``n`` uniformly random IPv4 addresses in stdlib's text form."""
    return [str(ipaddress.IPv4Address(rng.getrandbits(32))) for _ in range(n)]


def random_ipv6(rng: random.Random, n: int) -> list[str]:
    """``n`` random IPv6 addresses in stdlib's compressed text form.

    Uniform 128-bit values almost never contain zero groups, so half of them get a
    random run of zero groups, as real addresses do (``2001:db8::1``).
    """
    out = []
    for _ in range(n):
        value = rng.getrandbits(128)
        if rng.random() < 0.5:
            start = rng.randrange(8)
            length = rng.randrange(1, 9 - start)
            for g in range(start, start + length):
                value &= ~(0xFFFF << (16 * (7 - g)))
        if rng.random() < 0.5:
            value = (0x2000 << 112) | (value & ((1 << 125) - 1))  # global unicast 2000::/3
        out.append(str(ipaddress.IPv6Address(value)))
    return out


def random_special(rng: random.Random, n: int) -> list[str]:
    """``n`` addresses drawn from the special-purpose blocks, both families mixed."""
    nets = [ipaddress.ip_network(p) for p in _SPECIAL_PREFIXES]
    out = []
    for _ in range(n):
        net = rng.choice(nets)
        offset = rng.getrandbits(net.max_prefixlen - net.prefixlen) if net.prefixlen < net.max_prefixlen else 0
        out.append(str(net.network_address + offset))
    return out


def _floor_parse(texts: list[str]) -> None:
    # The same C calls netbasics makes on its fast path, and nothing else.
    pton = socket.inet_pton
    from_bytes = int.from_bytes
    v4, v6 = socket.AF_INET, socket.AF_INET6
    for t in texts:
        from_bytes(pton(v6 if ":" in t else v4, t), "big")


def _nb_parse(texts: list[str]) -> None:
    parse = netbasics.parse_address
    for t in texts:
        parse(t)


def _nb_classify(texts: list[str]) -> None:
    parse = netbasics.parse_address
    for t in texts:
        a = parse(t)
        a.is_global  # noqa: B018 - the attribute access is what is timed
        a.is_private  # noqa: B018


def _std_parse(texts: list[str]) -> None:
    parse = ipaddress.ip_address
    for t in texts:
        parse(t)


def _std_classify(texts: list[str]) -> None:
    parse = ipaddress.ip_address
    for t in texts:
        a = parse(t)
        a.is_global  # noqa: B018
        a.is_private  # noqa: B018


def interleaved(funcs: dict[str, Callable[[_T], None]], texts: _T, repeats: int) -> dict[str, list[float]]:
    """Time one pass of each function in turn, ``repeats`` rounds: ns per item, per function.

    Taking the passes round-robin rather than all passes of one function, then all of
    the next, spreads any burst of load on the machine over every function alike, so
    the ratios between them stay meaningful.
    """
    samples: dict[str, list[float]] = {name: [] for name in funcs}
    for _ in range(repeats):
        for name, func in funcs.items():
            gc.collect()
            start = time.perf_counter_ns()
            func(texts)
            samples[name].append((time.perf_counter_ns() - start) / len(texts))
    return samples


def _add_one(addresses: list[Any]) -> Callable[[list[None]], None]:
    def run(_: list[None]) -> None:
        for a in addresses:
            a + 1

    return run


def _iterate(network: Any) -> Callable[[list[None]], None]:
    def run(_: list[None]) -> None:
        for _a in network:
            pass

    return run


def _index(network: Any, indices: list[int]) -> Callable[[list[None]], None]:
    def run(_: list[None]) -> None:
        for i in indices:
            network[i]

    return run


def operations(
    rng: random.Random, size: int
) -> list[tuple[str, Callable[[list[None]], None], Callable[[list[None]], None], int]]:
    """``(label, netbasics pass, stdlib pass, results per pass)`` for the second table."""
    out: list[tuple[str, Callable[[list[None]], None], Callable[[list[None]], None], int]] = []
    for label, texts in (("IPv4", random_ipv4(rng, size)), ("IPv6", random_ipv6(rng, size))):
        ours = [netbasics.parse_address(t) for t in texts]
        theirs = [ipaddress.ip_address(t) for t in texts]
        # Keep clear of the top address, where + 1 raises in both libraries.
        ours = [a for a in ours if int(a) < (1 << a.max_prefixlen) - 1]
        theirs = [a for a in theirs if int(a) < (1 << a.max_prefixlen) - 1]
        out.append((f"{label} address + 1", _add_one(ours), _add_one(theirs), len(ours)))
    for text in ("10.0.0.0/16", "2001:db8::/112"):
        ours_net, std_net = netbasics.parse_network(text), ipaddress.ip_network(text)
        assert [int(a) for a in ours_net] == [int(a) for a in std_net]
        out.append((f"iterate {text}", _iterate(ours_net), _iterate(std_net), ours_net.num_addresses))
    for text in ("10.0.0.0/8", "2001:db8::/32"):
        ours_net, std_net = netbasics.parse_network(text), ipaddress.ip_network(text)
        n = ours_net.num_addresses
        indices = [rng.randrange(-n, n) for _ in range(size)]
        assert all(int(ours_net[i]) == int(std_net[i]) for i in indices[:1000])
        out.append((f"index {text}", _index(ours_net, indices), _index(std_net, indices), size))
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=100_000, help="addresses per data set (default 100000)")
    parser.add_argument("--repeats", type=int, default=9, help="timed passes per measurement (default 9)")
    parser.add_argument("--seed", type=int, default=2024, help="random seed (default 2024)")
    args = parser.parse_args(argv)

    rng = random.Random(args.seed)
    datasets = {
        "IPv4 random": random_ipv4(rng, args.size),
        "IPv6 random": random_ipv6(rng, args.size),
        "special-purpose mix": random_special(rng, args.size),
    }
    # Sanity: every implementation accepts every input and agrees on the value.
    for texts in datasets.values():
        for t in texts[:1000]:
            assert int(netbasics.parse_address(t)) == int(ipaddress.ip_address(t)), t

    print(
        f"Python {sys.version.split()[0]}, {args.size} addresses per set, median of {args.repeats} passes, ns/address\n"
    )
    print("| data set | operation | netbasics | stdlib | floor (inet_pton) | stdlib/netbasics | netbasics/floor |")
    print("|---|---|---:|---:|---:|---:|---:|")
    funcs: dict[str, Callable[[list[str]], None]] = {
        "floor": _floor_parse,
        "nb_p": _nb_parse,
        "std_p": _std_parse,
        "nb_c": _nb_classify,
        "std_c": _std_classify,
    }
    for name, texts in datasets.items():
        medians = {f: statistics.median(v) for f, v in interleaved(funcs, texts, args.repeats).items()}
        floor, nb_p, std_p, nb_c, std_c = (medians[f] for f in funcs)
        print(
            f"| {name} | parse | {nb_p:.0f} | {std_p:.0f} | {floor:.0f} | {std_p / nb_p:.1f}x | {nb_p / floor:.2f}x |"
        )
        print(
            f"| {name} | parse + is_global + is_private | {nb_c:.0f} | {std_c:.0f} | {floor:.0f} (parse only) "
            f"| {std_c / nb_c:.1f}x | {nb_c / floor:.2f}x |"
        )

    print(f"\nOperations on built objects, median of {args.repeats} passes, ns per result\n")
    print("| operation | netbasics | stdlib | stdlib/netbasics |")
    print("|---|---:|---:|---:|")
    for label, ours_op, theirs_op, count in operations(rng, args.size):
        samples = interleaved({"nb": ours_op, "std": theirs_op}, [None] * count, args.repeats)
        nb, std = (statistics.median(samples[f]) for f in ("nb", "std"))
        print(f"| {label} | {nb:.0f} | {std:.0f} | {std / nb:.1f}x |")

    print("\n| object | netbasics (bytes) | stdlib (bytes) |")
    print("|---|---:|---:|")
    for label, ours, theirs in [
        ("IPv4Address", netbasics.IPv4Address(1), ipaddress.IPv4Address(1)),
        ("IPv6Address", netbasics.IPv6Address(1), ipaddress.IPv6Address(1)),
    ]:
        print(f"| {label} (sys.getsizeof) | {sys.getsizeof(ours)} | {sys.getsizeof(theirs)} |")


if __name__ == "__main__":
    main()
