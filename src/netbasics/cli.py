"""The ``netbasics`` command line (also ``python -m netbasics``).

Exit codes: 0 everything fine, 1 some input was bad (or a target unreachable/unsafe),
2 usage error. Errors go to stderr as one line each; data goes to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TextIO

from ._classify import AddressInfo, classify
from .addresses import is_valid_address, parse_address
from .endpoints import Endpoint, HostPort
from .errors import (
    ConnectError,
    EndpointError,
    NetbasicsError,
    NetTimeoutError,
    PortError,
    UnsafeDestination,
    UnsafeReason,
)
from .networks import IPv4Network, Network, collapse, parse_network, summarize_range
from .ports import find_service, port_category, services_for_port, validate_port
from .resolver import resolve
from .safety import DestinationPolicy, check_destination
from .tcp import StreamConnection, TCPServer, connect_tcp
from .udp import Datagram, UDPServer, udp_request
from .udp import DatagramHandler as UDPHandler

__all__ = ["main"]

PROG = "netbasics"


# Progress is shown every this many stdin lines, and only when stderr is a terminal.
_PROGRESS_EVERY = 100_000


def _inputs(values: list[str], stdin: TextIO, progress: TextIO | None = None) -> Iterator[tuple[str, str]]:
    """Yield ``(where, text)`` for each argument, reading stdin lazily for ``-``.

    Lines are streamed one at a time, so memory stays constant however long the input.
    With ``progress`` (a terminal), a counter is redrawn on it as lines go by.
    """
    for value in values:
        if value == "-":
            lineno = 0
            for lineno, line in enumerate(stdin, 1):
                text = line.strip()
                if text and not text.startswith("#"):
                    yield f"stdin line {lineno}", text
                if progress is not None and lineno % _PROGRESS_EVERY == 0:
                    progress.write(f"\r{PROG}: {lineno:,} lines read")
                    progress.flush()
            if progress is not None and lineno >= _PROGRESS_EVERY:
                progress.write("\r\x1b[K")
                progress.flush()
        else:
            yield "argument", value


def _progress_stream(err: TextIO) -> TextIO | None:
    try:
        return err if err.isatty() else None
    except (AttributeError, ValueError):
        return None


def _info_json(text: str, info: AddressInfo) -> str:
    entry = info.entry
    return json.dumps(
        {
            "input": text,
            "address": str(info.address),
            "version": info.address.version,
            "category": info.category.value,
            "is_global": info.is_global,
            "entry": None
            if entry is None
            else {"prefix": entry.prefix, "name": entry.name, "rfc": entry.rfc, "registry": entry.registry},
        }
    )


def _info_line(info: AddressInfo) -> str:
    entry = info.entry
    reach = "global" if info.is_global else "not-global"
    where = f"{entry.prefix} {entry.name} ({entry.rfc})" if entry is not None else "-"
    return f"{info.address!s:<25} IPv{info.address.version}  {info.category.value:<19} {reach:<10}  {where}"


def _cmd_classify(args: argparse.Namespace, out: TextIO, err: TextIO, stdin: TextIO) -> int:
    status = 0
    counts: dict[str, int] = {}
    write = out.write
    for where, text in _inputs(args.addresses, stdin, _progress_stream(err)):
        try:
            info = classify(text)
        except NetbasicsError as exc:
            err.write(f"{PROG} classify: {where}: {exc}\n")
            status = 1
            continue
        if args.summary:
            counts[info.category.value] = counts.get(info.category.value, 0) + 1
            continue
        write((_info_json(text, info) if args.json else _info_line(info)) + "\n")
    if args.summary:
        if args.json:
            write(json.dumps(counts, sort_keys=True) + "\n")
        else:
            for name, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
                write(f"{count:>10}  {name}\n")
    return status


def _check_one(text: str, policy: DestinationPolicy) -> tuple[list[str], UnsafeDestination | None]:
    """(addresses checked, verdict) for an address, endpoint, or name with optional port."""
    try:
        if is_valid_address(text):
            addr = parse_address(text)
            check_destination(addr, policy=policy)
            return [str(addr)], None
        try:
            endpoint = Endpoint.parse(text)
        except EndpointError:
            pass
        else:
            check_destination(endpoint, policy=policy)
            return [str(endpoint.address)], None
        target = HostPort.parse(text) if ":" in text else HostPort(text, 0)
        endpoints = resolve(target, policy=policy)
    except UnsafeDestination as exc:
        return ([] if exc.address is None else [str(exc.address)]), exc
    return [str(e.address) for e in endpoints], None


_PORT_REASONS = frozenset({UnsafeReason.PORT_DENIED, UnsafeReason.PORT_NOT_ALLOWED})


def _unsafe_words(exc: UnsafeDestination) -> str:
    """The verdict in words for the output line, from the exception's fields (never its text)."""
    if exc.host is not None and exc.reason not in _PORT_REASONS:
        return f"resolves to {exc.address}: {exc.detail}"
    return exc.detail


