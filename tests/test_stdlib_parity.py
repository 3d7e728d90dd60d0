"""docs/differences.md lists every stdlib ``ipaddress`` name that netbasics does not provide as is.

The walk covers the public attributes of the six stdlib value classes and the public
names of the ``ipaddress`` module on the running Python (3.13 added ``ipv6_mapped``, for
example). Each must exist under the same name on the netbasics class or module, or be a
row of the table under "Every `ipaddress` name", whose netbasics column names things that
exist. Rows for names that netbasics does provide are stale and fail too.
"""

from __future__ import annotations

import inspect
import ipaddress
import re
from pathlib import Path

import pytest

import netbasics

DOC = Path(__file__).resolve().parent.parent / "docs" / "differences.md"
HEADING = "## Every `ipaddress` name"
CLASSES = ["IPv4Address", "IPv6Address", "IPv4Network", "IPv6Network", "IPv4Interface", "IPv6Interface"]
# The module functions the issue names; the walk below also takes every other public name.
FUNCTIONS = [
    "ip_address",
    "ip_network",
    "ip_interface",
    "summarize_address_range",
    "collapse_addresses",
    "get_mixed_type_key",
    "v4_int_to_packed",
    "v6_int_to_packed",
]


def _table() -> dict[str, list[str]]:
    """``{stdlib name: [netbasics names]}`` from the table's first two columns."""
    text = DOC.read_text(encoding="utf-8")
    assert HEADING in text, f"{DOC.name} has no section {HEADING!r}"
    section = text.split(HEADING, 1)[1].split("\n## ", 1)[0]
    rows: dict[str, list[str]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not cells[0].startswith("`") or cells[0] == "`ipaddress` name":
            continue
        name = cells[0].strip("`")
        assert name not in rows, f"{name} is listed twice"
        assert cells[2], f"{name} has no reason"
        rows[name] = re.findall(r"`([^`]+)`", cells[1])
    return rows


TABLE = _table()


def _stdlib_names() -> list[str]:
    """Every public stdlib name to account for, as ``Class.attr`` or a module-level name."""
    names = [f"{cls}.{attr}" for cls in CLASSES for attr in dir(getattr(ipaddress, cls)) if not attr.startswith("_")]
    module = [
        n
        for n in dir(ipaddress)
        if not n.startswith("_") and n not in CLASSES and not inspect.ismodule(getattr(ipaddress, n))
    ]
    assert set(FUNCTIONS) <= set(module)
    return names + module


def _provided(name: str) -> bool:
    """Whether netbasics has the stdlib name under the same name."""
    owner, _, attr = name.rpartition(".")
    target = getattr(netbasics, owner) if owner else netbasics
    return hasattr(target, attr)


def _resolve(dotted: str) -> object:
    obj: object = netbasics
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


@pytest.mark.parametrize("name", _stdlib_names())
def test_stdlib_name_is_provided_or_documented(name: str) -> None:
    if _provided(name):
        return
    assert name in TABLE, f"ipaddress {name} is neither provided by netbasics nor listed in {DOC.name}"


@pytest.mark.parametrize("name", sorted(TABLE))
def test_table_rows_are_true(name: str) -> None:
    # Not stale: netbasics does not have the name after all.
    assert not _provided(name), f"{name} is listed in {DOC.name} but netbasics provides it"
    owner = name.rpartition(".")[0]
    assert owner in ("", *CLASSES), name
    # (A row may name an attribute of a newer Python than this one, so it is not looked up.)
    # What to use instead exists.
    replacements = TABLE[name]
    assert replacements, f"{name}: the netbasics column names nothing"
    for dotted in replacements:
        _resolve(dotted)


def test_every_class_and_function_is_walked() -> None:
    names = _stdlib_names()
    for cls in CLASSES:
        assert any(n.startswith(cls + ".") for n in names)
        assert hasattr(netbasics, cls)
    assert set(FUNCTIONS) <= set(names)
