"""Bad input: the framers emit FramingError and resynchronise at the next line; nothing raises."""
import random

import pytest
from hypothesis import given, strategies as st

from bridge.at.frames import Command, Final, FramingError, Info
from bridge.at import CommandFramer, ResponseFramer, framer_for
from bridge.at.dialect import load
from support.framecheck import parse_whole


@pytest.mark.parametrize("dialect", ["onemo", "neoway"])
@pytest.mark.parametrize("source", ["host", "module"])
@given(junk=st.binary(max_size=4000))
def test_never_raises_on_any_bytes(dialect, source, junk):
    frames = parse_whole(framer_for(dialect, source), junk)
    assert all(frame is not None for frame in frames)


@pytest.mark.parametrize("dialect", ["onemo", "neoway"])
def test_random_megabyte_then_recovers(dialect):
    junk = random.Random(7).randbytes(100_000)
    framer = framer_for(dialect, "host")
    framer.feed(junk + b"\x1b\r\n")  # ESC ends a data mode the junk may have entered
    assert framer.feed(b"AT+CSQ\r") == [Command("CSQ", "execute", raw=b"AT+CSQ")]


def test_malformed_length_urc_is_an_error_then_resync():
    framer = ResponseFramer(load("onemo"))
    frames = framer.feed(b'\r\n+MHTTPURC: "content",0,1,1,abc,x\r\n\r\nOK\r\n')
    assert isinstance(frames[0], FramingError)
    assert frames[-1] == Final("OK")


def test_unknown_variant_is_an_error_then_resync():
    framer = ResponseFramer(load("onemo"))
    frames = framer.feed(b'\r\n+MHTTPURC: "bogus",0\r\n+MHTTPURC: "err",0,2\r\n')
    assert isinstance(frames[0], FramingError) and "bogus" in frames[0].reason
    assert isinstance(frames[1], Info) and frames[1].get("error_code") == "2"


def test_too_few_fields_is_an_error():
    framer = ResponseFramer(load("onemo"))
    frames = framer.feed(b'\r\n+MHTTPURC: "recv",0\r\nOK\r\n')
    assert isinstance(frames[0], FramingError) and frames[1] == Final("OK")


@pytest.mark.parametrize("source", ["host", "module"])
def test_overlong_line_is_skipped_to_the_next_line(source):
    dialect = load("onemo")
    framer = framer_for(dialect, source)
    frames = framer.feed(b"X" * (dialect.line_max + 10))
    assert len(frames) == 1 and isinstance(frames[0], FramingError)
    assert framer.buffered == 0  # nothing of it is held
    more = framer.feed(b"Y" * 5000 + b"\r\n" + (b"AT\r" if source == "host" else b"OK\r\n"))
    assert more[-1] in (Command("", "execute", raw=b"AT"), Final("OK"))


def test_oversized_payload_length_is_refused():
    dialect = load("neoway")
    framer = ResponseFramer(dialect)
    frames = framer.feed(b"\r\n+HTTPRECV: %d,abc\r\nOK\r\n" % (dialect.payload_max + 1))
    assert isinstance(frames[0], FramingError) and frames[-1] == Final("OK")


def test_unterminated_quote_in_a_command():
    framer = CommandFramer(load("onemo"))
    frames = framer.feed(b'AT+MHTTPCREATE="http://x\rAT\r')
    assert isinstance(frames[0], FramingError) and "quote" in frames[0].reason
    assert frames[1] == Command("", "execute", raw=b"AT")


def test_data_mode_overflow_skips_to_ctrl_z():
    framer = CommandFramer(load("onemo"))
    frames = framer.feed(b"AT+MHTTPCONTENT=0,1\r" + b"d" * 5000 + b"\x1aAT\r")
    assert isinstance(frames[1], FramingError) and "longer" in frames[1].reason
    assert frames[-1] == Command("", "execute", raw=b"AT")


def test_esc_cancels_data_mode():
    framer = CommandFramer(load("onemo"))
    frames = framer.feed(b"AT+MHTTPCONTENT=0,1\rabc\x1bAT\r")
    assert frames[1].ended_by == "esc" and frames[1].cancelled
    assert frames[2] == Command("", "execute", raw=b"AT")


def test_crlf_split_across_feeds_is_one_terminator():
    framer = CommandFramer(load("onemo"))
    assert framer.feed(b"AT+MHTTPCONTENT=0,0,3\r")[0].name == "MHTTPCONTENT"
    assert framer.feed(b"\n") == []  # the LF of the CR LF, not data
    assert framer.feed(b"\nab")[0].data == b"\nab"


def test_truncated_payload_at_end_of_input():
    frames = parse_whole(ResponseFramer(load("onemo")), b'\r\n+MHTTPURC: "content",0,10,10,10,abc')
    assert isinstance(frames[-1], FramingError) and "ended" in frames[-1].reason