def _cmd_check(args: argparse.Namespace, out: TextIO, err: TextIO, stdin: TextIO) -> int:
    policy = DestinationPolicy(
        allow=args.allow,
        deny=args.deny,
        allow_loopback=args.allow_loopback,
        allow_private=args.allow_private,
        allow_link_local=args.allow_link_local,
        allowed_ports=args.ports,
    )
    status = 0
    for where, text in _inputs(args.targets, stdin):
        try:
            addresses, verdict = _check_one(text, policy)
        except (NetbasicsError, ValueError) as exc:
            err.write(f"{PROG} check: {where}: {exc}\n")
            status = 1
            continue
        if verdict is not None:
            status = 1
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
    return status


def _port_list(text: str) -> list[int]:
    try:
        return [validate_port(part) for part in text.split(",") if part]
    except PortError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _cmd_port(args: argparse.Namespace, out: TextIO, err: TextIO, stdin: TextIO) -> int:
    status = 0
    for value in args.values:
        try:
            if value.isdigit():
                port = validate_port(value)
                services = services_for_port(port, args.protocol)
                record: dict[str, object] = {
                    "input": value,
                    "port": port,
                    "range": str(port_category(port)),
                    "services": [{"name": s.name, "protocols": list(s.protocols)} for s in services],
                }
                names = ", ".join(f"{s.name} ({'/'.join(s.protocols)})" for s in services) or "-"
                line = f"{port:<6} {port_category(port)!s:<11} {names}"
            else:
                service = find_service(value, args.protocol)
                if service is None:
                    raise PortError(f"unknown service name {value!r}")
                record = {
                    "input": value,
                    "port": service.port,
                    "range": str(port_category(service.port)),
                    "services": [{"name": service.name, "protocols": list(service.protocols)}],
                }
                line = f"{value:<15} {service.port}/{'/'.join(service.protocols)}  {port_category(service.port)}"
        except NetbasicsError as exc:
            err.write(f"{PROG} port: {exc}\n")
            status = 1
            continue
        out.write((json.dumps(record) if args.json else line) + "\n")
    return status


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
    entry = net.entry
    facts["entry"] = None if entry is None else f"{entry.prefix} {entry.name} ({entry.rfc})"
    return facts


def _cmd_net(args: argparse.Namespace, out: TextIO, err: TextIO, stdin: TextIO) -> int:
    emit = (lambda obj: out.write(json.dumps(obj) + "\n")) if args.json else None
    if args.summarize:
        first, last = args.summarize
        nets = summarize_range(first, last)
        for net in nets:
            out.write((json.dumps(str(net)) if emit else str(net)) + "\n")
        return 0
    if args.collapse:
        status = 0
        items: list[str] = []
        for where, text in _inputs(args.networks or ["-"], stdin):
            try:
                parse_network(text, strict=False)
            except NetbasicsError as exc:
                err.write(f"{PROG} net: {where}: {exc}\n")
                status = 1
                continue
            items.append(text)
        for net in collapse(parse_network(t, strict=False) for t in items):
            out.write((json.dumps(str(net)) if emit else str(net)) + "\n")
        return status
    if len(args.networks) != 1:
        err.write(f"{PROG} net: give exactly one CIDR (or use --summarize / --collapse)\n")
        return 2
    net = parse_network(args.networks[0], strict=args.strict)
    if args.contains:
        status = 0
        for text in args.contains:
            inside = parse_address(text) in net
            status = status if inside else 1
            if emit:
                emit({"address": text, "network": str(net), "contains": inside})
            else:
                out.write(f"{text}: {'in' if inside else 'not in'} {net}\n")
        return status
    if args.subnets is not None:
        for sub in net.subnets(new_prefix=args.subnets):
            out.write((json.dumps(str(sub)) if emit else str(sub)) + "\n")
        return 0
    if args.hosts:
        for host in net.hosts():
            out.write((json.dumps(str(host)) if emit else str(host)) + "\n")
        return 0
    facts = _network_facts(net)
    if emit:
        emit(facts)
    else:
        for key, value in facts.items():
            out.write(f"{key + ':':<11}{'-' if value is None else value}\n")
    return 0


