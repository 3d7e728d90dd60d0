"""Griffe extension for the docs site: render our reST-flavoured docstrings as Markdown.

The docstrings in ``src/netbasics`` are written for ``help()`` and doctest: bare ``>>>``
sessions, Sphinx roles such as ``:class:`Endpoint```, and ``Example::`` literal-block
markers. mkdocstrings feeds docstrings to Markdown, which would turn ``>>>`` into nested
block quotes and print the roles verbatim. This extension rewrites each docstring once,
after griffe has loaded the package: doctest sessions become fenced ``pycon`` blocks,
roles become inline code, reST simple tables (``====  ====`` borders) become Markdown
tables, and a trailing ``::`` becomes ``:``.

Used from ``mkdocs.yml`` (``extensions: [tools/griffe_docstrings.py]``); not part of the
package and not needed at run time.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:py:)?(?:class|func|meth|attr|exc|mod|data|obj|const):`~?([^`]+)`")
_BORDER = re.compile(r"^\s*=+(?:\s+=+)+\s*$")


def _table(lines: list[str], start: int) -> tuple[list[str], int] | None:
    """Convert the reST simple table at ``lines[start]``; return (Markdown lines, next index)."""
    border = lines[start]
    spans = [m.start() for m in re.finditer(r"=+", border)]
    rows: list[list[str]] = []
    borders = 1
    i = start + 1
    while i < len(lines) and borders < 3:
        line = lines[i]
        if _BORDER.match(line):
            borders += 1
        elif line.strip():
            cuts = [*spans[1:], len(line)]
            rows.append([line[a:b].strip() for a, b in zip(spans, cuts, strict=True)])
        i += 1
    if borders < 3 or len(rows) < 2:
        return None
    width = len(spans)
    out = ["", "| " + " | ".join(rows[0]) + " |", "|" + " --- |" * width]
    out += ["| " + " | ".join(_ROLE.sub(r"`\1`", cell) for cell in row) + " |" for row in rows[1:]]
    return [*out, ""], i


def _markdown(text: str) -> str:
    out: list[str] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.lstrip()
        if stripped.startswith(">>>"):
            indent = len(line) - len(stripped)
            out.append("```pycon")
            # A session runs to the next blank line, as doctest reads it.
            while i < len(lines) and lines[i].strip():
                out.append(lines[i][indent:] if lines[i][:indent].isspace() else lines[i].lstrip())
                i += 1
            out.append("```")
            continue
        if _BORDER.match(line):
            table = _table(lines, i)
            if table is not None:
                out += table[0]
                i = table[1]
                continue
        if line.rstrip().endswith("::") and not line.rstrip().endswith(":::"):
            line = line.rstrip()[:-1]
        out.append(_ROLE.sub(r"`\1`", line))
        i += 1
    return "\n".join(out)


class DocstringsAsMarkdown(griffe.Extension):
    """Rewrite every docstring of the loaded package once, when its object is complete.

    griffe reports the members through ``on_object`` but not the package itself, whose
    docstring the API page shows first, so ``on_package`` rewrites that one. Each object is
    rewritten once: a second pass would fence the fenced ``>>>`` lines again.
    """

    def __init__(self) -> None:
        super().__init__()
        self._done: set[str] = set()

    def _rewrite(self, obj: griffe.Object) -> None:
        if obj.docstring is not None and obj.path not in self._done:
            self._done.add(obj.path)
            obj.docstring.value = _markdown(obj.docstring.value)

    def on_object(self, *, obj: griffe.Object, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        self._rewrite(obj)

    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        self._rewrite(pkg)
