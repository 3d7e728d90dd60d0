"""The ``netbasics`` command line (also ``python -m netbasics``).

Exit codes: 0 everything fine, 1 some input row was bad (or a target unreachable or
unsafe), 2 usage error (unknown command or option, or a bad option value). Problems go
to stderr as one line each, never a traceback; data goes to stdout. With ``--json``
every input row gets exactly one JSON record, with an ``"error"`` field when it failed.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from typing import NoReturn, TextIO, TypeVar

from ._cli import unix as _cli_unix
from ._cli.classify import Classifier, entry_json
from ._cli.targets import PROG, recognise
from .addresses import Address, IPv4Address, IPv6Address, parse_address
from .endpoints import Endpoint, HostPort
from .errors import (
    AddressError,
    ConnectError,
    NetbasicsError,
    NetTimeoutError,
    PortError,
    quote,
)
from .networks import IPv4Network, Network, collapse, parse_network, summarize_range
from .ports import find_service, parse_port, port_category, services_for_port, validate_port
from .resolver import resolve
from .safety import DestinationPolicy, UnsafeDestination, UnsafeReason, check_destination, destination_host
from .sets import AddressSet
from .stream import StreamConnection
from .tcp import TCPServer, connect_tcp
from .udp import Datagram, UDPServer, udp_request
from .udp import DatagramHandler as UDPHandler
from .unix_addresses import UnixAddress
from .unix_datagram import UnixDatagramServer
from .unix_stream import UnixServer

__all__ = ["build_parser", "main"]

_T = TypeVar("_T")


# Progress is shown every this many stdin lines, and only when stderr is a terminal.
_PROGRESS_EVERY = 100_000
# Bulk input is read in batches of about this many bytes: large enough that the per-batch
# costs vanish, small enough that memory stays constant however long the input.
_BATCH_BYTES = 1 << 18
# A stdin line longer than this is cut: no address, name or URL that matters is longer.
_LINE_LIMIT = 1 << 16
# No usage message is longer than this, whatever the command line.
_MESSAGE_LIMIT = 300


# --- usage errors and option values ------------------------------------------------------------


class _UsageError(Exception):
    """A bad command line: reported as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and exit status 2, never a usage dump."""

    def error(self, message: str) -> NoReturn:
        if len(message) > _MESSAGE_LIMIT:
            # argparse quotes whole values in its own messages (invalid choice, ...).
            message = message[: _MESSAGE_LIMIT - 3] + "..."
        raise _UsageError(f"{self.prog}: {message} (see '{self.prog} --help')")


def _ascii_number(text: str) -> str:
    """``text`` if it is written the plain way: ASCII digits, one optional sign and point.

    ``float()`` and ``int()`` also take ``1_0``, fullwidth and other Unicode digits and
    surrounding spaces; an option value is held to the same strictness as the address
    parser, so those raise ``ValueError`` here.
    """
    if not text.isascii() or "_" in text or text != text.strip():
        raise ValueError(text)
    return text


def _seconds(*, zero: bool = False, limit: float = 86_400.0) -> Callable[[str], float]:
    """An option type for a duration: a finite number of seconds, > 0 (>= 0 with ``zero``)."""

    def parse(text: str) -> float:
        try:
            value = float(_ascii_number(text))
        except ValueError:
            raise argparse.ArgumentTypeError(f"{quote(text)} is not a number of seconds") from None
        if not math.isfinite(value) or value < 0 or (value == 0 and not zero) or value > limit:
            low = ">= 0" if zero else "> 0"
            raise argparse.ArgumentTypeError(f"{quote(text)} is out of range: give seconds {low} and <= {limit:g}")
        return value

    return parse


def _count(low: int, high: int, what: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(_ascii_number(text))
        except ValueError:
            raise argparse.ArgumentTypeError(f"{quote(text)} is not a whole number of {what}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{quote(text)} is out of range: give {low} to {high} {what}")
        return value

    return parse


def _prefix_length(text: str) -> int:
    digits = text.removeprefix("/")
    if not (digits.isascii() and digits.isdigit() and len(digits) <= 3):
        raise argparse.ArgumentTypeError(f"{quote(text)} is not a prefix length (0 to 128)")
    value = int(digits)
    if value > 128:
        raise argparse.ArgumentTypeError(f"prefix length {value} is out of range (0 to 128)")
    return value


def _option(parse: Callable[[str], _T]) -> Callable[[str], _T]:
    """An option type from a parser of ours: its error message becomes argparse's (a usage error)."""

    def convert(text: str) -> _T:
        try:
            return parse(text)
        except NetbasicsError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return convert


