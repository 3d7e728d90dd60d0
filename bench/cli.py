"""Benchmark: ``netbasics classify -`` on a million mixed lines, against stdlib scripts.

Run by hand from the repository root (not a test: timings on shared machines are noisy)::

    python bench/cli.py [--lines 1000000] [--rounds 5] [--seed 14]

What is measured is CPU time (user + system) of each command as a child process, read
from ``os.wait4``'s resource usage, so time the machine spends on other work does not
count; the interpreter's start-up is included, as a user would pay it. Each command reads
the same file on stdin and writes to /dev/null. Rounds are interleaved (every command
once per round) and the median is reported, with its ratio to the anchor it is compared
against:

* per-line output against a naive stdlib script (``ip_address``, then print the
  address, version, ``is_private``, ``is_global``), target >= 5x;
* ``--json`` against a stdlib script printing the same record shape with ``json.dumps``,
  target >= 3x;
* ``--summary`` in lines per CPU second, target >= 1,000,000.

Peak memory (max RSS) is shown for the full input and for a tenth of it: equal figures
mean memory does not grow with the input. The output is a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

NAIVE = """\
import ipaddress, sys
for line in sys.stdin:
    try: a = ipaddress.ip_address(line.strip())
    except ValueError: continue
    print(a, a.version, a.is_private, a.is_global)
"""

# The same record netbasics prints, with what stdlib knows: the category from its is_*
# properties, no registry row.
STDLIB_JSON = """\
import ipaddress, json, sys
def category(a):
    for name in ("loopback", "link_local", "multicast", "unspecified", "reserved", "private"):
        if getattr(a, "is_" + name):
            return name
    return "public"
for line in sys.stdin:
    text = line.strip()
    try: a = ipaddress.ip_address(text)
    except ValueError: continue
    print(json.dumps({"input": text, "address": str(a), "version": a.version,
                      "category": category(a), "is_global": a.is_global, "entry": None}))
"""

# Blocks that the mixed input samples special addresses from.
_V4_SPECIAL = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "169.254.0.0/16", "100.64.0.0/10",
               "224.0.0.0/4", "192.0.2.0/24", "198.18.0.0/15", "240.0.0.0/4", "0.0.0.0/8"]  # fmt: skip
_V6_SPECIAL = ["fe80::/10", "fc00::/7", "2001:db8::/32", "ff00::/8", "64:ff9b::/96", "2002::/16", "2001::/32"]
_BAD = ["1.2.3.256", "010.0.0.1", "host.example", "10.0.0.0/8", "1.2.3.4:80", "::g", "", "# comment"]


def _v4(ip: int) -> str:
    return f"{ip >> 24}.{ip >> 16 & 255}.{ip >> 8 & 255}.{ip & 255}"


def _in(rng: random.Random, prefix: str) -> int:
    import ipaddress

    net = ipaddress.ip_network(prefix)
    return int(net.network_address) + rng.randrange(net.num_addresses)


def mixed_lines(count: int, seed: int) -> list[str]:
    """Log-like input: mostly IPv4, a quarter IPv6 in several spellings, 1% not addresses."""
    import ipaddress

    rng = random.Random(seed)
    lines = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.50:
            lines.append(_v4(rng.getrandbits(32)))
        elif roll < 0.70:
            lines.append(_v4(_in(rng, rng.choice(_V4_SPECIAL))))
        elif roll < 0.82:
            lines.append(str(ipaddress.IPv6Address((0x2000 << 112) | rng.getrandbits(125))))
        elif roll < 0.90:
            lines.append(str(ipaddress.IPv6Address(_in(rng, rng.choice(_V6_SPECIAL)))))
        elif roll < 0.94:
            lines.append("::ffff:" + _v4(rng.getrandbits(32)))
        elif roll < 0.99:
            # Not in canonical form: upper case, leading zeros in groups, fully expanded.
            lines.append(ipaddress.IPv6Address(rng.getrandbits(128)).exploded.upper())
        else:
            lines.append(rng.choice(_BAD))
    return lines


def cpu_and_rss(argv: Sequence[str], data: Path) -> tuple[float, int]:
    """(user + sys CPU seconds, max RSS in KiB) of one run of ``argv`` reading ``data``."""
    with data.open("rb") as stdin:
        proc = subprocess.Popen(argv, stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{argv} failed with status {proc.returncode}")
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--write", nargs=2, metavar=("FULL", "TENTH"), help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.write:
        lines = mixed_lines(opts.lines, opts.seed)
        Path(opts.write[0]).write_text("\n".join(lines) + "\n")
        Path(opts.write[1]).write_text("\n".join(lines[: opts.lines // 10]) + "\n")
        return

    py = sys.executable
    commands = {
        "stdlib naive (per line)": [py, "-c", NAIVE],
        "netbasics classify -": [py, "-m", "netbasics", "classify", "-"],
        "stdlib json.dumps": [py, "-c", STDLIB_JSON],
        "netbasics classify --json -": [py, "-m", "netbasics", "classify", "--json", "-"],
        "netbasics classify --summary -": [py, "-m", "netbasics", "classify", "--summary", "-"],
    }
    with tempfile.TemporaryDirectory() as tmp:
        full = Path(tmp) / "mixed.txt"
        tenth = Path(tmp) / "tenth.txt"
        # The input is written by a child process: on Linux a child's peak RSS starts from
        # its parent's size at fork, so this process must stay small to measure memory.
        subprocess.run(
            [py, __file__, "--write", str(full), str(tenth), "--lines", str(opts.lines), "--seed", str(opts.seed)],
            check=True,
        )
        times: dict[str, list[float]] = {name: [] for name in commands}
        rss: dict[str, int] = {}
        rss_tenth: dict[str, int] = {}
        for _ in range(opts.rounds):
            for name, argv in commands.items():
                cpu, peak = cpu_and_rss(argv, full)
                times[name].append(cpu)
                rss[name] = max(rss.get(name, 0), peak)
        for name, argv in commands.items():
            rss_tenth[name] = cpu_and_rss(argv, tenth)[1]

    med = {name: statistics.median(values) for name, values in times.items()}
    anchors = {
        "netbasics classify -": ("stdlib naive (per line)", 5.0),
        "netbasics classify --json -": ("stdlib json.dumps", 3.0),
    }
    print(
        f"{opts.lines:,} mixed lines, median CPU (user+sys) of {opts.rounds} interleaved rounds, {sys.version.split()[0]}"
    )
    print()
    print("| command | CPU s | µs/line | lines/s CPU | vs anchor | target | max RSS MiB (1/10 input) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name in commands:
        cpu = med[name]
        ratio, target = "", ""
        if name in anchors:
            anchor, goal = anchors[name]
            ratio = f"{med[anchor] / cpu:.1f}x"
            target = f">= {goal:g}x"
        elif name.endswith("--summary -"):
            target = ">= 1,000,000/s"
        memory = f"{rss[name] / 1024:.0f} ({rss_tenth[name] / 1024:.0f})"
        print(
            f"| `{name}` | {cpu:.2f} | {cpu / opts.lines * 1e6:.2f} | {opts.lines / cpu:,.0f} | {ratio} | {target} "
            f"| {memory} |"
        )


if __name__ == "__main__":
    main()
