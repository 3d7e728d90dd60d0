"""Write ``src/netbasics/_data/services.py`` from IANA's service-name registry CSV.

Refreshing the table (needs nothing but Python 3.10+, no network access by the tool)::

    curl -O https://www.iana.org/assignments/service-names-port-numbers/service-names-port-numbers.csv
    python3 tools/gen_services.py service-names-port-numbers.csv --date YYYY-MM-DD
    python3 -m pytest tests/test_ports.py tests/test_gen_services.py

``--date`` is the registry's "Last Updated" date (the top of
https://www.iana.org/assignments/service-names-port-numbers/); it becomes
``SERVICES_DATE``. ``--output`` writes somewhere else than the package (``-`` for
stdout). Review the diff of the data file before committing it, and update
``SERVICES_DATE`` in ``netbasics/ports.py`` to match (a test checks they agree).

What the tool does with the CSV (columns "Service Name", "Port Number", "Transport
Protocol", "Description"; the others are ignored):

* Records without a service name (unassigned and reserved ports) or without a port
  (service names registered for DNS-SD only) are skipped.
* A name's records for one port are one row; its protocols are listed in the order
  tcp, udp, sctp, dccp; the description is that of the first record that has one.
* A port range (``6000-6063``) becomes one row per port.
* Rows are sorted by port; within a port they keep the registry's order, so the first
  row for a port and protocol is the primary name (first in ``services_for_port``), except
  where :data:`PRIMARY` names another.
* :data:`ALIASES` adds aliases: the registry's own alias records (``www`` and
  ``www-http`` for http, ...), folded into the row they alias, and the traditional names
  of Debian netbase's ``/etc/services`` for the same port and protocol (``postgres``,
  ``imap2``, ...). A record whose name is listed as an alias on its port is not a row of
  its own (so on 113/tcp, where the registry lists ``ident`` and ``auth``, ``auth`` is
  the row, as on udp, in RFC 1413 and in every services file). A netbase name is left out
  where it names a different service (``fsp`` on 21/udp, ``bbs`` on 7000/tcp, ``rptp`` on
  5556, ``syslog`` on 514/tcp) or is another row's primary name.

Not part of the package and not needed at run time; tests/test_gen_services.py runs it.
"""

from __future__ import annotations

import argparse
import csv
import sys
import textwrap
from collections.abc import Iterable
from pathlib import Path

OUTPUT = Path(__file__).resolve().parent.parent / "src" / "netbasics" / "_data" / "services.py"

PROTOCOL_ORDER = ("tcp", "udp", "sctp", "dccp")

#: Aliases by (primary name, port), space-separated, in the order they are listed.
ALIASES: dict[tuple[str, int], str] = {
    ("discard", 9): "sink null",
    ("systat", 11): "users",
    ("qotd", 17): "quote",
    ("chargen", 19): "ttytst source",
    ("smtp", 25): "mail",
    ("time", 37): "timserver",
    ("name", 42): "nameserver",
    ("nicname", 43): "whois",
    ("whoispp", 63): "whois++",
    ("sql-net", 66): "sql*net",
    ("http", 80): "www www-http",
    ("kerberos", 88): "kerberos5 krb5 kerberos-sec",
    ("iso-tsap", 102): "tsap",
    ("pop3", 110): "pop-3",
    ("sunrpc", 111): "portmapper",
    ("auth", 113): "ident authentication tap",
    ("nntp", 119): "readnews untp",
    ("epmap", 135): "loc-srv",
    ("imap", 143): "imap2",
    ("snmptrap", 162): "snmp-trap",
    ("cl-1", 172): "cl/1",
    ("z39-50", 210): "z3950 wais z39.50",
    ("914c-g", 211): "914c/g",
    ("submissions", 465): "ssmtp smtps",
    ("comsat", 512): "biff",
    ("who", 513): "whod",
    ("shell", 514): "cmd",
    ("printer", 515): "spooler",
    ("router", 520): "route routed",
    ("uucp", 540): "uucpd",
    ("kshell", 544): "krcmd",
    ("nntps", 563): "snntp",
    ("lotusnote", 1352): "lotusnotes",
    ("sightline", 1645): "datametrics old-radius",
    ("sa-msg-port", 1646): "old-radacct",
    ("l2f", 1701): "l2tp",
    ("radius-acct", 1813): "radacct",
    ("gds-db", 3050): "gds_db",
    ("svn", 3690): "subversion",
    ("sips", 5061): "sip-tls",
    ("xmpp-client", 5222): "jabber-client",
    ("xmpp-server", 5269): "jabber-server",
    ("postgresql", 5432): "postgres",
    ("x11", 6000): "x11-0",
    ("x11", 6001): "x11-1",
    ("x11", 6002): "x11-2",
    ("x11", 6003): "x11-3",
    ("x11", 6004): "x11-4",
    ("x11", 6005): "x11-5",
    ("x11", 6006): "x11-6",
    ("x11", 6007): "x11-7",
    ("sge-qmaster", 6444): "sge_qmaster",
    ("sge-execd", 6445): "sge_execd",
    ("font-service", 7100): "xfs",
    ("http-alt", 8080): "webcache",
}