# Strict, as DestinationPolicy(allow=...) is: '10.1.2.3/8' is refused, not widened to 10.0.0.0/8.
_network_option = _option(parse_network)
_address_option = _option(parse_address)


def _port_list(text: str) -> list[int]:
    """``80,443,https``: port numbers or service names (TCP), comma-separated."""
    ports = []
    for part in text.split(","):
        if not part:
            raise argparse.ArgumentTypeError(f"{quote(text)} has an empty item: give P1,P2 without empty entries")
        try:
            ports.append(parse_port(part))
        except NetbasicsError:
            raise argparse.ArgumentTypeError(
                f"{quote(part)} is not a port: give numbers 0 to 65535 or service names such as https"
            ) from None
    if not ports:
        raise argparse.ArgumentTypeError(f"{quote(text)} names no port")
    return ports


# serve --bind: an endpoint, a bare address meaning port 0 (a free port), or unix:PATH. Every
# token the command line takes as an endpoint (connect targets, bind endpoints, URLs,
# networks) is sorted by the one recogniser in _cli.targets.
_bind_option = _option(lambda text: recognise(text).bind_endpoint())


# --- rows of input -----------------------------------------------------------------------------


def _progress_stream(err: TextIO) -> TextIO | None:
    try:
        return err if err.isatty() else None
    except (AttributeError, ValueError):
        return None


def _batches(stdin: TextIO, progress: TextIO | None) -> Iterator[tuple[int, list[str]]]:
    """``(number of the first line, lines)`` batches from stdin, read lazily.

    From a real stdin the bytes are read in blocks (``read1``: whatever has arrived, so
    a slow pipe is answered as it goes), decoded and split in one call each, which costs
    a fraction of reading line by line. Undecodable bytes become ``\\xNN`` escapes, so a
    bad line is reported (quoted) in valid UTF-8, in text and in JSON, and is not fatal.
    """
    lineno = 1
    shown = 0
    for lines in _blocks(stdin):
        yield lineno, lines
        lineno += len(lines)
        if progress is not None and lineno - shown > _PROGRESS_EVERY:
            shown = lineno
            progress.write(f"\r{PROG}: {lineno - 1:,} lines read")
            progress.flush()
    if progress is not None and shown:
        progress.write("\r\x1b[K")
        progress.flush()


def _blocks(stdin: TextIO) -> Iterator[list[str]]:
    raw = getattr(stdin, "buffer", None)
    read1 = getattr(raw, "read1", None)
    if read1 is None:
        while lines := stdin.readlines(_BATCH_BYTES):
            yield lines
        return
    pending = b""
    skipping = False  # inside an over-long line, already reported by its first part
    while block := read1(_BATCH_BYTES):
        data = pending + block if pending else block
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            if len(data) > _LINE_LIMIT:
                # No address is this long: pass its start on as one (bad) row and drop
                # the rest up to the next newline, so memory stays bounded.
                if not skipping:
                    yield [data[:_LINE_LIMIT].decode("utf-8", "backslashreplace")]
                skipping, pending = True, b""
            else:
                pending = data  # no complete line yet
            continue
        pending = data[cut:]
        if skipping:
            data = data[data.find(b"\n") + 1 :]
            cut = len(data) - len(pending)
            skipping = False
            if cut == 0:
                continue
        yield data[: cut - 1].decode("utf-8", "backslashreplace").split("\n")
    if pending and not skipping:
        yield [pending.decode("utf-8", "backslashreplace")]


def _rows(values: Iterable[str], stdin: TextIO, progress: TextIO | None = None) -> Iterator[tuple[str, str]]:
    """Yield ``(where, text)`` for each argument, reading stdin lazily for ``-``.

    Stdin lines are stripped; blank lines and ``#`` comments are skipped.
    """
    for value in values:
        if value != "-":
            yield "argument", _escape_undecodable(value)
            continue
        for first, lines in _batches(stdin, progress):
            for lineno, line in enumerate(lines, first):
                text = line.strip()
                if text and not text.startswith("#"):
                    yield f"stdin line {lineno}", text


