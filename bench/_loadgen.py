"""The stream benchmarks' load generator: builds bench/_loadgen.c once and runs it.

The binary is cached under ``$XDG_CACHE_HOME/netbasics-bench`` (``~/.cache`` by default),
named by a hash of the C source, so it is compiled again only when the source changes and
a cached build needs no compiler. The compiler is ``$CC`` if set, else the first of ``cc``,
``gcc`` and ``clang`` found; without one, :func:`build` exits with a one-line message.

Targets are ``HOST:PORT`` (numeric IPv4), ``[IPv6]:PORT`` or ``unix:PATH``. The generator
always runs in its own process, apart from the servers it measures.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SOURCE = Path(__file__).resolve().with_name("_loadgen.c")


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "netbasics-bench"


def _compiler() -> list[str] | None:
    if os.environ.get("CC"):
        cc = shlex.split(os.environ["CC"])
        return cc if shutil.which(cc[0]) else None
    for name in ("cc", "gcc", "clang"):
        if shutil.which(name):
            return [name]
    return None


def build(bench: str) -> Path:
    """The path of the compiled load generator, compiling it first if no cached build exists.

    ``bench`` names the calling benchmark in the message printed when that is impossible.
    """
    if not sys.platform.startswith("linux"):
        sys.exit(f"{bench}: the load generator needs Linux (epoll); this is {sys.platform}")
    source = SOURCE.read_bytes()
    digest = hashlib.sha256(source + platform.machine().encode()).hexdigest()[:16]
    binary = _cache_dir() / f"loadgen-{digest}"
    if binary.exists():
        return binary
    cc = _compiler()
    if cc is None:
        sys.exit(f"{bench}: no C compiler found (set CC, or install cc/gcc/clang) to build bench/_loadgen.c")
    binary.parent.mkdir(parents=True, exist_ok=True)
    # Build under a private name and rename: a concurrent run never sees half a binary.
    partial = binary.with_name(f"{binary.name}.{os.getpid()}.tmp")
    done = subprocess.run([*cc, "-O2", "-o", str(partial), str(SOURCE)], capture_output=True, text=True)
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        first = (done.stderr.strip().splitlines() or ["(no output)"])[0]
        sys.exit(f"{bench}: {cc[0]} could not build bench/_loadgen.c: {first}")
    os.replace(partial, binary)
    return binary


@dataclass(frozen=True)
class EchoResult:
    """What one closed-loop echo run measured (warm-up excluded)."""

    trips: int
    echoed_bytes: int
    seconds: float

    @property
    def trips_per_second(self) -> float:
        """Complete round trips per second over all connections."""
        return self.trips / self.seconds if self.seconds > 0 else 0.0

    @property
    def megabytes_per_second(self) -> float:
        """Echoed bytes per second (one direction, headers included), in MB (10**6)."""
        return self.echoed_bytes / self.seconds / 1e6 if self.seconds > 0 else 0.0


def _check(done: subprocess.CompletedProcess[str], target: str) -> None:
    if done.returncode != 0:
        reason = done.stderr.strip().splitlines()[-1:] or [f"exit status {done.returncode}"]
        raise RuntimeError(f"load generator against {target}: {reason[0]}")


def pinned(cpus: set[int] | None) -> Callable[[], None] | None:
    """A ``preexec_fn`` that keeps the child on ``cpus`` (``None``: no pinning)."""
    if cpus is None:
        return None
    return lambda: os.sched_setaffinity(0, cpus)


def echo(
    binary: Path, target: str, connections: int, size: int, seconds: float, cpus: set[int] | None = None
) -> EchoResult:
    """Run ``connections`` closed-loop connections of ``size``-byte messages against ``target``.

    The run lasts ``seconds`` plus a fifth of it for warm-up; ``cpus`` pins the generator.
    """
    try:
        done = subprocess.run(
            [str(binary), "echo", target, str(connections), str(size), repr(seconds)],
            capture_output=True,
            text=True,
            timeout=seconds * 3 + 30,
            preexec_fn=pinned(cpus),
        )
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"load generator against {target}: no result after {seconds * 3 + 30:g} s") from None
    _check(done, target)
    trips, echoed, elapsed = done.stdout.split()
    return EchoResult(int(trips), int(echoed), float(elapsed))


@contextmanager
def hold(binary: Path, target: str, count: int) -> Iterator[None]:
    """Hold ``count`` connections to ``target`` open, each served once, for the ``with`` body."""
    proc = subprocess.Popen(
        [str(binary), "hold", target, str(count)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None
    assert proc.stdout is not None
    assert proc.stderr is not None
    try:
        if proc.stdout.readline().strip() != "ready":
            proc.wait(30)
            _check(subprocess.CompletedProcess(proc.args, proc.returncode or 1, "", proc.stderr.read()), target)
        yield
    finally:
        if proc.poll() is None:
            proc.stdin.write("\n")
            proc.stdin.flush()
        proc.wait(30)
        proc.stdin.close()
        proc.stdout.close()
        proc.stderr.close()
