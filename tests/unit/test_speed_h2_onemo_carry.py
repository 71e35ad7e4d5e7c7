"""The content URC the OneMO host side's pump holds back from the framer: while it is held the
module's bytes are not between two frames (no raw pass-through), and a failure of the request
gives it to the framer first, which then frames what follows as it would have."""
from __future__ import annotations

from bridge.model import BodyChunk, ErrorKind, Failure, Method, Request, ResponseEnd
from support.onemo_hostside import FakeModule, content_urc, head_urc, started

GET_URL = "http://120.27.12.119:10080/get"
DATA = bytes(range(256)) * 20


def streaming():
    host = started()
    token = host.submit(Request(Method.GET, GET_URL))
    FakeModule(host).pump()
    host.receive_data(head_urc(0, b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n" % len(DATA)), 1.0)
    urcs = [content_urc(0, len(DATA), done, DATA[done:done + 1400]) for done in range(0, len(DATA), 1400)]
    host.receive_data(urcs[0], 1.0)  # framed as usual: the pump learns the prefix
    host.receive_data(urcs[1] + urcs[2][:100], 1.0)  # the third URC's payload begun: held back
    return host, token, urcs


def test_no_raw_pass_through_while_a_content_urc_is_held_back():
    host, token, urcs = streaming()
    assert host._carry and host.framer.at_rest
    assert host.passthrough_raw(b"AT+CSQ", 1.0) is None
    host.receive_data(urcs[2][100:] + urcs[3], 1.0)
    events = [e for _, e in host.take_events()]
    assert b"".join(e.data for e in events if isinstance(e, BodyChunk)) == DATA
    assert events[-1] == ResponseEnd(len(DATA)) and not host._carry


def test_a_cancelled_request_gives_what_was_held_back_to_the_framer():
    host, token, urcs = streaming()
    host.cancel(token)
    payload_so_far = 100 - (urcs[2].index(b",1400,") + len(b",1400,"))
    assert not host._carry and host.framer.in_payload and host.framer.buffered == payload_so_far
    events = [e for _, e in host.take_events()]
    assert isinstance(events[-1], Failure) and events[-1].kind is ErrorKind.CANCELLED
    host.receive_data(urcs[2][100:] + b"\r\nRING\r\n", 1.0)  # the rest of the URC, then a URC of another kind
    assert host.take_unsolicited() == [b"\r\nRING\r\n"]