#: Ports whose primary name is not the registry's first: 465/tcp is ``submissions``
#: (RFC 8314 section 7.3), listed by the registry after ``urd``.
PRIMARY: dict[int, str] = {465: "submissions"}

#: Names on several ports that resolve to another than the lowest. ``http-alt`` is
#: registered on 591 (FileMaker), 8008 and 8080; every tool and services file means 8080.
PREFERRED_PORTS: dict[str, int] = {"http-alt": 8080}

Row = tuple[str, int, str, str, str]

HEADER = '''"""The IANA service-name and port-number registry, as data (no code, no I/O).

Written by tools/gen_services.py from the registry's CSV; do not edit by hand: the tool's
docstring says how to refresh it. Source: the IANA "Service Name and Transport Protocol
Port Number Registry" (https://www.iana.org/assignments/service-names-port-numbers/), as
of {date}. Every named assignment is here, tcp, udp, sctp and dccp: the whole well-known
range and every registered port (IANA assigns nothing in the dynamic range, 49152-65535).
{provenance}
Shape of the data. One row per service and port: ``(name, port, protocols, aliases,
description)``, with ``protocols`` and ``aliases`` as space-separated words. Rows are
sorted by port; where the registry gives one port and protocol to several names, the
first row is the primary name (the first that :func:`netbasics.services_for_port` gives). The two
ranges the registry assigns as a block (x11 6000-6063, ircu 6665-6669) are one row per
port.

Aliases are the registry's own alias entries (``www`` and ``www-http`` for http,
``nameserver``, ``whois++``, ...) and the traditional names of Debian netbase's
``/etc/services`` for the same port and protocol (``whois``, ``postgres``, ``imap2``,
``x11-1``, ...); ``submissions`` (RFC 8314 section 7.3) is the primary name of 465/tcp.
The tool's ``ALIASES`` and ``PRIMARY`` tables list them.

A name the registry gives to several ports (``mit-ml-dev`` 83 and 85, ``pip`` 321 and
1321, ...) resolves to the lowest of them, as ``getservbyname`` does with a services
file in port order, except where :data:`PREFERRED_PORTS` says otherwise.

netbasics never reads ``/etc/services`` (a slim container has none); this table is the
only source. :mod:`netbasics.ports` builds its lookup dicts from it on first use.
"""

# The rows stay one per line, like the registry, however long the description.
# ruff: noqa: E501

from __future__ import annotations

from typing import Final

__all__ = ["PREFERRED_PORTS", "SERVICES", "SERVICES_DATE"]

#: Date of the IANA service-name registry snapshot in :data:`SERVICES`.
SERVICES_DATE: Final = "{date}"

#: Names on several ports that resolve to another than the lowest. ``http-alt`` is
#: registered on 591 (FileMaker), 8008 and 8080; every tool and services file means 8080.
PREFERRED_PORTS: Final[dict[str, int]] = {preferred}

# fmt: off
SERVICES: Final[tuple[tuple[str, int, str, str, str], ...]] = (
'''

