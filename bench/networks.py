"""Benchmark: AddressSet and collapse against stdlib ipaddress and netaddr.IPSet.

Run by hand from the repository root. netaddr is never a dependency of netbasics; it
is installed only into the benchmark's own venv (bench/.venv is git-ignored)::

    python3 -m venv bench/.venv && bench/.venv/bin/pip install netaddr -e .
    bench/.venv/bin/python bench/networks.py

Without netaddr the script still runs and says "netaddr not installed" in its column.

What it measures, in one run (each figure the median of ``--repeats`` passes):

* build: an address set from 10,000 random IPv4 plus 10,000 random IPv6 prefixes
  (text). stdlib has no set type; its "build" is parsing the list of networks that its
  membership loop then walks.
* membership: ``addr in s`` for 1,000,000 random addresses (half IPv4, half IPv6, half
  of them inside the set), once as text and once as address objects of each library.
  The stdlib loop (``any(a in n for n in networks)`` over the 20,000 networks) is far
  too slow for a million lookups, so it times ``--slow-lookups`` of them, and netaddr
  times ``--netaddr-lookups``; their per-lookup rates are extrapolated and the output
  says so.
* a list file: 850,000 mixed prefixes (80 % IPv4, mostly /16 to /24; 20 % IPv6, /29 to
  /48) written to a temporary file and read with ``AddressSet.from_file``: time, then
  in a separate pass (tracemalloc slows everything down) the peak traced memory and
  the memory the finished set keeps. netaddr and stdlib run on it only with ``--full``
  (netaddr's users report 68 s for this: netaddr issue #152).
* collapse: 100,000 random IPv4 and IPv6 prefixes, as objects, merged by
  ``netbasics.collapse``, stdlib ``collapse_addresses`` (once per family; it refuses
  a mix) and ``netaddr.cidr_merge``.

Ratios are "how many times faster netbasics is" (other time / netbasics time, or
netbasics rate / other rate). Targets from issue 3: 850k build under 3 s; membership
at least 15x netaddr.IPSet and 100x the stdlib loop; collapse at least 5x stdlib.
"""

from __future__ import annotations

import argparse
import gc
import ipaddress
import os
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Sequence
from typing import Any

import netbasics
from netbasics._parse import format_ipv4, format_ipv6

try:
    import netaddr
except ImportError:  # pragma: no cover - depends on the benchmark venv
    netaddr = None

NOT_INSTALLED = "netaddr not installed"


def random_prefixes(rng: random.Random, n4: int, n6: int) -> list[str]:
    """Prefix text, host bits clear: IPv4 mostly /16-/24 (like routing tables), IPv6 /29-/48."""
    out: list[str] = []
    for _ in range(n4):
        plen = rng.choice((16, 18, 20, 22, 24, 24, 24, 24, 28, 32))
        ip = rng.getrandbits(32) >> (32 - plen) << (32 - plen)
        out.append(f"{format_ipv4(ip)}/{plen}")
    for _ in range(n6):
        plen = rng.choice((29, 32, 32, 36, 40, 44, 48, 48, 48))
        ip = ((0x2000 << 112) | rng.getrandbits(125)) >> (128 - plen) << (128 - plen)
        out.append(f"{format_ipv6(ip)}/{plen}")
    rng.shuffle(out)
    return out


def random_addresses(rng: random.Random, prefixes: Sequence[str], n: int) -> list[str]:
    """Half IPv4, half IPv6; half of them inside a random prefix of the set."""
    nets = [ipaddress.ip_network(p) for p in prefixes]
    v4 = [n for n in nets if n.version == 4]
    v6 = [n for n in nets if n.version == 6]
    out: list[str] = []
    for i in range(n):
        six = i % 2 == 1
        if rng.random() < 0.5:
            net = rng.choice(v6 if six else v4)
            value = int(net.network_address) + rng.randrange(net.num_addresses)
        else:
            value = (0x2000 << 112 | rng.getrandbits(125)) if six else rng.getrandbits(32)
        out.append(format_ipv6(value) if six else format_ipv4(value))
    return out


