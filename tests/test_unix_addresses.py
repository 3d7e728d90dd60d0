"""Unix socket addresses: text forms, sun_path limits, sockaddr round trips, value semantics."""

from __future__ import annotations

import copy
import os
import pathlib
import pickle
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netbasics import EndpointError, PeerCredentials, UnixAddress, parse_unix_address
from netbasics.unix_addresses import SUN_PATH_SIZE, is_unix_target

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="abstract names are Linux-only")

# (text, path, abstract name, str() of the result)
VALID = [
    ("unix:/run/app.sock", "/run/app.sock", None, "unix:/run/app.sock"),
    ("unix:./app.sock", "./app.sock", None, "unix:./app.sock"),
    ("unix:app.sock", "app.sock", None, "unix:app.sock"),
    ("unix:./@odd", "./@odd", None, "unix:./@odd"),
    ("unix:/tmp/with space.sock", "/tmp/with space.sock", None, "unix:/tmp/with space.sock"),
    ("unix:/tmp/é.sock", "/tmp/é.sock", None, "unix:/tmp/é.sock"),
]

INVALID = [
    ("/run/app.sock", "expected 'unix:PATH' or 'unix:@NAME'"),
    ("127.0.0.1:80", "expected 'unix:PATH'"),
    ("unix:", "empty Unix socket path"),
    ("unix:/run/a\0b", "contains a NUL character"),
    ("UNIX:/run/app.sock", "expected 'unix:PATH'"),
]


@pytest.mark.parametrize(("text", "path", "name", "canonical"), VALID)
def test_parse_valid(text: str, path: str, name: str | None, canonical: str) -> None:
    address = parse_unix_address(text)
    assert address.path == path
    assert address.name == name
    assert not address.is_abstract
    assert str(address) == canonical
    assert address.sockaddr == path
    assert parse_unix_address(str(address)) == address
    assert eval(repr(address), {"UnixAddress": UnixAddress}) == address


@pytest.mark.parametrize(("text", "message"), INVALID)
def test_parse_invalid(text: str, message: str) -> None:
    with pytest.raises(EndpointError, match=message) as info:
        parse_unix_address(text)
    assert isinstance(info.value, ValueError)
    assert len(str(info.value)) < 300


@linux_only
def test_abstract_names() -> None:
    address = parse_unix_address("unix:@app")
    assert address.is_abstract
    assert address.name == "app"
    assert address.path is None
    assert address.sockaddr == b"\0app"
    assert str(address) == "unix:@app"
    assert address == UnixAddress("app", abstract=True)
    assert address != UnixAddress("app")  # a relative path called "app" is another place
    assert repr(address) == "UnixAddress('app', abstract=True)"
    with pytest.raises(EndpointError, match="empty abstract Unix socket name"):
        parse_unix_address("unix:@")


@pytest.mark.skipif(sys.platform.startswith("linux"), reason="elsewhere abstract names are refused")
def test_abstract_names_refused_off_linux() -> None:  # pragma: no cover - Linux
    with pytest.raises(EndpointError, match="only on Linux"):
        parse_unix_address("unix:@app")


def test_path_objects_need_no_prefix() -> None:
    assert parse_unix_address(pathlib.Path("/run/app.sock")) == UnixAddress("/run/app.sock")
    assert UnixAddress(pathlib.PurePosixPath("rel/app.sock")).path == "rel/app.sock"


def test_sun_path_limit_names_the_length() -> None:
    limit = SUN_PATH_SIZE - 1
    ok = "/" + "a" * (limit - 1)
    assert UnixAddress(ok).path == ok
    too_long = "/" + "a" * limit
    with pytest.raises(EndpointError) as info:
        UnixAddress(too_long)
    message = str(info.value)
    assert f"is {limit + 1} bytes long" in message
    assert f"sun_path holds {SUN_PATH_SIZE} bytes" in message
    assert len(message) < 300  # the path is quoted, cut short


