"""Every subcommand, every option, bad values: one line, the right exit status, never a traceback.

Exit status contract (docs/cli.md): 2 for a bad command line (including a bad option
value), 1 when some input rows were bad (one stderr line each), 0 otherwise.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli_run import run

# Values that are wrong for any option that takes a number of seconds.
BAD_SECONDS = [
    "-1",
    "-0.5",
    "0",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "1e400",
    "9" * 5000,
    "",
    " ",
    "abc",
    "1s",
    "0x10",
    "\x00",
]
BAD_COUNT = ["-1", "-3", "101", "1.5", "nan", "", "abc", "9" * 5000, "0x2", "\x00"]
BAD_NETWORK = ["", "garbage", "10.0.0.0/33", "1.2.3.256", "::/129", "10.0.0.0/-1", "9" * 5000, "10.0.0.0/8/8", "\x00"]
BAD_PORTS = ["", ",", "abc", "-1", "65536", "80,abc", "80,-1", "9" * 5000, "nan", "http s", "\x00"]
BAD_PREFIX = ["-1", "129", "", "abc", "nan", "1.5", "/", "9" * 5000, "\x00"]
BAD_ADDRESS = ["", "garbage", "1.2.3.256", "::g", "-1", "9" * 5000, "10.0.0.0/8", "\x00"]
BAD_BIND = ["", "garbage", "1.2.3.4:99999", "127.0.0.1:-1", "[::1]:abc", "nan", "9" * 5000, "[::1]:80:80", "\x00"]
BAD_CHOICE = ["", "TCP", "icmp", "nan", "-1", "\x00"]

# (command and valid positionals, option, bad values). The positionals never touch the
# network, and every row is refused before the command does anything.
OPTION_TABLE: list[tuple[list[str], str, list[str]]] = [
    (["probe", "127.0.0.1:9"], "--timeout", BAD_SECONDS),
    (["send", "tcp", "127.0.0.1:9", "hi"], "--timeout", BAD_SECONDS),
    (["send", "udp", "127.0.0.1:9", "hi"], "--timeout", BAD_SECONDS),
    (["send", "udp", "127.0.0.1:9", "hi"], "--retries", BAD_COUNT),
    (["serve", "tcp"], "--idle-timeout", BAD_SECONDS),
    (["serve", "tcp"], "--grace", [v for v in BAD_SECONDS if v not in ("0", "-0.5")] + ["-0.5", "3601"]),
    (["serve", "tcp"], "--bind", BAD_BIND),
    (["serve", "udp"], "--bind", BAD_BIND),
    (["check", "8.8.8.8"], "--allow", BAD_NETWORK),
    (["check", "8.8.8.8"], "--deny", BAD_NETWORK),
    (["check", "8.8.8.8"], "--ports", BAD_PORTS),
    (["port", "22"], "--protocol", BAD_CHOICE),
    (["net", "10.0.0.0/24"], "--subnets", BAD_PREFIX),
    (["net", "10.0.0.0/24"], "--subnets", ["4", "23", "33"]),  # do not fit the network
]

FLAGS: list[tuple[list[str], str]] = [
    (["classify", "10.0.0.1"], "--json"),
    (["classify", "10.0.0.1"], "--summary"),
    (["check", "8.8.8.8"], "--json"),
    (["check", "8.8.8.8"], "--allow-loopback"),
    (["check", "8.8.8.8"], "--allow-private"),
    (["check", "8.8.8.8"], "--allow-link-local"),
    (["port", "22"], "--json"),
    (["net", "10.0.0.0/24"], "--json"),
    (["net", "10.0.0.0/24"], "--hosts"),
    (["net", "10.0.0.0/24"], "--no-strict"),
    (["net", "10.0.0.0/24"], "--collapse"),
    (["probe", "127.0.0.1:9"], "--json"),
    (["serve", "tcp"], "--echo"),
    (["serve", "tcp"], "--print"),
    (["serve", "tcp"], "--discard"),
]


def _assert_usage_error(code: int, out: str, err: str) -> None:
    assert code == 2, err
    assert out == ""
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err
    assert len(err) < 600, err  # a 5,000-digit value is quoted cut short


def _bad_option_cases() -> Iterator[tuple[list[str], str]]:
    for base, option, values in OPTION_TABLE:
        for value in values:
            # Both spellings, and the option before and after the positionals.
            yield [*base, f"{option}={value}"], option
            yield [base[0], option, value, *base[1:]], option


@pytest.mark.parametrize(("argv", "option"), list(_bad_option_cases()))
def test_bad_option_values_are_usage_errors(argv: list[str], option: str) -> None:
    code, out, err = run(argv)
    _assert_usage_error(code, out, err)
    assert err.startswith(f"netbasics {argv[0]}: ")


@pytest.mark.parametrize(("base", "flag"), FLAGS)
def test_flags_take_no_value(base: list[str], flag: str) -> None:
    _assert_usage_error(*run([*base, f"{flag}=yes"]))


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["frob"],
        ["classify"],
        ["classify", "--frob", "10.0.0.1"],
        ["check"],
        ["port"],
        ["net"],
        ["net", "10.0.0.0/8", "10.0.0.0/16"],
        ["net", "--summarize", "10.0.0.1"],
        ["net", "--summarize", "10.0.0.1", "::1"],
        ["net", "--hosts", "--subnets", "26", "10.0.0.0/24"],
        ["probe"],
        ["serve"],
        ["serve", "sctp"],
        ["serve", "udp", "--idle-timeout", "5"],
        ["serve", "tcp", "--echo", "--print"],
        ["send", "tcp"],
        ["send", "icmp", "127.0.0.1:9"],
        ["send", "tcp", "127.0.0.1:9", "a", "b"],
    ],
)
def test_bad_command_lines_are_usage_errors(argv: list[str]) -> None:
    _assert_usage_error(*run(argv))


# --- data rows: exit 1, one stderr line per bad row, one JSON record per row ------------------


@contextlib.contextmanager
def _no_dns() -> Iterator[None]:
    """Every name fails to resolve at once: no test here waits for or depends on DNS."""

    def fail(*args: object, **kwargs: object) -> object:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    # The default resolver is socket.getaddrinfo, looked up at each call.
    original = socket.getaddrinfo
    socket.getaddrinfo = fail  # type: ignore[assignment]
    try:
        yield
    finally:
        socket.getaddrinfo = original


_ROW = st.one_of(
    st.text(alphabet=st.characters(blacklist_characters="\n"), max_size=30),
    st.sampled_from(["10.0.0.1", "::1", "8.8.8.8", "1.2.3.4:80", "10.0.0.0/8", "http://10.0.0.1/", "22", "https"]),
    st.integers(-(2**70), 2**70).map(str),
    st.floats().map(str),
)
_COMMANDS = [["classify"], ["check"], ["port"], ["net", "10.0.0.0/8", "--contains"], ["net", "--collapse"]]


def _clean(rows: list[str]) -> list[str]:
    """The rows the command sees: stripped, without blank lines and comments."""
    return [row.strip() for row in rows if row.strip() and not row.strip().startswith("#")]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(_COMMANDS), st.lists(_ROW, max_size=8))
def test_rows_from_stdin_one_record_each(command: list[str], rows: list[str]) -> None:
    lines = _clean(rows)
    with _no_dns():
        code, out, err = run([*command, "-", "--json"], stdin="".join(f"{line}\n" for line in lines))
    assert "Traceback" not in err
    errors = err.splitlines()
    if errors:
        assert code == 1
    else:
        # check (unsafe) and net --contains (outside) answer 1 for good rows too.
        assert code == 0 or command[0] in ("check", "net"), (code, err)
    records = [json.loads(line) for line in out.splitlines()]
    failed = [r for r in records if "error" in r]
    assert len(failed) == len(errors)
    if command[-1] != "--collapse":
        # Exactly one record per input row, in order, naming its input.
        assert [r["input"] for r in records] == lines
    for record in failed:
        assert set(record) == {"input", "error"}


@pytest.mark.parametrize(
    ("argv", "stdin", "bad_rows"),
    [
        (["classify", "10.0.0.1", "bogus", "1.2.3.4:80", "::1"], "", 2),
        (["classify", "-"], "10.0.0.1\nbogus\n\n# comment\n1.2.3.256\n", 2),
        (["classify", "--summary", "-"], "10.0.0.1\nbogus\n", 1),
        (["check", "8.8.8.8", "10.0.0.0/8", "http://"], "", 2),
        (["port", "22", "-1", "99999", "no-such-service"], "", 3),
        (["port", "-"], "22\nredis\nbogus\n", 1),
        (["net", "10.0.0.0/8", "--contains", "garbage", "10.0.0.1", "1.2.3.256"], "", 2),
        (["net", "--collapse", "10.1.2.3/8", "10.0.0.0/8"], "", 1),
        (["probe", "bogus", "no-port-here", "http://127.0.0.1:9/"], "", 3),
    ],
)
def test_bad_rows_exit_1_one_line_each(argv: list[str], stdin: str, bad_rows: int) -> None:
    with _no_dns():
        code, _, err = run(argv, stdin)
    assert code == 1
    assert len(err.splitlines()) == bad_rows, err
    assert "Traceback" not in err


def test_no_traceback_as_a_real_process() -> None:
    """The same contract through the real entry point (python -m), stdin with bad bytes included."""
    for argv, data, expected in [
        (["probe", "--timeout", "nan", "127.0.0.1:9"], b"", 2),
        (["send", "udp", "127.0.0.1:9", "x", "--retries", "-3"], b"", 2),
        (["classify", "-"], b"10.0.0.1\n\xff\xfe1.2.3.4\n::1\n", 1),
    ]:
        proc = subprocess.run(
            [sys.executable, "-m", "netbasics", *argv], input=data, capture_output=True, timeout=60, check=False
        )
        assert proc.returncode == expected, proc.stderr
        assert b"Traceback" not in proc.stderr
        assert len(proc.stderr.splitlines()) == 1, proc.stderr


# --- one exit-code rule for every subcommand (docs/cli.md, Conventions) ---------------------------
# An option's value that is wrong in any way is a usage error (2); a bad input row is 1.
EXIT_RULE = [
    (["classify", "1.2.3.4:80"], 1),
    (["classify", "--json", "x"], 1),
    (["check", "--allow", "10.1.2.3/8", "10.9.9.9"], 2),
    (["check", "--deny", "10.1.2.3/8", "10.9.9.9"], 2),
    (["check", "--allow", "10.0.0.0/8", "10.9.9.9"], 0),
    (["check", "--ports", "80,", "8.8.8.8:80"], 2),
    (["check", "--ports", ",80", "8.8.8.8:80"], 2),
    (["check", "--ports", "80,,443", "8.8.8.8:80"], 2),
    (["check", "10.1.2.3/8"], 1),
    (["port", "99999"], 1),
    (["net", "10.1.2.3/8"], 1),
    (["net", "10.0.0.0/8", "--subnets", "4"], 2),
    (["net", "--summarize", "10.0.0.9", "10.0.0.1"], 2),
    (["net", "--summarize", "10.0.0.1", "::1"], 2),
    (["net", "--summarize", "10.0.0.1", "x"], 2),
    (["net", "--summarize", "10.0.0.1", "10.0.0.9"], 0),
    (["net", "10.0.0.0/8", "--contains", "x"], 1),
    (["probe", "--timeout", "1_0", "127.0.0.1:9"], 2),
    (["probe", "--timeout", "\uff11", "127.0.0.1:9"], 2),
    (["probe", "--timeout", " 1", "127.0.0.1:9"], 2),
    (["probe", "nonsense"], 1),
    (["send", "udp", "--retries", "\uff12", "127.0.0.1:9", "x"], 2),
    (["send", "udp", "--retries", "1_0", "127.0.0.1:9", "x"], 2),
    (["send", "tcp", "--timeout", "\u0661", "127.0.0.1:9", "x"], 2),
    (["serve", "tcp", "--grace", "1_0"], 2),
    (["serve", "tcp", "--idle-timeout", "\uff11"], 2),
]


@pytest.mark.parametrize(("argv", "status"), EXIT_RULE, ids=[" ".join(a) for a, _ in EXIT_RULE])
def test_one_exit_code_rule(argv: list[str], status: int) -> None:
    code, out, err = run(argv)
    assert code == status, (out, err)
    if status:
        assert err.count("\n") >= 1
        assert "Traceback" not in err