def _cmd_probe(args: argparse.Namespace, out: TextIO, err: TextIO, stdin: TextIO) -> int:
    status = 0
    for where, text in _inputs(args.targets, stdin):
        started = time.monotonic()
        record: dict[str, object] = {"target": text}
        try:
            with connect_tcp(text, connect_timeout=args.timeout) as conn:
                elapsed = time.monotonic() - started
                record.update(open=True, address=str(conn.remote), ms=round(elapsed * 1000, 3))
                line = f"{text}: open ({conn.remote}) in {elapsed * 1000:.1f} ms"
        except (ConnectError, NetTimeoutError) as exc:
            elapsed = time.monotonic() - started
            status = 1
            record.update(open=False, reason=str(exc), ms=round(elapsed * 1000, 3))
            line = f"{text}: closed: {exc} ({elapsed * 1000:.1f} ms)"
        except NetbasicsError as exc:
            err.write(f"{PROG} probe: {where}: {exc}\n")
            status = 1
            continue
        out.write((json.dumps(record) if args.json else line) + "\n")
        out.flush()
    return status


def _serve_handlers(mode: str, lock: threading.Lock) -> tuple[Callable[[StreamConnection], None], UDPHandler]:
    """The TCP and UDP handlers for --echo, --discard or --print."""
    sink = sys.stdout.buffer

    def show(data: bytes) -> None:
        with lock:
            sink.write(data)
            sink.flush()

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
    tcp_handler, udp_handler = _serve_handlers(args.mode, threading.Lock())
    server: TCPServer | UDPServer
    if args.protocol == "tcp":
        server = TCPServer(args.bind, tcp_handler, idle_timeout=args.idle_timeout)
    else:
        server = UDPServer(args.bind, udp_handler)
    stop = threading.Event()
    # SIGINT (Ctrl-C) and SIGTERM both ask for a clean stop; the main thread waits on
    # the event and then stops the server, which joins its threads.
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with server:
            out.write(f"listening on {args.protocol} {server.endpoint}\n")
            out.flush()
            while not stop.wait(0.2):
                pass
            err.write(f"{PROG} serve: stopping\n")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def _read_payload(args: argparse.Namespace, stdin: TextIO) -> bytes:
    if args.data is None or args.data == "-":
        raw = getattr(stdin, "buffer", None)
        return bytes(raw.read()) if raw is not None else stdin.read().encode()
    return str(args.data).encode()


def _cmd_send(args: argparse.Namespace, out: TextIO, err: TextIO, stdin: TextIO) -> int:
    payload = _read_payload(args, stdin)
    sink = out.buffer if hasattr(out, "buffer") else None
    if args.protocol == "udp":
        reply = udp_request(args.target, payload, timeout=args.timeout, retries=args.retries).data
    else:
        chunks: list[bytes] = []
        with connect_tcp(args.target, connect_timeout=args.timeout, timeout=args.timeout) as conn:
            conn.send_all(payload)
            conn.shutdown_write()
            try:
                for chunk in iter(conn.recv, b""):
                    chunks.append(chunk)
            except NetTimeoutError:
                pass  # the peer kept the connection open: print what came back in time
        reply = b"".join(chunks)
    if sink is not None:
        sink.write(reply)
        sink.flush()
    else:
        out.write(reply.decode("utf-8", "replace"))
    return 0