def _escape_undecodable(text: str) -> str:
    """An argument as stdin lines are read: bytes that were not UTF-8 as ``\\xNN`` escapes.

    Python hands undecodable argv bytes over as lone surrogates, which no UTF-8 consumer of
    our JSON or stderr can read back.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return text


class _Report:
    """Writes row errors: one stderr line each, and with ``--json`` one record on stdout."""

    def __init__(self, command: str, out: TextIO, err: TextIO, as_json: bool) -> None:
        self.command = command
        self.out = out
        self.err = err
        self.as_json = as_json
        self.status = 0

    def complain(self, where: str, message: str) -> None:
        """The stderr line for a bad row; the exit status becomes 1."""
        self.status = 1
        self.out.flush()  # rows before this one go out first, so the two streams follow the input
        self.err.write(f"{PROG} {self.command}: {where}: {message}\n")

    def row_error(self, where: str, text: str, message: str) -> None:
        self.complain(where, message)
        if self.as_json:
            self.out.write(_error_record(text, message) + "\n")


def _error_record(text: str, message: str) -> str:
    """The JSON record of a row that failed: every row gets one, so a consumer loses none."""
    return json.dumps({"input": text, "error": message})


# --- classify ------------------------------------------------------------------------------------


def _cmd_classify(args: argparse.Namespace, out: TextIO, err: TextIO, stdin: TextIO) -> int:
    mode = "summary" if args.summary else "json" if args.json else "line"
    report = _Report("classify", out, err, mode == "json")
    where = "argument"

    def bad(index: int, text: str, pending: list[str]) -> str | None:
        if where != "argument" and (not text or text.startswith("#")):
            return None  # blank lines and comments in a file
        try:
            parse_address(text)
        except AddressError as exc:
            message = recognise(text).not_an_address(exc)
        else:  # pragma: no cover - the fast path only gives up on what parse_address refuses
            message = f"{quote(text)} could not be classified"
        if pending:
            # Rows before this one go out first, so stdout and stderr follow the input.
            out.write("\n".join(pending) + "\n")
            pending.clear()
        report.complain(where.format(index), message)
        return _error_record(text, message) if mode == "json" else None

    classifier = Classifier(mode, bad)
    for value in args.addresses:
        if value == "-":
            where = "stdin line {}"
            for first, lines in _batches(stdin, _progress_stream(err)):
                done = classifier.run(lines, first)
                if done:
                    out.write("\n".join(done) + "\n")
                    out.flush()  # a slow pipe (tail -f) sees its answers as they come
        else:
            where = "argument"
            done = classifier.run([_escape_undecodable(value)])
            if done:
                out.write(done[0] + "\n")
    if mode == "summary":
        counts = classifier.counts
        if args.json:
            out.write(json.dumps(counts, sort_keys=True) + "\n")
        else:
            for name, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
                out.write(f"{count:>10}  {name}\n")
    return report.status


# --- check ---------------------------------------------------------------------------------------


def _check_one(target: Address | Endpoint | HostPort | str, policy: DestinationPolicy) -> list[str]:
    """The addresses checked; raises :class:`UnsafeDestination` with the verdict."""
    if isinstance(target, (IPv4Address, IPv6Address)):
        check_destination(target, policy=policy)
        return [str(target)]
    if isinstance(target, Endpoint):
        check_destination(target, policy=policy)
        return [str(target.address)]
    if isinstance(target, str):
        # No port given, so only the address rules apply, as for a bare address.
        policy = replace(policy, allowed_ports=None, denied_ports=frozenset())
        # Junk is bad input (exit 2); a legacy numeric form (127.1) is a verdict, so
        # the text goes to resolve(), which refuses it with reason legacy-numeric-form.
        found = destination_host(target)
        if isinstance(found, UnsafeDestination) and found.reason is UnsafeReason.INVALID:
            HostPort(target, 0)  # raises the parse error
        return [str(e.address) for e in resolve(target, 0, policy=policy)]
    return [str(e.address) for e in resolve(target, policy=policy)]


_PORT_REASONS = frozenset({UnsafeReason.PORT_DENIED, UnsafeReason.PORT_NOT_ALLOWED})
# Verdicts about the text itself (its ``host`` field is the refused text, not a name).
_TEXT_REASONS = frozenset(
    {UnsafeReason.LEGACY_NUMERIC, UnsafeReason.INVALID, UnsafeReason.AMBIGUOUS_URL, UnsafeReason.SCHEME}
)


def _unsafe_words(exc: UnsafeDestination) -> str:
    """The verdict in words for the output line, from the exception's fields (never its text)."""
    if exc.host is not None and exc.reason not in _PORT_REASONS and exc.reason not in _TEXT_REASONS:
        return f"resolves to {exc.address}: {exc.detail}"
    return exc.detail