def median_time(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def count_hits(container: Any, items: Sequence[object]) -> int:
    hits = 0
    for item in items:
        if item in container:
            hits += 1
    return hits


class StdlibLoop:
    """What code without a set type does: check every network of the address's family."""

    def __init__(self, prefixes: Sequence[str]) -> None:
        nets = [ipaddress.ip_network(p) for p in prefixes]
        self.v4 = [n for n in nets if n.version == 4]
        self.v6 = [n for n in nets if n.version == 6]

    def __contains__(self, addr: object) -> bool:
        if isinstance(addr, str):
            addr = ipaddress.ip_address(addr)
        assert isinstance(addr, (ipaddress.IPv4Address, ipaddress.IPv6Address))
        nets = self.v4 if addr.version == 4 else self.v6
        return any(addr in n for n in nets)


def fmt_time(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms" if seconds < 10 else f"{seconds:,.1f} s"


def fmt_rate(rate: float) -> str:
    return f"{rate:,.0f}/s"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="passes per figure; the median is shown")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--lookups", type=int, default=1_000_000, help="membership tests for netbasics")
    parser.add_argument("--netaddr-lookups", type=int, default=100_000, help="membership tests timed for netaddr")
    parser.add_argument("--slow-lookups", type=int, default=200, help="membership tests timed for the stdlib loop")
    parser.add_argument("--file-prefixes", type=int, default=850_000, help="prefixes in the generated list file")
    parser.add_argument("--collapse", type=int, default=100_000, help="prefixes to collapse")
    parser.add_argument("--full", action="store_true", help="also run netaddr and stdlib on the list file (slow)")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    repeats = args.repeats
    notes: list[str] = []
    rows: list[tuple[str, str, str, str, str, str]] = []

    def row(name: str, ours: str, std: str, na: str, std_ratio: float | None, na_ratio: float | None) -> None:
        rows.append(
            (
                name,
                ours,
                std,
                na,
                "-" if std_ratio is None else f"{std_ratio:,.1f}x",
                "-" if na_ratio is None else f"{na_ratio:,.1f}x",
            )
        )

    # --- build from 10,000 + 10,000 prefixes ---------------------------------------
    prefixes = random_prefixes(rng, 10_000, 10_000)
    t_ours = median_time(lambda: netbasics.AddressSet(prefixes), repeats)
    t_std = median_time(lambda: [ipaddress.ip_network(p) for p in prefixes], repeats)
    t_na = median_time(lambda: netaddr.IPSet(prefixes), repeats) if netaddr else None
    row(
        "build: 10k IPv4 + 10k IPv6 prefixes",
        fmt_time(t_ours),
        fmt_time(t_std) + " (list)",
        fmt_time(t_na) if t_na else NOT_INSTALLED,
        t_std / t_ours,
        t_na / t_ours if t_na else None,
    )

    ours_set = netbasics.AddressSet(prefixes)
    std_loop = StdlibLoop(prefixes)
    na_set = netaddr.IPSet(prefixes) if netaddr else None

    # --- membership --------------------------------------------------------------------
    texts = random_addresses(rng, prefixes, args.lookups)
    slow_n = min(args.slow_lookups, len(texts))
    na_n = min(args.netaddr_lookups, len(texts))
    objects = [netbasics.parse_address(t) for t in texts]
    std_objects = [ipaddress.ip_address(t) for t in texts[:slow_n]]
    na_objects = [netaddr.IPAddress(t) for t in texts[:na_n]] if netaddr else []

    hits = count_hits(ours_set, texts)
    expected = sum(1 for t in texts[:slow_n] if t in std_loop)
    assert count_hits(ours_set, texts[:slow_n]) == expected, "netbasics and stdlib disagree"
    if na_set is not None:
        assert count_hits(na_set, texts[:na_n]) == count_hits(ours_set, texts[:na_n]), "netaddr disagrees"
    notes.append(f"membership: {hits:,} of {len(texts):,} lookups are hits")

    for label, ours_items, std_items, na_items in (
        ("strings", texts, texts[:slow_n], texts[:na_n]),
        ("objects", objects, std_objects, na_objects),
    ):
        r_ours = len(ours_items) / median_time(lambda items=ours_items: count_hits(ours_set, items), repeats)  # type: ignore[misc]
        r_std = len(std_items) / median_time(lambda items=std_items: count_hits(std_loop, items), repeats)  # type: ignore[misc]
        r_na = (
            len(na_items) / median_time(lambda items=na_items: count_hits(na_set, items), repeats)  # type: ignore[misc]
            if na_set is not None
            else None
        )
        row(
            f"membership: {len(texts):,} address {label}",
            fmt_rate(r_ours),
            fmt_rate(r_std) + "*",
            (fmt_rate(r_na) + ("*" if na_n < len(texts) else "")) if r_na else NOT_INSTALLED,
            r_ours / r_std,
            r_ours / r_na if r_na else None,
        )
    notes.append(
        f"* extrapolated: the stdlib loop timed {slow_n:,} lookups"
        + (f" and netaddr {na_n:,}" if netaddr and na_n < len(texts) else "")
        + f" of {len(texts):,}; rates are per lookup"
    )

    # --- 850,000 prefixes from a file ----------------------------------------------------------
    big = random_prefixes(rng, args.file_prefixes * 4 // 5, args.file_prefixes - args.file_prefixes * 4 // 5)
    fd, path = tempfile.mkstemp(prefix="netbasics-bench-", suffix=".txt")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write("# generated by bench/networks.py\n")
            f.write("\n".join(big))
            f.write("\n")
        del big
        t_ours = median_time(lambda: netbasics.AddressSet.from_file(path), repeats)
        gc.collect()
        tracemalloc.start()
        built = netbasics.AddressSet.from_file(path)
        kept, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        ranges = len(built.to_ranges())
        del built
        t_std_big: float | None = None
        t_na_big: float | None = None
        if args.full:

            def std_build() -> None:
                with open(path, encoding="utf-8") as f:
                    nets = [ipaddress.ip_network(line.strip()) for line in f if not line.startswith("#")]
                list(ipaddress.collapse_addresses(n for n in nets if n.version == 4))
                list(ipaddress.collapse_addresses(n for n in nets if n.version == 6))

            t_std_big = median_time(std_build, 1)
            if netaddr:

                def na_build() -> None:
                    with open(path, encoding="utf-8") as f:
                        netaddr.IPSet(line.strip() for line in f if not line.startswith("#"))

                t_na_big = median_time(na_build, 1)
        row(
            f"build from a file of {args.file_prefixes:,} prefixes",
            fmt_time(t_ours),
            (fmt_time(t_std_big) + " (parse+collapse)") if t_std_big else "not run (--full)",
            fmt_time(t_na_big) if t_na_big else ("not run (--full)" if netaddr else NOT_INSTALLED),
            t_std_big / t_ours if t_std_big else None,
            t_na_big / t_ours if t_na_big else None,
        )
        row("  memory: peak while building (tracemalloc)", f"{peak / 2**20:,.1f} MiB", "-", "-", None, None)
        row(f"  memory: kept by the set ({ranges:,} ranges)", f"{kept / 2**20:,.1f} MiB", "-", "-", None, None)
    finally:
        os.unlink(path)

    # --- collapse 100,000 prefixes ------------------------------------------------------------------
    half = args.collapse // 2
    to_collapse = random_prefixes(rng, half, args.collapse - half)
    ours_nets = [netbasics.parse_network(p) for p in to_collapse]
    std4 = [ipaddress.ip_network(p) for p in to_collapse if ":" not in p]
    std6 = [ipaddress.ip_network(p) for p in to_collapse if ":" in p]
    na_nets = [netaddr.IPNetwork(p) for p in to_collapse] if netaddr else []
    ours_result = netbasics.collapse(ours_nets)
    std_result = list(ipaddress.collapse_addresses(std4)) + list(ipaddress.collapse_addresses(std6))
    assert [str(n) for n in ours_result] == [str(n) for n in std_result], "collapse disagrees with stdlib"
    t_ours = median_time(lambda: netbasics.collapse(ours_nets), repeats)
    t_std = median_time(
        lambda: (list(ipaddress.collapse_addresses(std4)), list(ipaddress.collapse_addresses(std6))), repeats
    )
    t_na = median_time(lambda: netaddr.cidr_merge(na_nets), repeats) if netaddr else None
    row(
        f"collapse: {args.collapse:,} prefixes -> {len(ours_result):,}",
        fmt_time(t_ours),
        fmt_time(t_std),
        fmt_time(t_na) if t_na else NOT_INSTALLED,
        t_std / t_ours,
        t_na / t_ours if t_na else None,
    )

    # --- the table --------------------------------------------------------------------------------------
    na_version = f"netaddr {netaddr.__version__}" if netaddr else "netaddr"
    header = ("", f"netbasics {netbasics.__version__}", "stdlib loop", f"{na_version} IPSet", "vs stdlib", "vs netaddr")
    print(f"Python {sys.version.split()[0]}, median of {repeats} passes, seed {args.seed}")
    print()
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    print()
    for note in notes:
        print(note)
    print("collapse row: the stdlib column is collapse_addresses (once per family), the netaddr one cidr_merge.")
    print('"vs" columns: how many times faster netbasics is.')
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
