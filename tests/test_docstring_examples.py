"""Run every ``>>>`` example in the docstrings of the imported package.

The examples are collected from the ``netbasics`` that is imported, not from files under
``src/``: the same tests then run against an editable checkout and against an installed
wheel (pytest's ``--doctest-modules`` on ``src/`` would import a second copy there).
Modules, their functions and class docstrings come from doctest's own finder; it skips the
members of a class whose ``__module__`` is not the module being scanned, and the public
classes report ``netbasics`` (their flat public path), so those members are collected here.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil
import sys

import pytest

import netbasics


def _member_examples() -> list[tuple[str, doctest.DocTest]]:
    finder = doctest.DocTestFinder(recurse=False)
    found: list[tuple[str, doctest.DocTest]] = []
    for name in netbasics.__all__:
        cls = getattr(netbasics, name)
        if not inspect.isclass(cls):
            continue
        for attr, value in vars(cls).items():
            if attr.startswith("_") or inspect.isclass(value):
                continue
            target = value.fget if isinstance(value, property) else value
            if isinstance(target, (classmethod, staticmethod)):
                target = target.__func__
            if not callable(target) or ">>>" not in (getattr(target, "__doc__", None) or ""):
                continue
            module = sys.modules[target.__module__]
            qualname = f"{name}.{attr}"
            for test in finder.find(target, qualname, globs=dict(vars(module))):
                if test.examples:
                    found.append((qualname, test))
    return found


# Optional adapters import a third-party client when loaded; without it they are skipped.
_OPTIONAL_IMPORTS = ("requests", "urllib3", "httpx", "httpcore", "aiohttp", "pytest")


def _module_examples() -> list[tuple[str, doctest.DocTest]]:
    finder = doctest.DocTestFinder()
    found: list[tuple[str, doctest.DocTest]] = []
    names = ["netbasics", *(m.name for m in pkgutil.walk_packages(netbasics.__path__, "netbasics."))]
    for name in sorted(names):
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name is not None and exc.name.split(".")[0] in _OPTIONAL_IMPORTS:
                continue
            raise
        for test in finder.find(module, name):
            if test.examples:
                found.append((test.name, test))
    return found


EXAMPLES = _member_examples()
MODULE_EXAMPLES = _module_examples()


def test_modules_have_examples() -> None:
    # As many as pytest's --doctest-modules found in src/ when it collected them (70).
    assert len(MODULE_EXAMPLES) >= 70, [name for name, _ in MODULE_EXAMPLES]


@pytest.mark.parametrize(("name", "test"), MODULE_EXAMPLES, ids=[n for n, _ in MODULE_EXAMPLES])
def test_module_example(name: str, test: doctest.DocTest) -> None:
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    output: list[str] = []
    runner.run(test, out=output.append)
    assert runner.failures == 0, "".join(output)


def test_members_have_examples() -> None:
    assert EXAMPLES, "expected some method docstrings with >>> examples"


@pytest.mark.parametrize(("qualname", "test"), EXAMPLES, ids=[q for q, _ in EXAMPLES])
def test_member_example(qualname: str, test: doctest.DocTest) -> None:
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    output: list[str] = []
    runner.run(test, out=output.append)
    assert runner.failures == 0, "".join(output)
