"""Framers: any split of the stream gives the same messages; oversize input is refused early."""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netbasics import FrameTooLarge, LengthPrefixFramer, LineFramer
from netbasics.framing import Framer

messages_st = st.lists(st.binary(max_size=40).filter(lambda m: b"\n" not in m), max_size=12)


def feed_split(framer: Framer, data: bytes, cuts: list[int]) -> list[bytes]:
    """Feed ``data`` cut at ``cuts`` (sorted offsets) and collect every message."""
    out: list[bytes] = []
    prev = 0
    for cut in [*sorted(cuts), len(data)]:
        out.extend(framer.feed(data[prev:cut]))
        prev = max(prev, cut)
    return out


def whole_and_bytewise(make: Callable[[], Framer], data: bytes) -> list[list[bytes]]:
    """Feed ``data`` whole and one byte at a time (callers add trailing data themselves)."""
    whole = make().feed(data)
    framer = make()
    bytewise: list[bytes] = []
    for i in range(len(data)):
        bytewise.extend(framer.feed(data[i : i + 1]))
    return [whole, bytewise]


# --- LineFramer ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("chunks", "expected", "left"),
    [
        ([b"a\nb\n"], [b"a", b"b"], 0),
        ([b"a", b"b\n"], [b"ab"], 0),
        ([b"\n\n"], [b"", b""], 0),
        ([b"abc"], [], 3),
        ([b"abc\nde"], [b"abc"], 2),
        ([b"x\r\n"], [b"x\r"], 0),
        ([b""], [], 0),
    ],
)
def test_line_table(chunks: list[bytes], expected: list[bytes], left: int) -> None:
    framer = LineFramer()
    out: list[bytes] = []
    for chunk in chunks:
        out.extend(framer.feed(chunk))
    assert out == expected
    assert framer.buffered == left


def test_multibyte_delimiter_split_across_feeds() -> None:
    framer = LineFramer(b"\r\n")
    assert framer.feed(b"GET /\r") == []
    assert framer.feed(b"\nHost: x\r") == [b"GET /"]
    assert framer.feed(b"\n") == [b"Host: x"]
    assert framer.partial == b""


@given(messages_st, st.binary(max_size=30).filter(lambda m: b"\n" not in m), st.data())
def test_line_any_split_same_messages(messages: list[bytes], trailing: bytes, data: st.DataObject) -> None:
    framer = LineFramer()
    stream = b"".join(framer.encode(m) for m in messages) + trailing
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=10))
    assert feed_split(LineFramer(), stream, cuts) == messages
    for got in whole_and_bytewise(LineFramer, stream):
        assert got == messages
    split = LineFramer()
    feed_split(split, stream, cuts)
    assert split.partial == trailing


@given(st.lists(st.binary(min_size=1, max_size=20), max_size=8), st.data())
def test_crlf_any_split(messages: list[bytes], data: st.DataObject) -> None:
    messages = [m.replace(b"\r", b"").replace(b"\n", b"") for m in messages]
    stream = b"".join(m + b"\r\n" for m in messages)
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=10))
    assert feed_split(LineFramer(b"\r\n"), stream, cuts) == messages


def test_line_exactly_max_size_is_accepted() -> None:
    framer = LineFramer(max_size=4)
    assert framer.feed(b"abcd\n") == [b"abcd"]
    assert framer.feed(b"abcd") == []
    assert framer.feed(b"\n") == [b"abcd"]


@given(st.integers(1, 8), st.data())
def test_line_too_long_is_refused_at_any_split(max_size: int, data: st.DataObject) -> None:
    stream = b"x" * (max_size + 1) + b"\nok\n"
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=6))
    framer = LineFramer(max_size=max_size)
    with pytest.raises(FrameTooLarge, match="max_size"):
        feed_split(framer, stream, cuts)
    assert framer.buffered <= max_size  # never holds more than the limit


def test_line_refused_before_delimiter_arrives() -> None:
    framer = LineFramer(max_size=10)
    framer.feed(b"x" * 10)
    with pytest.raises(FrameTooLarge):
        framer.feed(b"y")  # the 11th byte of a line that is not over: refused now
    assert framer.buffered == 0


