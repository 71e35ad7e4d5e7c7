"""The Neoway module side's recvmode-1 pieces (recv.RecvWriter), written with one join, against
the piece-by-piece writing they replace: the same bytes for any data, piece size and head."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bridge.at.dialect import load
from bridge.model import ResponseHead
from bridge.neoway.module.recv import RecvWriter

FRAMED = load("neoway").means("recvmode").token("framed")


def one_by_one(prefix: bytes, data: bytes, piece_max: int) -> bytes:
    out = bytearray()
    for start in range(0, len(data), piece_max):
        piece = data[start:start + piece_max]
        out += b"\r\n" + prefix + b": %d," % len(piece) + piece + b"\r\n"
    return bytes(out)


@given(bodies=st.lists(st.binary(max_size=300), max_size=5), piece_max=st.integers(1, 70),
       chunked=st.booleans(), prefix=st.sampled_from(["+HTTPRECV", "+HTTPSRECV"]))
def test_pieces_are_what_writing_them_one_by_one_gives(bodies, piece_max, chunked, prefix):
    name, value = ("Transfer-Encoding", "chunked") if chunked else ("Content-Length", str(sum(map(len, bodies))))
    head = ResponseHead(200, "OK", f"HTTP/1.1 200 OK\r\n{name}: {value}\r\n".encode(), ((name, value),))
    # each call writes what the old writing gave for the same bytes (the head held until the first body bytes)
    writer = RecvWriter(prefix, FRAMED, "GET", piece_max)
    assert writer.head(head) == b""
    pending = head.raw + b"\r\n"
    for data in bodies:
        chunk = b"%x\r\n" % len(data) + data + b"\r\n" if chunked and data else data
        expected = one_by_one(prefix.encode(), pending + chunk, piece_max)
        pending = b""
        assert writer.body(data) == expected
    tail = b"0\r\n\r\n" if chunked else b""
    assert writer.end() == one_by_one(prefix.encode(), pending + tail, piece_max)
