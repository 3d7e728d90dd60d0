"""The stream benchmarks' load generator: builds bench/_loadgen.c once and runs it.

The binary is cached under ``$XDG_CACHE_HOME/netbasics-bench`` (``~/.cache`` by default),
named by a hash of the C source, so it is compiled again only when the source changes and
a cached build needs no compiler. The compiler is ``$CC`` if set, else the first of ``cc``,
``gcc`` and ``clang`` found; without one, :func:`build` exits with a one-line message.

Targets are ``HOST:PORT`` (numeric IPv4), ``[IPv6]:PORT`` or ``unix:PATH``. The generator
always runs in its own process, apart from the servers it measures. It has two clients
(:data:`CLIENTS`), the same closed loop paced two ways: ``epoll``, every connection on one
epoll loop in one thread, and ``threads``, a thread per connection blocking in its own
``send`` and ``recv``.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shlex
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SOURCE = Path(__file__).resolve().with_name("_loadgen.c")
FLAGS = ("-O2", "-pthread")

#: The load generator's clients: its mode word for each.
CLIENTS = {"epoll": "echo", "threads": "threads"}


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
    digest = hashlib.sha256(source + " ".join((platform.machine(), *FLAGS)).encode()).hexdigest()[:16]
    binary = _cache_dir() / f"loadgen-{digest}"
    if binary.exists():
        return binary
    cc = _compiler()
    if cc is None:
        sys.exit(f"{bench}: no C compiler found (set CC, or install cc/gcc/clang) to build bench/_loadgen.c")
    binary.parent.mkdir(parents=True, exist_ok=True)
    # Build under a private name and rename: a concurrent run never sees half a binary.
    partial = binary.with_name(f"{binary.name}.{os.getpid()}.tmp")
    done = subprocess.run([*cc, *FLAGS, "-o", str(partial), str(SOURCE)], capture_output=True, text=True)
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
    binary: Path,
    target: str,
    connections: int,
    size: int,
    seconds: float,
    cpus: set[int] | None = None,
    client: str = "epoll",
    window: tuple[Callable[[], None], Callable[[], None]] | None = None,
) -> EchoResult:
    """Run ``connections`` closed-loop connections of ``size``-byte messages against ``target``.

    The run lasts ``seconds`` plus a fifth of it for warm-up; ``cpus`` pins the generator;
    ``client`` is ``"epoll"`` or ``"threads"`` (:data:`CLIENTS`). ``window`` is a pair of
    callables, called as the measured part starts and as it ends (before any connection
    closes), to read the server's counters over exactly the measured part.
    """
    if client not in CLIENTS:
        raise ValueError(f"client {client!r} is not one of {', '.join(CLIENTS)}")
    command = [str(binary), CLIENTS[client], target, str(connections), str(size), repr(seconds)]
    limit = seconds * 3 + 30
    proc = subprocess.Popen(
        [*command, "--sync"] if window else command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=pinned(cpus),
    )
    assert proc.stdin is not None
    assert proc.stdout is not None
    assert proc.stderr is not None
    timer = threading.Timer(limit, proc.kill)  # a stuck generator ends, its pipes with it
    timer.start()
    line = ""
    try:
        if window and proc.stdout.readline().strip() == "start":
            window[0]()
        line = proc.stdout.readline()
        if window and line:
            window[1]()
        proc.stdin.close()  # the generator closes its connections and exits
        proc.wait()
        errors = proc.stderr.read()
    finally:
        timer.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    if proc.returncode == -9 and not line:
        raise RuntimeError(f"load generator against {target}: no result after {limit:g} s")
    _check(subprocess.CompletedProcess(proc.args, proc.returncode, line, errors), target)
    trips, echoed, elapsed = line.split()
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