def _cmd_check(args: argparse.Namespace, out: TextIO, err: TextIO, stdin: TextIO) -> int:
    policy = DestinationPolicy(
        allow=AddressSet(args.allow),
        deny=AddressSet(args.deny),
        allow_loopback=args.allow_loopback,
        allow_private=args.allow_private,
        allow_link_local=args.allow_link_local,
        allowed_ports=args.ports,
    )
    report = _Report("check", out, err, args.json)
    for where, text in _rows(args.targets, stdin):
        verdict: UnsafeDestination | None = None
        try:
            try:
                addresses = _check_one(recognise(text).destination(), policy)
            except UnsafeDestination as exc:
                verdict = exc
                addresses = [] if exc.address is None else [str(exc.address)]
        except NetbasicsError as exc:
            report.row_error(where, text, str(exc))
            continue
        if verdict is not None:
            report.status = 1
        if args.json:
            record = {
                "input": text,
                "safe": verdict is None,
                "reason": None if verdict is None else verdict.reason.value,
                "detail": None if verdict is None else _unsafe_words(verdict),
                "embedded": None if verdict is None or verdict.embedded is None else str(verdict.embedded),
                "addresses": addresses,
            }
            out.write(json.dumps(record) + "\n")
        elif verdict is None:
            out.write(f"{text}: safe\n")
        else:
            out.write(f"{text}: unsafe ({verdict.reason}): {_unsafe_words(verdict)}\n")
    return report.status


# --- port ----------------------------------------------------------------------------------------


def _looks_numeric(text: str) -> bool:
    return text.lstrip("+-").isdigit()


def _port_row(value: str, protocol: str | None) -> tuple[str, dict[str, object]]:
    """(text line, JSON record) for a port number or a service name."""
    if _looks_numeric(value):
        if not (value.isascii() and value.isdigit()):
            raise PortError(f"{quote(value)} is not a valid port: ports are 0 to 65535")
        port = validate_port(value)
        services = services_for_port(port, protocol)
        shown = [(s.name, [protocol] if protocol else list(s.protocols)) for s in services]
        record: dict[str, object] = {
            "input": value,
            "port": port,
            "range": str(port_category(port)),
            "services": [{"name": name, "protocols": protocols} for name, protocols in shown],
        }
        names = ", ".join(f"{name} ({'/'.join(protocols)})" for name, protocols in shown) or "-"
        return f"{port:<6} {port_category(port)!s:<11} {names}", record
    service = find_service(value, protocol)
    if service is None:
        anywhere = find_service(value) if protocol else None
        if anywhere is not None:
            only = "/".join(anywhere.protocols)
            raise PortError(
                f"{quote(value)} is port {anywhere.port} for {only} only, not {protocol} (drop --protocol to see it)"
            )
        raise PortError(f"unknown service name {quote(value)}")
    protocols = [protocol] if protocol else list(service.protocols)
    record = {
        "input": value,
        "port": service.port,
        "range": str(port_category(service.port)),
        "services": [{"name": service.name, "protocols": protocols}],
    }
    return f"{value:<15} {service.port}/{'/'.join(protocols)}  {port_category(service.port)}", record


def _cmd_port(args: argparse.Namespace, out: TextIO, err: TextIO, stdin: TextIO) -> int:
    report = _Report("port", out, err, args.json)
    for where, value in _rows(args.values, stdin):
        try:
            line, record = _port_row(value, args.protocol)
        except NetbasicsError as exc:
            report.row_error(where, value, str(exc))
            continue
        out.write((json.dumps(record) if args.json else line) + "\n")
    return report.status


# --- net -----------------------------------------------------------------------------------------


def _network_facts(net: Network) -> dict[str, object]:
    facts: dict[str, object] = {
        "network": str(net),
        "version": net.version,
        "first": str(net.first),
        "last": str(net.last),
        "size": net.num_addresses,
        "prefixlen": net.prefixlen,
        "netmask": str(net.netmask),
        "hostmask": str(net.hostmask),
    }
    if isinstance(net, IPv4Network):
        facts["broadcast"] = str(net.broadcast_address)
    category = net.category
    facts["category"] = None if category is None else category.value
    facts["entry"] = entry_json(net.entry)
    return facts


