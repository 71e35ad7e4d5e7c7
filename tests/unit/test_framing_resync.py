"""Length-framed reads are bounded: a length above the dialect's maximum is refused at once, and
a payload that never completes is dropped by ResponseFramer.abandon_payload() (the owner's
deadline), after which framing resynchronises at the next line start and AT+CGSN's answer frames."""
from __future__ import annotations

import pytest

from bridge.at.dialect import load
from bridge.at.frames import FramingError, HttpBody, HttpHead, Info, Line
from bridge.at import ResponseFramer

CGSN_ANSWER = b"\r\n866123456789012\r\n\r\nOK\r\n"


def _cgsn_frames(framer: ResponseFramer) -> list:
    return framer.feed(CGSN_ANSWER)


def _assert_cgsn(frames: list) -> None:
    assert [type(f).__name__ for f in frames] == ["Line", "Final"], frames
    assert frames[0] == Line(b"866123456789012") and frames[1].result == "OK"


SHORT = {
    "onemo content 5000, 10 delivered, then lines": ("onemo", b'\r\n+MHTTPURC: "content",0,5000,5000,5000,abcdefghij\r\n'),
    "onemo header 5000, then a new URC": ("onemo", b'\r\n+MHTTPURC: "header",0,200,5000,HTTP/1.1 200\r\n\r\n+MHTTPURC: "err",0,5\r\n'),
    "onemo read 5000, then OK": ("onemo", b"\r\n+MHTTPREAD: 0,1,0,5000,abc\r\n\r\nOK\r\n"),
    "neoway recv 5000, then +CME ERROR": ("neoway", b"\r\n+HTTPRECV: 5000,abc\r\n\r\n+CME ERROR: 3\r\n"),
    "neoway bare recv, head without length": ("neoway", b"\r\n+HTTPRECV:\r\nHTTP/1.1 200 OK\r\nServer: x\r\n\r\nabc\r\n"),
    "neoway bare recv, head never ends": ("neoway", b"\r\n+HTTPRECV:\r\nHTTP/1.1 200 OK\r\nServer: x\r\n"),
    "payload cut in the middle of a line": ("onemo", b'\r\n+MHTTPURC: "content",0,5000,5000,5000,abc'),
}


@pytest.mark.parametrize("case", SHORT, ids=list(SHORT))
def test_abandoned_payload_then_cgsn_frames(case):
    dialect, stream = SHORT[case]
    framer = ResponseFramer(load(dialect))
    before = framer.feed(stream)
    assert framer.in_payload
    assert not any(isinstance(f, FramingError) for f in before)  # a slow payload is not cut by the bytes
    error = framer.abandon_payload()
    assert isinstance(error, FramingError) and "abandoned" in error.reason
    assert not framer.in_payload and framer.abandon_payload() is None
    rest = framer.feed()
    assert all(isinstance(f, (Info, FramingError)) or getattr(f, "result", None) for f in rest), rest
    if case == "payload cut in the middle of a line":
        assert framer.feed(b"rest of it\r\n") == []  # the rest of the payload's line is dropped
    _assert_cgsn(_cgsn_frames(framer))


def test_resync_keeps_the_frames_that_followed():
    framer = ResponseFramer(load("onemo"))
    framer.feed(b'\r\n+MHTTPURC: "content",0,5000,5000,5000,abc\r\n\r\n+MHTTPURC: "err",0,5\r\n\r\nOK\r\n')
    framer.abandon_payload()
    frames = framer.feed()
    assert frames[0].variant == "err" and frames[0].get("error_code") == "5" and frames[1].result == "OK"


def test_abandon_with_nothing_pending_is_none():
    framer = ResponseFramer(load("onemo"))
    framer.feed(b"\r\nOK\r\n")
    assert framer.abandon_payload() is None
    _assert_cgsn(_cgsn_frames(framer))


@pytest.mark.parametrize("dialect, line", [
    ("onemo", b'\r\n+MHTTPURC: "content",0,%d,%d,%d,abc\r\n'),
    ("neoway", b"\r\n+HTTPRECV: %d,abc\r\n"),
])
def test_length_above_payload_max_is_refused_at_once(dialect, line):
    spec = load(dialect)
    framer = ResponseFramer(spec)
    too_big = spec.payload_max + 1
    frames = framer.feed(line % ((too_big,) * line.count(b"%d")))
    assert isinstance(frames[0], FramingError) and str(spec.payload_max) in frames[0].reason
    assert not framer.in_payload
    _assert_cgsn(_cgsn_frames(framer))


def test_raw_head_longer_than_its_bound_is_refused_and_resynchronised():
    framer = ResponseFramer(load("neoway"))
    frames = framer.feed(b"\r\n+HTTPRECV:\r\nHTTP/1.1 200 OK\r\n" + b"X-A: b\r\n" * 10000)
    assert isinstance(frames[-1], FramingError) and "header block" in frames[-1].reason
    assert not any(isinstance(f, (HttpHead, HttpBody, Line)) for f in frames)
    _assert_cgsn(_cgsn_frames(framer))
