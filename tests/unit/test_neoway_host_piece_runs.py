"""The Neoway host side's body pump: the "+HTTPRECV: <len>,<data>" pieces (recvmode 1, manual 9.5)
of a response whose head is known that one read brings go to the HTTP parser joined and become
one BodyChunk; what ends a run (another URC, a piece past the Content-Length, a fault in the HTTP
framing) is handled as one piece at a time.  Expectations come from the HTTP framing the server
states (Content-Length, chunked) and the manual's piece format, not from an emulator."""
from __future__ import annotations

from bridge.model import BodyChunk, ErrorKind, Failure, Method, Request, ResponseEnd, ResponseHead
from support.hostside import body, events_of, feed, kinds
from support.neoway_hostside import CLOSED, OK, URL, piece, run_get_until_action, started

DATA = bytes(range(256)) * 40 + b"\r\n+HTTPRECV: 3,abc\r\n"  # every byte value, and what looks like a piece
HEAD = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(DATA)


def pieces(data: bytes, size: int, name: bytes = b"+HTTPRECV") -> bytes:
    return b"".join(piece(data[at:at + size], name) for at in range(0, len(data), size))


def receiving() -> tuple[object, int]:
    host = started()
    token = run_get_until_action(host)
    feed(host, OK)
    return host, token


def test_one_read_of_many_pieces_gives_one_body_chunk():
    host, token = receiving()
    feed(host, piece(HEAD + DATA[:100]))
    assert kinds(events_of(host, token)) == ["ResponseHead", "BodyChunk"]
    feed(host, pieces(DATA[100:], 1024))  # ten pieces in one read
    events = events_of(host, token)
    assert events == [BodyChunk(DATA[100:], 100, len(DATA)), ResponseEnd(len(DATA))]


def test_the_head_and_the_pieces_after_it_in_one_read():
    host, token = receiving()
    feed(host, pieces(HEAD + DATA, 4096))
    events = events_of(host, token)
    assert kinds(events) == ["ResponseHead", "BodyChunk", "ResponseEnd"]
    assert events[0].status == 200 and events[1] == BodyChunk(DATA, 0, len(DATA)) and events[2] == ResponseEnd(len(DATA))


def test_a_chunked_body_in_one_read_is_one_body_chunk():
    host, token = receiving()
    chunked = b"".join(b"%x\r\n" % len(DATA[at:at + 700]) + DATA[at:at + 700] + b"\r\n" for at in range(0, len(DATA), 700))
    feed(host, piece(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"))
    assert kinds(events_of(host, token)) == ["ResponseHead"]
    feed(host, pieces(chunked + b"0\r\n\r\n", 1000))
    assert events_of(host, token) == [BodyChunk(DATA, 0, None), ResponseEnd(len(DATA))]


def test_an_unrelated_urc_ends_a_run_and_keeps_its_place():
    host, token = receiving()
    feed(host, piece(HEAD))
    assert kinds(events_of(host, token)) == ["ResponseHead"]
    feed(host, pieces(DATA[:3000], 1000) + b"\r\nRING\r\n" + pieces(DATA[3000:], 1000))
    events = events_of(host, token)
    assert [(e.offset, len(e.data)) for e in events if isinstance(e, BodyChunk)] == [(0, 3000), (3000, len(DATA) - 3000)]
    assert body(events) == DATA and events[-1] == ResponseEnd(len(DATA))
    assert host.take_unsolicited() == [b"\r\nRING\r\n"]


def test_a_piece_past_the_content_length_is_not_taken_into_the_body():
    host, token = receiving()
    data = b"z" * 3000
    feed(host, piece(b"HTTP/1.1 200 OK\r\nContent-Length: 3000\r\n\r\n"))
    assert kinds(events_of(host, token)) == ["ResponseHead"]
    feed(host, pieces(data, 1000) + piece(b"more") + CLOSED)
    events = events_of(host, token)
    assert events == [BodyChunk(data, 0, 3000), ResponseEnd(3000)]
    assert host.take_unsolicited() == []


def test_https_pieces_are_pumped_and_a_plain_piece_ends_the_run():
    host = started()
    token = host.submit(Request(Method.GET, "https://www.alipay.com/index.html"))
    feed(host, OK * 8)
    feed(host, piece(HEAD, b"+HTTPSRECV") + pieces(DATA[:2000], 500, b"+HTTPSRECV") + piece(b"x") + pieces(DATA[2000:], 500, b"+HTTPSRECV"))
    events = events_of(host, token)
    assert isinstance(events[0], ResponseHead)
    assert [(e.offset, len(e.data)) for e in events if isinstance(e, BodyChunk)] == [(0, 2000), (2000, len(DATA) - 2000)]
    assert body(events) == DATA and events[-1] == ResponseEnd(len(DATA))


def test_a_fault_in_the_chunked_framing_fails_after_the_bytes_before_it():
    host, token = receiving()
    feed(host, piece(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"))
    assert kinds(events_of(host, token)) == ["ResponseHead"]
    good = b"a" * 1500
    chunked = b"5dc\r\n" + good + b"\r\n" + b"zz\r\n" + b"b" * 100  # "zz" is no chunk size
    feed(host, pieces(chunked, 400))
    events = events_of(host, token)
    assert kinds(events) == ["BodyChunk", "Failure"]
    assert events[0] == BodyChunk(good, 0, None)
    assert isinstance(events[1], Failure) and events[1].kind is ErrorKind.RESPONSE_INVALID


def test_a_passed_through_answer_after_a_run_is_its_own():
    """A passed-through command written while the body streams: its answer, after a run of pieces
    in the same read, goes back to it whole."""
    host, token = receiving()
    feed(host, piece(HEAD))
    assert kinds(events_of(host, token)) == ["ResponseHead"]
    csq = host.passthrough(b"AT+CSQ")
    assert host.data_to_send() == b"AT+CSQ\r"
    feed(host, pieces(DATA, 1000) + b"\r\n+CSQ: 20,99\r\n" + OK)
    assert host.take_passthrough() == [(csq, b"\r\n+CSQ: 20,99\r\n\r\nOK\r\n")]
    events = events_of(host, token)
    assert body(events) == DATA and events[-1] == ResponseEnd(len(DATA))
