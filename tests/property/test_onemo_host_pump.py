"""The OneMO host side's body pump: the content URCs of a streaming response that one read brings
become one BodyChunk, and in any chunking of the module's output -- with unrelated URCs, another
request's URCs and a report that does not add up between them -- the bodies, the other events
and the unrelated URCs are the same, apart from how the bodies are cut.  Expectations come from
the counts the module states (manual 3.10: sum_len, cur_len, content_len), not from an emulator."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from hypothesis import given
from hypothesis import strategies as st

from bridge.model import BodyChunk, ErrorKind, Failure, Method, Request, ResponseEnd, ResponseHead
from support.hostside import body, events_of, feed, kinds, merged
from support.onemo_hostside import FakeModule, content_urc, head_urc, started

GET_URL = "http://120.27.12.119:10080/get"
OTHER_URL = "http://192.0.2.7:8080/other"
# URCs of other kinds that come between HTTP frames (dialect-facts: "+CEREG:", RING, "+CLIP:", "+CMT:" and its PDU line)
UNRELATED = [b"\r\nRING\r\n", b"\r\n+CEREG: 1\r\n", b'\r\n+CMT: "",3\r\n0891683108\r\n', b'\r\n+CLIP: "13800138000",129\r\n']


def two_requests() -> tuple[object, int, int]:
    """A host side with two GETs sent, on instances 0 and 1, waiting for their responses."""
    host = started()
    first, second = host.submit(Request(Method.GET, GET_URL)), host.submit(Request(Method.GET, OTHER_URL))
    module = FakeModule(host)
    module.pump()
    assert [c for c in module.commands if c.startswith(b"AT+MHTTPREQUEST")] == [b'AT+MHTTPREQUEST=0,1,0,"/get"',
                                                                             b'AT+MHTTPREQUEST=1,1,0,"/other"']
    return host, first, second


def response(httpid: int, data: bytes, sizes: list[int], chunked: bool) -> list[bytes]:
    """The URCs of one response: header, then `data` in content URCs of the given sizes (the rest
    in one), chunked ones closed by the empty frame firmware sees (dialect-facts)."""
    framing = b"Transfer-Encoding: chunked\r\n" if chunked else b"Content-Length: %d\r\n" % len(data)
    urcs = [head_urc(httpid, b"HTTP/1.1 200 OK\r\n" + framing)]
    total = 0 if chunked else len(data)
    done = 0
    for size in sizes + [len(data)]:
        piece = data[done:done + size]
        if piece:
            urcs.append(content_urc(httpid, total, done, piece))
            done += len(piece)
    if chunked:
        urcs.append(b'\r\n+MHTTPURC: "content",%d,0,%d,0\r\n' % (httpid, done))
    return urcs


def per_token(host, tokens: tuple[int, ...]) -> dict[int, list]:
    found: dict[int, list] = {t: [] for t in tokens}
    for token, event in host.take_events():
        found[token].append(event)
    return found


# ---- one read, one BodyChunk ------------------------------------------------------------------------


def test_the_content_urcs_of_one_read_become_one_body_chunk():
    host = started()
    token = host.submit(Request(Method.GET, GET_URL))
    FakeModule(host).pump()
    data = bytes(range(256)) * 40  # every byte value, CR LF and commas among them
    head, *contents = response(0, data, [1400] * 7, chunked=False)
    feed(host, head)
    assert kinds(events_of(host, token)) == ["ResponseHead"]
    feed(host, b"".join(contents))  # eight URCs in one read
    events = events_of(host, token)
    assert kinds(events) == ["BodyChunk", "ResponseEnd"]
    assert events[0] == BodyChunk(data, 0, len(data)) and events[1] == ResponseEnd(len(data))


def test_a_run_ends_at_an_unrelated_urc_which_keeps_its_place():
    host = started()
    token = host.submit(Request(Method.GET, GET_URL))
    FakeModule(host).pump()
    head, *contents = response(0, b"x" * 3000, [1000, 1000], chunked=False)
    feed(host, head + contents[0] + contents[1] + b"\r\nRING\r\n" + contents[2])
    events = events_of(host, token)
    assert [(e.offset, len(e.data)) for e in events if isinstance(e, BodyChunk)] == [(0, 2000), (2000, 1000)]
    assert events[-1] == ResponseEnd(3000) and host.take_unsolicited() == [b"\r\nRING\r\n"]


def test_a_piece_that_does_not_add_up_fails_the_request_after_the_bytes_before_it():
    """The pump leaves the bad piece to the ordinary checks: the pieces before it are delivered,
    then the request fails as it did one URC at a time."""
    host = started()
    token = host.submit(Request(Method.GET, GET_URL))
    FakeModule(host).pump()
    head, *contents = response(0, b"y" * 3000, [1000, 1000], chunked=False)
    skipped = contents[2].replace(b",3000,3000,1000,", b",3000,3001,1000,")  # sum_len one too many
    feed(host, head + contents[0] + contents[1] + skipped)
    events = events_of(host, token)
    assert body(events) == b"y" * 2000 and kinds(events)[-1] == "Failure"
    assert events[-1].kind is ErrorKind.RESPONSE_INVALID


def test_hex_output_is_not_pumped_and_decodes():
    host = started()
    token = host.submit(Request(Method.GET, GET_URL))
    FakeModule(host).pump()
    data = b"\r\n,\x00abc"
    head = head_urc(0, b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n" % len(data))
    hexed = b"".join(b'\r\n+MHTTPURC: "content",0,%d,%d,%d,' % (len(data), i + 1, 1) + data[i:i + 1].hex().encode() + b"\r\n"
                     for i in range(len(data)))
    feed(host, head + hexed)
    events = events_of(host, token)
    assert body(events) == data and events[-1] == ResponseEnd(len(data))


# ---- any chunking, other URCs between -----------------------------------------------------------------


@dataclass
class Plan:
    stream: bytes
    bodies: tuple[bytes, bytes]
    chunked: tuple[bool, bool]
    unrelated: list[bytes]
    broken_at: Optional[int]  # the first response's body length where its bad piece starts


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    def drawn(httpid: int) -> tuple[bytes, list[int], bool]:
        data = draw(st.binary(min_size=1, max_size=3000) | st.just(b'+MHTTPURC: "content",0,1,1,1,x\r\n' * 9), label=f"body {httpid}")
        sizes = draw(st.lists(st.integers(1, 1500) | st.integers(1, 40), min_size=1, max_size=8), label=f"sizes {httpid}")
        return data, sizes, draw(st.booleans(), label=f"chunked {httpid}")

    first = drawn(0)
    # alike: the second response cut as the first, so that its counts would fit a run of the first
    second = (bytes(255 - b for b in first[0]), *first[1:]) if draw(st.booleans(), label="alike") else drawn(1)
    bodies, chunked = (first[0], second[0]), (first[2], second[2])
    queues = [response(0, *first), response(1, *second)]
    broken_at = None
    pieces = len(queues[0]) - 1 - chunked[0]  # content URCs with data, after the header
    if draw(st.booleans(), label="a bad piece"):
        index = draw(st.integers(1, pieces), label="bad piece")
        fields = queues[0][index].split(b",", 5)  # prefix, httpid, content_len, sum_len, cur_len, data
        broken_at = int(fields[3]) - int(fields[4])
        right = int(fields[3])
        fields[3] = draw(st.sampled_from([b"%d" % (right + 1), b"+%d" % right, b"%d_%d" % divmod(right, 10)]),
                         label="bad sum_len")  # one too many; or what int() takes but the manual's digits are not
        queues[0][index] = b",".join(fields)
    elif not chunked[0] and draw(st.booleans(), label="a piece after the end"):
        queues[0].append(content_urc(0, len(bodies[0]), len(bodies[0]), b"more"))  # dropped: the request is over
    runs = draw(st.lists(st.tuples(st.sampled_from([0, 1, 2]), st.integers(1, 4)), max_size=16), label="order")
    order = [pick for pick, count in runs for _ in range(count)]
    unrelated: list[bytes] = []
    out = []
    for pick in order + [0] * len(queues[0]) + [1] * len(queues[1]):
        if pick == 2:
            unrelated.append(draw(st.sampled_from(UNRELATED), label="urc"))
            out.append(unrelated[-1])
        elif queues[pick]:
            out.append(queues[pick].pop(0))
    return Plan(b"".join(out), bodies, chunked, unrelated, broken_at)


def expected(plan: Plan, index: int) -> list:
    data = plan.bodies[index]
    total = None if plan.chunked[index] else len(data)
    if index == 0 and plan.broken_at is not None:
        chunk = [BodyChunk(data[:plan.broken_at], 0, total)] if plan.broken_at else []
        return ["ResponseHead", *chunk, "Failure"]
    return ["ResponseHead", BodyChunk(data, 0, total), ResponseEnd(len(data))]


def shape(events: list) -> list:
    return [e if isinstance(e, (BodyChunk, ResponseEnd)) else type(e).__name__ for e in merged(events)]


@given(plan=plans(), data=st.data())
def test_any_chunking_gives_the_same_bodies_and_events(plan, data):
    cuts = data.draw(st.lists(st.integers(0, len(plan.stream)), max_size=24), label="cuts")
    host, first, second = two_requests()
    feed(host, plan.stream, cuts)
    events = per_token(host, (first, second))
    assert shape(events[first]) == expected(plan, 0)
    assert shape(events[second]) == expected(plan, 1)
    assert all(isinstance(e, ResponseHead) and e.status == 200 for e in (events[first][0], events[second][0]))
    if plan.broken_at is not None:
        assert events[first][-1].kind is ErrorKind.RESPONSE_INVALID and isinstance(events[first][-1], Failure)
    assert host.take_unsolicited() == plan.unrelated