def _fact_text(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, dict):
        return f"{value['prefix']} {value['name']} ({value['rfc']})"
    return str(value)


def _cmd_net(args: argparse.Namespace, out: TextIO, err: TextIO, stdin: TextIO) -> int:
    as_json = args.json

    def emit(key: str, value: object) -> None:
        out.write((json.dumps({key: str(value)}) if as_json else str(value)) + "\n")

    if args.summarize:
        first, last = args.summarize
        if first.version != last.version:
            raise _UsageError(f"{PROG} net: --summarize needs two addresses of one family, got {first} and {last}")
        if last < first:
            raise _UsageError(f"{PROG} net: --summarize range end {last} is before its start {first}")
        for net in summarize_range(first, last):
            emit("network", net)
        return 0
    report = _Report("net", out, err, as_json)
    if args.collapse:
        nets: list[Network] = []
        for where, text in _rows(args.networks or ["-"], stdin):
            try:
                nets.append(parse_network(text, strict=args.strict))
            except NetbasicsError as exc:
                report.row_error(where, text, str(exc))
        for net in collapse(nets):
            emit("network", net)
        return report.status
    if len(args.networks) != 1 or args.networks == ["-"]:
        hint = "--collapse takes a list (or - for stdin)"
        if args.contains and not args.networks:
            hint = "put it before --contains, which takes every argument after it"
        raise _UsageError(f"{PROG} net: give exactly one network (CIDR), got {len(args.networks)}; {hint}")
    net = parse_network(args.networks[0], strict=args.strict)
    if args.contains:
        for where, text in _rows(args.contains, stdin):
            try:
                inside = parse_address(text) in net
            except NetbasicsError as exc:
                report.row_error(where, text, str(exc))
                continue
            if not inside:
                report.status = 1
            if as_json:
                out.write(json.dumps({"input": text, "network": str(net), "contains": inside}) + "\n")
            else:
                out.write(f"{text}: {'in' if inside else 'not in'} {net}\n")
        return report.status
    if args.subnets is not None:
        if args.subnets < net.prefixlen or args.subnets > net.max_prefixlen:
            raise _UsageError(
                f"{PROG} net: --subnets {args.subnets} does not fit {net}: give {net.prefixlen} to {net.max_prefixlen}"
            )
        for sub in net.subnets(new_prefix=args.subnets):
            emit("network", sub)
        return 0
    if args.hosts:
        for host in net.hosts():
            emit("address", host)
        return 0
    facts = _network_facts(net)
    if as_json:
        out.write(json.dumps(facts) + "\n")
    else:
        for key, value in facts.items():
            out.write(f"{key + ':':<11}{_fact_text(value)}\n")
    return 0


# --- probe ---------------------------------------------------------------------------------------


def _cmd_probe(args: argparse.Namespace, out: TextIO, err: TextIO, stdin: TextIO) -> int:
    report = _Report("probe", out, err, args.json)
    for where, text in _rows(args.targets, stdin):
        started = time.monotonic()
        record: dict[str, object] = {"input": text}
        try:
            target = recognise(text).connect_target()
            if isinstance(target, UnixAddress):
                connection = _cli_unix.connect_stream(target, connect_timeout=args.timeout)
            else:
                connection = connect_tcp(target, connect_timeout=args.timeout)
            with connection as conn:
                elapsed = time.monotonic() - started
                record.update(open=True, address=str(conn.remote), ms=round(elapsed * 1000, 3))
                line = f"{text}: open ({conn.remote}) in {elapsed * 1000:.1f} ms"
        except (ConnectError, NetTimeoutError) as exc:
            elapsed = time.monotonic() - started
            report.status = 1
            record.update(open=False, reason=str(exc), ms=round(elapsed * 1000, 3))
            line = f"{text}: closed: {exc} ({elapsed * 1000:.1f} ms)"
        except NetbasicsError as exc:
            report.row_error(where, text, str(exc))
            out.flush()
            continue
        out.write((json.dumps(record) if args.json else line) + "\n")
        out.flush()
    return report.status


# --- serve ---------------------------------------------------------------------------------------


def _byte_writer(out: TextIO) -> Callable[[bytes], None]:
    """Writes bytes that arrived to stdout as they are (its binary buffer), flushed at once.

    Each piece is shown as it arrives, as nc does, not held until the peer closes. A text
    stream without a buffer (tests) gets the bytes decoded.
    """
    sink = getattr(out, "buffer", None)

    def write(data: bytes) -> None:
        if sink is not None:
            sink.write(data)
            sink.flush()
        else:
            out.write(data.decode("utf-8", "replace"))
            out.flush()

    return write


