"""ReceiveBuffer: the sans-I/O owner of a stream's received bytes, fed in every chunking."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netbasics import Framer, FrameTooLarge, LengthPrefixFramer, LineFramer, ReceiveBuffer
from user_framers import Digitstrings

# --- plain reads ------------------------------------------------------------------------


def test_take_and_take_exactly() -> None:
    buf = ReceiveBuffer()
    assert buf.take(10) == b""
    assert buf.take_exactly(0) == b""
    assert buf.take_exactly(1) is None
    buf.feed(b"hello")
    buf.feed(bytearray(b" wor"))
    buf.feed(memoryview(b"ld"))
    assert len(buf) == 11
    assert buf
    assert buf.take_exactly(12) is None
    assert len(buf) == 11  # a None took nothing
    assert buf.take_exactly(5) == b"hello"
    assert buf.take(3) == b" wo"
    assert buf.take(100) == b"rld"
    assert not buf
    assert len(buf) == 0


def test_feed_copies_mutable_input() -> None:
    buf = ReceiveBuffer()
    framer = LineFramer()
    assert buf.take_message(framer) is None
    data = bytearray(b"abc")
    buf.feed(data)  # held for the framer: it must not see a later change of the caller's buffer
    data[:] = b"xyz"
    buf.feed(b"\n")
    assert buf.take_message(framer) == b"abc"


def test_take_until() -> None:
    buf = ReceiveBuffer()
    buf.feed(b"one\r\ntwo\r")
    assert buf.take_until(b"\r\n", 100) == b"one\r\n"
    assert buf.take_until(b"\r\n", 100) is None
    buf.feed(b"\nthree")
    assert buf.take_until(b"\r\n", 100) == b"two\r\n"
    assert buf.take_until(b"\n", 100) is None
    assert buf.take_rest() == b"three"
    assert buf.take_rest() == b""


def test_take_until_limit_is_the_line_framers() -> None:
    # max_size=4: b"1234\n" is fine, five bytes without a delimiter are not.
    buf = ReceiveBuffer()
    buf.feed(b"1234\n12345\n")
    assert buf.take_until(b"\n", 4) == b"1234\n"
    with pytest.raises(FrameTooLarge, match="max_size=4"):
        buf.take_until(b"\n", 4)
    # The bytes stay buffered and the error stays: the stream is out of step.
    with pytest.raises(FrameTooLarge):
        buf.take_until(b"\n", 4)
    assert buf.take_rest() == b"12345\n"


def test_take_until_after_other_reads_rescans() -> None:
    buf = ReceiveBuffer()
    buf.feed(b"abc")
    assert buf.take_until(b"\n", 10) is None
    assert buf.take(1) == b"a"
    buf.feed(b"\n")
    assert buf.take_until(b"\n", 10) == b"bc\n"
    buf.feed(b"x;y\n")
    assert buf.take_until(b"\n", 10) == b"x;y\n"  # another delimiter: searched from the start
    buf.feed(b"x;y\n")
    assert buf.take_until(b"?", 10) is None
    assert buf.take_until(b";", 10) == b"x;"


def test_readinto_and_unread() -> None:
    buf = ReceiveBuffer()
    target = bytearray(4)
    assert buf.readinto(memoryview(target)) == 0
    buf.feed(b"abcdef")
    assert buf.readinto(memoryview(target)) == 4
    assert target == b"abcd"
    assert buf.readinto(memoryview(target)) == 2
    assert target[:2] == b"ef"
    buf.feed(b"3")
    buf.unread(b"12")
    assert buf.take(10) == b"123"


def test_eof() -> None:
    buf = ReceiveBuffer()
    buf.feed(b"x")
    assert ReceiveBuffer().eof is False
    buf.feed_eof()
    buf.feed_eof()
    assert buf.eof
    buf.feed(b"")  # what recv() returns at the end: harmless
    with pytest.raises(ValueError, match="feed_eof"):
        buf.feed(b"more")
    assert buf.take_exactly(2) is None
    assert buf.take_rest() == b"x"
    assert "eof" in repr(buf)


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda b: b.take(-1), ValueError),
        (lambda b: b.take(True), TypeError),
        (lambda b: b.take_exactly("3"), TypeError),
        (lambda b: b.take_until(b"", 10), ValueError),
        (lambda b: b.take_until("\n", 10), TypeError),
        (lambda b: b.take_until(b"\n", -1), ValueError),
        (lambda b: b.take_until(b"\n", 1.5), TypeError),
    ],
)
def test_bad_arguments(call: Callable[[ReceiveBuffer], object], error: type[Exception]) -> None:
    with pytest.raises(error):
        call(ReceiveBuffer())


def framer_of(buf: ReceiveBuffer) -> Framer | None:
    """``buf.framer``, read through a call: mypy would keep what the last assert narrowed it to."""
    return buf.framer


# --- framed reads -----------------------------------------------------------------------


def test_take_message_and_back_to_plain_reads() -> None:
    buf = ReceiveBuffer()
    framer = LengthPrefixFramer()
    buf.feed(b"HDR" + framer.encode(b"one") + framer.encode(b"two") + b"\x00\x00")
    assert buf.take_exactly(3) == b"HDR"
    assert buf.take_message(framer) == b"one"
    assert framer_of(buf) is framer
    assert len(buf) == 3 + 2  # b"two" split off already, the partial header
    # A plain read gets what the framer held, as it was received.
    assert buf.take_rest() == framer.encode(b"two") + b"\x00\x00"
    assert framer_of(buf) is None
    assert not framer.partial


def test_switching_framers_hands_the_bytes_over() -> None:
    buf = ReceiveBuffer()
    buf.feed(b"a\nb\nc")
    first = LineFramer()
    assert buf.take_message(first) == b"a"
    second = LineFramer()
    assert buf.take_message(second) == b"b"
    assert buf.take_message(second) is None
    assert second.partial == b"c"
    assert not first.partial


def test_held_error_comes_after_the_good_messages() -> None:
    buf = ReceiveBuffer()
    framer = LineFramer(max_size=4)
    buf.feed(b"ok\nfine\ntoo long")
    assert buf.take_message(framer) == b"ok"
    assert buf.take_message(framer) == b"fine"
    with pytest.raises(FrameTooLarge):
        buf.take_message(framer)  # at once, not after more bytes


def test_read_size_follows_a_large_body() -> None:
    buf = ReceiveBuffer()
    framer = LengthPrefixFramer()
    assert buf.read_size(65536, framer) == 65536
    buf.feed((1 << 20).to_bytes(4, "big") + bytes(1000))
    assert buf.take_message(framer) is None
    assert buf.read_size(65536) == 65536  # not asked about this framer
    assert buf.read_size(65536, framer) == (1 << 20) - 1000
    assert buf.read_size(65536, LineFramer()) == 65536
    buf.feed(bytes((1 << 20) - 1000))
    assert buf.take_message(framer) == bytes(1 << 20)
    assert buf.read_size(65536, framer) == 4  # the next header alone


def test_trickled_line_is_scanned_once() -> None:
    # 200,000 one-byte feeds of a line without a delimiter: linear, so this is quick.
    buf = ReceiveBuffer()
    for _ in range(200_000):
        buf.feed(b"x")
        assert buf.take_until(b"\r\n", 1 << 20) is None
    buf.feed(b"\r\n")
    line = buf.take_until(b"\r\n", 1 << 20)
    assert line is not None
    assert len(line) == 200_002


# --- the same stream in every chunking ----------------------------------------------------

# A read program: what the caller asks for, in order. Each op names a read and its argument.
# (read, delimiter, count): take_exactly(count), take_until(delimiter, count) or take_message.
Op = tuple[str, bytes, int]
Outcome = tuple[str, object]

FRAMERS: dict[str, Callable[[], Framer]] = {
    "line": lambda: LineFramer(b"\r\n", max_size=6),
    "prefix": lambda: LengthPrefixFramer(header_size=1, max_size=6),
    "digits": lambda: Digitstrings(max_size=6),
}


def _pieces(stream: bytes, sizes: list[int]) -> Iterator[bytes | bytearray | memoryview]:
    pos, i = 0, 0
    kinds = (bytes, bytearray, memoryview)
    while pos < len(stream):
        size = sizes[i % len(sizes)] if sizes else len(stream)
        piece = stream[pos : pos + size]
        yield kinds[i % 3](piece)
        pos += size
        i += 1


def _run(stream: bytes, sizes: list[int], program: list[Op]) -> list[Outcome]:
    """Drive a buffer the way a transport does: feed a chunk whenever a read returns None."""
    buf = ReceiveBuffer()
    framers = {name: make() for name, make in FRAMERS.items()}
    pieces = _pieces(stream, sizes)
    out: list[Outcome] = []
    for op in program:
        try:
            while True:
                if op[0] == "exactly":
                    result = buf.take_exactly(op[2])
                elif op[0] == "until":
                    result = buf.take_until(op[1], op[2])
                else:
                    result = buf.take_message(framers[op[0]])
                if result is not None:
                    break
                piece = next(pieces, None)
                if piece is None:
                    buf.feed_eof()
                    return [*out, ("eof", buf.take_rest())]
                buf.feed(piece)
        except (FrameTooLarge, ValueError) as exc:
            return [*out, ("error", type(exc).__name__)]
        out.append((op[0], result))
    return [*out, ("left", buf.take_rest() + b"".join(bytes(p) for p in pieces))]


@st.composite
def programs(draw: st.DrawFn) -> tuple[bytes, list[Op]]:
    """A stream and the reads that parse it, with bodies around every limit (6 bytes)."""
    stream = bytearray()
    program: list[Op] = []
    body = st.binary(max_size=8).map(lambda b: b.replace(b"\r", b"r"))
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["exactly", "until", "line", "prefix", "digits", "garbage"]))
        data = draw(body)
        if kind == "exactly":
            stream += data
            program.append(("exactly", b"", len(data)))
        elif kind == "until":
            stream += data + b"\r\n"
            program.append(("until", b"\r\n", draw(st.integers(0, 8))))
        elif kind == "line":
            stream += data + b"\r\n"
            program.append(("line", b"", 0))
        elif kind == "prefix":
            stream += bytes([len(data)]) + data
            program.append(("prefix", b"", 0))
        elif kind == "digits":
            stream += b"%d:%s," % (len(data), data)
            program.append(("digits", b"", 0))
        else:  # bytes the reads do not expect: errors, also held-back ones, must agree too
            stream += draw(st.binary(max_size=12))
    return bytes(stream), program


chunkings: st.SearchStrategy[list[int]] = st.one_of(
    st.just([1]),  # one byte at a time
    st.just([]),  # everything at once
    st.lists(st.integers(1, 20), min_size=1, max_size=10),
)


@settings(max_examples=300, deadline=None)
@given(programs(), chunkings)
def test_results_do_not_depend_on_the_chunking(case: tuple[bytes, list[Op]], sizes: list[int]) -> None:
    stream, program = case
    assert _run(stream, sizes, program) == _run(stream, [], program)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from([b"\n", b"\r\n", b"END"]),
    st.integers(0, 40),
    st.lists(st.integers(1, 50), min_size=1, max_size=8),
)
def test_line_of_limit_plus_one_raises_exactly_then(delimiter: bytes, limit: int, sizes: list[int]) -> None:
    """take_until and LineFramer: raise once limit + len(delimiter) bytes hold no delimiter, never sooner."""
    line = b"x" * (limit + 1) + delimiter  # one byte too long
    fits = b"y" * limit + delimiter
    for reader in ("until", "line"):
        buf = ReceiveBuffer()
        framer = LineFramer(delimiter, limit)

        def read() -> bytes | None:
            return buf.take_until(delimiter, limit) if reader == "until" else buf.take_message(framer)  # noqa: B023

        fed = 0
        results: list[bytes] = []
        raised_at = None
        for piece in _pieces(fits + line, sizes):
            buf.feed(piece)
            fed += len(bytes(piece))
            try:
                while (got := read()) is not None:
                    results.append(got)
            except FrameTooLarge:
                raised_at = fed
                break
        expected_line = fits if reader == "until" else fits[:limit]
        assert results == [expected_line]
        # Raised at the first read after the first limit + len(delimiter) bytes of the
        # long line were fed, whatever the chunk sizes.
        assert raised_at is not None
        threshold = len(fits) + limit + len(delimiter)
        assert raised_at >= threshold
        assert raised_at - len(bytes(_last_piece(fits + line, sizes, raised_at))) < threshold


def _last_piece(stream: bytes, sizes: list[int], fed: int) -> bytes | bytearray | memoryview:
    total = 0
    for piece in _pieces(stream, sizes):
        total += len(bytes(piece))
        if total == fed:
            return piece
    raise AssertionError("no piece ends there")


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 254), st.lists(st.integers(1, 5), min_size=1, max_size=4))
def test_message_of_limit_plus_one_raises_exactly_then(limit: int, sizes: list[int]) -> None:
    """A length prefix announcing limit + 1 is refused when its header is complete, limit is not."""
    for announced, refused in ((limit, False), (limit + 1, True)):
        buf = ReceiveBuffer()
        framer = LengthPrefixFramer(header_size=2, max_size=limit)
        stream = announced.to_bytes(2, "big") + bytes(announced)
        fed = 0
        outcome: tuple[str, int] | None = None
        for piece in _pieces(stream, sizes):
            buf.feed(piece)
            fed += len(bytes(piece))
            try:
                got = buf.take_message(framer)
            except FrameTooLarge:
                outcome = ("raised", fed)
                break
            if got is not None:
                outcome = ("message", len(got))
                break
        if refused:
            assert outcome is not None
            assert outcome[0] == "raised"
            assert isinstance(outcome, tuple)
            assert 2 <= outcome[1] < 2 + max(sizes)
        else:
            assert outcome == ("message", limit)
