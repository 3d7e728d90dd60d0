"""The curated public namespace: everything in ``netbasics.__all__`` and nothing private."""

from __future__ import annotations

import enum
import importlib
import inspect
import pkgutil
import types

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


@pytest.mark.parametrize("name", PUBLIC)
def test_classes_and_functions_claim_the_package(name: str) -> None:
    obj = getattr(netbasics, name)
    # Python 3.10's inspect.isclass is true for a parametrised alias such as
    # ConnectionHandler (Callable[...]), whose __module__ cannot be set: aliases are skipped.
    if (inspect.isclass(obj) and not isinstance(obj, types.GenericAlias)) or inspect.isfunction(obj):
        assert obj.__module__ == "netbasics", f"{name}.__module__ is {obj.__module__}"
        doc = inspect.getdoc(obj)
        assert doc, f"{name} has no docstring"
        assert doc.splitlines()[0].strip(), f"{name} docstring has no summary line"


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
    assert core in ([], ["classify.registry_entry"]), f"defined in a core module but not exported: {core}"


def test_errors_hierarchy() -> None:
    for name in netbasics.__all__:
        obj = getattr(netbasics, name)
        if inspect.isclass(obj) and issubclass(obj, BaseException):
            assert issubclass(obj, netbasics.NetbasicsError), name
    assert issubclass(netbasics.AddressError, ValueError)


def test_version() -> None:
    assert isinstance(netbasics.__version__, str)
    assert "__version__" not in netbasics.__all__
