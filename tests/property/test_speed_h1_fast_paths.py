"""The fast paths of issue 12 (OneMO firmware -> bridge -> Neoway module) against the slow paths
they stand in for, on any stream cut anywhere:

- ResponseFramer.take_payload_run's one regex a frame (none for a frame whose prefix repeats the
  last one's bytes) gives the runs of the blank-skip, the prefix regex and the 48-byte prefix
  probe it replaced (a reference copy of the old loop);
- ResponseFramer.start_payload starts a frame exactly as next_frame would: the same frames after;
- the Neoway host side's pump ahead of framing (NeowayHostSide._pump) and its own count of a
  Content-Length body (Reception._count) give the same events, failures included, as framing
  every byte and handing every body byte to h11;
- HostSink's content URCs are byte for byte those of the one-format-a-URC writer it replaced.
"""
from __future__ import annotations

import contextlib
import logging
from unittest import mock

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bridge.at import NEED_DATA, ResponseFramer
from bridge.at.dialect import load
from bridge.at.framer import _BLANK
from bridge.at.payloads import _PREFIX, _PREFIX_PROBE, payload_run
from bridge.model import Method, Request, ResponseHead
from bridge.neoway.host.reception import Reception
from bridge.neoway.host.side import NeowayHostSide
from bridge.onemo.encoding import ASCII, HEX, encode_output
from bridge.onemo.module.sinks import HostSink
from bridge.onemo.module.transfer import Transfer, urc
from support.hostside import feed, merged
from support.neoway_hostside import CLOSED, OK, URL, piece, started

NEOWAY, ONEMO = load("neoway"), load("onemo")
CRLF = b"\r\n"


# ---- payload_run: one regex a frame, the same runs --------------------------------------------


def old_payload_run(buf, pos, pattern, most, accept, first):
    """payload_run before issue 12: blanks skipped, then the prefix regex, then the prefix probe."""
    end = len(buf)
    length_at = pattern.shape.fields.index(pattern.shape.payload.length)
    spans = []
    while True:
        start = _BLANK.match(buf, pos).end()
        match = pattern.regex.match(buf, start)
        if match is None or _PREFIX.match(buf, start, start + _PREFIX_PROBE) is None:
            break
        fields = match.groups()
        length = int(fields[length_at])
        stop = match.end() + length
        if length > most or stop >= end or buf[stop] != 0x0D or not accept(fields, length):
            break
        spans.append((match.end(), stop))
        pos = stop
    return first + b"".join(bytes(buf[a:b]) for a, b in spans), pos


def recv_frame(data: bytes, blanks: bytes, spaces: bytes) -> bytes:
    return blanks + b"+HTTPRECV" + spaces + b":" + spaces + b"%d," % len(data) + data + b"\r\n"


def content_frame(data: bytes, blanks: bytes, spaces: bytes) -> bytes:
    return blanks + b'+MHTTPURC' + spaces + b': "content",0,0,%d,%d,' % (len(data), len(data)) + data + b"\r\n"


BLANKS = st.sampled_from([b"", b"\r\n", b"\r\n\r\n", b" \t\x00\r\n", b"\n"])
SPACES = st.sampled_from([b"", b" ", b"\t ", b" " * 37, b" " * 38, b" " * 39, b" " * 60])  # around the probe's end
PAYLOADS = st.binary(max_size=30) | st.sampled_from([b"\r\n+HTTPRECV: 3,abc", b'\r\n+MHTTPURC: "content",0,0,1,1,x'])


@given(frames=st.lists(st.tuples(PAYLOADS, BLANKS, SPACES, st.booleans()), max_size=8) | st.lists(
           st.tuples(st.sampled_from([b"abcd", b"wxyz", b"abc"]), st.just(b"\r\n"), st.just(b" "), st.just(True)), max_size=12),
       tail=st.sampled_from([b"", b"\r", b"\r\nRING\r\n", b"\r\n+HTTPRECV: 9,ab", b"\r\n+HTTPRECV: 4,ab", b"\r\n+HTTPRECV"]),
       most=st.sampled_from([5, 1 << 20]), refuse_at=st.integers(0, 9))