def _serve_handlers(
    mode: str, out: TextIO, lock: threading.Lock
) -> tuple[Callable[[StreamConnection], None], UDPHandler]:
    """The TCP and UDP handlers for --echo, --discard or --print."""
    write = _byte_writer(out)

    def show(data: bytes) -> None:
        with lock:  # connections run in threads: one piece at a time
            write(data)

    def tcp_handler(conn: StreamConnection) -> None:
        for chunk in iter(conn.recv, b""):
            if mode == "echo":
                conn.send_all(chunk)
            elif mode == "print":
                show(chunk)

    def udp_handler(datagram: Datagram, reply: Callable[[bytes], object]) -> None:
        if mode == "echo":
            reply(datagram.data)
        elif mode == "print":
            show(datagram.data)

    return tcp_handler, udp_handler


def _cmd_serve(args: argparse.Namespace, out: TextIO, err: TextIO, stdin: TextIO) -> int:
    if args.protocol == "udp" and args.idle_timeout is not None:
        raise _UsageError(f"{PROG} serve: --idle-timeout applies to tcp only (UDP has no connections)")
    tcp_handler, udp_handler = _serve_handlers(args.mode, out, threading.Lock())
    server: TCPServer | UDPServer | UnixServer | UnixDatagramServer
    idle = 60.0 if args.idle_timeout is None else args.idle_timeout
    if isinstance(args.bind, UnixAddress):  # tcp: a Unix stream socket, udp: a Unix datagram socket
        if args.protocol == "tcp":
            server = _cli_unix.stream_server(args.bind, tcp_handler, idle)
        else:
            server = _cli_unix.datagram_server(args.bind, udp_handler)
    elif args.protocol == "tcp":
        server = TCPServer(args.bind, tcp_handler, idle_timeout=idle)
    else:
        server = UDPServer(args.bind, udp_handler)
    signals = threading.Semaphore(0)

    def on_signal(signum: int, frame: object) -> None:
        signals.release()

    # SIGINT (Ctrl-C) and SIGTERM: the first stops with a short grace for open
    # connections, a second one stops at once. The main thread only waits and stops.
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.start()
        try:
            out.write(f"{server.endpoint}\n")
            out.flush()
            while not signals.acquire(timeout=0.2):
                pass
            open_now = server.active_connections if isinstance(server, (TCPServer, UnixServer)) else 0
            if open_now and args.grace:
                plural = "s" * (open_now != 1)
                waiting = (
                    f"; waiting up to {args.grace:g} s for {open_now} connection{plural} (signal again to stop now)"
                )
            else:
                waiting = ""
            err.write(f"{PROG} serve: stopping{waiting}\n")
            err.flush()
            stopper = threading.Thread(target=server.stop, kwargs={"timeout": args.grace}, daemon=True)
            stopper.start()
            while stopper.is_alive():
                if signals.acquire(timeout=0.05):
                    err.write(f"{PROG} serve: stopping now\n")
                    server.stop(timeout=0)
                    break
            stopper.join(1.0)
        finally:
            server.stop(timeout=0)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


# --- send ----------------------------------------------------------------------------------------


def _read_payload(args: argparse.Namespace, stdin: TextIO) -> bytes:
    if args.data is None or args.data == "-":
        raw = getattr(stdin, "buffer", None)
        return bytes(raw.read()) if raw is not None else stdin.read().encode()
    # DATA on the command line is a line, as `echo DATA | nc` sends it; --raw sends it as is.
    return str(args.data).encode("utf-8", "surrogateescape") + (b"" if args.raw else b"\n")


def _cmd_send(args: argparse.Namespace, out: TextIO, err: TextIO, stdin: TextIO) -> int:
    target = recognise(args.target).connect_target()
    payload = _read_payload(args, stdin)
    write = _byte_writer(out)
    if isinstance(target, UnixAddress):  # tcp: a Unix stream socket, udp: a Unix datagram socket
        if args.protocol == "udp":
            write(_cli_unix.datagram_request(target, payload, timeout=args.timeout, retries=args.retries))
            return 0
        connection = _cli_unix.connect_stream(target, connect_timeout=args.timeout, timeout=args.timeout)
    elif args.protocol == "udp":
        write(udp_request(target, payload, timeout=args.timeout, retries=args.retries).data)
        return 0
    else:
        connection = connect_tcp(target, connect_timeout=args.timeout, timeout=args.timeout)
    with connection as conn:
        conn.send_all(payload)
        conn.shutdown_write()
        try:
            for chunk in iter(conn.recv, b""):
                write(chunk)
        except NetTimeoutError:
            pass  # the peer kept the connection open: what came back in time was shown
    return 0


