"""Drive a headless Chromium through the DevTools protocol, with the standard library only.

Enough of the protocol for the docs-site test: start the browser on a free debugging port,
open one page, evaluate JavaScript in it. The WebSocket framing is the minimum RFC 6455
asks of a client (masked text frames out, unmasked frames in); everything stays on loopback.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import tempfile
import time
from collections.abc import Iterator
from typing import IO, Any

# The flags a sandboxed, offline machine needs: no sandbox as root, no GPU, and none of the
# background fetches whose refused connections would only slow the browser down.
_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--remote-debugging-port=0",
    "--remote-allow-origins=*",
]


def find_chromium() -> str | None:
    """The path of a Chromium binary, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class Page:
    """One browser tab: ``navigate(url)`` and ``evaluate(expression)``."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._file: IO[bytes] = sock.makefile("rb")
        self._next_id = 0

    def skip_headers(self) -> None:
        """Read past the HTTP response that accepts the WebSocket handshake."""
        while self._file.readline() not in (b"\r\n", b""):
            pass

    def _send(self, message: dict[str, Any]) -> None:
        data = json.dumps(message).encode()
        mask = os.urandom(4)
        size = len(data)
        header = bytes([0x81]) + (bytes([0x80 | size]) if size < 126 else bytes([0x80 | 126]) + struct.pack("!H", size))
        masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(data))
        self._sock.sendall(header + mask + masked)

    def _receive(self) -> dict[str, Any]:
        first, second = self._file.read(2)
        size = second & 0x7F
        if size == 126:
            size = struct.unpack("!H", self._file.read(2))[0]
        elif size == 127:
            size = struct.unpack("!Q", self._file.read(8))[0]
        payload = self._file.read(size)
        if first & 0x0F != 0x1:  # not a text frame: nothing the tests need
            return {}
        message: dict[str, Any] = json.loads(payload)
        return message

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self._next_id += 1
        self._send({"id": self._next_id, "method": method, "params": params})
        while True:
            reply = self._receive()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply["result"]
                return result

    def navigate(self, url: str) -> None:
        self.call("Page.navigate", url=url)

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float) -> Any:
        """The first truthy value of ``expression``, polled until ``timeout`` seconds pass."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value or time.monotonic() > deadline:
                return value
            time.sleep(0.1)


def _targets(port: int, deadline: float) -> list[dict[str, Any]]:
    """The browser's list of pages; its HTTP side may come up a moment after the log line."""
    while True:
        # http.client, not urllib: no proxy from the environment may stand in between.
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request("GET", "/json")
            targets: list[dict[str, Any]] = json.loads(conn.getresponse().read())
            return targets
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
        finally:
            conn.close()


@contextlib.contextmanager
def chromium_page(binary: str, timeout: float = 30.0) -> Iterator[Page]:
    """A headless Chromium with one blank page; the browser and its profile go at the end."""
    # The browser's helper processes may still write to the profile as it goes: a leftover
    # file there is not a test failure.
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        proc = subprocess.Popen(
            [binary, *_FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            assert proc.stderr is not None
            deadline = time.monotonic() + timeout
            port = None
            while port is None and time.monotonic() < deadline:
                line = proc.stderr.readline()
                if not line and proc.poll() is not None:
                    raise RuntimeError(f"chromium exited with {proc.returncode}")
                found = re.search(rb"ws://127\.0\.0\.1:(\d+)/", line)
                port = int(found.group(1)) if found else None
            if port is None:
                raise RuntimeError("chromium did not open its debugging port")
            targets = _targets(port, deadline)
            url = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
            path = url.split(f":{port}", 1)[1]
            with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
                key = base64.b64encode(os.urandom(16)).decode()
                sock.sendall(
                    f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                    f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
                )
                page = Page(sock)
                page.skip_headers()
                yield page
        finally:
            proc.kill()
            proc.wait()
            if proc.stderr is not None:
                proc.stderr.close()