def _prefix_length(text: str) -> int:
    try:
        value = int(text.removeprefix("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a prefix length: {text!r}") from None
    if not 0 <= value <= 128:
        raise argparse.ArgumentTypeError(f"prefix length {value} out of range")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Everyday network checks: classify addresses, ports, networks, probe and serve.",
        epilog="Exit status: 0 ok, 1 some inputs bad or unreachable, 2 usage error.",
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser(
        "classify",
        help="classify IP addresses by the IANA special-purpose registries",
        description="Classify IPv4/IPv6 addresses. Use - to read one address per line from stdin.",
    )
    p.add_argument("addresses", nargs="+", metavar="ADDRESS", help="an address, or - for stdin")
    p.add_argument("--json", action="store_true", help="print one JSON object per line")
    p.add_argument("--summary", action="store_true", help="print counts per category instead of one line each")
    p.set_defaults(func=_cmd_classify)

    p = sub.add_parser(
        "check",
        help="is it safe to connect to these destinations? (SSRF guard)",
        description="Check addresses, endpoints or host names against the destination policy. "
        "Names are resolved once and every answer is checked. Exit 1 if any is unsafe.",
    )
    p.add_argument("targets", nargs="+", metavar="ADDRESS|HOST[:PORT]", help="a destination, or - for stdin")
    p.add_argument("--json", action="store_true", help="print one JSON object per line")
    p.add_argument("--allow", action="append", default=[], metavar="NET", help="always allow this network")
    p.add_argument("--deny", action="append", default=[], metavar="NET", help="always deny this network")
    p.add_argument("--allow-loopback", action="store_true", help="treat loopback as safe")
    p.add_argument("--allow-private", action="store_true", help="treat RFC 1918 / ULA as safe")
    p.add_argument("--allow-link-local", action="store_true", help="treat link-local as safe")
    p.add_argument("--ports", type=_port_list, default=None, metavar="P1,P2", help="only these ports are safe")
    p.set_defaults(func=_cmd_check)

    p = sub.add_parser(
        "port",
        help="port ranges and IANA service names",
        description="For numbers: the range (well-known, registered, dynamic) and service names. For names: the port.",
    )
    p.add_argument("values", nargs="+", metavar="PORT|NAME")
    p.add_argument("--protocol", choices=["tcp", "udp", "sctp", "dccp"], default=None, help="only this protocol")
    p.add_argument("--json", action="store_true", help="print one JSON object per line")
    p.set_defaults(func=_cmd_port)

    p = sub.add_parser(
        "net",
        help="network (CIDR) facts, subnets, membership, summarize and collapse",
        description="Show facts about a network, or list its subnets or hosts, test membership, "
        "summarize an address range, or collapse a list of prefixes.",
    )
    p.add_argument("networks", nargs="*", metavar="CIDR", help="a network; with --collapse, prefixes or - for stdin")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--subnets", type=_prefix_length, metavar="N", help="list the subnets of prefix length N")
    mode.add_argument("--contains", nargs="+", metavar="ADDR", help="is each address in the network? (exit 1 if not)")
    mode.add_argument("--hosts", action="store_true", help="list the usable host addresses")
    mode.add_argument("--summarize", nargs=2, metavar=("FIRST", "LAST"), help="the CIDRs covering FIRST..LAST")
    mode.add_argument("--collapse", action="store_true", help="merge prefixes (arguments, or - for stdin)")
    p.add_argument("--no-strict", dest="strict", action="store_false", help="allow host bits (mask them)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_cmd_net)

    p = sub.add_parser(
        "probe",
        help="is a TCP port open? (like nc -z)",
        description="Try a TCP connection to each HOST:PORT and report open or closed with the time "
        "taken. Exit 0 only if all are open.",
    )
    p.add_argument("targets", nargs="+", metavar="HOST:PORT", help="a target, or - for stdin")
    p.add_argument("--timeout", type=float, default=3.0, metavar="S", help="connect timeout in seconds (3)")
    p.add_argument("--json", action="store_true", help="print one JSON object per line")
    p.set_defaults(func=_cmd_probe)

    p = sub.add_parser(
        "serve",
        help="run a small TCP or UDP server for tests",
        description="Serve on ENDPOINT (default 127.0.0.1:0, a free port) until Ctrl-C or SIGTERM. "
        "The first line printed is the bound endpoint.",
    )
    p.add_argument("protocol", choices=["tcp", "udp"])
    p.add_argument("--bind", default="127.0.0.1:0", metavar="ENDPOINT", help="address:port to bind")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--echo", dest="mode", action="store_const", const="echo", help="send back what arrives")
    mode.add_argument("--discard", dest="mode", action="store_const", const="discard", help="read and drop")
    mode.add_argument("--print", dest="mode", action="store_const", const="print", help="write what arrives to stdout")
    p.add_argument("--idle-timeout", type=float, default=60.0, metavar="S", help="TCP: drop silent clients after S s")
    p.set_defaults(func=_cmd_serve, mode="echo")

    p = sub.add_parser(
        "send",
        help="send data and print the reply (like nc)",
        description="Send DATA (or stdin with - or no DATA) to HOST:PORT and print the reply. TCP half-closes "
        "after sending and prints until the peer closes or the timeout passes; UDP waits for one reply, "
        "retrying on silence.",
    )
    p.add_argument("protocol", choices=["tcp", "udp"])
    p.add_argument("target", metavar="HOST:PORT")
    p.add_argument("data", nargs="?", default=None, metavar="DATA", help="text to send, or - for stdin")
    p.add_argument("--timeout", type=float, default=5.0, metavar="S", help="seconds to wait (5)")
    p.add_argument("--retries", type=int, default=2, metavar="N", help="UDP: resend this many times (2)")
    p.set_defaults(func=_cmd_send)
    return parser


def main(argv: Iterable[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(None if argv is None else list(argv))
    try:
        status: int = args.func(args, sys.stdout, sys.stderr, sys.stdin)
        sys.stdout.flush()
    except NetbasicsError as exc:
        sys.stderr.write(f"{PROG} {args.command}: {exc}\n")
        return 1
    except BrokenPipeError:
        # The reader went away (``| head``): stop quietly, as Unix tools do. Point stdout
        # at /dev/null so the interpreter's final flush does not raise again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        return 130
    return status
