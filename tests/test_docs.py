"""Every code example in the documentation runs, and prints what the page says it prints.

``>>>`` sessions in Markdown already run as doctests (``--doctest-glob=*.md`` in the pytest
configuration). This module runs the other kinds of example in ``docs/**/*.md`` and
``README.md``:

* ```` ```console ```` blocks: each ``$ command`` line runs in ``bash`` with the installed
  ``netbasics`` command first on ``PATH``; its output (stdout and stderr merged, in the
  order written) must equal the lines that follow, up to the next ``$`` line. A line
  ``...`` matches any number of lines, and ``...`` inside a line any text. Console
  blocks must run offline: commands that need a server or a network beyond loopback
  belong in ```` ```text ```` blocks.
* ```` ```python ```` blocks that are not doctest sessions run as scripts in a fresh
  interpreter. They must exit 0 and write nothing to stderr; when the next block is
  ```` ```text title="Output" ````, stdout must equal it.
* A block with ``title="NAME"`` (other than ``Output``) is also written to the file NAME
  in the temporary directory where that page's commands and scripts run, so a page can
  show a sample file and then process it.

A Python block that uses a name ``netbasics`` does not have (yet) is skipped with the
name in the reason, and so is a console command that runs such a block's file, so pages
can be written before the module they describe lands.
"""

from __future__ import annotations

import ast
import importlib
import itertools
import os
import re
import shutil
import subprocess
import sys
import types
from dataclasses import dataclass
from pathlib import Path

import pytest

import netbasics

