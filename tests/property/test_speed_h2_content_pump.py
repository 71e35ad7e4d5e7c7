"""The OneMO host side's content pump in front of the framer (reception.ContentPump) against the
framer alone: the same module output, cut into reads anywhere, gives the same events (bodies
joined), the same unrelated URCs and the same commands with the pump as without it -- also when
content URCs the pump must not take (odd spacing, leading zeros, another instance, HEX output, a
count that does not add up, a length above the limit) come among the plain ones."""
from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.model import BodyChunk, Method, Request, ResponseEnd
from bridge.onemo.host import reception
from support.hostside import body, feed
from support.onemo_hostside import FakeModule, content_urc, head_urc, started

GET_URL = "http://120.27.12.119:10080/get"
UNRELATED = b"\r\n+CEREG: 1\r\n"


def joined(events: list) -> list:
    """`events` with each BodyChunk that continues the one before it (same total) joined to it."""
    out: list = []
    for event in events:
        last = out[-1] if out else None
        if (isinstance(event, BodyChunk) and isinstance(last, BodyChunk) and event.total == last.total
                and event.offset == last.offset + len(last.data)):
            out[-1] = BodyChunk(last.data + event.data, last.offset, last.total)
        else:
            out.append(event)
    return out


def run(stream: bytes, cuts: list[int], pumped: bool, then: str = "") -> tuple:
    """(events joined, unrelated URCs, commands written, next deadline) of a host side fed
    `stream` cut at `cuts`, `then` cancelled ("cancel") or left until every deadline has passed
    ("wait"), then given what the module writes next."""
    learn = reception.ContentPump.learn
    if not pumped:
        reception.ContentPump.learn = classmethod(lambda cls, *a: None)  # type: ignore[method-assign]
    try:
        host = started()
        token = host.submit(Request(Method.GET, GET_URL))
        FakeModule(host).pump()
        sent = feed(host, stream, cuts)
        deadline = host.next_deadline()
        if then == "cancel":
            host.cancel(token)
        elif then == "wait":
            for _ in range(3):
                due = host.next_deadline()
                host.on_time(1e6 if due is None else due + 1)
        sent += host.data_to_send()
        feed(host, b"x" * 3000 + b"\r\nOK\r\n" + UNRELATED, now=2e6)
        sent += host.data_to_send()
    finally:
        reception.ContentPump.learn = learn  # type: ignore[method-assign]
    events = host.take_events()
    assert all(t == token for t, _ in events)
    return joined([e for _, e in events]), host.take_unsolicited(), sent, deadline


ODD = [
    lambda done, piece: b'\r\n+MHTTPURC: "content",0,%d,%d, %d,' % (TOTAL, done + len(piece), len(piece)) + piece + b"\r\n",
    lambda done, piece: b'\r\n+MHTTPURC: "content",0,%d,0%d,%d,' % (TOTAL, done + len(piece), len(piece)) + piece + b"\r\n",
    lambda done, piece: b'\r\n+MHTTPURC:"content",0,%d,%d,%d,' % (TOTAL, done + len(piece), len(piece)) + piece + b"\r\n",
    lambda done, piece: b'\r\n\r\n\r\n\r\n\r\n+MHTTPURC: "content",0,%d,%d,%d,' % (TOTAL, done + len(piece), len(piece)) + piece + b"\r\n",
    lambda done, piece: b'\r\n+MHTTPURC: "content",0,%d,%d,%d,' % (TOTAL, done + len(piece), len(piece)) + piece.hex().encode() + b"\r\n",
    lambda done, piece: UNRELATED + content_urc(0, TOTAL, done, piece),
]
BAD = [
    lambda done, piece: content_urc(1, TOTAL, done, piece),                  # another instance
    lambda done, piece: content_urc(0, TOTAL, done + 1, piece),              # sum_len off by one
    lambda done, piece: content_urc(0, TOTAL + 1, done, piece),              # another total
    lambda done, piece: b'\r\n+MHTTPURC: "content",0,%d,%d,%d,' % (TOTAL, done + len(piece), len(piece) + 1) + piece + b"\r\n",
    lambda done, piece: b'\r\n+MHTTPURC: "content",0,%d,%d,99999999,' % (TOTAL, done + len(piece)) + piece + b"\r\n",
]
TOTAL = 6000