FOOTER = """)
# fmt: on
"""


def read_records(path: Path) -> list[dict[str, str]]:
    """The records of IANA's service-names-port-numbers.csv, by column name."""
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = {"Service Name", "Port Number", "Transport Protocol", "Description"} - set(reader.fieldnames or ())
        if missing:
            raise SystemExit(f"{path}: not IANA's service-name CSV, missing columns {sorted(missing)}")
        return list(reader)


def _ports(text: str) -> range:
    """``"80"`` or ``"6000-6063"`` as a range of ports; empty for no port."""
    text = text.strip()
    if not text:
        return range(0)
    first, _, last = text.partition("-")
    return range(int(first), int(last or first) + 1)


def build_rows(records: Iterable[dict[str, str]]) -> list[Row]:
    """The table's rows from the registry's records (see the module docstring)."""
    alias_of = {(alias, port): name for (name, port), words in ALIASES.items() for alias in words.split()}
    order: list[tuple[str, int]] = []
    protocols: dict[tuple[str, int], set[str]] = {}
    descriptions: dict[tuple[str, int], str] = {}
    for record in records:
        name = record["Service Name"].strip()
        protocol = record["Transport Protocol"].strip().lower()
        if not name or protocol not in PROTOCOL_ORDER:
            continue
        description = " ".join(record["Description"].split())
        for port in _ports(record["Port Number"]):
            key = (alias_of.get((name, port), name), port)
            if key not in protocols:
                order.append(key)
                protocols[key] = set()
            protocols[key].add(protocol)
            if not descriptions.get(key):
                descriptions[key] = description
    # A stable sort: within a port, the registry's order; then the named primary first.
    order.sort(key=lambda key: (key[1], key[0] != PRIMARY.get(key[1])))
    return [
        (
            name,
            port,
            " ".join(p for p in PROTOCOL_ORDER if p in protocols[(name, port)]),
            ALIASES.get((name, port), ""),
            descriptions[(name, port)],
        )
        for name, port in order
    ]


def _literal(text: str) -> str:
    """A str literal as ruff format writes it: double quotes, unless only they need escaping.

    Cells are single lines (whitespace is collapsed on reading), so only quotes and
    backslashes need escaping.
    """
    if '"' in text and "'" not in text:
        return "'" + text.replace("\\", "\\\\") + "'"
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render(rows: list[Row], date: str, provenance: str = "") -> str:
    """The text of the data module; ``provenance``, if given, is a paragraph on where the rows came from."""
    if provenance:
        provenance = "\n" + textwrap.fill(provenance, width=88) + "\n"
    preferred = "{" + ", ".join(f"{_literal(k)}: {v}" for k, v in PREFERRED_PORTS.items()) + "}"
    lines = [HEADER.format(date=date, provenance=provenance, preferred=preferred)]
    for name, port, protocols, aliases, description in rows:
        fields = ", ".join([_literal(name), str(port), _literal(protocols), _literal(aliases), _literal(description)])
        lines.append(f"    ({fields}),\n")
    lines.append(FOOTER)
    return "".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("csv", type=Path, help="IANA's service-names-port-numbers.csv")
    parser.add_argument("--date", required=True, help="the registry's Last Updated date, YYYY-MM-DD")
    parser.add_argument("--output", default=str(OUTPUT), help="where to write the module ('-' for stdout)")
    args = parser.parse_args(argv)
    text = render(build_rows(read_records(args.csv)), args.date)
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