def test_payload_run_takes_what_the_three_regexes_took(frames, tail, most, refuse_at):
    for dialect, name, variant, make in ((NEOWAY, "+HTTPRECV", None, recv_frame), (ONEMO, "+MHTTPURC", "content", content_frame)):
        framer = ResponseFramer(dialect, prompts=False)
        pattern = framer._runs[(name, variant)]
        stream = bytearray(b"".join(make(d, b, s) if ours else b"\r\n+CSQ: 1,2\r\n" for d, b, s, ours in frames) + tail)
        seen: list[list] = [[], []]

        def accepting(index):
            def accept(fields, length):
                seen[index].append((fields, length))
                return len(seen[index]) != refuse_at
            return accept
        new = payload_run(stream, 0, pattern, most, accepting(0), b"<", [])
        old = old_payload_run(stream, 0, pattern, most, accepting(1), b"<")
        assert new == old and seen[0] == seen[1]


# ---- start_payload: as next_frame starts it ---------------------------------------------------------


def frames_of(stream: bytes, cuts: list[int], start: bool) -> list:
    framer = ResponseFramer(NEOWAY, prompts=False)
    out, at = [], 0
    for cut in sorted({c for c in cuts if 0 < c < len(stream)}) + [len(stream)]:
        framer.receive_data(stream[at:cut])
        at = cut
        if start and framer.start_payload("+HTTPRECV", None):
            assert framer.next_frame() is NEED_DATA  # nothing to give until more bytes come
        while (frame := framer.next_frame()) is not NEED_DATA:
            out.append(frame)
            if start and framer.start_payload("+HTTPRECV", None):
                assert framer.next_frame() is NEED_DATA
        out.append(framer.in_payload)
    return out


@given(frames=st.lists(st.tuples(PAYLOADS, BLANKS, SPACES, st.booleans()), max_size=6), data=st.data())
def test_start_payload_starts_a_frame_as_next_frame_does(frames, data):
    stream = b"".join(recv_frame(d, b, s) if ours else b"\r\nRING\r\n" for d, b, s, ours in frames)
    stream += data.draw(st.sampled_from([b"", b"\r\n+HTTPRECV: 2000000,x", b"\r\n+HTTPRECV: 5,ab", b"\r\n+HTTP"]))
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=10))
    assert frames_of(stream, cuts, start=True) == frames_of(stream, cuts, start=False)


# ---- the Neoway host side: pump and count against framing everything and h11 -----------------------


def bodies(draw) -> bytes:
    data = draw(st.binary(max_size=3000) | st.just(b"\r\n+HTTPRECV: 5,abcde\r\n" * 40), label="body")
    head = b"HTTP/1.1 200 OK\r\n"
    framing = draw(st.sampled_from(["length", "chunked", "close", "head"]), label="framing")
    if framing == "length":
        raw = head + b"Content-Length: %d\r\n\r\n" % len(data) + data
    elif framing == "close":
        raw = head + b"\r\n" + data
    elif framing == "head":
        raw = head + b"Content-Length: %d\r\n\r\n" % (len(data) + 7)  # a body that never comes whole
        raw += data
    else:
        raw = head + b"Transfer-Encoding: chunked\r\n\r\n" + b"%x\r\n" % len(data) + data + b"\r\n0\r\n\r\n" if data else \
            head + b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    cut = draw(st.integers(0, len(raw)), label="the response cut short here") if draw(st.booleans()) else len(raw)
    return raw[:cut] + draw(st.sampled_from([b"", b"trailing bytes"]), label="after the response")


@st.composite
def module_streams(draw) -> bytes:
    raw = bodies(draw)
    sizes = draw(st.lists(st.integers(1, 1500) | st.integers(1, 40) | st.just(4096), min_size=1, max_size=12))
    frames, start = [], 0
    for size in sizes + [len(raw)]:
        if start < len(raw):
            frames.append(piece(raw[start:start + size]))
            start += size
    if draw(st.booleans(), label="pieces after the response"):
        frames += [piece(b"more"), piece(b"x" * 4096)]
    extras = draw(st.lists(st.tuples(st.integers(0, len(frames)), st.sampled_from(
        [b"\r\nRING\r\n", piece(b""), b"\r\n+CEREG: 1\r\n", b"\r\n+HTTPRECV: 3,abcZ"])), max_size=3))
    for spot, extra in sorted(extras, reverse=True):
        frames.insert(spot, extra)
    frames.append(draw(st.sampled_from([CLOSED, b""])))
    return frames


