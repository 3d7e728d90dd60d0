"""The documentation site as a reader gets it: built with mkdocs, served over HTTP on
loopback, and searched in a real (headless) Chromium."""

from __future__ import annotations

import functools
import http.server
import importlib.util
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from cdp import chromium_page, find_chromium

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(importlib.util.find_spec("mkdocs") is None, reason="mkdocs is not installed (the test extra)"),
    pytest.mark.skipif(not (ROOT / "mkdocs.yml").exists(), reason="no mkdocs.yml beside the tests"),
    # The site is built and published with 3.11+; on 3.10 pip resolves a docs toolchain whose
    # highlighter and mkdocstrings disagree ("Highlight.__init__() missing 'md'").
    pytest.mark.skipif(sys.version_info < (3, 11), reason="the docs site is built with Python 3.11 or newer"),
]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir", str(out)],
        cwd=ROOT,
        check=True,
        timeout=300,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    return out


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def served(site: Path) -> Iterator[str]:
    handler = functools.partial(_Quiet, directory=str(site))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}/"
        finally:
            server.shutdown()
            thread.join(10)


def test_api_page_shows_docstring_examples_as_code(site: Path) -> None:
    # A bare `>>>` session read as Markdown becomes three nested block quotes.
    page = (site / "reference" / "api" / "index.html").read_text(encoding="utf-8")
    assert "<blockquote>" not in page
    assert 'class="gp">&gt;&gt;&gt; </span>' in page  # highlighted as a Python session


@pytest.mark.timeout(180)
def test_search_finds_the_addresses_page(served: str) -> None:
    binary = find_chromium()
    if binary is None:
        pytest.skip("no Chromium to drive (Debian's chromium package; .ci/run installs it)")
    with chromium_page(binary) as page:
        page.navigate(served)
        ready = "document.querySelector('input[data-md-component=\"search-query\"]') !== null"
        assert page.wait_for(ready, timeout=30)
        # Type the query as a reader would; Material searches in a web worker as keys come.
        page.evaluate(
            "(() => { const box = document.querySelector('input[data-md-component=\"search-query\"]');"
            " box.focus(); box.value = 'is_global';"
            " box.dispatchEvent(new Event('input', {bubbles: true}));"
            " box.dispatchEvent(new KeyboardEvent('keyup', {key: 'l', bubbles: true})); })()"
        )
        links = "Array.from(document.querySelectorAll('.md-search-result__item a')).map(a => a.href)"
        hrefs = page.wait_for(f"{links}.filter(h => h.includes('/addresses/'))", timeout=60)
        assert hrefs, page.evaluate(links)
