"""The adapters import their clients lazily, and refuse a client release they were not built for."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import types

import pytest

from netbasics.http_guard._adapters import require, uses

CLIENTS = ("requests", "urllib3", "httpx", "httpcore", "anyio", "aiohttp", "yarl", "trustme", "certifi", "idna")


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60, check=False
    )


def _third_party_after(imports: str) -> list[str]:
    result = _run(
        f"""
        import sys
        {imports}
        print(sorted({{m.split(".")[0] for m in sys.modules}} & {set(CLIENTS)!r}))
        """
    )
    assert result.returncode == 0, result.stderr
    return list(eval(result.stdout))  # a printed list of module names


def test_netbasics_and_the_guard_import_no_client() -> None:
    assert _third_party_after("import netbasics, netbasics.http_guard") == []


@pytest.mark.parametrize(
    ("adapter", "allowed"),
    [
        ("urllib3", {"urllib3"}),
        ("requests", {"requests", "urllib3", "certifi", "idna"}),
        ("httpx", {"httpx", "httpcore", "anyio", "certifi", "idna"}),
        ("aiohttp", {"aiohttp", "yarl", "idna"}),
    ],
)
def test_an_adapter_imports_only_its_client(adapter: str, allowed: set[str]) -> None:
    pytest.importorskip(adapter)
    found = set(_third_party_after(f"import netbasics.http_guard.{adapter}"))
    assert adapter in found
    assert found <= allowed


@pytest.mark.parametrize(
    ("adapter", "remove", "named"),
    [
        ("urllib3", "urllib3.connection.HTTPConnection._new_conn", "urllib3 2.x"),
        ("requests", "requests.adapters.HTTPAdapter.proxy_manager_for", "requests 2.32 and later"),
        ("httpx", "httpcore.ConnectionPool.create_connection", "httpx 0.27 and later"),
        ("aiohttp", "aiohttp.TCPConnector._resolve_host", "aiohttp 3.10 and later"),
    ],
)
def test_an_adapter_refuses_a_client_without_what_it_relies_on(adapter: str, remove: str, named: str) -> None:
    pytest.importorskip(adapter)
    owner, attribute = remove.rsplit(".", 1)
    module, cls = owner.rsplit(".", 1)
    result = _run(
        f"""
        import {module}
        delattr({module}.{cls}, {attribute!r})
        try:
            import netbasics.http_guard.{adapter}
        except ImportError as exc:
            print(exc)
        """
    )
    assert result.returncode == 0, result.stderr
    assert named in result.stdout
    assert attribute in result.stdout or cls in result.stdout


def test_require_names_the_supported_versions_and_what_is_missing() -> None:
    require("demo", "demo 1.x", [("Thing.present", True)])
    with pytest.raises(ImportError, match=r"supports demo 1\.x; the installed demo lacks Thing\._gone, Thing\._also"):
        require("demo", "demo 1.x", [("Thing._gone", False), ("ok", True), ("Thing._also", False)])


def test_require_keeps_its_message_short() -> None:
    with pytest.raises(ImportError) as info:
        require("demo", "demo 1.x", [(f"Thing._attribute_{i}", False) for i in range(50)])
    assert len(str(info.value)) <= 300
    assert str(info.value).endswith("...")


def test_the_guard_checks_its_arguments() -> None:
    from netbasics import DestinationPolicy
    from netbasics.http_guard._adapters import Guard

    with pytest.raises(TypeError, match="policy must be a DestinationPolicy"):
        Guard("strict")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="on_refusal must be callable"):
        Guard(DestinationPolicy(), on_refusal="log")  # type: ignore[arg-type]


def test_uses_reads_the_attribute_names_a_function_refers_to() -> None:
    def reader(obj: object) -> object:
        return obj._hidden  # type: ignore[attr-defined]

    namespace = types.SimpleNamespace(reader=reader, builtin=len)

    assert uses(namespace, "reader", "_hidden")
    assert not uses(namespace, "reader", "_hidden", "_other")
    assert not uses(namespace, "missing", "_hidden")
    assert not uses(namespace, "builtin", "_hidden")  # no Python code to read