# --- the parser ----------------------------------------------------------------------------------

_COMMANDS: dict[str, Callable[[argparse.Namespace, TextIO, TextIO, TextIO], int]] = {
    "classify": _cmd_classify,
    "check": _cmd_check,
    "port": _cmd_port,
    "net": _cmd_net,
    "probe": _cmd_probe,
    "serve": _cmd_serve,
    "send": _cmd_send,
}


def _json_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print one JSON object per line (one per input row)")


def _subparsers(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser(
        "classify",
        help="classify IP addresses by the IANA special-purpose registries",
        description="Classify IPv4/IPv6 addresses. Use - to read one address per line from stdin.",
    )
    p.add_argument("addresses", nargs="+", metavar="ADDRESS", help="an address, or - for stdin")
    _json_flag(p)
    p.add_argument("--summary", action="store_true", help="print counts per category instead of one line each")

    p = sub.add_parser(
        "check",
        help="is it safe to connect to these destinations? (SSRF guard)",
        description="Check addresses, endpoints, host names or URLs against the destination policy. "
        "Names are resolved once and every answer is checked. Exit 1 if any is unsafe.",
    )
    p.add_argument("targets", nargs="+", metavar="TARGET", help="ADDRESS, HOST[:PORT] or URL, or - for stdin")
    _json_flag(p)
    p.add_argument("--allow", action="append", type=_network_option, default=[], metavar="NET", help="always allow")
    p.add_argument("--deny", action="append", type=_network_option, default=[], metavar="NET", help="always deny")
    p.add_argument("--allow-loopback", action="store_true", help="treat loopback as safe")
    p.add_argument("--allow-private", action="store_true", help="treat RFC 1918 / ULA as safe")
    p.add_argument("--allow-link-local", action="store_true", help="treat link-local as safe")
    p.add_argument("--ports", type=_port_list, default=None, metavar="P1,P2", help="only these ports (or names)")

    p = sub.add_parser(
        "port",
        help="port ranges and IANA service names",
        description="For numbers: the range (well-known, registered, dynamic) and service names. For names: the port.",
    )
    p.add_argument("values", nargs="+", metavar="PORT|NAME", help="a port, a service name, or - for stdin")
    p.add_argument("--protocol", choices=["tcp", "udp", "sctp", "dccp"], default=None, help="only this protocol")
    _json_flag(p)

    p = sub.add_parser(
        "net",
        help="network (CIDR) facts, subnets, membership, summarize and collapse",
        description="Show facts about a network, or list its subnets or hosts, test membership, "
        "summarize an address range, or collapse a list of prefixes.",
    )
    p.add_argument("networks", nargs="*", metavar="CIDR", help="a network; with --collapse, prefixes or - for stdin")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--subnets", type=_prefix_length, metavar="N", help="list the subnets of prefix length N")
    mode.add_argument("--contains", nargs="+", metavar="ADDR", help="is each address (or - for stdin) inside?")
    mode.add_argument("--hosts", action="store_true", help="list the usable host addresses")
    mode.add_argument(
        "--summarize", nargs=2, type=_address_option, metavar=("FIRST", "LAST"), help="the CIDRs covering FIRST..LAST"
    )
    mode.add_argument("--collapse", action="store_true", help="merge prefixes (arguments, or - for stdin)")
    p.add_argument("--no-strict", dest="strict", action="store_false", help="allow host bits (mask them)")
    p.add_argument("--json", action="store_true", help="print JSON objects, one per line")

    p = sub.add_parser(
        "probe",
        help="is a TCP port (or Unix socket) open? (like nc -z)",
        description="Try a TCP connection to each HOST:PORT (a stream connection to each unix:PATH) and "
        "report open or closed with the time taken. Exit 0 only if all are open.",
    )
    p.add_argument("targets", nargs="+", metavar="HOST:PORT", help="a target (or unix:PATH), or - for stdin")
    p.add_argument("--timeout", type=_seconds(), default=3.0, metavar="S", help="connect timeout in seconds (3)")
    _json_flag(p)

    p = sub.add_parser(
        "serve",
        help="run a small TCP or UDP server for tests",
        description="Serve on the --bind endpoint (default 127.0.0.1:0, a free port) until Ctrl-C or "
        "SIGTERM; the first line printed is the bound endpoint. With --bind unix:PATH, tcp serves a Unix "
        "stream socket and udp a Unix datagram socket.",
    )
    p.add_argument("protocol", choices=["tcp", "udp"], help="tcp (stream) or udp (datagrams)")
    p.add_argument(
        "--bind", type=_bind_option, default=Endpoint(IPv4Address(0x7F000001), 0), metavar="ENDPOINT",
        help="ADDRESS[:PORT] to bind (port 0, a free one, if omitted), or unix:PATH",
    )  # fmt: skip
    mode = p.add_mutually_exclusive_group()
    mode.add_argument(
        "--echo", dest="mode", action="store_const", const="echo", help="send back what arrives (the default)"
    )
    mode.add_argument("--discard", dest="mode", action="store_const", const="discard", help="read and drop")
    mode.add_argument("--print", dest="mode", action="store_const", const="print", help="write what arrives to stdout")
    p.add_argument(
        "--idle-timeout", type=_seconds(), default=None, metavar="S", help="TCP: drop silent clients after S s (60)"
    )
    p.add_argument(
        "--grace", type=_seconds(zero=True, limit=3600.0), default=0.5, metavar="S",
        help="on Ctrl-C/SIGTERM, let connections finish for S s (0.5); a second signal stops at once",
    )  # fmt: skip
    p.set_defaults(mode="echo")

    p = sub.add_parser(
        "send",
        help="send data and print the reply (like nc)",
        description="Send DATA (or stdin with - or no DATA) to HOST:PORT and print the reply as it arrives. "
        "TCP half-closes after sending and prints until the peer closes or the timeout passes; UDP waits "
        "for one reply, retrying on silence.",
    )
    p.add_argument("protocol", choices=["tcp", "udp"], help="tcp (stream) or udp (datagrams)")
    p.add_argument("target", metavar="HOST:PORT", help="where to send (or unix:PATH, unix:@NAME)")
    p.add_argument(
        "data", nargs="?", default=None, metavar="DATA", help="text to send (a newline is added), or - for stdin"
    )
    p.add_argument("--raw", action="store_true", help="send DATA exactly as given, without the newline")
    p.add_argument("--timeout", type=_seconds(), default=5.0, metavar="S", help="seconds to wait (5)")
    p.add_argument("--retries", type=_count(0, 100, "retries"), default=2, metavar="N", help="UDP: resend N times (2)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser: the top level (``--version``, ``--help``) and every subcommand."""
    from . import __version__

    parser = _Parser(
        prog=PROG,
        description="Everyday network checks: classify addresses, check destinations, look up ports, "
        "work with networks, probe, send and serve.",
        epilog="Exit status: 0 ok, 1 some input rows bad, unsafe or unreachable, 2 usage error.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, parser_class=_Parser)
    _subparsers(sub)
    return parser


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = build_parser()
    if argv and argv[0] in _COMMANDS:
        # Options may come before, between and after positional arguments.
        subs = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        args: argparse.Namespace = subs.choices[argv[0]].parse_intermixed_args(argv[1:])
        args.command = argv[0]
        return args
    parser.parse_args(argv)  # --help, --version, or a one-line error
    raise _UsageError(f"{PROG}: give a command (see '{PROG} --help')")  # pragma: no cover


def main(argv: Iterable[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    command = PROG
    try:
        args = _parse(argv)
        command = f"{PROG} {args.command}"
        reconfigure = getattr(sys.stdin, "reconfigure", None)
        if reconfigure is not None:
            # Undecodable bytes become row errors that quote them, not a UnicodeDecodeError.
            reconfigure(errors="surrogateescape")
        status = _COMMANDS[args.command](args, sys.stdout, sys.stderr, sys.stdin)
        sys.stdout.flush()
    except _UsageError as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    except NetbasicsError as exc:
        sys.stderr.write(f"{command}: {exc}\n")
        return 1
    except BrokenPipeError:
        # The reader went away (``| head``): stop quietly, as Unix tools do. Point stdout
        # at /dev/null so the interpreter's final flush does not raise again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        return 130
    except OSError as exc:
        sys.stderr.write(f"{command}: {exc.strerror or exc}\n")
        return 1
    return status