@st.composite
def streams(draw: st.DrawFn) -> bytes:
    # any bytes; or body bytes that look like the module's own content URCs
    seed = draw(st.integers(0, 2**32) | st.none(), label="body seed")
    data = random.Random(seed).randbytes(TOTAL) if seed is not None else (b'\r\n+MHTTPURC: "content",0,6000,1401,1,\r\n' * 200)[:TOTAL]
    sizes = draw(st.lists(st.integers(1, 1500) | st.sampled_from([1400, 1400, 1400]), min_size=1, max_size=12))
    chunked = draw(st.booleans())
    framing = b"Transfer-Encoding: chunked\r\n" if chunked else b"Content-Length: %d\r\n" % TOTAL
    out = [head_urc(0, b"HTTP/1.1 200 OK\r\n" + framing)]
    odd = draw(st.lists(st.sampled_from(range(len(ODD))), max_size=3))
    bad = draw(st.none() | st.sampled_from(range(len(BAD))))
    done = 0
    for index, size in enumerate(sizes + [TOTAL]):
        piece = data[done:done + size]
        if not piece:
            break
        if bad is not None and index == len(sizes) // 2:
            out.append(BAD[bad](done, piece))
        elif odd and index % 3 == 1:
            out.append(ODD[odd.pop()](done, piece))
        else:
            out.append(content_urc(0, 0 if chunked else TOTAL, done, piece))
        done += len(piece)
    if chunked:
        out.append(b'\r\n+MHTTPURC: "content",0,0,%d,0\r\n' % done)
    return b"".join(out) + UNRELATED


@settings(max_examples=300, deadline=None)
@given(stream=streams(), data=st.data())
def test_the_pump_gives_what_the_framer_alone_gives(stream, data):
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=30) | st.just(list(range(0, len(stream), 997))),
                     label="cuts")
    assert run(stream, cuts, pumped=True) == run(stream, cuts, pumped=False)


@settings(max_examples=300, deadline=None)
@given(stream=streams(), data=st.data())
def test_a_response_that_stops_anywhere_ends_alike_on_its_deadline_or_cancelled(stream, data):
    """Cut short -- also inside a content URC the pump holds back -- and then cancelled or left
    until the deadlines pass: the same events, commands and later frames as the framer alone."""
    stream = stream[:data.draw(st.integers(0, len(stream)), label="stop")]
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=12), label="cuts")
    then = data.draw(st.sampled_from(["cancel", "wait", ""]), label="then")
    assert run(stream, cuts, pumped=True, then=then) == run(stream, cuts, pumped=False, then=then)


def test_a_plain_body_cut_anywhere_is_taken_by_the_pump_one_chunk_per_read():
    """Only the first content URC goes through take_payload_run; the later reads -- one beginning
    between two URCs, one inside a prefix, one inside a payload -- are cut by the pump."""
    data = (bytes(range(256)) * 24)[:TOTAL]
    head = head_urc(0, b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n" % TOTAL)
    urcs = [content_urc(0, TOTAL, done, data[done:done + 1400]) for done in range(0, TOTAL, 1400)]
    host = started()
    token = host.submit(Request(Method.GET, GET_URL))
    FakeModule(host).pump()
    runs = []
    take_payload_run = host.framer.take_payload_run
    host.framer.take_payload_run = lambda *a: runs.append(a) or take_payload_run(*a)
    first = len(head) + len(urcs[0])
    feed(host, head + b"".join(urcs), [first, first + len(urcs[1]), first + len(urcs[1]) + 20, first + 3000])
    events = [e for t, e in host.take_events() if t == token]
    assert len(runs) == 1
    assert [(e.offset, len(e.data)) for e in events if isinstance(e, BodyChunk)] == [(0, 1400), (1400, 1400), (2800, 1400), (4200, 1800)]
    assert body(events) == data and events[-1] == ResponseEnd(TOTAL)