def test_line_trickle_is_linear() -> None:
    # A 64 KiB line one byte at a time: each byte is scanned once, so this is quick.
    framer = LineFramer()
    for _ in range(65536):
        assert framer.feed(b"x") == []
    assert framer.feed(b"\n") == [b"x" * 65536]


def test_line_encode() -> None:
    framer = LineFramer(max_size=3)
    assert framer.encode(b"abc") == b"abc\n"
    assert framer.encode(bytearray(b"")) == b"\n"
    with pytest.raises(FrameTooLarge):
        framer.encode(b"abcd")
    with pytest.raises(ValueError, match="contains the delimiter"):
        framer.encode(b"a\nb")


@pytest.mark.parametrize(("delimiter", "error"), [(b"", ValueError), ("x", TypeError), (None, TypeError)])
def test_line_bad_delimiter(delimiter: object, error: type[Exception]) -> None:
    with pytest.raises(error, match="delimiter") as info:
        LineFramer(delimiter)  # type: ignore[arg-type]
    assert type(info.value) is error  # a bad argument: the plain builtin, no NetbasicsError


@pytest.mark.parametrize(("max_size", "error"), [(-1, ValueError), (1.5, TypeError), (True, TypeError)])
def test_bad_max_size(max_size: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        LineFramer(max_size=max_size)  # type: ignore[arg-type]
    with pytest.raises(error):
        LengthPrefixFramer(max_size=max_size)  # type: ignore[arg-type]


def test_line_accepts_bytearray_and_memoryview() -> None:
    framer = LineFramer()
    assert framer.feed(bytearray(b"a\nb")) == [b"a"]
    assert framer.feed(memoryview(b"c\n")) == [b"bc"]
    framer.feed(b"zz")
    framer.reset()
    assert framer.buffered == 0
    assert repr(framer) == "LineFramer(delimiter=b'\\n', max_size=65536)"


# --- LengthPrefixFramer -------------------------------------------------------------


@pytest.mark.parametrize("header_size", [1, 2, 4, 8])
@given(messages=st.lists(st.binary(max_size=200), max_size=8), data=st.data())
def test_length_any_split_same_messages(header_size: int, messages: list[bytes], data: st.DataObject) -> None:
    encoder = LengthPrefixFramer(header_size)
    stream = b"".join(encoder.encode(m) for m in messages)
    trailing = data.draw(st.binary(max_size=header_size - 1 or 0)) if header_size > 1 else b""
    stream_t = stream + trailing
    cuts = data.draw(st.lists(st.integers(0, len(stream_t)), max_size=10))
    framer = LengthPrefixFramer(header_size)
    assert feed_split(framer, stream_t, cuts) == messages
    assert framer.partial == trailing
    for got in whole_and_bytewise(lambda: LengthPrefixFramer(header_size), stream):
        assert got == messages


@pytest.mark.parametrize("header_size", [1, 2, 4, 8])
@given(messages=st.lists(st.binary(max_size=300), max_size=8), max_size=st.integers(0, 255))
def test_length_one_frame_per_feed(header_size: int, messages: list[bytes], max_size: int) -> None:
    # Each feed() holds exactly one frame (the usual request/response case, which feed()
    # takes by a shorter path): the same messages, limits and state as any other split.
    framer = LengthPrefixFramer(header_size, max_size=max_size)
    wire = LengthPrefixFramer(header_size)
    for message in messages:
        frame = wire.encode(message)
        if len(message) > max_size:
            with pytest.raises(FrameTooLarge) as info:
                framer.feed(frame)
            assert (info.value.size, info.value.limit) == (len(message), max_size)
            assert framer.buffered == 0
            with pytest.raises(FrameTooLarge):
                framer.encode(message)
            continue
        assert framer.encode(message) == frame == framer.encode(bytearray(message))
        assert framer.encode(memoryview(message)) == frame
        assert framer.feed(frame) == [message]
        assert framer.announced == len(message)
        assert (framer.buffered, framer.partial) == (0, b"")
        # A frame in the middle of a message is body, not a header.
        assert framer.feed(frame[:1]) == ([] if header_size > 1 or message else [b""])
        framer.reset()


@pytest.mark.parametrize("header_size", [1, 2, 4, 8])
def test_length_framer_pickles_and_copies_mid_message(header_size: int) -> None:
    framer = LengthPrefixFramer(header_size, max_size=100)
    wire = framer.encode(b"hello") + framer.encode(b"world")
    assert framer.feed(wire[: header_size + 7]) == [b"hello"]
    for twin in (pickle.loads(pickle.dumps(framer)), copy.deepcopy(framer)):
        assert (twin.header_size, twin.max_size, twin.partial) == (header_size, 100, framer.partial)
        assert twin.feed(wire[header_size + 7 :]) == [b"world"]
        assert twin.encode(b"x") == framer.encode(b"x")
    assert framer.partial == wire[header_size + 5 : header_size + 7]  # the copies took nothing from it
    assert framer.feed(wire[header_size + 7 :]) == [b"world"]


def test_length_huge_header_refused_when_header_arrives() -> None:
    framer = LengthPrefixFramer(max_size=1024)
    assert framer.feed(b"\xff\xff") == []
    with pytest.raises(FrameTooLarge, match="4294967295 bytes"):
        framer.feed(b"\xff\xff")  # nothing of the 4 GiB body has arrived, nor is buffered
    assert framer.buffered == 0


@given(st.data())
def test_length_oversize_refused_at_any_split(data: st.DataObject) -> None:
    stream = LengthPrefixFramer().encode(b"x" * 11) + b"more"
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=6))
    framer = LengthPrefixFramer(max_size=10)
    with pytest.raises(FrameTooLarge):
        feed_split(framer, stream, cuts)
    assert framer.buffered <= 4


