"""tools/gen_services.py, which writes src/netbasics/_data/services.py from IANA's CSV.

Two checks: on a small CSV in IANA's layout (tests/data/service-names-sample.csv) the
tool applies each of its rules; and fed the committed table's rows written back as IANA
CSV records, it writes the committed file again, row for row and byte for byte after
the docstring, so the committed data is what the tool makes of its input.
"""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from netbasics._data import services

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "tests" / "data" / "service-names-sample.csv"
IANA_COLUMNS = [
    "Service Name",
    "Port Number",
    "Transport Protocol",
    "Description",
    "Assignee",
    "Contact",
    "Registration Date",
    "Modification Date",
    "Reference",
    "Service Code",
    "Unauthorized Use Reported",
    "Assignment Notes",
]


@pytest.fixture(scope="module")
def tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_services", ROOT / "tools" / "gen_services.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _after_docstring(text: str) -> str:
    return text[text.index("\n# The rows stay one per line") :]


def _committed_as_records() -> list[dict[str, str]]:
    """The committed rows as IANA CSV records: one per name, port and protocol; aliases are the tool's."""
    return [
        dict.fromkeys(IANA_COLUMNS, "")
        | {"Service Name": name, "Port Number": str(port), "Transport Protocol": protocol, "Description": description}
        for name, port, protocols, _, description in services.SERVICES
        for protocol in protocols.split()
    ]


def test_sample_is_in_iana_layout(tool: ModuleType) -> None:
    with SAMPLE.open(newline="", encoding="utf-8") as f:
        assert next(csv.reader(f)) == IANA_COLUMNS


def test_rules_on_the_sample(tool: ModuleType) -> None:
    rows = tool.build_rows(tool.read_records(SAMPLE))
    assert rows == [
        # Unassigned and reserved records (no name) are skipped; protocols are merged.
        ("tcpmux", 1, "tcp udp", "", "TCP Port Service Multiplexer"),
        # The registry's alias records fold into their row and the tool's aliases are added.
        ("http", 80, "tcp udp sctp", "www www-http", "World Wide Web HTTP"),
        # ident is an alias of auth on 113; a record without description takes the next one's.
        ("auth", 113, "tcp udp", "ident authentication tap", "Authentication Service"),
        # PRIMARY puts submissions first on 465; the others keep the registry's order.
        ("submissions", 465, "tcp", "ssmtp smtps", "Message Submission over TLS protocol"),
        ("urd", 465, "tcp", "", "URL Rendezvous Directory for SSM"),
        ("igmpv3lite", 465, "udp", "", "IGMP over UDP for SSM"),
        # A range is one row per port; whitespace in a cell collapses to one space.
        ("x11", 6000, "tcp udp", "x11-0", "X Window System"),
        ("x11", 6001, "tcp udp", "x11-1", "X Window System"),
        ("x11", 6002, "tcp udp", "x11-2", "X Window System"),
        ("quoted", 7000, "tcp", "", 'the "quoted" service'),
        # A DNS-SD name without a port is not a row.
    ]


def test_rendered_module_is_valid_and_round_trips(tool: ModuleType) -> None:
    rows = tool.build_rows(tool.read_records(SAMPLE))
    text = tool.render(rows, "2030-01-02")
    namespace: dict[str, object] = {}
    exec(compile(text, "services.py", "exec"), namespace)
    assert namespace["SERVICES"] == tuple(rows)
    assert namespace["SERVICES_DATE"] == "2030-01-02"
    assert namespace["PREFERRED_PORTS"] == {"http-alt": 8080}
    assert """("quoted", 7000, "tcp", "", 'the "quoted" service'),""" in text
    assert "2030-01-02" in str(namespace["__doc__"])


def test_regenerates_the_committed_rows(tool: ModuleType) -> None:
    rows = tool.build_rows(_committed_as_records())
    assert rows == list(services.SERVICES)
    assert tool.PREFERRED_PORTS == services.PREFERRED_PORTS
    committed = Path(services.__file__).read_text(encoding="utf-8")
    assert _after_docstring(tool.render(rows, services.SERVICES_DATE)) == _after_docstring(committed)


def test_main_writes_the_file(tool: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "services.py"
    assert tool.main([str(SAMPLE), "--date", "2030-01-02", "--output", str(out)]) == 0
    assert 'SERVICES_DATE: Final = "2030-01-02"' in out.read_text(encoding="utf-8")
    assert tool.main([str(SAMPLE), "--date", "2030-01-02", "--output", "-"]) == 0
    assert capsys.readouterr().out == out.read_text(encoding="utf-8")


def test_refuses_a_csv_of_another_shape(tool: ModuleType, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("Name,Port\nhttp,80\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="missing columns"):
        tool.main([str(bad), "--date", "2030-01-02", "--output", str(tmp_path / "out.py")])


def test_tool_docstring_says_how_to_refresh(tool: ModuleType) -> None:
    doc = tool.__doc__ or ""
    assert "service-names-port-numbers.csv" in doc
    assert "--date" in doc
