"""Bulk classification for ``netbasics classify``: the per-row work cut to a few C calls.

A million-line input spends its time in the loop, not in the library, so the loop avoids
building objects per row. The registries split each address space into intervals inside
which every fact the command prints (category, reachability, registry row) is constant;
each interval's output tail (text line, JSON fields, summary bucket) is computed once,
from :func:`classify` itself, so the fast path cannot say anything the library would not.
A row then costs ``inet_pton``, ``int.from_bytes``, a ``bisect`` and one string build.
IPv4 text that ``inet_pton`` accepts is already canonical (checked at import), so it is
printed as given; IPv6 goes through :func:`parse_address` for its canonical form and
zone. Anything that fails the fast path is handed to ``bad`` for a precise message.
"""

from __future__ import annotations

import json
import random
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable
from functools import cache
from socket import AF_INET, AF_INET6, inet_ntop, inet_pton
from typing import Final

from .._classify import AddressInfo, classify
from .._data.registry import IPV4_ENTRIES, IPV6_ENTRIES, RegistryEntry
from .._parse import PTON
from ..addresses import IPv4Address, IPv6Address, parse_address
from ..errors import AddressError
from ..networks import parse_network

__all__ = ["Classifier", "info_json", "info_line"]

_MAPPED: Final = 0xFFFF  # ::ffff:0:0/96, the bits above the low 32


def _ntop_agrees() -> bool:
    """True if ``inet_ntop`` writes the same RFC 5952 text as the library, sampled at import.

    It does on glibc and the BSDs except for ``::/96`` (written ``::a.b.c.d``), which the
    fast path never hands it. The sample mixes zero runs of every length and position.
    """
    rng = random.Random(5952)
    for _ in range(300):
        groups = [rng.choice((0, 0, 1, 0xFFFF, rng.getrandbits(16))) for _ in range(8)]
        value = sum(g << (16 * i) for i, g in enumerate(groups))
        if value >> 32 and inet_ntop(AF_INET6, value.to_bytes(16, "big")) != str(IPv6Address(value)):
            return False
    return True


@cache
def _fast() -> bool:
    """True when the inet_pton/inet_ntop path gives exactly the library's answers here.

    inet_pton is used only where the library itself uses it (it agrees with the
    library's grammar on this platform); then IPv4 text it accepts is already canonical,
    as the grammar allows one spelling per address. Checked on first use, not at import,
    so commands that never classify in bulk do not pay for it.
    """
    return PTON and _ntop_agrees()


def info_line(info: AddressInfo) -> str:
    """The text line for one classified address."""
    return f"{info.address!s:<25}{_line_tail(info)}"


def _line_tail(info: AddressInfo) -> str:
    entry = info.entry
    reach = "global" if info.is_global else "not-global"
    where = f"{entry.prefix} {entry.name} ({entry.rfc})" if entry is not None else "-"
    return f" IPv{info.address.version}  {info.category.value:<19} {reach:<10}  {where}"


def entry_json(entry: RegistryEntry | None) -> dict[str, object] | None:
    """A registry row as JSON, one shape for every command (``classify`` and ``net``)."""
    if entry is None:
        return None
    return {"prefix": entry.prefix, "name": entry.name, "rfc": entry.rfc, "registry": entry.registry}


def _json_tail(info: AddressInfo) -> str:
    """``"version": ..., "entry": ...}``: the record after ``input`` and ``address``."""
    rest = {
        "version": info.address.version,
        "category": info.category.value,
        "is_global": info.is_global,
        "entry": entry_json(info.entry),
    }
    return json.dumps(rest)[1:]


def info_json(text: str, info: AddressInfo) -> str:
    """The JSON record for one classified address (``input`` is the text as given)."""
    return f'{{"input": {json.dumps(text)}, "address": {json.dumps(str(info.address))}, {_json_tail(info)}'


def _cuts(entries: tuple[object, ...], bits: int) -> list[int]:
    """Interval starts: every registry row's first address and the one after its last."""
    cuts = {0}
    for entry in entries:
        net = parse_network(entry.prefix)  # type: ignore[attr-defined]
        cuts.add(int(net.first))
        end = int(net.last) + 1
        if end < 1 << bits:
            cuts.add(end)
    return sorted(cuts)


class _Side:
    """One address family's intervals and the precomputed output for each."""

    __slots__ = ("buckets", "jsons", "lines", "starts")

    def __init__(self, starts: list[int], infos: list[AddressInfo]) -> None:
        self.starts = starts
        self.lines = [_line_tail(info) for info in infos]
        self.jsons = [_json_tail(info) for info in infos]
        self.buckets = [info.category.value for info in infos]


def _side_v4(as_v6: bool) -> _Side:
    starts = _cuts(IPV4_ENTRIES, 32)
    if as_v6:
        infos = [classify(IPv6Address(_MAPPED << 32 | s)) for s in starts]
    else:
        infos = [classify(IPv4Address(s)) for s in starts]
    return _Side(starts, infos)


def _side_v6() -> _Side:
    starts = _cuts(IPV6_ENTRIES, 128)
    return _Side(starts, [classify(IPv6Address(s)) for s in starts])


