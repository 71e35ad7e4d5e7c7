"""The Neoway host side's body pump, in any chunking: a response in "+HTTPRECV: <len>,<data>"
pieces (recvmode 1, manual 9.5) of any sizes, with unrelated URCs between them, a fault in its
chunked framing or a piece after its end, fed in any cuts gives the same body bytes, the same
other events and the same unrelated URCs as the same stream fed one frame per read (no run),
apart from how the body is cut.  The body and how the response ends come from the HTTP framing
the server states (Content-Length, chunked, the link closing), not from an emulator."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from hypothesis import given
from hypothesis import strategies as st

from bridge.model import BodyChunk, ErrorKind, Failure, Method, Request, ResponseEnd, ResponseHead
from support.hostside import body, feed, merged
from support.neoway_hostside import CLOSED, OK, URL, piece, started

# URCs of other kinds that come between HTTP frames (dialect-facts: RING, "+CEREG:", "+CMT:" and its PDU line)
UNRELATED = [b"\r\nRING\r\n", b"\r\n+CEREG: 1\r\n", b'\r\n+CMT: "",3\r\n0891683108\r\n', b'\r\n+CLIP: "13800138000",129\r\n']


@dataclass
class Plan:
    frames: list[bytes]  # what the module writes after AT+HTTPACTION's OK, frame by frame
    body: bytes  # the body the events must carry
    ends: str  # "end": ResponseEnd(len(body)); "fault": Failure(RESPONSE_INVALID) after `body`
    total: Optional[int]  # Content-Length
    unrelated: list[bytes]


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    data = draw(st.binary(max_size=3000) | st.just(b"\r\n+HTTPRECV: 5,abcde\r\n" * 40), label="body")
    framing = draw(st.sampled_from(["length", "chunked", "close"]), label="framing")
    head = b"HTTP/1.1 200 OK\r\nX-A: b\r\n"
    body, ends, total = data, "end", None
    if framing == "length":
        raw, total = head + b"Content-Length: %d\r\n\r\n" % len(data) + data, len(data)
    elif framing == "close":
        raw = head + b"\r\n" + data
    else:
        sizes = draw(st.lists(st.integers(1, 900), max_size=8), label="chunks")
        cuts = sorted({min(s, len(data)) for s in sizes} | {len(data)})
        chunks = [data[a:b] for a, b in zip([0] + cuts, cuts) if b > a]
        lines = [b"%x\r\n" % len(c) + c + b"\r\n" for c in chunks] + [b"0\r\n\r\n"]
        if chunks and draw(st.booleans(), label="a bad chunk size"):
            bad = draw(st.integers(0, len(chunks) - 1), label="bad chunk")
            lines[bad] = b"zz\r\n" + chunks[bad] + b"\r\n"
            body, ends = b"".join(chunks[:bad]), "fault"
        raw = head + b"Transfer-Encoding: chunked\r\n\r\n" + b"".join(lines)
    sizes = draw(st.lists(st.integers(1, 1500) | st.integers(1, 40), min_size=1, max_size=12), label="pieces")
    frames, start = [], 0
    for size in sizes + [len(raw)]:
        if start < len(raw):
            frames.append(piece(raw[start:start + size]))
            start += size
    if framing != "close" and draw(st.booleans(), label="a piece after the end"):
        frames.append(piece(b"more"))  # no part of the response: dropped
    extra = draw(st.lists(st.tuples(st.integers(0, len(frames)), st.sampled_from(UNRELATED)), max_size=5), label="urcs")
    for spot, urc in sorted(extra, key=lambda e: e[0], reverse=True):
        frames.insert(spot, urc)
    unrelated = [frame for frame in frames if frame in UNRELATED]
    return Plan(frames + [CLOSED], body, ends, total, unrelated)


def run(plan: Plan, cuts: list[int]) -> tuple[list, list[bytes]]:
    host = started()
    token = host.submit(Request(Method.GET, URL))
    feed(host, OK * 5)
    stream = b"".join(plan.frames)
    feed(host, stream, cuts)
    events = host.take_events()
    assert all(t == token for t, _ in events)
    return [e for _, e in events], host.take_unsolicited()


def frame_cuts(plan: Plan) -> list[int]:
    """A cut after every frame: each piece in a read of its own, as before the pump."""
    ends, at = [], 0
    for frame in plan.frames:
        at += len(frame)
        ends.append(at)
    return ends


@given(plan=plans(), data=st.data())
def test_any_chunking_gives_the_same_body_and_events(plan, data):
    stream_length = sum(len(f) for f in plan.frames)
    cuts = data.draw(st.lists(st.integers(0, stream_length), max_size=24) | st.just([]), label="cuts")
    events, unrelated = run(plan, cuts)
    alone, unrelated_alone = run(plan, frame_cuts(plan))
    assert merged(events) == merged(alone) and unrelated == unrelated_alone == plan.unrelated
    assert isinstance(events[0], ResponseHead) and events[0].status == 200
    assert body(events) == plan.body
    assert all(e.total == plan.total for e in events if isinstance(e, BodyChunk))
    if plan.ends == "end":
        assert events[-1] == ResponseEnd(len(plan.body))
    else:
        assert isinstance(events[-1], Failure) and events[-1].kind is ErrorKind.RESPONSE_INVALID
    if not cuts and not plan.unrelated:  # the whole stream in one read: one BodyChunk
        assert sum(isinstance(e, BodyChunk) for e in events) <= 1