class Dropped(logging.Handler):
    """The host side's "output dropped" warnings."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if "dropped" in record.getMessage():
            self.messages.append(record.getMessage())


def never_counting(drain):
    def drain_to_h11(self, kind, events):  # every body byte goes to h11, as before issue 12
        drain(self, kind, events)
        self._counting = False
    return drain_to_h11


def outcome(stream: bytes, cuts: list[int], fast: bool) -> tuple:
    """(the request's events, body chunks merged; the unsolicited lines; the warnings)."""
    dropped = Dropped()
    with contextlib.ExitStack() as stack:
        if not fast:
            stack.enter_context(mock.patch.object(Reception, "_drain", never_counting(Reception._drain)))
            stack.enter_context(mock.patch.object(NeowayHostSide, "_pump", lambda self, data: False))
        host = started()
        token = host.submit(Request(Method.GET, URL))
        feed(host, OK * 5)
        logging.getLogger("bridge").addHandler(dropped)
        try:
            feed(host, stream, cuts)
            host.on_time(10_000.0)  # what was left waiting times out
        finally:
            logging.getLogger("bridge").removeHandler(dropped)
        events = [e for t, e in host.take_events() if t == token]
        return merged(events), host.take_unsolicited(), dropped.messages


@given(frames=module_streams(), data=st.data())
@example(frames=[piece(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n"), piece(b"abc"), piece(b"more"), piece(b"x"), CLOSED],
         data=None).via("pieces after the body, in the read that ends it")
def test_the_pump_and_the_count_give_what_framing_and_h11_give(frames, data):
    stream = b"".join(frames)
    ends = [sum(len(f) for f in frames[:at]) for at in range(1, len(frames))]  # between two frames
    anywhere = st.integers(0, len(stream)) | st.sampled_from(ends) if ends else st.integers(0, len(stream))
    cuts = data.draw(st.lists(anywhere, max_size=16), label="cuts") if data is not None else ends[:1]
    assert outcome(stream, cuts, fast=True) == outcome(stream, cuts, fast=False)


# ---- HostSink: the content URCs of the writer it replaced -------------------------------------------


class Io:
    backlog_max = 1 << 30

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.timers: dict = {}

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))

    def line(self, text) -> None:
        self.writes.append(CRLF + (text.encode() if isinstance(text, str) else text) + CRLF)

    def set_timer(self, name, deadline, callback) -> None:
        self.timers[name] = (deadline, callback)

    def cancel_timer(self, name) -> None:
        self.timers.pop(name, None)

    def launch(self, transfer) -> None: ...

    def halt(self, transfer) -> None: ...

    def finished(self, transfer, ok) -> None: ...

    def async_code(self, kind) -> str:
        return "1"


def old_content(httpid: int, content_len: int, size: int, done: int, data: bytes, hexed: bool) -> list[bytes]:
    """The URCs of `data` as HostSink wrote them before issue 12, one each."""
    view = memoryview(data)
    size = max(1, size or len(view))
    lead = CRLF + urc("content", httpid, content_len).encode("ascii") + b","
    return [b"%s%d,%d," % (lead, done + start + len(p), len(p)) + (encode_output(p, HEX) if hexed else bytes(p)) + CRLF
            for start in range(0, len(view), size) for p in [view[start:start + size]]]


@pytest.mark.parametrize("paced", [False, True])
@given(chunks=st.lists(st.binary(max_size=5000), max_size=6), frag=st.sampled_from([0, 1, 7, 1400, 4096]),
       packet=st.sampled_from([0, 1400]), hexed=st.booleans(), httpid=st.integers(0, 3),
       length=st.sampled_from([None, 10 ** 6, 123]))
def test_host_sink_writes_the_content_urcs_it_wrote_before(paced, chunks, frag, packet, hexed, httpid, length):
    io = Io()
    transfer = Transfer(io, httpid, Request(Method.GET, "http://192.0.2.1/x"),
                        lambda t: HostSink(t, HEX if hexed else ASCII, frag, 5 if paced else 0, packet))
    headers = (("Content-Length", str(length)),) if length is not None else (("Transfer-Encoding", "chunked"),)
    transfer.sink.head(ResponseHead(200, "OK", b"HTTP/1.1 200 OK\r\n", headers), 0.0)
    io.writes.clear()
    expected, done, now = [], 0, 0.0
    for chunk in chunks:
        if transfer.over:
            break
        transfer.sink.chunk(chunk, now)
        urcs = old_content(httpid, length or 0, frag or packet, done, chunk, hexed)
        expected += urcs if paced else [b"".join(urcs)]
        done += len(chunk)
        now += 1.0
        while io.timers:  # paced: each URC goes out when its time comes
            name, (deadline, callback) = next(iter(io.timers.items()))
            io.timers.pop(name)
            callback(deadline)
    assert io.writes == expected
