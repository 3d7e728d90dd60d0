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
from bisect import bisect_right
from collections.abc import Callable
from socket import AF_INET, inet_pton
from typing import Final

from ._classify import AddressInfo, classify
from ._data.registry import IPV4_ENTRIES, IPV6_ENTRIES
from .addresses import IPv4Address, IPv6Address, parse_address
from .errors import AddressError
from .networks import parse_network

__all__ = ["Classifier", "info_json", "info_line"]

_MAPPED: Final = 0xFFFF  # ::ffff:0:0/96, the bits above the low 32


def _pton_is_strict() -> bool:
    """True if this platform's ``inet_pton`` refuses every lax IPv4 spelling."""
    for lax in ("1.2.3.04", "1.2.3", "0x1.2.3.4", "1.2.3.4 ", "01.2.3.4", "1.2.3.4.", "1..2.3"):
        try:
            inet_pton(AF_INET, lax)
        except OSError:
            continue
        return False
    return True


_FAST_V4: Final = _pton_is_strict()


def info_line(info: AddressInfo) -> str:
    """The text line for one classified address."""
    return f"{info.address!s:<25}{_line_tail(info)}"


def _line_tail(info: AddressInfo) -> str:
    entry = info.entry
    reach = "global" if info.is_global else "not-global"
    where = f"{entry.prefix} {entry.name} ({entry.rfc})" if entry is not None else "-"
    return f" IPv{info.address.version}  {info.category.value:<19} {reach:<10}  {where}"


def _entry_json(info: AddressInfo) -> dict[str, object] | None:
    entry = info.entry
    if entry is None:
        return None
    return {"prefix": entry.prefix, "name": entry.name, "rfc": entry.rfc, "registry": entry.registry}


def _json_tail(info: AddressInfo) -> str:
    """``"version": ..., "entry": ...}``: the record after ``input`` and ``address``."""
    rest = {
        "version": info.address.version,
        "category": info.category.value,
        "is_global": info.is_global,
        "entry": _entry_json(info),
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

    ``bad(index, text)`` is called for every row that is not an address (blank lines and
    comments included; it decides what to skip) and returns the output for that row, if
    any. Built once per run; the tables take a few milliseconds.
    """

    def __init__(self, mode: str, bad: Callable[[int, str], str | None]) -> None:
        self.mode = mode  # "line", "json" or "summary"
        self.bad = bad
        self.v4 = _side_v4(False)
        self.v6 = _side_v6()
        self.mapped = _side_v4(True)
        self.counts: dict[str, int] = {}

    def run(self, rows: list[str], first: int = 0) -> list[str]:
        """The output lines (without newlines) for ``rows``; ``first`` numbers them for ``bad``."""
        out: list[str] = []
        append = out.append
        bad = self.bad
        v4, v6, mapped = self.v4, self.v6, self.mapped
        starts4 = v4.starts
        tails4 = v4.lines if self.mode == "line" else v4.buckets if self.mode == "summary" else v4.jsons
        mode = self.mode
        summary = mode == "summary"
        buckets: list[str] = []
        keep = buckets.append if summary else append
        pton = inet_pton if _FAST_V4 else None
        fb = int.from_bytes
        for index, raw in enumerate(rows, first):
            text = raw.strip()
            if pton is not None and ":" not in text:
                try:
                    ip = fb(pton(AF_INET, text), "big")
                except (OSError, ValueError):
                    row = bad(index, text)
                    if row is not None:
                        append(row)
                    continue
                tail = tails4[bisect_right(starts4, ip) - 1]
                if summary:
                    keep(tail)
                elif mode == "line":
                    append(f"{text:<25}{tail}")
                else:
                    append(f'{{"input": "{text}", "address": "{text}", {tail}')
                continue
            try:
                addr = parse_address(text)
            except AddressError:
                row = bad(index, text)
                if row is not None:
                    append(row)
                continue
            ip = int(addr)
            if addr.version == 4:
                side = v4
            elif ip >> 32 == _MAPPED:
                side, ip = mapped, ip & 0xFFFFFFFF
            else:
                side = v6
            slot = bisect_right(side.starts, ip) - 1
            if summary:
                keep(side.buckets[slot])
            elif mode == "line":
                append(f"{addr!s:<25}{side.lines[slot]}")
            else:
                append(f'{{"input": {json.dumps(text)}, "address": {json.dumps(str(addr))}, {side.jsons[slot]}')
        if summary:
            counts = self.counts
            for name in buckets:
                counts[name] = counts.get(name, 0) + 1
        return out