ROOT = Path(__file__).resolve().parent.parent
PAGES = [*sorted((ROOT / "docs").rglob("*.md")), ROOT / "README.md"]
BIN_DIR = Path(sys.executable).parent
TIMEOUT = 60.0

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})\s*(?P<lang>[\w+-]*)(?P<attrs>[^`]*)$")
_TITLE = re.compile(r"""title\s*=\s*["']([^"']+)["']""")


@dataclass(frozen=True)
class Block:
    """One fenced code block of a page."""

    page: Path
    line: int  # 1-based line of the opening fence
    lang: str
    title: str | None
    text: str

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def parse_blocks(page: Path) -> list[Block]:
    """Every fenced block of ``page``, dedented to its fence, in order."""
    blocks: list[Block] = []
    lines = page.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if m is None:
            i += 1
            continue
        indent, fence = len(m["indent"]), m["fence"]
        title = _TITLE.search(m["attrs"])
        body: list[str] = []
        j = i + 1
        while j < len(lines):
            stripped = lines[j].strip()
            if stripped.startswith(fence) and not stripped.strip(fence[0]):
                break
            line = lines[j]
            body.append(line[indent:] if not line[:indent].strip() else line.lstrip())
            j += 1
        else:
            raise AssertionError(f"{page.relative_to(ROOT)}:{i + 1}: code block is never closed")
        text = "\n".join(body) + "\n" if body else ""
        blocks.append(Block(page, i + 1, m["lang"].lower(), title[1] if title else None, text))
        i = j + 1
    return blocks


BLOCKS = {page: parse_blocks(page) for page in PAGES}


def _is_doctest(block: Block) -> bool:
    first = next((ln for ln in block.text.splitlines() if ln.strip()), "")
    return first.lstrip().startswith(">>>")


def _with_output(page: Path) -> list[tuple[Block, Block | None]]:
    """Python scripts of a page, each with the ``Output`` block right after it, if any."""
    blocks = BLOCKS[page]
    found: list[tuple[Block, Block | None]] = []
    for i, block in enumerate(blocks):
        if block.lang not in ("python", "py") or _is_doctest(block):
            continue
        nxt = blocks[i + 1] if i + 1 < len(blocks) else None
        found.append((block, nxt if nxt is not None and nxt.title == "Output" else None))
    return found


CONSOLE = [b for page in PAGES for b in BLOCKS[page] if b.lang == "console"]
SCRIPTS = [pair for page in PAGES for pair in _with_output(page)]


def _workdir(tmp_path: Path, page: Path) -> Path:
    """A temporary directory holding the page's titled example files."""
    for block in BLOCKS[page]:
        if block.title is not None and block.title != "Output":
            target = (tmp_path / block.title).resolve()
            assert target.is_relative_to(tmp_path.resolve()), f"{block.where}: title must be a relative file name"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block.text, encoding="utf-8")
    return tmp_path


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{BIN_DIR}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONUNBUFFERED"] = "1"  # stdout and stderr interleave as on a terminal
    env["COLUMNS"] = "80"  # argparse wraps help text to the terminal width
    env["PYTHON_COLORS"] = "0"
    env["NO_COLOR"] = "1"
    env["LC_ALL"] = "C.UTF-8"
    for name in ("PYTHONWARNINGS", "PYTEST_ADDOPTS", "PYTEST_PLUGINS"):
        env.pop(name, None)  # examples run as a user would run them
    return env


def _line_matches(expected: str, actual: str) -> bool:
    if "..." not in expected:
        return actual == expected
    pattern = ".*".join(re.escape(part) for part in expected.split("..."))
    return re.fullmatch(pattern, actual) is not None


def match_lines(expected: list[str], actual: list[str]) -> bool:
    """True if ``actual`` matches ``expected`` line by line, as doctest's ELLIPSIS would.

    An expected line that is just ``...`` matches any number of lines (also none); a
    ``...`` inside a line matches any text within that line.
    """
    if not expected:
        return not actual
    if expected[0] == "...":
        return any(match_lines(expected[1:], actual[k:]) for k in range(len(actual) + 1))
    return bool(actual) and _line_matches(expected[0], actual[0]) and match_lines(expected[1:], actual[1:])


def _normalise(text: str) -> list[str]:
    lines = [ln.rstrip() for ln in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def console_commands(block: Block) -> list[tuple[str, list[str]]]:
    """The ``(command, expected output lines)`` pairs of a console block."""
    commands: list[tuple[str, list[str]]] = []
    lines = block.text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.startswith("$ "):
            raise AssertionError(f"{block.where}: output line {line!r} before any '$ ' command")
        command = line[2:]
        while command.endswith("\\") and i + 1 < len(lines):
            i += 1
            command = command[:-1] + lines[i].lstrip("> ")
        i += 1
        output: list[str] = []
        while i < len(lines) and not lines[i].startswith("$ "):
            output.append(lines[i])
            i += 1
        commands.append((command, _normalise("\n".join(output))))
    return commands


def _missing_names(source: str) -> list[str]:
    """Names the script takes from ``netbasics`` that the package does not have."""
    wanted: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "netbasics":
            wanted.add(node.attr)
        elif isinstance(node, ast.ImportFrom) and node.module == "netbasics" and node.level == 0:
            wanted.update(alias.name for alias in node.names)
    missing = []
    for name in sorted(wanted):
        if hasattr(netbasics, name):
            continue
        try:
            importlib.import_module(f"netbasics.{name}")
        except ImportError:
            missing.append(name)
    return missing


def test_docs_have_examples() -> None:
    # Guards the collection itself: if the fence parser broke, every test below would
    # silently vanish.
    assert CONSOLE, "no console blocks found"
    assert SCRIPTS, "no python script blocks found"


@pytest.mark.skipif(shutil.which("bash") is None, reason="console examples need bash")
@pytest.mark.parametrize("block", CONSOLE, ids=[b.where for b in CONSOLE])
def test_console_example(block: Block, tmp_path: Path) -> None:
    commands = console_commands(block)
    assert commands, f"{block.where}: console block without a '$ ' command"
    assert (BIN_DIR / "netbasics").exists(), f"the netbasics command is not installed in {BIN_DIR} (pip install -e .)"
    for script in BLOCKS[block.page]:
        if script.lang in ("python", "py") and script.title and script.title in block.text:
            missing = _missing_names(script.text)
            if missing:
                pytest.skip(f"{block.where}: runs {script.title}, and netbasics has no {', '.join(missing)} yet")
    cwd = _workdir(tmp_path, block.page)
    for command, expected in commands:
        proc = subprocess.run(
            ["bash", "-c", command],
            cwd=cwd,
            env=_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=TIMEOUT,
            check=False,
        )
        actual = _normalise(proc.stdout.decode("utf-8", "replace"))
        assert match_lines(expected, actual), (
            f"{block.where}: $ {command}\n--- expected\n" + "\n".join(expected) + "\n--- got\n" + "\n".join(actual)
        )


@pytest.mark.parametrize(("block", "output"), SCRIPTS, ids=[b.where for b, _ in SCRIPTS])
def test_python_example(block: Block, output: Block | None, tmp_path: Path) -> None:
    missing = _missing_names(block.text)
    if missing:
        pytest.skip(f"{block.where}: netbasics has no {', '.join(missing)} yet")
    cwd = _workdir(tmp_path, block.page)
    script = tmp_path / "_example.py"
    script.write_text(block.text, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-W", "error", str(script)],
        cwd=cwd,
        env=_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=TIMEOUT,
        check=False,
    )
    stdout, stderr = proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 0, f"{block.where}: exit {proc.returncode}\n{stderr}"
    assert not stderr, f"{block.where}: wrote to stderr\n{stderr}"
    if output is not None:
        expected, actual = _normalise(output.text), _normalise(stdout)
        assert match_lines(expected, actual), (
            f"{block.where}: output differs\n--- expected\n" + "\n".join(expected) + "\n--- got\n" + "\n".join(actual)
        )


def test_api_reference_covers_namespaces() -> None:
    # mkdocstrings renders the flat namespace with `::: netbasics`, but skips what it
    # takes for submodules: public modules such as `udp`, and functions named like the
    # module that defines them (`classify`). Each needs its own block in the API page.
    api = (ROOT / "docs" / "reference" / "api.md").read_text(encoding="utf-8")
    blocks = set(re.findall(r"^::: (\S+)$", api, re.MULTILINE))
    for name in netbasics.__all__:
        obj = getattr(netbasics, name)
        if isinstance(obj, types.ModuleType):
            assert f"netbasics.{name}" in blocks, f"docs/reference/api.md needs '::: netbasics.{name}'"
        elif (ROOT / "src" / "netbasics" / f"{name}.py").exists():
            assert f"netbasics.{name}.{name}" in blocks, f"docs/reference/api.md needs '::: netbasics.{name}.{name}'"


# --- the checker checks itself ---------------------------------------------------------


@pytest.mark.parametrize(
    ("expected", "actual", "ok"),
    [
        ([], [], True),
        (["a"], ["a"], True),
        (["a"], ["b"], False),
        (["a"], [], False),
        ([], ["a"], False),
        (["..."], [], True),
        (["..."], ["x", "y"], True),
        (["a", "...", "z"], ["a", "z"], True),
        (["a", "...", "z"], ["a", "b", "c", "z"], True),
        (["a", "...", "z"], ["a", "b", "c"], False),
        (["a", "..."], ["b"], False),
        (["2 passed in ..."], ["2 passed in 0.31s"], True),
        (["2 passed in ..."], ["1 failed, 1 passed in 0.31s"], False),
        (["a...z"], ["az"], True),
        (["a.c"], ["abc"], False),
    ],
)
def test_match_lines(expected: list[str], actual: list[str], ok: bool) -> None:
    assert match_lines(expected, actual) is ok


def test_parse_blocks_and_console_commands(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "text\n\n"
        "```console\n$ echo one \\\n  two\none two\n$ true\n```\n\n"
        "- item\n\n    ```text title='data.txt'\n    1.2.3.4\n    ```\n"
        "````python\nprint('```')\n````\n",
        encoding="utf-8",
    )
    blocks = parse_blocks(page)
    assert [(b.lang, b.title, b.line) for b in blocks] == [
        ("console", None, 3),
        ("text", "data.txt", 12),
        ("python", None, 15),
    ]
    assert blocks[1].text == "1.2.3.4\n"
    assert blocks[2].text == "print('```')\n"
    block = Block(ROOT / "README.md", 1, "console", None, blocks[0].text)
    assert console_commands(block) == [("echo one two", ["one two"]), ("true", [])]


def test_missing_names() -> None:
    assert _missing_names("import netbasics\nnetbasics.parse_address('::1')\n") == []
    assert _missing_names("import netbasics\nnetbasics.no_such_name_here()\n") == ["no_such_name_here"]
    assert _missing_names("from netbasics import parse_address, nope_nope\n") == ["nope_nope"]


def test_readme_links_work_on_the_package_index() -> None:
    # PyPI renders README.md without the repository around it: a relative link breaks there.
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)]+)\)", text)
    assert targets
    relative = [t for t in targets if not t.startswith(("https://", "#"))]
    assert not relative, relative
    # Each link into the repository names a file that exists in it.
    prefix = "https://github.com/netbasics/netbasics/blob/main/"
    missing = [t for t in targets if t.startswith(prefix) and not (ROOT / t[len(prefix) :]).exists()]
    assert not missing, missing


def test_no_import_is_written_twice_in_a_row() -> None:
    # A copy-paste slip that reads as if the second line mattered.
    repeats = []
    for page in PAGES:
        lines = page.read_text(encoding="utf-8").splitlines()
        for number, (line, following) in enumerate(itertools.pairwise(lines), 1):
            if line.startswith(("import ", "from ")) and line == following:
                repeats.append(f"{page.name}:{number + 1}: {line}")
    assert not repeats, repeats