def test_sun_path_limit_counts_encoded_bytes() -> None:
    # 'é' is two bytes in UTF-8: a path of few characters can still be too long.
    chars = (SUN_PATH_SIZE // 2) + 1
    with pytest.raises(EndpointError, match=f"is {chars * 2 + 1} bytes long"):
        UnixAddress("/" + "é" * chars)


@linux_only
def test_abstract_limit() -> None:
    UnixAddress("n" * 107, abstract=True)
    with pytest.raises(EndpointError, match=r"is 108 bytes long.*leading NUL"):
        UnixAddress("n" * 108, abstract=True)


@pytest.mark.parametrize("bad", [b"/run/app.sock", 42, None, ("/run", 1)])
def test_wrong_types(bad: object) -> None:
    with pytest.raises(TypeError):
        parse_unix_address(bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        UnixAddress(bad)  # type: ignore[arg-type]


def test_from_sockaddr() -> None:
    assert UnixAddress.from_sockaddr("/run/app.sock") == UnixAddress("/run/app.sock")
    unnamed = UnixAddress.from_sockaddr("")
    assert unnamed.is_unnamed
    assert unnamed.path is None
    assert unnamed.name is None
    assert str(unnamed) == "unix:"
    assert UnixAddress.from_sockaddr(b"") == unnamed
    assert repr(unnamed) == "UnixAddress.from_sockaddr('')"
    if sys.platform.startswith("linux"):
        assert UnixAddress.from_sockaddr(b"\0abcde") == UnixAddress("abcde", abstract=True)
        # Linux autobind names are five hex digits: any bytes survive the round trip.
        odd = UnixAddress.from_sockaddr(b"\0\xff\x01")
        assert odd.sockaddr == b"\0\xff\x01"
    with pytest.raises(EndpointError):
        UnixAddress.from_sockaddr(("127.0.0.1", 80))  # type: ignore[arg-type]


def test_value_semantics() -> None:
    a = UnixAddress("/run/app.sock")
    assert {a, UnixAddress("/run/app.sock")} == {a}
    assert a != "unix:/run/app.sock"
    with pytest.raises(AttributeError):
        a.path = "/x"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        a.other = 1
    for value in (a, UnixAddress.from_sockaddr("")):
        assert pickle.loads(pickle.dumps(value)) == value
        assert copy.deepcopy(value) == value
    if sys.platform.startswith("linux"):
        b = UnixAddress("app", abstract=True)
        assert pickle.loads(pickle.dumps(b)) == b


def test_is_unix_target() -> None:
    assert is_unix_target("unix:/x")
    assert is_unix_target(pathlib.Path("/x"))
    assert is_unix_target(UnixAddress("/x"))
    assert not is_unix_target("localhost:80")
    assert not is_unix_target(("127.0.0.1", 80))


@given(st.text(alphabet=st.characters(blacklist_characters="\0", blacklist_categories=["Cs"]), min_size=1))
def test_round_trip_or_clear_error(text: str) -> None:
    if len(os.fsencode(text)) >= SUN_PATH_SIZE:
        with pytest.raises(EndpointError, match="bytes long"):
            UnixAddress(text)
        return
    address = UnixAddress(text)
    again = parse_unix_address(str(address))
    if text.startswith("@"):  # written 'unix:./@...', the same file by another spelling
        assert again.path == "./" + text
    else:
        assert again == address
    assert address.sockaddr == text


def test_peer_credentials_value() -> None:
    creds = PeerCredentials(1234, 1000, 100)
    assert (creds.pid, creds.uid, creds.gid) == (1234, 1000, 100)
    assert creds == PeerCredentials(1234, 1000, 100)
    assert hash(creds) == hash(PeerCredentials(1234, 1000, 100))
    assert PeerCredentials(None, 0, 0).pid is None
    assert pickle.loads(pickle.dumps(creds)) == creds
    with pytest.raises(AttributeError):
        creds.uid = 0  # type: ignore[misc]
    with pytest.raises(TypeError):
        PeerCredentials(1, "root", 0)  # type: ignore[arg-type]
