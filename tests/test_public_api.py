"""The curated public namespace: everything in ``netbasics.__all__`` and nothing private."""

from __future__ import annotations

import ast
import enum
import importlib
import inspect
import pkgutil
import re
import types
from pathlib import Path

import pytest

import netbasics

PUBLIC = list(netbasics.__all__)

# The address core's names, which this project promises to keep (issue 2).
CORE_NAMES = {
    "AddressCategory",
    "AddressError",
    "AddressInfo",
    "IPv4Address",
    "IPv6Address",
    "NetbasicsError",
    "REGISTRY_DATE",
    "RegistryEntry",
    "classify",
    "is_valid_address",
    "parse_address",
    "parse_ipv4",
    "parse_ipv6",
}


def _isort_key(name: str) -> tuple[int, str]:
    # ruff RUF022's "isort-style" order: CONSTANTS, then Classes, then everything else.
    return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)


def test_all_is_sorted_and_unique() -> None:
    assert netbasics.__all__ == sorted(netbasics.__all__, key=_isort_key)
    assert len(set(netbasics.__all__)) == len(netbasics.__all__)


def test_core_names_are_exported() -> None:
    assert set(netbasics.__all__) >= CORE_NAMES


@pytest.mark.parametrize("name", PUBLIC)
def test_name_exists_and_is_public(name: str) -> None:
    assert hasattr(netbasics, name)
    assert not name.startswith("_")


PACKAGE_DIR = Path(netbasics.__file__).parent


def _defining_module(name: str, module: str = "netbasics") -> tuple[str, ast.Module]:
    """Follow ``from .x import name`` re-exports to the module that assigns ``name``."""
    path = PACKAGE_DIR.joinpath(*module.split(".")[1:])
    path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.level:
            for alias in node.names:
                if (alias.asname or alias.name) == name:
                    base = module if path.name == "__init__.py" else module.rpartition(".")[0]
                    for _ in range(node.level - 1):
                        base = base.rpartition(".")[0]
                    target = f"{base}.{node.module}" if node.module else base
                    return _defining_module(alias.name, target)
    return module, tree


def _attribute_docstring(name: str) -> str | None:
    """The documentation of a module-level constant or type alias, from its source.

    A string literal right after the assignment (what mkdocstrings shows) or ``#:``
    comment lines right before it (what Sphinx reads); such values cannot carry
    ``__doc__`` or ``__module__`` themselves.
    """
    module, tree = _defining_module(name)
    lines = (PACKAGE_DIR.parent / (module.replace(".", "/") + ".py")).read_text(encoding="utf-8").splitlines()
    for i, node in enumerate(tree.body):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
        if not any(isinstance(t, ast.Name) and t.id == name for t in targets):
            continue
        following = tree.body[i + 1] if i + 1 < len(tree.body) else None
        if isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant):
            return str(following.value.value)
        comments: list[str] = []
        line = node.lineno - 2
        while line >= 0 and lines[line].lstrip().startswith("#:"):
            comments.insert(0, lines[line].lstrip()[2:].strip())
            line -= 1
        return " ".join(comments) or None
    return None


@pytest.mark.parametrize("name", PUBLIC)
def test_every_public_name_is_documented_and_claims_the_package(name: str) -> None:
    obj = getattr(netbasics, name)
    # Python 3.10's inspect.isclass is true for a parametrised alias such as
    # ConnectionHandler (Callable[...]), whose __module__ cannot be set: aliases are skipped.
    if (inspect.isclass(obj) and not isinstance(obj, types.GenericAlias)) or inspect.isfunction(obj):
        assert obj.__module__ == "netbasics", f"{name}.__module__ is {obj.__module__}"
        doc = inspect.getdoc(obj)
    else:
        # Constants and type aliases (str, int, typing objects) have no __module__ of
        # their own to claim; they must be assigned, and documented, in the package.
        module, _ = _defining_module(name)
        assert module.startswith("netbasics"), f"{name} is defined outside the package, in {module}"
        doc = _attribute_docstring(name)
    assert doc, f"{name} has no docstring"
    assert doc.splitlines()[0].strip(), f"{name} docstring has no summary line"


# Names that API 1.0 removed or renamed (issue 15): nothing was released, so no aliases.
REMOVED = [
    "PortRange",  # -> PortCategory
    "classify_port",  # -> port_category
    "NetworkError",  # -> CIDRError
    "TCPConnection",  # -> StreamConnection
    "lookup_port",  # -> parse_port
    "service_name",  # -> services_for_port(port, protocol)[0].name
    "service_port",  # -> parse_port(name) or find_service(name).port
    "open",  # udp.open -> open_udp
    "connect",  # tcp.connect -> connect_tcp
    "request",  # udp.request -> udp_request
]