class Classifier:
    """Classify batches of lines into output strings or summary counts.

    ``bad(index, text, pending)`` is called for every row that is not an address (blank
    lines and comments included; it decides what to skip) and returns the output for
    that row, if any. ``pending`` is the batch's output so far, so the caller can write
    it out (and clear it) before reporting, keeping stdout and stderr in input order.
    Built once per run; the tables take a few milliseconds.
    """

    def __init__(self, mode: str, bad: Callable[[int, str, list[str]], str | None]) -> None:
        self.mode = mode  # "line", "json" or "summary"
        self.bad = bad
        self.v4 = _side_v4(False)
        self.v6 = _side_v6()
        self.mapped = _side_v4(True)
        self.counts: Counter[str] = Counter()

    def run(self, rows: list[str], first: int = 0) -> list[str]:
        """The output lines (without newlines) for ``rows``; ``first`` numbers them for ``bad``."""
        if not _fast():
            return self._run_general(rows, first)
        if self.mode == "summary":
            return self._run_summary(rows, first)
        out: list[str] = []
        append = out.append
        line_mode = self.mode == "line"
        v4, v6, mapped = self.v4, self.v6, self.mapped
        starts4, starts6, starts_m = v4.starts, v6.starts, mapped.starts
        tails4, tails6, tails_m = (
            (v4.lines, v6.lines, mapped.lines) if line_mode else (v4.jsons, v6.jsons, mapped.jsons)
        )
        pton, ntop, fb = inet_pton, inet_ntop, int.from_bytes
        for index, raw in enumerate(rows, first):
            text = raw.strip()
            try:
                if ":" not in text:
                    ip = fb(pton(AF_INET, text), "big")
                    tail = tails4[bisect_right(starts4, ip) - 1]
                    canon = text
                else:
                    packed = pton(AF_INET6, text)
                    ip = fb(packed, "big")
                    if ip >> 32 == _MAPPED:
                        tail = tails_m[bisect_right(starts_m, ip & 0xFFFFFFFF) - 1]
                    else:
                        tail = tails6[bisect_right(starts6, ip) - 1]
                    # ::/96 is the one range inet_ntop writes differently (::a.b.c.d).
                    canon = ntop(AF_INET6, packed) if ip >> 32 else str(IPv6Address(ip))
            except (OSError, ValueError):
                row = self._other(index, text, out)
                if row is not None:
                    append(row)
                continue
            if line_mode:
                append(f"{canon:<25}{tail}")
            else:
                # Text inet_pton accepts holds only digits, hex letters, '.' and ':',
                # so it needs no JSON escaping.
                append(f'{{"input": "{text}", "address": "{canon}", {tail}')
        return out

    def _run_summary(self, rows: list[str], first: int) -> list[str]:
        out: list[str] = []
        buckets: list[str] = []
        keep = buckets.append
        v4, v6, mapped = self.v4, self.v6, self.mapped
        starts4, starts6, starts_m = v4.starts, v6.starts, mapped.starts
        names4, names6, names_m = v4.buckets, v6.buckets, mapped.buckets
        pton, fb = inet_pton, int.from_bytes
        for index, raw in enumerate(rows, first):
            text = raw.strip()
            try:
                if ":" not in text:
                    keep(names4[bisect_right(starts4, fb(pton(AF_INET, text), "big")) - 1])
                    continue
                ip = fb(pton(AF_INET6, text), "big")
            except (OSError, ValueError):
                row = self._other(index, text, out)
                if row is not None:
                    out.append(row)
                continue
            if ip >> 32 == _MAPPED:
                keep(names_m[bisect_right(starts_m, ip & 0xFFFFFFFF) - 1])
            else:
                keep(names6[bisect_right(starts6, ip) - 1])
        self.counts.update(Counter(buckets))
        return out

    def _other(self, index: int, text: str, pending: list[str]) -> str | None:
        """A row inet_pton refused: a zoned IPv6 address, or not an address at all."""
        if "%" in text:
            out = self._run_general([text], index, pending)  # calls bad() itself if it is not an address
            return out[0] if out else None
        return self.bad(index, text, pending)

    def _run_general(self, rows: list[str], first: int, pending: list[str] | None = None) -> list[str]:
        """Every row through :func:`parse_address` (zones, or no trustworthy inet_pton)."""
        out: list[str] = []
        before = out if pending is None else pending
        for index, raw in enumerate(rows, first):
            text = raw.strip()
            try:
                addr = parse_address(text)
            except AddressError:
                row = self.bad(index, text, before)
                if row is not None:
                    out.append(row)
                continue
            ip = int(addr)
            if addr.version == 4:
                side = self.v4
            elif ip >> 32 == _MAPPED:
                side, ip = self.mapped, ip & 0xFFFFFFFF
            else:
                side = self.v6
            slot = bisect_right(side.starts, ip) - 1
            if self.mode == "summary":
                name = side.buckets[slot]
                self.counts[name] = self.counts.get(name, 0) + 1
            elif self.mode == "line":
                out.append(f"{addr!s:<25}{side.lines[slot]}")
            else:
                out.append(f'{{"input": {json.dumps(text)}, "address": {json.dumps(str(addr))}, {side.jsons[slot]}')
        return out
