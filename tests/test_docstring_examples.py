"""Run the ``>>>`` examples in methods and properties of the public classes.

pytest's ``--doctest-modules`` finds module-level functions and class docstrings, but
doctest skips the members of a class whose ``__module__`` is not the module being
scanned, and the public classes report ``netbasics`` (their flat public path). This test
collects those members itself so that every example in a docstring runs.
"""

from __future__ import annotations

import doctest
import inspect
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


EXAMPLES = _member_examples()


def test_members_have_examples() -> None:
    assert EXAMPLES, "expected some method docstrings with >>> examples"


@pytest.mark.parametrize(("qualname", "test"), EXAMPLES, ids=[q for q, _ in EXAMPLES])
def test_member_example(qualname: str, test: doctest.DocTest) -> None:
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    output: list[str] = []
    runner.run(test, out=output.append)
    assert runner.failures == 0, "".join(output)