def test_length_messages_before_body_complete() -> None:
    framer = LengthPrefixFramer(2)
    assert framer.feed(b"\x00\x05hel") == []
    assert framer.partial == b"\x00\x05hel"
    assert framer.feed(b"lo\x00") == [b"hello"]
    assert framer.partial == b"\x00"
    framer.reset()
    assert framer.partial == b""


def test_length_defaults_and_limits() -> None:
    assert LengthPrefixFramer().max_size == 16 * 1024 * 1024
    assert LengthPrefixFramer(1).max_size == 255
    assert LengthPrefixFramer(2, max_size=10).header_size == 2
    with pytest.raises(ValueError, match="does not fit"):
        LengthPrefixFramer(1, max_size=256)
    with pytest.raises(ValueError, match="header_size"):
        LengthPrefixFramer(3)
    with pytest.raises(FrameTooLarge):
        LengthPrefixFramer(1).encode(b"x" * 256)
    assert repr(LengthPrefixFramer(2, 9)) == "LengthPrefixFramer(header_size=2, max_size=9)"


def pending(framer: LineFramer | LengthPrefixFramer) -> bool:
    """``framer.error_pending``, read through a call: mypy would keep what the last assert narrowed it to."""
    return framer.error_pending


def test_line_good_messages_come_before_the_oversized_one() -> None:
    framer = LineFramer(max_size=4)
    assert not pending(framer)
    assert framer.feed(b"1234\n12345\n") == [b"1234"]  # the good line is not lost
    assert framer.partial == b"12345\n"  # the bytes after it, as received (ReceiveBuffer hands them on)
    assert pending(framer)  # what tells a transport not to wait for more bytes
    with pytest.raises(FrameTooLarge, match="max_size=4"):
        framer.feed(b"")
    assert not pending(framer)
    assert framer.feed(b"ok\n") == [b"ok"]
    assert framer.feed(b"ok\n12345") == [b"ok"]
    assert pending(framer)
    framer.reset()  # drops the held-back error too
    assert not pending(framer)
    assert framer.feed(b"ok\n") == [b"ok"]