@pytest.mark.parametrize("name", REMOVED)
def test_removed_names_are_gone(name: str) -> None:
    assert name not in netbasics.__all__
    assert not hasattr(netbasics, name)
    for info in pkgutil.iter_modules(netbasics.__path__):
        module = importlib.import_module(f"netbasics.{info.name}")
        assert name not in getattr(module, "__all__", []), f"netbasics.{info.name} still lists {name}"


def test_removed_attributes_are_gone() -> None:
    # One way to parse each type: the parse_* functions, not classmethods.
    for cls in (netbasics.Endpoint, netbasics.HostPort, netbasics.AddressRange):
        assert not hasattr(cls, "parse"), f"{cls.__name__}.parse"
    assert not hasattr(netbasics.AddressInfo, "globally_reachable")


PARSERS = {
    "parse_address": netbasics.Address,
    "parse_ipv4": netbasics.IPv4Address,
    "parse_ipv6": netbasics.IPv6Address,
    "parse_network": netbasics.Network,
    "parse_range": netbasics.AddressRange,
    "parse_endpoint": netbasics.Endpoint,
    "parse_host_port": netbasics.HostPort,
    "parse_port": int,
}


@pytest.mark.parametrize(("name", "result"), PARSERS.items())
def test_every_text_form_has_one_parse_function(name: str, result: object) -> None:
    assert name in netbasics.__all__
    hints = inspect.get_annotations(getattr(netbasics, name), eval_str=True)
    assert hints["return"] == result, f"{name} returns {hints['return']}"


def test_no_public_class_has_a_parse_classmethod() -> None:
    for name in PUBLIC:
        obj = getattr(netbasics, name)
        if inspect.isclass(obj):
            assert "parse" not in vars(obj), f"{name}.parse: use a module-level parse_* function"


@pytest.mark.parametrize("name", [n for n in PUBLIC if inspect.isclass(getattr(netbasics, n))])
def test_public_methods_have_docstrings(name: str) -> None:
    cls = getattr(netbasics, name)
    if issubclass(cls, BaseException) or issubclass(cls, enum.Enum):
        return
    for attr, value in vars(cls).items():
        if attr.startswith("_"):
            continue
        if callable(value) or isinstance(value, (property, classmethod, staticmethod)):
            assert inspect.getdoc(getattr(cls, attr)), f"{name}.{attr} has no docstring"


def test_nothing_private_is_exported() -> None:
    for name in netbasics.__all__:
        obj = getattr(netbasics, name)
        assert not getattr(obj, "__name__", name).rpartition(".")[2].startswith("_"), name
        if inspect.ismodule(obj):
            assert obj.__name__ == f"netbasics.{name}", name


def test_public_names_come_from_the_package() -> None:
    """Every public module-level function or class defined in a submodule's __all__ is re-exported."""
    missing = []
    for info in pkgutil.iter_modules(netbasics.__path__):
        if info.name.startswith("_") or info.name in {"cli"}:
            continue
        module = importlib.import_module(f"netbasics.{info.name}")
        for name in getattr(module, "__all__", []):
            if name not in netbasics.__all__:
                missing.append(f"{info.name}.{name}")
    # Submodules may keep helpers in __all__ that are not (yet) exported; the address
    # core must not.
    core = [m for m in missing if m.split(".")[0] in {"addresses", "classify", "errors"}]
    assert core == [], f"defined in a core module but not exported: {core}"


def test_errors_hierarchy() -> None:
    for name in netbasics.__all__:
        obj = getattr(netbasics, name)
        if inspect.isclass(obj) and issubclass(obj, BaseException):
            assert issubclass(obj, netbasics.NetbasicsError), name
    assert issubclass(netbasics.AddressError, ValueError)


def test_version() -> None:
    assert isinstance(netbasics.__version__, str)
    assert "__version__" not in netbasics.__all__


def test_changelog_has_a_dated_section_for_this_version() -> None:
    # Keep a Changelog: an Unreleased section on top, then one "## [X.Y.Z] - YYYY-MM-DD" per
    # release, newest first, the first of them this package's version; each linked at the end.
    changelog = Path(__file__).resolve().parent.parent / "CHANGELOG.md"
    text = changelog.read_text(encoding="utf-8")
    headings = re.findall(r"^## \[([^\]]+)\](.*)$", text, flags=re.MULTILINE)
    assert headings[0] == ("Unreleased", "")
    version, rest = headings[1]
    assert version == netbasics.__version__
    assert re.fullmatch(r" - \d{4}-\d{2}-\d{2}", rest)
    for name, _ in headings:
        assert re.search(rf"^\[{re.escape(name)}\]: https://", text, flags=re.MULTILINE), name