def test_line_error_pending_is_only_a_signal() -> None:
    # feed() decides by its own state; a caller overwriting the attribute changes nothing.
    framer = LineFramer(max_size=4)
    framer.error_pending = True
    assert framer.feed(b"ok\n") == [b"ok"]
    framer.feed(b"ok\n12345")
    framer.error_pending = False
    with pytest.raises(FrameTooLarge):
        framer.feed(b"")


def test_length_header_alone() -> None:
    framer = LengthPrefixFramer(header_size=2, max_size=5)
    assert framer.header(b"hello") == b"\x00\x05"
    assert framer.header(bytearray(3)) + b"abc" == framer.encode(b"abc")
    assert framer.header(memoryview(b"abcd").cast("B", (2, 2))) == b"\x00\x04"  # counted in bytes
    with pytest.raises(FrameTooLarge, match="6 bytes"):
        framer.header(b"x" * 6)


def test_length_read_size_and_announced() -> None:
    default, most = 100, 1000
    framer = LengthPrefixFramer()
    assert (framer.announced, framer.read_size(default, most)) == (0, default)
    assert framer.feed(framer.encode(b"small")) == [b"small"]
    assert (framer.announced, framer.read_size(default, most)) == (5, default)
    # A large body in progress: the rest of it, up to ``most``.
    assert framer.feed((500).to_bytes(4, "big") + b"x" * 50) == []
    assert (framer.announced, framer.read_size(default, most)) == (500, 450)
    assert framer.feed(b"x" * 448) == []
    assert framer.read_size(default, most) == default  # 2 left: small messages may follow
    assert framer.feed(b"xx" + b"\x00\x00") == [b"x" * 500]
    assert framer.read_size(default, most) == 2  # after a large one: the rest of the header alone
    assert framer.feed((5000).to_bytes(4, "big")[2:]) == []
    assert framer.read_size(default, most) == most
    framer.reset()
    assert framer.read_size(default, most) == 4


@given(st.lists(st.integers(0, 3000), max_size=8), st.data())
def test_length_read_size_is_default_unless_announced_is_larger(sizes: list[int], data: st.DataObject) -> None:
    # The shortcut transports rely on: no call while announced <= default.
    default = 1000
    framer = LengthPrefixFramer()
    stream = b"".join(framer.encode(b"y" * size) for size in sizes)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=6)))
    prev = 0
    for cut in [*cuts, len(stream)]:
        framer.feed(stream[prev:cut])
        prev = max(prev, cut)
        size = framer.read_size(default, 4096)
        assert size >= 1
        if framer.announced <= default:
            assert size == default


def test_length_good_messages_come_before_the_oversized_header() -> None:
    # Before: the oversized header raised at once and the good message in the same feed was lost.
    framer = LengthPrefixFramer(header_size=2, max_size=4)
    assert framer.feed(framer.encode(b"hi") + b"\x00\x09abc") == [b"hi"]
    assert pending(framer)
    assert framer.partial == b"\x00\x09abc"  # the bytes after the good message, as received
    with pytest.raises(FrameTooLarge, match="announced message of 9 bytes"):
        framer.feed(b"")
    assert not pending(framer)
    assert framer.partial == b""
    assert framer.feed(framer.encode(b"ok")) == [b"ok"]
    # A header split across feeds: nothing came before it in the feed that completes it.
    assert framer.feed(framer.encode(b"a") + b"\x00") == [b"a"]
    with pytest.raises(FrameTooLarge):
        framer.feed(b"\x05")


@given(st.binary(max_size=40), st.lists(st.integers(1, 9), min_size=1, max_size=6), st.booleans())
def test_buffered_is_the_length_of_partial(stream: bytes, sizes: list[int], lines: bool) -> None:
    # ReceiveBuffer asks buffered (no copy) where it would otherwise build partial.
    framer: LineFramer | LengthPrefixFramer = (
        LineFramer(max_size=5) if lines else LengthPrefixFramer(header_size=1, max_size=5)
    )
    pos, i = 0, 0
    while pos < len(stream):
        piece = stream[pos : pos + sizes[i % len(sizes)]]
        pos, i = pos + len(piece), i + 1
        try:
            framer.feed(piece)
        except FrameTooLarge:
            pass
        assert framer.buffered == len(framer.partial)
